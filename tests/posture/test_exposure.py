"""Exposure scans: nmap XML (stored fixtures and a real nmap run), classification, pages."""

from __future__ import annotations

import shutil
import socketserver
import subprocess
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.assessments.models import Fact
from hygie.posture import exposure
from hygie.posture.models import ExposedService, ExposureScan, ServiceRisk
from tests.clients import browser

FIXTURES = Path(__file__).parent / "fixtures"
CHU_A1 = FIXTURES / "nmap_chu_a1.xml"
CH_A2 = FIXTURES / "nmap_ch_a2.xml"


@pytest.mark.parametrize(
    ("port", "service", "product", "risk"),
    [
        (3389, "ms-wbt-server", "Microsoft Terminal Services", ServiceRisk.REMOTE_DESKTOP),
        (5901, "vnc", "", ServiceRisk.REMOTE_DESKTOP),
        (445, "microsoft-ds", "", ServiceRisk.FILE_SHARING),
        (2049, "nfs", "", ServiceRisk.FILE_SHARING),
        (21, "ftp", "vsftpd", ServiceRisk.FILE_SHARING),
        (23, "telnet", "", ServiceRisk.REMOTE_SHELL),
        (22, "ssh", "OpenSSH", ServiceRisk.REMOTE_SHELL),
        (1433, "ms-sql-s", "", ServiceRisk.DATABASE),
        (27017, "", "", ServiceRisk.DATABASE),
        (6379, "redis", "", ServiceRisk.DATABASE),
        (9200, "http", "Elasticsearch REST API", ServiceRisk.DATABASE),
        (443, "https", "HP Integrated Lights-Out web interface", ServiceRisk.ADMIN),
        (443, "https", "Dell iDRAC httpd", ServiceRisk.ADMIN),
        (443, "https", "VMware ESXi SOAP API", ServiceRisk.ADMIN),
        (10000, "http", "MiniServ", ServiceRisk.ADMIN),
        (80, "http", "Apache httpd (phpMyAdmin)", ServiceRisk.ADMIN),
        (8443, "https", "", ServiceRisk.ADMIN),
        (389, "ldap", "OpenLDAP", ServiceRisk.DIRECTORY),
        (88, "kerberos-sec", "", ServiceRisk.DIRECTORY),
        (104, "dicom", "", ServiceRisk.MEDICAL),
        (11112, "", "", ServiceRisk.MEDICAL),
        (2575, "", "", ServiceRisk.MEDICAL),
        (443, "https", "nginx", ServiceRisk.WEB),
        (25, "smtp", "Postfix smtpd", ServiceRisk.MAIL),
        (500, "isakmp", "", ServiceRisk.VPN),
        (443, "http", "Fortinet FortiGate SSL VPN", ServiceRisk.VPN),
        (443, "http", "Citrix NetScaler Gateway httpd", ServiceRisk.VPN),
        (443, "http", "SonicWALL SMA SSL-VPN", ServiceRisk.VPN),
        (8443, "https-alt", "SonicWALL SMA management interface", ServiceRisk.ADMIN),
        (7777, "", "", ServiceRisk.OTHER),
    ],
)
def test_classification(port, service, product, risk):
    assert exposure.classify(port, service, product) == risk


def test_elasticsearch_by_port_even_named_http():
    # nmap names Elasticsearch's REST port "http": the port says database.
    assert exposure.classify(9200, "http", "") == ServiceRisk.DATABASE


def test_parse_keeps_open_ports_of_hosts_up():
    scan = exposure.parse(CHU_A1.read_bytes())
    assert scan.scanner == "nmap 7.93" and scan.hosts_up == 2
    assert scan.arguments.startswith("nmap -sV -Pn")
    assert scan.started_at.isoformat() == "2025-03-04T09:12:40+00:00"
    found = {(s.address, s.port): s for s in scan.services}
    assert set(found) == {
        ("203.0.113.10", 443),
        ("203.0.113.10", 3389),
        ("203.0.113.10", 10443),
        ("203.0.113.11", 22),
        ("203.0.113.11", 80),
        ("203.0.113.11", 104),
        ("203.0.113.11", 445),
        ("203.0.113.11", 3306),
    }  # filtered 22, closed 3389 and the host down are left out
    assert found[("203.0.113.10", 443)].service == "https"
    assert found[("203.0.113.10", 443)].risk == ServiceRisk.VPN  # the FortiGate SSL VPN portal
    assert found[("203.0.113.10", 10443)].risk == ServiceRisk.ADMIN
    assert found[("203.0.113.11", 104)].risk == ServiceRisk.MEDICAL
    assert found[("203.0.113.11", 22)].version == "8.4p1 Debian 5+deb11u3 protocol 2.0"
    assert found[("203.0.113.11", 22)].hostname == "pacs.chu-a1.example"
    assert sum(s.risky for s in scan.services) == 6
    other = exposure.parse(CH_A2.read_bytes())
    assert [s.port for s in other.services] == [443, 1433]  # open|filtered is not open
    assert other.services[0].hostname == "portail.ch-a2.example"  # the name the user gave


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Starting Nmap 7.93 ( https://nmap.org )\nNmap scan report", "ligne 1, colonne 1"),
        (b'<?xml version="1.0"?>\n<html><body>scan</body></html>', "nmaprun"),
        (b"", "vide"),
    ],
)
def test_bad_files_are_explained(data, expected):
    with pytest.raises(exposure.ScanError) as refused:
        exposure.parse(data)
    assert expected in str(refused.value)


def test_truncated_file_names_line_and_column():
    text = CHU_A1.read_bytes()
    with pytest.raises(exposure.ScanError) as refused:
        exposure.parse(text[: text.index(b'portid="445"')])
    message = str(refused.value)
    assert "ligne 29, colonne 1" in message  # the unclosed <port> of port 445


def test_entities_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><nmaprun>&a;</nmaprun>'
    with pytest.raises(exposure.ScanError) as refused:
        exposure.parse(bomb)
    assert "entités" in str(refused.value)


@pytest.mark.django_db
def test_import_records_and_refusal_records_nothing(world):
    with pytest.raises(exposure.ScanError):
        exposure.import_scan(world.est_a1, CHU_A1.read_bytes()[:3000], filename="x.xml")
    assert not ExposureScan.objects.exists() and not ExposedService.objects.exists()
    scan = exposure.import_scan(world.est_a1, CHU_A1.read_bytes(), filename="scan.xml")
    assert scan.services.count() == 8 and scan.services.filter(risky=True).count() == 6
    fact = Fact.objects.get(organisation=world.est_a1, source="posture.exposure_audit")
    assert fact.value == 6
    assert "8 services exposés sur 2 adresses, dont 6 à risque" in fact.summary
    assert "Bureau à distance" in fact.summary
    exposure.delete_scan(scan)
    fact.refresh_from_db()
    assert fact.value is None and "Aucun scan" in fact.summary


@pytest.mark.django_db
def test_pages_upload_detail_action_and_ght_view(world):
    client = browser(world.editor)
    response = client.post(
        reverse("posture:exposure_upload", args=[world.est_a1.pk]),
        {"file": SimpleUploadedFile("chu-a1.xml", CHU_A1.read_bytes())},
    )
    assert response.status_code == 302
    scan = ExposureScan.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "203.0.113.11" in page and "Base de données" in page
    # Risky services come first on each address.
    assert page.index("3389/tcp") < page.index("443/tcp")
    rdp = scan.services.get(port=3389)
    url = reverse("posture:exposure_service_action", args=[rdp.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    item = ActionItem.objects.get()
    assert item.origin == "audit" and "203.0.113.10:3389" in item.title
    # A later scan finding the same exposure keeps the same action.
    later = exposure.import_scan(world.est_a1, CHU_A1.read_bytes(), filename="again.xml")
    assert later.services.get(port=3389).action == item
    web = later.services.get(port=80)
    assert client.post(reverse("posture:exposure_service_action", args=[web.pk])).status_code == 302
    assert ActionItem.objects.count() == 1  # not risky: no action
    # The GHT sees each member's latest scan with the establishment named.
    exposure.import_scan(world.est_a2, CH_A2.read_bytes(), filename="a2.xml")
    page = client.get(reverse("posture:exposure", args=[world.ght_a.pk])).content.decode()
    assert "CHU A1" in page and "CH A2" in page and "198.51.100.20" in page
    assert "10 services exposés" in page and "dont 7 à risque" in page
    # A bad upload: clear message, nothing recorded.
    response = client.post(
        reverse("posture:exposure_upload", args=[world.est_a1.pk]),
        {"file": SimpleUploadedFile("cut.xml", CHU_A1.read_bytes()[:2000])},
    )
    assert response.status_code == 200 and "ligne" in response.content.decode()
    assert ExposureScan.objects.count() == 3


# Real nmap against listeners started by the test -------------------------------------------------
class _Banner(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
        try:
            self.request.recv(256)
        except OSError:
            pass


class _Http(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.request.recv(2048)
        except OSError:
            return
        body = b"<html><title>Intranet</title></html>"
        self.request.sendall(
            b"HTTP/1.1 200 OK\r\nServer: Apache/2.4.62 (Debian)\r\nContent-Type: text/html\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )


@pytest.fixture
def listeners():
    servers = []
    for handler in (_Banner, _Http):
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [server.server_address[1] for server in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("nmap") is None, reason="nmap is not installed (scripts/test)")
def test_real_nmap_scan_is_imported(world, listeners):
    ssh_port, http_port = listeners
    result = subprocess.run(
        [
            "nmap",
            "-sT",
            "-sV",
            "-Pn",
            "--version-light",
            "-p",
            f"{ssh_port},{http_port}",
            "127.0.0.1",
            "-oX",
            "-",
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    scan = exposure.import_scan(world.est_a1, result.stdout, filename="localhost.xml")
    assert scan.scanner.startswith("nmap ") and scan.hosts_up == 1
    services = {s.port: s for s in scan.services.all()}
    assert set(services) == {ssh_port, http_port}
    assert services[ssh_port].service == "ssh" and services[ssh_port].product == "OpenSSH"
    assert services[ssh_port].risk == ServiceRisk.REMOTE_SHELL and services[ssh_port].risky
    assert services[http_port].service == "http"
    assert "Apache" in services[http_port].product
    assert services[http_port].risk == ServiceRisk.WEB and not services[http_port].risky

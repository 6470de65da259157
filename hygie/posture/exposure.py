"""Exposure scans: nmap's XML output (`nmap -oX`) imported and its services classified.

Only hosts that are up and ports in state "open" are kept (closed, filtered and open|filtered
ports say nothing is reachable for sure). Each service gets a `ServiceRisk` from its product
(administration consoles first: iLO, iDRAC, ESXi, Webmin, phpMyAdmin…), then its nmap service
name, then its port; the natures that should never face the internet are flagged "à risque".

The file is parsed whole with defusedxml before anything is written: a file that is not XML,
not nmap's, or truncated is refused with the line and column, and nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hygie.actions.models import ActionItem, Priority
from hygie.core.audit import record_event
from hygie.posture.models import ExposedService, ExposureScan, ServiceRisk

MAX_FILE_BYTES = 50 * 1024 * 1024
FACT_SOURCE = "posture.exposure_audit"
FACT_KEY = "exposure"

RISKY = frozenset(
    {
        ServiceRisk.REMOTE_DESKTOP,
        ServiceRisk.FILE_SHARING,
        ServiceRisk.DATABASE,
        ServiceRisk.ADMIN,
        ServiceRisk.REMOTE_SHELL,
        ServiceRisk.DIRECTORY,
        ServiceRisk.MEDICAL,
    }
)

# Products recognised whatever their port (administration consoles often sit on 443).
PRODUCT_RULES = (
    (re.compile(r"\bilo\b|integrated lights.out", re.I), ServiceRisk.ADMIN),
    (re.compile(r"idrac", re.I), ServiceRisk.ADMIN),
    (re.compile(r"vmware (esxi|vcenter|authentication daemon)", re.I), ServiceRisk.ADMIN),
    (re.compile(r"webmin|miniserv", re.I), ServiceRisk.ADMIN),
    (re.compile(r"phpmyadmin", re.I), ServiceRisk.ADMIN),
    (re.compile(r"proxmox|cockpit|plesk|cpanel", re.I), ServiceRisk.ADMIN),
    (re.compile(r"supermicro ipmi|\bipmi\b|\bbmc\b", re.I), ServiceRisk.ADMIN),
    (re.compile(r"\bdicom\b|dcmtk|orthanc", re.I), ServiceRisk.MEDICAL),
    (
        re.compile(r"management (interface|console)|admin(istration)? (interface|console)", re.I),
        ServiceRisk.ADMIN,
    ),
    # Remote-access portals answer HTTPS: they are the VPN, not a web site.
    (
        re.compile(
            r"ssl.?vpn|\bvpn\b|netscaler gateway|citrix gateway|globalprotect|anyconnect|"
            r"pulse secure|connect secure",
            re.I,
        ),
        ServiceRisk.VPN,
    ),
)

# nmap service names.
SERVICE_RULES = {
    ServiceRisk.REMOTE_DESKTOP: {"ms-wbt-server", "vnc", "vnc-http", "x11", "rfb", "teamviewer"},
    ServiceRisk.FILE_SHARING: {
        "microsoft-ds",
        "netbios-ssn",
        "netbios-ns",
        "nfs",
        "mountd",
        "rpcbind",
        "ftp",
        "ftps",
        "ftp-data",
        "tftp",
        "rsync",
        "afp",
        "smb",
    },
    ServiceRisk.DATABASE: {
        "ms-sql-s",
        "ms-sql-m",
        "oracle-tns",
        "oracle",
        "mysql",
        "postgresql",
        "mongodb",
        "mongod",
        "redis",
        "elasticsearch",
        "couchdb",
        "memcache",
        "memcached",
        "cassandra",
        "db2",
        "ibm-db2",
        "sybase",
    },
    ServiceRisk.ADMIN: {"snmp", "winrm", "wsman", "ipmi", "webmin", "vmware-auth", "ssh-admin"},
    ServiceRisk.REMOTE_SHELL: {"ssh", "telnet", "rlogin", "rsh", "exec", "shell", "login"},
    ServiceRisk.DIRECTORY: {
        "ldap",
        "ldaps",
        "ldapssl",
        "globalcatldap",
        "globalcatldapssl",
        "kerberos-sec",
        "kerberos",
        "kpasswd5",
        "kpasswd",
    },
    ServiceRisk.MEDICAL: {"dicom", "acr-nema", "dicom-iscl", "dicom-tls", "hl7"},
    ServiceRisk.VPN: {"isakmp", "openvpn", "pptp", "ipsec-nat-t", "l2tp", "wireguard"},
    ServiceRisk.MAIL: {
        "smtp",
        "smtps",
        "submission",
        "pop3",
        "pop3s",
        "imap",
        "imaps",
        "ssl/imap",
        "ssl/pop3",
    },
    ServiceRisk.WEB: {"http", "https", "http-proxy", "http-alt", "https-alt", "ssl/http"},
}

PORT_RULES = {
    ServiceRisk.REMOTE_DESKTOP: {3389, 5800, *range(5900, 5911), 6000, 5938},
    ServiceRisk.FILE_SHARING: {445, 139, 137, 2049, 111, 21, 990, 69, 873, 548},
    ServiceRisk.DATABASE: {
        1433,
        1434,
        1521,
        3306,
        5432,
        27017,
        27018,
        6379,
        9200,
        9300,
        5984,
        11211,
        9042,
        50000,
    },
    ServiceRisk.ADMIN: {
        8443,
        10443,
        4443,
        9443,
        10000,
        2082,
        2083,
        2086,
        2087,
        902,
        5985,
        5986,
        161,
        623,
        8006,
        9090,
    },
    ServiceRisk.REMOTE_SHELL: {22, 23, 512, 513, 514},
    ServiceRisk.DIRECTORY: {389, 636, 3268, 3269, 88, 464},
    ServiceRisk.MEDICAL: {104, 11112, 2575, 2761, 2762},
    ServiceRisk.VPN: {500, 4500, 1194, 1723, 1701, 51820},
    ServiceRisk.MAIL: {25, 465, 587, 110, 995, 143, 993},
    ServiceRisk.WEB: {80, 443, 8080, 8000, 8008, 8888},
}


def classify(port: int, service: str = "", product: str = "") -> ServiceRisk:
    """The nature of an open port: by product, then nmap's service name, then the port."""
    if product:
        for pattern, risk in PRODUCT_RULES:
            if pattern.search(product):
                return risk
    name = (service or "").lower()
    if name:
        for risk, names in SERVICE_RULES.items():
            if name in names:
                # An HTTP API on a database or management port (Elasticsearch on 9200, a
                # console on 8443) is that database or console.
                if risk == ServiceRisk.WEB:
                    for special in (ServiceRisk.DATABASE, ServiceRisk.ADMIN):
                        if port in PORT_RULES[special]:
                            return special
                return risk
    for risk, ports in PORT_RULES.items():
        if port in ports:
            return risk
    return ServiceRisk.OTHER


# Parsing -----------------------------------------------------------------------------------------
class ScanError(Exception):
    """The file was refused; nothing was recorded."""


@dataclass
class ParsedService:
    address: str
    hostname: str
    port: int
    protocol: str
    service: str
    product: str
    version: str
    risk: ServiceRisk

    @property
    def risky(self) -> bool:
        return self.risk in RISKY


@dataclass
class ParsedScan:
    scanner: str
    arguments: str
    started_at: dt.datetime | None
    hosts_up: int
    services: list[ParsedService] = field(default_factory=list)


def parse(data: bytes) -> ParsedScan:
    if not data.strip():
        raise ScanError(_("Le fichier est vide."))
    try:
        root = SafeET.fromstring(data)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":")[0]
        raise ScanError(
            _(
                "XML invalide ou tronqué, ligne %(line)s, colonne %(col)s (%(reason)s) : "
                "rien n'a été importé."
            )
            % {"line": line, "col": column + 1, "reason": reason}
        ) from None
    except DefusedXmlException:
        raise ScanError(
            _("Le fichier déclare des entités XML, refusées par sécurité : rien n'a été importé.")
        ) from None
    if root.tag != "nmaprun":
        raise ScanError(
            _(
                "Ce n'est pas une sortie XML de nmap (élément racine « %(tag)s », "
                "« nmaprun » attendu). Lancez nmap avec l'option -oX."
            )
            % {"tag": root.tag[:40]}
        )
    if root.find("runstats/finished") is None:
        raise ScanError(
            _(
                "Le scan est incomplet (pas d'élément « runstats ») : nmap a été interrompu ou "
                "le fichier est tronqué. Rien n'a été importé."
            )
        )
    scanner = " ".join(filter(None, [root.get("scanner", "nmap"), root.get("version", "")]))
    started_at = None
    if (root.get("start") or "").isdigit():
        started_at = dt.datetime.fromtimestamp(int(root.get("start")), tz=dt.UTC)
    services: list[ParsedService] = []
    hosts_up = 0
    for index, host in enumerate(root.iter("host"), start=1):
        status = host.find("status")
        if status is None or status.get("state") != "up":
            continue
        hosts_up += 1
        address = _address(host)
        if not address:
            raise ScanError(
                _("Hôte n°%(index)s : aucune adresse IP valide. Rien n'a été importé.")
                % {"index": index}
            )
        hostname = _hostname(host)
        for port in host.iterfind("ports/port"):
            state = port.find("state")
            if state is None or state.get("state") != "open":
                continue
            portid = port.get("portid", "")
            if not portid.isdigit() or not 0 < int(portid) < 65536:
                raise ScanError(
                    _("Hôte %(address)s : numéro de port invalide « %(port)s ».")
                    % {"address": address, "port": portid[:10]}
                )
            number = int(portid)
            element = port.find("service")
            name = product = version = ""
            if element is not None:
                name = element.get("name", "")
                product = element.get("product", "")
                version = " ".join(
                    filter(None, [element.get("version", ""), element.get("extrainfo", "")])
                )
                if element.get("tunnel") == "ssl" and name in ("http", "imap", "pop3", "smtp"):
                    name = {"http": "https", "imap": "imaps", "pop3": "pop3s", "smtp": "smtps"}[
                        name
                    ]
            services.append(
                ParsedService(
                    address=address,
                    hostname=hostname[:255],
                    port=number,
                    protocol=(port.get("protocol") or "tcp")[:5],
                    service=name[:80],
                    product=product[:160],
                    version=version[:80],
                    risk=classify(number, name, product),
                )
            )
    runstats = root.find("runstats/hosts")
    if runstats is not None and (runstats.get("up") or "").isdigit():
        hosts_up = int(runstats.get("up"))
    return ParsedScan(
        scanner=scanner[:80],
        arguments=root.get("args", ""),
        started_at=started_at,
        hosts_up=hosts_up,
        services=services,
    )


def _address(host) -> str:
    for element in host.iterfind("address"):
        if element.get("addrtype") in ("ipv4", "ipv6"):
            try:
                return str(ipaddress.ip_address(element.get("addr", "")))
            except ValueError:
                return ""
    return ""


def _hostname(host) -> str:
    names = host.findall("hostnames/hostname")
    for wanted in ("user", "PTR", None):
        for element in names:
            if wanted is None or element.get("type") == wanted:
                return element.get("name", "")
    return ""


# Import ------------------------------------------------------------------------------------------
def import_scan(organisation, data: bytes, *, filename: str, user=None) -> ExposureScan:
    """Record a scan of this establishment, all or nothing (ScanError when refused)."""
    if len(data) > MAX_FILE_BYTES:
        raise ScanError(_("Le fichier dépasse 50 Mo."))
    parsed = parse(data)
    with transaction.atomic():
        scan = ExposureScan.objects.create(
            organisation=organisation,
            filename=filename[:255],
            scanner=parsed.scanner,
            arguments=parsed.arguments,
            started_at=parsed.started_at or timezone.now(),
            hosts_up=parsed.hosts_up,
            imported_by=user if user is not None and user.is_authenticated else None,
        )
        # An exposure already turned into an action keeps its action in the new scan.
        actions = _known_actions(organisation)
        ExposedService.objects.bulk_create(
            [
                ExposedService(
                    scan=scan,
                    address=s.address,
                    hostname=s.hostname,
                    port=s.port,
                    protocol=s.protocol,
                    service=s.service,
                    product=s.product,
                    version=s.version,
                    risk=s.risk,
                    risky=s.risky,
                    action_id=actions.get((s.address, s.port, s.protocol)),
                )
                for s in parsed.services
            ],
            batch_size=500,
        )
        refresh_fact(organisation)
    return scan


def _known_actions(organisation) -> dict[tuple, int]:
    rows = ExposedService.objects.filter(
        scan__organisation=organisation, action__isnull=False
    ).values_list("address", "port", "protocol", "action_id")
    return {(a, p, proto): action for a, p, proto, action in rows}


def latest_scan(organisation) -> ExposureScan | None:
    return (
        ExposureScan.objects.filter(organisation=organisation)
        .order_by("-started_at", "-pk")
        .first()
    )


def risk_labels(services) -> list[str]:
    """The distinct risky natures of these services, in ServiceRisk order."""
    present = {s.risk for s in services if s.risky}
    return [label for value, label in ServiceRisk.choices if value in present]


def refresh_fact(organisation):
    """Evidence from the establishment's latest scan (value = number of risky services)."""
    from hygie.assessments.services import record_fact

    scan = latest_scan(organisation)
    if scan is None:
        summary, value, details, day = _("Aucun scan d'exposition importé."), None, {}, None
    else:
        services = list(scan.services.all())
        risky = [s for s in services if s.risky]
        addresses = {s.address for s in services}
        day = timezone.localtime(scan.started_at).date() if scan.started_at else None
        summary = _(
            "Scan du %(date)s : %(total)s services exposés sur %(addresses)s adresses, dont "
            "%(risky)s à risque"
        ) % {
            "date": f"{day:%d/%m/%Y}" if day else "?",
            "total": len(services),
            "addresses": len(addresses),
            "risky": len(risky),
        }
        labels = risk_labels(services)
        summary += " (" + ", ".join(str(label) for label in labels) + ")." if labels else "."
        value = len(risky)
        details = {
            "scan": scan.pk,
            "services": len(services),
            "addresses": len(addresses),
            "risky": len(risky),
            "by_risk": {r: sum(s.risk == r for s in risky) for r in {s.risk for s in risky}},
        }
    return record_fact(
        organisation,
        FACT_SOURCE,
        source_key=FACT_KEY,
        occurred_on=day or timezone.localdate(),
        summary=summary,
        value=value,
        url=reverse("posture:exposure", args=[organisation.pk]),
        details=details,
    )


def delete_scan(scan: ExposureScan) -> None:
    organisation = scan.organisation
    with transaction.atomic():
        scan.delete()
        refresh_fact(organisation)


# Action plan -------------------------------------------------------------------------------------
class NotRisky(Exception):
    pass


def create_action(service: ExposedService, *, actor, request=None) -> ActionItem:
    """An action-plan item for a risky exposed service; the same address/port reuses it."""
    with transaction.atomic():
        service = (
            ExposedService.objects.select_for_update()
            .select_related("scan__organisation")
            .get(pk=service.pk)
        )
        organisation = service.scan.organisation
        if service.action_id and ActionItem.objects.filter(pk=service.action_id).exists():
            return service.action
        if not service.risky:
            raise NotRisky(_("Ce service n'est pas classé à risque."))
        existing = _known_actions(organisation).get(
            (service.address, service.port, service.protocol)
        )
        item = ActionItem.objects.filter(pk=existing).first() if existing else None
        if item is None:
            where = f"{service.address}:{service.port}/{service.protocol}"
            what = service.get_risk_display()
            item = ActionItem.objects.create(
                organisation=organisation,
                title=(
                    _("Retirer d'internet %(what)s exposé sur %(where)s")
                    % {"what": what, "where": where}
                )[:300],
                description=_(
                    "Le scan d'exposition « %(file)s » a trouvé le port %(where)s ouvert "
                    "(%(service)s %(product)s %(version)s%(host)s). Ce type de service ne doit pas "
                    "être joignable depuis internet : le fermer au pare-feu ou le placer derrière "
                    "le VPN, puis vérifier par un nouveau scan."
                )
                % {
                    "file": service.scan.filename,
                    "where": where,
                    "service": service.service or "?",
                    "product": service.product,
                    "version": service.version,
                    "host": f", {service.hostname}" if service.hostname else "",
                },
                priority=Priority.HIGH,
                due_on=timezone.localdate() + dt.timedelta(days=30),
                origin="audit",
            )
            record_event(
                "posture.exposure_action_created",
                request=request,
                actor=actor,
                target=item,
                organisation=organisation,
                details={"service": service.pk, "port": service.port, "address": service.address},
            )
        ExposedService.objects.filter(
            scan__organisation=organisation,
            address=service.address,
            port=service.port,
            protocol=service.protocol,
        ).update(action=item)
    return item

"""National campaign kits: uploads, distribution by e-mail, the service contact's page,
reminders, the evidence fact and tenant isolation."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hygie.assessments.models import Fact
from hygie.awareness import kits, links
from hygie.awareness.models import KitDistribution, KitItem, LearnerLink
from hygie.orgs.models import Kind
from tests import factories
from tests.awareness.matrix_kits import POSTER_BYTES, make_kit
from tests.clients import browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """The e-mails go through the task queue; here the task runs at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def kit(world):
    return make_kit(world.est_a1)


@pytest.fixture
def pharmacy(world):
    """A second service of CHU A1, whose manager is in the staff directory."""
    service = factories.org(Kind.SERVICE, world.site_a1, name="Pharmacie A1", code="PHA")
    factories.staff(
        world.est_a1,
        service=service,
        site=world.site_a1,
        first_name="Inès",
        last_name="Roux",
        email="ines.roux@chu-a1.example",
        job_title="Cadre de santé",
    )
    return service


def _link_token(message) -> str:
    match = re.search(r"/apprendre/([A-Za-z0-9_-]+)/", message.body)
    assert match, "the e-mail carries a personal link"
    return match.group(1)


def _link(token: str) -> LearnerLink:
    return LearnerLink.objects.get(token_digest=links.digest(token))


def _open(link: LearnerLink, method="get", data=None, query=""):
    """The acknowledgement page through the contact's personal link, in the browser that
    started it (the learner pages check the token, then hand KIT links to the kits area)."""
    client = getattr(link, "client", None)
    if client is None:
        client = link.client = browser()
        started = client.post(reverse("awareness:learner_start", args=[link.token]))
        assert started.status_code == 302
    path = reverse("awareness:learner_open", args=[link.token]) + query
    return client.post(path, data or {}) if method == "post" else client.get(path)


# Uploads ------------------------------------------------------------------------------------
def test_a_poster_is_stored_under_a_random_name_and_served_sandboxed(world, kit):
    client = browser(world.editor)
    response = client.post(
        reverse("awareness:kit_item_add", args=[kit.pk]),
        {"kind": "poster", "title": "Affiche USB", "file": SimpleUploadedFile("usb.png", PNG)},
    )
    assert response.status_code == 302
    item = kit.items.get(title="Affiche USB")
    assert item.file_name == "usb.png" and item.content_type == "image/png"
    stored = Path(settings.MEDIA_ROOT) / item.stored_name
    assert stored.read_bytes() == PNG
    assert "usb" not in stored.name and stored.parent.name == str(world.est_a1.pk)

    download = client.get(reverse("awareness:kit_item_download", args=[kit.pk, item.pk]))
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Security-Policy"] == "sandbox"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"] == 'attachment; filename="usb.png"'


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "affiche.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "Type de fichier refusé (« .svg »). Acceptés : jpeg, jpg, pdf, png.",
        ),
        ("affiche.pdf", b"MZ\x90\x00 an executable", "ne correspond pas à son extension « .pdf »"),
        ("affiche.png", b"", "est vide."),
    ],
)
def test_a_refused_file_is_named_and_nothing_is_kept(world, kit, name, content, message):
    before = kit.items.count()
    folder = Path(settings.MEDIA_ROOT) / "kits" / str(world.est_a1.pk)
    files_before = set(folder.iterdir())
    response = browser(world.editor).post(
        reverse("awareness:kit_item_add", args=[kit.pk]),
        {"kind": "poster", "title": "Affiche", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert kit.items.count() == before
    assert set(folder.iterdir()) == files_before


def test_a_file_over_the_limit_is_refused(world, kit, monkeypatch):
    monkeypatch.setattr(kits, "MAX_KIT_FILE_BYTES", 1024 * 1024)
    response = browser(world.editor).post(
        reverse("awareness:kit_item_add", args=[kit.pk]),
        {
            "kind": "poster",
            "title": "Grande affiche",
            "file": SimpleUploadedFile("a0.pdf", b"%PDF-1.7\n" + b"0" * 1024 * 1024),
        },
    )
    assert response.status_code == 400
    assert "Le fichier dépasse 1 Mo." in response.content.decode()
    assert not kit.items.filter(title="Grande affiche").exists()


def test_a_video_needs_its_link_and_a_message_its_text(world, kit):
    client = browser(world.editor)
    url = reverse("awareness:kit_item_add", args=[kit.pk])
    page = client.post(url, {"kind": "video", "title": "Clip"}).content.decode()
    assert "Indiquez le lien de la vidéo." in page
    page = client.post(url, {"kind": "message", "title": "Mot"}).content.decode()
    assert "Saisissez le texte du message." in page
    response = client.post(
        url, {"kind": "video", "title": "Clip", "url": "https://video.example/cyber"}
    )
    assert response.status_code == 302
    assert kit.items.get(title="Clip").url == "https://video.example/cyber"


# Distribution ---------------------------------------------------------------------------------
def test_the_form_suggests_the_service_manager_from_the_staff_directory(world, kit, pharmacy):
    page = browser(world.editor).get(reverse("awareness:kit_distribute", args=[kit.pk]))
    body = page.content.decode()
    assert 'value="ines.roux@chu-a1.example"' in body
    assert "Urgences A1" in body and "Urgences B1" not in body


def test_distribution_mails_each_service_its_messages_and_a_personal_link(world, kit, pharmacy):
    response = browser(world.editor).post(
        reverse("awareness:kit_distribute", args=[kit.pk]),
        {
            f"service_{world.service_a1.pk}": "cadre.urgences@chu-a1.example",
            f"service_{pharmacy.pk}": "ines.roux@chu-a1.example",
        },
    )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == [
        "cadre.urgences@chu-a1.example",
        "ines.roux@chu-a1.example",
    ]
    message = next(m for m in mail.outbox if m.to == ["ines.roux@chu-a1.example"])
    assert "Tous cybervigilants 2026" in message.subject and "Pharmacie A1" in message.subject
    assert "Avant de cliquer sur un lien, vérifiez l'expéditeur." in message.body
    assert "Affiche hameçonnage" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Pharmacie A1" in html
    link = _link(_link_token(message))
    assert link.purpose == "kit" and link.distribution.service == pharmacy
    assert link.distribution.sent_at is not None

    # Sending again only writes to services that have not received the kit.
    mail.outbox.clear()
    browser(world.editor).post(
        reverse("awareness:kit_distribute", args=[kit.pk]),
        {f"service_{pharmacy.pk}": "ines.roux@chu-a1.example"},
    )
    assert mail.outbox == []


def test_pasted_lines_are_checked_row_by_row_and_nothing_is_written(world, kit, pharmacy):
    pasted = "\n".join(
        [
            "service;email",
            "Urgences A1;cadre.urgences@chu-a1.example",
            "Cardiologie;cadre.cardio@chu-a1.example",
            "PHA;pas-une-adresse",
            "urgences a1;autre@chu-a1.example",
            "Pharmacie A1",
        ]
    )
    response = browser(world.editor).post(
        reverse("awareness:kit_distribute", args=[kit.pk]), {"contacts_csv": pasted}
    )
    assert response.status_code == 400
    body = response.content.decode()
    for expected in [
        "Ligne 3 : aucun service « Cardiologie » dans cette organisation.",
        "Ligne 4 : adresse e-mail « pas-une-adresse » invalide.",
        "Ligne 5 : le service « urgences a1 » figure déjà ligne 2.",
        "Ligne 6 : attendu « service;adresse e-mail », lu « Pharmacie A1 ».",
    ]:
        assert expected.replace("'", "&#x27;") in body
    assert "Ligne 2" not in body.replace("figure déjà ligne 2", "")
    assert not KitDistribution.objects.filter(kit=kit).exists()
    assert mail.outbox == []


def test_pasted_lines_reach_services_by_name_or_code(world, kit, pharmacy):
    response = browser(world.editor).post(
        reverse("awareness:kit_distribute", args=[kit.pk]),
        {"contacts_csv": "Urgences A1;urg@chu-a1.example\r\npha ; pharma@chu-a1.example\n"},
    )
    assert response.status_code == 302
    assert dict(kit.distributions.values_list("service__name", "contact_email")) == {
        "Urgences A1": "urg@chu-a1.example",
        "Pharmacie A1": "pharma@chu-a1.example",
    }


def test_a_service_of_another_tenant_cannot_be_named(world, kit):
    response = browser(world.editor).post(
        reverse("awareness:kit_distribute", args=[kit.pk]),
        {"contacts_csv": "Urgences B1;cadre@ch-b1.example"},
    )
    assert response.status_code == 400
    assert "aucun service « Urgences B1 »" in response.content.decode()
    assert not kit.distributions.exists()


def test_a_refused_mail_is_tried_again_by_housekeeping(world, kit, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    response = browser(world.editor).post(
        reverse("awareness:kit_distribute", args=[kit.pk]),
        {f"service_{world.service_a1.pk}": "cadre.urgences@chu-a1.example"},
        follow=True,
    )
    assert "le kit part par e-mail à 1 service(s)" in response.content.decode()
    assert kit.distributions.get().sent_at is None
    status = browser(world.editor).get(reverse("awareness:kit_status", args=[kit.pk]))
    assert "En attente d&#x27;envoi" in status.content.decode()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert kits.send_kit_reminders() == 1
    assert [m.to for m in mail.outbox] == [["cadre.urgences@chu-a1.example"]]
    assert kit.distributions.get().sent_at is not None
    assert kits.send_kit_reminders() == 0


# The service contact's page -----------------------------------------------------------------
@pytest.fixture
def sent(world, kit, pharmacy):
    kits.distribute(
        kit,
        {
            world.service_a1.pk: "cadre.urgences@chu-a1.example",
            pharmacy.pk: "ines.roux@chu-a1.example",
        },
    )
    opened = {}
    for message in mail.outbox:
        link = _link(_link_token(message))
        link.token = _link_token(message)
        opened[message.to[0]] = link
    return opened


def test_the_contact_sees_the_supports_and_downloads_the_poster(world, kit, sent):
    link = sent["cadre.urgences@chu-a1.example"]
    page = _open(link)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Affiche hameçonnage" in body and "vérifiez l&#x27;expéditeur" in body
    assert page["Referrer-Policy"] == "strict-origin"  # never a path: the token stays private
    assert "no-store" in page["Cache-Control"]
    poster = kit.items.get(kind="poster")
    assert f'href="?support={poster.pk}"' in body

    download = _open(link, query=f"?support={poster.pk}")
    assert b"".join(download.streaming_content) == POSTER_BYTES
    assert download["Content-Security-Policy"] == "sandbox"
    assert download["Content-Disposition"].startswith("attachment")


def test_another_kits_file_is_not_reachable_through_a_link(world, kit, sent):
    other = make_kit(world.est_b1, name="Kit GHT B")
    foreign = other.items.get(kind="poster")
    link = sent["cadre.urgences@chu-a1.example"]
    assert _open(link, query=f"?support={foreign.pk}").status_code == 404


def test_acknowledging_records_who_and_when_and_the_establishment_fact(world, kit, sent):
    link = sent["cadre.urgences@chu-a1.example"]
    response = _open(
        link,
        "post",
        {"name": "Paule Ménard", "comment": "Affiches en salle de pause et à l'accueil."},
    )
    assert response.status_code == 302
    distribution = KitDistribution.objects.get(pk=link.distribution_id)
    assert distribution.acknowledged_by == "Paule Ménard"
    assert distribution.acknowledged_at is not None
    assert "Merci : relais confirmé" in _open(link).content.decode()

    fact = Fact.objects.get(source="awareness.campaign", source_key=f"kit-{kit.pk}")
    assert fact.organisation == world.est_a1
    assert fact.value == 50.0  # one service of two
    assert "1 service(s) sur 2" in fact.summary

    # A second confirmation (another tab) changes nothing.
    _open(link, "post", {"name": "Quelqu'un d'autre"})
    assert KitDistribution.objects.get(pk=link.distribution_id).acknowledged_by == "Paule Ménard"

    status = browser(world.reader).get(reverse("awareness:kit_status", args=[kit.pk]))
    body = status.content.decode()
    assert "Paule Ménard" in body and "Affiches en salle de pause" in body
    assert body.count('data-state="acknowledged"') == 1
    assert body.count('data-state="sent"') == 1

    _open(sent["ines.roux@chu-a1.example"], "post", {"name": "Inès Roux"})
    assert Fact.objects.get(pk=fact.pk).value == 100.0


def test_the_name_is_required_to_acknowledge(world, kit, sent):
    link = sent["cadre.urgences@chu-a1.example"]
    response = _open(link, "post", {"name": " "})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()
    assert KitDistribution.objects.get(pk=link.distribution_id).acknowledged_at is None
    assert not Fact.objects.filter(source_key=f"kit-{kit.pk}").exists()


def test_a_ght_kit_records_one_fact_per_establishment(world):
    kit = make_kit(world.ght_a, name="Kit GHT A")
    service_a2 = factories.org(
        Kind.SERVICE, factories.org(Kind.SITE, world.est_a2, name="Site A2"), name="Urgences A2"
    )
    kits.distribute(
        kit, {world.service_a1.pk: "a1@ght-a.example", service_a2.pk: "a2@ght-a.example"}
    )
    distribution = kit.distributions.get(service=service_a2)
    kits.acknowledge(distribution, name="Marc Petit")
    facts = Fact.objects.filter(source_key=f"kit-{kit.pk}")
    assert {(f.organisation.name, f.value) for f in facts} == {("CH A2", 100.0)}


# Reminders ------------------------------------------------------------------------------------
def test_reminders_go_weekly_to_services_that_have_not_confirmed(world, kit, sent):
    link = sent["cadre.urgences@chu-a1.example"]
    kits.acknowledge(link.distribution, name="Paule Ménard")
    mail.outbox.clear()
    now = timezone.now()
    assert kits.send_kit_reminders(now + timedelta(days=3)) == 0

    later = now + timedelta(days=8)
    assert kits.send_kit_reminders(later) == 1
    assert [m.to for m in mail.outbox] == [["ines.roux@chu-a1.example"]]
    assert mail.outbox[0].subject.startswith("Rappel")
    fresh = _link(_link_token(mail.outbox[0]))
    assert fresh != sent["ines.roux@chu-a1.example"]
    assert kits.send_kit_reminders(later + timedelta(hours=1)) == 0  # once a day

    assert kits.send_kit_reminders(later + timedelta(days=7)) == 1
    assert kits.send_kit_reminders(later + timedelta(days=14)) == 1
    assert kits.send_kit_reminders(later + timedelta(days=21)) == 0  # three at most
    assert KitDistribution.objects.get(pk=fresh.distribution_id).reminders_sent == 3


# Export and isolation ------------------------------------------------------------------------
def test_the_status_export_neutralises_formulas(world, kit, sent):
    kits.acknowledge(sent["cadre.urgences@chu-a1.example"].distribution, name="=HYPERLINK(1)")
    response = browser(world.editor).get(reverse("awareness:kit_status_csv", args=[kit.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["site", "service", "destinataire"]
    by_service = {row[1]: row for row in rows[1:]}
    assert by_service["Urgences A1"][3] == "Relayé"
    assert by_service["Urgences A1"][7] == "'=HYPERLINK(1)"
    assert by_service["Pharmacie A1"][3] == "Envoyé, en attente"


def test_another_ghts_kit_answers_404_everywhere(world):
    kit_b = make_kit(world.est_b1, name="Kit CH B1")
    item = kit_b.items.get(kind="poster")
    client = browser(world.editor)
    for name, args in [
        ("awareness:kit_detail", [kit_b.pk]),
        ("awareness:kit_edit", [kit_b.pk]),
        ("awareness:kit_distribute", [kit_b.pk]),
        ("awareness:kit_status", [kit_b.pk]),
        ("awareness:kit_status_csv", [kit_b.pk]),
        ("awareness:kit_item_download", [kit_b.pk, item.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    response = client.post(reverse("awareness:kit_item_delete", args=[kit_b.pk, item.pk]), {})
    assert response.status_code == 404
    assert KitItem.objects.filter(pk=item.pk).exists()
    listing = client.get(reverse("awareness:kit_list", args=[world.ght_a.pk]))
    assert "Kit CH B1" not in listing.content.decode()


def test_a_kit_is_created_at_an_establishment_or_a_ght_only(world):
    client = browser(world.editor)
    response = client.get(reverse("awareness:kit_create", args=[world.service_a1.pk]))
    assert response.status_code == 403
    response = client.post(
        reverse("awareness:kit_create", args=[world.ght_a.pk]),
        {"name": "Tous cybervigilants", "publisher": "", "year": "1999"},
    )
    assert response.status_code == 200
    assert "Indiquez une année entre 2000" in response.content.decode()


def test_kits_go_through_a_real_smtp_server_and_a_refusal_is_retried(
    world, kit, pharmacy, settings, monkeypatch, tmp_path
):
    from tests.services.smtp import PASSWORD, USERNAME, smtp_server

    with smtp_server() as server:
        ca = tmp_path / "ca.pem"
        ca.write_text(server.ca_pem)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "localhost", server.port
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = True, 5
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = USERNAME, PASSWORD
        server.fail_with.append((550, "5.1.1 Mailbox unavailable"))

        kits.distribute(
            kit,
            {world.service_a1.pk: "urg@chu-a1.example", pharmacy.pk: "pha@chu-a1.example"},
        )
        assert len(server.messages) == 1
        assert kit.distributions.filter(sent_at__isnull=True).count() == 1
        assert (
            LearnerLink.objects.filter(distribution__kit=kit).count() == 1
        )  # none for the refusal

        assert kits.send_kit_reminders() == 1
        delivered = {rcpt[0]: message for _sender, rcpt, message in server.messages}
        assert set(delivered) == {"urg@chu-a1.example", "pha@chu-a1.example"}
        message = delivered["pha@chu-a1.example"]
        assert "Pharmacie A1" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        assert "/apprendre/" in text and "vérifiez l'expéditeur" in text
        assert not kit.distributions.filter(sent_at__isnull=True).exists()


def test_the_status_page_costs_the_same_for_2_or_20_services(world, kit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = browser(world.editor)
    url = reverse("awareness:kit_status", args=[kit.pk])

    def queries_with(count):
        while kits.services_of(world.est_a1).count() < count:
            service = factories.org(Kind.SERVICE, world.site_a1)
            KitDistribution.objects.create(
                kit=kit, service=service, contact_email="x@chu-a1.example"
            )
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_with(2) == queries_with(20)

"""The abuse mailbox read against a real dovecot: reports stored once, simulations credited,
messages marked read and moved, problems reported on the mailbox."""

from __future__ import annotations

import io

from django.core import mail
from django.core.management import call_command

from hygie.mailreports import imap as imap_client
from hygie.mailreports.models import Case, CaseKind, Mailbox, Report, Security, Verdict
from hygie.phishing.models import Event, EventKind, Recipient
from tests.mailreports import corpus


def poll_command() -> str:
    out = io.StringIO()
    call_command("mailreports_poll", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_poll_credits_a_simulation_report_triages_a_real_one_and_moves_both(
    world, imap, mailbox_for
):
    mailbox = mailbox_for(imap)
    recipient = corpus.simulation_recipient(world.est_a1, world.staff_a1)
    simulated = corpus.simulation_message(recipient.token, recipient.email)
    imap.append(corpus.forward_as_attachment(simulated, recipient.email))
    imap.append(corpus.forward_as_attachment(corpus.real_phishing(), "infirmier@chu-a.example"))

    output = poll_command()

    assert "2 nouveau(x) signalement(s), 1 exercice(s) reconnu(s)" in output
    recipient.refresh_from_db()
    assert recipient.reported_at is not None
    assert Event.objects.filter(recipient=recipient, kind=EventKind.REPORT).count() == 1
    exercise = Case.objects.get(kind=CaseKind.SIMULATION)
    assert exercise.verdict == Verdict.EXERCISE and exercise.simulation == recipient.simulation
    real = Case.objects.get(kind=CaseKind.REAL)
    assert real.indicators["authentication"]["spf"] == "fail"
    assert real.reports.get().reporter == "infirmier@chu-a.example"
    # The reporter of the exercise is thanked, warmly and in French.
    assert [m.to for m in mail.outbox] == [[recipient.email]]
    assert "exercice" in mail.outbox[0].subject and "Bravo" in mail.outbox[0].body
    assert mail.outbox[0].from_email == "securite@chu-a.example"
    # Read messages leave the inbox, marked read, for the processed folder.
    assert imap.folder("INBOX") == []
    processed = imap.folder("Hygie/Traites")
    assert len(processed) == 2 and all("\\Seen" in flags for flags, _raw in processed)
    mailbox.refresh_from_db()
    assert mailbox.last_poll_ok is True and mailbox.poll_claimed_at is None
    # Polling again stores nothing more and credits nobody twice.
    assert "0 nouveau(x) signalement(s)" in poll_command()
    assert Report.objects.count() == 2


def test_the_same_report_delivered_again_is_stored_once(world, imap, mailbox_for):
    mailbox = mailbox_for(imap)
    raw = corpus.forward_as_attachment(corpus.real_phishing(), "agent@chu-a.example")
    imap.append(raw)
    imap_client.poll(mailbox)
    # A server restore puts it back in the inbox under a new UID: same Message-ID.
    imap.append(raw)
    outcome = imap_client.poll(mailbox)
    assert (outcome.stored, outcome.already) == (0, 1)
    assert Report.objects.count() == 1
    assert imap.folder("INBOX") == []


def test_a_message_stored_but_not_moved_is_moved_by_the_next_poll(world, imap, mailbox_for):
    """Hygie stopped between storing and moving: the UID is known, the message is not
    stored twice."""
    from hygie.mailreports import services
    from hygie.mailreports.models import Source

    mailbox = mailbox_for(imap)
    raw = corpus.forward_as_attachment(corpus.real_phishing(), "agent@chu-a.example")
    imap.append(raw)
    connection = imap.connect()
    connection.select("INBOX")
    uidvalidity = int(connection.response("UIDVALIDITY")[1][0])
    connection.logout()
    services.ingest(
        raw,
        organisation=world.est_a1,
        source=Source.IMAP,
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=1,
    )
    outcome = imap_client.poll(mailbox)
    assert (outcome.stored, outcome.already) == (0, 1)
    assert Report.objects.count() == 1 and imap.folder("INBOX") == []


def test_only_the_first_report_of_a_recipient_counts(world, imap, mailbox_for):
    mailbox = mailbox_for(imap)
    recipient = corpus.simulation_recipient(world.est_a1, world.staff_a1)
    simulated = corpus.simulation_message(recipient.token, recipient.email)
    imap.append(corpus.forward_as_attachment(simulated, recipient.email))
    imap_client.poll(mailbox)
    first = Recipient.objects.get(pk=recipient.pk).reported_at
    imap.append(corpus.forward_inline(simulated, recipient.email))
    outcome = imap_client.poll(mailbox)
    assert outcome.stored == 1 and outcome.credited == 0
    assert Recipient.objects.get(pk=recipient.pk).reported_at == first
    assert Event.objects.filter(recipient=recipient, kind=EventKind.REPORT).count() == 1
    # Both reports are in the exercise's case.
    assert Case.objects.get().report_count == 2


def test_a_token_of_another_organisation_is_handled_as_a_real_report(world, imap, mailbox_for):
    mailbox = mailbox_for(imap)
    foreign = corpus.simulation_recipient(world.est_b1, world.staff_b1)
    simulated = corpus.simulation_message(foreign.token, "agent@chu-a.example")
    imap.append(corpus.forward_as_attachment(simulated, "agent@chu-a.example"))
    outcome = imap_client.poll(mailbox)
    assert outcome.stored == 1 and outcome.credited == 0
    assert Recipient.objects.get(pk=foreign.pk).reported_at is None
    assert Case.objects.get().kind == CaseKind.REAL
    assert mail.outbox == []


def test_an_unreadable_message_is_set_aside_and_named(world, imap, mailbox_for):
    mailbox = mailbox_for(imap)
    imap.append(corpus.GARBAGE)
    outcome = imap_client.poll(mailbox)
    assert outcome.ok and outcome.stored == 0
    mailbox.refresh_from_db()
    assert "1 message(s) illisible(s)" in mailbox.last_poll_message
    assert "aucun en-tête" in mailbox.last_poll_message
    assert imap.folder("INBOX") == [] and len(imap.folder("Hygie/Traites")) == 1
    assert Report.objects.count() == 0


def test_tls_and_starttls_check_the_certificate(world, imap, mailbox_for):
    trusted = mailbox_for(imap, security=Security.TLS, ca_certificate=imap.ca_pem)
    assert imap_client.test(trusted).ok
    starttls = mailbox_for(
        imap, security=Security.STARTTLS, ca_certificate=imap.ca_pem, name="STARTTLS"
    )
    outcome = imap_client.test(starttls)
    assert outcome.ok and "0 message(s) en attente" in outcome.message
    untrusted = mailbox_for(imap, security=Security.TLS, name="Sans autorité")
    outcome = imap_client.test(untrusted)
    assert not outcome.ok and "Certificat du serveur refusé" in outcome.message


def test_a_wrong_password_or_folder_is_explained_on_the_mailbox(world, imap, mailbox_for):
    missing = mailbox_for(imap, folder="Abus", name="Autre")
    assert "« Abus » est introuvable" in imap_client.test(missing).message
    wrong = mailbox_for(imap, password="pas-le-bon")
    outcome = imap_client.poll(wrong)
    assert not outcome.ok and "Authentification refusée" in outcome.message
    wrong.refresh_from_db()
    assert wrong.last_poll_ok is False and "identifiant" in wrong.last_poll_message


def test_the_test_button_reports_the_outcome(world, imap, mailbox_for):
    from django.urls import reverse

    from tests.clients import browser

    mailbox = mailbox_for(imap)
    response = browser(world.editor).post(
        reverse("mailreports:mailbox_test", args=[mailbox.pk]), follow=True
    )
    assert "Connexion réussie" in response.content.decode()
    assert Mailbox.objects.get(pk=mailbox.pk).last_poll_ok is True

"""Permission-matrix routes of suspicious-e-mail reporting: mailboxes (view / manage), cases
(view / change), the report-button endpoint (public, its secret is the key)."""

from __future__ import annotations

from django.urls import reverse

from hygie.mailreports.models import Case, Mailbox, Verdict
from tests.permission_matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    PERSONAS,
    REDIRECT,
    UNAUTHORIZED,
    Call,
    Route,
    hides,
    shows,
    then,
)

SECRET = "mot-de-passe-de-la-boite"
SUBJECT = "Action requise : mise à jour de vos coordonnées bancaires"


def mailbox_a(w) -> Mailbox:
    if not hasattr(w, "mailbox_a"):
        w.mailbox_a = Mailbox.objects.create(
            organisation=w.est_a1,
            name="Signalements CHU A1",
            host="127.0.0.1",
            port=1,  # nothing listens: a test fails fast, and is reported
            security="none",
            username="abus",
            password=SECRET,
            timeout=2,
        )
    return w.mailbox_a


def case_a(w) -> Case:
    if not hasattr(w, "case_a"):
        from hygie.mailreports import services
        from hygie.mailreports.models import Source
        from tests.mailreports import corpus

        intake = services.ingest(
            corpus.forward_as_attachment(corpus.real_phishing(), "agent@chu-a.example"),
            organisation=w.est_a1,
            source=Source.IMAP,
            mailbox=mailbox_a(w),
        )
        w.case_a = intake.report.case
        w.report_a = intake.report
    return w.case_a


def mailbox_form(w):
    return {
        "name": "Boîte GHT",
        "host": "imap.ght-a.example",
        "port": 993,
        "security": "tls",
        "username": "abus@ght-a.example",
        "password": "s3cret",
        "folder": "INBOX",
        "processed_folder": "Hygie/Traites",
        "ca_certificate": "",
        "timeout": 20,
        "reply_address": "",
        "active": "on",
    }


ROUTES = [
    Route(
        "mailreports:mailboxes",
        url=lambda w: (mailbox_a(w), reverse("mailreports:mailboxes", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Signalements CHU A1"]), hides(lambda w: [SECRET])),
                editor=OK.but(shows(lambda w: ["Signalements CHU A1"]), hides(lambda w: [SECRET])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:mailbox_create",
        url=lambda w: reverse("mailreports:mailbox_create", args=[w.ght_a.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=mailbox_form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Mailbox.objects.get(name="Boîte GHT").password == "s3cret",
                        "created, password kept",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "mailreports:mailbox_edit",
        url=lambda w: reverse("mailreports:mailbox_edit", args=[mailbox_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(hides(lambda w: [SECRET])),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=lambda w: {**mailbox_form(w), "name": "Boîte renommée", "password": ""},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Mailbox.objects.get(pk=w.mailbox_a.pk).password == SECRET,
                        "password kept",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "mailreports:mailbox_test",
        url=lambda w: reverse("mailreports:mailbox_test", args=[mailbox_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Mailbox.objects.get(pk=w.mailbox_a.pk).last_poll_ok is False,
                        "outcome kept",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:mailbox_token",
        url=lambda w: reverse("mailreports:mailbox_token", args=[mailbox_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(shows(lambda w: ["hyr_"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:cases",
        url=lambda w: (case_a(w), reverse("mailreports:cases", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: [SUBJECT])),
                editor=OK.but(shows(lambda w: [SUBJECT])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:upload",
        url=lambda w: reverse("mailreports:upload", args=[w.est_a1.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data={},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(shows(lambda w: ["Ce champ est obligatoire"])),
                analyst=NOT_FOUND,
                note="no file: the form says so",
            ),
        ],
    ),
    Route(
        "mailreports:case",
        url=lambda w: reverse("mailreports:case", args=[case_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["agent@chu-a.example", "hxxps://"])),
                editor=OK.but(shows(lambda w: ["agent@chu-a.example", "verdict-panel"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:case_verdict",
        url=lambda w: reverse("mailreports:case_verdict", args=[case_a(w).pk]),
        calls=[
            Call(
                "post",
                data={"verdict": "malicious", "note": ""},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Case.objects.get(pk=w.case_a.pk).verdict == Verdict.MALICIOUS,
                        "verdict kept",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:case_reply",
        url=lambda w: reverse("mailreports:case_reply", args=[case_a(w).pk]),
        calls=[
            Call(
                "post",
                setup=lambda w: Case.objects.filter(pk=case_a(w).pk).update(verdict="spam"),
                data={"subject": "Votre signalement", "body": "Merci."},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: w.case_a.reports.filter(replied_at__isnull=False).exists(),
                        "reporters answered",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:report_raw",
        url=lambda w: (case_a(w), reverse("mailreports:report_raw", args=[w.report_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(shows(lambda w: ["Subject: TR: Action requise"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "mailreports:button_report",
        url=lambda w: reverse("mailreports:button_report"),
        public=True,
        why="called by report buttons in mail clients; the mailbox's secret is the credential",
        calls=[
            Call(
                "post",
                data={"message": ""},
                **dict.fromkeys(PERSONAS, UNAUTHORIZED),
                note="no secret: refused whoever is logged in",
            )
        ],
    ),
]

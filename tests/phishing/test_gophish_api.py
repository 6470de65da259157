"""The GoPhish-compatible API, driven by GoPhish's official Python client (PyPI `gophish`)
against Hygie's live test server: existing GoPhish scripts keep working."""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone
from gophish import Gophish
from gophish.models import SMTP, Campaign, Error, Group, Page, Template, User

from hygie.accounts.models import ApiToken, ApiTokenScope
from hygie.phishing import tracking
from hygie.phishing.models import (
    CampaignStatus,
    CustomLure,
    EventKind,
    Recipient,
    SendingProfile,
    Simulation,
    TargetList,
)
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "mot-de-passe-du-relais"


@pytest.fixture
def api(world, live_server):
    """A write key of the GHT A RSSI limited to CHU A1, its relay, and a client for it."""
    SendingProfile.objects.create(
        organisation=world.est_a1,
        name="Relais CHU",
        host="127.0.0.1",
        port=2525,
        username="simulations",
        password=SECRET,
        from_address="informatique@chu-a.example",
    )
    _token, key = ApiToken.issue(
        world.editor, "script GoPhish", ApiTokenScope.WRITE, organisation=world.est_a1
    )
    world.key = key
    world.url = live_server.url
    world.client = Gophish(key, host=live_server.url)
    return world


def build_everything(client):
    client.templates.post(
        Template(
            name="Mise à jour DPI",
            subject="{{.FirstName}}, votre accès expire",
            text="Bonjour {{.FirstName}} {{.LastName}}, réactivez : {{.URL}}",
            html='<p>Bonjour {{.FirstName}}</p><a href="{{.URL}}">Réactiver</a>{{.Tracker}}',
        )
    )
    client.pages.post(
        Page(
            name="Portail DPI",
            html='<form><input name="login"><input name="pass" type="password"></form>',
            capture_credentials=True,
            capture_passwords=True,
        )
    )
    client.groups.post(
        Group(
            name="Urgences",
            targets=[
                User(
                    first_name="Lucie",
                    last_name="Bernard",
                    email="lucie.bernard@chu-a.example",
                    position="Infirmière",
                ),
                User(first_name="Paul", last_name="Petit", email="paul.petit@chu-a.example"),
            ],
        )
    )


def launch(client, name="Campagne DPI"):
    return client.campaigns.post(
        Campaign(
            name=name,
            groups=[Group(name="Urgences")],
            template=Template(name="Mise à jour DPI"),
            page=Page(name="Portail DPI"),
            smtp=SMTP(name="Relais CHU"),
            url="https://phish.example",
        )
    )


def test_the_python_client_creates_and_follows_a_campaign(api):
    client = api.client
    build_everything(client)
    templates = client.templates.get()
    assert [t.name for t in templates] == ["Mise à jour DPI"]
    assert templates[0].text == "Bonjour {{.FirstName}} {{.LastName}}, réactivez : {{.URL}}"
    assert [p.name for p in client.pages.get()] == ["Portail DPI"]
    page = client.pages.get()[0]
    assert page.capture_passwords is False, "Hygie never captures passwords"
    groups = client.groups.get()
    assert [(g.name, len(g.targets)) for g in groups] == [("Urgences", 2)]
    assert {t.email for t in groups[0].targets} == {
        "lucie.bernard@chu-a.example",
        "paul.petit@chu-a.example",
    }

    campaign = launch(client)
    assert campaign.id and campaign.status == "Queued"
    simulation = Simulation.objects.get(pk=campaign.id)
    assert simulation.status == CampaignStatus.SCHEDULED
    assert simulation.organisation == api.est_a1
    assert list(simulation.target_lists.values_list("name", flat=True)) == ["Urgences"]
    lure = CustomLure.objects.get(pk=int(simulation.lures[0].removeprefix("custom-")))
    assert lure.subject == "{{prenom}}, votre accès expire"
    assert [f["name"] for f in lure.landing_fields] == ["login", "pass"]
    assert simulation.recipients.count() == 2

    # What people do, as the tracking endpoints record it.
    lucie = Recipient.objects.get(email="lucie.bernard@chu-a.example")
    paul = Recipient.objects.get(email="paul.petit@chu-a.example")
    sent = timezone.now() - timezone.timedelta(hours=1)
    Recipient.objects.filter(pk__in=[lucie.pk, paul.pk]).update(send_status="sent", sent_at=sent)
    lucie.refresh_from_db()
    paul.refresh_from_db()
    tracking.record(lucie, EventKind.CLICK)
    tracking.record(lucie, EventKind.SUBMIT, fields=["login", "pass"])
    tracking.record(paul, EventKind.REPORT)

    results = client.campaigns.results(campaign.id)
    by_email = {r.email: r for r in results.results}
    assert by_email["lucie.bernard@chu-a.example"].status == "Submitted Data"
    assert by_email["lucie.bernard@chu-a.example"].position == "Infirmière"
    assert by_email["paul.petit@chu-a.example"].status == "Email Sent"
    messages = [(e.email, e.message) for e in results.timeline]
    assert ("", "Campaign Created") in messages
    for expected in [
        ("lucie.bernard@chu-a.example", "Email Sent"),
        ("lucie.bernard@chu-a.example", "Clicked Link"),
        ("lucie.bernard@chu-a.example", "Submitted Data"),
        ("paul.petit@chu-a.example", "Email Reported"),
    ]:
        assert expected in messages
    submitted = next(e for e in results.timeline if e.message == "Submitted Data")
    assert submitted.details == {"payload": {}, "browser": {}}, "no entered value, ever"
    # Neither the tracking token nor anything typed leaves through the API.
    assert (
        lucie.token
        not in requests.get(
            f"{api.url}/api/campaigns/{campaign.id}", params={"api_key": api.key}, timeout=10
        ).text
    )

    summary = client.campaigns.summary(campaign.id)
    assert (summary.stats.total, summary.stats.sent) == (2, 2)
    assert (summary.stats.opened, summary.stats.clicked, summary.stats.submitted_data) == (1, 1, 1)
    everything = client.campaigns.summary()
    assert everything.total == 1 and everything.campaigns[0].name == "Campagne DPI"

    full = client.campaigns.get(campaign.id)
    assert "Mise à jour DPI" in full.template.name and full.smtp.name == "Relais CHU"
    assert [c.id for c in client.campaigns.get()] == [campaign.id]

    Simulation.objects.filter(pk=campaign.id).update(status=CampaignStatus.RUNNING)
    client.campaigns.complete(campaign.id)
    assert client.campaigns.get(campaign.id).status == "Completed"
    client.campaigns.delete(campaign.id)
    assert not Simulation.objects.filter(pk=campaign.id).exists()


def test_a_template_with_an_unknown_variable_is_kept_but_the_campaign_is_refused(api):
    client = api.client
    build_everything(client)
    client.templates.put(
        Template(
            id=client.templates.get()[0].id,
            name="Mise à jour DPI",
            subject="Accès",
            text="Votre adresse {{.Email}} : {{.URL}}",
            html="",
        )
    )
    with pytest.raises(Error) as refused:
        launch(client)
    assert "{{.Email}}" in str(refused.value)
    assert not Simulation.objects.exists(), "nothing half-written"


def test_campaign_creation_names_what_is_missing(api):
    build_everything(api.client)
    with pytest.raises(Error) as refused:
        api.client.campaigns.post(
            Campaign(
                name="X",
                groups=[Group(name="Inconnu")],
                template=Template(name="Mise à jour DPI"),
                page=Page(name="Portail DPI"),
                smtp=SMTP(name="Relais CHU"),
            )
        )
    assert "Groupes introuvables : Inconnu" in str(refused.value)


def test_sending_profiles_never_show_the_password(api):
    profiles = api.client.smtp.get()
    assert [(p.name, p.host, p.username) for p in profiles] == [
        ("Relais CHU", "127.0.0.1:2525", "simulations")
    ]
    assert not profiles[0].password
    raw = requests.get(f"{api.url}/api/smtp/", params={"api_key": api.key}, timeout=10).text
    assert SECRET not in raw


def test_keys_are_required_and_read_only_keys_cannot_write(api):
    response = requests.get(f"{api.url}/api/campaigns/", timeout=10)
    assert response.status_code == 401 and response.json()["success"] is False
    bad = Gophish("hyg_not-a-key", host=api.url)
    with pytest.raises(Error) as refused:
        bad.templates.get()
    assert "Jeton invalide" in str(refused.value)

    _token, read_key = ApiToken.issue(
        api.editor, "lecture", ApiTokenScope.READ, organisation=api.est_a1
    )
    reader = Gophish(read_key, host=api.url)
    assert reader.templates.get() == []
    with pytest.raises(Error) as refused:
        reader.templates.post(Template(name="T", text="{{.URL}}"))
    assert "lecture seule" in str(refused.value)
    assert not CustomLure.objects.exists()


def test_a_key_only_sees_its_organisation_subtree(api):
    build_everything(api.client)
    campaign = launch(api.client)
    _token, key_b = ApiToken.issue(api.outsider, "autre GHT", ApiTokenScope.WRITE)
    other = Gophish(key_b, host=api.url)
    assert other.campaigns.get() == []
    assert other.groups.get() == [] and other.templates.get() == [] and other.smtp.get() == []
    assert other.campaigns.summary().total == 0
    for call in (
        lambda: other.campaigns.get(campaign.id),
        lambda: other.campaigns.results(campaign.id),
        lambda: other.campaigns.delete(campaign.id),
        lambda: other.groups.get(TargetList.objects.get().pk),
    ):
        with pytest.raises(Error):
            call()
    assert Simulation.objects.filter(pk=campaign.id).exists()

    # A key limited to CH A2 does not see CHU A1's campaign, even for the GHT's RSSI.
    _token, key_a2 = ApiToken.issue(
        api.editor, "CH A2", ApiTokenScope.WRITE, organisation=api.est_a2
    )
    assert Gophish(key_a2, host=api.url).campaigns.get() == []


def test_groups_summary_and_update(api):
    build_everything(api.client)
    summary = requests.get(
        f"{api.url}/api/groups/summary", params={"api_key": api.key}, timeout=10
    ).json()
    assert summary["total"] == 1 and summary["groups"][0]["num_targets"] == 2
    group = api.client.groups.get()[0]
    group.targets = group.targets[:1]
    api.client.groups.put(group)
    assert TargetList.objects.get().members.count() == 1


def test_results_name_people_only_for_those_who_may_and_it_is_journalled(api):
    from hygie.core.models import AuditEvent
    from hygie.orgs.roles import Role

    build_everything(api.client)
    campaign = launch(api.client)
    reveals = AuditEvent.objects.filter(action="phishing.results_reveal")
    before = reveals.count()
    rows = api.client.campaigns.results(campaign.id).results
    assert {row.email for row in rows} == {
        "lucie.bernard@chu-a.example",
        "paul.petit@chu-a.example",
    }
    assert reveals.count() == before + 1, "every read of names is journalled"

    # A quality manager runs the programme: pseudonyms only, nothing journalled as a reveal.
    quality = factories.user("qualite-a1", role=Role.QUALITY, at=api.est_a1)
    _token, key = ApiToken.issue(quality, "qualité", ApiTokenScope.READ, organisation=api.est_a1)
    rows = Gophish(key, host=api.url).campaigns.results(campaign.id).results
    assert len(rows) == 2
    assert all(row.email.endswith("@pseudonyme.invalid") for row in rows)
    assert all(row.first_name.startswith("Personne ") and row.last_name == "" for row in rows)
    assert reveals.count() == before + 1

    # A reader sees the campaign and its figures, no individual row.
    reader = factories.user("lecteur-a1", role=Role.READER, at=api.est_a1)
    _token, key = ApiToken.issue(reader, "lecture", ApiTokenScope.READ, organisation=api.est_a1)
    answer = Gophish(key, host=api.url).campaigns.results(campaign.id)
    assert answer.results == []
    assert all(entry.email == "" for entry in answer.timeline)

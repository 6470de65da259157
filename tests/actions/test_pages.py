"""Plan page, item form, timeline: what the RSSI sees and changes."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from hygie.actions.models import ActionItem, ActionStatus
from hygie.directory.models import Actor, ActorKind
from tests.actions.helpers import item
from tests.clients import browser
from tests.governance import campaign

TODAY = timezone.localdate()


def test_plan_lists_the_canevas_columns_and_filters(world):
    item(
        world.est_a1,
        "PSSI",
        priority="p1",
        due_on=TODAY - dt.timedelta(days=3),
        starts_on=TODAY - dt.timedelta(days=30),
        owner=world.editor,
        cost=1500,
    )
    item(world.est_a1, "Sauvegardes", priority="p3", status=ActionStatus.DONE, progress=100)
    client = browser(world.reader)
    url = reverse("actions:plan", args=[world.est_a1.pk])
    body = client.get(url).content.decode()
    for header in (
        "Mesure",
        "Responsable",
        "Priorité",
        "Effort",
        "Coût",
        "Financement",
        "Échéance",
        "Statut",
        "Avancement",
        "Expert",
    ):
        assert f">{header}<" in body
    assert "Claire Dumont" in body and "1 500 €" in body.replace("\xa0", " ")
    assert "1 en retard" in body
    assert "Modifier" not in body  # a reader has no edit link
    overdue = client.get(url, {"overdue": "on"}).content.decode()
    assert "PSSI" in overdue and "Sauvegardes" not in overdue
    done = client.get(url, {"status": "done"}).content.decode()
    assert "Sauvegardes" in done and ">PSSI<" not in done
    p1 = client.get(url, {"priority": "p1", "owner": world.editor.pk}).content.decode()
    assert "PSSI" in p1 and "Sauvegardes" not in p1


def test_create_and_edit_an_item_with_an_expert_from_the_directory(world):
    campaign(world.est_a1)
    near = Actor.objects.create(name="CSIRT Hauts-de-France", kind=ActorKind.REGIONAL_CSIRT)
    near.regions.add(world.region_a)
    far = Actor.objects.create(name="CSIRT Normandie", kind=ActorKind.REGIONAL_CSIRT)
    far.regions.add(world.region_b)
    Actor.objects.create(name="CERT Santé", kind=ActorKind.CERT_SANTE)
    client = browser(world.editor)
    url = reverse("actions:create", args=[world.est_a1.pk])
    form = client.get(url).content.decode()
    assert "CSIRT Hauts-de-France" in form and "CERT Santé" in form
    assert "CSIRT Normandie" not in form
    data = {
        "title": "Exercice de crise 2026",
        "priority": "p2",
        "status": "in_progress",
        "progress": 30,
        "starts_on": "2026-02-01",
        "due_on": "2026-01-01",
        "expert": near.pk,
    }
    refused = client.post(url, data)
    assert "L'échéance précède le début de l'action." in refused.content.decode().replace(
        "&#x27;", "'"
    )
    assert not ActionItem.objects.exists()
    assert client.post(url, {**data, "due_on": "2026-05-31"}).status_code == 302
    created = ActionItem.objects.get()
    assert created.expert == near and created.needs_expert
    assert created.organisation == world.est_a1
    edit = reverse("actions:edit", args=[created.pk])
    far_pick = client.post(edit, {**data, "due_on": "2026-05-31", "expert": far.pk})
    assert far_pick.status_code == 200  # not an actor of this region
    client.post(edit, {**data, "due_on": "2026-05-31", "status": "done", "progress": 10})
    created.refresh_from_db()
    assert (created.status, created.progress) == ("done", 100)


def test_reader_and_other_tenant_on_the_edit_page(world):
    line = item(world.est_a1, "PSSI")
    url = reverse("actions:edit", args=[line.pk])
    assert browser(world.reader).post(url, {"title": "x", "priority": "p1"}).status_code == 403
    assert browser(world.outsider).get(url).status_code == 404
    line.refresh_from_db()
    assert line.title == "PSSI"


def test_plan_is_for_establishments_and_ghts_only(world):
    client = browser(world.editor)
    assert client.get(reverse("actions:plan", args=[world.site_a1.pk])).status_code == 404
    assert client.get(reverse("actions:plan", args=[world.ght_a.pk])).status_code == 200
    assert (
        browser(world.outsider).get(reverse("actions:plan", args=[world.est_a1.pk])).status_code
        == 404
    )


def test_timeline_draws_one_bar_per_dated_item_and_a_today_line(world):
    item(
        world.est_a1,
        "PSSI",
        starts_on=TODAY - dt.timedelta(days=60),
        due_on=TODAY - dt.timedelta(days=2),
        progress=50,
        status="in_progress",
    )
    item(world.est_a1, "Sauvegardes", starts_on=TODAY, due_on=TODAY + dt.timedelta(days=120))
    item(world.est_a1, "Audit AD", starts_on=None, due_on=None)
    body = (
        browser(world.reader)
        .get(reverse("actions:timeline", args=[world.est_a1.pk]))
        .content.decode()
    )
    assert body.count('data-testid="timeline-bar"') == 2
    assert 'data-testid="timeline-today"' in body
    assert "<title>PSSI" in body
    # Coordinates are plain numbers whatever the language (no decimal comma in SVG).
    svg = body.split("<svg")[1].split("</svg>")[0]
    assert 'x="' in svg and re.search(r'="[0-9.]*,[0-9]', svg) is None
    table = body.split('data-testid="timeline-table"')[1]
    assert "Audit AD" in table and "sans échéance" in table
    assert "PSSI" in table and "(en retard)" in table

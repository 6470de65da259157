"""Staff directory API: writes stay inside the caller's scope, with messages naming the field."""

from __future__ import annotations

import json

from hygie.core.models import AuditEvent
from hygie.orgs.models import StaffMember
from tests import factories
from tests.clients import browser

STAFF = "/api/v1/staff/"


def send(client, method, url, data):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


def body(w, **extra):
    return {
        "establishment": w.est_a1.pk,
        "first_name": "Lou",
        "last_name": "Nouvelle",
        "job_family": "soignant",
        **extra,
    }


def test_editor_creates_a_staff_member_with_site_and_service(world):
    response = send(
        browser(world.editor),
        "post",
        STAFF,
        body(world, site=world.site_a1.pk, service=world.service_a1.pk, email="lou@chu-a1.fr"),
    )
    assert response.status_code == 201, response.content
    created = StaffMember.objects.get(pk=response.json()["id"])
    assert (created.service, created.site, created.source) == (
        world.service_a1,
        world.site_a1,
        "manual",
    )


def test_a_service_of_another_establishment_is_refused_by_name(world):
    other_service = factories.org("service", world.est_a2, name="Pharmacie A2")
    response = send(browser(world.editor), "post", STAFF, body(world, service=other_service.pk))
    assert response.status_code == 400
    assert response.json() == {
        "service": ["« Pharmacie A2 » n'appartient pas à l'établissement CHU A1."]
    }
    assert not StaffMember.objects.filter(last_name="Nouvelle").exists()


def test_another_tenants_establishment_reads_as_unknown(world):
    response = send(
        browser(world.editor), "post", STAFF, body(world, establishment=world.est_b1.pk)
    )
    assert response.status_code == 400
    message = response.json()["establishment"][0]
    assert message == f"Organisation {world.est_b1.pk} inconnue ou hors de votre périmètre."
    # Same words for an id that does not exist at all: nothing to learn from the difference.
    missing = send(browser(world.editor), "post", STAFF, body(world, establishment=999999))
    assert missing.json()["establishment"][0] == (
        "Organisation 999999 inconnue ou hors de votre périmètre."
    )


def test_a_node_that_is_not_an_establishment_is_refused(world):
    response = send(browser(world.editor), "post", STAFF, body(world, establishment=world.ght_a.pk))
    assert response.status_code == 400 and "establishment" in response.json()


def test_duplicates_in_one_establishment_are_refused_by_field(world):
    client = browser(world.editor)
    response = send(client, "post", STAFF, body(world, email=world.staff_a1.email))
    assert response.status_code == 400
    assert response.json() == {"email": ["Un personnel de cet établissement a déjà cette adresse."]}
    # The same address in another establishment is another person record.
    assert (
        send(
            client,
            "post",
            STAFF,
            body(world, establishment=world.est_a2.pk, email=world.staff_a1.email),
        ).status_code
        == 201
    )
    # Editing a record keeps its own address without complaint.
    url = f"{STAFF}{world.staff_a1.pk}/"
    assert send(client, "patch", url, {"email": world.staff_a1.email}).status_code == 200


def test_moving_a_staff_member_out_of_scope_is_refused(world):
    url = f"{STAFF}{world.staff_a1.pk}/"
    response = send(browser(world.editor), "patch", url, {"establishment": world.est_b1.pk})
    assert response.status_code == 400
    assert StaffMember.objects.get(pk=world.staff_a1.pk).establishment == world.est_a1


def test_moving_keeps_site_and_service_consistent(world):
    url = f"{STAFF}{world.staff_a1.pk}/"
    response = send(browser(world.editor), "patch", url, {"establishment": world.est_a2.pk})
    assert response.status_code == 400
    assert set(response.json()) == {"site", "service"}


def test_a_dpo_may_edit_but_not_delete(world):
    dpo = factories.user("dpo-a", role="dpo", at=world.ght_a)
    client = browser(dpo)
    url = f"{STAFF}{world.staff_a1.pk}/"
    assert send(client, "patch", url, {"job_title": "Cadre"}).status_code == 200
    assert client.delete(url).status_code == 404
    assert StaffMember.objects.filter(pk=world.staff_a1.pk).exists()
    assert not AuditEvent.objects.filter(action="orgs.staff_deleted").exists()


def test_deleting_is_journalled_with_the_establishment(world):
    browser(world.editor).delete(f"{STAFF}{world.staff_a1.pk}/")
    event = AuditEvent.objects.get(action="orgs.staff_deleted")
    assert event.actor == world.editor
    assert event.organisation_id_at_event == world.est_a1.pk
    assert event.target_label == str(world.staff_a1)


def test_bad_filters_are_explained(world):
    client = browser(world.editor)
    response = client.get(STAFF, {"establishment": "abc"})
    assert response.status_code == 400
    assert "abc" in response.json()["establishment"]
    response = client.get("/api/v1/organisations/", {"kind": "hopital"})
    assert response.status_code == 400 and "kind" in response.json()


def test_filters_narrow_within_scope(world):
    client = browser(world.editor)
    staff_a2 = factories.staff(world.est_a2, last_name="Zebulon")
    assert [
        r["id"] for r in client.get(STAFF, {"establishment": world.est_a2.pk}).json()["results"]
    ] == [staff_a2.pk]
    assert client.get(STAFF, {"establishment": world.est_b1.pk}).json()["results"] == []
    assert [r["id"] for r in client.get(STAFF, {"q": "zebu"}).json()["results"]] == [staff_a2.pk]
    kinds = {
        r["kind"] for r in client.get("/api/v1/organisations/", {"kind": "site"}).json()["results"]
    }
    assert kinds == {"site"}


def test_session_writes_still_need_the_csrf_token(world):
    client = browser(world.editor)
    del client.defaults["HTTP_X_CSRFTOKEN"]
    response = send(client, "post", STAFF, body(world))
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]

"""xAPI statements: their shape, and delivery to a real HTTP learning record store."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from hygie.awareness import services, xapi
from hygie.awareness.models import (
    Assignment,
    Attendance,
    CampaignKind,
    LearningRecordStore,
    SessionParticipant,
    State,
    Statement,
    TrainingSession,
)
from tests.awareness.tracking_data import campaign, module, set_states

pytestmark = pytest.mark.django_db

USER, PASSWORD = "hygie-chu-a1", "s3cret-lrs"


class Lrs:
    """A minimal LRS: POST/GET /xapi/statements, checks the version header and Basic auth."""

    def __init__(self):
        self.statements: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.fail_next: list[int] = []  # statuses to answer before working normally
        self.store_then_fail = False  # keeps the batch but answers 500 (a lost answer)
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _refuse(self) -> bool:
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("X-Experience-API-Version") != "1.0.3":
                    self._answer(400, {"error": "version"})
                elif self.headers.get("Authorization") != expected:
                    self._answer(401, {"error": "auth"})
                elif urlsplit(self.path).path != "/xapi/statements":
                    self._answer(404, {})
                else:
                    return False
                return True

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                lrs.requests.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                if self._refuse():
                    return
                if lrs.fail_next:
                    self._answer(lrs.fail_next.pop(0), {"error": "unavailable"})
                    return
                if any(s["id"] in lrs.statements for s in body):
                    self._answer(409, {"error": "conflict"})
                    return
                for statement in body:
                    lrs.statements[statement["id"]] = statement
                if lrs.store_then_fail:
                    lrs.store_then_fail = False
                    self._answer(500, {"error": "lost answer"})
                    return
                self._answer(200, [s["id"] for s in body])

            def do_GET(self):
                if self._refuse():
                    return
                wanted = parse_qs(urlsplit(self.path).query).get("statementId", [""])[0]
                if wanted in lrs.statements:
                    self._answer(200, lrs.statements[wanted])
                else:
                    self._answer(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/xapi/"

    def get(self, statement_id: str) -> dict:
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 — the test's own server
            f"{self.endpoint}statements?statementId={statement_id}",
            headers={
                "X-Experience-API-Version": "1.0.3",
                "Authorization": "Basic "
                + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
            },
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return json.loads(answer.read())

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lrs():
    server = Lrs()
    yield server
    server.stop()


@pytest.fixture
def passed(world):
    """world.staff_a1 passed "Repérer l'hameçonnage" with 90 %."""
    mod = module("reperer-hameconnage", title="Repérer l'hameçonnage", version=3)
    annual = campaign(world.est_a1, mod, kind=CampaignKind.ANNUAL, due_date="2030-01-01")
    services.open_campaign(annual)
    assignment = Assignment.objects.get(staff=world.staff_a1)
    set_states([assignment], State.PASSED, score=90)
    assignment.refresh_from_db()
    return assignment


def test_a_passed_module_gives_an_xapi_statement_without_any_name(world, passed):
    queued = services.record_statement(passed, "passed")
    body = queued.statement
    assert body["id"] == str(queued.id)
    base = settings.BASE_URL.rstrip("/")
    assert body["actor"]["account"]["homePage"] == base + "/"
    pseudonym = body["actor"]["account"]["name"]
    assert len(pseudonym) == 32
    text = json.dumps(body)
    for personal in (world.staff_a1.email, world.staff_a1.last_name, world.staff_a1.first_name):
        assert personal not in text
    assert body["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert body["object"]["id"] == f"{base}/xapi/activities/module/reperer-hameconnage"
    assert body["object"]["definition"]["name"] == {"fr-FR": "Repérer l'hameçonnage"}
    assert body["result"] == {
        "score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100},
        "success": True,
        "completion": True,
    }
    assert queued.establishment == world.est_a1
    again = services.record_statement(passed, "completed").statement
    assert again["actor"]["account"]["name"] == pseudonym, "the same person, the same pseudonym"
    other = Assignment(staff_id=world.staff_b1.pk, module=passed.module, establishment=world.est_b1)
    assert services.record_statement(other, "failed").statement["actor"] != body["actor"]
    with pytest.raises(ValueError):
        services.record_statement(passed, "liked")


def test_an_attended_session_gives_an_attended_statement(world):
    session = TrainingSession.objects.create(
        organisation=world.est_a1,
        title="Atelier hameçonnage",
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    seat = SessionParticipant.objects.create(
        session=session, staff=world.staff_a1, attendance=Attendance.PRESENT
    )
    body = services.record_statement(seat, "attended").statement
    assert body["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attended"
    assert body["object"]["id"].endswith(f"/xapi/activities/session/{session.uid}")
    assert body["object"]["definition"]["name"] == {"fr-FR": "Atelier hameçonnage"}


def _store(world, endpoint, password=PASSWORD):
    return LearningRecordStore.objects.create(
        organisation=world.ght_a, endpoint=endpoint, username=USER, password=password
    )


def test_pending_statements_reach_the_lrs_in_batches_with_their_outbox_ids(world, passed, lrs):
    _store(world, lrs.endpoint)
    queued = [services.record_statement(passed, "completed") for _ in range(120)]
    services.record_statement(
        Assignment(staff=world.staff_b1, module=passed.module, establishment=world.est_b1),
        "completed",
    )  # another GHT's: not for this LRS
    assert xapi.push_pending() == 120
    assert [len(r["body"]) for r in lrs.requests] == [50, 50, 20]
    assert lrs.requests[0]["headers"]["x-experience-api-version"] == "1.0.3"
    assert set(lrs.statements) == {str(s.id) for s in queued}
    assert lrs.get(str(queued[0].id))["verb"]["id"].endswith("/completed")
    assert Statement.objects.filter(sent_at__isnull=True).count() == 1
    assert xapi.push_pending() == 0, "nothing sent twice"


def test_a_failing_lrs_is_retried_later_and_a_lost_answer_stores_nothing_twice(
    world, passed, lrs, client_for
):
    store = _store(world, lrs.endpoint)
    statement = services.record_statement(passed, "passed")
    lrs.fail_next = [503]
    now = timezone.now()
    assert xapi.push_pending(now) == 0
    statement.refresh_from_db()
    assert statement.attempts == 1 and statement.sent_at is None
    assert statement.next_attempt_at == now + dt.timedelta(minutes=5)
    store.refresh_from_db()
    assert "HTTP 503" in store.last_error
    page = client_for(world.editor).get(reverse("awareness:xapi_settings", args=[world.ght_a.pk]))
    assert "HTTP 503" in page.content.decode(), "the RSSI sees why nothing went"
    assert xapi.push_pending(now + dt.timedelta(minutes=1)) == 0, "not before the back-off"
    assert len(lrs.requests) == 1
    lrs.store_then_fail = True  # stored by the LRS, but the answer is lost
    assert xapi.push_pending(now + dt.timedelta(minutes=6)) == 0
    statement.refresh_from_db()
    assert statement.attempts == 2
    assert statement.next_attempt_at == now + dt.timedelta(minutes=16)
    assert xapi.push_pending(now + dt.timedelta(minutes=20)) == 1, "409: the LRS has it"
    assert list(lrs.statements) == [str(statement.id)]
    statement.refresh_from_db()
    assert statement.sent_at and statement.last_error == ""


def test_wrong_credentials_are_reported_not_retried_in_a_loop(world, passed, lrs):
    store = _store(world, lrs.endpoint, password="wrong")
    services.record_statement(passed, "passed")
    assert xapi.push_pending() == 0
    store.refresh_from_db()
    assert store.last_error.startswith("HTTP 401")
    assert xapi.backoff(1) == dt.timedelta(minutes=5)
    assert xapi.backoff(10) == dt.timedelta(hours=12)


def test_an_establishment_with_its_own_lrs_sends_there_not_to_its_ghts(world, passed, lrs):
    _store(world, "http://127.0.0.1:9/never/")  # the GHT's LRS, unreachable
    LearningRecordStore.objects.create(
        organisation=world.est_a1, endpoint=lrs.endpoint, username=USER, password=PASSWORD
    )
    services.record_statement(passed, "passed")
    assert xapi.push_pending() == 1 and len(lrs.statements) == 1


def test_the_statements_export_is_the_same_json_as_sent(world, passed, client_for):
    queued = services.record_statement(passed, "passed")
    response = client_for(world.reader).get(
        reverse("awareness:statements_json", args=[world.ght_a.pk])
    )
    exported = json.loads(b"".join(response.streaming_content))
    assert exported == [queued.statement]
    assert response["Content-Disposition"].startswith("attachment")

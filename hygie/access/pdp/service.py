"""Deciding a proxy's question over HTTP: authenticate the proxy, build the request, decide,
apply the application's mode, log.

`handle(kind, slug, http_inputs)` is what both the Django views (enforce_views.py) and the
dedicated process (`hygie pdp`, pdp/server.py) call: it returns (status, headers, body) and
never touches Django's request machinery, so the decision path has no middleware.

Answers — nginx `auth_request`: 200 allow, 403 deny, 401 no identity (empty bodies); Envoy
`ext_authz`: 200 allow, 403 deny / 401 with a short text body. Unknown application 404, bad
proxy secret 403 (journalled, at most once a minute per application). Decision headers go
back to the proxy (and through it to the application): X-Hygie-Decision (allow/deny),
X-Hygie-Enforced (false in shadow mode), X-Hygie-Policies, X-Hygie-User, X-Hygie-Break-Glass.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import uuid

from django.utils import timezone

from hygie.access.pdp import context as ctx
from hygie.access.pdp import log
from hygie.access.pdp.engine import Engine, Entity, EntityRef, PolicyError, Result

logger = logging.getLogger("hygie.access")

NGINX, ENVOY = "nginx", "envoy"
_engines: dict = {}
_engines_lock = threading.Lock()
_refusals: dict = {}


class AppEntry:
    """What the hot path needs of an application, with its secrets decrypted once."""

    def __init__(self, application):
        self.application = application
        self.secret = (application.proxy_secret or "").encode()


def application_entry(slug: str) -> AppEntry | None:
    def compute():
        from hygie.access.models import ProtectedApplication

        app = (
            ProtectedApplication.objects.select_related("organisation", "active_policy")
            .filter(slug=slug)
            .first()
        )
        return AppEntry(app) if app is not None else None

    return ctx.cached(("app", slug), compute)


def engine_for(application) -> tuple[Engine | None, int | None]:
    version = application.active_policy
    if version is None:
        return None, None
    key = (application.pk, version.pk)
    engine = _engines.get(key)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                try:
                    engine = Engine(version.text)
                except PolicyError:
                    logger.exception("active policy %s does not compile", version)
                    return None, version.number
                _engines[key] = engine
    return engine, version.number


def decide(application, request) -> tuple[Result, int | None]:
    engine, number = engine_for(application)
    if engine is None:
        return Result(allowed=False, errors=("no active policy",)), number
    try:
        return engine.decide(request), number
    except Exception as error:  # noqa: BLE001 - an engine failure is a denial, logged
        logger.exception("decision failed")
        return Result(allowed=False, errors=(f"engine error: {error}",)), number


def _entity_ref(entity) -> str:
    return f'{entity.type}::"{entity.id}"'[:200]


def decide_http(application, http_inputs) -> tuple[int, dict, Result | None]:
    """(status, headers, result) for one proxied request; logs the decision."""
    from hygie.access.models import Mode

    started = time.perf_counter_ns()
    now = http_inputs.now or timezone.now()
    http_inputs.now = now
    shadow = application.mode == Mode.SHADOW
    request_id = http_inputs.header("X-Request-Id")[:64] or uuid.uuid4().hex
    try:
        request = ctx.build_request(application, http_inputs)
    except ctx.IdentityError as error:
        micros = (time.perf_counter_ns() - started) // 1000
        log.record(
            application_id=application.pk,
            at=now,
            request_id=request_id,
            principal="",
            action=http_inputs.method,
            resource=http_inputs.path.split("?", 1)[0][:200],
            allowed=False,
            enforced=not shadow,
            errors=[str(error)],
            inputs={"zone": ctx.zone_of(application, ctx.client_address(http_inputs))},
            micros=micros,
        )
        headers = {"X-Hygie-Decision": "deny", "X-Hygie-Enforced": _bool(not shadow)}
        if shadow:
            return 200, headers, None
        headers["WWW-Authenticate"] = 'Bearer realm="hygie"'
        return 401, headers, None
    result, version = decide(application, request)
    micros = (time.perf_counter_ns() - started) // 1000
    break_glass = bool(request.context.get("break_glass")) and result.allowed
    log.record(
        application_id=application.pk,
        at=now,
        request_id=request_id,
        principal=request.principal.id[:200],
        action=request.action,
        resource=_entity_ref(request.resource),
        allowed=result.allowed,
        enforced=not shadow,
        break_glass=break_glass,
        policies=list(result.policies),
        inputs={
            "principal": request.principal.attrs,
            "units": [p[1] for p in request.principal.parents],
            "resource": {k: _plain(v) for k, v in request.resource.attrs.items()},
            "context": request.context,
            "address": ctx.client_address(http_inputs),
            "method": http_inputs.method,
            "path": http_inputs.path[:300],
        },
        errors=list(result.errors),
        policy_version=version,
        micros=micros,
    )
    headers = {
        "X-Hygie-Decision": "allow" if result.allowed else "deny",
        "X-Hygie-Enforced": _bool(not shadow),
        "X-Hygie-Policies": ",".join(result.policies),
        "X-Hygie-User": request.principal.id,
        "X-Hygie-Request-Id": request_id,
    }
    if break_glass:
        headers["X-Hygie-Break-Glass"] = "1"
    if result.allowed or shadow:
        return 200, headers, result
    return 403, headers, result


def _plain(value):
    if isinstance(value, EntityRef | Entity):
        return _entity_ref(value)
    return list(value) if isinstance(value, tuple) else value


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _journal_refusal(application, why: str, peer: str) -> None:
    minute = int(time.time() // 60)
    key = (application.pk, minute)
    if _refusals.get(key):
        _refusals[key] += 1
        return
    _refusals.clear()
    _refusals[key] = 1
    from hygie.core.audit import record_event

    try:
        record_event(
            "access.proxy_refused",
            target=application,
            organisation=application.organisation,
            details={"why": why, "peer": peer},
        )
    except Exception:  # noqa: BLE001 - never let the journal break the answer
        logger.exception("could not journal a refused proxy")


def authenticate(slug: str, http_inputs) -> tuple[AppEntry | None, int]:
    """(entry, 0) when the proxy is known and its secret right, else (None, status)."""
    entry = application_entry(slug)
    if entry is None:
        return None, 404
    given = http_inputs.header(ctx.PROXY_SECRET_HEADER).encode()
    if not entry.secret or not hmac.compare_digest(given, entry.secret):
        _journal_refusal(
            entry.application, "missing secret" if not given else "bad secret", http_inputs.peer
        )
        return None, 403
    return entry, 0


BODIES = {200: "", 401: "identity required\n", 403: "denied\n", 404: "unknown application\n"}


def handle(kind: str, slug: str, http_inputs) -> tuple[int, dict, bytes]:
    """The whole answer to a proxy: (status, headers, body)."""
    entry, status = authenticate(slug, http_inputs)
    if entry is None:
        body = BODIES[status] if kind == ENVOY else ""
        return status, {"X-Hygie-Decision": "deny"}, body.encode()
    status, headers, _result = decide_http(entry.application, http_inputs)
    body = BODIES.get(status, "") if kind == ENVOY else ""
    return status, headers, body.encode()

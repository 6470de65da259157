"""From an HTTP request seen by the proxy to the decision point's `Request`.

`build_request(application, http_inputs)` gathers every input of a decision: the identity (the
identity provider's headers, or a signed JWT), the person's attributes from the staff directory
(`StaffMember`) and units (service + current care-team memberships), the route (action and
resource), the patient and the patient's units (current stays), the care relationship, the
device (asset inventory), the network zone of the client address, the local time and an active
break-the-glass.

What rarely changes (applications and routes, staff, zones, inventory, care relations) is kept in
memory per process: every cache entry is dropped when a row of its model is saved or deleted in
this process (signals bump `GENERATION`) and, for changes made by another process, after
`CACHE_SECONDS`. Break-the-glass is read from the database on every patient request: a grant
must take effect at once, whichever process wrote it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import re
import threading
import time
from dataclasses import dataclass, field

import jwt
from django.conf import settings
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from hygie.access.pdp.engine import Entity, EntityRef, Request

logger = logging.getLogger("hygie.access")

CACHE_SECONDS = float(settings.PDP_CACHE_SECONDS)
TRUE_VALUES = {"1", "true", "yes", "oui", "on", "mfa"}
# RFC 8176 authentication method references that are a factor beyond the password.
STRONG_AMR = {"mfa", "otp", "hwk", "swk", "fpt", "face", "iris", "sms", "tel", "sc"}

PROXY_SECRET_HEADER = "X-Hygie-Proxy-Secret"  # noqa: S105 - a header name
METHOD_HEADER = "X-Original-Method"
URI_HEADER = "X-Original-URI"
DEVICE_HEADER = "X-Device-Id"
ROLE_HEADER = "X-Remote-Role"


class IdentityError(Exception):
    """No identity, or a token that does not verify: the proxy gets a 401."""


@dataclass
class HttpInputs:
    """What the proxy tells about the original request (header names are case-insensitive)."""

    method: str
    path: str  # the original path, query string included or not
    headers: dict  # lower-case names
    peer: str = ""  # the address the decision request came from (the proxy)
    now: dt.datetime | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @classmethod
    def from_headers(cls, headers, *, method=None, path=None, peer="", now=None):
        lowered = {k.lower(): v for k, v in headers.items()}
        return cls(
            method=(method or lowered.get(METHOD_HEADER.lower()) or "GET").upper(),
            path=path or lowered.get(URI_HEADER.lower()) or "/",
            headers=lowered,
            peer=peer,
            now=now,
        )


@dataclass
class Identity:
    principal: str
    mfa: bool
    role: str = ""
    admin: bool | None = None
    claims: dict = field(default_factory=dict)


# Caches ------------------------------------------------------------------------------------------
GENERATION = [0]
_lock = threading.Lock()
_cache: dict = {}
_flights: dict = {}  # key -> Event set when the thread computing it is done
FLIGHT_WAIT_SECONDS = 10.0


def invalidate(*_args, **_kwargs) -> None:
    with _lock:
        GENERATION[0] += 1
        _cache.clear()


def cached(key, compute, ttl: float | None = None):
    """The value of `compute()` for `key`, kept `ttl` seconds (CACHE_SECONDS by default).

    Under load many request threads find the same entry missing or expired at once; computing
    it in every one of them (loading a day's care relations thousands of times at once) stalls
    the process for seconds. So one thread computes while the others wait for its result, and
    an entry that expired less than `ttl` ago is still answered while one background
    thread refreshes it. An invalidation (a policy or entity saved in this process) empties
    the cache: nothing from before it is served afterwards.
    """
    ttl = CACHE_SECONDS if ttl is None else ttl
    now = time.monotonic()
    entry = _cache.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    with _lock:
        entry = _cache.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        stale = entry is not None and entry[0] + ttl > now
        flight = _flights.get(key)
        owner = flight is None
        if owner:
            flight = _flights[key] = threading.Event()
    if stale:
        if owner:
            threading.Thread(
                target=_refresh,
                args=(key, compute, ttl, flight),
                name="hygie-pdp-refresh",
                daemon=True,
            ).start()
        return entry[1]
    if not owner:
        flight.wait(FLIGHT_WAIT_SECONDS)
        entry = _cache.get(key)
        if entry is not None:
            return entry[1]
        return compute()  # the other thread failed, or its value was invalidated meanwhile
    try:
        return _compute_and_store(key, compute, ttl)
    finally:
        _land(key, flight)


def _compute_and_store(key, compute, ttl):
    generation = GENERATION[0]
    value = compute()
    with _lock:
        if GENERATION[0] == generation:
            _cache[key] = (time.monotonic() + ttl, value)
    return value


def _land(key, flight) -> None:
    with _lock:
        if _flights.get(key) is flight:
            del _flights[key]
    flight.set()


def _refresh(key, compute, ttl, flight) -> None:
    from django.db import connection

    try:
        _compute_and_store(key, compute, ttl)
    except Exception:  # noqa: BLE001 - the next request after expiry computes it itself
        logger.exception("decision cache: refreshing %s failed", key[0])
    finally:
        _land(key, flight)
        connection.close()  # this thread's own database connection


def connect_signals() -> None:
    from hygie.access.models import (
        BreakGlass,
        CareRelation,
        NetworkZone,
        PersonRecord,
        PolicyVersion,
        ProtectedApplication,
        Route,
    )
    from hygie.orgs.models import Organisation, StaffMember
    from hygie.posture.models import Asset, EolRelease

    for model in (
        BreakGlass,
        CareRelation,
        NetworkZone,
        PersonRecord,
        PolicyVersion,
        ProtectedApplication,
        Route,
        StaffMember,
        Organisation,
        Asset,
        EolRelease,
    ):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"pdp-{model.__name__}-save")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"pdp-{model.__name__}-del")


# Identity ----------------------------------------------------------------------------------------
def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_VALUES


def token_algorithms(key: str) -> list[str]:
    if "BEGIN" in key:
        return ["RS256", "ES256"]
    return ["HS256"]


def identify(application, inputs: HttpInputs) -> Identity:
    from hygie.access.models import IdentitySource

    if application.identity_source == IdentitySource.TOKEN:
        authorization = inputs.header("Authorization")
        if not authorization.lower().startswith("bearer "):
            raise IdentityError("no bearer token")
        token = authorization[7:].strip()
        options = {"require": ["exp"]}
        kwargs = {}
        if application.token_audience:
            kwargs["audience"] = application.token_audience
            options["require"].append("aud")
        try:
            claims = jwt.decode(
                token,
                application.token_key,
                algorithms=token_algorithms(application.token_key),
                options=options,
                leeway=30,
                **kwargs,
            )
        except jwt.PyJWTError as error:
            raise IdentityError(f"invalid token: {error}") from None
        principal = str(claims.get("preferred_username") or claims.get("sub") or "").strip()
        if not principal:
            raise IdentityError("the token names nobody (no sub)")
        amr = claims.get("amr") or []
        amr = {str(a).lower() for a in amr} if isinstance(amr, list) else set()
        mfa = _truthy(claims.get("mfa", False)) or "mfa" in amr or bool(amr & STRONG_AMR)
        admin = claims.get("admin")
        return Identity(
            principal=principal[:200],
            mfa=mfa,
            role=str(claims.get("role", "")),
            admin=_truthy(admin) if admin is not None else None,
            claims=claims,
        )
    principal = inputs.header(application.user_header).strip()
    if not principal:
        raise IdentityError(f"no {application.user_header} header")
    return Identity(
        principal=principal[:200],
        mfa=_truthy(inputs.header(application.mfa_header, "")),
        role=inputs.header(ROLE_HEADER).strip(),
    )


# Directory ---------------------------------------------------------------------------------------
def _establishment_ids(application) -> list[int]:
    def compute():
        from hygie.orgs.models import Kind, Organisation

        org = application.organisation
        if org.kind == Kind.ESTABLISHMENT:
            return [org.pk]
        return list(
            Organisation.objects.filter(
                path__startswith=org.path, kind=Kind.ESTABLISHMENT
            ).values_list("pk", flat=True)
        )

    return cached(("establishments", application.organisation_id), compute)


def _staff_snapshot(application) -> dict:
    """Every active staff member of the application's establishments, by external id and
    e-mail (lower case): one query, then dictionary look-ups."""

    def compute():
        from hygie.orgs.models import StaffMember

        found = {}
        rows = (
            StaffMember.objects.filter(
                establishment_id__in=_establishment_ids(application), active=True
            )
            .order_by("-pk")
            .values_list("external_id", "email", "service__name", "job_family", "job_title")
        )
        for external_id, email, service, job_family, job_title in rows:
            attrs = {
                "service": service or "",
                "job_family": job_family,
                "job_title": job_title,
                "external_id": external_id,
                "email": email,
            }
            for key in (external_id, email):
                if key:
                    found[key.lower()] = attrs
        return found

    return cached(("staff", application.organisation_id), compute)


def staff_attributes(application, principal: str) -> dict | None:
    return _staff_snapshot(application).get(principal.lower())


@dataclass
class Relations:
    """The care relations of today: stays by patient, team memberships and appointments or
    orders by user — each a list of (other side, start, end)."""

    stays: dict = field(default_factory=dict)  # patient -> [(unit, start, end)]
    teams: dict = field(default_factory=dict)  # user -> [(unit, start, end)]
    contacts: dict = field(default_factory=dict)  # user -> [(patient, start, end)]


def relations_of_day(application, now) -> Relations:
    """One query per organisation and day (and after any change of a care relation)."""
    day = timezone.localtime(now).date()

    def compute():
        from hygie.access.models import CareRelation

        local = timezone.localtime(now)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        rows = (
            CareRelation.objects.filter(
                organisation__path__startswith=application.organisation.path,
                starts_at__lt=day_start + dt.timedelta(days=1),
            )
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gte=day_start))
            .values_list("kind", "patient_id", "user_id", "unit", "starts_at", "ends_at")
        )
        found = Relations()
        for kind, patient, user, unit, start, end in rows.iterator(chunk_size=5000):
            if kind == "stay":
                found.stays.setdefault(patient, []).append((unit, start, end))
            elif kind == "team":
                found.teams.setdefault(user, []).append((unit, start, end))
            else:
                found.contacts.setdefault(user, []).append((patient, start, end))
        return found

    return cached(("relations", application.organisation_id, day), compute)


def _now_in(rows, now) -> list:
    return [r[0] for r in rows if r[1] <= now and (r[2] is None or r[2] >= now)]


def patient_vip(application, patient_id: str) -> bool:
    def compute():
        from hygie.access.models import PersonRecord

        return set(
            PersonRecord.objects.filter(
                organisation__path__startswith=application.organisation.path,
                kind=PersonRecord.Kind.PATIENT,
                vip=True,
            ).values_list("person_id", flat=True)
        )

    return patient_id in cached(("vip", application.organisation_id), compute)


# Device and network ------------------------------------------------------------------------------
def device_posture(application, device: str, today: dt.date) -> tuple[bool, bool]:
    """(managed, compliant): known to the inventory and enabled; not past its end of support."""
    if not device:
        return False, False

    def compute():
        from hygie.posture.models import Asset

        asset = (
            Asset.objects.filter(
                organisation__path__startswith=application.organisation.path, name__iexact=device
            )
            .select_related("eol")
            .first()
        )
        if asset is None:
            return None
        ends = None
        if asset.eol_id:
            ends = asset.eol.eol_on or asset.eol.support_ends_on
        return asset.enabled, ends

    found = cached(("device", application.organisation_id, device.lower()), compute)
    if found is None or not found[0]:
        return False, False
    return True, found[1] is None or found[1] >= today


def _zones(application) -> list[tuple]:
    def compute():
        from hygie.access.models import NetworkZone

        org = application.organisation
        ancestors = [p for p in org.path.split("/") if p]
        rows = NetworkZone.objects.filter(
            Q(organisation__path__startswith=org.path) | Q(organisation__pk__in=ancestors)
        ).values_list("cidr", "zone")
        zones = []
        for cidr, zone in rows:
            try:
                zones.append((ipaddress.ip_network(cidr, strict=False), zone))
            except ValueError:
                continue
        # The most specific range wins.
        zones.sort(key=lambda z: z[0].prefixlen, reverse=True)
        return zones

    return cached(("zones", application.organisation_id), compute)


def client_address(inputs: HttpInputs) -> str:
    """The browser's address as the authenticated proxy tells it (X-Real-IP, else the first
    X-Forwarded-For hop); the proxy's own address when it tells nothing."""
    real = inputs.header("X-Real-IP").strip()
    if not real:
        forwarded = inputs.header("X-Forwarded-For")
        real = forwarded.split(",")[0].strip() if forwarded else ""
    return real or inputs.peer


def zone_of(application, address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "internet"
    for network, zone in _zones(application):
        if ip.version == network.version and ip in network:
            return zone
    return "internet"


# Routes ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledRoute:
    methods: frozenset
    regex: re.Pattern
    action: str
    resource_type: str
    sensitivity: int | None


_CAPTURE = re.compile(r"<(\w+)>")


def compile_pattern(pattern: str) -> re.Pattern:
    """`/dossiers/<patient>/` → a regex; a pattern ending with "/" also covers what is below."""
    parts, last = [], 0
    for match in _CAPTURE.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/?#]+)")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    tail = ".*" if pattern.endswith("/") else "/?"
    return re.compile("".join(parts) + tail + r"\Z", re.DOTALL)


def routes_of(application) -> list[CompiledRoute]:
    def compute():
        compiled = []
        for route in application.routes.all():
            methods = {m.strip().upper() for m in route.methods.split(",") if m.strip()}
            compiled.append(
                CompiledRoute(
                    frozenset(methods),
                    compile_pattern(route.pattern),
                    route.action,
                    route.resource_type or "Record",
                    route.sensitivity,
                )
            )
        return compiled

    return cached(("routes", application.pk), compute)


def match_route(application, method: str, path: str):
    """(action, resource type, sensitivity, captures) of the first matching route; an unmapped
    path is a Page read (GET/HEAD) or written (anything else) at the default sensitivity."""
    bare = path.split("?", 1)[0].split("#", 1)[0] or "/"
    for route in routes_of(application):
        if route.methods and "*" not in route.methods and method not in route.methods:
            continue
        match = route.regex.match(bare)
        if match:
            sensitivity = route.sensitivity
            if sensitivity is None:
                sensitivity = application.default_sensitivity
            return route.action, route.resource_type, sensitivity, match.groupdict(), bare
    action = "read" if method in ("GET", "HEAD", "OPTIONS") else "write"
    return action, "Page", application.default_sensitivity, {}, bare


# The request -------------------------------------------------------------------------------------
BREAK_GLASS_SECONDS = 1.0


def active_break_glass(application, principal: str, patient_id: str, now) -> bool:
    """Whether `principal` has an open glass on the patient. The application's open glasses are
    re-read about once a second (and at once after a grant in this process): a grant made by
    another process takes effect within a second or two. A window is always checked against
    the request's time, so an expired glass never opens anything."""

    def compute():
        from hygie.access.models import BreakGlass

        rows = BreakGlass.objects.filter(
            application_id=application.pk, expires_at__gt=now
        ).values_list("principal", "resource", "started_at", "expires_at")
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    windows = cached(("glass", application.pk), compute, ttl=BREAK_GLASS_SECONDS)
    window = windows.get((principal, patient_resource(patient_id)))
    return window is not None and window[0] <= now < window[1]


def patient_resource(patient_id: str) -> str:
    return f'Patient::"{patient_id}"'


def is_admin(identity: Identity, staff: dict | None) -> bool:
    from hygie.orgs.models import JobFamily

    if identity.admin is not None:
        return identity.admin
    if identity.role.lower() in {"admin", "administrateur", "administrator"}:
        return True
    return bool(staff and staff["job_family"] == JobFamily.IT)


def build_request(application, http_inputs: HttpInputs, *, identity: Identity | None = None):
    """The decision request for one HTTP request; raises IdentityError without an identity."""
    now = http_inputs.now or timezone.now()
    identity = identity or identify(application, http_inputs)
    principal = identity.principal
    staff = staff_attributes(application, principal)

    ids = {principal, (staff or {}).get("external_id") or ""} - {""}
    relations = relations_of_day(application, now)
    units = set()
    if staff and staff["service"]:
        units.add(staff["service"])
    for user_id in ids:
        units.update(u for u in _now_in(relations.teams.get(user_id, ()), now) if u)

    action, resource_type, sensitivity, captures, bare = match_route(
        application, http_inputs.method, http_inputs.path
    )
    patient_id = captures.get("patient", "")
    entities = [Entity("Unit", unit) for unit in sorted(units)]
    care_relationship = False
    break_glass = False
    if patient_id:
        patient_units = sorted({u for u in _now_in(relations.stays.get(patient_id, ()), now) if u})
        entities += [Entity("Unit", u) for u in patient_units if u not in units]
        patient = Entity(
            "Patient",
            patient_id,
            {"vip": patient_vip(application, patient_id)},
            tuple(("Unit", u) for u in patient_units),
        )
        entities.append(patient)
        care_relationship = bool(units & set(patient_units)) or any(
            row[0] == patient_id for user_id in ids for row in relations.contacts.get(user_id, ())
        )
        break_glass = active_break_glass(application, principal, patient_id, now)
        resource = Entity(
            resource_type,
            f"{patient_id}:{bare}" if resource_type != "Patient" else patient_id,
            # A reference to the patient entity (a bare tuple would be a Cedar set, and every
            # policy reading `resource.patient.…` would fail on it and be skipped).
            {"patient": EntityRef("Patient", patient_id), "sensitivity": sensitivity}
            if resource_type == "Record"
            else {"sensitivity": sensitivity},
        )
    else:
        resource = Entity(resource_type, bare, {"sensitivity": sensitivity})
    user = Entity(
        "User",
        principal,
        {
            "role": identity.role or (staff or {}).get("job_title") or "",
            "job_family": (staff or {}).get("job_family", ""),
            "service": (staff or {}).get("service", ""),
            "admin": is_admin(identity, staff),
        },
        tuple(("Unit", u) for u in sorted(units)),
    )
    local = timezone.localtime(now)
    managed, compliant = device_posture(
        application, http_inputs.header(DEVICE_HEADER).strip(), local.date()
    )
    context = {
        "mfa": identity.mfa,
        "zone": zone_of(application, client_address(http_inputs)),
        "hour": local.hour,
        "weekday": local.isoweekday(),
        "device_managed": managed,
        "device_compliant": compliant,
        "break_glass": break_glass,
        "care_relationship": care_relationship,
    }
    return Request(user, action, resource, context, tuple(entities))

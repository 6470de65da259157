"""Demo Zero Trust data of the demo CHU, deterministic in content, dated relative to today.

What the RSSI and the DPO of the demo GHT find under "Accès Zero Trust":
- the CHU's electronic patient record behind the decision point, in shadow mode, with the
  starter policy active and a first version kept in the history, its routes, the CHU's network
  zones and three test cases (all passing);
- a week of decisions in the log, produced by the real decision path (identity, care
  relationship, device from the posture inventory, network zone, MFA) for nurses and doctors
  of the CHU: their own unit's patients, other units' patients, from the VPN without MFA,
  an administrator from the internet;
- two break-the-glass accesses, one waiting for its review;
- an access review of the last four weeks of a synthetic EHR log (about 30,000 events, with
  planted misuse) and its queue of cases for the DPO.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from hygie.access import policies
from hygie.access.models import (
    BreakGlass,
    CareRelation,
    LogKind,
    Mode,
    NetworkZone,
    PolicyTest,
    ProtectedApplication,
    Route,
)
from hygie.access.pdp import context as ctx
from hygie.access.pdp import log, service
from hygie.access.review import engine as review_engine
from hygie.access.review import ingest, synthetic
from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember

SEED = 59
SLUG = "dpi-valmont"
ZONES = [
    ("10.10.0.0/16", "care", "Réseau de soins"),
    ("10.20.0.0/16", "admin", "Réseau administratif"),
    ("10.99.0.0/16", "vpn", "VPN des nomades et astreintes"),
]
FIRST_POLICY = """\
// Première version : le personnel soignant lit les dossiers de son unité.
@id("soin-unite")
permit (principal, action == Action::"read", resource is Record)
when { context.care_relationship };
"""
REVIEW_EVENTS = 30_000
# (position, path, Cedar action, resource type, sensitivity)
ROUTES = [(1, "/dossiers/<patient>/", "read", "Record", 3), (2, "/admin/", "admin", "Page", 4)]


def _request_document(service_name: str, *, unit: str, zone: str, mfa: bool, admin=False):
    return {
        "principal": {
            "id": "demo",
            "role": "infirmier" if not admin else "administrateur",
            "job_family": JobFamily.CARE.value if not admin else JobFamily.IT.value,
            "service": service_name,
            "admin": admin,
            "units": [service_name] if service_name else [],
        },
        "action": "read",
        "resource": {"type": "Record", "id": "P-DEMO", "sensitivity": 3, "unit": unit},
        "context": {
            "mfa": mfa,
            "zone": zone,
            "hour": 10,
            "weekday": 2,
            "device_managed": True,
            "device_compliant": True,
            "care_relationship": unit == service_name,
        },
    }


def _application(chu: Organisation, rssi) -> ProtectedApplication:
    for cidr, zone, label in ZONES:
        NetworkZone.objects.create(organisation=chu, cidr=cidr, zone=zone, label=label)
    app = ProtectedApplication.objects.create(
        organisation=chu,
        name="Dossier patient informatisé",
        slug=SLUG,
        upstream="http://10.10.1.20:8080",
        mode=Mode.SHADOW,
        proxy_secret=policies.generate_secret(),
    )
    policies.save_version(app, FIRST_POLICY, user=rssi, comment="Première version")
    policies.save_version(
        app,
        policies.starter_policy(),
        user=rssi,
        comment="Politique de départ : MFA hors réseau de soins, postes gérés, bris de glace",
    )
    for position, pattern, action, resource_type, sensitivity in ROUTES:
        Route.objects.create(
            application=app,
            position=position,
            pattern=pattern,
            action=action,
            resource_type=resource_type,
            sensitivity=sensitivity,
        )
    cardio = "Cardiologie"
    PolicyTest.objects.create(
        application=app,
        name="Infirmière de cardiologie, patient de son unité",
        request=_request_document(cardio, unit=cardio, zone="care", mfa=False),
        expected="allow",
    )
    PolicyTest.objects.create(
        application=app,
        name="Infirmière de cardiologie, patient d'une autre unité",
        request=_request_document(cardio, unit="Pédiatrie", zone="care", mfa=False),
        expected="deny",
    )
    PolicyTest.objects.create(
        application=app,
        name="Administrateur depuis internet sans MFA",
        request=_request_document("", unit=cardio, zone="internet", mfa=False, admin=True),
        expected="deny",
    )
    return app


def _workstations(chu: Organisation) -> list[str]:
    """The care units' computers: the CHU's inventory (from the demo AD audits) when there is
    one, so that device posture — managed, past end of support — comes from it."""
    from hygie.posture.models import Asset

    names = list(
        Asset.objects.filter(organisation=chu, kind="workstation", enabled=True)
        .order_by("name")
        .values_list("name", flat=True)[:40]
    )
    if not names:
        names = [f"PC-SOINS-{n:04d}" for n in range(1, 31)]
        Asset.objects.bulk_create(
            [
                Asset(organisation=chu, name=name, kind="workstation", source="manual")
                for name in names
            ]
        )
    return names


def _decisions(chu: Organisation, app: ProtectedApplication, now: dt.datetime) -> int:
    """A week of requests through the real decision path (shadow mode: logged, let through)."""
    rng = random.Random(SEED)
    care = list(
        StaffMember.objects.filter(
            establishment=chu, job_family=JobFamily.CARE, service__isnull=False
        )
        .exclude(external_id="")
        .select_related("service")
        .order_by("external_id")[:60]
    )
    if not care:
        return 0
    units = sorted({s.service.name for s in care})
    start = now - dt.timedelta(days=7)
    # Current stays: 40 patients per unit, admitted during the last days.
    patients = {unit: [f"VAL{u:02d}{n:03d}" for n in range(40)] for u, unit in enumerate(units)}
    CareRelation.objects.bulk_create(
        [
            CareRelation(
                organisation=chu,
                kind="stay",
                patient_id=patient,
                unit=unit,
                starts_at=start - dt.timedelta(days=rng.randint(1, 10)),
            )
            for unit, ids in patients.items()
            for patient in ids
        ]
    )
    workstations = _workstations(chu)
    ctx.invalidate()
    background = log.background
    log.background = False
    count = 0
    try:
        for _ in range(420):
            person = rng.choice(care)
            unit = person.service.name
            roll = rng.random()
            if roll < 0.70:  # her own unit's patient, from the care network
                patient, address = rng.choice(patients[unit]), f"10.10.{rng.randint(1, 200)}.12"
                headers = {"X-Device-Id": rng.choice(workstations)}
            elif roll < 0.85:  # another unit's patient
                other = rng.choice([u for u in units if u != unit] or [unit])
                patient, address = rng.choice(patients[other]), f"10.10.{rng.randint(1, 200)}.7"
                headers = {"X-Device-Id": rng.choice(workstations)}
            else:  # on call, from the VPN, with or without MFA
                patient, address = rng.choice(patients[unit]), f"10.99.0.{rng.randint(2, 250)}"
                headers = {"X-Auth-MFA": "1" if rng.random() < 0.6 else "0"}
            at = start + dt.timedelta(minutes=rng.randint(0, 7 * 24 * 60))
            headers.update(
                {
                    "X-Remote-User": person.external_id,
                    "X-Original-Method": "GET",
                    "X-Original-URI": f"/dossiers/{patient}/",
                    "X-Real-IP": address,
                }
            )
            inputs = ctx.HttpInputs.from_headers(headers, peer="127.0.0.1", now=at)
            service.decide_http(app, inputs)
            count += 1
        # An administrator of the DSI from the internet, without MFA, on the admin pages.
        for hours in (30, 6):
            inputs = ctx.HttpInputs.from_headers(
                {
                    "X-Remote-User": "adm.dsi",
                    "X-Original-Method": "GET",
                    "X-Original-URI": "/admin/",
                    "X-Real-IP": "198.51.100.23",
                },
                peer="127.0.0.1",
                now=now - dt.timedelta(hours=hours),
            )
            service.decide_http(app, inputs)
            count += 1
        log.flush()
    finally:
        log.background = background
    # Two break-the-glass accesses: one reviewed and justified, one waiting for the DPO.
    nurse, other = care[0], care[-1]
    foreign = next(u for u in units if u != nurse.service.name) if len(units) > 1 else units[0]
    BreakGlass.objects.create(
        application=app,
        principal=nurse.external_id,
        resource=ctx.patient_resource(patients[foreign][3]),
        reason="Patient transféré des urgences cette nuit, transmissions nécessaires",
        started_at=now - dt.timedelta(days=3, hours=2),
        expires_at=now - dt.timedelta(days=2, hours=22),
        source_address="10.10.14.12",
        alerted_at=now - dt.timedelta(days=3, hours=2),
        review=BreakGlass.Review.JUSTIFIED,
        reviewed_at=now - dt.timedelta(days=2),
        review_note="Transfert confirmé par le cadre de santé.",
    )
    BreakGlass.objects.create(
        application=app,
        principal=other.external_id,
        resource=ctx.patient_resource(patients[units[0]][7]),
        reason="urgence",
        started_at=now - dt.timedelta(hours=20),
        expires_at=now - dt.timedelta(hours=16),
        source_address="10.99.0.41",
        alerted_at=now - dt.timedelta(hours=20),
    )
    ctx.invalidate()
    return count


def _review(chu: Organisation, dpo, now: dt.datetime) -> int:
    """Four weeks of a synthetic EHR log, imported and reviewed; returns the number of cases."""
    local = timezone.localtime(now)
    end = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=28)
    with tempfile.TemporaryDirectory(prefix="hygie-demo-access-") as folder:
        truth = synthetic.generate(
            Path(folder),
            staff=150,
            patients=2500,
            events=REVIEW_EVENTS,
            seed=SEED,
            days=28,
            start=start,
            misuse=2,
        )
        for kind in (
            LogKind.STAFF,
            LogKind.PATIENTS,
            LogKind.CARE_TEAMS,
            LogKind.STAYS,
            LogKind.APPOINTMENTS,
            LogKind.ORDERS,
            LogKind.ACCESS,
        ):
            name = truth.files[kind]
            ingest.import_file(
                chu, kind, name, Path(folder) / name, application="DPI Valmont", user=dpo
            )
    run = review_engine.run_review(chu, start=start, end=end, user=dpo)
    return run.cases.count()


def load_access_demo(ght: Organisation) -> int:
    """Returns the number of decisions logged (0 when the demo is already there)."""
    chu = Organisation.objects.filter(
        path__startswith=ght.path, kind=Kind.ESTABLISHMENT, name__icontains="Valmont"
    ).first()
    if chu is None or ProtectedApplication.objects.filter(organisation=chu).exists():
        return 0
    users = get_user_model().objects.filter(username__in=["rssi", "dpo"])
    by_name = {u.username: u for u in users}
    now = timezone.now()
    app = _application(chu, by_name.get("rssi"))
    decisions = _decisions(chu, app, now)
    _review(chu, by_name.get("dpo"), now)
    policies.record_zero_trust(chu)
    return decisions

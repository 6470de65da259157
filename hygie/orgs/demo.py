"""Deterministic demo data: one GHT of the Hauts-de-France region, its establishments,
sites and services, about 2,000 staff with plausible French names, one user per role.

Names of establishments are fictional; their FINESS numbers are well-formed (valid
Luhn key) but invented. E-mail addresses use the reserved `.example` domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from faker import Faker

from hygie.accounts.models import TotpDevice
from hygie.orgs.finess import luhn_key
from hygie.orgs.models import (
    Category,
    JobFamily,
    Kind,
    Membership,
    Organisation,
    StaffMember,
    StaffSource,
)
from hygie.orgs.roles import Role
from hygie.orgs.services import ensure_reference_tree

SEED = 20261129
DEMO_PASSWORD = "hygie-demo-2026"  # noqa: S105 — printed to the person running the demo
# Fixed TOTP secrets for privileged demo users: the demo shows the current code on screen.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105


def finess(prefix8: str) -> str:
    return prefix8 + luhn_key(prefix8)


CARE_SERVICES = [
    ("Urgences", JobFamily.CARE),
    ("Réanimation", JobFamily.CARE),
    ("Bloc opératoire", JobFamily.CARE),
    ("Cardiologie", JobFamily.CARE),
    ("Pédiatrie", JobFamily.CARE),
    ("Maternité", JobFamily.CARE),
    ("Oncologie", JobFamily.CARE),
    ("Médecine polyvalente", JobFamily.CARE),
    ("Gériatrie", JobFamily.CARE),
    ("Psychiatrie adulte", JobFamily.CARE),
]
SUPPORT_SERVICES = [
    ("Pharmacie à usage intérieur", JobFamily.MEDICO_TECHNICAL),
    ("Laboratoire de biologie médicale", JobFamily.MEDICO_TECHNICAL),
    ("Imagerie médicale", JobFamily.MEDICO_TECHNICAL),
    ("Accueil et admissions", JobFamily.ADMINISTRATIVE),
    ("Direction des ressources humaines", JobFamily.ADMINISTRATIVE),
    ("Direction des affaires financières", JobFamily.ADMINISTRATIVE),
    ("Direction du système d'information", JobFamily.IT),
    ("Service biomédical", JobFamily.IT),
    ("Services techniques et logistiques", JobFamily.TECHNICAL),
    ("Direction générale", JobFamily.DIRECTION),
]
JOB_TITLES = {
    JobFamily.MEDICAL: ["Praticien hospitalier", "Interne", "Chef de clinique", "Médecin"],
    JobFamily.CARE: [
        "Infirmier(e)",
        "Aide-soignant(e)",
        "Cadre de santé",
        "Sage-femme",
        "Auxiliaire de puériculture",
    ],
    JobFamily.MEDICO_TECHNICAL: [
        "Pharmacien(ne)",
        "Préparateur(trice) en pharmacie",
        "Technicien(ne) de laboratoire",
        "Manipulateur(trice) radio",
    ],
    JobFamily.ADMINISTRATIVE: [
        "Secrétaire médicale",
        "Adjoint(e) administratif(ve)",
        "Gestionnaire RH",
        "Agent d'accueil",
    ],
    JobFamily.IT: [
        "Technicien(ne) informatique",
        "Ingénieur(e) système",
        "Technicien(ne) biomédical(e)",
    ],
    JobFamily.TECHNICAL: ["Agent de maintenance", "Agent logistique", "Électricien(ne)"],
    JobFamily.DIRECTION: ["Directeur(trice) adjoint(e)", "Attaché(e) d'administration"],
}


@dataclass
class EstablishmentPlan:
    name: str
    short: str
    category: str
    finess8_ej: str
    finess8_et: str
    staff: int
    sites: list[str]
    services: int
    support: bool = False
    domain: str = ""


GHT_ESTABLISHMENTS = [
    EstablishmentPlan(
        "Centre hospitalier universitaire de Valmont",
        "CHU de Valmont",
        Category.CHU,
        "59078001",
        "59000101",
        1100,
        ["Hôpital Valmont-Centre", "Hôpital Saint-Roch"],
        20,
        support=True,
        domain="chu-valmont.example",
    ),
    EstablishmentPlan(
        "Centre hospitalier de Marquise-sur-Mer",
        "CH de Marquise",
        Category.CH,
        "62078002",
        "62000201",
        450,
        ["Site principal"],
        14,
        domain="ch-marquise.example",
    ),
    EstablishmentPlan(
        "Centre hospitalier de Hautbois",
        "CH de Hautbois",
        Category.CH,
        "62078003",
        "62000301",
        300,
        ["Site principal"],
        12,
        domain="ch-hautbois.example",
    ),
    EstablishmentPlan(
        "EHPAD Les Tilleuls",
        "EHPAD Les Tilleuls",
        Category.EHPAD,
        "59078004",
        "59000401",
        80,
        ["Résidence"],
        3,
        domain="ehpad-tilleuls.example",
    ),
]
CLINIC = EstablishmentPlan(
    "Clinique du Parc (hors GHT)",
    "Clinique du Parc",
    Category.CLINIC,
    "59078005",
    "59000501",
    120,
    ["Site principal"],
    6,
    domain="clinique-parc.example",
)

DEMO_USERS = [
    # username, first, last, role, where ("national" | "region" | "ght" | short name of an establishment)
    ("rssi", "Claire", "Dumont", Role.RSSI, "ght"),
    ("dsi", "Marc", "Lefebvre", Role.DSI, "ght"),
    ("dpo", "Sophie", "Martin", Role.DPO, "ght"),
    ("qualite", "Nadia", "Benali", Role.QUALITY, "CHU de Valmont"),
    ("direction", "Philippe", "Roussel", Role.DIRECTION, "CHU de Valmont"),
    ("referent", "Julien", "Caron", Role.SECURITY_REFERENT, "CH de Marquise"),
    ("lecteur", "Agnès", "Perrin", Role.READER, "ght"),
    ("analyste-region", "Karim", "Haddad", Role.REGIONAL_ANALYST, "region"),
    ("analyste-national", "Isabelle", "Morel", Role.NATIONAL_ANALYST, "national"),
]


def demo_loaded() -> bool:
    return Organisation.objects.filter(kind=Kind.GHT, code="GHT-DEMO-HDF").exists()


@transaction.atomic
def load_demo(progress=None) -> dict:
    """Create the demo. Idempotent: returns at once when the demo is already there."""
    if demo_loaded():
        return {"created": False}
    rng = random.Random(SEED)
    fake = Faker("fr_FR")
    fake.seed_instance(SEED)

    national = ensure_reference_tree()
    region = Organisation.objects.get(kind=Kind.REGION, code="32")
    ght = Organisation.objects.create(
        kind=Kind.GHT,
        parent=region,
        name="GHT des Deux Caps (démonstration)",
        short_name="GHT des Deux Caps",
        code="GHT-DEMO-HDF",
    )
    nodes = {"national": national, "region": region, "ght": ght}
    total_staff = sum(p.staff for p in [*GHT_ESTABLISHMENTS, CLINIC])
    created_staff = 0
    for plan in [*GHT_ESTABLISHMENTS, CLINIC]:
        parent = region if plan is CLINIC else ght
        est = Organisation.objects.create(
            kind=Kind.ESTABLISHMENT,
            parent=parent,
            name=plan.name,
            short_name=plan.short,
            category=plan.category,
            finess_ej=finess(plan.finess8_ej),
            finess_et=finess(plan.finess8_et),
            is_ght_support=plan.support,
        )
        nodes[plan.short] = est
        sites = [
            Organisation.objects.create(kind=Kind.SITE, parent=est, name=name)
            for name in plan.sites
        ]
        if plan.category == Category.EHPAD:
            service_plan = [
                ("Hébergement", JobFamily.CARE),
                ("Soins", JobFamily.CARE),
                ("Administration", JobFamily.ADMINISTRATIVE),
            ]
        else:
            care = CARE_SERVICES[: max(plan.services - len(SUPPORT_SERVICES) // 2, 3)]
            service_plan = care + SUPPORT_SERVICES[: plan.services - len(care)]
        services = []
        for index, (name, family) in enumerate(service_plan):
            site = sites[index % len(sites)]
            services.append(
                (
                    Organisation.objects.create(
                        kind=Kind.SERVICE, parent=site, name=name, code=f"S{index + 1:02d}"
                    ),
                    family,
                    site,
                )
            )
        staff_rows = []
        seen_emails = set()
        for number in range(plan.staff):
            service, main_family, site = services[rng.randrange(len(services))]
            family = main_family
            roll = rng.random()
            if main_family == JobFamily.CARE and roll < 0.18:
                family = JobFamily.MEDICAL
            elif roll < 0.06:
                family = JobFamily.ADMINISTRATIVE
            first, last = fake.first_name(), fake.last_name()
            local = f"{first}.{last}".lower().replace(" ", "-").replace("'", "")
            local = "".join(ch for ch in _ascii(local) if ch.isalnum() or ch in ".-")
            email = f"{local}@{plan.domain}"
            suffix = 2
            while email in seen_emails:
                email = f"{local}{suffix}@{plan.domain}"
                suffix += 1
            seen_emails.add(email)
            staff_rows.append(
                StaffMember(
                    establishment=est,
                    site=site,
                    service=service,
                    external_id=f"{plan.short[:3].upper()}{number + 1:05d}",
                    first_name=first,
                    last_name=last,
                    email=email,
                    job_family=family,
                    job_title=rng.choice(JOB_TITLES.get(family, ["Agent"])),
                    arrival_date=date(2026, 11, 1) - timedelta(days=rng.randrange(0, 365 * 25)),
                    source=StaffSource.MANUAL,
                )
            )
        StaffMember.objects.bulk_create(staff_rows, batch_size=500)
        created_staff += len(staff_rows)
        if progress:
            progress(created_staff, total_staff)

    user_model = get_user_model()
    users = []
    for username, first, last, role, where in DEMO_USERS:
        user = user_model.objects.create_user(
            username=username,
            email=f"{username}@demo.example",
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
        )
        Membership.objects.create(user=user, organisation=nodes[where], role=role)
        users.append((username, role, nodes[where]))
    admin = user_model.objects.create_superuser(
        username="admin", email="admin@demo.example", password=DEMO_PASSWORD
    )
    users.append(("admin", "administrateur de la plateforme", national))
    from hygie.accounts.services import requires_second_factor

    for user in user_model.objects.filter(username__in=[u[0] for u in users]):
        if requires_second_factor(user):
            TotpDevice.objects.create(
                user=user, secret=DEMO_TOTP_SECRET, confirmed_at=admin.date_joined
            )
    return {"created": True, "staff": created_staff, "users": users}


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")

"""Demo technical audits of the demo CHU, deterministic in content, dated relative to today.

What an RSSI of the demo GHT finds under "Audits techniques":
- two Active Directory audits of the CHU's domain three months apart (a synthetic domain of 1,500
  users and 700 computers, renamed to the CHU), the second after a clean-up (stale accounts
  disabled, krbtgt renewed, stricter password policy, most workstations moved to Windows 11
  24H2…), recorded through `audits.record_audit`
  so that findings, actions, evidence and the asset inventory follow; the CHU's own password
  policy;
- an extract of CISA's KEV catalogue (demo_data/kev_demo.json, only if no catalogue is in force)
  and four remote-access points, two of them flagged against it;
- an nmap scan of the CHU's public addresses (demo_data/nmap_chu_valmont.xml: RDP exposed, a web
  server, VPN portals);
- a GLPI export of a second establishment's computers (demo_data/glpi_ch_marquise.csv).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from hygie.orgs.models import Kind, Organisation
from hygie.posture import exposure, inventory, kev, remote
from hygie.posture.ad import audits, synthetic
from hygie.posture.ad import snapshot as ad
from hygie.posture.models import (
    AccessKind,
    ADAudit,
    PasswordPolicyTarget,
    RemoteAccessPoint,
)

DATA = Path(__file__).parent / "demo_data"
SEED = 59
USERS, COMPUTERS = 1500, 700
# The synthetic domain's names, as the CHU's directory spells them.
RENAMES = (
    ("chu-synthetique", "chu-valmont"),
    ("CHUSYNTH", "CHUVALMONT"),
    ("Site-Nord", "Valmont-Centre"),
    ("Site-Sud", "Saint-Roch"),
    ("Hopital-Mere-Enfant", "Pole-Mere-Enfant"),
    ("EHPAD-Les-Tilleuls", "Centre-Reeducation"),
)


def _rebase(snapshot: ad.Snapshot, collected_at: dt.datetime) -> ad.Snapshot:
    """Rename the synthetic domain to the CHU's and move every date so that the data is as of
    `collected_at` (ages, inactivity and password dates keep their spread)."""
    shift = collected_at - snapshot.collected_at

    def rename(text: str) -> str:
        for old, new in RENAMES:
            text = text.replace(old, new)
        return text

    def fix(obj) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, dt.datetime):
                setattr(obj, f.name, value + shift)
            elif isinstance(value, str):
                setattr(obj, f.name, rename(value))
            elif isinstance(value, tuple) and value and isinstance(value[0], str):
                setattr(obj, f.name, tuple(rename(v) for v in value))

    fix(snapshot.domain)
    for obj in (*snapshot.users, *snapshot.computers, *snapshot.groups, *snapshot.trusts):
        fix(obj)
    snapshot.collected_at = collected_at
    return snapshot


def _clean_up(snapshot: ad.Snapshot) -> None:
    """What the CHU's team fixed between the two audits, written on the directory's objects."""
    now = snapshot.collected_at
    domain = snapshot.domain
    domain.min_pwd_length = 12
    domain.lockout_threshold = 10
    domain.lockout_duration = dt.timedelta(minutes=15)
    domain.machine_account_quota = 0
    for group in snapshot.groups:
        if group.sid == ad.SID_PRE_WINDOWS_2000:
            group.members = ()
    stale = now - dt.timedelta(days=180)
    for user in snapshot.users:
        if ad.rid(user.sid) == ad.RID_KRBTGT:
            user.pwd_last_set = now - dt.timedelta(days=21)
        elif user.admin_count:
            # Administrators: passwords expire again and every account is flagged sensitive.
            user.uac &= ~ad.UAC_DONT_EXPIRE_PASSWORD
            user.uac |= ad.UAC_NOT_DELEGATED
        elif user.enabled and (user.last_logon or user.created or now) < stale:
            user.uac |= ad.UAC_ACCOUNTDISABLE  # the yearly review of departed staff
        user.uac &= ~(ad.UAC_PASSWD_NOTREQD | ad.UAC_ENCRYPTED_TEXT_PWD_ALLOWED)
    for index, computer in enumerate(snapshot.computers):
        if not computer.is_dc and computer.enabled and (computer.last_logon or now) < stale:
            computer.uac |= ad.UAC_ACCOUNTDISABLE
        # The Windows 11 migration: two workstations out of three moved to 24H2.
        if computer.os in ("Windows 10 Entreprise", "Windows 11 Entreprise") and index % 3:
            computer.os, computer.os_version = "Windows 11 Entreprise", "10.0 (26100)"


def _ad_audits(chu: Organisation, rssi) -> int:
    PasswordPolicyTarget.objects.get_or_create(
        organisation=chu,
        defaults={
            "min_length": 12,
            "admin_min_length": 16,
            "complexity": True,
            "history": 12,
            "max_age_days": 0,
            "lockout_threshold": 10,
            "lockout_duration_minutes": 15,
            "updated_by": rssi,
        },
    )
    today = timezone.now().replace(hour=9, minute=30, second=0, microsecond=0)
    first = _rebase(
        synthetic.generate(users=USERS, computers=COMPUTERS, seed=SEED),
        today - dt.timedelta(days=105),
    )
    audits.record_audit(chu, first, user=rssi, filename="chu-valmont-ldapdomaindump.zip")
    second = _rebase(
        synthetic.generate(users=USERS, computers=COMPUTERS, seed=SEED),
        today - dt.timedelta(days=14),
    )
    _clean_up(second)
    audits.record_audit(chu, second, user=rssi, filename="chu-valmont-ldapdomaindump.zip")
    return 2


def _kev(rssi) -> None:
    if kev.current() is None:
        path = DATA / "kev_demo.json"
        kev.import_catalogue(path.read_bytes(), user=rssi, filename=path.name)


def _remote_access(chu: Organisation) -> None:
    today = timezone.localdate()
    RemoteAccessPoint.objects.bulk_create(
        [
            RemoteAccessPoint(
                organisation=chu,
                name="VPN nomade des agents",
                kind=AccessKind.VPN_SSL,
                vendor="Fortinet",
                product="FortiGate 200F (FortiOS)",
                version="7.0.12",
                address="vpn.chu-valmont.example:443",
                mfa=True,
                last_patched_on=dt.date(2023, 11, 20),
                users=420,
                notes="Jeton FortiToken pour tous les comptes ; mise à jour reportée deux fois.",
            ),
            RemoteAccessPoint(
                organisation=chu,
                name="Passerelle Citrix (DPI à distance)",
                kind=AccessKind.VDI,
                vendor="Citrix",
                product="NetScaler Gateway",
                version="14.1-29.72",
                address="portail.chu-valmont.example:443",
                mfa=True,
                last_patched_on=today - dt.timedelta(days=38),
                users=180,
            ),
            RemoteAccessPoint(
                organisation=chu,
                name="Accès des médecins libéraux",
                kind=AccessKind.VPN_SSL,
                vendor="SonicWall",
                product="SMA 210 (Secure Mobile Access)",
                version="10.2.0.5",
                address="acces-medecins.chu-valmont.example:443",
                mfa=False,
                admin_interface_exposed=True,
                last_patched_on=dt.date(2021, 2, 8),
                users=35,
            ),
            RemoteAccessPoint(
                organisation=chu,
                name="Télémaintenance du fournisseur du PACS",
                kind=AccessKind.VENDOR_REMOTE,
                vendor="Microsoft",
                product="Bureau à distance (RDP) ouvert par redirection de port",
                address="198.51.100.24:3389",
                mfa=False,
                users=4,
                notes="Compte partagé du fournisseur ; ouverture permanente.",
            ),
        ]
    )
    remote.refresh_fact(chu)


def _exposure(chu: Organisation, rssi) -> None:
    path = DATA / "nmap_chu_valmont.xml"
    scan = exposure.import_scan(chu, path.read_bytes(), filename=path.name, user=rssi)
    # The scan is as recent as the audits.
    scan.started_at = timezone.now() - dt.timedelta(days=10)
    scan.save(update_fields=["started_at"])
    exposure.refresh_fact(chu)


def _glpi(ght: Organisation, rssi) -> None:
    second = Organisation.objects.filter(
        path__startswith=ght.path, kind=Kind.ESTABLISHMENT, name__icontains="Marquise"
    ).first()
    if second is not None:
        path = DATA / "glpi_ch_marquise.csv"
        inventory.import_inventory_file(second, path.read_bytes(), filename=path.name, user=rssi)


def load_posture_demo(ght: Organisation) -> int:
    """Returns the number of AD audits created (0 when already there)."""
    chu = Organisation.objects.filter(
        path__startswith=ght.path, kind=Kind.ESTABLISHMENT, name__icontains="Valmont"
    ).first()
    if chu is None or ADAudit.objects.filter(organisation=chu).exists():
        return 0
    rssi = get_user_model().objects.filter(username="rssi").first()
    created = _ad_audits(chu, rssi)
    _kev(rssi)
    _remote_access(chu)
    _exposure(chu, rssi)
    _glpi(ght, rssi)
    return created

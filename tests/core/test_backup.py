"""`hygie backup` / `hygie restore`: everything comes back, nothing half-restored, tampering refused.

Runs on whatever database the suite runs on (SQLite, or PostgreSQL when HYGIE_DATABASE_URL
points at one); one test also moves an archive to and from a separate SQLite install.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from hygie.accounts.models import ApiToken, RecoveryCode, TotpDevice
from hygie.core import backup, crypto
from hygie.core.audit import record_event, verify_chain
from hygie.core.models import AuditEvent
from hygie.orgs.demo import load_demo
from hygie.orgs.models import Organisation, StaffMember
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TOTP_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
UPLOADS = {
    "evidence/rapport-audit-ad.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 40,
    "preuves/procès-verbal exercice.txt": b"Exercice de crise du 12 mars\n",
}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def populated(transactional_db, world, media_root):
    """The `world` tree, the demo GHT, secrets, tokens, journal entries and two uploads."""
    load_demo()
    TotpDevice.objects.create(user=world.editor, secret=TOTP_SECRET, confirmed_at=None)
    token, token_secret = ApiToken.issue(world.editor, "Supervision", organisation=world.ght_a)
    RecoveryCode.objects.create(user=world.editor, code_hash=RecoveryCode.hash("abcd-efgh"))
    world.editor.groups.create(name="Cellule de crise")
    record_event("auth.login", actor=world.editor, target=world.editor)
    record_event(
        "membership.created", actor=world.editor, target=world.reader, organisation=world.ght_a
    )
    for name, content in UPLOADS.items():
        default_storage.save(name, ContentFile(content))
    return {"world": world, "token_secret": token_secret}


def snapshot() -> dict:
    """What a user would miss: rows per model (and their content hash) and every file."""
    state = {}
    with crypto.ciphertext_passthrough():
        for model in backup.archived_models():
            rows = list(model._base_manager.order_by("pk").values_list())
            state[model._meta.label_lower] = (
                len(rows),
                hashlib.sha256(repr(rows).encode()).hexdigest(),
            )
    files = {}
    root = Path(settings.MEDIA_ROOT)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            files[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    state["files"] = files
    return state


def wipe(media_root: Path) -> None:
    call_command("flush", interactive=False, verbosity=0)
    for path in sorted(media_root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


def take_backup(tmp_path, name="hygie.tar.gz") -> Path:
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / name), verbosity=0, stdout=out)
    assert "Sauvegarde écrite" in out.getvalue()
    return tmp_path / name


def restore(archive: Path, *options) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("restore", str(archive), *options, verbosity=0, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def rewrite_archive(source: Path, target: Path, change) -> None:
    """Copy an archive member by member, letting `change(name, data)` alter any of them."""
    with tarfile.open(source, "r:gz") as original, tarfile.open(target, "w:gz") as copy:
        for member in original:
            data = original.extractfile(member).read()
            data = change(member.name, data)
            if data is None:
                continue
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))


def resign(manifest: dict) -> bytes:
    manifest["signature"] = backup._signature(manifest)
    return json.dumps(manifest).encode()


def test_restore_on_a_fresh_install_brings_every_object_and_file_back(
    populated, media_root, tmp_path
):
    before = snapshot()
    assert before["orgs.staffmember"][0] > 2000 and len(before["files"]) == 2
    archive = take_backup(tmp_path)
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds personal data: owner-only"
    # The backup itself is in the journal of the live install.
    assert AuditEvent.objects.filter(action="backup.created").exists()

    wipe(media_root)
    assert StaffMember.objects.count() == 0 and not any(media_root.rglob("*"))

    output = restore(archive)
    assert "Restauration terminée" in output
    after = snapshot()
    # The journal gained exactly one entry: the restore itself.
    journal = after.pop("core.auditevent"), before.pop("core.auditevent")
    after.pop("core.auditchainhead"), before.pop("core.auditchainhead")
    assert after == before
    assert journal[0][0] == journal[1][0] + 1
    assert AuditEvent.objects.order_by("-sequence").first().action == "backup.restored"

    report = verify_chain()
    assert report.ok, report.problems
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Journal intègre" in out.getvalue()

    # Secrets decrypt with this machine's keys; tokens and recovery codes still match.
    editor = populated["world"].editor
    assert TotpDevice.objects.get(user=editor).secret == TOTP_SECRET
    assert ApiToken.find_active(populated["token_secret"]).user == editor
    assert RecoveryCode.objects.filter(
        user=editor, code_hash=RecoveryCode.hash("abcdefgh")
    ).exists()
    assert editor.groups.get().name == "Cellule de crise"
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    assert ght.children.count() == 4
    assert Organisation.objects.get(pk=populated["world"].service_a1.pk).path.count("/") == 7
    # The restored install keeps working: new rows get fresh ids.
    factories.org("region", Organisation.objects.get(kind="national"), name="Nouvelle région")


def test_secrets_stay_encrypted_inside_the_archive(populated, tmp_path):
    archive = take_backup(tmp_path)
    with tarfile.open(archive, "r:gz") as tar:
        everything = b"".join(tar.extractfile(member).read() for member in tar if member.isfile())
        totp_rows = tar.extractfile("database/accounts.totpdevice.jsonl").read().decode()
    assert TOTP_SECRET.encode() not in everything
    assert populated["token_secret"].encode() not in everything
    assert all('"secret":"fernet:' in line for line in totp_rows.splitlines())


def test_tampered_archive_is_refused_before_anything_is_written(populated, media_root, tmp_path):
    archive = take_backup(tmp_path)
    wipe(media_root)

    def alter_a_staff_member(name, data):
        if name == "database/orgs.staffmember.jsonl":
            return data.replace(b"Infirmier", b"Infirmiez", 1)
        return data

    rewrite_archive(archive, tmp_path / "altered.tar.gz", alter_a_staff_member)
    with pytest.raises(CommandError, match=r"SHA-256 de database/orgs.staffmember.jsonl"):
        restore(tmp_path / "altered.tar.gz")

    def add_an_administrator_and_fix_the_checksums(name, data):
        if name != backup.MANIFEST_NAME:
            return data
        manifest = json.loads(data)
        manifest["models"][0]["rows"] += 1  # a forger cannot sign without the key
        return json.dumps(manifest).encode()

    rewrite_archive(archive, tmp_path / "forged.tar.gz", add_an_administrator_and_fix_the_checksums)
    with pytest.raises(CommandError, match="signature du manifeste"):
        restore(tmp_path / "forged.tar.gz")

    def drop_the_uploads(name, data):
        return None if name.startswith("files/") else data

    rewrite_archive(archive, tmp_path / "truncated.tar.gz", drop_the_uploads)
    with pytest.raises(CommandError, match="Archive incomplète"):
        restore(tmp_path / "truncated.tar.gz")

    (tmp_path / "garbage.tar.gz").write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError, match="illisible ou tronquée"):
        restore(tmp_path / "garbage.tar.gz")

    # Nothing was written by any of the refused restores.
    assert StaffMember.objects.count() == 0
    # Only what every installation has: the national node and the 18 regions.
    assert Organisation.objects.exclude(kind__in=("national", "region")).count() == 0
    assert not any(media_root.rglob("*"))
    assert not list(media_root.parent.glob(".files.*")), "staging directories are cleaned up"


def test_non_empty_install_is_refused_unless_forced(populated, media_root, tmp_path):
    before = snapshot()
    archive = take_backup(tmp_path)
    world = populated["world"]
    factories.org("ght", world.region_a, name="GHT créé après la sauvegarde")
    (media_root / "evidence" / "plus-récent.txt").write_text("après la sauvegarde")

    with pytest.raises(CommandError) as refused:
        restore(archive)
    message = str(refused.value)
    assert "contient déjà des données" in message and "--force" in message
    assert "personnels" in message
    assert Organisation.objects.filter(name="GHT créé après la sauvegarde").exists()

    output = restore(archive, "--force")
    assert "lignes existantes ont été remplacées" in output
    after = snapshot()
    for transient in ("core.auditevent", "core.auditchainhead"):
        before.pop(transient), after.pop(transient)
    assert after == before
    assert not Organisation.objects.filter(name="GHT créé après la sauvegarde").exists()
    assert verify_chain().ok


def test_failed_restore_leaves_the_install_exactly_as_it_was(populated, media_root, tmp_path):
    """A well-signed archive whose last rows break a constraint: nothing replaced, nothing lost."""
    archive = take_backup(tmp_path)
    factories.org("ght", populated["world"].region_a, name="GHT à garder")
    before = snapshot()
    broken_member = "database/orgs.membership.jsonl"
    with tarfile.open(archive, "r:gz") as tar:
        rows = tar.extractfile(broken_member).read().decode().splitlines()
    last = json.loads(rows[-1])
    last["fields"]["organisation"] = 999_999  # no such organisation
    broken = ("\n".join([*rows[:-1], json.dumps(last)]) + "\n").encode()

    def break_the_last_membership(name, data):
        if name == broken_member:
            return broken
        if name == backup.MANIFEST_NAME:
            manifest = json.loads(data)
            for entry in manifest["files"]:
                if entry["path"] == broken_member:
                    entry.update(size=len(broken), sha256=hashlib.sha256(broken).hexdigest())
            return resign(manifest)
        return data

    rewrite_archive(archive, tmp_path / "broken.tar.gz", break_the_last_membership)
    with pytest.raises(CommandError, match="ne se charge pas.*Rien n'a été restauré"):
        restore(tmp_path / "broken.tar.gz", "--force")
    assert snapshot() == before
    assert Organisation.objects.filter(name="GHT à garder").exists()
    assert not list(media_root.parent.glob(".files.*"))


def test_archive_from_a_newer_schema_is_refused(populated, media_root, tmp_path):
    archive = take_backup(tmp_path)
    wipe(media_root)

    def from_the_future(name, data):
        if name != backup.MANIFEST_NAME:
            return data
        manifest = json.loads(data)
        manifest["migrations"]["orgs"].append("0042_future_change")
        return resign(manifest)

    rewrite_archive(archive, tmp_path / "future.tar.gz", from_the_future)
    with pytest.raises(CommandError, match=r"schéma plus récent.*orgs\.0042_future_change"):
        restore(tmp_path / "future.tar.gz")
    assert StaffMember.objects.count() == 0


def test_archive_from_an_older_schema_asks_for_the_matching_version(
    populated, media_root, tmp_path
):
    archive = take_backup(tmp_path)
    wipe(media_root)

    def from_the_past(name, data):
        if name != backup.MANIFEST_NAME:
            return data
        manifest = json.loads(data)
        manifest["migrations"]["accounts"] = manifest["migrations"]["accounts"][:1]
        manifest["hygie_version"] = "0.0.9"
        return resign(manifest)

    rewrite_archive(archive, tmp_path / "past.tar.gz", from_the_past)
    with pytest.raises(CommandError, match=r"schéma plus ancien.*Hygie 0\.0\.9"):
        restore(tmp_path / "past.tar.gz")
    assert StaffMember.objects.count() == 0


def test_default_archive_goes_to_a_private_backups_folder(populated, settings):
    call_command("backup", verbosity=0, stdout=io.StringIO())
    folder = Path(settings.DATA_DIR) / "backups"
    [archive] = folder.glob("hygie-backup-*.tar.gz")
    assert folder.stat().st_mode & 0o077 == 0
    assert backup.read_manifest(archive)["database_vendor"] in ("sqlite", "postgresql")
    archive.unlink()


def test_archive_made_with_another_secret_key_needs_consent(
    populated, media_root, tmp_path, settings
):
    archive = take_backup(tmp_path)
    wipe(media_root)
    settings.SECRET_KEY = "another-install-" + "x" * 50
    crypto._fernet.cache_clear()
    try:
        with pytest.raises(CommandError, match="autre HYGIE_SECRET_KEY"):
            restore(archive)
        assert StaffMember.objects.count() == 0
        output = restore(archive, "--accept-other-key")
        assert "Restauration terminée" in output
        assert "ne se déchiffrent pas" in output and "journal" in output
        assert StaffMember.objects.count() > 2000
    finally:
        crypto._fernet.cache_clear()


def test_check_verifies_an_archive_without_writing(populated, media_root, tmp_path):
    archive = take_backup(tmp_path)
    wipe(media_root)
    output = restore(archive, "--check")
    assert "Archive intègre" in output
    assert StaffMember.objects.count() == 0


def _run(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "hygie", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_archive_moves_to_and_from_a_separate_sqlite_install(populated, media_root, tmp_path):
    """On PostgreSQL this is the PostgreSQL → SQLite → PostgreSQL round trip."""
    before = snapshot()
    archive = take_backup(tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HYGIE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        HYGIE_SECRET_KEY=settings.SECRET_KEY,
        HYGIE_DATA_DIR=str(tmp_path / "other-install"),
    )
    for command in (["migrate", "-v0"], ["restore", "-v0", str(archive)], ["audit", "verify"]):
        result = _run(*command, env=env)
        assert result.returncode == 0, result.stderr
    assert "Journal intègre" in result.stdout
    copied = tmp_path / "other-install" / "files" / "preuves" / "procès-verbal exercice.txt"
    assert copied.read_bytes() == UPLOADS["preuves/procès-verbal exercice.txt"]
    result = _run("backup", "-v0", "--output", str(tmp_path / "from-sqlite.tar.gz"), env=env)
    assert result.returncode == 0, result.stderr

    wipe(media_root)
    restore(tmp_path / "from-sqlite.tar.gz")
    after = snapshot()
    for transient in ("core.auditevent", "core.auditchainhead"):
        before.pop(transient), after.pop(transient)
    assert after == before
    assert verify_chain().ok
    assert TotpDevice.objects.get(user=populated["world"].editor).secret == TOTP_SECRET

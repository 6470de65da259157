"""Backup and restore: one signed archive with the database and the uploaded files.

The archive is a .tar.gz holding `manifest.json` first, then one JSON Lines file per
model under `database/` (Django's serialisation, so an archive taken on SQLite restores
on PostgreSQL and back) and the files of MEDIA_ROOT under `files/`. The manifest lists
every member with its size and SHA-256 and is signed with a key derived from
HYGIE_SECRET_KEY. Secrets encrypted at rest are copied as ciphertext. See
docs/decisions/0160-backup-archive-format.md and docs/operations.md.
"""

from __future__ import annotations

import datetime
import decimal
import getpass
import hashlib
import hmac
import io
import json
import os
import secrets
import shutil
import tarfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_iso_string

from hygie.core import crypto
from hygie.core.audit import record_event, verify_chain

FORMAT = "hygie-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_DIR = "database"
FILES_DIR = "files"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024

# Operational state, not data: never archived, emptied on restore (old sessions must not
# log anyone in to the restored accounts; throttles and queued tasks belong to the old run).
TRANSIENT_MODELS = frozenset(
    {"sessions.session", "core.throttlebucket", "django_tasks_database.dbtaskresult"}
)
# Rebuilt by `migrate` on every install, with install-specific ids: never archived nor
# emptied; rows that point at them are archived with natural keys.
INSTALL_MODELS = frozenset({"contenttypes.contenttype", "auth.permission"})

Progress = Callable[..., object]


class BackupError(Exception):
    """A refusal, with a message meant for the operator."""


@dataclass
class BackupResult:
    path: Path
    sha256: str
    size: int
    rows: int
    files: int
    manifest: dict


@dataclass
class RestoreResult:
    rows: int
    files: int
    manifest: dict
    replaced_rows: int = 0
    migrated_from_older_schema: bool = False
    warnings: list[str] = field(default_factory=list)


# Models and keys ------------------------------------------------------------------------


def archived_models() -> list[type[models.Model]]:
    """Concrete models whose rows go into the archive, parents before children."""
    app_list = [(config, None) for config in apps.get_app_configs() if config.models_module]
    ordered = serializers.sort_dependencies(app_list, allow_cycles=True)
    return [
        model
        for model in ordered
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.label_lower not in TRANSIENT_MODELS | INSTALL_MODELS
    ]


def _emptied_tables() -> list[str]:
    """Tables restore empties before loading: everything but install data and migrations."""
    tables = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        if model._meta.label_lower in INSTALL_MODELS:
            continue
        tables.append(model._meta.db_table)
    return sorted(set(tables))


def _uses_install_rows(model: type[models.Model]) -> bool:
    """Does the model point at content types or permissions (so needs natural keys)?"""
    for model_field in model._meta.get_fields():
        related = getattr(model_field, "related_model", None)
        if (
            (model_field.concrete or model_field.many_to_many)
            and related is not None
            and related._meta.label_lower in INSTALL_MODELS
        ):
            return True
    return False


def _key_material() -> bytes:
    return settings.SECRET_KEY.encode()


def key_id() -> str:
    """A short fingerprint telling which HYGIE_SECRET_KEY made an archive (not the key)."""
    return hashlib.sha256(b"hygie-backup-key-id:" + _key_material()).hexdigest()[:16]


def _signature(manifest: dict) -> str:
    key = hashlib.sha256(b"hygie-backup-signature:" + _key_material()).digest()
    unsigned = {name: value for name, value in manifest.items() if name != "signature"}
    payload = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def hygie_version() -> str:
    try:
        return metadata.version("hygie")
    except metadata.PackageNotFoundError:
        return "unknown"


def _applied_migrations(connection) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for app_label, name in sorted(MigrationRecorder(connection).applied_migrations()):
        state.setdefault(app_label, []).append(name)
    return state


# JSON encoding that keeps full precision ------------------------------------------------
# Django's DjangoJSONEncoder cuts datetimes to milliseconds; the audit chain hashes
# timestamps to the microsecond, so this encoder keeps every digit.


def _encode(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"cannot archive a value of type {type(value).__name__}")


def _dumps(record: dict) -> str:
    return json.dumps(record, default=_encode, ensure_ascii=False, separators=(",", ":"))


class _StreamingSerializer(PythonSerializer):
    """Django's Python serialiser, handing each object to `sink` instead of keeping a list."""

    def __init__(self, sink: Callable[[dict], None]):
        super().__init__()
        self._sink = sink

    def end_object(self, obj):
        self._sink(self.get_dump_object(obj))
        self._current = None


class _HashingWriter:
    def __init__(self, path: Path):
        self.path = path
        self.digest = hashlib.sha256()
        self.size = 0
        self._file = path.open("wb")

    def write_line(self, text: str) -> None:
        data = text.encode("utf-8") + b"\n"
        self.digest.update(data)
        self.size += len(data)
        self._file.write(data)

    def close(self) -> None:
        self._file.close()


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing exactly the bytes that go into the archive."""

    def __init__(self, handle, progress: Progress | None):
        self._handle = handle
        self._progress = progress
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.digest.update(data)
        if self._progress is not None:
            self._progress(len(data))
        return data


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _media_files(media_root: Path) -> list[tuple[Path, str]]:
    """Regular files under MEDIA_ROOT, with their archive names, in a stable order."""
    if not media_root.is_dir():
        return []
    found = []
    for directory, dirnames, filenames in os.walk(media_root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(directory) / filename
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(media_root).as_posix()
            found.append((path, f"{FILES_DIR}/{relative}"))
    return found


# Consistent read ------------------------------------------------------------------------


@contextmanager
def read_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """One read-only transaction over which every table is seen at the same instant.

    PostgreSQL: REPEATABLE READ, READ ONLY. SQLite: a deferred transaction (Hygie's
    connections otherwise open IMMEDIATE ones, which would block writers for the whole
    backup); in WAL mode its snapshot is fixed by the first read and writers go on.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        # Already inside a transaction (a test, a caller's atomic block): it is the snapshot.
        yield
        return
    connection.ensure_connection()
    previous_mode = getattr(connection, "transaction_mode", None)
    if connection.vendor == "sqlite":
        connection.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                elif connection.vendor == "mysql":
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                # The first read fixes the snapshot (SQLite WAL, MySQL).
                cursor.execute("SELECT COUNT(*) FROM django_migrations")
            yield
    finally:
        if connection.vendor == "sqlite":
            connection.transaction_mode = previous_mode


# Backup ---------------------------------------------------------------------------------


def default_backup_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"hygie-backup-{stamp}.tar.gz"


def create_backup(
    output: Path | None = None,
    *,
    using: str = DEFAULT_DB_ALIAS,
    progress_factory: Callable[..., object] | None = None,
) -> BackupResult:
    """Write the archive to `output` (a .tar.gz); nothing is left behind on failure."""
    if output is None:
        output = default_backup_path()
        output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    output = Path(output).resolve()
    if not output.parent.is_dir():
        raise BackupError(f"Le dossier {output.parent} n'existe pas.")
    media_root = Path(settings.MEDIA_ROOT).resolve()
    if output.is_relative_to(media_root):
        raise BackupError(
            f"Écrivez l'archive hors de {media_root} (dossier sauvegardé) : "
            "elle se contiendrait elle-même."
        )
    connection = connections[using]
    work = _make_private_dir(output.parent / f".{output.name}.{secrets.token_hex(4)}.work")
    partial = output.with_name(f".{output.name}.partial")
    try:
        with read_snapshot(using):
            database_entries, model_entries, rows = _dump_database(work, using, progress_factory)
            migrations = _applied_migrations(connection)
            chain = verify_chain()
            # Files last, still inside the snapshot: a file uploaded after the snapshot
            # may be included (harmless), a file the snapshot references is there.
            media = _media_files(media_root)
            file_entries = []
            for path, name in media:
                sha256, size = _sha256_file(path)
                file_entries.append({"path": name, "size": size, "sha256": sha256})
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hygie_version": hygie_version(),
            "created_at": timezone.now().isoformat(),
            "database_vendor": connection.vendor,
            "migrations": migrations,
            "models": model_entries,
            "audit": {"entries": chain.checked, "chain_ok": chain.ok},
            "key_id": key_id(),
            "files": database_entries + file_entries,
        }
        manifest["signature"] = _signature(manifest)
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        total_bytes = sum(entry["size"] for entry in manifest["files"])
        bar = _bar(progress_factory, total=total_bytes, desc="Archive", unit="B")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            _add_bytes(archive, MANIFEST_NAME, manifest_bytes)
            sources = {entry["path"]: work / entry["path"] for entry in database_entries}
            sources.update({name: path for path, name in media})
            for entry in manifest["files"]:
                _add_file(archive, sources[entry["path"]], entry, bar)
        bar.close()
        os.replace(partial, output)
    except BaseException:
        with suppress(FileNotFoundError):
            partial.unlink()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sha256, size = _sha256_file(output)
    record_event(
        "backup.created",
        details={
            "file": output.name,
            "sha256": sha256,
            "size": size,
            "rows": rows,
            "files": len(file_entries),
            "by": _os_user(),
        },
    )
    return BackupResult(
        path=output, sha256=sha256, size=size, rows=rows, files=len(file_entries), manifest=manifest
    )


def _dump_database(work: Path, using: str, progress_factory) -> tuple[list, list, int]:
    (work / DATABASE_DIR).mkdir()
    models_to_dump = archived_models()
    counts = {model: model._base_manager.using(using).count() for model in models_to_dump}
    bar = _bar(progress_factory, total=sum(counts.values()), desc="Base de données", unit=" lignes")
    database_entries, model_entries, total = [], [], 0
    with crypto.ciphertext_passthrough():
        for model in models_to_dump:
            label = model._meta.label_lower
            name = f"{DATABASE_DIR}/{label}.jsonl"
            writer = _HashingWriter(work / name)
            written = [0]

            def sink(record, writer=writer, written=written):
                writer.write_line(_dumps(record))
                written[0] += 1
                bar.update(1)

            m2m = [
                f.name
                for f in model._meta.many_to_many
                if f.remote_field.through._meta.auto_created
            ]
            queryset = model._base_manager.using(using).order_by(model._meta.pk.name)
            if m2m:
                queryset = queryset.prefetch_related(*m2m)
            try:
                _StreamingSerializer(sink).serialize(
                    queryset.iterator(chunk_size=2000),
                    use_natural_foreign_keys=_uses_install_rows(model),
                )
            finally:
                writer.close()
            written = written[0]
            total += written
            database_entries.append(
                {"path": name, "size": writer.size, "sha256": writer.digest.hexdigest()}
            )
            model_entries.append({"model": label, "rows": written, "file": name})
    bar.close()
    return database_entries, model_entries, total


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _add_file(archive: tarfile.TarFile, path: Path, entry: dict, bar) -> None:
    info = tarfile.TarInfo(entry["path"])
    info.size = entry["size"]
    info.mtime = int(path.stat().st_mtime)
    info.mode = 0o600
    with path.open("rb") as handle:
        reader = _HashingReader(handle, bar.update)
        archive.addfile(info, reader)
    if reader.digest.hexdigest() != entry["sha256"]:
        raise BackupError(
            f"Le fichier {path} a changé pendant la sauvegarde ; relancez `hygie backup`."
        )


def _make_private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700)
    return path


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


class _NullBar:
    def update(self, n=1):
        return None

    def close(self):
        return None


def _bar(progress_factory, **options):
    return progress_factory(**options) if progress_factory else _NullBar()


# Reading and verifying an archive -------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        bool(name)
        and not path.is_absolute()
        and ".." not in path.parts
        and "\\" not in name
        and str(path) == name
    )


def read_manifest(archive_path: Path) -> dict:
    """The archive's manifest, after checking its format and signature shape."""
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            first = archive.next()
            if first is None or first.name != MANIFEST_NAME or not first.isfile():
                raise BackupError(
                    f"{archive_path} n'est pas une archive Hygie : "
                    f"{MANIFEST_NAME} doit en être le premier élément."
                )
            if first.size > MAX_MANIFEST_BYTES:
                raise BackupError(f"{archive_path} : manifeste anormalement gros.")
            manifest = json.loads(archive.extractfile(first).read().decode("utf-8"))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"{archive_path} n'est pas une archive lisible : {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} n'est pas une archive Hygie (format inconnu).")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(
            f"{archive_path} a été produite par une version plus récente de Hygie "
            f"({manifest.get('hygie_version')}, format {manifest.get('format_version')}) : "
            "mettez Hygie à jour avant de restaurer."
        )
    for required in ("files", "models", "migrations", "signature", "key_id"):
        if required not in manifest:
            raise BackupError(f"{archive_path} : manifeste incomplet (« {required} » manque).")
    return manifest


def check_signature(manifest: dict, *, accept_other_key: bool = False) -> list[str]:
    """Refuse a manifest that was not signed with this install's key, unless told otherwise."""
    if hmac.compare_digest(str(manifest.get("signature")), _signature(manifest)):
        return []
    if manifest.get("key_id") == key_id():
        raise BackupError(
            "Archive altérée : la signature du manifeste ne correspond pas à son contenu. "
            "Rien n'a été restauré."
        )
    message = (
        "L'archive a été produite avec une autre HYGIE_SECRET_KEY "
        f"(empreinte {manifest.get('key_id')}, ici {key_id()})"
    )
    if not accept_other_key:
        raise BackupError(
            message + ". Définissez la HYGIE_SECRET_KEY (et HYGIE_ENCRYPTION_KEYS) de "
            "l'installation d'origine puis recommencez, ou passez --accept-other-key pour "
            "restaurer malgré tout (signature non vérifiable ; le journal ne se vérifiera "
            "plus, les jetons d'API et codes de secours seront invalides). Rien n'a été restauré."
        )
    return [message + " : signature non vérifiée, sommes de contrôle vérifiées."]


def check_schema(manifest: dict, using: str = DEFAULT_DB_ALIAS) -> str:
    """'same' or 'older'; refuses an archive from a newer (or unknown) schema."""
    connection = connections[using]
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces or [])
    archived = {
        (app_label, name) for app_label, names in manifest["migrations"].items() for name in names
    }
    unknown = sorted(archived - known)
    if unknown:
        app_label, name = unknown[0]
        raise BackupError(
            "L'archive provient d'un schéma plus récent que cette installation "
            f"(migration {app_label}.{name} inconnue ici, Hygie {manifest.get('hygie_version')}"
            f" contre {hygie_version()}). Installez une version de Hygie au moins aussi "
            "récente, puis restaurez. Rien n'a été restauré."
        )
    applied = set(loader.applied_migrations)
    missing_here = {node for node in loader.graph.leaf_nodes() if node not in applied}
    if missing_here:
        raise BackupError(
            "La base de données de cette installation n'est pas à jour : "
            "lancez `hygie migrate` puis recommencez."
        )
    return "same" if archived == applied else "older"


def _stage_archive(archive_path: Path, manifest: dict, staging: Path, progress_factory) -> None:
    """Copy every member into `staging`, checking names, sizes and SHA-256 as it goes."""
    expected = {}
    for entry in manifest["files"]:
        name = entry.get("path", "")
        if not _safe_member_name(name) or not (
            name.startswith(f"{DATABASE_DIR}/") or name.startswith(f"{FILES_DIR}/")
        ):
            raise BackupError(f"Archive refusée : chemin interdit dans le manifeste ({name!r}).")
        if name in expected:
            raise BackupError(f"Archive refusée : {name} apparaît deux fois dans le manifeste.")
        expected[name] = entry
    bar = _bar(
        progress_factory,
        total=sum(entry["size"] for entry in expected.values()),
        desc="Vérification",
        unit="B",
    )
    seen = set()
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            first = True
            for member in archive:
                if first:
                    first = False
                    continue  # the manifest, already read
                entry = expected.get(member.name)
                if entry is None or not member.isfile():
                    raise BackupError(
                        f"Archive altérée : élément inattendu {member.name!r} "
                        "(absent du manifeste). Rien n'a été restauré."
                    )
                if member.name in seen:
                    raise BackupError(f"Archive altérée : {member.name} en double.")
                if member.size != entry["size"]:
                    raise BackupError(
                        f"Archive altérée : {member.name} fait {member.size} octets, "
                        f"le manifeste en annonce {entry['size']}. Rien n'a été restauré."
                    )
                seen.add(member.name)
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                source = archive.extractfile(member)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while chunk := source.read(1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
                if digest.hexdigest() != entry["sha256"]:
                    raise BackupError(
                        f"Archive altérée : la somme SHA-256 de {member.name} ne correspond "
                        "pas au manifeste. Rien n'a été restauré."
                    )
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(
            f"Archive illisible ou tronquée : {exc}. Rien n'a été restauré."
        ) from None
    finally:
        bar.close()
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(
            f"Archive incomplète : {len(missing)} élément(s) manquant(s), dont {missing[0]}. "
            "Rien n'a été restauré."
        )


# Restore --------------------------------------------------------------------------------


def database_in_use(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rows already present in archived models (a fresh, migrated install has none)."""
    counts = {}
    for model in archived_models():
        rows = model._base_manager.using(using).all()
        seed = getattr(model, "INSTALL_SEED_ROWS", None)
        if seed:
            # Rows every installation creates by itself (the national node and the regions).
            rows = rows.exclude(**seed)
        count = rows.count()
        if count:
            counts[str(model._meta.verbose_name_plural)] = count
    return counts


def media_in_use() -> int:
    return len(_media_files(Path(settings.MEDIA_ROOT).resolve()))


def restore_backup(
    archive_path: Path,
    *,
    force: bool = False,
    accept_other_key: bool = False,
    check_only: bool = False,
    using: str = DEFAULT_DB_ALIAS,
    progress_factory: Callable[..., object] | None = None,
) -> RestoreResult:
    """Bring an archive back, all or nothing. See docs/operations.md."""
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"{archive_path} : fichier introuvable.")
    manifest = read_manifest(archive_path)
    warnings = check_signature(manifest, accept_other_key=accept_other_key)
    schema = check_schema(manifest, using)
    if schema == "older":
        raise BackupError(
            "L'archive provient d'un schéma plus ancien que cette installation "
            f"(Hygie {manifest.get('hygie_version')}, ici {hygie_version()}). "
            "Restaurez-la avec la version de Hygie qui l'a produite, puis mettez à jour "
            "(`hygie migrate`). Rien n'a été restauré."
        )
    if not check_only:
        in_use = database_in_use(using)
        files_present = media_in_use()
        if (in_use or files_present) and not force:
            largest = sorted(in_use.items(), key=lambda item: -item[1])[:4]
            described = ", ".join(f"{count} {label}" for label, count in largest)
            if files_present:
                described = ", ".join(
                    filter(None, [described, f"{files_present} fichier(s) sous MEDIA_ROOT"])
                )
            raise BackupError(
                f"Cette installation contient déjà des données ({described}). "
                "Restaurez sur une installation neuve (base vide, `hygie migrate` fait), "
                "ou passez --force pour TOUT remplacer par le contenu de l'archive. "
                "Rien n'a été restauré."
            )
    media_root = Path(settings.MEDIA_ROOT).resolve()
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = _make_private_dir(
        media_root.parent / f".{media_root.name}.restore-{secrets.token_hex(4)}"
    )
    try:
        _stage_archive(archive_path, manifest, staging, progress_factory)
        if check_only:
            rows = sum(entry["rows"] for entry in manifest["models"])
            files = sum(1 for e in manifest["files"] if e["path"].startswith(f"{FILES_DIR}/"))
            return RestoreResult(rows=rows, files=files, manifest=manifest, warnings=warnings)
        try:
            return _load(
                archive_path,
                manifest,
                staging,
                media_root,
                using=using,
                progress_factory=progress_factory,
                warnings=warnings,
                accept_other_key=accept_other_key,
            )
        except (DatabaseError, DeserializationError, ValidationError) as exc:
            detail = " ".join(str(exc).split()).rstrip(".")
            raise BackupError(
                f"L'archive ne se charge pas dans cette base : {detail}. Rien n'a été restauré."
            ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _load(
    archive_path,
    manifest,
    staging,
    media_root,
    *,
    using,
    progress_factory,
    warnings,
    accept_other_key,
):
    connection = connections[using]
    replaced_rows = sum(database_in_use(using).values())
    known_models = {model._meta.label_lower: model for model in archived_models()}
    for entry in manifest["models"]:
        if entry["model"] not in known_models:
            raise BackupError(
                f"L'archive contient le modèle {entry['model']}, inconnu de cette installation. "
                "Rien n'a été restauré."
            )
    total_rows = sum(entry["rows"] for entry in manifest["models"])
    old_media = media_root.with_name(f".{media_root.name}.replaced-{secrets.token_hex(4)}")
    swapped = moved_aside = False
    undecryptable: list[str] = []
    bar = _bar(progress_factory, total=total_rows, desc="Restauration", unit=" lignes")
    try:
        with transaction.atomic(using=using), crypto.ciphertext_passthrough():
            with connection.cursor() as cursor:
                for statement in connection.ops.sql_flush(
                    no_style(), _emptied_tables(), reset_sequences=False, allow_cascade=False
                ):
                    cursor.execute(statement)
            loaded = 0
            for entry in manifest["models"]:
                model = known_models[entry["model"]]
                secret_fields = [
                    f.attname
                    for f in model._meta.concrete_fields
                    if isinstance(f, crypto.EncryptedTextField)
                ]
                count = 0
                inserter = _BatchInserter(model, using)
                for deserialized in serializers.deserialize(
                    "python", _read_records(staging / entry["file"], entry["model"]), using=using
                ):
                    if deserialized.deferred_fields:
                        raise BackupError(
                            f"{entry['file']} : référence non résolue dans "
                            f"{entry['model']} #{deserialized.object.pk}."
                        )
                    for attname in secret_fields:
                        value = getattr(deserialized.object, attname)
                        if value and not _decrypts(value):
                            undecryptable.append(f"{entry['model']}#{deserialized.object.pk}")
                    inserter.add(deserialized)
                    count += 1
                    bar.update(1)
                inserter.flush()
                if count != entry["rows"]:
                    raise BackupError(
                        f"{entry['file']} : {count} lignes lues, le manifeste en annonce "
                        f"{entry['rows']}. Rien n'a été restauré."
                    )
                loaded += count
            models_loaded = list(known_models.values())
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), models_loaded):
                    cursor.execute(statement)
            connection.check_constraints(
                table_names=[model._meta.db_table for model in models_loaded]
            )
            if undecryptable:
                message = (
                    f"{len(undecryptable)} secret(s) chiffré(s) de l'archive "
                    f"(dont {undecryptable[0]}) ne se déchiffrent pas avec les clés de cette "
                    "machine (HYGIE_ENCRYPTION_KEYS, à défaut HYGIE_SECRET_KEY)"
                )
                if not accept_other_key:
                    raise BackupError(
                        message + ". Définissez les clés de l'installation d'origine puis "
                        "recommencez, ou passez --accept-other-key pour restaurer sans eux. "
                        "Rien n'a été restauré."
                    )
                warnings.append(message + ".")
            chain = verify_chain()
            if not chain.ok:
                if manifest.get("audit", {}).get("chain_ok") and not accept_other_key:
                    raise BackupError(
                        "Le journal de sécurité restauré ne se vérifie pas alors qu'il se "
                        f"vérifiait à la sauvegarde ({chain.problems[0]}). Rien n'a été restauré."
                    )
                warnings.append(
                    f"Le journal de sécurité restauré ne se vérifie pas : {chain.problems[0]}"
                )
            files = [e for e in manifest["files"] if e["path"].startswith(f"{FILES_DIR}/")]
            if media_root.exists():
                os.replace(media_root, old_media)
                moved_aside = True
            staged_media = staging / FILES_DIR
            if staged_media.exists():
                os.replace(staged_media, media_root)
            else:
                media_root.mkdir()
            swapped = True
            record_event(
                "backup.restored",
                details={
                    "file": archive_path.name,
                    "created_at": manifest.get("created_at"),
                    "source_vendor": manifest.get("database_vendor"),
                    "hygie_version": manifest.get("hygie_version"),
                    "rows": loaded,
                    "files": len(files),
                    "replaced_rows": replaced_rows,
                    "by": _os_user(),
                },
            )
    except BaseException:
        # The database rolled back: put the files directory back as it was.
        if swapped:
            shutil.rmtree(media_root, ignore_errors=True)
        if moved_aside:
            os.replace(old_media, media_root)
        raise
    finally:
        bar.close()
    shutil.rmtree(old_media, ignore_errors=True)
    return RestoreResult(
        rows=loaded,
        files=len(files),
        manifest=manifest,
        replaced_rows=replaced_rows,
        warnings=warnings,
    )


class _BatchInserter:
    """Inserts deserialised rows as they are (raw: no auto_now, no save()), many per INSERT.

    Rows with many-to-many data go one by one through Django's own raw save, which sets
    the relations; the others are batched, which makes PostgreSQL restores several times
    faster than one INSERT per row.
    """

    def __init__(self, model: type[models.Model], using: str):
        self.model = model
        self.using = using
        self.fields = list(model._meta.local_concrete_fields)
        connection = connections[using]
        self.batch_size = max(
            1, min(500, connection.ops.bulk_batch_size(self.fields, [None] * 500))
        )
        self.pending: list[models.Model] = []

    def add(self, deserialized) -> None:
        if any(deserialized.m2m_data.values()):
            self.flush()
            deserialized.save(using=self.using, force_insert=True)
            return
        self.pending.append(deserialized.object)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.model._base_manager.using(self.using)._insert(
                self.pending, fields=self.fields, using=self.using, raw=True
            )
            self.pending = []


def _decrypts(token: str) -> bool:
    try:
        crypto.decrypt(token)
    except ValueError:
        return False
    return True


def _read_records(path: Path, model_label: str) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise BackupError(f"{path.name}, ligne {number} : JSON invalide ({exc}).") from None
            if record.get("model") != model_label:
                raise BackupError(
                    f"{path.name}, ligne {number} : objet {record.get('model')!r} inattendu."
                )
            yield record

"""Uploaded files: checking what is accepted, and serving it back so it cannot run anything.

Shared by assessment evidence and awareness kits. A file is accepted by its extension AND its
first bytes (a renamed executable is refused), within a size limit; it is kept under the data
directory with a random name, never the one it came with.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils.translation import gettext as _

# The first bytes of the formats Hygie accepts somewhere.
PDF = (b"%PDF-",)
PNG = (b"\x89PNG\r\n\x1a\n",)
JPEG = (b"\xff\xd8\xff",)
ZIP = (b"PK\x03\x04",)
TEXT = None  # no signature: must simply not be binary


def check_upload(
    upload, allowed: dict, max_bytes: int, *, default_name: str = "fichier"
) -> tuple[str, str, str]:
    """(safe original name, content type, sha256) of an acceptable file; ValidationError else.

    `allowed` maps an extension to (content type served back, accepted first bytes or TEXT).
    """
    name = PurePath(upload.name or "").name[:200] or default_name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in allowed:
        raise ValidationError(
            _("Type de fichier refusé (« .%(ext)s »). Acceptés : %(allowed)s.")
            % {"ext": extension or "?", "allowed": ", ".join(sorted(allowed))}
        )
    if upload.size > max_bytes:
        raise ValidationError(
            _("Le fichier dépasse %(size)s Mo.") % {"size": max_bytes // (1024 * 1024)}
        )
    if upload.size == 0:
        raise ValidationError(_("Le fichier est vide."))
    content_type, signatures = allowed[extension]
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if not head:
            head = chunk[:16]
        digest.update(chunk)
    upload.seek(0)
    if signatures and not any(head.startswith(signature) for signature in signatures):
        raise ValidationError(
            _("Le contenu du fichier ne correspond pas à son extension « .%(ext)s ».")
            % {"ext": extension}
        )
    if signatures is None and b"\x00" in head:
        raise ValidationError(_("Un fichier « .%(ext)s » doit être du texte.") % {"ext": extension})
    return name, content_type, digest.hexdigest()


def store(upload, folder: str) -> str:
    """Save under MEDIA_ROOT/<folder>/ with a random name; returns the stored name."""
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}", upload)


def discard(stored_name: str) -> None:
    if stored_name:
        default_storage.delete(stored_name)


def attachment(file, filename: str, content_type: str) -> FileResponse:
    """The file as a download, unable to run anything even if opened in the browser."""
    response = FileResponse(
        file,
        as_attachment=True,
        filename=filename,
        content_type=content_type or "application/octet-stream",
    )
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

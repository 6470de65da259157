"""Evidence files: what is accepted, how it is stored, how it is served back."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024

# extension -> (content type served back, check on the first bytes)
_ZIP = b"PK\x03\x04"
ALLOWED = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (_ZIP,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (_ZIP,)),
    "odt": ("application/vnd.oasis.opendocument.text", (_ZIP,)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (_ZIP,)),
    "txt": ("text/plain; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", None),
    "eml": ("message/rfc822", None),
}


def check_upload(upload) -> tuple[str, str, str]:
    """(safe original name, content type, sha256) of an acceptable file; ValidationError else."""
    name = PurePath(upload.name or "").name[:200] or "preuve"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED:
        raise ValidationError(
            _("Type de fichier refusé (« .%(ext)s »). Acceptés : %(allowed)s.")
            % {"ext": extension or "?", "allowed": ", ".join(sorted(ALLOWED))}
        )
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError(_("Le fichier dépasse 20 Mo."))
    if upload.size == 0:
        raise ValidationError(_("Le fichier est vide."))
    content_type, signatures = ALLOWED[extension]
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


def serve(evidence) -> FileResponse:
    """The file as a download, unable to run anything even if opened in the browser."""
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

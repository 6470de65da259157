"""Evidence files: what is accepted, how it is stored, how it is served back.

The checks and the safe download live in `hygie/core/uploads.py` (shared with awareness kits).
"""

from __future__ import annotations

from django.http import FileResponse

from hygie.core import uploads

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024

# extension -> (content type served back, check on the first bytes)
ALLOWED = {
    "pdf": ("application/pdf", uploads.PDF),
    "png": ("image/png", uploads.PNG),
    "jpg": ("image/jpeg", uploads.JPEG),
    "jpeg": ("image/jpeg", uploads.JPEG),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        uploads.ZIP,
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", uploads.ZIP),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        uploads.ZIP,
    ),
    "odt": ("application/vnd.oasis.opendocument.text", uploads.ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", uploads.ZIP),
    "txt": ("text/plain; charset=utf-8", uploads.TEXT),
    "csv": ("text/csv; charset=utf-8", uploads.TEXT),
    "eml": ("message/rfc822", uploads.TEXT),
}


def check_upload(upload) -> tuple[str, str, str]:
    """(safe original name, content type, sha256) of an acceptable file; ValidationError else."""
    return uploads.check_upload(upload, ALLOWED, MAX_EVIDENCE_BYTES, default_name="preuve")


def serve(evidence) -> FileResponse:
    """The file as a download, unable to run anything even if opened in the browser."""
    return uploads.attachment(
        evidence.file.open("rb"), evidence.original_name, evidence.content_type
    )

"""The report endpoint of mail-client report buttons (an Outlook or Thunderbird add-in).

POST the reported message either as the body (Content-Type: message/rfc822) or as the file
field `message` of a multipart form, with the mailbox's secret in `Authorization: Bearer
hyr_...`. The secret is the credential: no session, no CSRF token. Answers JSON.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hygie.core.throttle import allow
from hygie.mailreports import analysis, services
from hygie.mailreports.models import Source


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _reporter(request) -> str:
    """The reporting person's address, when the add-in gives it (header or form field)."""
    from django.core.validators import validate_email

    value = request.headers.get("X-Hygie-Reporter", "")
    if not value and request.content_type != "message/rfc822":
        value = request.POST.get("reporter", "")
    try:
        validate_email(value)
    except Exception:
        return ""
    return value


@csrf_exempt
@never_cache
@require_POST
def button_report(request):
    header = request.headers.get("Authorization", "")
    secret = header[7:].strip() if header[:7].lower() == "bearer " else ""
    mailbox = services.mailbox_for_token(secret) if secret else None
    if mailbox is None:
        return _error(_("Jeton de bouton de signalement absent ou inconnu."), 401)
    if not allow("mailreports-button", str(mailbox.pk), capacity=120, per_seconds=60):
        return _error(_("Trop de signalements en peu de temps : réessayez dans une minute."), 429)
    try:
        if request.content_type == "message/rfc822":
            raw = request.body
        else:
            upload = request.FILES.get("message")
            if upload is None:
                return _error(
                    _(
                        "Message absent : envoyez-le en corps (message/rfc822) ou dans le champ "
                        "« message »."
                    ),
                    400,
                )
            problem = services.too_big(upload.size or 0, upload.name or "")
            if problem:
                return _error(str(problem), 413)
            raw = upload.read()
    except RequestDataTooBig:
        return _error(_("Message trop volumineux."), 413)
    try:
        intake = services.ingest(
            raw,
            organisation=mailbox.organisation,
            source=Source.BUTTON,
            mailbox=mailbox,
            reporter=_reporter(request),
        )
    except analysis.UnreadableMessage as exc:
        return _error(str(exc), 400)
    return JsonResponse(
        {
            "ok": True,
            "report": intake.report.pk,
            "new": intake.created,
            "exercise": intake.report.recipient_id is not None,
        },
        status=201 if intake.created else 200,
    )

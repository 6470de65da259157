"""A GoPhish-compatible REST API subset, so that GoPhish scripts and its Python client keep
working against Hygie (decision 0442).

Same paths (`/api/campaigns/`, `/api/groups/`, `/api/templates/`, `/api/pages/`, `/api/smtp/`),
JSON field names and key authentication (`Authorization: Bearer <key>` or `?api_key=<key>`) as
GoPhish; the key is a Hygie API token: its scope (read or write) and its organisation narrow what
it may do, and every object goes through `visible_to`. Templates and pages are custom lures,
groups are target lists, sending profiles keep their password to themselves, and campaigns are
simulations launched through `services.launch`. Submitted data is always empty: Hygie never
keeps what a person typed.
"""

from __future__ import annotations

import json
from datetime import time

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from hygie.accounts.api_auth import ApiTokenAuthentication, TokenScopePermission
from hygie.accounts.models import ApiToken, ApiTokenScope
from hygie.core.audit import record_event
from hygie.core.visibility import (
    clear_scope_cache,
    get_for_action_or_refuse,
    get_visible_or_404,
    scopes_for,
)
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can
from hygie.phishing import gophish, privacy, services
from hygie.phishing.custom_views import reachable_lures, simulations_using
from hygie.phishing.lures import available_custom_lures, library
from hygie.phishing.models import (
    CUSTOM_PREFIX,
    CampaignStatus,
    CustomLure,
    Event,
    EventKind,
    SendingProfile,
    SendStatus,
    Simulation,
    TargetList,
)

ZERO_TIME = "0001-01-01T00:00:00Z"  # how GoPhish writes a date that is not set
OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)

CAMPAIGN_STATUS = {
    CampaignStatus.DRAFT: "Created",
    CampaignStatus.SCHEDULED: "Queued",
    CampaignStatus.SENDING: "In progress",
    CampaignStatus.PAUSED: "In progress",
    CampaignStatus.RUNNING: "Emails Sent",
    CampaignStatus.COMPLETED: "Completed",
    CampaignStatus.CANCELLED: "Completed",
}
EVENT_MESSAGES = {
    EventKind.OPEN: "Email Opened",
    EventKind.CLICK: "Clicked Link",
    EventKind.SUBMIT: "Submitted Data",
    EventKind.REPORT: "Email Reported",
}
# Hygie's placeholders written back as GoPhish's variables (templates and pages read back).
_BACK = {
    "prenom": "{{.FirstName}}",
    "nom": "{{.LastName}}",
    "lien": "{{.URL}}",
    "pixel": "{{.Tracker}}",
    "expediteur": "{{.From}}",
    "service": "{{.Position}}",
}


def _date(value) -> str:
    if not value:
        return ZERO_TIME
    return value.isoformat().replace("+00:00", "Z")


def _to_gophish(text: str) -> str:
    for name, variable in _BACK.items():
        text = (text or "").replace("{{" + name + "}}", variable)
    return text


# ----------------------------------------------------------------------------- the framework


class GophishKeyAuthentication(ApiTokenAuthentication):
    """A Hygie API token given as GoPhish clients give their key: `?api_key=` or Bearer."""

    def authenticate(self, request):
        key = request.query_params.get("api_key")
        if not key:
            return super().authenticate(request)
        token = ApiToken.find_active(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Jeton invalide, expiré ou révoqué."))
        user = token.user
        clear_scope_cache(user)
        user._hygie_token_restrict = token.organisation.path if token.organisation_id else None
        if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return user, token


class Refused(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT


@extend_schema(exclude=True)  # Hygie's own schema documents /api/v1/; this is GoPhish's
class GophishView(APIView):
    authentication_classes = [GophishKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, TokenScopePermission]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    def handle_exception(self, exc):
        """Errors in GoPhish's shape: {"message", "success": false, "data": null}."""
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(data, dict) and "detail" in data:
            message = str(data["detail"])
        elif isinstance(data, dict):
            message = " ".join(f"{key}: {value}" for key, value in data.items())
        else:
            message = str(data)
        response.data = {"message": message, "success": False, "data": None}
        return response

    def body(self) -> dict:
        data = self.request.data
        if not isinstance(data, dict):
            raise Refused(_("Un objet JSON est attendu."))
        return data

    def require_write(self):
        token = self.request.auth
        if isinstance(token, ApiToken) and token.scope == ApiTokenScope.READ:
            raise exceptions.PermissionDenied(_("Ce jeton est en lecture seule."))

    def home(self, action: str = CHANGE) -> Organisation:
        """Where new objects go: the token's establishment or GHT, or the only one where the
        person may write."""
        token = self.request.auth
        user = self.request.user
        if isinstance(token, ApiToken) and token.organisation_id:
            node = token.organisation
            if node.kind in OWNER_KINDS and can(user, action, node):
                return node
        else:
            paths = scopes_for(user, action)
            if not paths:
                raise exceptions.PermissionDenied(_("Vous n'avez pas le droit d'écrire."))
            if isinstance(paths, list):
                nodes = list(Organisation.objects.filter(path__in=paths, kind__in=OWNER_KINDS)[:2])
                if len(nodes) == 1 and len(paths) == 1:
                    return nodes[0]
        raise Refused(
            _(
                "Limitez le jeton à un établissement ou à un GHT où vous pouvez écrire : "
                "c'est là que Hygie range ce qu'il crée."
            )
        )


def _for(queryset, request, action: str, pk):
    """The object for a write: 404 outside what the key sees, 403 when it only reads it."""
    try:
        return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=pk)
    except Http404:
        raise exceptions.NotFound(_("Introuvable.")) from None


def _success(message: str, code=status.HTTP_200_OK) -> Response:
    return Response({"message": message, "success": True, "data": None}, status=code)


def _problems(report: gophish.ImportReport) -> str:
    return " ; ".join(str(problem) for problem in report.problems)


def _checked(values_of, body: dict):
    """Field values read from a GoPhish object, or a 400 naming the problems."""
    report = gophish.ImportReport()
    document = gophish._JsonDocument(json.dumps(body, indent=1))
    values, _notes = values_of(body, gophish._JsonChecker(document, report), ())
    if not report.ok:
        raise Refused(_problems(report))
    return values


# ------------------------------------------------------------------------ templates and pages


def template_json(lure: CustomLure) -> dict:
    return {
        "id": lure.pk,
        "name": lure.name,
        "envelope_sender": "",
        "subject": _to_gophish(lure.subject),
        "text": _to_gophish(lure.text),
        "html": _to_gophish(lure.html),
        "modified_date": _date(lure.updated_at),
        "attachments": [],
    }


def page_json(lure: CustomLure) -> dict:
    return {
        "id": lure.pk,
        "name": lure.name,
        "html": _to_gophish(lure.landing_html),
        "capture_credentials": bool(lure.landing_fields),
        # Hygie never keeps what is typed, passwords least of all.
        "capture_passwords": False,
        "redirect_url": "",
        "modified_date": _date(lure.updated_at),
    }


_HAS_MESSAGE = ~Q(subject="", text="", html="")
_HAS_PAGE = ~Q(landing_html="")


class _LureCollection(GophishView):
    has = _HAS_MESSAGE
    to_json = staticmethod(template_json)
    values_of = staticmethod(gophish.template_values)
    taken_message = ""

    def filled(self, lure: CustomLure) -> bool:
        return CustomLure.objects.filter(pk=lure.pk).filter(self.has).exists()

    def get(self, request):
        lures = reachable_lures(request.user).filter(self.has).order_by("pk")
        return Response([self.to_json(lure) for lure in lures])

    def post(self, request):
        home = self.home()
        values = _checked(self.values_of, self.body())
        existing = CustomLure.objects.filter(organisation=home, name=values["name"]).first()
        # A template and a page of the same name make one lure (as the import does).
        if existing is not None and self.filled(existing):
            raise Conflict(self.taken_message)
        lure, _created = gophish._upsert_lure(home, values, actor=request.user)
        record_event(
            "phishing.lure_create",
            request=request,
            target=lure,
            organisation=home,
            details={"name": lure.name, "origin": "gophish-api"},
        )
        return Response(self.to_json(lure), status=status.HTTP_201_CREATED)


class _LureItem(GophishView):
    has = _HAS_MESSAGE
    to_json = staticmethod(template_json)
    values_of = staticmethod(gophish.template_values)
    deleted_message = ""

    def lure(self, action=VIEW) -> CustomLure:
        if action == VIEW:
            lure = reachable_lures(self.request.user).filter(self.has, pk=self.kwargs["pk"]).first()
            if lure is None:
                raise exceptions.NotFound(_("Introuvable."))
            return lure
        return _for(CustomLure.objects.filter(self.has), self.request, action, self.kwargs["pk"])

    def get(self, request, pk):
        return Response(self.to_json(self.lure()))

    def put(self, request, pk):
        lure = self.lure(CHANGE)
        values = _checked(self.values_of, self.body())
        taken = CustomLure.objects.filter(organisation=lure.organisation, name=values["name"])
        if taken.exclude(pk=lure.pk).exists():
            raise Refused(_("Ce nom est déjà pris."))
        for key, value in values.items():
            setattr(lure, key, value)
        lure.save()
        return Response(self.to_json(lure))

    def delete(self, request, pk):
        lure = self.lure(MANAGE)
        used = simulations_using(lure)
        if used:
            raise Refused(
                _("Sert aux campagnes %(used)s : suppression impossible.")
                % {"used": ", ".join(used)}
            )
        record_event(
            "phishing.lure_delete",
            request=request,
            target=lure,
            organisation=lure.organisation,
            details={"name": lure.name, "origin": "gophish-api"},
        )
        lure.delete()
        return _success(self.deleted_message)


class Templates(_LureCollection):
    taken_message = "Template name already in use"


class TemplateItem(_LureItem):
    deleted_message = "Template deleted successfully!"


class Pages(_LureCollection):
    has = _HAS_PAGE
    to_json = staticmethod(page_json)
    values_of = staticmethod(gophish.page_values)
    taken_message = "Page name already in use"


class PageItem(_LureItem):
    has = _HAS_PAGE
    to_json = staticmethod(page_json)
    values_of = staticmethod(gophish.page_values)
    deleted_message = "Page Deleted Successfully"


# ------------------------------------------------------------------------------------ groups


def group_json(target_list: TargetList) -> dict:
    return {
        "id": target_list.pk,
        "name": target_list.name,
        "modified_date": _date(target_list.updated_at),
        "targets": [
            {
                "email": person.email,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "position": person.job_title,
            }
            for person in target_list.members.all()
        ],
    }


def group_summary_json(target_list: TargetList) -> dict:
    return {
        "id": target_list.pk,
        "name": target_list.name,
        "modified_date": _date(target_list.updated_at),
        "num_targets": target_list.size,
    }


def _visible_lists(user):
    return TargetList.objects.visible_to(user, VIEW).order_by("pk")


def _save_group(view, home: Organisation, body: dict, name: str) -> TargetList:
    report = gophish.import_groups(
        home,
        json.dumps({**body, "name": name}).encode(),
        filename="group.json",
        actor=view.request.user,
    )
    if not report.ok:
        raise Refused(_problems(report))
    return TargetList.objects.get(organisation=home, name=name)


class Groups(GophishView):
    def get(self, request):
        lists = _visible_lists(request.user).prefetch_related("members")
        return Response([group_json(item) for item in lists])

    def post(self, request):
        home = self.home()
        body = self.body()
        name = str(body.get("name") or "").strip()
        if not name:
            raise Refused(_("Nom du groupe manquant."))
        if TargetList.objects.filter(organisation=home, name=name).exists():
            raise Conflict("Group name already in use")
        target_list = _save_group(self, home, body, name)
        return Response(group_json(target_list), status=status.HTTP_201_CREATED)


class GroupsSummary(GophishView):
    def get(self, request):
        lists = _visible_lists(request.user).annotate(size=Count("members"))
        rows = [group_summary_json(item) for item in lists]
        return Response({"total": len(rows), "groups": rows})


class GroupItem(GophishView):
    def get(self, request, pk):
        return Response(group_json(get_visible_or_404(TargetList.objects, request.user, pk=pk)))

    def put(self, request, pk):
        target_list = _for(TargetList.objects.select_related("organisation"), request, CHANGE, pk)
        body = self.body()
        name = str(body.get("name") or target_list.name).strip()
        node = target_list.organisation
        if name != target_list.name:
            if TargetList.objects.filter(organisation=node, name=name).exists():
                raise Refused(_("Ce nom est déjà pris."))
            with transaction.atomic():
                target_list.name = name
                target_list.save(update_fields=["name", "updated_at"])
                target_list = _save_group(self, node, body, name)
        else:
            target_list = _save_group(self, node, body, name)
        return Response(group_json(target_list))

    def delete(self, request, pk):
        target_list = _for(TargetList.objects, request, MANAGE, pk)
        if target_list.simulations.exists():
            raise Refused(_("Ce groupe sert à des campagnes : suppression impossible."))
        target_list.delete()
        return _success("Group deleted successfully!")


class GroupSummaryItem(GophishView):
    def get(self, request, pk):
        target_list = get_visible_or_404(
            TargetList.objects.annotate(size=Count("members")), request.user, pk=pk
        )
        return Response(group_summary_json(target_list))


# ------------------------------------------------------------------------- sending profiles


def smtp_json(profile: SendingProfile) -> dict:
    # No password, ever: GoPhish itself leaves it out when empty, so clients cope.
    return {
        "id": profile.pk,
        "interface_type": "SMTP",
        "name": profile.name,
        "host": f"{profile.host}:{profile.port}",
        "username": profile.username,
        "from_address": profile.from_address,
        "ignore_cert_errors": False,
        "headers": [],
        "modified_date": _date(profile.updated_at),
    }


class SendingProfiles(GophishView):
    def get(self, request):
        profiles = SendingProfile.objects.visible_to(request.user, VIEW).order_by("pk")
        return Response([smtp_json(profile) for profile in profiles])


class SendingProfileItem(GophishView):
    def get(self, request, pk):
        return Response(smtp_json(get_visible_or_404(SendingProfile.objects, request.user, pk=pk)))


# --------------------------------------------------------------------------------- campaigns


def _result_status(recipient) -> str:
    if recipient.submitted_at:
        return "Submitted Data"
    if recipient.first_click_at:
        return "Clicked Link"
    if recipient.first_open_at:
        return "Email Opened"
    if recipient.send_status == SendStatus.SENT:
        return "Email Sent"
    if recipient.send_status == SendStatus.FAILED:
        return "Error"
    if recipient.send_status == SendStatus.RETRY:
        return "Retrying"
    if recipient.send_status == SendStatus.CANCELLED:
        return "Unknown"
    return "Scheduled"


class _Identity:
    """Who the rows of a campaign may name, for the user asking (privacy by design, decision
    0433): names and addresses for those who may reveal them (journalled), pseudonyms for the
    other roles that run the programme, nothing individual for the rest."""

    def __init__(self, request, simulation: Simulation):
        self.rows = can(request.user, CHANGE, simulation.organisation)
        self.names = self.rows and privacy.may_reveal(request.user, simulation.organisation)
        self.organisation_id = simulation.organisation_id
        if self.names:
            record_event(
                "phishing.results_reveal",
                request=request,
                target=simulation,
                organisation=simulation.organisation,
                details={"reason": "API compatible GoPhish", "origin": "gophish-api"},
            )

    def email(self, recipient) -> str:
        if self.names:
            return recipient.email
        code = privacy.pseudonym(self.organisation_id, recipient.staff_id, recipient.email)
        return code.split()[-1].lower() + "@pseudonyme.invalid"

    def person(self, recipient) -> tuple[str, str]:
        if self.names and recipient.staff:
            return recipient.staff.first_name, recipient.staff.last_name
        return privacy.pseudonym(self.organisation_id, recipient.staff_id, recipient.email), ""


def _results(simulation: Simulation, who: _Identity) -> list[dict]:
    if not who.rows:
        return []
    recipients = simulation.recipients.select_related("staff").order_by("pk")
    return [_result_row(recipient, who, *who.person(recipient)) for recipient in recipients]


def _result_row(recipient, who: _Identity, first_name: str, last_name: str) -> dict:
    return {
        # Never the tracking token: it is the key of the person's links.
        "id": str(recipient.pk),
        "status": _result_status(recipient),
        "ip": "",
        "latitude": 0,
        "longitude": 0,
        "send_date": _date(recipient.sent_at or recipient.scheduled_at),
        "reported": recipient.reported_at is not None,
        "modified_date": _date(
            max(
                (
                    moment
                    for moment in (
                        recipient.sent_at,
                        recipient.first_open_at,
                        recipient.first_click_at,
                        recipient.submitted_at,
                        recipient.reported_at,
                    )
                    if moment
                ),
                default=None,
            )
        ),
        "email": who.email(recipient),
        "first_name": first_name,
        "last_name": last_name,
        "position": recipient.staff.job_title if recipient.staff and who.names else "",
    }


def _timeline(simulation: Simulation, who: _Identity) -> list[dict]:
    entries = [
        {
            "campaign_id": simulation.pk,
            "email": "",
            "time": _date(simulation.created_at),
            "message": "Campaign Created",
            "details": "",
        }
    ]
    if not who.rows:
        return entries
    for recipient in simulation.recipients.filter(sent_at__isnull=False).only(
        "email", "sent_at", "staff_id"
    ):
        entries.append(
            {
                "campaign_id": simulation.pk,
                "email": who.email(recipient),
                "time": _date(recipient.sent_at),
                "message": "Email Sent",
                "details": "",
            }
        )
    events = Event.objects.filter(recipient__simulation=simulation, automated=False).select_related(
        "recipient"
    )
    for event in events:
        kind, at, email = event.kind, event.at, who.email(event.recipient)
        # Submitted data is always empty: Hygie never keeps what was typed.
        details = json.dumps({"payload": {}, "browser": {}}) if kind != EventKind.OPEN else ""
        entries.append(
            {
                "campaign_id": simulation.pk,
                "email": email,
                "time": _date(at),
                "message": EVENT_MESSAGES[kind],
                "details": details,
            }
        )
    entries.sort(key=lambda entry: entry["time"])
    return entries


def _stats(simulation: Simulation) -> dict:
    # GoPhish counts each stage with the stages past it (a click implies an open).
    counts = simulation.recipients.aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        opened=Count(
            "pk",
            filter=Q(first_open_at__isnull=False)
            | Q(first_click_at__isnull=False)
            | Q(submitted_at__isnull=False),
        ),
        clicked=Count("pk", filter=Q(first_click_at__isnull=False) | Q(submitted_at__isnull=False)),
        submitted_data=Count("pk", filter=Q(submitted_at__isnull=False)),
        email_reported=Count("pk", filter=Q(reported_at__isnull=False)),
        error=Count("pk", filter=Q(send_status=SendStatus.FAILED)),
    )
    return counts


def _lure_part(simulation: Simulation):
    key = (simulation.lures or [""])[0]
    if key.startswith(CUSTOM_PREFIX):
        custom = CustomLure.objects.filter(pk=key[len(CUSTOM_PREFIX) :]).first()
        if custom is not None:
            return template_json(custom), page_json(custom)
    lure = next((item for item in library() if item.slug == key), None)
    name = lure.name if lure else key
    template = {
        "id": 0,
        "name": name,
        "envelope_sender": "",
        "subject": _to_gophish(lure.subject) if lure else "",
        "text": _to_gophish(lure.text) if lure else "",
        "html": _to_gophish(lure.html) if lure else "",
        "modified_date": ZERO_TIME,
        "attachments": [],
    }
    page = {
        "id": 0,
        "name": name,
        "html": "",
        "capture_credentials": True,
        "capture_passwords": False,
        "redirect_url": "",
        "modified_date": ZERO_TIME,
    }
    return template, page


def summary_json(simulation: Simulation) -> dict:
    return {
        "id": simulation.pk,
        "created_date": _date(simulation.created_at),
        "launch_date": _date(simulation.send_from or simulation.launched_at),
        "send_by_date": _date(simulation.send_until),
        "completed_date": _date(simulation.completed_at),
        "status": CAMPAIGN_STATUS[simulation.status],
        "name": simulation.name,
        "stats": _stats(simulation),
    }


def campaign_json(simulation: Simulation, request) -> dict:
    who = _Identity(request, simulation)
    template, page = _lure_part(simulation)
    return {
        "id": simulation.pk,
        "name": simulation.name,
        "created_date": _date(simulation.created_at),
        "launch_date": _date(simulation.send_from or simulation.launched_at),
        "send_by_date": _date(simulation.send_until),
        "completed_date": _date(simulation.completed_at),
        "template": template,
        "page": page,
        "status": CAMPAIGN_STATUS[simulation.status],
        "results": _results(simulation, who),
        "groups": [
            {"id": item.pk, "name": item.name, "modified_date": _date(item.updated_at)}
            for item in simulation.target_lists.all()
        ],
        "timeline": _timeline(simulation, who),
        "smtp": smtp_json(simulation.sending_profile),
        "url": settings.SIMULATION_BASE_URL,
    }


def results_json(simulation: Simulation, request) -> dict:
    who = _Identity(request, simulation)
    return {
        "id": simulation.pk,
        "name": simulation.name,
        "status": CAMPAIGN_STATUS[simulation.status],
        "results": _results(simulation, who),
        "timeline": _timeline(simulation, who),
    }


def _named(body: dict, key: str) -> str:
    value = body.get(key)
    return str(value.get("name") or "").strip() if isinstance(value, dict) else ""


def _when(body: dict, key: str):
    raw = body.get(key)
    if not raw or raw == ZERO_TIME:
        return None
    moment = parse_datetime(str(raw)) if isinstance(raw, str) else None
    if moment is None:
        raise Refused(_("%(key)s : date invalide (ISO 8601 attendu).") % {"key": key})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


_COPIED = (
    "summary",
    "audiences",
    "sender_name",
    "sender_local_part",
    "subject",
    "text",
    "html",
    "signs",
    "teachable_title",
    "teachable_body",
)
_LANDING = ("landing_title", "landing_intro", "landing_fields", "landing_button", "landing_html")


def _library_values(lure) -> dict:
    return {
        "summary": lure.summary,
        "audiences": list(lure.audiences),
        "sender_name": lure.sender.display_name,
        "sender_local_part": lure.sender.local_part,
        "subject": lure.subject,
        "text": lure.text,
        "html": lure.html,
        "signs": [{"where": s.where, "text": s.text} for s in lure.signs],
        "teachable_title": lure.teachable.title,
        "teachable_body": lure.teachable.body,
        "landing_title": lure.landing.title,
        "landing_intro": lure.landing.intro,
        "landing_fields": [
            {"name": f.name, "label": f.label, "type": f.type} for f in lure.landing.fields
        ],
        "landing_button": lure.landing.button,
        "landing_html": "",
    }


class Campaigns(GophishView):
    def get(self, request):
        simulations = (
            Simulation.objects.visible_to(request.user, VIEW)
            .select_related("sending_profile")
            .order_by("pk")
        )
        return Response([campaign_json(simulation, request) for simulation in simulations])

    def _lure_key(self, home, template_name: str, page_name: str, campaign: str) -> str:
        """The lure of the campaign: the template's, with the page's landing when the page is
        another lure (then a new custom lure joins the two, as GoPhish joins them at send)."""
        reachable = reachable_lures(self.request.user).filter(
            pk__in=available_custom_lures(home).values("pk")
        )
        template = reachable.filter(_HAS_MESSAGE, name=template_name).first()
        shipped = None
        if template is None:
            shipped = next(
                (lure for lure in library() if template_name in (lure.name, lure.slug)), None
            )
            if shipped is None:
                raise Refused(_("Modèle introuvable : %(name)s.") % {"name": template_name})
        page = reachable.filter(name=page_name).first()
        if page is None:
            if page_name == template_name:
                # The template's own landing page (a library lure has one).
                return template.key if template is not None else shipped.slug
            raise Refused(_("Page introuvable : %(name)s.") % {"name": page_name})
        if template is not None and page.pk == template.pk:
            return template.key
        if template is None:
            values = _library_values(shipped)
        else:
            values = {field: getattr(template, field) for field in _COPIED}
        values.update({field: getattr(page, field) for field in _LANDING})
        name = f"{campaign} — {template_name} + {page_name}"[:190]
        suffix, candidate = 1, name
        while CustomLure.objects.filter(organisation=home, name=candidate).exists():
            suffix += 1
            candidate = f"{name} ({suffix})"
        combined = CustomLure.objects.create(
            organisation=home,
            name=candidate,
            source="gophish",
            created_by=self.request.user,
            **values,
        )
        return combined.key

    def post(self, request):
        home = self.home()
        body = self.body()
        name = str(body.get("name") or "").strip()
        template_name, page_name, smtp_name = (
            _named(body, "template"),
            _named(body, "page"),
            _named(body, "smtp"),
        )
        groups = [
            str(group.get("name") or "").strip()
            for group in body.get("groups") or []
            if isinstance(group, dict)
        ]
        missing = [
            message
            for present, message in (
                (name, _("Nom de la campagne manquant.")),
                (groups, _("Aucun groupe indiqué.")),
                (template_name, _("Aucun modèle indiqué.")),
                (page_name, _("Aucune page indiquée.")),
                (smtp_name, _("Aucun profil d'envoi indiqué.")),
            )
            if not present
        ]
        if missing:
            raise Refused(" ".join(missing))
        launch_date, send_by = _when(body, "launch_date"), _when(body, "send_by_date")
        if launch_date and send_by and send_by <= launch_date:
            raise Refused(_("La date de fin d'envoi doit suivre la date de lancement."))
        profile = (
            SendingProfile.objects.visible_to(request.user, VIEW).filter(name=smtp_name).first()
        )
        if profile is None:
            raise Refused(_("Profil d'envoi introuvable : %(name)s.") % {"name": smtp_name})
        lists = list(
            TargetList.objects.visible_to(request.user, VIEW).filter(
                name__in=groups, organisation__path__startswith=home.path
            )
        )
        unknown = sorted(set(groups) - {item.name for item in lists})
        if unknown:
            raise Refused(_("Groupes introuvables : %(names)s.") % {"names": ", ".join(unknown)})
        try:
            with transaction.atomic():
                simulation = Simulation.objects.create(
                    organisation=home,
                    name=name[:200],
                    sending_profile=profile,
                    lures=[self._lure_key(home, template_name, page_name, name)],
                    assignment="random",
                    send_from=launch_date,
                    send_until=send_by,
                    # GoPhish sends at any hour between launch and "send emails by": scripts
                    # expect that, so API campaigns have no business-hours window (0442).
                    business_start=time(0, 0),
                    business_end=time(23, 59, 59),
                    business_days=list(range(7)),
                    created_by=request.user,
                )
                simulation.target_lists.set(lists)
                services.launch(simulation, actor=request.user)
        except services.SimulationError as exc:
            raise Refused(str(exc)) from None
        simulation.refresh_from_db()
        return Response(campaign_json(simulation, request), status=status.HTTP_201_CREATED)


class CampaignsSummary(GophishView):
    def get(self, request):
        simulations = Simulation.objects.visible_to(request.user, VIEW).order_by("pk")
        rows = [summary_json(simulation) for simulation in simulations]
        return Response({"total": len(rows), "campaigns": rows})


def _campaign(request, pk, action=VIEW) -> Simulation:
    try:
        return get_for_action_or_refuse(
            Simulation.objects.select_related("sending_profile", "organisation"),
            request.user,
            action,
            seen_with=VIEW,
            pk=pk,
        )
    except Http404:
        raise exceptions.NotFound("Campaign not found") from None


class CampaignItem(GophishView):
    def get(self, request, pk):
        return Response(campaign_json(_campaign(request, pk), request))

    def delete(self, request, pk):
        simulation = _campaign(request, pk, MANAGE)
        if simulation.status in (
            CampaignStatus.SCHEDULED,
            CampaignStatus.SENDING,
            CampaignStatus.PAUSED,
        ):
            services.cancel(simulation, actor=request.user)
        record_event(
            "simulation.delete",
            request=request,
            target=simulation,
            organisation=simulation.organisation,
            details={"name": simulation.name, "origin": "gophish-api"},
        )
        simulation.delete()
        return _success("Campaign deleted successfully!")


class CampaignResults(GophishView):
    def get(self, request, pk):
        return Response(results_json(_campaign(request, pk), request))


class CampaignSummary(GophishView):
    def get(self, request, pk):
        return Response(summary_json(_campaign(request, pk)))


class CampaignComplete(GophishView):
    """GET, as in GoPhish, though it changes the campaign: a read-only key is refused."""

    def get(self, request, pk):
        self.require_write()
        simulation = _campaign(request, pk, CHANGE)
        try:
            services.complete(simulation, actor=request.user)
        except services.SimulationError as exc:
            raise Refused(str(exc)) from None
        return _success("Campaign completed successfully!")

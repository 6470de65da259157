"""Pages of suspicious-e-mail reporting. Mailboxes: "view" to read, "manage" to write (like
sending profiles). Cases hold who reported what (nominative): "view" to read, "change" to
qualify them, reply, upload files and download a raw message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.mailreports import analysis, imap, services, tasks
from hygie.mailreports.forms import (
    CaseFilterForm,
    MailboxForm,
    ReplyForm,
    UploadForm,
    VerdictForm,
)
from hygie.mailreports.models import Case, CaseKind, Mailbox, Report, Source, Verdict
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can

OWNER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


# Mailboxes --------------------------------------------------------------------------------------
@login_required
def mailbox_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    mailboxes = (
        Mailbox.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    return render(
        request,
        "mailreports/mailbox_list.html",
        {
            "node": node,
            "mailboxes": mailboxes,
            "can_manage": node.kind in OWNER_KINDS and can(request.user, MANAGE, node),
        },
    )


def _owner(request, org_id: int, action: str) -> Organisation:
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, action, seen_with=VIEW, pk=org_id
    )
    if node.kind not in OWNER_KINDS:
        raise PermissionDenied(_("Les signalements sont gérés par un établissement ou par un GHT."))
    return node


@login_required
def mailbox_create(request, org_id: int):
    node = _owner(request, org_id, MANAGE)
    form = MailboxForm(request.POST or None, organisation=node)
    if request.method == "POST" and form.is_valid():
        mailbox = form.save()
        record_event(
            "mailreports.mailbox_create",
            request=request,
            target=mailbox,
            organisation=node,
            details={"name": mailbox.name, "host": mailbox.host, "port": mailbox.port},
        )
        transaction.on_commit(tasks.schedule_poll)
        messages.success(request, _("Boîte « %(name)s » créée.") % {"name": mailbox.name})
        return redirect("mailreports:mailboxes", node.pk)
    return render(
        request,
        "mailreports/mailbox_form.html",
        {"node": node, "form": form, "title": _("Nouvelle boîte de signalement")},
    )


def _mailbox(request, mailbox_id: int) -> Mailbox:
    return get_for_action_or_refuse(
        Mailbox.objects.select_related("organisation"),
        request.user,
        MANAGE,
        seen_with=VIEW,
        pk=mailbox_id,
    )


@login_required
def mailbox_edit(request, mailbox_id: int):
    mailbox = _mailbox(request, mailbox_id)
    form = MailboxForm(request.POST or None, instance=mailbox, organisation=mailbox.organisation)
    if request.method == "POST" and form.is_valid():
        password_changed = bool(form.cleaned_data.get("password"))
        mailbox = form.save()
        record_event(
            "mailreports.mailbox_change",
            request=request,
            target=mailbox,
            organisation=mailbox.organisation,
            details={
                "name": mailbox.name,
                "host": mailbox.host,
                "password_changed": password_changed,
            },
        )
        messages.success(request, _("Boîte de signalement enregistrée."))
        return redirect("mailreports:mailboxes", mailbox.organisation_id)
    return render(
        request,
        "mailreports/mailbox_form.html",
        {"node": mailbox.organisation, "form": form, "mailbox": mailbox, "title": mailbox.name},
    )


@login_required
@require_POST
def mailbox_test(request, mailbox_id: int):
    mailbox = _mailbox(request, mailbox_id)
    outcome = imap.test(mailbox)
    record_event(
        "mailreports.mailbox_test",
        request=request,
        target=mailbox,
        organisation=mailbox.organisation,
        details={"ok": outcome.ok},
    )
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect("mailreports:mailboxes", mailbox.organisation_id)


@login_required
@require_POST
def mailbox_token(request, mailbox_id: int):
    """A new secret for the report buttons, shown once (the previous one stops working)."""
    mailbox = _mailbox(request, mailbox_id)
    secret = services.new_button_token(mailbox)
    record_event(
        "mailreports.button_token",
        request=request,
        target=mailbox,
        organisation=mailbox.organisation,
    )
    response = render(
        request,
        "mailreports/mailbox_token.html",
        {"node": mailbox.organisation, "mailbox": mailbox, "secret": secret},
    )
    response["Cache-Control"] = "no-store"
    return response


# Upload -----------------------------------------------------------------------------------------
def _read_upload(upload) -> bytes:
    name = upload.name or ""
    problem = services.too_big(upload.size or 0, name)
    if problem:
        raise problem
    data = upload.read()
    if name.lower().endswith(".msg"):
        return analysis.load_outlook(data, name)
    if not name.lower().endswith(".eml"):
        raise analysis.UnreadableMessage(
            _("« %(name)s » : seuls les fichiers .eml et .msg sont acceptés.") % {"name": name}
        )
    return data


@login_required
def upload(request, org_id: int):
    node = _owner(request, org_id, CHANGE)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["files"]
        readings = []
        for item in files:
            try:
                raw = _read_upload(item)
                analysis.load(raw, item.name)
            except analysis.UnreadableMessage as exc:
                problems.append(str(exc))
            else:
                readings.append((item.name, raw))
        if not problems:
            # All or nothing: one unreadable file and none is stored.
            created = 0
            with transaction.atomic():
                for name, raw in readings:
                    intake = services.ingest(
                        raw,
                        organisation=node,
                        source=Source.UPLOAD,
                        reporter=form.cleaned_data["reporter"],
                        uploaded_by=request.user,
                        file_name=name,
                    )
                    created += int(intake.created)
            record_event(
                "mailreports.upload",
                request=request,
                organisation=node,
                details={"files": [name for name, _raw in readings], "stored": created},
            )
            messages.success(
                request,
                _("%(created)s signalement(s) enregistré(s), %(same)s déjà connu(s).")
                % {"created": created, "same": len(readings) - created},
            )
            return redirect("mailreports:cases", node.pk)
    status = 400 if problems else 200
    return render(
        request,
        "mailreports/upload.html",
        {"node": node, "form": form, "problems": problems},
        status=status,
    )


# Cases ------------------------------------------------------------------------------------------
@login_required
def case_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    filters = CaseFilterForm(request.GET or None)
    cases = (
        Case.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
    )
    if filters.is_valid():
        for field in ("status", "verdict", "kind"):
            if filters.cleaned_data[field]:
                cases = cases.filter(**{field: filters.cleaned_data[field]})
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "mailreports/case_list.html",
        {
            "node": node,
            "filters": filters,
            "page": page,
            "can_change": node.kind in OWNER_KINDS and can(request.user, CHANGE, node),
            "can_manage": can(request.user, MANAGE, node),
        },
    )


def _case(request, case_id: int, action: str = VIEW) -> Case:
    queryset = Case.objects.select_related("organisation", "decided_by", "simulation")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=case_id)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=case_id)


def guidance(case: Case) -> dict:
    """What the IT team does about a malicious message, with the indicators to copy."""
    found = case.indicators or {}
    senders = sorted(
        {
            value
            for value in (
                found.get("from_domain"),
                found.get("reply_to_domain"),
                found.get("return_path_domain"),
            )
            if value
        }
    )
    ips = [hop["ip"] for hop in found.get("received", []) if hop.get("ip")]
    hashes = [item["sha256"] for item in found.get("attachments", [])]
    block = "\n".join(
        [
            *senders,
            *found.get("url_hosts", []),
            *[analysis.defang(u) for u in found.get("urls", [])],
        ]
    )
    search = "\n".join(
        line
        for line in (
            f"Message-ID: {found.get('message_id', '')}" if found.get("message_id") else "",
            f"From: {found.get('from', '')}" if found.get("from") else "",
            f"Subject: {found.get('subject', '')}" if found.get("subject") else "",
            *[f"SHA-256: {value}" for value in hashes],
        )
        if line
    )
    return {"senders": senders, "ips": ips, "block": block, "search": search}


@login_required
def case_detail(request, case_id: int):
    case = _case(request, case_id)
    reports = list(
        case.reports.select_related("mailbox", "uploaded_by", "recipient").defer("raw")[:500]
    )
    first = case.reports.exclude(raw="").order_by("received_at", "pk").first()
    text = ""
    if first is not None:
        _outer, reported = services.parsed(first)
        text = analysis.text_body(reported)[:20000] if reported is not None else ""
    can_change = can(request.user, CHANGE, case.organisation)
    found = case.indicators or {}
    verdict_form = VerdictForm(initial={"verdict": case.verdict or None, "note": case.verdict_note})
    reply_form = None
    pending = [r for r in reports if r.reporter and r.replied_at is None]
    if can_change and case.verdict in (Verdict.MALICIOUS, Verdict.SPAM, Verdict.LEGITIMATE):
        subject, body = services.reply_template(case.verdict, case)
        reply_form = ReplyForm(initial={"subject": subject, "body": body})
    return render(
        request,
        "mailreports/case_detail.html",
        {
            "node": case.organisation,
            "case": case,
            "reports": reports,
            "found": found,
            "defanged": [analysis.defang(url) for url in found.get("urls", [])],
            "text": text,
            "first_report": first,
            "can_change": can_change,
            "verdict_form": verdict_form,
            "reply_form": reply_form,
            "pending": pending,
            "guidance": guidance(case) if case.verdict == Verdict.MALICIOUS else None,
            "is_simulation": case.kind == CaseKind.SIMULATION,
        },
    )


@login_required
@require_POST
def case_verdict(request, case_id: int):
    case = _case(request, case_id, CHANGE)
    if case.kind == CaseKind.SIMULATION:
        messages.error(request, _("Un exercice n'a pas de verdict à donner."))
        return redirect("mailreports:case", case.pk)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez un verdict : malveillant, indésirable ou légitime."))
        return redirect("mailreports:case", case.pk)
    services.decide(
        case,
        form.cleaned_data["verdict"],
        form.cleaned_data["note"],
        actor=request.user,
        request=request,
    )
    messages.success(
        request,
        _("Verdict enregistré : %(verdict)s. Relisez le message aux signaleurs avant l'envoi.")
        % {"verdict": case.get_verdict_display()},
    )
    return redirect("mailreports:case", case.pk)


@login_required
@require_POST
def case_reply(request, case_id: int):
    case = _case(request, case_id, CHANGE)
    if case.verdict not in (Verdict.MALICIOUS, Verdict.SPAM, Verdict.LEGITIMATE):
        messages.error(request, _("Donnez d'abord un verdict."))
        return redirect("mailreports:case", case.pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("L'objet et le message sont nécessaires."))
        return redirect("mailreports:case", case.pk)
    sent = services.reply_to_reporters(
        case,
        form.cleaned_data["subject"],
        form.cleaned_data["body"],
        actor=request.user,
        request=request,
    )
    messages.success(request, _("Réponse envoyée à %(n)s signaleur(s).") % {"n": sent})
    return redirect("mailreports:case", case.pk)


@login_required
def report_raw(request, report_id: int):
    """The message as received, to open in an analysis tool: a download, never a page."""
    report = get_for_action_or_refuse(
        Report.objects.select_related("case__organisation"),
        request.user,
        CHANGE,
        seen_with=VIEW,
        pk=report_id,
    )
    data = services.raw_bytes(report)
    if not data:
        messages.error(
            request, _("Le message n'est plus conservé (durée de conservation écoulée).")
        )
        return redirect("mailreports:case", report.case_id)
    record_event(
        "mailreports.download",
        request=request,
        target=report.case,
        organisation=report.case.organisation,
        details={"report": report.pk, "bytes": len(data)},
    )
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="signalement-{report.pk}.eml"'
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response

"""Self-assessment pages. Every object comes through visible_to / get_for_action_or_refuse."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hygie.assessments import evidence as evidence_files
from hygie.assessments import services
from hygie.assessments.forms import (
    AnswerFilterForm,
    AnswerForm,
    CampaignForm,
    EvidenceForm,
    ReviewForm,
)
from hygie.assessments.models import (
    Answer,
    AnswerRevision,
    Campaign,
    CampaignStatus,
    Evidence,
    Result,
    Review,
    Status,
    ThemeScore,
)
from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.frameworks.services import EVIDENCE_SOURCES
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, MANAGE, VIEW
from hygie.orgs.services import can


def _campaign(request, campaign_id: int, action: str = VIEW) -> Campaign:
    queryset = Campaign.objects.select_related("organisation", "framework")
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=campaign_id)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=campaign_id)


def _answer(request, campaign_id: int, answer_id: int, action: str = VIEW) -> Answer:
    queryset = Answer.objects.select_related(
        "campaign__organisation", "campaign__framework", "node__parent", "owner", "reviewed_by"
    ).filter(campaign_id=campaign_id)
    if action == VIEW:
        return get_visible_or_404(queryset, request.user, VIEW, pk=answer_id)
    return get_for_action_or_refuse(queryset, request.user, action, seen_with=VIEW, pk=answer_id)


@login_required
def campaign_list(request, org_id: int):
    node = get_visible_or_404(Organisation.objects, request.user, VIEW, pk=org_id)
    campaigns = (
        Campaign.objects.visible_to(request.user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation", "framework")
        .order_by("-starts_on", "-pk")
    )
    return render(
        request,
        "assessments/campaign_list.html",
        {
            "node": node,
            "campaigns": campaigns,
            "can_create": node.kind in (Kind.ESTABLISHMENT, Kind.GHT)
            and can(request.user, CHANGE, node),
        },
    )


@login_required
def campaign_create(request, org_id: int):
    node = get_for_action_or_refuse(
        Organisation.objects, request.user, CHANGE, seen_with=VIEW, pk=org_id
    )
    if node.kind not in (Kind.ESTABLISHMENT, Kind.GHT):
        raise PermissionDenied(
            _(
                "Une auto-évaluation se mène pour un établissement (entité juridique) ou pour un GHT."
            )
        )
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        baseline = (
            services.previous_campaign(node, data["framework"])
            if data["start_from_previous"]
            else None
        )
        try:
            campaign = services.create_campaign(
                organisation=node,
                framework=data["framework"],
                name=data["name"],
                starts_on=data["starts_on"],
                due_on=data["due_on"],
                implementation_groups=data["implementation_groups"],
                baseline=baseline,
                reminder_days=data["reminder_days"],
                user=request.user,
            )
        except services.CampaignError as exc:
            form.add_error(None, str(exc))
        else:
            record_event(
                "assessments.campaign_create",
                request=request,
                target=campaign,
                organisation=node,
                details={
                    "framework": campaign.framework.urn,
                    "baseline": baseline.pk if baseline else None,
                },
            )
            messages.success(
                request,
                _("Campagne ouverte : %(count)s mesures à évaluer.")
                % {"count": campaign.answers.count()},
            )
            return redirect("assessments:campaign", campaign.pk)
    return render(request, "assessments/campaign_form.html", {"node": node, "form": form})


@login_required
def campaign_detail(request, campaign_id: int):
    campaign = _campaign(request, campaign_id)
    themes = list(
        ThemeScore.objects.filter(campaign=campaign)
        .select_related("theme")
        .order_by("theme__order")
    )
    form = AnswerFilterForm(request.GET or None, themes=[row.theme for row in themes])
    answers = (
        campaign.answers.select_related("node", "owner")
        .defer(
            "node__annotation",
            "node__typical_evidence",
            "node__questions",
            "node__translations",
            "node__implementation_groups",
            "node__evidence_sources",
        )
        .order_by("node__order")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data.get("theme"):
            answers = answers.filter(node__theme_id=data["theme"])
        if data.get("result"):
            answers = answers.filter(result=data["result"])
        if data.get("status"):
            answers = answers.filter(status=data["status"])
    answers = _with_row_labels(list(answers), campaign)
    return render(
        request,
        "assessments/campaign_detail.html",
        {
            "campaign": campaign,
            "node": campaign.organisation,
            "themes": themes,
            "answers": answers,
            "filter_form": form,
            "trend": services.trend(campaign),
            "can_change": can(request.user, CHANGE, campaign.organisation),
            "can_manage": can(request.user, MANAGE, campaign.organisation),
        },
    )


def _with_row_labels(answers: list[Answer], campaign: Campaign) -> list[Answer]:
    """Labels and links of the measure table, computed once per choice rather than per row:
    a 200-measure page otherwise spends most of its time translating the same few labels."""
    labels = {
        "status": dict(Status.choices),
        "result": dict(Result.choices),
        "review": dict(Review.choices),
    }
    labels = {
        field: {key: str(text) for key, text in choices.items()}
        for field, choices in labels.items()
    }
    evidence_counts = dict(
        Evidence.objects.filter(answer__campaign=campaign)
        .values_list("answer_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    placeholder = 2_147_483_647
    link = reverse("assessments:answer", args=[campaign.pk, placeholder]).replace(
        str(placeholder), "{}"
    )
    for answer in answers:
        answer.status_label = labels["status"][answer.status]
        answer.result_label = labels["result"][answer.result]
        answer.review_label = labels["review"][answer.review]
        answer.link = link.format(answer.pk)
        answer.evidence_count = evidence_counts.get(answer.pk, 0)
    return answers


@login_required
@require_POST
def campaign_close(request, campaign_id: int):
    campaign = _campaign(request, campaign_id, MANAGE)
    if campaign.status != CampaignStatus.CLOSED:
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = timezone.now()
        campaign.save(update_fields=["status", "closed_at"])
        record_event(
            "assessments.campaign_close",
            request=request,
            target=campaign,
            organisation=campaign.organisation,
        )
        messages.success(request, _("Campagne clôturée : ses réponses ne sont plus modifiables."))
    return redirect("assessments:campaign", campaign.pk)


@login_required
def answer_detail(request, campaign_id: int, answer_id: int):
    answer = _answer(request, campaign_id, answer_id)
    campaign = answer.campaign
    may_change = (
        can(request.user, CHANGE, campaign.organisation)
        and campaign.status != CampaignStatus.CLOSED
    )
    form = AnswerForm(instance=answer, campaign=campaign)
    if request.method == "POST":
        if not can(request.user, CHANGE, campaign.organisation):
            raise PermissionDenied(
                _("Votre rôle permet de consulter cette évaluation, pas de la modifier.")
            )
        if campaign.status == CampaignStatus.CLOSED:
            raise PermissionDenied(
                _("Cette campagne est clôturée : ses réponses ne sont plus modifiables.")
            )
        # The form writes into a copy: update_answer compares with the answer as it was.
        form = AnswerForm(request.POST, instance=copy.copy(answer), campaign=campaign)
        if form.is_valid():
            changes = {
                name: form.cleaned_data[name]
                for name in ("status", "result", "maturity", "owner", "comment")
            }
            if services.update_answer(answer, user=request.user, **changes):
                messages.success(request, _("Réponse enregistrée."))
            next_answer = request.POST.get("next")
            if next_answer and next_answer.isdigit():
                return redirect("assessments:answer", campaign.pk, int(next_answer))
            return redirect("assessments:answer", campaign.pk, answer.pk)
    evidence = list(answer.evidence.select_related("fact", "uploaded_by"))
    revisions = list(answer.revisions.select_related("changed_by")[:50])
    labels = dict(Result.choices)
    for revision in revisions:
        revision.result_label = labels.get(revision.values.get("result"), "")
    neighbours = list(campaign.answers.order_by("node__order").values_list("pk", flat=True))
    index = neighbours.index(answer.pk)
    return render(
        request,
        "assessments/answer_detail.html",
        {
            "campaign": campaign,
            "node": campaign.organisation,
            "answer": answer,
            "measure": answer.node,
            "source_labels": [
                EVIDENCE_SOURCES.get(key, key) for key in answer.node.evidence_sources
            ],
            "form": form,
            "evidence_form": EvidenceForm(),
            "review_form": ReviewForm(),
            "evidence": evidence,
            "revisions": revisions,
            "may_change": may_change,
            "may_review": may_change and answer.updated_by_id != request.user.pk,
            "previous_id": neighbours[index - 1] if index > 0 else None,
            "next_id": neighbours[index + 1] if index + 1 < len(neighbours) else None,
        },
    )


@login_required
@require_POST
def evidence_upload(request, campaign_id: int, answer_id: int):
    answer = _answer(request, campaign_id, answer_id, CHANGE)
    if answer.campaign.status == CampaignStatus.CLOSED:
        raise PermissionDenied(
            _("Cette campagne est clôturée : ses réponses ne sont plus modifiables.")
        )
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choisissez un fichier à joindre."))
        return redirect("assessments:answer", answer.campaign_id, answer.pk)
    upload = form.cleaned_data["file"]
    try:
        name, content_type, digest = evidence_files.check_upload(upload)
    except ValidationError as exc:
        messages.error(
            request, _("Preuve refusée : %(reason)s") % {"reason": " ".join(exc.messages)}
        )
        return redirect("assessments:answer", answer.campaign_id, answer.pk)
    item = Evidence(
        answer=answer,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        sha256=digest,
        uploaded_by=request.user,
    )
    item.file.save(name, upload, save=False)
    item.save()
    AnswerRevision.objects.create(
        answer=answer,
        changed_by=request.user,
        values=services.snapshot(answer),
        note=_("Preuve ajoutée : %(name)s") % {"name": name},
    )
    record_event(
        "assessments.evidence_upload",
        request=request,
        target=item,
        organisation=answer.campaign.organisation,
        details={"name": name, "size": upload.size, "sha256": digest},
    )
    messages.success(request, _("Preuve « %(name)s » ajoutée.") % {"name": name})
    return redirect("assessments:answer", answer.campaign_id, answer.pk)


@login_required
def evidence_download(request, evidence_id: int):
    item = get_visible_or_404(
        Evidence.objects.select_related("answer__campaign__organisation").exclude(file=""),
        request.user,
        VIEW,
        pk=evidence_id,
    )
    return evidence_files.serve(item)


@login_required
@require_POST
def evidence_delete(request, evidence_id: int):
    item = get_for_action_or_refuse(
        Evidence.objects.select_related("answer__campaign__organisation"),
        request.user,
        CHANGE,
        seen_with=VIEW,
        pk=evidence_id,
    )
    answer = item.answer
    if answer.campaign.status == CampaignStatus.CLOSED:
        raise PermissionDenied(
            _("Cette campagne est clôturée : ses réponses ne sont plus modifiables.")
        )
    name = item.original_name
    if item.file:
        item.file.delete(save=False)
    item.delete()
    AnswerRevision.objects.create(
        answer=answer,
        changed_by=request.user,
        values=services.snapshot(answer),
        note=_("Preuve retirée : %(name)s") % {"name": name},
    )
    record_event(
        "assessments.evidence_delete",
        request=request,
        organisation=answer.campaign.organisation,
        details={"name": name},
    )
    messages.success(request, _("Preuve « %(name)s » retirée.") % {"name": name})
    return redirect("assessments:answer", answer.campaign_id, answer.pk)


@login_required
@require_POST
def answer_review(request, campaign_id: int, answer_id: int):
    answer = _answer(request, campaign_id, answer_id, CHANGE)
    if answer.campaign.status == CampaignStatus.CLOSED:
        raise PermissionDenied(
            _("Cette campagne est clôturée : ses réponses ne sont plus modifiables.")
        )
    if answer.updated_by_id == request.user.pk:
        # Four eyes: the person who wrote the answer does not approve it.
        raise PermissionDenied(
            _("La revue revient à une autre personne que l'auteur de la réponse.")
        )
    form = ReviewForm(request.POST)
    if form.is_valid():
        approved = form.cleaned_data["decision"] == "approve"
        services.review_answer(
            answer, user=request.user, approved=approved, note=form.cleaned_data["note"]
        )
        record_event(
            "assessments.answer_review",
            request=request,
            target=answer,
            organisation=answer.campaign.organisation,
            details={"approved": approved, "measure": answer.node.answer_key},
        )
        messages.success(
            request, _("Réponse approuvée.") if approved else _("Réponse renvoyée pour reprise.")
        )
    return redirect("assessments:answer", answer.campaign_id, answer.pk)

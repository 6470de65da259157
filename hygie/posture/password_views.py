"""Password pages: the domains' policies against ANSSI and the establishment's, password ages.

Thin: audits come through `ADAudit.objects.visible_to`, the figures were computed at the audit
by `ad.passwords.analyse` and stored in `stats["passwords"]`; nothing is recomputed here.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from hygie.core.audit import record_event
from hygie.core.visibility import get_for_action_or_refuse, get_visible_or_404
from hygie.dashboards import charts
from hygie.orgs.models import Kind, Organisation
from hygie.orgs.roles import CHANGE, VIEW
from hygie.orgs.services import can
from hygie.posture.ad import passwords
from hygie.posture.models import ADAudit, PasswordPolicyTarget
from hygie.posture.password_forms import PasswordPolicyForm

PAGE_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)


def _organisation(request, org_id, action=VIEW, kinds=PAGE_KINDS) -> Organisation:
    organisations = Organisation.objects.filter(kind__in=kinds)
    if action == VIEW:
        return get_visible_or_404(organisations, request.user, VIEW, pk=org_id)
    return get_for_action_or_refuse(organisations, request.user, action, seen_with=VIEW, pk=org_id)


def latest_audits(user, node: Organisation) -> list[ADAudit]:
    """The latest audit of each domain of the node and below that has password figures."""
    audits = (
        ADAudit.objects.visible_to(user, VIEW)
        .filter(organisation__path__startswith=node.path)
        .select_related("organisation")
        .order_by("organisation__name", "domain", "-collected_at", "-pk")
    )
    latest, seen = [], set()
    for audit in audits:
        marker = (audit.organisation_id, audit.domain.lower())
        if marker in seen:
            continue
        seen.add(marker)
        if audit.stats.get("passwords"):
            latest.append(audit)
    return latest


def _display(key: str, value) -> str:
    if value is None:
        if key == "lockout_duration_minutes":
            return _("jusqu'au déverrouillage par un administrateur")
        if key == "max_age_days":
            return _("pas d'expiration")
        return "—"
    if value == "none":
        return _("pas d'expiration imposée")
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if key == "lockout_threshold" and value == 0:
        return _("jamais de verrouillage")
    if key == "max_age_days" and value == 0:
        return _("pas d'expiration")
    return str(value)


def _verdict(check: dict) -> tuple[str, str]:
    results = [r for r in (check.get("anssi_ok"), check.get("target_ok")) if r is not None]
    if not results:
        return "info", _("non comparé")
    if all(results):
        return "ok", _("conforme")
    return "ko", _("non conforme")


def _rows(checks: list[dict]) -> list[dict]:
    rows = []
    for check in checks:
        status, verdict = _verdict(check)
        rows.append(
            {
                "key": check["key"],
                "label": passwords.LABELS.get(check["key"], check["key"]),
                "domain": _display(check["key"], check["domain"]),
                "anssi": _display(check["key"], check["anssi"])
                if check["anssi"] is not None
                else "—",
                "target": _display(check["key"], check["target"])
                if check["target"] is not None
                else "—",
                "status": status,
                "verdict": verdict,
                "pso": check.get("pso", ""),
            }
        )
    return rows


def age_chart(chart_id: str, title: str, buckets: list[dict]) -> SafeString:
    """Vertical bars of the number of accounts per password age."""
    bar_w, gap, top, bottom, plot_h = 70, 24, 24, 46, 180
    width = (bar_w + gap) * max(len(buckets), 1) + gap
    height = top + plot_h + bottom
    highest = max((b["count"] for b in buckets), default=0) or 1
    parts = [
        f'<line x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#8795a1"/>'
    ]
    for index, bucket in enumerate(buckets):
        x = gap + index * (bar_w + gap)
        h = plot_h * bucket["count"] / highest
        colour = "#c0392b" if bucket["key"] in ("gt_3y", "never") else "#1f6f8b"
        parts.append(
            charts._svg(
                '<rect x="{}" y="{:.1f}" width="{}" height="{:.1f}" fill="{}"/>'
                '<text x="{}" y="{:.1f}" font-size="12" text-anchor="middle" fill="#1d2b36">{}</text>'
                '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#1d2b36">{}</text>',
                x,
                top + plot_h - h,
                bar_w,
                h,
                colour,
                x + bar_w / 2,
                top + plot_h - h - 6,
                str(bucket["count"]),
                x + bar_w / 2,
                top + plot_h + 18,
                str(passwords.BUCKET_LABELS.get(bucket["key"], bucket["key"])),
            )
        )
    return charts._frame(chart_id, title, width, height, "".join(str(p) for p in parts))


def _domain_view(audit: ADAudit) -> dict:
    analysis = audit.stats["passwords"]
    buckets = analysis["ages"]["buckets"]
    total = analysis["ages"]["enabled_users"] or 0
    return {
        "audit": audit,
        "analysis": analysis,
        "rows": _rows(analysis["checks"]),
        "psos": [
            {
                "name": p["name"],
                "precedence": p["precedence"],
                "applies_to": p["applies_to"],
                "covers_admins": p["covers_admins"],
                "rows": _rows(p["checks"]),
            }
            for p in analysis["psos"]
        ],
        "buckets": [
            {
                "label": passwords.BUCKET_LABELS.get(b["key"], b["key"]),
                "count": b["count"],
                "share": round(100 * b["count"] / total, 1) if total else 0,
            }
            for b in buckets
        ],
        "chart": age_chart(
            f"ages-{audit.pk}",
            _("Ancienneté des mots de passe des comptes actifs — %(domain)s")
            % {"domain": audit.domain},
            buckets,
        ),
        "very_old": [
            {**account, "changed": parse_datetime(account["pwd_last_set"])}
            for account in analysis["very_old"]["accounts"]
        ],
        "summary": passwords.fact_summary(analysis)[0],
    }


@login_required
@require_GET
def passwords_page(request, org_id):
    node = _organisation(request, org_id)
    domains = [_domain_view(audit) for audit in latest_audits(request.user, node)]
    return render(
        request,
        "posture/password_overview.html",
        {
            "node": node,
            "domains": domains,
            "sources": passwords.ANSSI_SOURCES,
            "can_edit_policy": node.kind == Kind.ESTABLISHMENT and can(request.user, CHANGE, node),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_policy(request, org_id):
    node = _organisation(request, org_id, CHANGE, kinds=(Kind.ESTABLISHMENT,))
    target = PasswordPolicyTarget.objects.filter(organisation=node).first()
    form = PasswordPolicyForm(request.POST or None, instance=target)
    if request.method == "POST" and form.is_valid():
        policy = form.save(commit=False)
        policy.organisation = node
        policy.updated_by = request.user
        policy.save()
        record_event(
            "posture.password_policy_changed",
            request=request,
            target=policy,
            organisation=node,
            details={k: form.cleaned_data[k] for k in form.changed_data},
        )
        messages.success(
            request,
            _("Politique enregistrée : elle sera comparée à celle du domaine au prochain audit."),
        )
        return redirect(reverse("posture:passwords", args=[node.pk]))
    return render(request, "posture/password_policy.html", {"node": node, "form": form})

"""The report of one Active Directory audit: the same content as a printable page and a PDF.

`report_context` gathers what both show (identity, scores, maturity, findings with their
remediation, password summary, trend); `render_pdf` lays it out with reportlab.
"""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.html import escape as html_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from hygie.core.pdf import PdfKit
from hygie.dashboards.charts import FONT, score_colour
from hygie.posture.ad import audits, passwords
from hygie.posture.models import ADAudit, Category

STAT_LABELS = (
    ("users", "Utilisateurs"),
    ("enabled_users", "Utilisateurs actifs"),
    ("computers", "Ordinateurs"),
    ("enabled_computers", "Ordinateurs actifs"),
    ("groups", "Groupes"),
    ("privileged", "Comptes à privilèges actifs"),
    ("domain_controllers", "Contrôleurs de domaine"),
    ("trusts", "Relations d'approbation"),
)


def stat_rows(audit: ADAudit) -> list[tuple[str, object]]:
    return [(_(label), audit.stats.get(name, "—")) for name, label in STAT_LABELS]


def report_context(audit: ADAudit) -> dict:
    trend = audits.trend(audit)
    summary, _value = passwords.fact_summary(audit.stats.get("passwords") or {})
    return {
        "audit": audit,
        "node": audit.organisation,
        "categories": audits.findings_by_category(audit),
        "trend": trend,
        "new_rules": set(trend.new_rules) if trend.previous else set(),
        "stats": stat_rows(audit),
        "warnings": audit.stats.get("warnings") or [],
        "password_summary": summary,
        "score_bars": category_bars(audit),
        "inventory_rules": audits.INVENTORY_RULES,
    }


def category_bars(audit: ADAudit) -> SafeString:
    """The four category scores as bars (risk points 0–100: longer and redder is worse)."""
    label_w, bar_w, row_h = 210, 320, 28
    rows = [(label, audit.category_scores()[c]) for c, label in Category.choices]
    rows.append((_("Score global"), audit.score))
    parts = []
    for index, (label, value) in enumerate(rows):
        y = row_h * index + 4
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="#1d2b36">{html_escape(str(label))}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="18" fill="#eef2f5"/>'
            f'<rect x="{label_w}" y="{y + 2}" width="{bar_w * value / 100:.1f}" height="18" '
            f'fill="{score_colour(100 - value)}"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 15}" font-size="12" '
            f'fill="#1d2b36">{value}/100</text>'
        )
    height = row_h * len(rows) + 8
    width = label_w + bar_w + 60
    title = _("Scores de risque par catégorie (0 = aucun risque relevé, 100 = maximum)")
    note = _("Les mêmes chiffres figurent dans le tableau qui suit le graphique.")
    return mark_safe(  # noqa: S308 — every text went through escape
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="ad-scores-title ad-scores-desc" data-chart="ad-scores" {FONT}>'
        f'<title id="ad-scores-title">{html_escape(title)}</title>'
        f'<desc id="ad-scores-desc">{html_escape(note)}</desc>{"".join(parts)}</svg>'
    )


def render_pdf(audit: ADAudit) -> bytes:
    """The audit report (A4, selectable text)."""

    context = report_context(audit)
    kit = PdfKit()
    h1, h2 = kit.h1, kit.h2
    p, table = kit.p, kit.table
    buffer = io.BytesIO()
    doc = kit.document(buffer, title=_("Audit Active Directory") + f" — {audit.domain}")

    collected = timezone.localtime(audit.collected_at).strftime("%d/%m/%Y %H:%M")
    story = [
        p(_("Audit Active Directory"), h1),
        p(
            _("%(org)s — domaine %(domain)s — données du %(date)s — source : %(source)s")
            % {
                "org": audit.organisation.name,
                "domain": audit.domain,
                "date": collected,
                "source": audit.get_source_display(),
            }
        ),
        p(
            _(
                "Score global : %(score)s/100 (0 = aucun risque relevé) — niveau de maturité : %(m)s/5"
            )
            % {"score": audit.score, "m": audit.maturity}
        ),
        p(_("Scores par catégorie"), h2),
        table(
            [_("Catégorie"), _("Score")],
            [(label, f"{score}/100") for _c, label, score, _f in context["categories"]],
            [120, 40],
        ),
        p(_("Évolution"), h2),
    ]
    trend = context["trend"]
    if trend.previous is None:
        story.append(p(_("Premier audit de ce domaine.")))
    else:
        story.append(
            p(
                _(
                    "Audit précédent du %(date)s : score %(before)s/100 (écart %(delta)+d). "
                    "Nouvelles règles : %(new)s. Règles résolues : %(resolved)s."
                )
                % {
                    "date": timezone.localtime(trend.previous.collected_at).strftime("%d/%m/%Y"),
                    "before": trend.previous.score,
                    "delta": trend.delta,
                    "new": ", ".join(trend.new_rules) or "—",
                    "resolved": ", ".join(trend.resolved_rules) or "—",
                }
            )
        )
    story.append(p(_("Chiffres du domaine"), h2))
    story.append(table([_("Objet"), _("Nombre")], context["stats"], [100, 40]))
    story.append(p(_("Mots de passe"), h2))
    story.append(p(context["password_summary"] or _("Pas d'analyse des mots de passe.")))
    for _category, label, score, findings in context["categories"]:
        story.append(p(f"{label} — {score}/100", h2))
        if not findings:
            story.append(p(_("Aucune règle enfreinte.")))
            continue
        rows = []
        for finding in findings:
            names = ", ".join(finding.sample[:30]) + ("…" if finding.count > 30 else "")
            rows.append(
                (
                    f"{finding.rule_id}\n{finding.details.get('title', '')}",
                    f"{finding.points}",
                    f"{finding.level}",
                    f"{finding.count}\n{names}",
                    finding.details.get("remediation", ""),
                )
            )
        story.append(
            table(
                [_("Règle"), _("Points"), _("Niveau"), _("Objets"), _("Remédiation")],
                rows,
                [40, 14, 14, 50, 56],
            )
        )
    if context["warnings"]:
        story.append(p(_("Avertissements de la collecte"), h2))
        for warning in context["warnings"]:
            story.append(p(f"• {warning}"))
    doc.build(story)
    return buffer.getvalue()

"""Certificates (PDF) for a completed module or an attended session."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _


@dataclass
class Certificate:
    number: str  # printed, and checkable by the establishment
    person: str
    title: str  # the module's or the session's
    kind: str  # _("Module de sensibilisation") / _("Session de sensibilisation")
    organisation: str
    on: dt.date
    details: list[str] = field(default_factory=list)  # e.g. "Score : 90 %", "Durée : 2 h"


def render_certificate(certificate: Certificate) -> bytes:
    """One A4 landscape page; the text is selectable (no image of text)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=30 * mm,
        bottomMargin=20 * mm,
        title=_("Attestation de sensibilisation") + f" — {certificate.person}",
        author="Hygie",
        subject=certificate.title,
    )
    centred = ParagraphStyle(
        "centred", fontName="Helvetica", fontSize=13, leading=18, alignment=TA_CENTER
    )
    heading = ParagraphStyle(
        "heading",
        parent=centred,
        fontName="Helvetica-Bold",
        fontSize=26,
        leading=32,
        textColor=colors.HexColor("#1F5F8B"),
    )
    name = ParagraphStyle(
        "name", parent=centred, fontName="Helvetica-Bold", fontSize=20, leading=26
    )
    small = ParagraphStyle("small", parent=centred, fontSize=9, leading=12, textColor=colors.grey)
    story = [
        Paragraph(escape(_("Attestation de sensibilisation à la cybersécurité")), heading),
        Spacer(1, 12 * mm),
        Paragraph(escape(certificate.organisation), centred),
        Spacer(1, 6 * mm),
        Paragraph(escape(_("atteste que")), centred),
        Spacer(1, 4 * mm),
        Paragraph(escape(certificate.person), name),
        Spacer(1, 4 * mm),
        Paragraph(escape(_("a suivi avec succès")), centred),
        Paragraph(f"<b>{escape(certificate.kind)} : {escape(certificate.title)}</b>", centred),
        Paragraph(
            escape(_("le %(date)s") % {"date": certificate.on.strftime("%d/%m/%Y")}), centred
        ),
    ]
    for line in certificate.details:
        story.append(Paragraph(escape(line), centred))
    story += [
        Spacer(1, 14 * mm),
        Paragraph(
            escape(
                _("Attestation n° %(number)s — délivrée par Hygie") % {"number": certificate.number}
            ),
            small,
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def new_certificate_number(prefix: str, pk: int, on: dt.date) -> str:
    """Readable and unique: the kind, the year and the row's id (e.g. M-2026-000123)."""
    return f"{prefix}-{on.year}-{pk:06d}"

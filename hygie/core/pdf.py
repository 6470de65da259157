"""The building blocks of Hygie's A4 reports (reportlab): styles, paragraphs, tables, document.

    kit = PdfKit()
    buffer = io.BytesIO()
    doc = kit.document(buffer, title="Rapport …")
    doc.build([kit.p("Titre", kit.h1), kit.table(["A", "B"], rows, widths_mm)])

Text is escaped (reportlab reads a small markup language), line breaks kept.
"""

from __future__ import annotations

from xml.sax.saxutils import escape  # &, <, > only: reportlab shows quotes as typed


class PdfKit:
    def __init__(self):
        from reportlab.lib.styles import getSampleStyleSheet

        self.styles = getSampleStyleSheet()
        self.body = self.styles["BodyText"]
        self.h1 = self.styles["Title"]
        self.h2 = self.styles["Heading2"]
        self.small = self.body.clone("small", fontSize=8.5, leading=11)

    def p(self, text, style=None):
        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style or self.body)

    def table(self, header, rows, widths_mm):
        """A table with a shaded header row repeated on each page; cells in small text."""
        from reportlab.lib import colors
        from reportlab.lib.units import mm
        from reportlab.platypus import Table, TableStyle

        data = [[self.p(c, self.small) for c in header]]
        data += [[self.p(c, self.small) for c in row] for row in rows]
        table = Table(data, colWidths=[w * mm for w in widths_mm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E3EDF5")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return table

    def document(self, buffer, *, title: str):
        """An A4 document with 18 mm margins, its title and author in the PDF's properties."""
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        margin = 18 * mm
        return SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=margin,
            rightMargin=margin,
            topMargin=margin,
            bottomMargin=margin,
            title=title,
            author="Hygie",
        )

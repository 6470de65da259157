"""XLSX export and import (round trip, row errors, nothing half-written) and PDF export."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from hygie.actions import exchange
from hygie.actions.models import ActionItem, ActionMember
from hygie.directory.models import Actor, ActorKind
from tests.actions.helpers import item
from tests.clients import browser
from tests.governance import campaign


@pytest.fixture
def plan(world):
    campaign(world.est_a1)
    world.csirt = Actor.objects.create(name="CSIRT Hauts-de-France", kind=ActorKind.REGIONAL_CSIRT)
    world.csirt.regions.add(world.region_a)
    world.pssi = item(
        world.est_a1,
        "Rédiger la PSSI",
        ref_id="GOV.1",
        owner=world.editor,
        priority="p1",
        effort="m",
        cost=Decimal("4500.50"),
        funding="care",
        status="in_progress",
        progress=30,
        expert=world.csirt,
        needs_expert=True,
    )
    world.trap = item(world.est_a1, '=HYPERLINK("http://x")', due_on=None, starts_on=None)
    return world


def export(client, org) -> bytes:
    response = client.get(reverse("actions:export_xlsx", args=[org.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    return response.content


def upload(client, org, content: bytes):
    return client.post(
        reverse("actions:import", args=[org.pk]),
        {"file": SimpleUploadedFile("plan.xlsx", content)},
        follow=True,
    )


def sheet_rows(content: bytes):
    sheet = load_workbook(io.BytesIO(content))["Plan d'action"]
    return sheet, [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_export_has_the_canevas_headers_and_one_row_per_item(plan):
    _sheet, rows = sheet_rows(export(browser(plan.reader), plan.est_a1))
    assert rows[0] == exchange.HEADERS
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    pssi = by_id[str(plan.pssi.pk)]
    assert pssi["Mesure"] == "GOV.1 Politique de sécurité signée"
    assert pssi["Responsable"] == plan.editor.email
    assert pssi["Priorité"] == "P1 — critique"
    assert pssi["Coût (€)"] == 4500.5
    assert pssi["Source de financement"] == "Programme CaRE"
    assert pssi["Échéance"] == dt.datetime(2026, 6, 30)
    assert (pssi["Statut"], pssi["Avancement (%)"]) == ("En cours", 30)
    assert pssi["Acteur spécialisé"] == "CSIRT Hauts-de-France"
    # A title that looks like a formula is written as text, not evaluated.
    sheet, _rows = sheet_rows(export(browser(plan.reader), plan.est_a1))
    trap = [row for row in sheet.iter_rows() if row[0].value == str(plan.trap.pk)][0]
    assert trap[2].data_type == "s"


def test_round_trip_updates_and_creates(plan):
    client = browser(plan.editor)
    content = export(client, plan.est_a1)
    # Re-importing the untouched export changes nothing.
    response = upload(client, plan.est_a1, content)
    assert "0 créée(s), 0 mise(s) à jour, 2 inchangée(s)" in response.content.decode()

    sheet, rows = sheet_rows(content)
    headers = rows[0]
    col = {name: headers.index(name) + 1 for name in headers}
    key = str(plan.pssi.pk)
    pssi_row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == key)
    sheet.cell(pssi_row, col["Avancement (%)"]).value = 75
    sheet.cell(pssi_row, col["Échéance"]).value = "15/09/2026"
    new = sheet.max_row + 1
    sheet.cell(new, col["Action"]).value = "Tester la restauration"
    sheet.cell(new, col["Mesure"]).value = "TECH.2"
    sheet.cell(new, col["Priorité"]).value = "P2"
    sheet.cell(new, col["Responsable"]).value = plan.editor.username
    sheet.cell(new, col["Coût (€)"]).value = "1 200,00"
    sheet.cell(new, col["Statut"]).value = "à lancer"
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    response = upload(client, plan.est_a1, buffer.getvalue())
    assert "1 créée(s), 1 mise(s) à jour, 1 inchangée(s)" in response.content.decode()
    plan.pssi.refresh_from_db()
    assert plan.pssi.progress == 75 and plan.pssi.due_on == dt.date(2026, 9, 15)
    assert plan.pssi.expert == plan.csirt and plan.pssi.cost == Decimal("4500.50")
    created = ActionItem.objects.get(title="Tester la restauration")
    assert created.node.ref_id == "TECH.2" and created.priority == "p2"
    assert created.owner == plan.editor and created.cost == Decimal("1200.00")
    assert created.organisation == plan.est_a1 and created.origin == "import"
    # Re-exporting gives back what was imported.
    _sheet, again = sheet_rows(export(client, plan.est_a1))
    assert any(row[2] == "Tester la restauration" and row[5] == "P2 — haute" for row in again)


def test_every_row_error_is_named_and_nothing_is_written(plan):
    other_tenant = item(plan.est_b1, "Action de B1")
    client = browser(plan.editor)
    sheet, rows = sheet_rows(export(client, plan.est_a1))
    col = {name: rows[0].index(name) + 1 for name in rows[0]}
    sheet.cell(2, col["Avancement (%)"]).value = 150
    sheet.cell(3, col["Échéance"]).value = "bientôt"
    sheet.cell(4, col["ID"]).value = str(other_tenant.pk)
    sheet.cell(4, col["Action"]).value = "Détournée"
    sheet.cell(5, col["Action"]).value = "Nouvelle"
    sheet.cell(5, col["Priorité"]).value = "urgente"
    sheet.cell(6, col["Action"]).value = "Formule"
    sheet.cell(6, col["Coût (€)"]).value = "=1+1"
    sheet.cell(7, col["Responsable"]).value = plan.outsider.email
    sheet.cell(7, col["Action"]).value = "Mauvais responsable"
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    before = list(ActionItem.objects.order_by("pk").values())
    body = upload(client, plan.est_a1, buffer.getvalue()).content.decode().replace("&#x27;", "'")
    assert "6 erreurs : rien n’a été enregistré." in body
    for expected in (
        "Ligne 2, colonne « Avancement (%) »",
        "Ligne 3, colonne « Échéance » : « bientôt » n'est pas une date",
        f"Ligne 4, colonne « ID » : action n° {other_tenant.pk} inconnue",
        "Ligne 5, colonne « Priorité » : valeur « urgente » inconnue",
        "Ligne 6, colonne « Coût (€) » : formule refusée",
        "Ligne 7, colonne « Responsable »",
    ):
        assert expected in body, expected
    assert list(ActionItem.objects.order_by("pk").values()) == before


def test_an_unreadable_file_is_refused_clearly(plan):
    body = upload(browser(plan.editor), plan.est_a1, b"not a workbook").content.decode()
    assert "le fichier n&#x27;est pas un classeur XLSX lisible" in body


def test_member_rows_update_only_the_share(plan):
    plan.ght_item = item(plan.ght_a, "Supervision mutualisée")
    share = ActionMember.objects.create(action=plan.ght_item, member=plan.est_a1, progress=10)
    ActionMember.objects.create(action=plan.ght_item, member=plan.est_a2, progress=30)
    client = browser(plan.editor)
    sheet, rows = sheet_rows(export(client, plan.est_a1))
    col = {name: rows[0].index(name) + 1 for name in rows[0]}
    key = f"PART-{share.pk}"
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == key)
    assert "Mutualisée par GHT A" in sheet.cell(row, col["Mutualisation"]).value
    sheet.cell(row, col["Avancement (%)"]).value = 50
    sheet.cell(row, col["Action"]).value = "Renommée par un membre"
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    assert "1 mise(s) à jour" in upload(client, plan.est_a1, buffer.getvalue()).content.decode()
    share.refresh_from_db()
    plan.ght_item.refresh_from_db()
    assert share.progress == 50 and plan.ght_item.progress == 40
    assert plan.ght_item.title == "Supervision mutualisée"


def test_ght_export_shows_members_progress(plan):
    ght_item = item(plan.ght_a, "Supervision mutualisée")
    ActionMember.objects.create(action=ght_item, member=plan.est_a1, progress=10)
    ActionMember.objects.create(action=ght_item, member=plan.est_a2, progress=30)
    _sheet, rows = sheet_rows(export(browser(plan.editor), plan.ght_a))
    pooling = rows[1][rows[0].index("Mutualisation")]
    assert "CHU A1 : 10 % (À lancer)" in pooling and "CH A2 : 30 %" in pooling


def test_import_needs_change_and_stays_in_the_tenant(plan):
    content = export(browser(plan.editor), plan.est_a1)
    url = reverse("actions:import", args=[plan.est_a1.pk])
    reader = browser(plan.reader).post(url, {"file": SimpleUploadedFile("p.xlsx", content)})
    assert reader.status_code == 403
    outsider = browser(plan.outsider).post(url, {"file": SimpleUploadedFile("p.xlsx", content)})
    assert outsider.status_code == 404
    # GHT B's RSSI importing GHT A's file into their own plan: the IDs are unknown there.
    body = upload(browser(plan.outsider), plan.est_b1, content).content.decode()
    assert "rien n’a été enregistré" in body
    assert not ActionItem.objects.filter(organisation=plan.est_b1).exists()


def pdf_strings(content: bytes) -> list[str]:
    """The strings drawn on the pages, read from the content streams without a PDF library.

    ReportLab writes streams as ASCII85 then Flate, and standard-font text in WinAnsi with
    octal escapes.
    """
    found = []
    for header, stream in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", content, re.S):
        data = stream.strip()
        if b"ASCII85Decode" in header:
            data = base64.a85decode(data.removesuffix(b"~>"))
        if b"FlateDecode" in header:
            data = zlib.decompress(data)
        for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", data):
            raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), literal)
            raw = re.sub(rb"\\(.)", rb"\1", raw)
            found.append(raw.decode("cp1252"))
    return found


def test_pdf_export_is_a_landscape_table_with_the_titles(plan):
    response = browser(plan.reader).get(reverse("actions:export_pdf", args=[plan.est_a1.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 841.8898 595.2756 ]" in response.content  # A4 landscape
    strings = pdf_strings(response.content)
    assert "Plan d'action — CHU A1" in strings
    assert "Rédiger la PSSI" in strings and '=HYPERLINK("http://x")' in strings
    for header in ("Priorité", "Échéance", "Avancement", "Statut", "Mutualisation"):
        assert header in strings
    assert any(s.endswith("500,50 €") for s in strings) and "30/06/2026" in strings


def test_an_xml_entity_bomb_in_the_workbook_is_refused_without_expanding(plan):
    """An .xlsx is zipped XML: entity declarations (the "billion laughs") must never expand."""
    import zipfile

    content = export(browser(plan.editor), plan.est_a1)
    source = zipfile.ZipFile(io.BytesIO(content))
    bombed = io.BytesIO()
    with zipfile.ZipFile(bombed, "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                declaration, _, rest = (
                    data.partition(b"?>") if data.startswith(b"<?xml") else (b"", b"", data)
                )
                data = (
                    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                    + rest
                )
            target.writestr(entry, data)
    before = list(ActionItem.objects.order_by("pk").values())
    body = upload(browser(plan.editor), plan.est_a1, bombed.getvalue()).content.decode()
    assert "le fichier n&#x27;est pas un classeur XLSX lisible" in body
    assert list(ActionItem.objects.order_by("pk").values()) == before

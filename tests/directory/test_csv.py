"""CSV export and import of the directory: round trip, errors by line, nothing half-written."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.directory.models import Actor
from tests import factories
from tests.clients import browser
from tests.directory.helpers import actor, months_ago


@pytest.fixture
def own_entries(world):
    Actor.objects.all().delete()
    first = actor(
        "Cabinet Alpha",
        owner=world.ght_a,
        regions=[world.region_a, world.region_b],
        competences=["audit", "securite_ad"],
        qualifications=["PASSI", "PACS"],
        website="https://alpha.example",
        last_verified_on=months_ago(1),
    )
    second = actor("Formations Beta", kind="organisme_formation", owner=world.ght_a)
    return first, second


def upload(client, text: str, target, *, encoding="utf-8"):
    return client.post(
        reverse("directory:import"),
        {
            "target": target,
            "file": SimpleUploadedFile("acteurs.csv", text.encode(encoding), "text/csv"),
        },
    )


def export(client, **params) -> str:
    response = client.get(reverse("directory:export"), params)
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_export_import_round_trip_updates_in_place(world, own_entries):
    client = browser(world.editor)
    text = export(client, origin="own")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["id", "nom", "type"]
    assert {row[1] for row in rows[1:]} == {"Cabinet Alpha", "Formations Beta"}
    alpha_row = next(row for row in rows if row[1] == "Cabinet Alpha")
    assert alpha_row[7] == "Hauts-de-France; Normandie"
    # The file as exported changes nothing.
    page = upload(client, text, world.ght_a.pk)
    assert "0 créée(s), 0 mise(s) à jour, 2 inchangée(s)" in page.content.decode()
    # One description edited in a spreadsheet: that entry only is updated.
    edited = text.replace(
        "Formations Beta;Organisme de formation;",
        "Formations Beta;Organisme de formation;Sensibilisation des équipes",
    )
    page = upload(client, edited, world.ght_a.pk)
    assert "0 créée(s), 1 mise(s) à jour, 1 inchangée(s)" in page.content.decode()
    assert Actor.objects.get(name="Formations Beta").description == "Sensibilisation des équipes"
    first = Actor.objects.get(name="Cabinet Alpha")
    assert first.competences == ["audit", "securite_ad"] and first.qualifications == [
        "PASSI",
        "PACS",
    ]
    assert Actor.objects.count() == 2
    assert AuditEvent.objects.filter(action="directory.actors_imported").count() == 2


def test_import_reads_codes_names_and_lists(world):
    Actor.objects.all().delete()
    text = (
        "nom;type;régions;compétences;qualifications;vérifié le;site web\n"
        'Cabinet Gamma;prestataire_qualifie;"32; Normandie ";"Audit de sécurité; reponse_incident";'
        '"pris;PASSI";15/01/2026;https://gamma.example\n'
    )
    page = upload(browser(world.editor), text, world.ght_a.pk)
    assert "1 créée(s)" in page.content.decode(), page.content.decode()
    gamma = Actor.objects.get(name="Cabinet Gamma")
    assert {r.code for r in gamma.regions.all()} == {"32", "28"}
    assert gamma.competences == ["audit", "reponse_incident"]
    assert gamma.qualifications == ["PRIS", "PASSI"]
    assert gamma.owner == world.ght_a and str(gamma.last_verified_on) == "2026-01-15"


def test_import_errors_name_line_and_column_and_write_nothing(world, own_entries):
    text = (
        "nom;type;régions;compétences;site web\n"
        "Nouveau cabinet;Expert;32;audit;https://ok.example\n"
        "Mauvais type;Plombier;;;\n"
        "Mauvaise région;Expert;Atlantide;;\n"
        "Mauvaise compétence;Expert;;jardinage;pas-une-url\n"
        ";Expert;;;\n"
    )
    page = upload(browser(world.editor), text, world.ght_a.pk).content.decode()
    assert "Aucune donnée importée" in page
    assert "Ligne 3, colonne « type » : type inconnu « Plombier »" in page
    assert "Ligne 4, colonne « régions » : région inconnue « Atlantide »" in page
    assert "Ligne 5, colonne « compétences » : valeur inconnue « jardinage »" in page
    assert "Ligne 5, colonne « site web »" in page
    assert "Ligne 6, colonne « nom » : le nom est obligatoire" in page
    # Line 2 was fine, but nothing is written when any line is wrong.
    assert not Actor.objects.filter(name="Nouveau cabinet").exists()
    assert Actor.objects.count() == 2
    assert not AuditEvent.objects.filter(action="directory.actors_imported").exists()


def test_missing_columns_and_duplicates_are_reported(world, own_entries):
    client = browser(world.editor)
    page = upload(client, "nom;description\nA;b\n", world.ght_a.pk).content.decode()
    assert "Ligne 1 : colonne obligatoire absente : « type »" in page
    page = upload(client, "nom;type\nDoublon;Expert\ndoublon;expert\n", world.ght_a.pk)
    assert "Ligne 3, colonne « nom » : même entrée que la ligne 2" in page.content.decode()
    assert not Actor.objects.filter(name__iexact="doublon").exists()


def test_an_id_from_another_directory_is_refused_without_leaking(world, own_entries):
    foreign = actor("Secret du GHT B", kind="expert", owner=world.ght_b)
    reference = actor("Guide partagé", kind="guide")
    client = browser(world.editor)
    page = upload(client, f"id;nom;type\n{foreign.pk};Pris;Expert\n", world.ght_a.pk)
    body = page.content.decode()
    assert f"aucune entrée n° {foreign.pk}" in body and "Secret du GHT B" not in body
    page = upload(
        client, f"id;nom;type\n{reference.pk};Guide partagé;Guide officiel\n", world.ght_a.pk
    )
    assert "n&#x27;appartient pas à « GHT A »" in page.content.decode()
    reference.refresh_from_db()
    foreign.refresh_from_db()
    assert reference.owner is None and foreign.name == "Secret du GHT B"


def test_only_platform_admins_import_reference_entries(world):
    client = browser(world.editor)
    page = upload(client, "nom;type\nGuide imposé;Guide officiel\n", "reference")
    assert "Sélectionnez un choix valide" in page.content.decode()
    assert not Actor.objects.filter(name="Guide imposé").exists()
    # Into another GHT's entries: the same refusal.
    page = upload(client, "nom;type\nIntrus;Expert\n", world.ght_b.pk)
    assert not Actor.objects.filter(name="Intrus").exists()
    admin = factories.user("admin", is_superuser=True, is_staff=True)
    page = upload(browser(admin), "nom;type\nGuide imposé;Guide officiel\n", "reference")
    assert Actor.objects.get(name="Guide imposé").owner is None


def test_export_neutralises_formulas_and_follows_filters(world, own_entries):
    actor('=HYPERLINK("http://evil")', kind="expert", owner=world.ght_a)
    text = export(browser(world.editor), origin="own", kind="expert")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")']


def test_windows_1252_files_are_read(world):
    Actor.objects.all().delete()
    upload(
        browser(world.editor), "nom;type\nSécurité Île;Expert\n", world.ght_a.pk, encoding="cp1252"
    )
    assert Actor.objects.filter(name="Sécurité Île").exists()

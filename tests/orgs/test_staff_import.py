"""Staff CSV import: the file HR exports goes in whole or not at all, and re-imports update."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.orgs.models import JobFamily, Kind, Organisation, StaffMember, StaffSource
from hygie.orgs.staff_import import import_staff
from tests import factories

HEADER = [
    "Nom",
    "Prénom",
    "E-mail",
    "Service",
    "Site",
    "Famille de métiers",
    "Métier",
    "Date d'arrivée",
    "Matricule",
]


def csv_bytes(rows, *, delimiter=";", encoding="utf-8", bom=False) -> bytes:
    text = "".join(delimiter.join(row) + "\r\n" for row in rows)
    data = text.encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def good_rows():
    return [
        HEADER,
        [
            "Lefèvre",
            "Hélène",
            "helene.lefevre@ch-a1.example",
            "Urgences A1",
            "",
            "Soignant",
            "Infirmière",
            "03/09/2019",
            "M001",
        ],
        [
            "Durand",
            "Marc",
            "marc.durand@ch-a1.example",
            "urgences a1",
            "Site principal A1",
            "medical",
            "Praticien hospitalier",
            "2021-11-15",
            "M002",
        ],
        ["Nguyen", "Linh", "", "", "", "Médico-technique", "", "", "M003"],
    ]


def staff_of(establishment):
    return StaffMember.objects.filter(establishment=establishment)


# --- The logic -----------------------------------------------------------------------------------


def test_good_file_creates_every_person_with_every_field(world):
    before = staff_of(world.est_a1).count()
    report = import_staff(world.est_a1, csv_bytes(good_rows()))

    assert report.ok, [str(p) for p in report.problems]
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert staff_of(world.est_a1).count() == before + 3
    helene = StaffMember.objects.get(external_id="M001")
    assert (helene.last_name, helene.first_name) == ("Lefèvre", "Hélène")
    assert helene.email == "helene.lefevre@ch-a1.example"
    assert helene.service == world.service_a1
    assert helene.site == world.site_a1  # the service's site
    assert helene.job_family == JobFamily.CARE
    assert helene.job_title == "Infirmière"
    assert helene.arrival_date == date(2019, 9, 3)
    assert helene.source == StaffSource.CSV and helene.active
    marc = StaffMember.objects.get(external_id="M002")
    assert marc.job_family == JobFamily.MEDICAL
    assert marc.arrival_date == date(2021, 11, 15)
    linh = StaffMember.objects.get(external_id="M003")
    assert linh.job_family == JobFamily.MEDICO_TECHNICAL and linh.service is None


def test_headers_without_accents_or_capitals_and_comma_separator(world):
    data = csv_bytes(
        [
            ["NOM", "PRENOM", "Courriel", "famille de metiers", "matricule", "Commentaire"],
            ["Petit", "Zoé", "zoe.petit@ch-a1.example", "Administratif", "A9", "x"],
        ],
        delimiter=",",
        bom=True,
    )
    report = import_staff(world.est_a1, data)

    assert report.ok, [str(p) for p in report.problems]
    assert report.delimiter == "," and report.encoding == "UTF-8"
    assert report.ignored_columns == ["Commentaire"]
    zoe = StaffMember.objects.get(external_id="A9")
    assert (zoe.first_name, zoe.job_family) == ("Zoé", JobFamily.ADMINISTRATIVE)


def test_semicolon_file_in_windows_1252(world):
    rows = [
        ["nom", "prénom", "e-mail", "famille de métiers", "métier"],
        ["Bérénice", "Élodie", "elodie.berenice@ch-a1.example", "Médical", "Anesthésiste"],
        ["Çelik", "Anaïs", "anais.celik@ch-a1.example", "Socio-éducatif", "Éducatrice"],
    ]
    report = import_staff(world.est_a1, csv_bytes(rows, encoding="cp1252"))

    assert report.ok, [str(p) for p in report.problems]
    assert report.encoding == "Windows-1252" and report.delimiter == ";"
    elodie = StaffMember.objects.get(email="elodie.berenice@ch-a1.example")
    assert (elodie.last_name, elodie.first_name) == ("Bérénice", "Élodie")
    assert StaffMember.objects.get(last_name="Çelik").job_title == "Éducatrice"


def test_reimport_updates_and_never_duplicates(world):
    import_staff(world.est_a1, csv_bytes(good_rows()))
    count = staff_of(world.est_a1).count()
    rows = good_rows()
    rows[1][6] = "Cadre de santé"  # Hélène's job title changed
    rows[2][0] = "Durand-Morel"  # Marc's name changed

    report = import_staff(world.est_a1, csv_bytes(rows))

    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    assert staff_of(world.est_a1).count() == count
    assert StaffMember.objects.get(external_id="M001").job_title == "Cadre de santé"
    assert StaffMember.objects.get(external_id="M002").last_name == "Durand-Morel"


def test_person_without_matricule_is_recognised_by_email_whatever_its_case(world):
    existing = world.staff_a1  # entered by hand, no matricule
    count = staff_of(world.est_a1).count()
    data = csv_bytes(
        [
            ["nom", "prénom", "e-mail", "famille de métiers", "matricule"],
            [existing.last_name, "Camille", existing.email.upper(), "soignant", "M777"],
        ]
    )

    report = import_staff(world.est_a1, data)

    assert report.ok and (report.created, report.updated) == (0, 1)
    assert staff_of(world.est_a1).count() == count
    existing.refresh_from_db()
    assert existing.external_id == "M777" and existing.source == StaffSource.CSV


def test_a_line_without_matricule_keeps_the_persons_matricule(world):
    import_staff(world.est_a1, csv_bytes(good_rows()))
    data = csv_bytes(
        [
            ["nom", "prénom", "e-mail", "famille de métiers", "matricule"],
            ["Lefèvre", "Hélène", "helene.lefevre@ch-a1.example", "Soignant", ""],
        ]
    )

    report = import_staff(world.est_a1, data)

    assert report.ok and report.unchanged == 1
    assert StaffMember.objects.get(email="helene.lefevre@ch-a1.example").external_id == "M001"


def test_one_bad_row_names_line_and_column_and_imports_nothing(world):
    rows = good_rows()
    rows.insert(3, ["Martin", "Paul", "pas-une-adresse", "", "", "Soignant", "", "", "M004"])
    before = StaffMember.objects.count()

    report = import_staff(world.est_a1, csv_bytes(rows))

    assert not report.ok
    assert [str(p) for p in report.problems] == [
        "ligne 4, colonne e-mail : adresse invalide « pas-une-adresse »"
    ]
    assert StaffMember.objects.count() == before  # not even the three good lines


def test_every_problem_is_listed_with_its_line(world):
    rows = [
        HEADER,
        ["", "Paul", "paul@ch-a1.example", "", "", "Soignant", "", "", "P1"],
        ["Roux", "Anne", "anne@ch-a1.example", "", "", "Cuisinier", "", "", "P2"],
        ["Roux", "Léa", "lea@ch-a1.example", "", "", "Soignant", "", "31/02/2024", "P3"],
        ["Roux", "Jean", "", "", "", "Soignant", "", "", ""],
    ]
    report = import_staff(world.est_a1, csv_bytes(rows))

    messages = [str(p) for p in report.problems]
    assert messages[0] == "ligne 2, colonne nom : valeur obligatoire"
    assert messages[1].startswith(
        "ligne 3, colonne famille de métiers : valeur inconnue « Cuisinier » "
        "(valeurs acceptées : Médical, Soignant"
    )
    assert messages[2] == (
        "ligne 4, colonne date d'arrivée : date invalide « 31/02/2024 » "
        "(attendu JJ/MM/AAAA ou AAAA-MM-JJ)"
    )
    assert messages[3] == (
        "ligne 5 : ni matricule ni e-mail : la personne ne pourrait pas être reconnue"
    )
    assert not StaffMember.objects.filter(last_name="Roux").exists()


def test_line_numbers_are_those_of_the_file_even_with_quoted_line_breaks(world):
    text = (
        "nom;prénom;e-mail;famille de métiers;métier\r\n"
        'Roy;Ada;ada@ch-a1.example;Soignant;"Infirmière\r\nde nuit"\r\n'
        "\r\n"
        "Roy;Bob;bob@;Soignant;\r\n"
    )
    report = import_staff(world.est_a1, text.encode())

    assert [str(p) for p in report.problems] == [
        "ligne 5, colonne e-mail : adresse invalide « bob@ »"
    ]


def test_duplicate_matricule_or_email_in_the_file(world):
    rows = [
        HEADER,
        ["A", "Un", "un@ch-a1.example", "", "", "Soignant", "", "", "D1"],
        ["B", "Deux", "UN@ch-a1.example", "", "", "Soignant", "", "", "D2"],
        ["C", "Trois", "trois@ch-a1.example", "", "", "Soignant", "", "", "D1"],
    ]
    report = import_staff(world.est_a1, csv_bytes(rows))

    assert [str(p) for p in report.problems] == [
        "ligne 3, colonne e-mail : adresse « UN@ch-a1.example » déjà présente ligne 2",
        "ligne 4, colonne matricule : matricule « D1 » déjà présent ligne 2",
    ]
    assert not StaffMember.objects.filter(external_id__startswith="D").exists()


def test_email_of_another_person_is_refused(world):
    other = world.staff_a1
    data = csv_bytes(
        [
            ["nom", "prénom", "e-mail", "famille de métiers", "matricule"],
            ["Neuf", "Nina", other.email, "Soignant", "N1"],
        ]
    )
    import_staff(
        world.est_a1,
        csv_bytes(
            [
                ["nom", "prénom", "e-mail", "famille de métiers", "matricule"],
                [other.last_name, other.first_name, other.email, "Soignant", "EXIST"],
            ]
        ),
    )
    report = import_staff(world.est_a1, data)

    assert len(report.problems) == 1
    assert str(report.problems[0]).startswith(
        "ligne 2, colonne e-mail : adresse déjà attribuée à Camille"
    )
    assert not StaffMember.objects.filter(external_id="N1").exists()


def test_missing_required_column_is_reported_on_the_header_line(world):
    data = csv_bytes([["Nom", "Mail", "Famille"], ["Roy", "roy@ch-a1.example", "Soignant"]])
    report = import_staff(world.est_a1, data)

    assert [str(p) for p in report.problems] == [
        "ligne 1 : colonne obligatoire absente : prénom "
        "(colonnes lues : « Nom », « Mail », « Famille »)"
    ]


def test_unknown_service_or_site_is_an_error(world):
    rows = [
        HEADER,
        ["Roy", "Ada", "ada@ch-a1.example", "Cardiologie", "", "Soignant", "", "", "S1"],
        ["Roy", "Bob", "bob@ch-a1.example", "", "Site nord", "Soignant", "", "", "S2"],
    ]
    report = import_staff(world.est_a1, csv_bytes(rows))

    assert [str(p) for p in report.problems] == [
        "ligne 2, colonne service : service inconnu « Cardiologie » dans l'établissement",
        "ligne 3, colonne site : site inconnu « Site nord » dans l'établissement",
    ]
    assert not Organisation.objects.filter(name__in=["Cardiologie", "Site nord"]).exists()


def test_create_services_option_creates_each_missing_node_once(world):
    rows = [
        HEADER,
        ["Roy", "Ada", "ada@ch-a1.example", "Cardiologie", "Site nord", "Soignant", "", "", "S1"],
        ["Roy", "Bob", "bob@ch-a1.example", "cardiologie", "site Nord", "Soignant", "", "", "S2"],
        ["Roy", "Cy", "cy@ch-a1.example", "Pharmacie", "", "Médico-technique", "", "", "S3"],
    ]
    report = import_staff(world.est_a1, csv_bytes(rows), create_services=True)

    assert report.ok, [str(p) for p in report.problems]
    site = Organisation.objects.get(name="Site nord", kind=Kind.SITE)
    assert site.parent == world.est_a1
    cardio = Organisation.objects.get(name="Cardiologie", kind=Kind.SERVICE)
    assert cardio.parent == site
    pharmacy = Organisation.objects.get(name="Pharmacie", kind=Kind.SERVICE)
    assert pharmacy.parent == world.est_a1
    ada, bob = StaffMember.objects.get(external_id="S1"), StaffMember.objects.get(external_id="S2")
    assert ada.service == bob.service == cardio and ada.site == site


def test_dry_run_counts_but_writes_nothing(world):
    before = StaffMember.objects.count()
    report = import_staff(world.est_a1, csv_bytes(good_rows()), dry_run=True)

    assert report.ok and report.created == 3
    assert StaffMember.objects.count() == before


def test_deactivate_missing_marks_absent_csv_staff_as_gone_only_when_asked(world):
    import_staff(world.est_a1, csv_bytes(good_rows()))
    shorter = good_rows()[:3]  # M003 left

    report = import_staff(world.est_a1, csv_bytes(shorter))
    assert report.deactivated == 0
    assert StaffMember.objects.get(external_id="M003").active

    report = import_staff(world.est_a1, csv_bytes(shorter), deactivate_missing=True)
    assert report.deactivated == 1
    assert not StaffMember.objects.get(external_id="M003").active
    world.staff_a1.refresh_from_db()
    assert world.staff_a1.active  # entered by hand: not the import's to remove

    report = import_staff(world.est_a1, csv_bytes(good_rows()))
    assert report.updated == 1 and StaffMember.objects.get(external_id="M003").active


def test_error_list_is_capped_but_counts_everything(world):
    rows = [["nom", "prénom", "e-mail", "famille de métiers"]]
    rows += [["Roy", f"N{i}", f"bad{i}", "Soignant"] for i in range(300)]
    report = import_staff(world.est_a1, csv_bytes(rows))

    assert report.problem_count == 300
    assert len(report.problems) == 200 and report.hidden_problem_count == 100


def test_unreadable_encoding_and_empty_file(world):
    assert [str(p) for p in import_staff(world.est_a1, b"").problems] == ["le fichier est vide"]
    report = import_staff(world.est_a1, b"nom;pr\x81nom\r\n")
    assert str(report.problems[0]).startswith("encodage non reconnu")


# --- The web page ----------------------------------------------------------------------------------


def import_url(org):
    return reverse("orgs:staff_import", args=[org.pk])


def post_file(client, url, data: bytes, name="personnels.csv", **options):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.get(url)
    payload = {
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        "file": SimpleUploadedFile(name, data, content_type="text/csv"),
    }
    payload.update({key: "on" for key, value in options.items() if value})
    return client.post(url, payload)


def test_manager_imports_a_file_and_sees_the_counts(world, client_for):
    client = client_for(world.editor)
    response = post_file(client, import_url(world.est_a1), csv_bytes(good_rows()))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="import-result"' in html
    assert 'data-testid="import-created">3<' in html
    assert 'data-testid="import-updated">0<' in html
    assert StaffMember.objects.filter(external_id__in=["M001", "M002", "M003"]).count() == 3
    event = AuditEvent.objects.get(action="orgs.staff_imported")
    assert event.details["created"] == 3 and event.details["file"] == "personnels.csv"
    assert event.actor == world.editor and event.organisation_id_at_event == world.est_a1.pk


def test_bad_row_in_the_browser_shows_the_line_and_imports_nothing(world, client_for):
    rows = good_rows()
    rows.insert(3, ["Martin", "Paul", "pas-une-adresse", "", "", "Soignant", "", "", "M004"])
    before = StaffMember.objects.count()
    client = client_for(world.editor)

    response = post_file(client, import_url(world.est_a1), csv_bytes(rows))

    html = response.content.decode()
    assert 'data-testid="import-errors"' in html
    assert "ligne 4, colonne e-mail : adresse invalide « pas-une-adresse »" in html
    assert 'data-testid="import-error-count">1<' in html
    assert "Aucune donnée importée" in html
    assert StaffMember.objects.count() == before
    assert not AuditEvent.objects.filter(action="orgs.staff_imported").exists()


def test_form_options_reach_the_import(world, client_for):
    rows = [
        HEADER,
        ["Roy", "Ada", "ada@ch-a1.example", "Cardiologie", "", "Soignant", "", "", "S1"],
    ]
    client = client_for(world.editor)

    response = post_file(
        client, import_url(world.est_a1), csv_bytes(rows), dry_run=True, create_services=True
    )
    assert "Vérification réussie" in response.content.decode()
    assert not StaffMember.objects.filter(external_id="S1").exists()

    response = post_file(client, import_url(world.est_a1), csv_bytes(rows), create_services=True)
    assert 'data-testid="import-created-orgs"' in response.content.decode()
    assert StaffMember.objects.get(external_id="S1").service.name == "Cardiologie"


def test_reader_of_the_establishment_is_told_why_not(world, client_for):
    client = client_for(world.reader)
    response = client.get(import_url(world.est_a1))

    assert response.status_code == 403
    assert "rôle de gestion" in response.content.decode()
    response = post_file(client, import_url(world.est_a1), csv_bytes(good_rows()))
    assert response.status_code == 403
    assert not StaffMember.objects.filter(external_id="M001").exists()


@pytest.mark.parametrize("who", ["outsider", "analyst", "nobody"])
def test_establishment_outside_the_users_scope_answers_404(world, client_for, who):
    response = client_for(getattr(world, who)).get(import_url(world.est_a1))
    assert response.status_code == 404


def test_only_establishments_can_import(world, client_for):
    assert client_for(world.editor).get(import_url(world.ght_a)).status_code == 404


def test_anonymous_is_sent_to_login(world, client):
    response = client.get(import_url(world.est_a1))
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_post_without_csrf_token_is_refused(world, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.editor)
    response = client.post(
        import_url(world.est_a1),
        {"file": SimpleUploadedFile("p.csv", csv_bytes(good_rows()))},
    )
    assert response.status_code == 403
    assert not StaffMember.objects.filter(external_id="M001").exists()


@pytest.mark.parametrize(
    "overhead",
    [0, 10**6],
    ids=["refused-from-its-announced-length", "stopped-while-reading"],
)
def test_too_large_file_is_refused(world, client_for, monkeypatch, overhead):
    monkeypatch.setattr("hygie.orgs.staff_views.MAX_UPLOAD_BYTES", 1024)
    monkeypatch.setattr("hygie.orgs.staff_views.MULTIPART_OVERHEAD", overhead)
    rows = [HEADER] + [
        ["Roy", f"N{i}", f"n{i}@ch-a1.example", "", "", "Soignant", "", "", f"R{i}"]
        for i in range(100)
    ]
    response = post_file(client_for(world.editor), import_url(world.est_a1), csv_bytes(rows))

    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.content.decode()
    assert not StaffMember.objects.filter(external_id="R1").exists()


def test_uploaded_file_never_lands_on_disk(world, client_for, settings, tmp_path, monkeypatch):
    # Django's default handlers would spill anything above 1 byte into a temporary file.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    from django.core.files import uploadedfile

    spilled = []
    original = uploadedfile.TemporaryUploadedFile.__init__

    def spy(self, *args, **kwargs):
        spilled.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", spy)
    response = post_file(client_for(world.editor), import_url(world.est_a1), csv_bytes(good_rows()))

    assert 'data-testid="import-created">3<' in response.content.decode()
    assert spilled == [] and list(tmp_path.iterdir()) == []


def test_staff_list_links_to_import_for_managers_only(world, client_for):
    url = reverse("orgs:staff", args=[world.est_a1.pk])
    assert 'data-testid="staff-import-link"' in client_for(world.editor).get(url).content.decode()
    assert (
        'data-testid="staff-import-link"' not in client_for(world.reader).get(url).content.decode()
    )


# --- The command -----------------------------------------------------------------------------------


def test_command_imports_and_reports_counts(world, tmp_path, capsys):
    path = tmp_path / "rh.csv"
    path.write_bytes(csv_bytes(good_rows()))

    call_command("import_staff", str(path), establishment=world.est_a1.finess_ej)

    out = capsys.readouterr().out
    assert "3 lignes, 3 créées, 0 mises à jour, 0 inchangées" in out
    assert StaffMember.objects.filter(external_id="M001").exists()
    assert AuditEvent.objects.get(action="orgs.staff_imported").details["origin"] == "cli"


def test_command_refuses_a_bad_file_and_lists_problems(world, tmp_path, capsys):
    rows = good_rows()
    rows[2][8] = "M001"
    path = tmp_path / "rh.csv"
    path.write_bytes(csv_bytes(rows))

    with pytest.raises(CommandError, match="1 problème.*rien n'a été importé"):
        call_command("import_staff", str(path), establishment=world.est_a1.finess_ej)

    assert "ligne 3, colonne matricule : matricule « M001 » déjà présent ligne 2" in (
        capsys.readouterr().err
    )
    assert not StaffMember.objects.filter(external_id="M001").exists()


def test_command_options_and_unknown_establishment(world, tmp_path, capsys):
    path = tmp_path / "rh.csv"
    rows = [
        HEADER,
        ["Roy", "Ada", "ada@ch-a1.example", "Cardiologie", "", "Soignant", "", "", "S1"],
    ]
    path.write_bytes(csv_bytes(rows))

    call_command(
        "import_staff",
        str(path),
        establishment=world.est_a1.finess_ej,
        dry_run=True,
        create_services=True,
    )
    assert "Simulation" in capsys.readouterr().out
    assert not StaffMember.objects.filter(external_id="S1").exists()

    call_command(
        "import_staff", str(path), establishment=world.est_a1.finess_ej, create_services=True
    )
    assert StaffMember.objects.filter(external_id="S1").exists()

    with pytest.raises(CommandError, match="Aucun établissement"):
        call_command("import_staff", str(path), establishment=factories.finess())

"""Import of GoPhish templates, landing pages and groups (JSON and CSV), in code and from the
command line: variables converted, unknown ones reported, bad lines named, nothing half-written."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hygie.orgs.models import StaffMember
from hygie.phishing import gophish
from hygie.phishing.lures import lure_problems
from hygie.phishing.models import CustomLure, TargetList
from tests import factories

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "id": 3,
    "name": "Mise à jour DPI",
    "envelope_sender": "Support DPI <support-dpi@chu.example>",
    "subject": "{{.FirstName}}, votre accès au DPI expire",
    "text": "Bonjour {{.FirstName}} {{.LastName}},\nRéactivez votre accès : {{.URL}}\n{{.From}}",
    "html": '<p>Bonjour {{.FirstName}} ({{.Position}})</p><a href="{{.URL}}">Réactiver</a>'
    '<img src="{{.TrackingURL}}" alt="">',
    "modified_date": "2024-03-01T10:00:00Z",
    "attachments": [{"name": "procedure.pdf", "type": "application/pdf", "content": "JVBERi0="}],
}
PAGE = {
    "id": 7,
    "name": "Portail DPI",
    "html": '<html><body><form method="post"><label for="u">Identifiant DPI</label>'
    '<input id="u" name="username" type="text"><input name="password" type="password" '
    'placeholder="Mot de passe"><input type="hidden" name="rid" value="x">'
    '<input type="submit" value="OK"></form><p>{{.FirstName}}</p></body></html>',
    "capture_credentials": True,
    "capture_passwords": True,
    "redirect_url": "https://intranet.example/",
}


def as_bytes(value) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode()


def test_template_variables_become_placeholders_and_the_lure_can_be_launched(world):
    report = gophish.import_templates(world.est_a1, as_bytes([TEMPLATE]))
    assert report.ok and report.created == ["Mise à jour DPI"]
    lure = CustomLure.objects.get(organisation=world.est_a1, name="Mise à jour DPI")
    assert lure.subject == "{{prenom}}, votre accès au DPI expire"
    assert "Bonjour {{prenom}} {{nom}}" in lure.text and "{{lien}}" in lure.text
    assert "{{expediteur}}" in lure.text
    assert "({{service}})" in lure.html and "{{pixel}}" in lure.html
    assert "TrackingURL" not in lure.html
    assert (lure.sender_name, lure.sender_local_part) == ("Support DPI", "support-dpi")
    assert lure.source == "gophish"
    assert lure_problems(lure.to_lure()) == []
    # Attachments are not sent by Hygie: the person is told.
    assert any("procedure.pdf" in note for note in report.notes)


def test_an_unknown_variable_is_kept_reported_and_blocks_the_launch(world):
    template = {**TEMPLATE, "text": "Votre adresse {{.Email}} : {{.URL}}", "html": ""}
    report = gophish.import_templates(world.est_a1, as_bytes(template))
    assert report.ok, "the template is saved all the same"
    assert any("{{.Email}}" in note and "sans équivalent" in note for note in report.notes)
    assert any("ne pourra pas être lancé" in note for note in report.notes)
    lure = CustomLure.objects.get(name="Mise à jour DPI")
    assert "{{.Email}}" in lure.text
    assert [p.placeholder for p in lure_problems(lure.to_lure())] == ["{{.Email}}"]


def test_reimport_updates_the_lure_of_the_same_name(world):
    gophish.import_templates(world.est_a1, as_bytes(TEMPLATE))
    report = gophish.import_templates(
        world.est_a1, as_bytes({**TEMPLATE, "subject": "Nouvel objet"})
    )
    assert report.updated == ["Mise à jour DPI"] and not report.created
    assert CustomLure.objects.get(name="Mise à jour DPI").subject == "Nouvel objet"


def test_bad_json_is_named_by_line_and_column_and_nothing_is_written(world):
    text = json.dumps([TEMPLATE], indent=2)
    broken = text.replace('"subject"', '"subject" "', 1).encode()
    report = gophish.import_templates(world.est_a1, broken)
    assert not report.ok
    problem = report.problems[0]
    assert (
        problem.line
        == text.splitlines().index(next(line for line in text.splitlines() if '"subject"' in line))
        + 1
    )
    assert "JSON invalide" in str(problem) and f"ligne {problem.line}, colonne" in str(problem)
    assert not CustomLure.objects.exists()


def test_a_template_without_name_refuses_the_whole_file_naming_its_line(world):
    second = {**TEMPLATE, "name": ""}
    report = gophish.import_templates(world.est_a1, as_bytes([TEMPLATE, second]))
    assert not report.ok and not CustomLure.objects.exists()
    text = as_bytes([TEMPLATE, second]).decode()
    empty = next(n for n, line in enumerate(text.splitlines(), 1) if '"name": ""' in line)
    assert report.problems[0].line == empty
    assert "[1].name" in str(report.problems[0])


def test_landing_page_becomes_landing_html_with_its_field_names(world):
    report = gophish.import_pages(world.est_a1, as_bytes(PAGE))
    assert report.ok
    lure = CustomLure.objects.get(name="Portail DPI")
    assert "{{prenom}}" in lure.landing_html
    assert lure.landing_fields == [
        {"name": "username", "label": "Identifiant DPI", "type": "text"},
        {"name": "password", "label": "Mot de passe", "type": "password"},
    ]
    assert any("page pédagogique" in note for note in report.notes)


def test_a_page_with_the_name_of_a_template_completes_that_lure(world):
    gophish.import_templates(world.est_a1, as_bytes(TEMPLATE))
    gophish.import_pages(world.est_a1, as_bytes({**PAGE, "name": "Mise à jour DPI"}))
    lure = CustomLure.objects.get(name="Mise à jour DPI")
    assert lure.subject and "username" in lure.landing_html
    assert lure_problems(lure.to_lure()) == []


def test_landing_fields_from_html_leaves_out_hidden_fields_and_buttons():
    html = (
        '<form><input name="email" type="email"><textarea name="commentaire"></textarea>'
        '<input type="checkbox" name="souvenir"><button type="submit">Go</button>'
        '<input name="email" type="email"></form>'
    )
    assert gophish.landing_fields_from_html(html) == [
        {"name": "email", "label": "email", "type": "email"},
        {"name": "commentaire", "label": "commentaire", "type": "text"},
    ]


CSV = (
    "First Name,Last Name,Email,Position,Service\n"
    "Lucie,Bernard,lucie.bernard@chu-a.example,Infirmière,Urgences A1\n"
    "Paul,Petit,paul.petit@chu-a.example,Secrétaire,\n"
)


def test_csv_group_creates_people_and_a_target_list(world):
    report = gophish.import_groups(world.est_a1, CSV.encode(), filename="urgences.csv")
    assert report.ok, [str(p) for p in report.problems]
    assert report.people_created == 2 and report.created == ["urgences"]
    lucie = StaffMember.objects.get(email="lucie.bernard@chu-a.example")
    assert (lucie.establishment, lucie.service, lucie.site) == (
        world.est_a1,
        world.service_a1,
        world.site_a1,
    )
    assert lucie.job_title == "Infirmière"
    group = TargetList.objects.get(organisation=world.est_a1, name="urgences")
    assert group.source == "gophish"
    assert set(group.members.values_list("email", flat=True)) == {
        "lucie.bernard@chu-a.example",
        "paul.petit@chu-a.example",
    }


def test_csv_group_upserts_known_people_by_email(world):
    known = world.staff_a1
    csv = (
        f"First Name,Last Name,Email,Position\nCamille,Martin-Durand,{known.email.upper()},Cadre\n"
    )
    report = gophish.import_groups(world.est_a1, csv.encode(), filename="cadres.csv")
    assert report.ok and report.people_created == 0 and report.people_updated == 1
    known.refresh_from_db()
    assert (known.last_name, known.job_title) == ("Martin-Durand", "Cadre")
    assert list(TargetList.objects.get(name="cadres").members.all()) == [known]


def test_bad_csv_lines_are_named_by_line_and_column_and_nothing_is_written(world):
    csv = (
        "First Name;Last Name;Email;Position;Département\n"
        "Lucie;Bernard;lucie.bernard@chu-a.example;;Urgences A1\n"
        "Paul;Petit;pas-une-adresse;;\n"
        ";;nouveau@chu-a.example;;\n"
        "Rose;Blanc;rose.blanc@chu-a.example;;Cardiologie\n"
    )
    report = gophish.import_groups(world.est_a1, csv.encode(), filename="groupe.csv")
    assert [str(p) for p in report.problems] == [
        "ligne 3, colonne Email : adresse invalide « pas-une-adresse »",
        "ligne 4, colonne First Name : prénom et nom obligatoires pour une personne nouvelle",
        "ligne 5, colonne Service : service inconnu « Cardiologie » dans l'établissement",
    ]
    assert not StaffMember.objects.filter(email="lucie.bernard@chu-a.example").exists()
    assert not TargetList.objects.exists()


def test_unknown_services_can_be_created(world):
    csv = "First Name,Last Name,Email,Service\nRose,Blanc,rose.blanc@chu-a.example,Cardiologie\n"
    report = gophish.import_groups(
        world.est_a1, csv.encode(), filename="c.csv", create_services=True
    )
    assert report.ok
    assert StaffMember.objects.get(email="rose.blanc@chu-a.example").service.name == "Cardiologie"


def test_json_groups_in_a_ght_match_people_anywhere_in_it(world):
    other = factories.staff(world.est_a2, email="jean.roux@ch-a2.example")
    groups = [
        {
            "name": "Direction",
            "targets": [
                {"first_name": "Jean", "last_name": "Roux", "email": other.email},
                {"first_name": "Ana", "last_name": "Lopes", "email": "ana.lopes@chu-a.example"},
            ],
        }
    ]
    refused = gophish.import_groups(world.ght_a, as_bytes(groups))
    assert not refused.ok
    assert "choisissez l'établissement" in str(refused.problems[0])
    assert "[0].targets.[1]" in str(refused.problems[0])
    report = gophish.import_groups(world.ght_a, as_bytes(groups), establishment=world.est_a1)
    assert report.ok
    assert StaffMember.objects.get(email="ana.lopes@chu-a.example").establishment == world.est_a1
    other.refresh_from_db()
    assert other.establishment == world.est_a2
    assert TargetList.objects.get(organisation=world.ght_a).members.count() == 2


def test_json_group_bad_target_is_named_by_line_and_column(world):
    groups = {"name": "G", "targets": [{"first_name": "A", "last_name": "B", "email": "x@"}]}
    text = as_bytes(groups).decode()
    report = gophish.import_groups(world.est_a1, text.encode())
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"x@"' in row)
    assert report.problems[0].line == line
    assert report.problems[0].column == text.splitlines()[line - 1].index('"x@"') + 1


def test_command_imports_and_reports(world, tmp_path, capsys):
    path = tmp_path / "templates.json"
    path.write_bytes(as_bytes([TEMPLATE]))
    call_command("phishing_import_gophish", str(path), organisation=world.est_a1.pk)
    assert CustomLure.objects.filter(name="Mise à jour DPI").exists()
    assert "1 créé" in capsys.readouterr().out

    bad = tmp_path / "groupe.csv"
    bad.write_text("First Name,Last Name,Email\nA,B,pas-une-adresse\n")
    with pytest.raises(CommandError) as refused:
        call_command("phishing_import_gophish", str(bad), organisation=world.est_a1.pk)
    assert "ligne 2, colonne Email" in str(refused.value)

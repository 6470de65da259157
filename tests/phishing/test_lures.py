"""The shipped lure library loads and is complete; bad templates and bad lure files are refused."""

from __future__ import annotations

import pytest
from django.utils.safestring import mark_safe

from hygie.orgs.models import JobFamily
from hygie.phishing.lures import (
    LIBRARY_DIR,
    PLACEHOLDERS,
    LureError,
    check_template,
    find_placeholders,
    library,
    load_lure,
    parse_lure,
    render,
)

REQUIRED_THEMES = {
    "resultats-laboratoire",
    "commande-pharmacie",
    "mise-a-jour-dpi",
    "planning-gardes",
    "paie-mutuelle",
    "reclamation-patient",
    "facture-fournisseur",
    "maintenance-biomedicale",
}

CONTEXT = {
    "prenom": "Seán",
    "nom": "O'Brien <x>",
    "service": "Laboratoire & biologie",
    "etablissement": "CH de Test",
    "lien": "https://hygie.test/l/abc?x=1&y=2",
    "pixel": "https://hygie.test/o/abc",
    "date": "12 mars 2025",
    "expediteur": "Laboratoire",
}


def test_the_library_covers_the_hospital_themes_the_issue_names():
    assert REQUIRED_THEMES <= {lure.slug for lure in library()}


@pytest.mark.parametrize("path", sorted(LIBRARY_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_shipped_lure_is_complete_and_sendable(path):
    lure = load_lure(path)
    assert check_template(lure.subject, lure.text, lure.html) == []
    assert "{{lien}}" in lure.text and "{{lien}}" in lure.html and "{{pixel}}" in lure.html
    assert len(lure.signs) >= 3
    assert lure.landing.title and lure.landing.button and lure.landing.fields
    assert lure.teachable.title and len(lure.teachable.paragraphs) >= 2
    assert lure.teachable.signs == lure.signs
    assert lure.difficulty in (1, 2, 3)
    assert lure.job_families and set(lure.job_families) <= set(JobFamily.values)
    rendered = render(lure, CONTEXT)
    assert "{{" not in rendered.subject + rendered.text + rendered.html
    assert "https://hygie.test/l/abc?x=1&amp;y=2" in rendered.html


def test_lures_are_matched_to_people_by_job_family_or_service_name():
    lure = next(lure for lure in library() if lure.slug == "commande-pharmacie")
    assert lure.suits(service_name="Pharmacie à usage intérieur")
    assert lure.suits(job_family="soignant")
    assert not lure.suits(job_family="direction", service_name="Direction des achats")


def test_find_placeholders_returns_them_as_written():
    assert find_placeholders("Bonjour {{prenom}}, {{ lien }} et {{Prénom}}") == [
        "{{prenom}}",
        "{{ lien }}",
        "{{Prénom}}",
    ]


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("{{prénom}}", "{{prenom}}"),
        ("{{ lien }}", "{{lien}}"),
        ("{{.FirstName}}", "{{prenom}}"),
        ("{{civilite}}", "Variables possibles"),
    ],
)
def test_an_unknown_placeholder_is_refused_by_name_with_the_right_spelling(written, hint):
    problems = check_template("Objet", f"Bonjour {written}, {{{{lien}}}}", "")
    assert len(problems) == 1
    assert written in str(problems[0]) and hint in str(problems[0])
    assert problems[0].field == "text" and problems[0].placeholder == written


def test_a_message_without_the_tracked_link_is_refused():
    problems = check_template("Objet", "Bonjour {{prenom}}", "<p>Voir {{lien}}</p>{{pixel}}")
    assert [(p.field, p.placeholder) for p in problems] == [("text", "{{lien}}")]
    assert "{{lien}}" in str(problems[0])


def test_link_and_pixel_only_go_where_they_work():
    problems = check_template("Voir {{lien}}", "{{lien}} {{pixel}}", "<a href='{{lien}}'>x</a>")
    assert {(p.field, p.placeholder) for p in problems} == {
        ("subject", "{{lien}}"),
        ("text", "{{pixel}}"),
    }


def test_unpaired_braces_are_refused():
    problems = check_template("Objet", "Bonjour {{prenom, {{lien}}", "")
    assert "{{prenom," in str(problems[0])  # read as an unknown placeholder, named


def test_every_documented_placeholder_is_accepted():
    html = " ".join("{{%s}}" % name for name in PLACEHOLDERS)  # noqa: UP031
    assert check_template("{{prenom}}", "{{lien}} {{date}}", html) == []


def test_rendering_escapes_names_in_html_and_keeps_them_plain_in_text():
    lure = next(lure for lure in library() if lure.slug == "resultats-laboratoire")
    message = render(lure, CONTEXT)
    assert "O&#x27;Brien &lt;x&gt;" in message.html and "<x>" not in message.html
    assert "Laboratoire &amp; biologie" in message.html
    assert "O'Brien <x>" in message.text and "Laboratoire & biologie" in message.text
    assert '<img src="https://hygie.test/o/abc" width="1" height="1"' in message.html
    assert "hygie.test/o/" not in message.text


def test_the_subject_cannot_be_split_by_a_value_with_line_breaks():
    class Template:
        subject = "Pour {{nom}}"
        text = "{{lien}}"
        html = ""

    message = render(Template, {**CONTEXT, "nom": "X\r\nBcc: victim@example.org"})
    assert message.subject == "Pour X Bcc: victim@example.org"
    assert message.html == ""


def test_a_value_marked_safe_by_the_caller_is_not_escaped_twice():
    class Template:
        subject = "Objet"
        text = "{{lien}}"
        html = "<p>{{service}}</p><a href='{{lien}}'>x</a>"

    message = render(Template, {**CONTEXT, "service": mark_safe("<b>Labo</b>")})  # noqa: S308
    assert "<p><b>Labo</b></p>" in message.html


GOOD = (LIBRARY_DIR / "resultats-laboratoire.yaml").read_text(encoding="utf-8")


def _problems(source: str, filename: str = "resultats-laboratoire.yaml") -> list[str]:
    with pytest.raises(LureError) as caught:
        parse_lure(source.encode(), filename=filename)
    return caught.value.format_lines()


def _line_of(source: str, fragment: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if fragment in line)


def test_a_bad_field_type_names_file_line_and_field():
    source = GOOD.replace("label: Mot de passe, type: password", "label: Mot de passe, type: pwd")
    [problem] = _problems(source)
    line = _line_of(source, "type: pwd")
    assert problem.startswith(
        f"resultats-laboratoire.yaml, ligne {line}, champ landing.fields[1].type : "
    )
    assert "text, password, email" in problem


def test_an_unknown_placeholder_in_a_lure_file_names_line_field_and_placeholder():
    source = GOOD.replace(
        "Bonjour {{prenom}} {{nom}},\n\n  Trois", "Bonjour {{prénom}},\n\n  Trois"
    )
    [problem] = _problems(source)
    assert f"ligne {_line_of(source, 'Bonjour {{prénom}}')}, champ text :" in problem
    assert "{{prénom}}" in problem and "{{prenom}}" in problem


def test_a_lure_with_too_few_signs_or_no_landing_is_refused_with_every_problem():
    start = GOOD.index("  - where: link")
    end = GOOD.index("landing:")
    source = GOOD[:start] + GOOD[end:].replace("landing:", "landing_page:", 1)
    problems = _problems(source)
    assert any("champ signs : doit être une liste d'au moins 3" in p for p in problems)
    assert any("champ landing_page : champ inconnu" in p for p in problems)
    assert any("champ landing : doit être un dictionnaire" in p for p in problems)


def test_invalid_yaml_and_a_misnamed_file_are_refused_clearly():
    [problem] = _problems(GOOD.replace("difficulty: 2", "difficulty: [2"))
    assert problem.startswith("resultats-laboratoire.yaml, ligne ")
    assert "YAML invalide" in problem
    [problem] = _problems(GOOD, filename="autre-nom.yaml")
    assert "champ slug" in problem and "autre-nom" in problem


def test_markdown_in_the_teachable_page_is_refused():
    source = GOOD.replace("Ce message ne venait pas", "**Ce message** ne venait pas")
    [problem] = _problems(source)
    assert "champ teachable.body" in problem and "Markdown" in problem

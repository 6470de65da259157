"""Reading a module file: every validation rule names the line and the path of the problem."""

from __future__ import annotations

import pytest

from hygie.awareness.content import ContentError, parse_module

MINI = """\
slug: essai
version: 1
title: Module d'essai
summary: Un module pour les tests.
duration_minutes: 5
audiences: [soignant]
lures: [resultats-laboratoire]
pass_mark: 50
steps:
  - kind: lesson
    title: Leçon
    text: |
      Du **gras**, <b>pas de HTML</b> et un [lien](https://cyber.gouv.fr).
  - kind: spot_signs
    title: Repérer
    intro: Regardez.
    email:
      from: "Labo <[[expediteur|labo@ch-exemple-labo.com]]>"
      to: moi@ch-exemple.fr
      subject: Résultats
      date: lundi
      body: |
        Cliquez [[lien|ici]] vite, [[heure|ce matin]].
    signs:
      - {id: expediteur, label: Expéditeur, explanation: Domaine externe.}
      - {id: lien, label: Lien, explanation: Lien externe.}
    decoys:
      - {id: heure, label: Heure, explanation: Normal.}
  - kind: scenario
    title: Que faire ?
    situation: Une clé USB.
    choices:
      - {id: a, text: La brancher, feedback: Non.}
      - {id: b, text: La remettre, correct: true, feedback: Oui.}
  - kind: passphrase
    title: Phrase
    intro: Choisissez.
    candidates:
      - {id: faible, text: Hiver2025, feedback: Faible.}
      - {id: forte, text: ortie lune barque violon, correct: true, feedback: Bien.}
quiz:
  questions:
    - id: q1
      text: Question ?
      choices:
        - {id: oui, text: Oui, correct: true}
        - {id: non, text: Non}
      explanation: Parce que.
"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(text: str) -> list[str]:
    with pytest.raises(ContentError) as caught:
        parse_module(text.encode(), "essai.yaml")
    return caught.value.format_lines()


def test_a_valid_file_gives_the_stored_json():
    spec = parse_module(MINI.encode(), "essai.yaml")
    assert (spec.slug, spec.version, spec.pass_mark, spec.audiences, spec.lures) == (
        "essai",
        1,
        50,
        ["soignant"],
        ["resultats-laboratoire"],
    )
    lesson, spot, scenario, passphrase = spec.content["steps"]
    # Source HTML is shown as text; links open elsewhere without leaking the learner's URL.
    assert "&lt;b&gt;pas de HTML&lt;/b&gt;" in lesson["html"]
    assert (
        '<a href="https://cyber.gouv.fr" target="_blank" rel="noopener noreferrer">'
        in (lesson["html"])
    )
    email = spot["email"]
    assert email["from"] == "Labo <labo@ch-exemple-labo.com>"
    assert email["headers_html"]["from"] == (
        'Labo &lt;<mark data-sign="expediteur">labo@ch-exemple-labo.com</mark>&gt;'
    )
    assert '<mark data-sign="lien">ici</mark>' in email["body_html"]
    assert [s["id"] for s in spot["signs"]] == ["expediteur", "lien"]
    assert [s["id"] for s in spot["decoys"]] == ["heure"]
    assert [c["correct"] for c in scenario["choices"]] == [False, True]
    assert scenario["choices"][1]["feedback_html"] == "<p>Oui.</p>"
    assert passphrase["candidates"][1]["text"] == "ortie lune barque violon"
    question = spec.content["quiz"]["questions"][0]
    assert question["multiple"] is False
    assert question["choices"] == [
        {"id": "oui", "text": "Oui", "correct": True},
        {"id": "non", "text": "Non", "correct": False},
    ]


def test_comments_and_layout_do_not_change_the_digest_but_content_does():
    base = parse_module(MINI.encode()).digest
    assert parse_module(("# a comment\n" + MINI).encode()).digest == base
    assert parse_module(MINI.replace("Leçon", "Leçon 1").encode()).digest != base


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        ("title: Module d'essai\n", "", "slug: essai", "title : champ obligatoire manquant."),
        (
            "pass_mark: 50",
            "pass-mark: 50",
            "pass-mark",
            "pass-mark : clé inconnue « pass-mark » (clés possibles",
        ),
        (
            "version: 1",
            "version: un",
            "version: un",
            "version : doit être un nombre entier entre 1 et 100000.",
        ),
        (
            "slug: essai",
            "slug: Essai Module",
            "slug:",
            "slug : minuscules, chiffres et tirets seulement",
        ),
        (
            "pass_mark: 50",
            "pass_mark: 150",
            "pass_mark",
            "pass_mark : doit être un nombre entier entre 0 et 100.",
        ),
        (
            "audiences: [soignant]",
            "audiences: [soignant, infirmiers]",
            "audiences:",
            "audiences[1] : public inconnu « infirmiers »",
        ),
        (
            "lures: [resultats-laboratoire]",
            "lures: [faux-colis]",
            "lures:",
            "lures[0] : leurre « faux-colis » absent de la bibliothèque de simulation",
        ),
        (
            "{id: b, text: La remettre",
            "{id: a, text: La remettre",
            "La remettre",
            "steps[2].choices[1].id : l'identifiant « a » apparaît deux fois.",
        ),
        (
            "{id: b, text: La remettre, correct: true,",
            "{id: b, text: La remettre,",
            "{id: a, text: La brancher",
            "steps[2].choices : aucun choix n'est marqué correct: true.",
        ),
        (
            "{id: forte, text: ortie lune barque violon, correct: true,",
            "{id: forte, text: ortie lune barque violon, correct: oui,",
            "ortie lune",
            "steps[3].candidates[1].correct : doit valoir true ou false.",
        ),
        (
            "        - {id: non, text: Non}",
            "        - {id: non, text: Non, correct: true}",
            "{id: oui, text: Oui",
            "quiz.questions[0].choices : 2 choix corrects pour une question à réponse unique",
        ),
        (
            "      - {id: a, text: La brancher, feedback: Non.}\n",
            "",
            "{id: b, text: La remettre",
            "steps[2].choices : au moins deux choix.",
        ),
        (
            "  - kind: lesson",
            "  - kind: video",
            "kind: video",
            "steps[0].kind : type d'étape inconnu « video »",
        ),
        (
            "Cliquez [[lien|ici]]",
            "Cliquez [[lein|ici]]",
            "body: |",
            "steps[1].email.body : la zone [[lein|…]] ne correspond à aucun signe ni leurre",
        ),
        (
            "Cliquez [[lien|ici]]",
            "Cliquez [[lien ici]]",
            "body: |",
            "steps[1].email.body : zone mal écrite : la forme est [[identifiant|texte montré]].",
        ),
        (
            "Cliquez [[lien|ici]]",
            "Cliquez [ici](https://example.org) [[lien|là]]",
            "body: |",
            "steps[1].email.body : pas de lien cliquable dans un courriel d'exercice",
        ),
        (
            "Du **gras**",
            "![logo](https://example.org/logo.png) Du **gras**",
            "text: |",
            "steps[0].text : pas d'image dans un module",
        ),
        (
            "Du **gras**",
            "[[lien|Du gras]]",
            "text: |",
            "steps[0].text : les zones [[signe|texte]] n'ont leur place que dans un courriel.",
        ),
        (
            "quiz:\n",
            "ignored_quiz:\n",
            "pass_mark",
            "pass_mark : un seuil de réussite sans quiz",
        ),
        (
            "pass_mark: 50\n",
            "",
            "slug: essai",
            "pass_mark : un module avec un quiz indique son seuil de réussite",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_each_rule_names_the_line_and_the_path(old, new, needle, expected):
    assert old in MINI
    text = MINI.replace(old, new, 1)
    if new == "ignored_quiz:\n":
        text = text.split("ignored_quiz:")[0]  # drop the quiz entirely
    found = problems(text)
    # A list's line is that of its first item, a missing key's that of its parent.
    line = line_of(text, needle)
    assert any(problem.startswith(f"ligne {line} : {expected}") for problem in found), found


def test_a_sign_without_a_zone_is_named_at_its_id():
    text = MINI.replace("Cliquez [[lien|ici]] vite", "Cliquez ici vite")
    assert f"ligne {line_of(text, '{id: lien,')} : steps[1].signs[1].id : le signe « lien » " in (
        "\n".join(problems(text))
    )


def test_every_problem_is_reported_not_only_the_first():
    text = (
        MINI.replace("version: 1", "version: 0")
        .replace("audiences: [soignant]", "audiences: [inconnu]")
        .replace("{id: b, text: La remettre, correct: true,", "{id: b, text: La remettre,")
    )
    found = problems(text)
    assert len(found) == 3
    assert [p.split(" : ")[1] for p in found] == [
        "version",
        "audiences[0]",
        "steps[2].choices",
    ]


def test_broken_yaml_names_its_line():
    text = MINI.replace("summary: Un module pour les tests.", "summary: [pas fermé")
    [problem] = problems(text)
    assert problem.startswith("ligne ") and "YAML invalide" in problem


def test_a_file_that_is_not_utf8_or_not_a_mapping_is_refused():
    with pytest.raises(ContentError) as caught:
        parse_module(MINI.encode("latin-1"), "essai.yaml")
    assert "UTF-8" in caught.value.format_lines()[0]
    assert problems("- juste\n- une liste\n") == [
        "ligne 1 : (racine) : doit être un dictionnaire (clé: valeur)."
    ]

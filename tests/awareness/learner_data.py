"""A module in the content format (aware-common.md), built here so the learner tests do not
depend on the shipped content files, and a learner with a personal link to it."""

from __future__ import annotations

import hashlib
import json

from hygie.awareness import links, tally
from hygie.awareness.models import Assignment, Module

CONTENT = {
    "steps": [
        {
            "kind": "lesson",
            "title": "Pourquoi on vous cible",
            "html": "<p>Les hôpitaux sont visés parce que <strong>chaque minute compte</strong>.</p>",
        },
        {
            "kind": "spot_signs",
            "title": "Repérez les indices",
            "intro_html": "<p>Ce message est arrivé ce matin dans votre boîte.</p>",
            "email": {
                "from": "Laboratoire <labo@chu-exemple.fr.resultats-en-ligne.com>",
                "reply_to": "support@resultats-en-ligne.com",
                "to": "urgences@chu-exemple.fr",
                "subject": "Résultats urgents à valider",
                "date": "lundi 9 mars 2026, 07:42",
                "attachments": ["resultats.html"],
                "body_html": (
                    '<p>Bonjour,</p><p><mark data-sign="urgence">Vous devez valider ces '
                    "résultats avant 9 h sans quoi ils seront perdus.</mark></p>"
                    '<p><mark data-sign="lien"><a href="https://resultats-en-ligne.com/x">'
                    "Consulter les résultats</a></mark></p>"
                    '<p><mark data-sign="signature">Le laboratoire de biologie</mark></p>'
                ),
            },
            "signs": [
                {
                    "id": "urgence",
                    "label": "Une urgence et une menace de perte",
                    "explanation_html": "<p>La pression du temps empêche de réfléchir.</p>",
                },
                {
                    "id": "lien",
                    "label": "Un lien vers un domaine extérieur",
                    "explanation_html": "<p>Le domaine n'est pas celui de l'hôpital.</p>",
                },
            ],
            "decoys": [
                {
                    "id": "signature",
                    "label": "La signature du laboratoire",
                    "explanation_html": "<p>Une signature banale ne prouve rien, ni dans un sens "
                    "ni dans l'autre.</p>",
                }
            ],
        },
        {
            "kind": "scenario",
            "title": "Une clé USB sur le parking",
            "situation_html": "<p>Vous trouvez une clé USB étiquetée « Paie 2026 ».</p>",
            "choices": [
                {
                    "id": "brancher",
                    "text": "Je la branche pour trouver son propriétaire",
                    "correct": False,
                    "feedback_html": "<p>Une clé piégée infecte le poste dès le branchement.</p>",
                },
                {
                    "id": "remettre",
                    "text": "Je la remets au service informatique sans la brancher",
                    "correct": True,
                    "feedback_html": "<p>C'est le bon réflexe.</p>",
                },
            ],
        },
        {
            "kind": "passphrase",
            "title": "Choisir une phrase de passe",
            "intro_html": "<p>Laquelle de ces phrases de passe est la plus solide ?</p>",
            "candidates": [
                {
                    "id": "courte",
                    "text": "Hopital2026!",
                    "correct": False,
                    "feedback_html": "<p>Trop courte et trop prévisible.</p>",
                },
                {
                    "id": "longue",
                    "text": "girafe-brancard-lundi-orage",
                    "correct": True,
                    "feedback_html": "<p>Longue et faite de mots sans lien : solide.</p>",
                },
            ],
        },
    ],
    "quiz": {
        "questions": [
            {
                "id": "q1",
                "text": "Un message vous presse de valider des résultats avant 9 h. Que faites-vous ?",
                "multiple": False,
                "choices": [
                    {"id": "a", "text": "Je clique vite", "correct": False},
                    {"id": "b", "text": "Je vérifie auprès du laboratoire", "correct": True},
                ],
                "explanation_html": "<p>L'urgence est le premier indice d'une arnaque.</p>",
            },
            {
                "id": "q2",
                "text": "Quels indices trahissent un faux message ?",
                "multiple": True,
                "choices": [
                    {"id": "a", "text": "Un domaine d'expéditeur inconnu", "correct": True},
                    {"id": "b", "text": "Une pièce jointe .html", "correct": True},
                    {"id": "c", "text": "Un « Bonjour » en début de message", "correct": False},
                ],
                "explanation_html": "<p>Regardez l'adresse réelle et le type de pièce jointe.</p>",
            },
            {
                "id": "q3",
                "text": "Une clé USB trouvée :",
                "multiple": False,
                "choices": [
                    {"id": "a", "text": "Je la remets à l'informatique", "correct": True},
                    {"id": "b", "text": "Je la branche sur un poste isolé", "correct": False},
                ],
                "explanation_html": "<p>Ne branchez jamais une clé inconnue.</p>",
            },
            {
                "id": "q4",
                "text": "La meilleure phrase de passe :",
                "multiple": False,
                "choices": [
                    {"id": "a", "text": "Hopital2026!", "correct": False},
                    {"id": "b", "text": "girafe-brancard-lundi-orage", "correct": True},
                ],
                "explanation_html": "<p>La longueur fait la solidité.</p>",
            },
        ]
    },
}

RIGHT = {"q1": ["b"], "q2": ["a", "b"], "q3": ["a"], "q4": ["b"]}
# Two right out of four: 50 %, under the pass mark of 75 %.
HALF = {"q1": ["a"], "q2": ["a"], "q3": ["a"], "q4": ["b"]}


def module(slug="reperer-hameconnage", *, quiz=True, pass_mark=75, **fields) -> Module:
    content = json.loads(json.dumps(CONTENT))
    if not quiz:
        content.pop("quiz")
    fields.setdefault("title", "Repérer un message piégé")
    fields.setdefault("summary", "Les indices d'un hameçonnage, en dix minutes.")
    fields.setdefault("duration_minutes", 10)
    return Module.objects.create(
        slug=slug,
        content=content,
        pass_mark=pass_mark if quiz else None,
        digest=hashlib.sha256(json.dumps(content).encode()).hexdigest(),
        **fields,
    )


def assignment(staff, module_, *, due_date=None) -> Assignment:
    """One assignment, counted in the progress tally as the app's own assignment does."""
    given = Assignment.objects.create(
        module=module_,
        staff=staff,
        establishment=staff.establishment,
        service=staff.service,
        site=staff.site,
        job_family=staff.job_family,
        due_date=due_date,
    )
    tally.add([given])
    return given


def learner_link(staff, module_=None, **options):
    """An assignment of `module_` (a new module by default) to `staff` and a fresh link to it;
    returns (assignment, link, clear token)."""
    given = assignment(staff, module_ or module())
    link, token = links.issue_link(assignment=given, **options)
    return given, link, token

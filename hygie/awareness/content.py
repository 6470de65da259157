"""Training modules: reading a module file, validating all of it, rendering it, loading it.

A module is one YAML file (`hygie/awareness/content/<slug>.yaml` for those shipped with Hygie,
or a platform administrator's own file imported with `hygie awareness-modules import`). The
format is documented in docs/awareness-content.md. `parse_module` validates the whole file and
reports every problem as (line, path, message); only a valid file produces a `ModuleSpec`,
whose `content` is the JSON stored in `Module.content` (Markdown already rendered to HTML, with
source HTML disabled). `save_module` applies the version rules of decision 0501.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils.html import escape
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from hygie.awareness.models import Audience, Module, ModuleOrigin
from hygie.core import markdown
from hygie.core.yaml_paths import YamlFileError, compose, locate, path_label, read_yaml

logger = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent / "content"
MAX_FILE_BYTES = 512 * 1024
STEP_KINDS = ("lesson", "spot_signs", "scenario", "passphrase")
HEADERS = ("from", "reply_to", "to", "subject", "date")

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# A zone of a practice e-mail the learner can click: [[sign-id|text shown]].
_ZONE = re.compile(r"\[\[([^|\]\n]*)\|([^\]\n]+)\]\]")

_TOP_KEYS = {
    "slug": True,
    "version": True,
    "title": True,
    "summary": True,
    "duration_minutes": True,
    "audiences": True,
    "lures": False,
    "themes": False,
    "pass_mark": False,
    "steps": True,
    "quiz": False,
}
_STEP_KEYS = {
    "lesson": {"kind": True, "title": True, "text": True},
    "spot_signs": {
        "kind": True,
        "title": True,
        "intro": True,
        "email": True,
        "signs": True,
        "decoys": False,
    },
    "scenario": {"kind": True, "title": True, "situation": True, "choices": True},
    "passphrase": {"kind": True, "title": True, "intro": True, "candidates": True},
}
_EMAIL_KEYS = {
    "from": True,
    "reply_to": False,
    "to": True,
    "subject": True,
    "date": True,
    "attachments": False,
    "body": True,
}
_SIGN_KEYS = {"id": True, "label": True, "explanation": True}
_CHOICE_KEYS = {"id": True, "text": True, "correct": False, "feedback": True}
_QUIZ_KEYS = {"questions": True}
_QUESTION_KEYS = {"id": True, "text": True, "multiple": False, "choices": True, "explanation": True}
_ANSWER_KEYS = {"id": True, "text": True, "correct": False}


# ---------------------------------------------------------------- errors and result


class ContentError(Exception):
    """A module file that cannot be loaded: `problems` are (line or None, path, message)."""

    def __init__(self, problems: list[tuple[int | None, str, str]], name: str = ""):
        self.problems = problems
        self.name = name
        super().__init__("; ".join(self.format_lines()))

    def format_lines(self) -> list[str]:
        lines = []
        for line, path, message in self.problems:
            text = f"{path} : {message}" if path else message
            lines.append(
                _("ligne %(line)s : %(text)s") % {"line": line, "text": text} if line else text
            )
        return lines


@dataclass
class ModuleSpec:
    slug: str
    version: int
    title: str
    summary: str
    duration_minutes: int
    pass_mark: int | None
    audiences: list[str]
    lures: list[str]
    themes: list[str]
    content: dict
    # SHA-256 of the module's source data (not of the file's bytes, nor of the rendered HTML):
    # comments and layout of the YAML do not count as a change, a renderer upgrade neither.
    digest: str
    name: str = ""

    def columns(self) -> dict:
        return {
            "version": self.version,
            "title": self.title,
            "summary": self.summary,
            "duration_minutes": self.duration_minutes,
            "pass_mark": self.pass_mark,
            "audiences": self.audiences,
            "lures": self.lures,
            "themes": self.themes,
            "content": self.content,
            "digest": self.digest,
        }


# ---------------------------------------------------------------- Markdown


def _zone_rule(state, silent):
    if not state.src.startswith("[[", state.pos):
        return False
    match = _ZONE.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        opening = state.push("sign_open", "mark", 1)
        opening.attrs = {"data-sign": match.group(1).strip()}
        text = state.push("text", "", 0)
        text.content = match.group(2).strip()
        state.push("sign_close", "mark", -1)
    state.pos = match.end()
    return True


def _link_open(self, tokens, idx, options, env):
    # Links open outside the module; noreferrer keeps a learner's personal link out of the
    # Referer header sent to the other site.
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


@cache
def _markdown() -> MarkdownIt:
    md = markdown.parser()
    md.inline.ruler.before("link", "sign_zone", _zone_rule)
    md.add_render_rule("link_open", _link_open)
    return md


@dataclass
class _Rendered:
    html: str
    zones: list[str] = field(default_factory=list)
    links: int = 0
    images: int = 0


def _render(text: str) -> _Rendered:
    md = _markdown()
    tokens = md.parse(text, {})
    rendered = _Rendered(html=md.renderer.render(tokens, md.options, {}).strip())
    for token in tokens:
        for child in token.children or []:
            if child.type == "sign_open":
                rendered.zones.append(child.attrs["data-sign"])
            elif child.type == "link_open":
                rendered.links += 1
            elif child.type == "image":
                rendered.images += 1
    return rendered


def render_markdown(text: str) -> str:
    """Markdown to HTML as module content is rendered (source HTML shown as text)."""
    return _render(text).html


# ---------------------------------------------------------------- validation


class _Checker:
    def __init__(self):
        self.problems: list[tuple[tuple, str]] = []

    def add(self, path: tuple, message: str) -> None:
        if len(self.problems) < 100:
            self.problems.append((path, message))

    def mapping(self, data: Any, path: tuple, keys: dict[str, bool]) -> dict | None:
        if not isinstance(data, dict):
            self.add(path, _("doit être un dictionnaire (clé: valeur)."))
            return None
        for key in data:
            if key not in keys:
                self.add(
                    (*path, str(key)),
                    _("clé inconnue « %(key)s » (clés possibles : %(keys)s).")
                    % {"key": key, "keys": ", ".join(keys)},
                )
        for key, required in keys.items():
            if required and data.get(key) in (None, "", []):
                self.add((*path, key), _("champ obligatoire manquant."))
        return data

    def text(self, data: dict, path: tuple, key: str, *, limit: int = 0) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add((*path, key), _("doit être un texte."))
            return ""
        value = str(value).strip()
        if limit and len(value) > limit:
            self.add(
                (*path, key),
                _("%(count)s caractères, au plus %(limit)s.")
                % {"count": len(value), "limit": limit},
            )
        return value

    def integer(self, data: dict, path: tuple, key: str, low: int, high: int) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(
                (*path, key),
                _("doit être un nombre entier entre %(low)s et %(high)s.")
                % {"low": low, "high": high},
            )
            return None
        return value

    def boolean(self, data: dict, path: tuple, key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.add((*path, key), _("doit valoir true ou false."))
            return False
        return value

    def items(self, data: dict, path: tuple, key: str) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add((*path, key), _("doit être une liste."))
            return []
        return value

    def words(self, data: dict, path: tuple, key: str) -> list[str]:
        values = self.items(data, path, key)
        out = []
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value.strip():
                self.add((*path, key, index), _("doit être un texte."))
            else:
                out.append(value.strip())
        return out

    def markdown(
        self, data: dict, path: tuple, key: str, *, zones: bool = False, links: bool = True
    ) -> _Rendered:
        source = self.text(data, path, key)
        rendered = _render(source)
        where = (*path, key)
        if rendered.images:
            self.add(
                where,
                _(
                    "pas d'image dans un module : Hygie n'affiche que ce qu'il sert lui-même "
                    "(réseaux fermés)."
                ),
            )
        if rendered.links and not links:
            self.add(
                where,
                _(
                    "pas de lien cliquable dans un courriel d'exercice : écrivez l'adresse en "
                    "texte, dans une zone [[signe|adresse]] si elle est un signe."
                ),
            )
        if zones:
            if source.count("[[") != len(_ZONE.findall(source)):
                self.add(where, _("zone mal écrite : la forme est [[identifiant|texte montré]]."))
        elif rendered.zones:
            self.add(where, _("les zones [[signe|texte]] n'ont leur place que dans un courriel."))
        return rendered

    def unique_id(self, item: dict, path: tuple, seen: set[str]) -> str:
        value = item.get("id")
        if value is None:
            return ""
        value = str(value).strip()
        if not _ID.match(value):
            self.add(
                (*path, "id"),
                _("identifiant « %(id)s » : minuscules, chiffres, - ou _, 40 caractères au plus.")
                % {"id": value},
            )
        elif value in seen:
            self.add(
                (*path, "id"), _("l'identifiant « %(id)s » apparaît deux fois.") % {"id": value}
            )
        seen.add(value)
        return value


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()


def _label(path: tuple) -> str:
    return path_label(path) or _("(racine)")


def known_lures() -> frozenset[str]:
    """Slugs of the simulation library's lures, which modules say they remedy."""
    from hygie.phishing.lures import library

    return frozenset(lure.slug for lure in library())


def parse_module(data: bytes | str, name: str = "", *, lures=None) -> ModuleSpec:
    """Validate a module file whole; raise ContentError naming every problem's line and path."""
    try:
        text, document = read_yaml(data, max_bytes=MAX_FILE_BYTES)
    except YamlFileError as exc:
        raise ContentError([(exc.line, "", exc.message)], name) from None

    checker = _Checker()
    spec = _validate(document, checker, known_lures() if lures is None else lures)
    if checker.problems:
        root = compose(text)
        raise ContentError(
            [(locate(root, path)[1], _label(path), message) for path, message in checker.problems],
            name,
        )
    spec.name = name
    return spec


def _validate(document: Any, c: _Checker, lures: frozenset[str]) -> ModuleSpec | None:
    doc = c.mapping(document, (), _TOP_KEYS)
    if doc is None:
        return None
    slug = c.text(doc, (), "slug", limit=80)
    if slug and not _SLUG.match(slug):
        c.add(("slug",), _("minuscules, chiffres et tirets seulement (ex. : cle-usb-trouvee)."))
    version = c.integer(doc, (), "version", 1, 100_000)
    title = c.text(doc, (), "title", limit=200)
    summary = c.text(doc, (), "summary", limit=600)
    duration = c.integer(doc, (), "duration_minutes", 1, 240)
    pass_mark = c.integer(doc, (), "pass_mark", 0, 100)

    audiences = c.words(doc, (), "audiences")
    for index, value in enumerate(audiences):
        if value not in Audience.values:
            c.add(
                ("audiences", index),
                _("public inconnu « %(value)s » (publics possibles : %(known)s).")
                % {"value": value, "known": ", ".join(Audience.values)},
            )
    module_lures = c.words(doc, (), "lures")
    for index, value in enumerate(module_lures):
        if value not in lures:
            c.add(
                ("lures", index),
                _("leurre « %(value)s » absent de la bibliothèque de simulation (%(known)s).")
                % {"value": value, "known": ", ".join(sorted(lures))},
            )
    themes = c.words(doc, (), "themes")
    for index, value in enumerate(themes):
        if len(value) > 40:
            c.add(("themes", index), _("un thème tient en 40 caractères au plus."))

    steps = []
    for index, item in enumerate(c.items(doc, (), "steps")):
        step = _step(item, ("steps", index), c)
        if step is not None:
            steps.append(step)

    quiz = None
    if doc.get("quiz") is not None:
        quiz = _quiz(doc["quiz"], ("quiz",), c)
        if pass_mark is None and "pass_mark" not in doc:
            c.add(
                ("pass_mark",), _("un module avec un quiz indique son seuil de réussite (0 à 100).")
            )
    elif pass_mark is not None:
        c.add(
            ("pass_mark",),
            _("un seuil de réussite sans quiz : ajoutez un quiz ou retirez le seuil."),
        )

    if c.problems:
        return None
    content = {"steps": steps}
    if quiz is not None:
        content["quiz"] = quiz
    source = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return ModuleSpec(
        slug=slug,
        version=version,
        title=title,
        summary=summary,
        duration_minutes=duration,
        pass_mark=pass_mark,
        audiences=audiences,
        lures=module_lures,
        themes=themes,
        content=content,
        digest=hashlib.sha256(source.encode()).hexdigest(),
    )


def _step(item: Any, path: tuple, c: _Checker) -> dict | None:
    if not isinstance(item, dict):
        c.add(path, _("chaque étape est un dictionnaire avec un « kind »."))
        return None
    kind = item.get("kind")
    if kind not in STEP_KINDS:
        c.add(
            (*path, "kind"),
            _("type d'étape inconnu « %(kind)s » (types possibles : %(kinds)s).")
            % {"kind": kind, "kinds": ", ".join(STEP_KINDS)},
        )
        return None
    c.mapping(item, path, _STEP_KEYS[kind])
    title = c.text(item, path, "title", limit=200)
    if kind == "lesson":
        return {"kind": kind, "title": title, "html": c.markdown(item, path, "text").html}
    if kind == "spot_signs":
        return _spot_signs(item, path, title, c)
    key = "choices" if kind == "scenario" else "candidates"
    intro_key = "situation" if kind == "scenario" else "intro"
    options = _choices(item, path, key, c, with_feedback=True)
    return {
        "kind": kind,
        "title": title,
        f"{intro_key}_html": c.markdown(item, path, intro_key).html,
        key: options,
    }


def _choices(item: dict, path: tuple, key: str, c: _Checker, *, with_feedback: bool) -> list:
    keys = _CHOICE_KEYS if with_feedback else _ANSWER_KEYS
    options, seen = [], set()
    raw = c.items(item, path, key)
    for index, choice in enumerate(raw):
        where = (*path, key, index)
        if c.mapping(choice, where, keys) is None:
            continue
        option = {
            "id": c.unique_id(choice, where, seen),
            "text": c.text(choice, where, "text", limit=500),
            "correct": c.boolean(choice, where, "correct"),
        }
        if with_feedback:
            option["feedback_html"] = c.markdown(choice, where, "feedback").html
        options.append(option)
    if raw and len(raw) < 2:
        c.add((*path, key), _("au moins deux choix."))
    elif raw and not any(option["correct"] for option in options):
        c.add((*path, key), _("aucun choix n'est marqué correct: true."))
    return options


def _zone_text(value: str) -> tuple[str, str, list[str]]:
    """(plain text, HTML with <mark> zones, zone ids) of one header of a practice e-mail."""
    plain, html, ids, last = [], [], [], 0
    for match in _ZONE.finditer(value):
        plain.append(value[last : match.start()])
        html.append(escape(value[last : match.start()]))
        shown, sign = match.group(2).strip(), match.group(1).strip()
        plain.append(shown)
        html.append(f'<mark data-sign="{escape(sign)}">{escape(shown)}</mark>')
        ids.append(sign)
        last = match.end()
    plain.append(value[last:])
    html.append(escape(value[last:]))
    return "".join(plain), "".join(html), ids


def _spot_signs(item: dict, path: tuple, title: str, c: _Checker) -> dict:
    step = {"kind": "spot_signs", "title": title}
    step["intro_html"] = c.markdown(item, path, "intro").html
    email_path = (*path, "email")
    email = c.mapping(item.get("email"), email_path, _EMAIL_KEYS) if "email" in item else None
    zones: list[tuple[tuple, str]] = []  # (path, sign id) of every zone
    out_email: dict = {}
    headers_html: dict = {}
    if email is not None:
        for key in HEADERS:
            raw = c.text(email, email_path, key, limit=300)
            if raw.count("[[") != len(_ZONE.findall(raw)):
                c.add(
                    (*email_path, key),
                    _("zone mal écrite : la forme est [[identifiant|texte montré]]."),
                )
            plain, marked, ids = _zone_text(raw)
            out_email[key], headers_html[key] = plain, marked
            zones += [((*email_path, key), sign) for sign in ids]
        attachments, attachments_html = [], []
        for index, raw in enumerate(c.words(email, email_path, "attachments")):
            plain, marked, ids = _zone_text(raw)
            attachments.append(plain)
            attachments_html.append(marked)
            zones += [((*email_path, "attachments", index), sign) for sign in ids]
        out_email["attachments"] = attachments
        headers_html["attachments"] = attachments_html
        body = c.markdown(email, email_path, "body", zones=True, links=False)
        out_email["body_html"] = body.html
        # Headers with their zones marked, for pages that let the learner click the sender.
        out_email["headers_html"] = headers_html
        zones += [((*email_path, "body"), sign) for sign in body.zones]
    step["email"] = out_email

    seen: set[str] = set()
    declared: dict[str, tuple] = {}
    for key in ("signs", "decoys"):
        entries = []
        for index, sign in enumerate(c.items(item, path, key)):
            where = (*path, key, index)
            if c.mapping(sign, where, _SIGN_KEYS) is None:
                continue
            sign_id = c.unique_id(sign, where, seen)
            declared.setdefault(sign_id, (*where, "id"))
            entries.append(
                {
                    "id": sign_id,
                    "label": c.text(sign, where, "label", limit=200),
                    "explanation_html": c.markdown(sign, where, "explanation").html,
                }
            )
        step[key] = entries
    used = set()
    for where, sign in zones:
        used.add(sign)
        if sign not in declared:
            c.add(
                where,
                _("la zone [[%(id)s|…]] ne correspond à aucun signe ni leurre déclaré.")
                % {"id": sign},
            )
    for sign, where in declared.items():
        if sign and sign not in used:
            c.add(
                where,
                _("le signe « %(id)s » n'a aucune zone [[%(id)s|…]] dans le courriel.")
                % {"id": sign},
            )
    return step


def _quiz(data: Any, path: tuple, c: _Checker) -> dict | None:
    quiz = c.mapping(data, path, _QUIZ_KEYS)
    if quiz is None:
        return None
    questions, seen = [], set()
    for index, item in enumerate(c.items(quiz, path, "questions")):
        where = (*path, "questions", index)
        if c.mapping(item, where, _QUESTION_KEYS) is None:
            continue
        multiple = c.boolean(item, where, "multiple")
        choices = _choices(item, where, "choices", c, with_feedback=False)
        correct = sum(choice["correct"] for choice in choices)
        if not multiple and correct > 1:
            c.add(
                (*where, "choices"),
                _(
                    "%(count)s choix corrects pour une question à réponse unique : ajoutez multiple: true."
                )
                % {"count": correct},
            )
        questions.append(
            {
                "id": c.unique_id(item, where, seen),
                "text": c.text(item, where, "text", limit=500),
                "multiple": multiple,
                "choices": choices,
                "explanation_html": c.markdown(item, where, "explanation").html,
            }
        )
    return {"questions": questions}


# ---------------------------------------------------------------- saving and loading


@dataclass
class LoadOutcome:
    slug: str
    action: str  # created | upgraded | unchanged | refused | deactivated
    message: str
    module: Module | None = None


def save_module(spec: ModuleSpec, *, origin: str = ModuleOrigin.IMPORTED) -> LoadOutcome:
    """Create or upgrade the module (decision 0501); raise ContentError when refused."""

    def refuse(message: str):
        raise ContentError([(None, "version", message)], spec.name)

    with transaction.atomic():
        existing = Module.objects.select_for_update().filter(slug=spec.slug).first()
        if existing is None:
            module = Module.objects.create(slug=spec.slug, origin=origin, **spec.columns())
            return LoadOutcome(
                spec.slug,
                "created",
                _("« %(title)s » version %(version)s chargé.")
                % {"title": module.title, "version": module.version},
                module,
            )
        if existing.origin != origin:
            if existing.origin == ModuleOrigin.BUILTIN:
                refuse(
                    _(
                        "« %(slug)s » est un module livré avec Hygie : il ne peut pas être "
                        "remplacé par un import. Copiez le fichier sous un autre slug pour "
                        "l'adapter."
                    )
                    % {"slug": spec.slug}
                )
            refuse(
                _(
                    "le slug « %(slug)s » est déjà pris par un module importé : renommez ce "
                    "module importé pour charger le module livré avec Hygie."
                )
                % {"slug": spec.slug}
            )
        if spec.version < existing.version:
            refuse(
                _(
                    "« %(slug)s » est chargé en version %(loaded)s ; ce fichier porte la version "
                    "%(version)s. Une version inférieure ne remplace jamais une version "
                    "supérieure : rien n'a changé."
                )
                % {"slug": spec.slug, "loaded": existing.version, "version": spec.version}
            )
        if spec.version == existing.version:
            if spec.digest != existing.digest:
                refuse(
                    _(
                        "le contenu de « %(slug)s » a changé mais sa version est toujours "
                        "%(version)s. Passez « version » à %(next)s pour publier la "
                        "modification (les suivis déjà faits restent attachés à la version "
                        "%(version)s) : rien n'a changé."
                    )
                    % {"slug": spec.slug, "version": spec.version, "next": spec.version + 1}
                )
            changed = []
            if existing.content != spec.content:  # same source, re-rendered differently
                existing.content = spec.content
                changed.append("content")
            if not existing.active:
                existing.active = True
                changed.append("active")
            if changed:
                existing.save(update_fields=[*changed, "updated_at"])
            return LoadOutcome(
                spec.slug,
                "unchanged",
                _("« %(title)s » version %(version)s déjà chargé.")
                % {"title": existing.title, "version": existing.version},
                existing,
            )
        previous = existing.version
        for name, value in spec.columns().items():
            setattr(existing, name, value)
        existing.active = True
        existing.save()
        return LoadOutcome(
            spec.slug,
            "upgraded",
            _("« %(title)s » mis à jour de la version %(old)s à la version %(new)s.")
            % {"title": existing.title, "old": previous, "new": existing.version},
            existing,
        )


def import_module(data: bytes, name: str = "") -> LoadOutcome:
    """A platform administrator's own module file: validated whole, then saved."""
    return save_module(parse_module(data, name), origin=ModuleOrigin.IMPORTED)


def builtin_files() -> list[Path]:
    return sorted(CONTENT_DIR.glob("*.yaml"))


def load_builtin_modules() -> list[LoadOutcome]:
    """Load or upgrade the modules shipped in `content/`, deactivate those whose file is gone.

    Runs after every `migrate`. A refused file is logged (the shipped files are checked by the
    tests) rather than allowed to stop a migration; its module keeps its previous version.
    """
    if Module._meta.db_table not in connection.introspection.table_names():
        return []  # migrate stopped before the awareness tables
    outcomes: list[LoadOutcome] = []
    lures = known_lures()
    present = set()
    for path in builtin_files():
        present.add(path.stem)
        try:
            spec = parse_module(path.read_bytes(), path.name, lures=lures)
            if spec.slug != path.stem:
                raise ContentError(
                    [
                        (
                            None,
                            "slug",
                            _("le slug « %(slug)s » doit être le nom du fichier (%(stem)s).")
                            % {"slug": spec.slug, "stem": path.stem},
                        )
                    ],
                    path.name,
                )
            outcomes.append(save_module(spec, origin=ModuleOrigin.BUILTIN))
        except ContentError as exc:
            logger.error("training module %s refused: %s", path.name, exc)
            outcomes.append(LoadOutcome(path.stem, "refused", str(exc)))
    gone = Module.objects.filter(origin=ModuleOrigin.BUILTIN, active=True).exclude(slug__in=present)
    for module in gone:
        module.active = False
        module.save(update_fields=["active", "updated_at"])
        outcomes.append(
            LoadOutcome(
                module.slug,
                "deactivated",
                _("« %(title)s » n'est plus livré : il n'est plus proposé.")
                % {"title": module.title},
                module,
            )
        )
    return outcomes


# ---------------------------------------------------------------- who, what


def modules_for_lure(slug: str):
    """Active modules that remedy this simulation lure (the training after a click)."""
    matching = [
        pk
        for pk, lures in Module.objects.filter(active=True).values_list("pk", "lures")
        if slug in lures
    ]
    return Module.objects.filter(pk__in=matching)


# Words of a job title (folded: lower case, no accents) and the audiences they add.
_TITLE_AUDIENCES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\b"), audience)
    for words, audience in (
        (
            r"cadre|cadres|chef|cheffe|responsable|directeur|directrice|manager"
            r"|encadrant|encadrante|coordonnateur|coordonnatrice|coordinateur|coordinatrice",
            Audience.MANAGER,
        ),
        (
            r"medecin|praticien|praticienne|interne|chirurgien|chirurgienne|anesthesiste"
            r"|psychiatre|pediatre|radiologue|biologiste|pharmacien|pharmacienne|docteur",
            Audience.DOCTOR,
        ),
        (
            r"infirmier|infirmiere|ide|ibode|iade|aide-soignant|aide-soignante|as|sage-femme"
            r"|puericultrice|puericulteur|manipulateur|manipulatrice|kinesitherapeute|kine"
            r"|sante",
            Audience.CARE,
        ),
        (
            r"secretaire|secretariat|accueil|admission|admissions|standardiste|standard"
            r"|assistante|assistant|agent administratif|gestionnaire",
            Audience.SECRETARY,
        ),
        (
            r"biomedical|biomedicale|maintenance|electricien|electricienne|atelier|technicien"
            r"|technicienne|services techniques|ingenieur biomedical",
            Audience.TECHNICAL,
        ),
        (
            r"administrateur|administratrice|systeme|systemes|reseau|reseaux"
            r"|informaticien|informaticienne|rssi|dsi|devops",
            Audience.IT_ADMIN,
        ),
    )
)

# The audience each job family of the staff directory belongs to (decision 0503).
_FAMILY_AUDIENCES = {
    "medical": {Audience.DOCTOR},
    "soignant": {Audience.CARE},
    "medico_technique": {Audience.CARE},
    "socio_educatif": {Audience.CARE},
    "administratif": {Audience.SECRETARY},
    "technique": {Audience.TECHNICAL},
    "informatique": {Audience.IT_ADMIN},
    "direction": {Audience.MANAGER},
    "etudiant": {Audience.CARE},
    "autre": set(),
}


_CARE_FAMILIES = ("medical", "soignant", "medico_technique", "socio_educatif", "etudiant")


def audiences_for(staff) -> set[str]:
    """The audiences of a person, from their job family and the words of their job title.

    A title adds to the family ("cadre de santé" in the care family is care staff and a
    manager); in the IT and biomedical family a biomedical title means the biomedical team
    rather than IT administration. Someone matching nothing counts as administrative staff,
    who get the modules written for everyone.
    """
    family = getattr(staff, "job_family", "") or ""
    title = _fold(getattr(staff, "job_title", "") or "")
    audiences = {str(a) for a in _FAMILY_AUDIENCES.get(family, set())}
    for pattern, audience in _TITLE_AUDIENCES:
        if pattern.search(title):
            audiences.add(str(audience))
    if family == "informatique":
        if re.search(r"\bbiomedica", title):
            audiences.discard(str(Audience.IT_ADMIN))
            audiences.add(str(Audience.TECHNICAL))
        else:  # "technicien informatique" is IT, not the maintenance teams
            audiences.discard(str(Audience.TECHNICAL))
    if family in _CARE_FAMILIES:
        # "assistant(e)" or "technicien(ne)" in a care title (assistante sociale, technicien de
        # laboratoire) does not make someone a secretary or a maintenance technician.
        audiences.discard(str(Audience.SECRETARY))
        audiences.discard(str(Audience.TECHNICAL))
    if not audiences:
        audiences.add(str(Audience.SECRETARY))
    return audiences

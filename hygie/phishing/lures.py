"""The lure library: placeholder checking, lure files and rendering of a message.

A lure is one YAML file in `hygie/phishing/library/` (format in docs/decisions/0401). Its
subject and bodies use a closed list of placeholders written exactly `{{name}}`: lower case, no
accent, no space inside the braces (docs/decisions/0400). Anything else between double braces
is refused by `check_template` with its exact spelling and, when it is an obvious variant
(`{{ lien }}`, `{{Prénom}}`, GoPhish's `{{.FirstName}}`), the spelling to use instead.

Placeholders and the value the sending code puts in the context:
    prenom, nom       the recipient's first and last name
    service           the recipient's service (e.g. "Laboratoire de biologie")
    etablissement     the recipient's establishment
    lien              the recipient's tracked link (a URL)
    pixel             the open-tracking URL; html only, rendered as a 1x1 image
    date              a date already formatted in French (e.g. "12 mars 2025")
    expediteur        the sender as shown in the message (display name)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hygie.core.yaml_paths import compose, locate, path_label

PLACEHOLDERS = ("prenom", "nom", "service", "etablissement", "lien", "pixel", "date", "expediteur")
LINK = "lien"
PIXEL = "pixel"
LIBRARY_DIR = Path(__file__).resolve().parent / "library"
MAX_FILE_BYTES = 256 * 1024

SIGN_PLACES = ("subject", "sender", "link", "body", "attachment", "tone")
FIELD_TYPES = ("text", "password", "email")
DIFFICULTIES = (1, 2, 3)

# Anything between double braces, so that misspellings are caught rather than sent as is.
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LOCAL_PART = re.compile(r"^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KEYWORD = re.compile(r"^[a-z0-9][a-z0-9' -]{1,39}$")
_MARKDOWN = re.compile(r"(^\s*(#|[-*+] |\d+\. |>))|\*\*|__|\]\(|`", re.MULTILINE)

# GoPhish's variables, so that a pasted GoPhish template gets a useful suggestion.
_GOPHISH = {
    ".firstname": "prenom",
    ".lastname": "nom",
    ".url": "lien",
    ".tracker": "pixel",
    ".trackingurl": "pixel",
    ".from": "expediteur",
    ".position": "service",
}

# ---------------------------------------------------------------- placeholders


@dataclass(frozen=True)
class TemplateProblem:
    """One reason a template cannot be sent; `field` is subject, text, html or another part."""

    field: str
    message: str
    placeholder: str = ""

    def __str__(self) -> str:
        return self.message


def _tag(name: str) -> str:
    return "{{" + name + "}}"


def find_placeholders(text: str) -> list[str]:
    """Every `{{...}}` in `text`, written as found (braces included), in order of appearance."""
    return [match.group(0) for match in _BRACES.finditer(text or "")]


def _suggestion(inner: str) -> str | None:
    folded = unicodedata.normalize("NFKD", inner).encode("ascii", "ignore").decode().lower()
    folded = folded.strip()
    if folded in _GOPHISH:
        return _GOPHISH[folded]
    folded = folded.replace(" ", "").replace("-", "").replace("_", "")
    return folded if folded in PLACEHOLDERS else None


_FIELD_LABELS = {
    "subject": gettext_noop("Objet"),
    "text": gettext_noop("Corps texte"),
    "html": gettext_noop("Corps HTML"),
    "sender": gettext_noop("Nom de l'expéditeur"),
    "landing": gettext_noop("Page d'arrivée"),
    "teachable": gettext_noop("Page pédagogique"),
}


def _field_label(field: str) -> str:
    return _(_FIELD_LABELS[field]) if field in _FIELD_LABELS else field


def check_text(
    field: str, text: str, *, allowed: tuple[str, ...] = PLACEHOLDERS
) -> list[TemplateProblem]:
    """Problems with the placeholders of one piece of text; `allowed` narrows the known list."""
    problems: list[TemplateProblem] = []
    label = _field_label(field)
    seen: set[str] = set()
    for found in find_placeholders(text):
        inner = found[2:-2]
        if inner in allowed or found in seen:
            continue
        seen.add(found)
        if inner in PLACEHOLDERS:
            if inner == PIXEL:
                reason = _("le pixel de suivi n'a sa place que dans le corps HTML")
            elif inner == LINK:
                reason = _("le lien suivi n'a sa place que dans le corps du message")
            else:
                reason = _("cette variable n'est pas disponible ici")
            message = _("%(field)s : %(placeholder)s, %(reason)s.") % {
                "field": label,
                "placeholder": found,
                "reason": reason,
            }
        else:
            suggestion = _suggestion(inner)
            message = _("%(field)s : variable inconnue %(placeholder)s.") % {
                "field": label,
                "placeholder": found,
            }
            if suggestion and suggestion in allowed:
                message += " " + _("Écrire {{%(name)s}} (minuscules, sans accent ni espace).") % {
                    "name": suggestion
                }
            else:
                message += " " + _("Variables possibles : %(names)s.") % {
                    "names": ", ".join(_tag(name) for name in allowed)
                }
        problems.append(TemplateProblem(field, message, found))
    rest = _BRACES.sub("", text or "")
    if "{{" in rest or "}}" in rest:
        problems.append(
            TemplateProblem(
                field,
                _("%(field)s : accolades « {{ » ou « }} » sans leur paire.") % {"field": label},
            )
        )
    return problems


def check_template(subject: str, text: str, html: str) -> list[TemplateProblem]:
    """Why this message cannot be sent, or [] when it can.

    Refused: any placeholder outside PLACEHOLDERS (named as written), `{{lien}}` or `{{pixel}}`
    in the subject, `{{pixel}}` in the text body, unpaired braces, and a body without
    `{{lien}}` (a simulation whose click cannot be tracked measures nothing). An empty html
    body is allowed (text-only message); an html body without `{{pixel}}` is allowed too,
    opens are then simply not measured.
    """
    body_only = tuple(name for name in PLACEHOLDERS if name not in (LINK, PIXEL))
    problems = check_text("subject", subject, allowed=body_only)
    problems += check_text("text", text, allowed=tuple(n for n in PLACEHOLDERS if n != PIXEL))
    problems += check_text("html", html)
    if not (text or "").strip() and not (html or "").strip():
        problems.append(TemplateProblem("text", _("Le message n'a pas de corps.")))
    for field, body in (("text", text), ("html", html)):
        if (body or "").strip() and _tag(LINK) not in body:
            problems.append(
                TemplateProblem(
                    field,
                    _("%(field)s : le lien suivi {{lien}} manque.")
                    % {"field": _field_label(field)},
                    "{{lien}}",
                )
            )
    return problems


# ------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def _values(template: str, context: dict[str, Any]) -> None:
    missing = sorted(
        {
            found[2:-2]
            for found in find_placeholders(template)
            if found[2:-2] in PLACEHOLDERS and found[2:-2] not in context
        }
    )
    if missing:
        raise ValueError("missing context values: " + ", ".join(missing))


def render_text(template: str, context: dict[str, Any], *, single_line: bool = False) -> str:
    """Plain-text substitution. `single_line` folds line breaks (headers such as the subject)."""
    _values(template, context)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {match.group(0)}")
        if name == PIXEL:
            return ""
        result = str(context[name])
        return " ".join(result.split()) if single_line else result

    rendered = _BRACES.sub(value, template or "")
    return " ".join(rendered.split()) if single_line else rendered


def render_html(template: str, context: dict[str, Any]) -> str:
    """HTML substitution: every value is escaped; `{{pixel}}` becomes a 1x1 image of its URL."""
    _values(template, context)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {match.group(0)}")
        if name == PIXEL:
            return format_html(
                '<img src="{}" width="1" height="1" alt="" style="border:0;display:block">',
                context[name],
            )
        return str(conditional_escape(context[name]))

    return _BRACES.sub(value, template or "")


def render(template: Any, context: dict[str, Any]) -> RenderedMessage:
    """Render any object with `subject`, `text` and `html` (a Lure, a stored template).

    Raises ValueError on an unknown placeholder or a missing context value: templates are
    checked with `check_template` before launch, so this only fires on a programming error.
    """
    return RenderedMessage(
        subject=render_text(template.subject, context, single_line=True),
        text=render_text(template.text, context),
        html=render_html(template.html, context) if (template.html or "").strip() else "",
    )


# ------------------------------------------------------------------ lure files


@dataclass(frozen=True)
class Sign:
    where: str
    text: str


@dataclass(frozen=True)
class Sender:
    display_name: str
    local_part: str


@dataclass(frozen=True)
class LandingField:
    name: str
    label: str
    type: str


@dataclass(frozen=True)
class Landing:
    title: str
    intro: str
    fields: tuple[LandingField, ...]
    button: str


@dataclass(frozen=True)
class Teachable:
    title: str
    body: str
    signs: tuple[Sign, ...]

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in re.split(r"\n\s*\n", self.body) if p.strip()]


@dataclass(frozen=True)
class Lure:
    slug: str
    version: int
    name: str
    summary: str
    difficulty: int
    audiences: tuple[str, ...]
    sender: Sender
    subject: str
    text: str
    html: str
    signs: tuple[Sign, ...]
    landing: Landing
    teachable: Teachable
    path: Path | None = None
    # An imported (GoPhish) landing page, served instead of `landing` when set.
    landing_html: str = ""

    @property
    def job_families(self) -> tuple[str, ...]:
        return tuple(a for a in self.audiences if a in _job_families())

    @property
    def service_keywords(self) -> tuple[str, ...]:
        return tuple(a for a in self.audiences if a not in _job_families())

    def suits(self, *, job_family: str = "", service_name: str = "") -> bool:
        """Whether this lure is meant for someone of this job family or service."""
        if job_family and job_family in self.job_families:
            return True
        name = _fold(service_name)
        return bool(name) and any(_fold(word) in name for word in self.service_keywords)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()


@cache
def _job_families() -> frozenset[str]:
    from hygie.orgs.models import JobFamily  # models need the app registry: import late

    return frozenset(JobFamily.values)


class LureError(Exception):
    """A lure file that cannot be loaded; `problems` are (field, line or None, message)."""

    def __init__(self, filename: str, problems: list[tuple[str, int | None, str]]):
        self.filename = filename
        self.problems = problems
        super().__init__("\n".join(self.format_lines()))

    def format_lines(self) -> list[str]:
        lines = []
        for field, line, message in self.problems:
            where = _("%(file)s, ligne %(line)s") % {"file": self.filename, "line": line}
            if line is None:
                where = self.filename
            if field:
                where += _(", champ %(field)s") % {"field": field}
            lines.append(f"{where} : {message}")
        return lines


_TOP_KEYS = (
    "slug",
    "version",
    "name",
    "summary",
    "difficulty",
    "audiences",
    "sender",
    "subject",
    "text",
    "html",
    "signs",
    "landing",
    "teachable",
)


class _Checker:
    def __init__(self):
        self.problems: list[tuple[tuple, str, str]] = []

    def add(self, path: tuple, message: str, near: str = "") -> None:
        """`near` is a piece of text (a placeholder) whose own line is more precise."""
        self.problems.append((path, message, near))

    def mapping(self, data: Any, path: tuple, keys: tuple[str, ...]) -> dict:
        if not isinstance(data, dict):
            self.add(path, _("doit être un dictionnaire (clé: valeur)."))
            return {}
        for key in data:
            if key not in keys:
                self.add(
                    (*path, key),
                    _("champ inconnu ; champs possibles : %(keys)s.") % {"keys": ", ".join(keys)},
                )
        return data

    def text(self, data: dict, path: tuple, key: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add((*path, key), _("champ obligatoire manquant."))
            return ""
        if not isinstance(value, str):
            self.add((*path, key), _("doit être un texte."))
            return ""
        return value.strip()

    def integer(self, data: dict, path: tuple, key: str, allowed: range) -> int:
        value = data.get(key)
        if value is None:
            self.add((*path, key), _("champ obligatoire manquant."))
            return allowed.start
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            self.add(
                (*path, key),
                _("doit être un entier entre %(low)s et %(high)s.")
                % {"low": allowed.start, "high": allowed.stop - 1},
            )
            return allowed.start
        return value

    def items(self, data: dict, path: tuple, key: str, minimum: int) -> list:
        value = data.get(key)
        if not isinstance(value, list) or len(value) < minimum:
            self.add(
                (*path, key),
                _("doit être une liste d'au moins %(count)s élément(s).") % {"count": minimum},
            )
            return []
        return value

    def placeholders(self, path: tuple, text: str, allowed: tuple[str, ...]) -> None:
        for problem in check_text(".".join(map(str, path)), text, allowed=allowed):
            self.add(path, problem.message.split(" : ", 1)[-1], problem.placeholder)


_PAGE_PLACEHOLDERS = ("prenom", "nom", "service", "etablissement", "date", "expediteur")


def parse_lure(source: str | bytes, *, filename: str = "<lure>") -> Lure:
    """Validate one lure document; raise LureError naming file, line and field of each problem."""
    if isinstance(source, bytes):
        if len(source) > MAX_FILE_BYTES:
            raise LureError(filename, [("", None, _("le fichier dépasse 256 Ko."))])
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LureError(
                filename, [("", None, _("pas en UTF-8 (octet %(pos)s).") % {"pos": exc.start})]
            ) from None
    try:
        data = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise LureError(
            filename,
            [
                (
                    "",
                    mark.line + 1 if mark else None,
                    _("YAML invalide : %(problem)s") % {"problem": exc.problem or exc},
                )
            ],
        ) from None
    except yaml.YAMLError as exc:
        raise LureError(
            filename, [("", None, _("YAML invalide : %(problem)s") % {"problem": exc})]
        ) from None

    checker = _Checker()
    lure = _validate(data, checker, filename)
    if checker.problems or lure is None:
        lines = _lines_for(source, [(path, near) for path, _message, near in checker.problems])
        raise LureError(
            filename,
            [
                (path_label(path), lines.get((path, near)), message)
                for path, message, near in checker.problems
            ],
        )
    return lure


def _validate(data: Any, c: _Checker, filename: str) -> Lure | None:
    top = c.mapping(data, (), _TOP_KEYS)
    if not top:
        if isinstance(data, dict):
            c.add((), _("fichier vide."))
        return None
    slug = c.text(top, (), "slug")
    if slug and not _SLUG.match(slug):
        c.add(("slug",), _("lettres minuscules, chiffres et tirets seulement."))
    stem = Path(filename).stem
    if slug and filename != "<lure>" and slug != stem:
        c.add(("slug",), _("doit être le nom du fichier (%(stem)s).") % {"stem": stem})
    version = c.integer(top, (), "version", range(1, 10_000))
    name = c.text(top, (), "name")
    summary = c.text(top, (), "summary")
    difficulty = c.integer(top, (), "difficulty", range(1, 4))

    audiences = []
    families = _job_families()
    for index, audience in enumerate(c.items(top, (), "audiences", 1)):
        if not isinstance(audience, str) or not (
            audience in families or _KEYWORD.match(_fold(audience))
        ):
            c.add(
                ("audiences", index),
                _(
                    "ni une famille de métiers (%(families)s) ni un mot-clé de service "
                    "en minuscules."
                )
                % {"families": ", ".join(sorted(families))},
            )
        else:
            audiences.append(audience)

    sender_data = c.mapping(top.get("sender"), ("sender",), ("display_name", "local_part"))
    display_name = c.text(sender_data, ("sender",), "display_name") if sender_data else ""
    local_part = c.text(sender_data, ("sender",), "local_part") if sender_data else ""
    if local_part and not _LOCAL_PART.match(local_part):
        c.add(
            ("sender", "local_part"),
            _("partie avant @ : minuscules, chiffres, point, tiret, plus ou souligné."),
        )
    c.placeholders(("sender", "display_name"), display_name, _PAGE_PLACEHOLDERS)

    subject = c.text(top, (), "subject")
    text = c.text(top, (), "text")
    html = c.text(top, (), "html")
    for problem in check_template(subject, text, html):
        c.add((problem.field,), problem.message.split(" : ", 1)[-1], problem.placeholder)
    if html and _tag(PIXEL) not in html:
        c.add(("html",), _("le pixel de suivi {{pixel}} manque."))

    signs = []
    for index, item in enumerate(c.items(top, (), "signs", 3)):
        path = ("signs", index)
        item = c.mapping(item, path, ("where", "text"))
        if not item:
            continue
        where = item.get("where")
        if where not in SIGN_PLACES:
            c.add((*path, "where"), _("valeurs possibles : %(v)s.") % {"v": ", ".join(SIGN_PLACES)})
        signs.append(Sign(where=str(where), text=c.text(item, path, "text")))

    landing = _landing(c, top.get("landing"))
    teachable_data = c.mapping(top.get("teachable"), ("teachable",), ("title", "body"))
    teach_title = c.text(teachable_data, ("teachable",), "title") if teachable_data else ""
    teach_body = c.text(teachable_data, ("teachable",), "body") if teachable_data else ""
    if _MARKDOWN.search(teach_body):
        c.add(("teachable", "body"), _("texte simple attendu, sans mise en forme Markdown."))
    c.placeholders(("teachable", "title"), teach_title, _PAGE_PLACEHOLDERS)
    c.placeholders(("teachable", "body"), teach_body, _PAGE_PLACEHOLDERS)

    if c.problems:
        return None
    return Lure(
        slug=slug,
        version=version,
        name=name,
        summary=summary,
        difficulty=difficulty,
        audiences=tuple(audiences),
        sender=Sender(display_name, local_part),
        subject=subject,
        text=text,
        html=html,
        signs=tuple(signs),
        landing=landing,
        teachable=Teachable(teach_title, teach_body, tuple(signs)),
    )


def _landing(c: _Checker, data: Any) -> Landing:
    path = ("landing",)
    data = c.mapping(data, path, ("title", "intro", "fields", "button"))
    if not data:
        return Landing("", "", (), "")
    title = c.text(data, path, "title")
    intro = c.text(data, path, "intro")
    button = c.text(data, path, "button")
    c.placeholders((*path, "title"), title, _PAGE_PLACEHOLDERS)
    c.placeholders((*path, "intro"), intro, _PAGE_PLACEHOLDERS)
    fields = []
    names = set()
    for index, item in enumerate(c.items(data, path, "fields", 1)):
        where = (*path, "fields", index)
        item = c.mapping(item, where, ("name", "label", "type"))
        if not item:
            continue
        name = c.text(item, where, "name")
        if name and not _FIELD_NAME.match(name):
            c.add(
                (*where, "name"), _("minuscules, chiffres et souligné, commençant par une lettre.")
            )
        elif name in names:
            c.add((*where, "name"), _("nom déjà utilisé par un autre champ."))
        names.add(name)
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            c.add((*where, "type"), _("valeurs possibles : %(v)s.") % {"v": ", ".join(FIELD_TYPES)})
        fields.append(LandingField(name, c.text(item, where, "label"), str(kind)))
    return Landing(title, intro, tuple(fields), button)


def load_lure(path: Path | str) -> Lure:
    path = Path(path)
    lure = parse_lure(path.read_bytes(), filename=path.name)
    return Lure(**{**lure.__dict__, "path": path})


@cache
def library() -> tuple[Lure, ...]:
    """The shipped lures, sorted by slug. Raises LureError for the first broken file."""
    return tuple(load_lure(path) for path in sorted(LIBRARY_DIR.glob("*.yaml")))


def get_lure(slug: str) -> Lure | None:
    return next((lure for lure in library() if lure.slug == slug), None)


def custom_to_lure(custom) -> Lure:
    """A stored CustomLure as a Lure, keyed `custom-<pk>`."""
    signs = tuple(
        Sign(str(item.get("where", "body")), str(item.get("text", "")))
        for item in (custom.signs or [])
        if isinstance(item, dict)
    )
    fields = tuple(
        LandingField(str(item.get("name", "")), str(item.get("label", "")), str(item.get("type")))
        for item in (custom.landing_fields or [])
        if isinstance(item, dict)
    )
    return Lure(
        slug=custom.key,
        version=1,
        name=custom.name,
        summary=custom.summary,
        difficulty=2,
        audiences=tuple(custom.audiences or ()),
        sender=Sender(custom.sender_name, custom.sender_local_part),
        subject=custom.subject,
        text=custom.text,
        html=custom.html,
        signs=signs,
        landing=Landing(custom.landing_title, custom.landing_intro, fields, custom.landing_button),
        teachable=Teachable(custom.teachable_title, custom.teachable_body, signs),
        landing_html=custom.landing_html,
    )


def available_custom_lures(organisation):
    """Custom lures a campaign of this organisation may use: its own and its ancestors'
    (a GHT shares its lures with its members)."""
    from hygie.phishing.models import CustomLure

    return CustomLure.objects.filter(
        organisation__in=[*organisation.ancestor_ids(), organisation.pk]
    )


def resolve_lure(key: str, organisation=None) -> Lure | None:
    """A library lure by slug, or a custom lure by `custom-<pk>` within reach of the
    organisation (any organisation when None, e.g. for a recipient's own link)."""
    from hygie.phishing.models import CUSTOM_PREFIX, CustomLure

    if not key.startswith(CUSTOM_PREFIX):
        return get_lure(key)
    try:
        pk = int(key[len(CUSTOM_PREFIX) :])
    except ValueError:
        return None
    found = available_custom_lures(organisation) if organisation is not None else CustomLure.objects
    custom = found.filter(pk=pk).first()
    return custom.to_lure() if custom else None


def lure_problems(lure: Lure) -> list[TemplateProblem]:
    """Why this lure cannot be sent: its message and landing texts checked."""
    problems = check_template(lure.subject, lure.text, lure.html)
    allowed = tuple(n for n in PLACEHOLDERS if n not in (LINK, PIXEL))
    problems += check_text(
        "landing", lure.landing.title + "\n" + lure.landing.intro, allowed=allowed
    )
    problems += check_text(
        "teachable", lure.teachable.title + "\n" + lure.teachable.body, allowed=allowed
    )
    if not lure.landing.fields:
        problems.append(TemplateProblem("landing", _("La page d'arrivée n'a aucun champ.")))
    if not _LOCAL_PART.match(lure.sender.local_part or ""):
        problems.append(
            TemplateProblem(
                "sender",
                _(
                    "Adresse d'expédition « %(part)s » : lettres minuscules, chiffres, points, "
                    "tirets ou +, sans espace."
                )
                % {"part": lure.sender.local_part},
            )
        )
    return problems


def _lines_for(text: str, wanted: list[tuple[tuple, str]]) -> dict[tuple, int]:
    """1-based line of each (path, near) YAML node, or of its nearest existing parent.

    In a literal block (`|`) the value keeps its line breaks, so the line of `near` inside it
    is exact; elsewhere the line of the value's start is given.
    """
    root = compose(text)
    found = {}
    for path, near in wanted:
        node, line = locate(root, path)
        if near and isinstance(node, yaml.ScalarNode) and node.style == "|":
            for offset, content in enumerate(node.value.splitlines()):
                if near in content:
                    line = node.start_mark.line + 2 + offset
                    break
        found[(path, near)] = line
    return found

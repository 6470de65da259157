"""Crisis-exercise scenarios: reading a scenario file, validating all of it, loading it, and
making an exercise from it.

A scenario is one YAML file `hygie/crisis/scenarios/<slug>.yaml` (format in
docs/crisis-scenarios.md). `parse_scenario` validates the whole file and reports every problem
as (line, path, message), reusing the awareness loader's checker and line finder; only a valid
file produces a `ScenarioSpec`. `save_scenario` applies the version rules of the training
modules (decision 0501): a changed file needs a higher version, a lower one never replaces a
higher one. `load_builtin_scenarios` runs after every `migrate`.

`Scenario.content` keeps the Markdown *sources* (stimuli, situation file): an exercise copies
them and its designers edit them; pages render them with `render_markdown`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from hygie.awareness.content import ContentError, _Checker
from hygie.core import markdown
from hygie.core.yaml_paths import YamlFileError, compose, locate, path_label, read_yaml
from hygie.crisis.models import (
    Channel,
    Criterion,
    Exercise,
    ExerciseStatus,
    Level,
    Scenario,
    Stimulus,
)

logger = logging.getLogger(__name__)

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
MAX_FILE_BYTES = 512 * 1024
MAX_STIMULI = 60
MAX_CRITERIA = 30
# The longest offset a timeline accepts: 99:59 (a two-day exercise is already unusual).
MAX_OFFSET_SECONDS = (99 * 60 + 59) * 60

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HHMM = re.compile(r"^(\d{1,2}):([0-5]\d)$")

_TOP_KEYS = {
    "slug": True,
    "version": True,
    "title": True,
    "summary": True,
    "level": True,
    "duration_minutes": True,
    "themes": False,
    "objectives": True,
    "situation": True,
    "stimuli": True,
    "grid": True,
    "debrief": False,
}
_OBJECTIVE_KEYS = {"id": True, "text": True}
_STIMULUS_KEYS = {
    "offset": False,  # 0 is a valid offset: checked below
    "channel": True,
    "sender": True,
    "recipients": False,
    "subject": False,
    "content": True,
    "expected": False,
}
_CRITERION_KEYS = {"text": True, "objective": False}


class ScenarioError(ContentError):
    """A scenario file that cannot be loaded: `problems` are (line or None, path, message)."""


# ---------------------------------------------------------------- offsets and Markdown


def parse_offset(value: Any) -> int:
    """Seconds from "HH:MM" (or "H:MM") or a whole number of minutes; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(_("un décalage s'écrit HH:MM (ex. : 01:30) ou en minutes."))
    if isinstance(value, int):
        minutes = value
    else:
        text = str(value or "").strip()
        match = _HHMM.match(text)
        if match:
            minutes = int(match.group(1)) * 60 + int(match.group(2))
        elif text.isdigit():
            minutes = int(text)
        else:
            raise ValueError(
                _("« %(value)s » n'est pas un décalage : écrivez HH:MM (ex. : 01:30).")
                % {"value": text}
            )
    if not 0 <= minutes * 60 <= MAX_OFFSET_SECONDS:
        raise ValueError(_("un décalage va de 00:00 à 99:59."))
    return minutes * 60


def format_offset(seconds: int | float | None) -> str:
    minutes = int(seconds or 0) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def _markdown() -> MarkdownIt:
    return markdown.parser()


def render_markdown(text: str) -> str:
    """Markdown to HTML for scenario texts (source HTML shown as text, never interpreted)."""
    return _markdown().render(text or "").strip()


def _has_image(text: str) -> bool:
    for token in _markdown().parse(text or "", {}):
        if any(child.type == "image" for child in token.children or []):
            return True
    return False


# ---------------------------------------------------------------- validation


@dataclass
class ScenarioSpec:
    slug: str
    version: int
    title: str
    summary: str
    level: str
    duration_minutes: int
    themes: list[str]
    content: dict
    digest: str
    name: str = ""

    def columns(self) -> dict:
        return {
            "version": self.version,
            "title": self.title,
            "summary": self.summary,
            "level": self.level,
            "duration_minutes": self.duration_minutes,
            "themes": self.themes,
            "content": self.content,
            "digest": self.digest,
        }


def _problem(message: str, name: str, path: str = "") -> ScenarioError:
    return ScenarioError([(None, path, message)], name)


def parse_scenario(data: bytes | str, name: str = "") -> ScenarioSpec:
    """Validate a scenario file whole; raise ScenarioError naming every problem's line and path."""
    try:
        text, document = read_yaml(data, max_bytes=MAX_FILE_BYTES)
    except YamlFileError as exc:
        raise ScenarioError([(exc.line, "", exc.message)], name) from None

    checker = _Checker()
    spec = _validate(document, checker)
    if checker.problems:
        root = compose(text)
        raise ScenarioError(
            [
                (locate(root, path)[1], path_label(path) or _("(racine)"), message)
                for path, message in checker.problems
            ],
            name,
        )
    spec.name = name
    return spec


def _markdown_text(c: _Checker, data: dict, path: tuple, key: str, limit: int = 20_000) -> str:
    source = c.text(data, path, key, limit=limit)
    if _has_image(source):
        c.add(
            (*path, key),
            _("pas d'image : Hygie n'affiche que ce qu'il sert lui-même (réseaux fermés)."),
        )
    return source


def _validate(document: Any, c: _Checker) -> ScenarioSpec | None:
    doc = c.mapping(document, (), _TOP_KEYS)
    if doc is None:
        return None
    slug = c.text(doc, (), "slug", limit=80)
    if slug and not _SLUG.match(slug):
        c.add(("slug",), _("minuscules, chiffres et tirets seulement (ex. : rancongiciel-dpi)."))
    version = c.integer(doc, (), "version", 1, 100_000)
    title = c.text(doc, (), "title", limit=200)
    summary = c.text(doc, (), "summary", limit=1000)
    level = c.text(doc, (), "level")
    if level and level not in Level.values:
        c.add(
            ("level",),
            _("niveau inconnu « %(value)s » (niveaux possibles : %(known)s).")
            % {"value": level, "known": ", ".join(Level.values)},
        )
    duration = c.integer(doc, (), "duration_minutes", 15, 48 * 60)
    themes = c.words(doc, (), "themes")
    for index, value in enumerate(themes):
        if len(value) > 40:
            c.add(("themes", index), _("un thème tient en 40 caractères au plus."))

    objectives, seen = [], set()
    for index, item in enumerate(c.items(doc, (), "objectives")):
        where = ("objectives", index)
        if c.mapping(item, where, _OBJECTIVE_KEYS) is None:
            continue
        objectives.append(
            {"id": c.unique_id(item, where, seen), "text": c.text(item, where, "text", limit=500)}
        )

    situation = _markdown_text(c, doc, (), "situation")

    stimuli = []
    raw_stimuli = c.items(doc, (), "stimuli")
    if len(raw_stimuli) > MAX_STIMULI:
        c.add(("stimuli",), _("au plus %(n)s stimuli.") % {"n": MAX_STIMULI})
    for index, item in enumerate(raw_stimuli):
        where = ("stimuli", index)
        if c.mapping(item, where, _STIMULUS_KEYS) is None:
            continue
        stimulus = _stimulus(item, where, c, duration)
        if stimulus is not None:
            stimuli.append(stimulus)

    grid = []
    raw_grid = c.items(doc, (), "grid")
    if len(raw_grid) > MAX_CRITERIA:
        c.add(("grid",), _("au plus %(n)s critères.") % {"n": MAX_CRITERIA})
    for index, item in enumerate(raw_grid):
        where = ("grid", index)
        if c.mapping(item, where, _CRITERION_KEYS) is None:
            continue
        objective = c.text(item, where, "objective", limit=40)
        if objective and objective not in seen:
            c.add(
                (*where, "objective"),
                _("l'objectif « %(id)s » n'est pas déclaré dans « objectives ».")
                % {"id": objective},
            )
        grid.append({"text": c.text(item, where, "text", limit=300), "objective": objective})

    debrief = c.words(doc, (), "debrief")
    for index, value in enumerate(debrief):
        if len(value) > 300:
            c.add(("debrief", index), _("une question tient en 300 caractères au plus."))

    if c.problems:
        return None
    stimuli.sort(key=lambda s: s["offset_seconds"])  # a stable sort: same offset keeps file order
    content = {
        "objectives": objectives,
        "situation": situation,
        "stimuli": stimuli,
        "grid": grid,
        "debrief": debrief,
    }
    source = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return ScenarioSpec(
        slug=slug,
        version=version,
        title=title,
        summary=summary,
        level=level,
        duration_minutes=duration,
        themes=themes,
        content=content,
        digest=hashlib.sha256(source.encode()).hexdigest(),
    )


def _stimulus(item: dict, where: tuple, c: _Checker, duration: int | None) -> dict | None:
    offset = 0
    if "offset" not in item or item.get("offset") in (None, ""):
        c.add((*where, "offset"), _("champ obligatoire manquant."))
    else:
        try:
            offset = parse_offset(item["offset"])
        except ValueError as exc:
            c.add((*where, "offset"), str(exc))
        else:
            if duration and offset > duration * 60:
                c.add(
                    (*where, "offset"),
                    _("%(offset)s : après la fin du scénario (%(duration)s minutes).")
                    % {"offset": format_offset(offset), "duration": duration},
                )
    channel = c.text(item, where, "channel")
    if channel and channel not in Channel.values:
        c.add(
            (*where, "channel"),
            _("canal inconnu « %(value)s » (canaux possibles : %(known)s).")
            % {"value": channel, "known": ", ".join(Channel.values)},
        )
    raw = item.get("recipients")
    if isinstance(raw, list):
        recipients = ", ".join(c.words(item, where, "recipients"))
    else:
        recipients = c.text(item, where, "recipients")
    if len(recipients) > 500:
        c.add((*where, "recipients"), _("500 caractères au plus."))
    subject = c.text(item, where, "subject", limit=300)
    if channel == Channel.EMAIL:
        for key, value in (("recipients", recipients), ("subject", subject)):
            if not value:
                c.add((*where, key), _("un courriel a des destinataires et un objet."))
    return {
        "offset_seconds": offset,
        "channel": channel,
        "sender": c.text(item, where, "sender", limit=200),
        "recipients": recipients,
        "subject": subject,
        "content": _markdown_text(c, item, where, "content"),
        "expected": c.text(item, where, "expected", limit=5000),
    }


# ---------------------------------------------------------------- saving and loading


@dataclass
class LoadOutcome:
    slug: str
    action: str  # created | upgraded | unchanged | refused | deactivated
    message: str
    scenario: Scenario | None = None


def save_scenario(spec: ScenarioSpec) -> LoadOutcome:
    """Create or upgrade the scenario; raise ScenarioError when the version rules refuse it."""

    def refuse(message: str):
        raise ScenarioError([(None, "version", message)], spec.name)

    with transaction.atomic():
        existing = Scenario.objects.select_for_update().filter(slug=spec.slug).first()
        if existing is None:
            scenario = Scenario.objects.create(slug=spec.slug, **spec.columns())
            return LoadOutcome(
                spec.slug,
                "created",
                _("« %(title)s » version %(version)s chargé.")
                % {"title": scenario.title, "version": scenario.version},
                scenario,
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
                        "modification : rien n'a changé."
                    )
                    % {"slug": spec.slug, "version": spec.version, "next": spec.version + 1}
                )
            if not existing.active:
                existing.active = True
                existing.save(update_fields=["active", "updated_at"])
            return LoadOutcome(
                spec.slug,
                "unchanged",
                _("« %(title)s » version %(version)s déjà chargé.")
                % {"title": existing.title, "version": existing.version},
                existing,
            )
        previous = existing.version
        for field_name, value in spec.columns().items():
            setattr(existing, field_name, value)
        existing.active = True
        existing.save()
        return LoadOutcome(
            spec.slug,
            "upgraded",
            _("« %(title)s » mis à jour de la version %(old)s à la version %(new)s.")
            % {"title": existing.title, "old": previous, "new": existing.version},
            existing,
        )


def builtin_files() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def load_builtin_scenarios() -> list[LoadOutcome]:
    """Load or upgrade the shipped scenarios, deactivate those whose file is gone.

    Runs after every `migrate`. A refused file is logged (the tests check the shipped files)
    rather than allowed to stop a migration; its scenario keeps its previous version.
    """
    if Scenario._meta.db_table not in connection.introspection.table_names():
        return []
    outcomes: list[LoadOutcome] = []
    present = set()
    for path in builtin_files():
        present.add(path.stem)
        try:
            spec = parse_scenario(path.read_bytes(), path.name)
            if spec.slug != path.stem:
                raise _problem(
                    _("le slug « %(slug)s » doit être le nom du fichier (%(stem)s).")
                    % {"slug": spec.slug, "stem": path.stem},
                    path.name,
                    "slug",
                )
            outcomes.append(save_scenario(spec))
        except ScenarioError as exc:
            logger.error("crisis scenario %s refused: %s", path.name, exc)
            outcomes.append(LoadOutcome(path.stem, "refused", str(exc)))
    for scenario in Scenario.objects.filter(active=True).exclude(slug__in=present):
        scenario.active = False
        scenario.save(update_fields=["active", "updated_at"])
        outcomes.append(
            LoadOutcome(
                scenario.slug,
                "deactivated",
                _("« %(title)s » n'est plus livré : il n'est plus proposé.")
                % {"title": scenario.title},
                scenario,
            )
        )
    return outcomes


# ---------------------------------------------------------------- exercises


def create_exercise_from(
    scenario: Scenario | None, organisation, *, title: str | None = None, actor=None
) -> Exercise:
    """A new exercise in design, copying the scenario's objectives, timeline, observation grid
    and situation file (a blank exercise when `scenario` is None). The copy is then the
    exercise's own: later versions of the scenario do not change it."""
    content = scenario.content if scenario is not None else {}
    with transaction.atomic():
        exercise = Exercise.objects.create(
            organisation=organisation,
            scenario=scenario,
            title=(title or (scenario.title if scenario else "") or _("Nouvel exercice"))[:200],
            level=scenario.level if scenario else Level.BEGINNER,
            objectives=[dict(item) for item in content.get("objectives", [])],
            situation_file=content.get("situation", ""),
            status=ExerciseStatus.DESIGN,
            created_by=actor,
        )
        Stimulus.objects.bulk_create(
            Stimulus(
                exercise=exercise,
                position=index,
                offset_seconds=item["offset_seconds"],
                channel=item["channel"],
                sender=item["sender"],
                recipients=item.get("recipients", ""),
                subject=item.get("subject", ""),
                content=item["content"],
                expected=item.get("expected", ""),
            )
            for index, item in enumerate(content.get("stimuli", []))
        )
        Criterion.objects.bulk_create(
            Criterion(
                exercise=exercise,
                position=index,
                text=item["text"],
                objective=item.get("objective", ""),
            )
            for index, item in enumerate(content.get("grid", []))
        )
    return exercise

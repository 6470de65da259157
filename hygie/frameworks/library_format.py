"""Reading a framework library file in CISO Assistant's format, with errors that name the line.

The file is parsed with the fast C loader when available. Validation works on plain Python
data and reports each problem with the path of the offending value
(`objects.framework.requirement_nodes[12].parent_urn`); only when there is an error is the file
composed again to find the line of that path, so a correct 5 MB library costs one parse.

Accepted: the keys CISO Assistant's libraries use (urn, ref_id, name, description, annotation,
depth, parent_urn, assessable, implementation_groups, typical_evidence, weight, questions,
translations, min_score, max_score, scores_definition, implementation_groups_definition), plus
Hygie's extensions on requirement nodes (`hygie_scope`, `hygie_evidence_sources`). Other objects a
library may carry (reference controls, threats, mappings, risk matrices) are ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.utils.translation import gettext as _

from hygie.core.yaml_paths import compose, locate, path_label

try:  # the C loader parses large libraries several times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader

MAX_FILE_BYTES = 20 * 1024 * 1024
SCOPES = ("entity", "ght")


class LibraryError(Exception):
    """A library file that cannot be loaded. `problems` are (line or None, message) pairs."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("; ".join(self.format_lines()))

    def format_lines(self) -> list[str]:
        return [
            _("ligne %(line)s : %(message)s") % {"line": line, "message": message}
            if line
            else message
            for line, message in self.problems
        ]


@dataclass
class NodeSpec:
    urn: str
    ref_id: str
    name: str
    description: str
    annotation: str
    typical_evidence: str
    parent_urn: str | None
    depth: int
    assessable: bool
    implementation_groups: list[str]
    weight: int
    scope: str
    evidence_sources: list[str]
    questions: dict
    translations: dict


@dataclass
class LibrarySpec:
    library_urn: str
    urn: str
    ref_id: str
    name: str
    description: str
    locale: str
    provider: str
    packager: str
    copyright: str
    version: int
    publication_date: dt.date | None
    min_score: int
    max_score: int
    scores_definition: list[dict]
    implementation_groups: list[dict]
    translations: dict
    nodes: list[NodeSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Collector:
    def __init__(self):
        self.problems: list[tuple[tuple, str]] = []
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 20:
            self.warnings.append(message)

    def add(self, path: tuple, message: str) -> None:
        if len(self.problems) < 50:
            self.problems.append((path, message))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        # Some libraries write typical evidence or annotations as a list of lines. Only one
        # level is read: nested lists (possibly YAML aliases of aliases) are not expanded.
        return "\n".join(
            str(item).strip() for item in value[:200] if isinstance(item, str | int | float)
        )
    return str(value)


def _path_label(path: tuple) -> str:
    return path_label(path) or _("(racine)")


def parse_library(data: bytes | str, *, known_sources: frozenset[str] | None = None) -> LibrarySpec:
    """Parse and validate a library file; raise LibraryError naming every problem found."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise LibraryError([(None, _("Le fichier dépasse 20 Mo."))])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LibraryError(
                [(None, _("Le fichier n'est pas en UTF-8 (octet %(pos)s).") % {"pos": exc.start})]
            ) from None
    else:
        text = data
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise LibraryError(
            [
                (
                    mark.line + 1 if mark else None,
                    _("YAML invalide : %(problem)s") % {"problem": exc.problem or exc},
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise LibraryError([(None, _("YAML invalide : %(problem)s") % {"problem": exc})]) from None

    collector = _Collector()
    spec = _validate(document, collector, known_sources)
    if collector.problems:
        root = compose(text)
        raise LibraryError(
            [
                (locate(root, path)[1], f"{_path_label(path)} : {message}")
                for path, message in collector.problems
            ]
        )
    return spec


def _validate(document, c: _Collector, known_sources) -> LibrarySpec | None:
    if not isinstance(document, dict):
        c.add((), _("le fichier doit être un dictionnaire YAML (clé: valeur)."))
        return None
    for key in ("urn", "name", "version", "objects"):
        if document.get(key) in (None, ""):
            c.add((key,), _("champ obligatoire manquant."))
    version = document.get("version")
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)  # some published libraries quote it
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 0
    ):
        c.add(("version",), _("la version doit être un entier positif."))
    objects = document.get("objects")
    if objects is not None and not isinstance(objects, dict):
        c.add(("objects",), _("doit être un dictionnaire."))
        objects = None
    framework = (objects or {}).get("framework")
    if objects is not None and framework is None:
        c.add(
            ("objects",),
            _("ce fichier ne contient pas de référentiel (objects.framework) : rien à importer."),
        )
    if framework is not None and not isinstance(framework, dict):
        c.add(("objects", "framework"), _("doit être un dictionnaire."))
        framework = None
    if framework is None:
        return None
    fpath = ("objects", "framework")
    for key in ("urn", "name", "requirement_nodes"):
        if framework.get(key) in (None, "", []):
            c.add((*fpath, key), _("champ obligatoire manquant."))

    min_score = framework.get("min_score", 0)
    max_score = framework.get("max_score", 5)
    for key, value in (("min_score", min_score), ("max_score", max_score)):
        if isinstance(value, bool) or not isinstance(value, int):
            c.add((*fpath, key), _("doit être un entier."))
    if isinstance(min_score, int) and isinstance(max_score, int) and min_score >= max_score:
        c.add((*fpath, "max_score"), _("doit être supérieur à min_score."))

    scores = []
    for index, item in enumerate(framework.get("scores_definition") or []):
        where = (*fpath, "scores_definition", index)
        if (
            not isinstance(item, dict)
            or isinstance(item.get("score"), bool)
            or not isinstance(item.get("score"), int)
        ):
            c.add(where, _("chaque niveau a un « score » entier et un « name »."))
            continue
        scores.append(
            {
                "score": item["score"],
                "name": _text(item.get("name")),
                "description": _text(item.get("description")),
            }
        )

    groups = []
    group_ids = set()
    for index, item in enumerate(framework.get("implementation_groups_definition") or []):
        where = (*fpath, "implementation_groups_definition", index)
        if not isinstance(item, dict) or not _text(item.get("ref_id")):
            c.add(where, _("chaque groupe a un « ref_id »."))
            continue
        group_ids.add(_text(item["ref_id"]))
        groups.append(
            {
                "ref_id": _text(item["ref_id"]),
                "name": _text(item.get("name")) or _text(item["ref_id"]),
                "description": _text(item.get("description")),
            }
        )

    nodes_data = framework.get("requirement_nodes") or []
    if not isinstance(nodes_data, list):
        c.add((*fpath, "requirement_nodes"), _("doit être une liste."))
        nodes_data = []
    depth_of: dict[str, int] = {}
    nodes: list[NodeSpec] = []
    for index, item in enumerate(nodes_data):
        where = (*fpath, "requirement_nodes", index)
        if not isinstance(item, dict):
            c.add(where, _("chaque nœud doit être un dictionnaire."))
            continue
        node = _node(item, where, c, depth_of, group_ids, known_sources)
        if node:
            nodes.append(node)
    if nodes and not any(node.assessable for node in nodes):
        c.add((*fpath, "requirement_nodes"), _("aucune exigence évaluable (assessable: true)."))

    publication = document.get("publication_date")
    if isinstance(publication, str):
        try:
            publication = dt.date.fromisoformat(publication)
        except ValueError:
            c.add(("publication_date",), _("date attendue au format AAAA-MM-JJ."))
            publication = None
    elif not isinstance(publication, dt.date):
        publication = None
    if c.problems:
        return None
    return LibrarySpec(
        library_urn=_text(document["urn"]),
        urn=_text(framework["urn"]),
        ref_id=_text(framework.get("ref_id")) or _text(document.get("ref_id")),
        name=_text(framework["name"]),
        description=_text(framework.get("description")),
        locale=_text(document.get("locale")) or "fr",
        provider=_text(document.get("provider")),
        packager=_text(document.get("packager")),
        copyright=_text(document.get("copyright")),
        version=version,
        publication_date=publication,
        min_score=min_score,
        max_score=max_score,
        scores_definition=scores,
        implementation_groups=groups,
        translations=framework.get("translations")
        if isinstance(framework.get("translations"), dict)
        else {},
        nodes=nodes,
        warnings=c.warnings,
    )


def _node(item: dict, where: tuple, c: _Collector, depth_of: dict, group_ids: set, known_sources):
    urn = _text(item.get("urn"))
    if not urn:
        c.add((*where, "urn"), _("champ obligatoire manquant."))
        return None
    if urn in depth_of:
        c.add((*where, "urn"), _("l'URN %(urn)s apparaît deux fois.") % {"urn": urn})
        return None
    parent_urn = _text(item.get("parent_urn")) or None
    if parent_urn and parent_urn not in depth_of:
        c.add(
            (*where, "parent_urn"),
            _("le parent %(urn)s n'est pas défini avant ce nœud.") % {"urn": parent_urn},
        )
        parent_urn = None
    depth = item.get("depth")
    expected = depth_of[parent_urn] + 1 if parent_urn else 1
    if depth is None:
        depth = expected
    elif isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        c.add((*where, "depth"), _("doit être un entier supérieur ou égal à 1."))
        depth = expected
    depth_of[urn] = depth

    assessable = item.get("assessable", False)
    if not isinstance(assessable, bool):
        c.add((*where, "assessable"), _("doit valoir true ou false."))
    groups = item.get("implementation_groups") or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, str | int) for g in groups):
        c.add((*where, "implementation_groups"), _("doit être une liste d'identifiants de groupe."))
        groups = []
    groups = [str(g) for g in groups]
    groups = [g for g in groups if g]
    # CISO Assistant tolerates groups missing from the definition (several published libraries
    # have them); they are kept, and reported as a warning rather than refused.
    unknown = sorted({g for g in groups if group_ids and g not in group_ids})
    if unknown:
        c.warn(
            _("groupe(s) de mise en œuvre non défini(s) : %(groups)s")
            % {"groups": ", ".join(unknown)}
        )
    weight = item.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        c.add((*where, "weight"), _("doit être un entier positif."))
        weight = 1
    scope = item.get("hygie_scope", "entity")
    if scope not in SCOPES:
        c.add((*where, "hygie_scope"), _("valeurs possibles : entity, ght."))
    sources = item.get("hygie_evidence_sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        c.add((*where, "hygie_evidence_sources"), _("doit être une liste de sources."))
        sources = []
    elif known_sources is not None:
        unknown = [s for s in sources if s not in known_sources]
        if unknown:
            c.add(
                (*where, "hygie_evidence_sources"),
                _("source(s) de preuve inconnue(s) : %(sources)s")
                % {"sources": ", ".join(unknown)},
            )
    questions = item.get("questions") if isinstance(item.get("questions"), dict) else {}
    translations = item.get("translations") if isinstance(item.get("translations"), dict) else {}
    return NodeSpec(
        urn=urn,
        ref_id=_text(item.get("ref_id")),
        name=_text(item.get("name")),
        description=_text(item.get("description")),
        annotation=_text(item.get("annotation")),
        typical_evidence=_text(item.get("typical_evidence")),
        parent_urn=parent_urn,
        depth=depth,
        assessable=assessable is True,
        implementation_groups=groups,
        weight=weight,
        scope=scope if scope in SCOPES else "entity",
        evidence_sources=sources,
        questions=questions,
        translations=translations,
    )

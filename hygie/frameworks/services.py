"""Loading framework libraries into the database: first import, upgrade in place, refusals."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _

from hygie.frameworks.library_format import LibraryError, LibrarySpec, parse_library
from hygie.frameworks.models import Framework, Origin, RequirementNode

logger = logging.getLogger(__name__)

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

# Sent after a framework's nodes changed (first load or upgrade), inside the transaction, so
# assessments can add answers for new measures and refresh scores. kwargs: framework, created.
framework_loaded = Signal()

# Automatic evidence sources: facts other Hygie modules publish (see assessments.record_fact).
EVIDENCE_SOURCES: dict[str, str] = {
    "phishing.campaign": "Campagne de simulation d'hameçonnage terminée",
    "awareness.campaign": "Sensibilisation des personnels (couverture annuelle)",
    "crisis.exercise": "Exercice de crise cyber réalisé",
    "crisis.continuity_test": "Test d'un plan de continuité ou de reprise",
    "posture.ad_audit": "Audit de l'Active Directory",
    "posture.exposure_audit": "Audit d'exposition sur internet",
    "posture.remote_access": "Inventaire des accès à distance (MFA, correctifs)",
    "posture.eol_inventory": "Inventaire des systèmes en fin de vie",
    "posture.password_policy": "Audit de la politique de mots de passe",
    "access.review": "Revue des accès aux dossiers patients",
    "access.zero_trust": "Point de décision d'accès en service",
}


@dataclass
class ImportOutcome:
    framework: Framework
    created: bool
    previous_version: int | None
    added: int
    updated: int
    removed: int
    answers_dropped: int
    warnings: list[str]

    def summary(self) -> str:
        if self.created:
            return _("« %(name)s » version %(version)s chargé : %(count)s exigences.") % {
                "name": self.framework.name,
                "version": self.framework.version,
                "count": self.added,
            }
        return _(
            "« %(name)s » mis à jour de la version %(old)s à la version %(new)s : "
            "%(added)s exigences ajoutées, %(updated)s conservées, %(removed)s retirées "
            "(%(dropped)s réponses retirées avec elles)."
        ) % {
            "name": self.framework.name,
            "old": self.previous_version,
            "new": self.framework.version,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "dropped": self.answers_dropped,
        }


def import_library(
    data: bytes, *, user=None, origin: str = Origin.IMPORTED, filename: str = ""
) -> ImportOutcome:
    """Load a library file. Raises LibraryError (nothing written) when it cannot be loaded."""
    spec = parse_library(data, known_sources=frozenset(EVIDENCE_SOURCES))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        existing = Framework.objects.select_for_update().filter(urn=spec.urn).first()
        if existing is not None and spec.version <= existing.version:
            raise LibraryError(
                [
                    (
                        None,
                        _(
                            "« %(name)s » est déjà chargé en version %(loaded)s ; ce fichier porte "
                            "la version %(version)s. Seule une version supérieure peut le "
                            "remplacer : rien n'a été importé."
                        )
                        % {
                            "name": existing.name,
                            "loaded": existing.version,
                            "version": spec.version,
                        },
                    )
                ]
            )
        outcome = _write(spec, existing, digest=digest, user=user, origin=origin)
        framework_loaded.send(
            sender=Framework, framework=outcome.framework, created=outcome.created
        )
    logger.info(
        "framework %s loaded from %s: %s", spec.urn, filename or "upload", outcome.summary()
    )
    return outcome


def _write(spec: LibrarySpec, existing: Framework | None, **meta) -> ImportOutcome:
    framework = existing or Framework(urn=spec.urn)
    previous_version = existing.version if existing else None
    for attr in (
        "library_urn",
        "ref_id",
        "name",
        "description",
        "locale",
        "provider",
        "packager",
        "copyright",
        "version",
        "publication_date",
        "min_score",
        "max_score",
        "scores_definition",
        "implementation_groups",
        "translations",
    ):
        setattr(framework, attr, getattr(spec, attr))
    framework.file_sha256 = meta["digest"]
    framework.imported_by = meta["user"] if getattr(meta["user"], "pk", None) else None
    framework.origin = meta["origin"]
    framework.save()

    old_nodes = list(framework.nodes.all()) if existing else []
    by_urn = {node.urn: node for node in old_nodes}
    by_key: dict[str, RequirementNode] = {}
    for node in old_nodes:
        by_key.setdefault(node.answer_key, node)
    kept: set[int] = set()
    to_create: list[RequirementNode] = []
    to_update: list[RequirementNode] = []
    ordered: list[RequirementNode] = []
    for order, item in enumerate(spec.nodes):
        node = by_urn.get(item.urn)
        if node is None or node.pk in kept:
            # A measure keeps its answers when its ref_id survives a change of urn.
            candidate = by_key.get(item.ref_id or item.urn)
            node = candidate if candidate is not None and candidate.pk not in kept else None
        if node is None:
            node = RequirementNode(framework=framework)
            to_create.append(node)
        else:
            kept.add(node.pk)
            to_update.append(node)
        node.urn = item.urn
        node.ref_id = item.ref_id
        node.name = item.name
        node.description = item.description
        node.annotation = item.annotation
        node.typical_evidence = item.typical_evidence
        node.depth = item.depth
        node.order = order
        node.assessable = item.assessable
        node.implementation_groups = item.implementation_groups
        node.weight = item.weight
        node.scope = item.scope
        node.evidence_sources = item.evidence_sources
        node.questions = item.questions
        node.translations = item.translations
        ordered.append(node)

    removed = [node for node in old_nodes if node.pk not in kept]
    answers_dropped = 0
    if removed:
        from django.apps import apps

        answer_model = apps.get_model("assessments", "Answer")
        answers_dropped = answer_model.objects.filter(node__in=removed).count()
        RequirementNode.objects.filter(pk__in=[node.pk for node in removed]).delete()

    # Urns must be free before they are reused by another row: park the updated ones first.
    if to_update:
        for node in to_update:
            node.parent = None
            node.theme = None
        parked = [RequirementNode(pk=node.pk, urn=f"~{node.pk}") for node in to_update]
        RequirementNode.objects.bulk_update(parked, ["urn"], batch_size=500)
    RequirementNode.objects.bulk_create(to_create, batch_size=500)

    by_new_urn = {node.urn: node for node in ordered}
    for node, item in zip(ordered, spec.nodes, strict=True):
        node.parent = by_new_urn[item.parent_urn] if item.parent_urn else None
    for node in ordered:
        ancestor = node
        while ancestor.parent is not None:
            ancestor = ancestor.parent
        node.theme = ancestor
    RequirementNode.objects.bulk_update(
        ordered,
        [
            "urn",
            "ref_id",
            "name",
            "description",
            "annotation",
            "typical_evidence",
            "parent",
            "theme",
            "depth",
            "order",
            "assessable",
            "implementation_groups",
            "weight",
            "scope",
            "evidence_sources",
            "questions",
            "translations",
        ],
        batch_size=500,
    )
    return ImportOutcome(
        framework=framework,
        created=existing is None,
        previous_version=previous_version,
        added=len(to_create),
        updated=len(to_update),
        removed=len(removed),
        answers_dropped=answers_dropped,
        warnings=spec.warnings,
    )


def builtin_library_files() -> list[Path]:
    return sorted(LIBRARY_DIR.glob("*.yaml"))


def load_builtin_frameworks() -> list[ImportOutcome]:
    """Load the frameworks shipped with Hygie, or upgrade them when the file's version is higher.

    Runs after every `migrate`. A broken shipped file is a bug of Hygie's, caught by its tests;
    here it is logged rather than allowed to stop a migration.
    """
    outcomes = []
    loaded = dict(Framework.objects.values_list("urn", "version"))
    for path in builtin_library_files():
        data = path.read_bytes()
        try:
            spec = parse_library(data, known_sources=frozenset(EVIDENCE_SOURCES))
        except LibraryError as exc:
            logger.error("shipped framework %s cannot be loaded: %s", path.name, exc)
            continue
        if spec.urn in loaded and loaded[spec.urn] >= spec.version:
            continue
        outcomes.append(import_library(data, origin=Origin.BUILTIN, filename=path.name))
    return outcomes


def assessable_nodes(framework: Framework, *, scope: str | None = None, groups=None):
    """The measures of `framework` to assess, optionally limited to a scope and groups."""
    nodes = framework.nodes.filter(assessable=True)
    if scope:
        nodes = nodes.filter(scope=scope)
    nodes = list(nodes.order_by("order"))
    if groups:
        wanted = set(groups)
        nodes = [
            node
            for node in nodes
            if not node.implementation_groups or wanted & set(node.implementation_groups)
        ]
    return nodes

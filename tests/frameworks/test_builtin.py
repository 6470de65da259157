"""The frameworks shipped with Hygie load after migrate, complete and consistent."""

from __future__ import annotations

import pytest

from hygie.frameworks.library_format import parse_library
from hygie.frameworks.models import Framework, Origin
from hygie.frameworks.services import (
    EVIDENCE_SOURCES,
    builtin_library_files,
    load_builtin_frameworks,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", builtin_library_files(), ids=lambda p: p.name)
def test_each_shipped_file_is_valid_without_warnings(path):
    spec = parse_library(path.read_bytes(), known_sources=frozenset(EVIDENCE_SOURCES))
    assert spec.warnings == []
    measures = [node for node in spec.nodes if node.assessable]
    assert all(
        node.ref_id and node.name and node.description and node.typical_evidence
        for node in measures
    )
    assert all(node.implementation_groups for node in measures)
    assert [level["score"] for level in spec.scores_definition] == [0, 1, 2, 3, 4, 5]


def test_migrate_loaded_the_three_frameworks_once():
    shipped = {f.ref_id: f for f in Framework.objects.filter(origin=Origin.BUILTIN)}
    assert set(shipped) == {"SOCLE-ES", "ANSSI-HYGIENE", "CARE-D2"}
    assert load_builtin_frameworks() == []  # same versions: nothing to do again


def test_the_hygiene_guide_has_42_measures_in_10_themes_with_its_levels():
    guide = Framework.objects.get(ref_id="ANSSI-HYGIENE")
    measures = list(guide.nodes.filter(assessable=True).select_related("theme"))
    assert [m.ref_id for m in measures] == [str(n) for n in range(1, 43)]
    assert len({m.theme_id for m in measures}) == 10
    reinforced_only = {m.ref_id for m in measures if m.implementation_groups == ["R"]}
    assert reinforced_only == {"38", "41", "42"}
    both = {m.ref_id for m in measures if set(m.implementation_groups) == {"S", "R"}}
    # A sample of the measures the guide marks as having a reinforced level.
    assert {"2", "6", "7", "8", "12", "13", "37"} <= both
    assert {"1", "3", "9", "10", "39", "40"}.isdisjoint(both)


def test_the_priority_socle_names_ght_measures_and_automatic_evidence():
    socle = Framework.objects.get(ref_id="SOCLE-ES")
    measures = socle.nodes.filter(assessable=True)
    assert measures.count() >= 40
    assert measures.filter(scope="ght").exists() and measures.filter(scope="entity").exists()
    sources = {source for node in measures for source in node.evidence_sources}
    assert {
        "phishing.campaign",
        "crisis.exercise",
        "posture.ad_audit",
        "posture.remote_access",
    } <= sources
    assert measures.filter(weight=3).exists()


def test_care_domain_2_has_its_prerequisites_and_four_objectives():
    care = Framework.objects.get(ref_id="CARE-D2")
    themes = list(care.nodes.filter(depth=1).values_list("ref_id", flat=True))
    assert len(themes) == 5
    assert care.nodes.filter(assessable=True, scope="ght").exists()

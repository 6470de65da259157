"""Framework library: loading CISO Assistant-format files, errors by line, upgrades."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hygie.assessments.models import Answer, Result
from hygie.frameworks.library_format import LibraryError
from hygie.frameworks.models import Framework, RequirementNode
from hygie.frameworks.services import import_library
from tests.governance import MINI, campaign, mini_framework

pytestmark = pytest.mark.django_db
DATA = MINI.parent


def mini_text() -> str:
    return MINI.read_text(encoding="utf-8")


def test_a_library_file_becomes_a_tree_of_measures():
    framework = mini_framework()
    assert framework.ref_id == "MINI"
    assert framework.version == 1
    assert framework.group_names == {"S": "Standard", "R": "Renforcé"}
    nodes = {node.ref_id: node for node in framework.nodes.select_related("parent", "theme")}
    assert [n.ref_id for n in framework.nodes.filter(assessable=True)] == [
        "GOV.1",
        "GOV.2",
        "GOV.3",
        "TECH.1",
        "TECH.2",
    ]
    assert nodes["GOV.2"].parent == nodes["GOV"]
    assert nodes["TECH.2"].theme == nodes["TECH"]
    assert nodes["GOV.1"].weight == 3
    assert nodes["GOV.3"].scope == "ght"
    assert nodes["GOV.2"].evidence_sources == ["crisis.exercise"]
    assert nodes["TECH.2"].implementation_groups == ["S", "R"]


def test_the_quirks_of_published_ciso_assistant_files_are_accepted():
    outcome = import_library((DATA / "ciso_quirks.yaml").read_bytes())
    framework = outcome.framework
    assert framework.version == 2  # written '2' in the file
    assert (framework.min_score, framework.max_score) == (1, 4)
    nodes = list(framework.nodes.order_by("order"))
    assert nodes[0].depth == 1 and nodes[0].ref_id == ""
    assert nodes[1].annotation == "Un essai par trimestre au moins."
    assert len(nodes[1].questions) == 1
    assert nodes[2].label.startswith("Une exigence sans identifiant")
    assert nodes[2].typical_evidence == "Procédure\nCompte rendu"
    # A group used but not defined is kept and reported, as CISO Assistant does.
    assert nodes[2].implementation_groups == ["advanced"]
    assert any("advanced" in warning for warning in outcome.warnings)


@pytest.mark.parametrize(
    ("broken", "line", "field"),
    [
        # A YAML syntax error: the line of the bad indentation.
        (lambda t: t.replace("  framework:\n", "  framework:\n bad: [\n", 1), 14, "YAML"),
        # A parent that does not exist.
        (
            lambda t: t.replace(
                "parent_urn: urn:hygie-tests:risk:req_node:mini:tech\n        ref_id: TECH.1",
                "parent_urn: urn:hygie-tests:risk:req_node:mini:nowhere\n        ref_id: TECH.1",
            ),
            68,
            "requirement_nodes[5].parent_urn",
        ),
        # A duplicate urn.
        (
            lambda t: t.replace("req_node:mini:tech.2", "req_node:mini:tech.1"),
            74,
            "requirement_nodes[6].urn",
        ),
        # A maturity level that is not a number.
        (lambda t: t.replace("{score: 5,", "{score: cinq,"), 22, "scores_definition[1]"),
        # An unknown automatic evidence source.
        (
            lambda t: t.replace("[crisis.exercise]", "[crisis.exercice]"),
            50,
            "hygie_evidence_sources",
        ),
    ],
)
def test_a_malformed_file_names_line_and_field_and_loads_nothing(broken, line, field):
    text = broken(mini_text())
    with pytest.raises(LibraryError) as caught:
        import_library(text.encode())
    messages = caught.value.format_lines()
    assert any(f"ligne {line} " in m and field in m for m in messages), messages
    assert not Framework.objects.filter(urn="urn:hygie-tests:risk:framework:mini").exists()
    assert not RequirementNode.objects.filter(urn__startswith="urn:hygie-tests").exists()


def test_a_file_without_a_framework_is_refused_clearly():
    text = "urn: urn:x:library:matrix\nname: Matrice\nversion: 1\nobjects:\n  risk_matrix: []\n"
    with pytest.raises(LibraryError, match="ne contient pas de référentiel"):
        import_library(text.encode())


def upgraded(version: int) -> bytes:
    """Version `version` of the mini framework: GOV.2 gets a new urn, TECH.2 goes, TECH.3 comes."""
    text = mini_text().replace("version: 1", f"version: {version}")
    text = text.replace("req_node:mini:gov.2", "req_node:mini:gov-crisis")
    start = text.index("      - urn: urn:hygie-tests:risk:req_node:mini:tech.2")
    text = text[:start] + (
        "      - urn: urn:hygie-tests:risk:req_node:mini:tech.3\n"
        "        assessable: true\n"
        "        depth: 2\n"
        "        parent_urn: urn:hygie-tests:risk:req_node:mini:tech\n"
        "        ref_id: TECH.3\n"
        "        name: Comptes à privilèges inventoriés\n"
        "        description: La liste des comptes à privilèges est tenue à jour.\n"
        "        implementation_groups: [S]\n"
    )
    return text.encode()


def test_a_higher_version_upgrades_in_place_and_keeps_answers_by_ref_id(world):
    framework = mini_framework()
    open_campaign = campaign(
        world.est_a1,
        framework,
        results={
            "GOV.1": Result.COMPLIANT,
            "GOV.2": Result.PARTIAL,
            "TECH.2": Result.NON_COMPLIANT,
        },
    )
    outcome = import_library(upgraded(2))
    assert outcome.framework.pk == framework.pk
    assert (outcome.added, outcome.removed, outcome.answers_dropped) == (1, 1, 1)
    results = dict(open_campaign.answers.values_list("node__ref_id", "result"))
    # GOV.2 changed urn but kept its ref_id: its answer survives; TECH.2 is gone with its answer.
    assert results["GOV.1"] == Result.COMPLIANT
    assert results["GOV.2"] == Result.PARTIAL
    assert "TECH.2" not in results
    # The open campaign gets the measure the new version adds.
    assert results["TECH.3"] == Result.NOT_ASSESSED
    open_campaign.refresh_from_db()
    assert open_campaign.score == pytest.approx(100 * (3 * 1 + 0.5) / 4, abs=0.1)
    assert "version 1 à la version 2" in outcome.summary()


@pytest.mark.parametrize("version", [1, 0])
def test_an_equal_or_lower_version_is_refused_with_a_clear_message(version):
    mini_framework()
    with pytest.raises(LibraryError) as caught:
        import_library(mini_text().replace("version: 1", f"version: {version}").encode())
    message = str(caught.value)
    assert "déjà chargé en version 1" in message
    assert f"porte la version {version}" in message
    assert Framework.objects.get(urn="urn:hygie-tests:risk:framework:mini").version == 1


def test_the_command_imports_lists_and_reports_errors(tmp_path):
    out = io.StringIO()
    call_command("frameworks", "import", str(MINI), stdout=out)
    assert "version 1 chargé : 7 exigences" in out.getvalue()
    out = io.StringIO()
    call_command("frameworks", "list", stdout=out)
    assert "MINI\tv1\t5 exigences" in out.getvalue()

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        mini_text().replace("version: 1", "version: 3").replace("depth: 2", "depth: deux", 1)
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 fichier"):
        call_command("frameworks", "import", str(bad), stdout=io.StringIO(), stderr=err)
    assert "ligne 34 : objects.framework.requirement_nodes[1].depth" in err.getvalue()
    assert Framework.objects.get(urn="urn:hygie-tests:risk:framework:mini").version == 1


def test_platform_admin_imports_in_the_ui_and_sees_errors_by_line(world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests import factories
    from tests.clients import browser

    admin = factories.user("admin-plateforme", is_superuser=True, is_staff=True)
    client = browser(admin)
    bad = mini_text().replace("assessable: true", "assessable: peut-être", 1)
    response = client.post(
        reverse("frameworks:import"), {"file": SimpleUploadedFile("m.yaml", bad.encode())}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aucune donnée importée" in page
    assert "ligne 33 : objects.framework.requirement_nodes[1].assessable" in page
    assert not Framework.objects.filter(urn__contains="mini").exists()

    response = client.post(
        reverse("frameworks:import"), {"file": SimpleUploadedFile("m.yaml", MINI.read_bytes())}
    )
    framework = Framework.objects.get(urn="urn:hygie-tests:risk:framework:mini")
    assert response.status_code == 302 and response["Location"] == reverse(
        "frameworks:detail", args=[framework.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert "Exercice de crise cyber réalisé" in page  # the automatic evidence source, named


def test_answers_of_other_frameworks_are_untouched_by_an_upgrade(world):
    mini_framework()
    other = import_library((DATA / "ciso_quirks.yaml").read_bytes()).framework
    quirks_campaign = campaign(world.est_a1, other, results={"1": Result.COMPLIANT})
    import_library(upgraded(2))
    assert Answer.objects.get(campaign=quirks_campaign, node__ref_id="1").result == Result.COMPLIANT

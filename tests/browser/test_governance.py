"""Acceptance of the governance issue, in a real browser on the demo data.

The demo RSSI completes part of a self-assessment and uploads evidence; a regional analyst sees
only aggregates and cannot open an establishment's answers.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from hygie.actions.models import ActionItem
from hygie.assessments.demo import load_assessment_demo
from hygie.assessments.models import Answer, Campaign, CampaignStatus, Evidence, Result
from hygie.orgs.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo
from hygie.orgs.models import Organisation
from tests.browser.helpers import fresh_totp_code

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def demo(transactional_db):
    load_demo()
    ght = Organisation.objects.get(code="GHT-DEMO-HDF")
    load_assessment_demo(ght)
    return ght


def demo_log_in(page, username: str) -> None:
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if "/connexion/" in page.url:
        page.get_by_label("Code à 6 chiffres ou code de secours").fill(
            fresh_totp_code(DEMO_TOTP_SECRET)
        )
        page.get_by_role("button", name="Valider").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def test_the_rssi_assesses_with_evidence_and_the_analyst_sees_aggregates_only(page, demo):
    chu = Organisation.objects.get(short_name="CHU de Valmont")
    campaign = Campaign.objects.get(organisation=chu, status=CampaignStatus.OPEN)
    demo_log_in(page, "rssi")

    # From the navigation to the establishment's open campaign.
    page.goto(reverse("orgs:detail", args=[chu.pk]))
    page.get_by_test_id("nav-assessments").click()
    page.get_by_role("link", name="Auto-évaluation 2026").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Auto-évaluation 2026")
    first = page.get_by_test_id("answer-list").get_by_role("link").first
    first.click()

    # Answer two measures in a row with "save and next".
    page.get_by_label("Statut").select_option(label="Terminé")
    page.get_by_label("Résultat").select_option(label="Conforme")
    page.get_by_label("Niveau de maturité").select_option(value="4")
    page.get_by_label("Commentaire").fill("Politique signée par la direction le 3 février.")
    page.get_by_test_id("answer-save-next").click()
    expect(page.get_by_text("Réponse enregistrée.")).to_be_visible()
    second_url = page.url
    page.get_by_label("Résultat").select_option(label="Non conforme")
    page.get_by_label("Niveau de maturité").select_option(value="1")
    page.get_by_test_id("answer-save").click()
    expect(page.get_by_text("Réponse enregistrée.")).to_be_visible()

    # Evidence on the second measure.
    page.get_by_test_id("evidence-form").locator("input[type=file]").set_input_files(
        files=[{"name": "revue-comptes-2026.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_test_id("evidence-submit").click()
    expect(page.get_by_test_id("evidence-list")).to_contain_text("revue-comptes-2026.pdf")
    with page.expect_download() as download:
        page.get_by_role("link", name="revue-comptes-2026.pdf").click()
    assert download.value.suggested_filename == "revue-comptes-2026.pdf"

    ordered = list(campaign.answers.order_by("node__order"))
    assert ordered[0].result == Result.COMPLIANT and ordered[0].maturity == 4
    assert ordered[1].result == Result.NON_COMPLIANT
    assert Evidence.objects.filter(
        answer=ordered[1], original_name="revue-comptes-2026.pdf"
    ).exists()
    assert second_url.endswith(reverse("assessments:answer", args=[campaign.pk, ordered[1].pk]))
    # The history keeps both states of the second answer.
    expect(page.get_by_test_id("answer-history")).to_contain_text("Non conforme")

    # The action plan, generated from the gaps of the campaign.
    page.get_by_test_id("nav-action-plan").click()
    page.get_by_test_id("generate-form").get_by_role(
        "button", name="Générer depuis les écarts"
    ).click()
    gaps = campaign.answers.filter(result__in=[Result.NON_COMPLIANT, Result.PARTIAL]).count()
    expect(page.get_by_test_id("plan-line")).to_have_count(gaps)
    item = ActionItem.objects.filter(organisation=chu, node=ordered[1].node).get()

    # Pool the second measure's action with a sibling establishment of the GHT.
    page.locator(f"a[href='{reverse('actions:pool', args=[item.pk])}']").click()
    page.get_by_label("CH de Marquise").check()
    page.get_by_role("button", name="Mutualiser").click()
    pooled = ActionItem.objects.get(organisation=demo, members__member=chu, node=ordered[1].node)
    assert set(pooled.members.values_list("member__short_name", flat=True)) == {
        "CHU de Valmont",
        "CH de Marquise",
    }
    page.goto(reverse("actions:plan", args=[chu.pk]))
    expect(page.locator("[data-testid=plan-line]", has_text="mutualisée")).to_have_count(1)

    # Export the GHT's plan in the canevas layout: the pooled action with each member's share.
    page.goto(reverse("actions:plan", args=[demo.pk]))
    with page.expect_download() as download:
        page.get_by_test_id("plan-export-xlsx").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert pooled.title in cells
    assert any("Marquise" in cell for cell in cells) and any("Valmont" in cell for cell in cells)

    # A regional analyst: no way into an establishment's answers.
    page.context.clear_cookies()
    demo_log_in(page, "analyste-region")
    page.get_by_test_id("nav-consolidated").click()
    expect(page.get_by_test_id("establishment-count")).to_have_text("5")
    expect(page.get_by_test_id("mean-score")).to_contain_text("%")
    expect(page.get_by_test_id("aggregate-note")).to_be_visible()
    content = page.locator("main").inner_text()
    for name in ("CHU de Valmont", "CH de Marquise", "CH de Hautbois", "EHPAD Les Tilleuls"):
        assert name not in content
    response = page.goto(reverse("assessments:campaign", args=[campaign.pk]))
    assert response.status == 404
    response = page.goto(reverse("assessments:answer", args=[campaign.pk, ordered[1].pk]))
    assert response.status == 404
    assert Answer.objects.filter(campaign=campaign).exists()

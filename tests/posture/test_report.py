"""The report of one Active Directory audit: printable page and PDF with the same content."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.clients import browser
from tests.crisis.report_data import pdf_text
from tests.posture.test_ad_views import two_audits

pytestmark = pytest.mark.django_db


def test_the_printable_report_has_identity_scores_findings_and_trend(world):
    _first, second = two_audits(world)
    page = browser(world.reader).get(reverse("posture:ad_report", args=[second.pk]))
    text = page.content.decode()
    assert 'data-testid="ad-report"' in text
    assert "CHU A1" in text and "chu-exemple.local" in text
    assert "S-1-5-21-1111111111-2222222222-3333333333" in text
    assert f"{second.score}/100" in text and "maturité" in text
    assert "P-ADMIN-SPN" in text and "Retirer le SPN" in text
    assert "Audit précédent du" in text
    assert "1 objet illisible ignoré" in text  # the collection warnings
    assert "Créer l'action" not in text  # a report, not a work page


def test_the_pdf_report_carries_the_same_content(world):
    first, second = two_audits(world)
    response = browser(world.reader).get(reverse("posture:ad_report_pdf", args=[second.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="audit-ad-chu-exemplelocal-2025-03-31.pdf"' in response["Content-Disposition"]
    text = " ".join(pdf_text(response.content).split())
    assert "chu-exemple.local" in text and "CHU A1" in text
    assert f"Score global : {second.score}/100" in text
    assert "P-ADMIN-SPN" in text
    assert "Retirer le SPN" in text
    assert "adm-sql" in text
    assert "Audit précédent du" in text and f"écart +{second.score - first.score}" in text
    assert "1 objet illisible ignoré" in text

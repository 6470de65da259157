"""Acceptance of issue 5's learner half, on a phone: a learner opens the personal link received
by e-mail, follows the module (every step), fails then passes the quiz and downloads the
certificate; the RSSI sees the service's progress move. Plus the learner pages' accessibility.
"""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from hygie.awareness import learner
from hygie.awareness.models import State
from tests.awareness import learner_data as data
from tests.browser.helpers import PHONE, log_in_with_totp
from tests.browser.test_accessibility import AXE, violations

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
ON_A_PHONE = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
# The narrowest phones still in use in hospitals.
ON_A_SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def progress_url(world) -> str:
    """The RSSI's progress dashboard of CHU A1 (per service: assigned, done, rates)."""
    return reverse("awareness:progress", args=[world.est_a1.pk])


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages of a ReportLab PDF (ASCII85 + Flate content streams)."""
    texts = []
    for match in re.finditer(
        rb"/ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)endstream", pdf, re.S
    ):
        stream = zlib.decompress(base64.a85decode(match.group(1).strip(), adobe=True))
        for shown in re.findall(rb"\((.*?)\) Tj", stream):
            texts.append(
                re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), shown).decode(
                    "cp1252"
                )
            )
    return "\n".join(texts)


@pytest.fixture
def invited(world, live_server, settings):
    """Camille, of the emergency department of CHU A1, receives her personal link by e-mail."""
    settings.BASE_URL = live_server.url
    module = data.module()
    assignment = data.assignment(world.staff_a1, module)
    assert learner.send_assignment_link(assignment)
    link = re.search(r"^(http\S+/apprendre/\S+/)$", mail.outbox[-1].body, re.M).group(1)
    return assignment, link


def fits(page):
    # Measured once the stylesheet applies: under load, the unstyled page (body margin and all)
    # can be laid out first.
    page.wait_for_load_state("load")
    assert page.evaluate(FITS), f"{page.url} scrolls sideways on a phone"


def service_row(page, url) -> dict:
    """The emergency department's row of the per-service table, by column header."""
    page.goto(url)
    table = page.get_by_test_id("progress-service")
    headers = table.locator("thead th").all_inner_texts()
    row = table.get_by_role("row").filter(has_text="Urgences A1")
    cells = [row.locator("th").inner_text(), *row.locator("td").all_inner_texts()]
    return dict(zip(headers, cells, strict=True))


@pytest.mark.browser_context_args(**ON_A_PHONE)
def test_a_learner_follows_a_module_fails_then_passes_and_gets_the_certificate(
    page, context, invited, world, new_context
):
    assignment, link = invited
    dashboard = progress_url(world)
    rssi = new_context().new_page()
    log_in_with_totp(rssi, world.editor)
    before = service_row(rssi, dashboard)
    assert (before["Attribués"], before["Terminés ou réussis"]) == ("1", "0")

    page.goto(link)
    expect(page.get_by_role("heading", name="Repérer un message piégé")).to_be_visible()
    fits(page)
    page.get_by_role("button", name="Commencer").tap()
    expect(page.get_by_test_id("state")).to_contain_text("En cours")
    fits(page)
    page.get_by_role("link", name="Commencer la première étape").tap()

    # 1. Lesson.
    expect(page.get_by_text("chaque minute compte")).to_be_visible()
    fits(page)
    page.get_by_role("button", name="J'ai lu, continuer").tap()

    # 2. Spot the signs: touch a passage of the e-mail, tick a box, check.
    expect(page.get_by_role("heading", name="Résultats urgents à valider")).to_be_visible()
    fits(page)
    page.locator('.mail-body mark[data-sign="urgence"]').tap()
    expect(page.get_by_label("Une urgence et une menace de perte")).to_be_checked()
    page.get_by_label("La signature du laboratoire").check()
    page.get_by_role("button", name="Valider mes réponses").tap()
    feedback = page.get_by_test_id("feedback")
    expect(feedback).to_contain_text("Vous avez repéré 1 signe(s) sur 2")
    expect(feedback).to_contain_text("Le domaine n'est pas celui de l'hôpital")  # missed
    expect(feedback).to_contain_text("Une signature banale ne prouve rien")  # false alarm
    fits(page)
    page.get_by_role("link", name="Continuer").tap()

    # 3. Scenario, 4. passphrase: choose, get feedback.
    page.get_by_label("Je la branche pour trouver son propriétaire").check()
    page.get_by_role("button", name="Valider").tap()
    expect(page.get_by_test_id("feedback")).to_contain_text("Ce n'est pas le meilleur choix")
    expect(page.get_by_test_id("feedback")).to_contain_text("C'est le bon réflexe")
    fits(page)
    page.get_by_role("link", name="Continuer").tap()
    page.get_by_label("girafe-brancard-lundi-orage").check()
    page.get_by_role("button", name="Valider").tap()
    expect(page.get_by_test_id("feedback")).to_contain_text("Bonne réponse")
    page.get_by_role("link", name="Continuer").tap()

    # The quiz: a first try under the pass mark.
    expect(page.get_by_role("heading", name="Quiz")).to_be_visible()
    fits(page)
    answer(page, data.HALF)
    page.get_by_role("button", name="Valider le quiz").tap()
    expect(page.get_by_test_id("result")).to_contain_text("Votre score : 50 %")
    expect(page.get_by_test_id("wrong")).to_contain_text("L'urgence est le premier indice")
    fits(page)
    assignment.refresh_from_db()
    assert assignment.state == State.FAILED

    page.get_by_role("link", name="Repasser le quiz").tap()
    answer(page, data.RIGHT)
    page.get_by_role("button", name="Valider le quiz").tap()
    expect(page.get_by_test_id("result")).to_contain_text("Votre score : 100 %")
    expect(page.get_by_test_id("result")).to_contain_text("Quiz réussi")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger mon attestation (PDF)").tap()
    download = download_info.value
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and download.suggested_filename.endswith(".pdf")
    text = pdf_text(pdf)
    assert str(world.staff_a1) in text and "Repérer un message piégé" in text
    assert "CHU A1" in text

    assignment.refresh_from_db()
    assert assignment.state == State.PASSED and assignment.attempts == 2
    assert assignment.certificate_number in text

    # The RSSI sees the service's progress move: done, and the quiz passed.
    after = service_row(rssi, dashboard)
    assert (after["Attribués"], after["Terminés ou réussis"]) == ("1", "1")
    assert after["Taux de réalisation"] == "100,0 %"


def answer(page, answers):
    for question in data.CONTENT["quiz"]["questions"]:
        for choice in question["choices"]:
            box = page.locator(f"#q-{question['id']}-{choice['id']}")
            if choice["id"] in answers[question["id"]]:
                box.check()
            elif question["multiple"]:
                box.uncheck()


@pytest.mark.browser_context_args(**ON_A_SMALL_PHONE)
def test_a_link_opened_on_a_second_phone_gets_a_clear_page_and_a_new_link(
    page, invited, world, new_context
):
    _, link = invited
    page.goto(link)
    page.get_by_role("button", name="Commencer").tap()
    expect(page.get_by_test_id("state")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("window.innerWidth") == 360
    for number in (1, 2):  # the longest pages: the lesson and the practice e-mail
        page.goto(f"{link}etapes/{number}/")
        fits(page)

    other = new_context().new_page()  # the marker makes it a phone too
    response = other.goto(link)
    assert response.status == 403
    expect(other.get_by_role("heading")).to_have_text(
        "Ce lien est déjà utilisé sur un autre appareil"
    )
    expect(other.get_by_text(learner.mask_email(world.staff_a1.email))).to_be_visible()
    fits(other)
    other.get_by_role("button", name="M'envoyer un nouveau lien").tap()
    expect(other.get_by_role("heading")).to_have_text("Nouveau lien envoyé")
    fresh = re.search(r"^(http\S+/apprendre/\S+/)$", mail.outbox[-1].body, re.M).group(1)
    other.goto(fresh)
    other.get_by_role("button", name="Commencer").tap()
    expect(other.get_by_test_id("state")).to_be_visible()


@pytest.fixture
def axe_phone(new_context):
    if not AXE.is_file():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/browser/a11y`")
    context = new_context(bypass_csp=True)  # axe is injected inline
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.mark.browser_context_args(**ON_A_PHONE)
def test_learner_pages_have_no_serious_violation(axe_phone, invited, new_context):
    page = axe_phone
    assignment, link = invited
    found = []
    page.goto(link)
    found += violations(page)
    page.get_by_role("button", name="Commencer").click()
    found += violations(page)
    for number in range(1, 5):
        page.goto(f"{link}etapes/{number}/")
        found += violations(page)
        page.locator("form button[type=submit]").last.click()
        found += violations(page)  # feedback, the next step after a lesson, or "choose one"
        if page.locator("input[type=radio]").count():
            page.locator("input[type=radio]").first.check()
            page.locator("form button[type=submit]").last.click()
            found += violations(page)
    page.goto(f"{link}quiz/")
    page.get_by_role("button", name="Valider le quiz").click()  # nothing answered: errors
    found += violations(page)
    answer(page, data.HALF)
    page.get_by_role("button", name="Valider le quiz").click()
    found += violations(page)
    page.goto(f"{link}attestation/")  # not yet: a page saying so
    found += violations(page)
    blank = new_context(bypass_csp=True).new_page()
    blank.goto(link)  # another browser: already used
    found += violations(blank)
    blank.goto(link.replace("/apprendre/", "/apprendre/x"))  # unknown
    found += violations(blank)
    assert not found, "\n".join(found)

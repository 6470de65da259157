"""Accessibility: axe-core (from npm, tests/browser/a11y) checks the main pages in Chromium.

Serious and critical violations (missing labels, insufficient contrast, unusable keyboard
focus, missing landmarks…) fail the test, naming the rule and the offending elements.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.accounts.links import invite
from tests.browser.helpers import confirm_identity_if_asked, log_in, log_in_with_totp

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_page(new_context):
    if not AXE.is_file():
        pytest.fail(
            "axe-core is missing: run `npm ci --prefix tests/browser/a11y` (scripts/test does it)"
        )
    # axe is injected as an inline script, which Hygie's own CSP would rightly block.
    context = new_context(bypass_csp=True)
    return context.new_page()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} — "
        + ", ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def page_violations(page, pages) -> list[str]:
    """Open each page (URL name, arguments) as the logged-in user; the axe violations found."""
    from django.urls import reverse

    found = []
    for name, args in pages:
        url = reverse(name, args=args)
        response = page.goto(url)
        confirm_identity_if_asked(page)
        assert response.status == 200, url
        found += violations(page)
    return found


def test_login_pages_have_no_serious_violation(axe_page, world):
    page = axe_page
    page.goto("/connexion/")
    found = violations(page)
    page.goto("/connexion/mot-de-passe-oublie/")
    found += violations(page)
    log_in(page, world.editor.username)  # leads to the TOTP enrolment page
    found += violations(page)
    assert not found, "\n".join(found)


def test_main_pages_have_no_serious_violation(axe_page, world):
    page = axe_page
    log_in_with_totp(page, world.editor)
    found = []
    for url in (
        "/",
        f"/organisations/{world.est_a1.pk}/",
        f"/organisations/{world.est_a1.pk}/personnels/",
        f"/organisations/{world.est_a1.pk}/roles/",
        "/journal/",
        "/compte/",
    ):
        page.goto(url)
        found += violations(page)
    page.goto(f"/organisations/{world.est_a1.pk}/personnels/import/")
    confirm_identity_if_asked(page)
    found += violations(page)
    invite(world)  # the roles page then lists a pending invitation
    for url in (
        f"/organisations/{world.est_a1.pk}/roles/",
        f"/organisations/{world.est_a1.pk}/roles/inviter/",
    ):
        page.goto(url)
        found += violations(page)
    assert not found, "\n".join(found)


def test_governance_pages_have_no_serious_violation(axe_page, world):
    from hygie.actions.services import generate_from_gaps
    from hygie.assessments.models import Result
    from tests.governance import campaign

    assessed = campaign(
        world.est_a1, results={"GOV.1": Result.NON_COMPLIANT, "TECH.1": Result.PARTIAL}
    )
    campaign(world.est_a2, results={"GOV.1": Result.COMPLIANT})
    generate_from_gaps(assessed, world.editor)
    answer = assessed.answers.order_by("node__order").first()
    page = axe_page
    log_in_with_totp(page, world.editor)
    found = []
    for url in (
        "/referentiels/",
        f"/referentiels/{assessed.framework_id}/",
        f"/organisations/{world.est_a1.pk}/auto-evaluations/",
        f"/organisations/{world.est_a1.pk}/auto-evaluations/nouvelle/",
        f"/campagnes/{assessed.pk}/",
        f"/campagnes/{assessed.pk}/mesures/{answer.pk}/",
        f"/organisations/{world.est_a1.pk}/plan-action/",
        f"/organisations/{world.est_a1.pk}/plan-action/calendrier/",
        f"/organisations/{world.ght_a.pk}/plan-action/coherence-ght/",
        f"/organisations/{world.ght_a.pk}/tableau-de-bord/",
        "/acteurs/",
    ):
        assert page.goto(url).status == 200, url
        found += violations(page)
    assert not found, "\n".join(found)


def test_simulation_pages_have_no_serious_violation(axe_page, world):
    from django.utils import timezone

    from hygie.phishing.models import Recipient, SendingProfile, Simulation
    from hygie.phishing.tracking import new_token

    profile = SendingProfile.objects.create(
        organisation=world.est_a1, name="Relais", host="127.0.0.1", from_address="it@chu-a.example"
    )
    simulation = Simulation.objects.create(
        organisation=world.est_a1, name="Labo", sending_profile=profile
    )
    recipient = Recipient.objects.create(
        simulation=simulation,
        staff=world.staff_a1,
        email=world.staff_a1.email,
        lure="resultats-laboratoire",
        token=new_token(),
        sent_at=timezone.now() - timezone.timedelta(hours=1),
    )
    page = axe_page
    found = []
    # What a recipient without an account sees: the landing form and the teachable moment.
    for url in (f"/s/c/{recipient.token}/", f"/s/a/{recipient.token}/"):
        assert page.goto(url).status == 200, url
        found += violations(page)
    log_in_with_totp(page, world.editor)
    from hygie.mailreports.models import Mailbox
    from hygie.phishing.models import CorrectiveRule, CustomLure, TargetList

    lure = CustomLure.objects.create(
        organisation=world.est_a1,
        name="Colis",
        sender_name="Courrier",
        subject="Votre colis",
        text="{{lien}}",
        landing_title="Suivi",
        landing_fields=[{"name": "code", "label": "Code", "type": "text"}],
        teachable_title="Exercice",
        teachable_body="Les signes.",
    )
    target_list = TargetList.objects.create(organisation=world.est_a1, name="Urgences")
    target_list.members.add(world.staff_a1)
    CorrectiveRule.objects.create(
        organisation=world.est_a1, name="Clics", trigger="service_clicks", threshold=30,
        remedy="action_item",
    )  # fmt: skip
    mailbox = Mailbox.objects.create(
        organisation=world.est_a1, name="Signalements", host="127.0.0.1", port=1,
        username="abus", password="x",
    )  # fmt: skip
    from hygie.mailreports.services import ingest
    from tests.mailreports import corpus

    raw = corpus.forward_as_attachment(corpus.real_phishing(attachment=True), "ide@chu-a.example")
    real_case = ingest(raw, organisation=world.est_a1, source="upload").report.case
    sent = Simulation.objects.create(
        organisation=world.est_a1, name="Envoyée", sending_profile=profile, status="running",
        lures=["resultats-laboratoire"],
    )  # fmt: skip
    simulation.lures = ["resultats-laboratoire"]
    simulation.save()
    org = world.est_a1.pk
    for url in (
        f"/organisations/{org}/simulations/profils/",
        f"/organisations/{org}/simulations/profils/nouveau/",
        f"/simulations/profils/{profile.pk}/",
        f"/organisations/{org}/simulations/",
        f"/organisations/{org}/simulations/nouvelle/",
        f"/simulations/{simulation.pk}/",
        f"/simulations/{simulation.pk}/modifier/",
        f"/simulations/{sent.pk}/",
        f"/organisations/{org}/simulations/mesures-correctives/",
        f"/organisations/{org}/simulations/leurres/",
        f"/organisations/{org}/simulations/leurres/nouveau/",
        f"/simulations/leurres/{lure.pk}/",
        f"/simulations/leurres/{lure.pk}/apercu/",
        f"/organisations/{org}/simulations/listes/",
        f"/organisations/{org}/simulations/listes/nouvelle/",
        f"/simulations/listes/{target_list.pk}/",
        f"/organisations/{org}/simulations/import-gophish/",
        f"/organisations/{org}/signalements/",
        f"/organisations/{org}/signalements/deposer/",
        f"/organisations/{org}/signalements/boites/",
        f"/signalements/boites/{mailbox.pk}/",
        f"/signalements/{real_case.pk}/",
    ):
        page.goto(url)
        confirm_identity_if_asked(page)
        found += violations(page)
    assert not found, "\n".join(found)


def test_the_check_itself_catches_an_unlabelled_field(axe_page, world):
    """Guard against a silently broken harness: strip the login form's labels, axe must object."""
    page = axe_page
    page.goto("/connexion/")
    page.evaluate("() => document.querySelectorAll('label').forEach((label) => label.remove())")
    assert any(" label (critical)" in v for v in violations(page))


def test_awareness_pages_have_no_serious_violation(axe_page, world):
    """The staff's awareness pages (campaigns, progress, sessions, kits, modules) and what a
    service contact or a session participant reaches from a personal link."""
    import datetime as dt

    from django.urls import reverse
    from django.utils import timezone

    from hygie.awareness import links, services, sessions
    from hygie.awareness.models import Campaign, Kit, KitDistribution, KitItemKind, Module
    from tests.awareness.sessions_support import make_session

    module = Module.objects.get(slug="courriel-piege")
    campaign = Campaign.objects.create(
        organisation=world.est_a1, name="Annuelle", kind="annual", status="open",
        due_date=timezone.localdate() + dt.timedelta(days=30),
    )  # fmt: skip
    campaign.modules.set([module])
    services.assign(campaign)
    session = make_session(world.est_a1, days=0)
    [seat] = sessions.add_participants(session, [world.staff_a1])
    kit = Kit.objects.create(organisation=world.est_a1, name="Cybervigilance", year=2026)
    kit.items.create(kind=KitItemKind.MESSAGE, title="Message", text="Signalez.")
    distribution = KitDistribution.objects.create(
        kit=kit, service=world.service_a1, contact_email="cadre@chu-a.example"
    )
    page = axe_page
    found = []
    for target in ({"participant": seat}, {"distribution": distribution}):
        _link, token = links.issue_link(**target)
        page.goto(reverse("awareness:learner_open", args=[token]))
        found += violations(page)
        page.get_by_test_id("start").click()
        found += violations(page)
    log_in_with_totp(page, world.editor)
    org = world.est_a1.pk
    found += page_violations(
        page,
        (
            ("awareness:progress", [org]),
            ("awareness:campaigns", [org]),
            ("awareness:campaign_create", [org]),
            ("awareness:campaign", [campaign.pk]),
            ("awareness:campaign_edit", [campaign.pk]),
            ("awareness:xapi_settings", [org]),
            ("awareness:sessions", [org]),
            ("awareness:session_create", [org]),
            ("awareness:session_planner", [org]),
            ("awareness:session", [session.pk]),
            ("awareness:session_attendance", [session.pk]),
            ("awareness:kit_list", [org]),
            ("awareness:kit_create", [org]),
            ("awareness:kit_detail", [kit.pk]),
            ("awareness:kit_distribute", [kit.pk]),
            ("awareness:kit_status", [kit.pk]),
            ("awareness:catalogue", []),
            ("awareness:catalogue_module", [module.slug]),
        ),
    )
    assert not found, "\n".join(found)


def test_crisis_pages_have_no_serious_violation(axe_page, world):
    """Exercise preparation and run, lessons, incidents, notifications, GHT aid and the binder;
    and the players' console reached from a personal link."""
    from django.urls import reverse
    from django.utils import timezone

    from hygie.crisis import participant_links
    from hygie.crisis.models import Incident, Lesson
    from tests.crisis import run_fixtures

    ex = run_fixtures.exercise(world.est_a1)
    Lesson.objects.create(exercise=ex, text="Tenir à jour l'annuaire de crise")
    incident = Incident.objects.create(
        organisation=world.est_a1,
        title="Rançongiciel",
        discovered_at=timezone.now() - timezone.timedelta(hours=30),
        personal_data_breach=True,
    )
    page = axe_page
    found = []
    token = participant_links.issue(ex.player)
    page.goto(reverse("crisis:run_join", args=[token]))
    found += violations(page)
    log_in_with_totp(page, world.editor)
    org = world.est_a1.pk
    found += page_violations(
        page,
        (
            ("crisis:exercises", [org]),
            ("crisis:exercise_create", [org]),
            ("crisis:scenarios", [org]),
            ("crisis:exercise", [ex.pk]),
            ("crisis:exercise_design", [ex.pk]),
            ("crisis:exercise_participants", [ex.pk]),
            ("crisis:exercise_timeline", [ex.pk]),
            ("crisis:exercise_grid", [ex.pk]),
            ("crisis:exercise_situation", [ex.pk]),
            ("crisis:run_console", [ex.pk]),
            ("crisis:run_players", [ex.pk]),
            ("crisis:run_grid", [ex.pk]),
            ("crisis:lessons", [ex.pk]),
            ("crisis:incident_list", [org]),
            ("crisis:incident_declare", [org]),
            ("crisis:incident_detail", [incident.pk]),
            ("crisis:notification_list", [org]),
            ("crisis:aid_board", [org]),
            ("crisis:binder", [org]),
        ),
    )
    assert not found, "\n".join(found)


def test_posture_pages_have_no_serious_violation(axe_page, world):
    """The technical audits: AD audits and one audit (with its trend), passwords, remote access
    against the KEV catalogue, the exposure scan, the asset inventory and the EOL dataset."""
    from pathlib import Path

    from hygie.posture import exposure, kev
    from hygie.posture.ad import audits, synthetic
    from hygie.posture.models import AccessKind, RemoteAccessPoint

    fixtures = Path(__file__).parents[1] / "posture" / "fixtures"
    kev.import_catalogue((fixtures / "kev_2024-09-09.json").read_bytes())
    audits.record_audit(world.est_a1, synthetic.generate(users=120, computers=60, seed=3))
    audit = audits.record_audit(world.est_a1, synthetic.generate(users=120, computers=60, seed=4))
    RemoteAccessPoint.objects.create(
        organisation=world.est_a1,
        name="VPN",
        kind=AccessKind.VPN_SSL,
        vendor="Fortinet",
        product="FortiGate",
        version="7.0.12",
    )
    scan = exposure.import_scan(
        world.est_a1, (fixtures / "nmap_chu_a1.xml").read_bytes(), filename="nmap.xml"
    )
    page = axe_page
    log_in_with_totp(page, world.editor)
    org = world.est_a1.pk
    found = []
    found += page_violations(
        page,
        (
            ("posture:ad_audits", [org]),
            ("posture:ad_audit", [audit.pk]),
            ("posture:ad_report", [audit.pk]),
            ("posture:passwords", [org]),
            ("posture:remote_access", [org]),
            ("posture:exposure", [org]),
            ("posture:exposure_scan", [scan.pk]),
            ("posture:assets", [org]),
            ("posture:eol", []),
            # the GHT's pages cover its members
            ("posture:ad_audits", [world.ght_a.pk]),
            ("posture:remote_access", [world.ght_a.pk]),
            ("posture:exposure", [world.ght_a.pk]),
            ("posture:assets", [world.ght_a.pk]),
            # and their forms
            ("posture:ad_connection_create", [org]),
            ("posture:password_policy", [org]),
            ("posture:remote_access_create", [org]),
            ("posture:exposure_upload", [org]),
            ("posture:assets_import", [org]),
        ),
    )
    assert not found, "\n".join(found)


def test_access_pages_have_no_serious_violation(axe_page, world):
    """Zero Trust access: protected applications, one application with its policy, history,
    tests, what-if and routes, zones, the decision log, the shadow report, break-the-glass
    reviews and the access review with its queue."""

    from hygie.access.models import BreakGlass
    from tests.access import policy_fixtures as fx

    app = fx.application(world)
    fx.policy_test_case(world)
    denial = fx.decision(world)
    fx.decision(world, allowed=True, enforced=True, principal="inf-martin")
    now = denial.at
    BreakGlass.objects.create(
        application=app,
        principal="inf-durand",
        resource='Patient::"P0002"',
        reason="Arrêt cardiaque aux urgences, antécédents indispensables",
        started_at=now,
        expires_at=now,
    )
    page = axe_page
    log_in_with_totp(page, world.editor)
    org = world.est_a1.pk
    found = []
    found += page_violations(
        page,
        (
            ("access:applications", [org]),
            ("access:application_detail", [app.pk]),
            ("access:policy", [app.pk]),
            ("access:policy_history", [app.pk]),
            ("access:policy_tests", [app.pk]),
            ("access:what_if", [app.pk]),
            ("access:application_routes", [app.pk]),
            ("access:zones", [org]),
            ("access:decisions", [org]),
            ("access:decision", [denial.pk]),
            ("access:shadow_report", [app.pk]),
            ("access:break_glass_list", [org]),
            ("access:review", [org]),
            ("access:review_queue", [org]),
            ("access:application_create", [org]),
        ),
    )
    assert not found, "\n".join(found)

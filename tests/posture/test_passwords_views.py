"""The password pages: latest audit per domain, verdicts, chart with its table, policy form."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from hygie.core.models import AuditEvent
from hygie.posture.models import PasswordPolicyTarget
from tests.clients import browser
from tests.posture.ad_builders import NOW
from tests.posture.password_fixtures import audit_with_passwords


def _get(client, node):
    return client.get(reverse("posture:passwords", args=[node.pk]))


def test_overview_shows_the_latest_audit_of_each_domain(world, client_for):
    audit_with_passwords(
        world.est_a1,
        collected_at=NOW - dt.timedelta(days=90),
        build=lambda b: b.user("ancien-audit-seulement", pwd=3000),
    )
    audit_with_passwords(world.est_a1)
    audit_with_passwords(world.est_a2, domain="ch-a2.local")
    audit_with_passwords(world.est_b1, domain="ch-b1.local")
    response = _get(client_for(world.reader), world.ght_a)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="password-domain"') == 2
    assert "chu-exemple.local" in body and "ch-a2.local" in body
    assert "ch-b1.local" not in body  # another GHT's establishment
    assert "ancien-audit-seulement" not in body  # superseded audit


def test_policy_table_has_anssi_establishment_domain_columns_and_verdicts(world, client_for):
    target = PasswordPolicyTarget(min_length=10, history=30)
    audit_with_passwords(world.est_a1, target=target)  # domain: 8 characters, history 24
    body = _get(client_for(world.editor), world.est_a1).content.decode()
    row = body.split('data-check="min_length"')[1].split("</tr>")[0]
    assert 'data-status="ko"' in row
    assert "<td>12</td><td>10</td>" in row  # ANSSI, establishment
    assert "<td>8" in row  # domain
    history = body.split('data-check="history"')[1].split("</tr>")[0]
    assert 'data-status="ko"' in history and "<td>30</td>" in history
    reversible = body.split('data-check="reversible"')[1].split("</tr>")[0]
    assert 'data-status="ok"' in reversible


def test_age_chart_comes_with_its_table_and_very_old_accounts_admins_first(world, client_for):
    audit_with_passwords(world.est_a1)
    body = _get(client_for(world.editor), world.est_a1).content.decode()
    assert "<svg" in body and 'data-chart="ages-' in body
    assert 'data-testid="ages-table"' in body
    assert "plus de 3 ans" in body
    rows = body.split('data-testid="very-old-row"')[1:]
    assert [r.split("</th>")[0].rsplit(">", 1)[1] for r in rows] == ["adm-ancien", "agent-ancien"]


def test_overview_without_audit_says_so(world, client_for):
    body = _get(client_for(world.editor), world.est_a1).content.decode()
    assert 'data-testid="no-audit"' in body


def test_policy_link_only_for_those_who_may_change_it(world, client_for):
    link = reverse("posture:password_policy", args=[world.est_a1.pk])
    assert link in _get(client_for(world.editor), world.est_a1).content.decode()
    assert link not in _get(client_for(world.reader), world.est_a1).content.decode()


def test_policy_form_saves_and_journals(world):
    client = browser(world.editor)
    url = reverse("posture:password_policy", args=[world.est_a1.pk])
    response = client.post(
        url,
        {
            "min_length": "12",
            "admin_min_length": "16",
            "complexity": "true",
            "max_age_days": "0",
            "very_old_days": "730",
        },
    )
    assert response.status_code == 302
    policy = PasswordPolicyTarget.objects.get(organisation=world.est_a1)
    assert (policy.min_length, policy.admin_min_length, policy.complexity) == (12, 16, True)
    assert policy.max_age_days == 0 and policy.history is None
    assert policy.updated_by == world.editor
    assert AuditEvent.objects.filter(action="posture.password_policy_changed").exists()
    form = client.get(url).content.decode()
    assert 'value="true" selected' in form


def test_policy_form_names_the_wrong_fields(world):
    client = browser(world.editor)
    url = reverse("posture:password_policy", args=[world.est_a1.pk])
    response = client.post(
        url, {"min_length": "14", "admin_min_length": "10", "very_old_days": "5"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Les comptes à privilèges ne peuvent pas avoir une longueur inférieure" in body
    assert "Au moins 30 jours." in body
    assert not PasswordPolicyTarget.objects.filter(organisation=world.est_a1).exists()


def test_policy_page_is_for_establishments_only(world, client_for):
    url = reverse("posture:password_policy", args=[world.ght_a.pk])
    assert client_for(world.editor).get(url).status_code == 404

"""Roles held at an organisation node, and what each lets its holder do in that subtree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Actions checked by `visible_to(user, action)`:
VIEW = "view"  # nominative data of the subtree (staff, answers, results)
CHANGE = "change"  # create and edit domain data
MANAGE = "manage"  # memberships, settings, imports, deletions
AGGREGATE = "aggregate"  # consolidated, non-nominative figures
ACTIONS = (VIEW, CHANGE, MANAGE, AGGREGATE)


class Role(models.TextChoices):
    RSSI = "rssi", _("RSSI")
    DSI = "dsi", _("DSI")
    DPO = "dpo", _("DPO")
    QUALITY = "qualite", _("Qualité")
    DIRECTION = "direction", _("Direction")
    SECURITY_REFERENT = "referent_securite", _("Référent sécurité")
    READER = "lecteur", _("Lecteur / auditeur")
    REGIONAL_ANALYST = "analyste_regional", _("Analyste régional")
    NATIONAL_ANALYST = "analyste_national", _("Analyste national")


ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.RSSI: frozenset({VIEW, CHANGE, MANAGE, AGGREGATE}),
    Role.DSI: frozenset({VIEW, CHANGE, MANAGE, AGGREGATE}),
    Role.DPO: frozenset({VIEW, CHANGE, AGGREGATE}),
    Role.QUALITY: frozenset({VIEW, CHANGE, AGGREGATE}),
    Role.DIRECTION: frozenset({VIEW, AGGREGATE}),
    Role.SECURITY_REFERENT: frozenset({VIEW, CHANGE, AGGREGATE}),
    Role.READER: frozenset({VIEW, AGGREGATE}),
    Role.REGIONAL_ANALYST: frozenset({AGGREGATE}),
    Role.NATIONAL_ANALYST: frozenset({AGGREGATE}),
}

# Roles whose holders must use a second factor (TOTP, or MFA asserted by the identity provider).
PRIVILEGED_ROLES = frozenset(
    role for role, actions in ROLE_ACTIONS.items() if actions & {CHANGE, MANAGE}
) | {Role.DIRECTION}


def actions_for(role: str) -> frozenset[str]:
    return ROLE_ACTIONS.get(role, frozenset())

"""Exports of the decision log for a SIEM: JSON lines and RFC 5424 syslog."""

from __future__ import annotations

import json
import re

import pytest

from hygie.access import decisions
from hygie.access.models import Decision
from tests.access import policy_fixtures as fx

pytestmark = pytest.mark.django_db

RFC5424 = re.compile(
    r'^<(\d+)>1 (\S+Z) (\S+) hygie - access-decision \[hygieDecision@32473( \w+="(?:[^"\\\]]|\\.)*")+\] (.+)$'
)


def test_syslog_lines_are_rfc5424_with_escaped_structured_data(world):
    fx.decision(world, allowed=False, enforced=False, principal='dr "x"]\\y')
    fx.decision(world, allowed=True, enforced=True)
    lines = list(decisions.export_syslog(Decision.objects.all(), hostname="pdp.chu.local"))
    assert len(lines) == 2 and all(line.endswith("\n") for line in lines)
    denial = next(line for line in lines if "deny" in line)
    match = RFC5424.match(denial.rstrip("\n"))
    assert match, denial
    assert match.group(1) == "84" and match.group(3) == "pdp"
    assert 'principal="dr \\"x\\"\\]\\\\y"' in denial
    assert "deny (shadow, not enforced)" in denial


def test_jsonl_is_one_object_per_line_with_inputs_and_policies(world):
    fx.decision(world, allowed=False, enforced=True, break_glass=True)
    [line] = list(decisions.export_jsonl(Decision.objects.all()))
    row = json.loads(line)
    assert row["application"] == "dpi-a1" and row["break_glass"] is True
    assert row["policies"] == ["soins-relation"] and row["inputs"]["context"]["zone"] == "care"


def test_shadow_report_groups_by_action_and_policy(world):
    fx.decision(world, allowed=False, enforced=False, action="read", policies=[])
    fx.decision(world, allowed=False, enforced=False, action="export", policies=["pas-export"])
    fx.decision(world, allowed=False, enforced=True)
    report = decisions.shadow_report(Decision.objects.all())
    assert report["total"] == 3 and report["denied"] == 2
    assert dict(report["per_policy"]) == {"(aucune règle ne permet)": 1, "pas-export": 1}

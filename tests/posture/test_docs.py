"""docs/posture.md stays true to the code: its rules table is the catalogue's."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from hygie.posture.ad import rules

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "posture.md").read_text(encoding="utf-8")


def test_the_guide_lists_every_rule_with_its_category_level_and_points():
    table = runpy.run_path(str(ROOT / "scripts" / "posture_rules_table.py"))["markdown_table"]()
    start = DOC.index("<!-- rules table")
    end = DOC.index("<!-- end of rules table -->")
    block = DOC[DOC.index("\n", start) + 1 : end]
    assert block.strip() == table.strip(), (
        "docs/posture.md's rules table is stale: paste `python scripts/posture_rules_table.py`"
    )
    listed = set(re.findall(r"^\| `([A-Z]-[A-Z0-9-]+)` \|", block, re.MULTILINE))
    assert listed == {rule.id for rule in rules.catalogue()}
    assert f"{len(listed)} rules" in DOC


def test_the_guide_is_linked_from_the_readme():
    assert "(docs/posture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")

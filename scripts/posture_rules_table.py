"""Print the AD rules table of docs/posture.md from the rule catalogue.

    python scripts/posture_rules_table.py

tests/posture/test_docs.py checks that the table in the documentation is this one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CATEGORY_NAMES = {
    "stale": "Stale objects",
    "privileged": "Privileged accounts",
    "trusts": "Trusts",
    "anomalies": "Anomalies",
}


def markdown_table() -> str:
    from hygie.posture.ad import rules

    lines = [
        "| Rule | Category | ANSSI level | Points | Title (as shown in Hygie) |",
        "|---|---|---|---|---|",
    ]
    for rule in rules.catalogue():
        if rule.per_object:
            points = f"{rule.points} per object, at most {rule.max_points}"
        else:
            points = str(rule.points)
        lines.append(
            f"| `{rule.id}` | {CATEGORY_NAMES[rule.category]} | {rule.level} | {points} "
            f"| {rule.title} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hygie.settings")
    os.environ.setdefault("HYGIE_DEBUG", "1")
    import django

    django.setup()
    sys.stdout.write(markdown_table())

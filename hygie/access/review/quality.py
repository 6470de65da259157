"""How well a review run finds the misuse planted by the synthetic generator.

A case is a (user, patient) pair. A planted pair counts as found when the run has a case for
that pair, whatever the patterns it names; `pattern_named` says how often the case also names
the planted pattern. Precision is over the run's cases: the share that are planted pairs.
Per pattern, recall is over the pairs planted with that pattern and precision over the cases
naming that pattern. Hard negatives (legitimate accesses that look odd) that were flagged are
listed: each one is a false alarm the DPO would have to clear.
"""

from __future__ import annotations

from collections.abc import Iterable

from hygie.access.review.synthetic import PATTERNS, Truth


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _cases(run) -> list[tuple[str, str, list[str]]]:
    """(user, patient, patterns) of a ReviewRun, or of an iterable of cases or tuples."""
    source: Iterable = run.cases.all() if hasattr(run, "cases") else run
    rows = []
    for case in source:
        if isinstance(case, tuple):
            user, patient, patterns = case
        else:
            user, patient, patterns = case.user_id, case.patient_id, case.patterns
        rows.append((user, patient, list(patterns or [])))
    return rows


def score(run, truth: Truth) -> dict:
    """{precision, recall, found, planted, flagged, pattern_named, false_alarms, per_pattern}."""
    planted = truth.pairs()
    flagged: dict[tuple[str, str], set[str]] = {}
    for user, patient, patterns in _cases(run):
        flagged.setdefault((user, patient), set()).update(patterns)
    found = planted.keys() & flagged.keys()
    named = sum(1 for pair in found if planted[pair] & flagged[pair])
    per_pattern = {}
    for pattern in PATTERNS:
        wanted = {pair for pair, kinds in planted.items() if pattern in kinds}
        naming = {pair for pair, kinds in flagged.items() if pattern in kinds}
        hits = wanted & flagged.keys()
        per_pattern[pattern] = {
            "planted": len(wanted),
            "found": len(hits),
            "recall": _ratio(len(hits), len(wanted)),
            "flagged": len(naming),
            "precision": _ratio(len(naming & planted.keys()), len(naming)),
            "named": len(wanted & naming),
        }
    false_alarms = [row for row in truth.hard_negatives if (row[0], row[1]) in flagged]
    return {
        "precision": _ratio(len(found), len(flagged)),
        "recall": _ratio(len(found), len(planted)),
        "planted": len(planted),
        "flagged": len(flagged),
        "found": len(found),
        "pattern_named": _ratio(named, len(found)),
        "false_alarms": false_alarms,
        "per_pattern": per_pattern,
    }


def report(result: dict) -> str:
    """The score as a few lines of text (for the benchmark and the management command)."""

    def pct(value):
        return "—" if value is None else f"{value:.1%}"

    lines = [
        f"précision {pct(result['precision'])}, rappel {pct(result['recall'])} "
        f"({result['found']}/{result['planted']} cas semés trouvés, {result['flagged']} signalés, "
        f"motif nommé {pct(result['pattern_named'])}, fausses alertes sur cas difficiles "
        f"{len(result['false_alarms'])})"
    ]
    for pattern, row in result["per_pattern"].items():
        lines.append(
            f"  {pattern:13} semés {row['planted']:4}  trouvés {row['found']:4}  "
            f"rappel {pct(row['recall']):>6}  signalés {row['flagged']:5}  "
            f"précision {pct(row['precision']):>6}"
        )
    return "\n".join(lines)

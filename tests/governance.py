"""Builders for governance tests: a small framework, campaigns with chosen answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hygie.assessments import services as assessments
from hygie.assessments.models import Campaign, Result
from hygie.frameworks.models import Framework
from hygie.frameworks.services import import_library

MINI = Path(__file__).parent / "frameworks" / "data" / "mini.yaml"


def mini_framework() -> Framework:
    """The 5-measure test framework (4 at entity level, 1 at GHT level)."""
    existing = Framework.objects.filter(urn="urn:hygie-tests:risk:framework:mini").first()
    return existing or import_library(MINI.read_bytes()).framework


def campaign(
    organisation,
    framework: Framework | None = None,
    *,
    results: dict[str, str] | None = None,
    starts_on: dt.date = dt.date(2026, 1, 1),
    user=None,
    **extra,
) -> Campaign:
    """A campaign whose answers take `results` ({ref_id: Result value}); others not assessed."""
    framework = framework or mini_framework()
    extra.setdefault("due_on", starts_on + dt.timedelta(days=90))
    created = assessments.create_campaign(
        organisation=organisation,
        framework=framework,
        name=extra.pop("name", f"Campagne {starts_on:%Y}"),
        starts_on=starts_on,
        user=user,
        **extra,
    )
    for answer in created.answers.select_related("node"):
        result = (results or {}).get(answer.node.ref_id)
        if result:
            assessments.update_answer(answer, user=user, result=result)
    created.refresh_from_db()
    return created


__all__ = ["MINI", "Result", "campaign", "mini_framework"]


def generated_library(
    measures: int, *, themes: int = 10, slug: str = "generated", version: int = 1
) -> bytes:
    """A CISO-format library with `measures` assessable measures spread over `themes` themes."""
    lines = [
        f"urn: urn:hygie-tests:risk:library:{slug}",
        f"name: Référentiel généré {slug}",
        f"version: {version}",
        "objects:",
        "  framework:",
        f"    urn: urn:hygie-tests:risk:framework:{slug}",
        f"    ref_id: {slug.upper()}",
        f"    name: Référentiel généré {slug}",
        "    requirement_nodes:",
    ]
    for theme in range(themes):
        lines += [
            f"    - urn: urn:hygie-tests:risk:req_node:{slug}:t{theme}",
            "      assessable: false",
            "      depth: 1",
            f"      ref_id: T{theme}",
            f"      name: Thème {theme}",
        ]
        for index in range(theme, measures, themes):
            lines += [
                f"    - urn: urn:hygie-tests:risk:req_node:{slug}:m{index}",
                "      assessable: true",
                "      depth: 2",
                f"      parent_urn: urn:hygie-tests:risk:req_node:{slug}:t{theme}",
                f"      ref_id: M{index:03d}",
                f"      name: Mesure {index}",
                f"      weight: {3 if index % 5 == 0 else 1}",
            ]
    return ("\n".join(lines) + "\n").encode()

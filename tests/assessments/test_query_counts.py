"""Assessment pages run a fixed number of queries, whatever the number of measures or evidence."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hygie.assessments import services
from hygie.assessments.models import Result
from hygie.frameworks.services import import_library
from tests.clients import browser
from tests.governance import campaign, generated_library

pytestmark = pytest.mark.django_db
RESULTS = [Result.COMPLIANT, Result.PARTIAL, Result.NON_COMPLIANT, Result.NOT_APPLICABLE]


def filled_campaign(world, measures: int):
    framework = import_library(generated_library(measures, slug=f"q{measures}")).framework
    c = campaign(world.est_a1, framework, name=f"Campagne {measures}")
    for index, answer in enumerate(c.answers.all()):
        services.update_answer(
            answer,
            user=world.editor,
            result=RESULTS[index % 4],
            maturity=index % 6,
            owner=world.editor,
        )
    services.record_fact(  # facts and revisions grow too
        world.est_a1,
        "crisis.exercise",
        source_key=f"ex-{measures}",
        occurred_on=c.starts_on,
        summary="Exercice",
    )
    return c


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "page",
    [
        lambda c: reverse("assessments:campaign", args=[c.pk]),
        lambda c: reverse(
            "assessments:answer", args=[c.pk, c.answers.order_by("node__order")[3].pk]
        ),
        lambda c: reverse("assessments:campaigns", args=[c.organisation_id]),
    ],
    ids=["campaign page", "answer page", "campaign list"],
)
def test_query_count_does_not_grow_with_the_measures(world, page):
    client = browser(world.editor)
    small = filled_campaign(world, 12)
    large = filled_campaign(world, 48)
    assert count(client, page(small)) == count(client, page(large))

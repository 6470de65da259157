"""One API call cannot dump a whole table: pages are capped at 1,000 rows."""

from django.test import Client

from hygie.accounts.models import ApiToken
from hygie.orgs.models import JobFamily, StaffMember


def test_a_huge_limit_is_capped_and_the_rest_is_one_page_away(world):
    StaffMember.objects.bulk_create(
        StaffMember(
            establishment=world.est_a1,
            first_name="Agent",
            last_name=f"N{i:04d}",
            job_family=JobFamily.CARE,
        )
        for i in range(1005)
    )
    _, secret = ApiToken.issue(world.editor, "export RH")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    first = client.get("/api/v1/staff/?limit=100000").json()
    assert first["count"] == 1006  # 1,005 plus the fixture's staff member of A1
    assert len(first["results"]) == 1000
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 6
    assert second["next"] is None

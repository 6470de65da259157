"""Staff CSV import in a real browser: one bad row gets a clear error and nothing is imported."""

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from hygie.orgs.models import StaffMember
from tests.browser.helpers import confirm_identity_if_asked, log_in_with_totp

pytestmark = pytest.mark.browser

# Row 3 (line 4 of the file, counting the header) has an e-mail address that is not one.
CSV = (
    "nom,prenom,email,famille,service,site,arrivee\n"
    "Lefebvre,Inès,ines.lefebvre@chu-a1.example,soignant,,,2021-09-01\n"
    "Moreau,Hugo,hugo.moreau@chu-a1.example,medical,,,2019-03-15\n"
    "Garnier,Léa,pas-une-adresse,administratif,,,2023-01-09\n"
)


def _import_url(org_id: int) -> str:
    try:
        return reverse("orgs:staff_import", args=[org_id])
    except NoReverseMatch:
        pytest.skip("the staff import view (orgs:staff_import) is not there yet")


def test_import_with_one_bad_row_names_it_and_imports_nothing(page, world):
    url = _import_url(world.est_a1.pk)
    before = set(StaffMember.objects.values_list("pk", flat=True))
    log_in_with_totp(page, world.editor)

    page.goto(url)
    confirm_identity_if_asked(page)
    form = page.locator("form:has(input[type=file][name=file])")
    form.locator("input[name=file]").set_input_files(
        files=[{"name": "personnels.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    form.locator("[type=submit]").click()

    errors = page.get_by_test_id("import-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("pas-une-adresse")
    expect(errors).to_contain_text("4")  # the line of the file, as a spreadsheet shows it
    assert set(StaffMember.objects.values_list("pk", flat=True)) == before

    page.goto(f"/organisations/{world.est_a1.pk}/personnels/")
    expect(page.locator("main")).not_to_contain_text("Lefebvre")
    expect(page.locator("main")).not_to_contain_text("Moreau")

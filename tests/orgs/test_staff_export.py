"""Staff export: what the list shows, as a CSV that Excel opens and `import-staff` reads back."""

import csv
import io

from hygie.core.models import AuditEvent
from hygie.orgs.models import JobFamily, StaffMember, StaffSource
from hygie.orgs.staff_import import import_staff
from tests import factories


def _export(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_export_lists_the_establishment_staff_and_is_journalled(world, client_for):
    factories.staff(
        world.est_a1, first_name="Élodie", last_name="Lefèvre", job_family=JobFamily.MEDICAL
    )
    _, rows = _export(
        client_for(world.reader), f"/organisations/{world.est_a1.pk}/personnels/export.csv"
    )
    header, body = rows[0], rows[1:]
    assert header[:4] == ["établissement", "FINESS", "matricule", "nom"]
    names = {row[3] for row in body}
    assert names == {world.staff_a1.last_name, "Lefèvre"}
    event = AuditEvent.objects.get(action="orgs.staff_exported")
    assert event.actor == world.reader and event.details["rows"] == 2


def test_export_applies_the_list_filters(world, client_for):
    factories.staff(world.est_a1, last_name="Medecin", job_family=JobFamily.MEDICAL)
    _, rows = _export(
        client_for(world.editor),
        f"/organisations/{world.ght_a.pk}/personnels/export.csv?job_family=medical",
    )
    assert [row[3] for row in rows[1:]] == ["Medecin"]


def test_cells_that_spreadsheets_would_run_as_formulas_are_neutralised(world, client_for):
    factories.staff(world.est_a1, last_name='=HYPERLINK("http://evil")', job_title="+33 1 23")
    _, rows = _export(
        client_for(world.editor), f"/organisations/{world.est_a1.pk}/personnels/export.csv"
    )
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'+33 1 23" in cells
    assert not any(cell.startswith(("=", "+")) for cell in cells)


def test_an_export_imported_back_changes_nothing(world, client_for):
    StaffMember.objects.filter(pk=world.staff_a1.pk).update(source=StaffSource.CSV)
    for index in range(5):
        factories.staff(
            world.est_a1,
            service=world.service_a1,
            site=world.site_a1,
            external_id=f"M{index:03d}",
            source=StaffSource.CSV,
        )
    raw, _ = _export(
        client_for(world.editor), f"/organisations/{world.est_a1.pk}/personnels/export.csv"
    )
    before = StaffMember.objects.filter(establishment=world.est_a1).count()
    report = import_staff(world.est_a1, raw)
    assert report.ok, [str(p) for p in report.problems]
    assert report.created == 0 and report.updated == 0
    assert report.unchanged == before
    assert StaffMember.objects.filter(establishment=world.est_a1).count() == before

"""Ingestion of access logs and care-relationship data (hand-written files)."""

from __future__ import annotations

import json

import duckdb
import pytest
from django.core.exceptions import ValidationError

from hygie.access.models import CareRelation, LogKind, PersonRecord, ReviewImport
from hygie.access.review import store
from hygie.access.review.ingest import address_key, delete_import, import_file
from hygie.core.models import AuditEvent

pytestmark = pytest.mark.django_db

ACCESS = (
    "\ufefftimestamp;user_id;patient_id;action;application;workstation;break_glass;reason\n"
    "2024-03-04T10:00:00+01:00;u1;p1;read;DPI;PC-12;0;\n"
    "2024-03-04 25:00;u1;p2;read;DPI;PC-12;0;\n"  # line 3: no such hour
    "2024-03-04T10:05:00Z;u1;p2;print;DPI;PC-12;false;\n"
    "2024-03-04T10:06:00+01:00;u1;p3;read;DPI\n"  # line 5: 5 fields
    "2024-03-04T10:07:00+01:00;u1;p3;delete;DPI;PC-12;0;\n"  # line 6: unknown action
    "2024-03-04T10:08:00+01:00;;p3;read;DPI;PC-12;0;\n"  # line 7: no user
    "\n"
    "2024-03-04T10:09:00+01:00;u2;p3;read;;PC-1;1;Patient inconscient aux urgences\n"
)


def _rows(review_import) -> list[tuple]:
    path = store.access_path(review_import)
    columns = "line, ts, day, hour, user_id, patient_id, action, application, break_glass, reason"
    query = f"SELECT {columns} FROM read_parquet('{path}') ORDER BY line"  # noqa: S608
    return duckdb.sql(query).fetchall()


def test_malformed_lines_are_counted_with_their_number_and_the_rest_processed(world):
    imp = import_file(world.est_a1, LogKind.ACCESS, "dpi.csv", ACCESS.encode(), application="DPI")
    assert (imp.lines, imp.rejected) == (7, 4)
    assert [r["line"] for r in imp.rejects] == [3, 5, 6, 7]
    reasons = " | ".join(r["error"] for r in imp.rejects)
    assert "timestamp" in reasons and "5 champs au lieu de 8" in reasons
    assert "delete" in reasons and "user_id" in reasons
    rows = _rows(imp)
    assert [r[0] for r in rows] == [2, 4, 9]
    # UTC instant, local day and hour (Europe/Paris), the import's application by default.
    line2, line4, line9 = rows
    assert str(line2[1]) == "2024-03-04 09:00:00" and line2[3] == 10
    assert str(line4[1]) == "2024-03-04 10:05:00" and line4[3] == 11 and line4[6] == "print"
    assert line9[7] == "DPI" and line9[8] is True and line9[9].startswith("Patient inconscient")
    assert AuditEvent.objects.filter(action="access.review.import").count() == 1


def test_json_lines_detected_and_a_line_missing_a_field_rejected(world):
    lines = [
        {
            "timestamp": "2024-03-04T10:00:00+01:00",
            "user_id": "u1",
            "patient_id": "p1",
            "action": "read",
            "break_glass": False,
        },
        {"timestamp": "2024-03-04T10:01:00+01:00", "user_id": "u1", "action": "read"},
        "not json",
        {
            "timestamp": "2024-03-04T10:02:00+01:00",
            "user_id": 7,
            "patient_id": "p2",
            "action": "write",
            "break_glass": True,
            "reason": "Urgence vitale, patient inconscient",
        },
    ]
    data = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode()
    imp = import_file(world.est_a1, LogKind.ACCESS, "dpi.jsonl", data)
    assert (imp.lines, imp.rejected) == (4, 2)
    assert [r["line"] for r in imp.rejects] == [2, 3]
    assert "patient_id" in imp.rejects[0]["error"]
    assert [(r[4], r[8]) for r in _rows(imp)] == [("u1", False), ("7", True)]


def test_a_missing_column_refuses_the_file_and_records_nothing(world):
    data = b"timestamp,user_id,action\n2024-03-04T10:00:00+01:00,u1,read\n"
    folder = store.organisation_dir(world.est_a1)
    before = set(folder.glob("*")) if folder.exists() else set()
    with pytest.raises(ValidationError) as refused:
        import_file(world.est_a1, LogKind.ACCESS, "dpi.csv", data)
    assert "patient_id" in str(refused.value)
    assert not ReviewImport.objects.exists()
    assert (set(folder.glob("*")) if folder.exists() else set()) == before
    with pytest.raises(ValidationError, match="unit"):
        import_file(world.est_a1, LogKind.STAYS, "s.csv", b"patient_id,start\np1,2024-03-01\n")
    assert not ReviewImport.objects.exists()


def test_relations_are_read_replaced_and_deleted_with_their_import(world):
    stays = (
        "patient_id,unit,start,end\n"
        "p1,Cardiologie,2024-03-01T08:00:00+01:00,\n"
        "p2,Cardiologie,2024-03-02,2024-03-01\n"  # line 3: ends before it starts
        "p3,Pneumologie,2024-03-02 14:00,2024-03-05 10:00\n"
    )
    first = import_file(world.est_a1, LogKind.STAYS, "stays.csv", stays.encode())
    assert (first.lines, first.rejected, first.rejects[0]["line"]) == (3, 1, 3)
    relations = CareRelation.objects.filter(organisation=world.est_a1)
    assert sorted(relations.values_list("patient_id", "unit")) == [
        ("p1", "Cardiologie"),
        ("p3", "Pneumologie"),
    ]
    assert relations.get(patient_id="p1").ends_at is None
    # Naive times are local time (Europe/Paris).
    assert relations.get(patient_id="p3").starts_at.isoformat() == "2024-03-02T13:00:00+00:00"

    second = import_file(
        world.est_a1,
        LogKind.STAYS,
        "stays2.csv",
        b"patient_id,unit,start,end\np9,Neurologie,2024-03-03,\n",
        replaces=first,
    )
    assert list(relations.values_list("patient_id", flat=True)) == ["p9"]
    assert not ReviewImport.objects.filter(pk=first.pk).exists()
    delete_import(second)
    assert not relations.exists()
    assert AuditEvent.objects.filter(action="access.review.import_deleted").count() == 2

    teams = import_file(
        world.est_a1,
        LogKind.CARE_TEAMS,
        "teams.csv",
        b"user_id;unit;start;end\nu1;Cardiologie;2024-01-01;\n",
    )
    appts = import_file(
        world.est_a1,
        LogKind.APPOINTMENTS,
        "rdv.csv",
        b"patient_id,user_id,start\np1,u1,2024-03-05T09:00:00+01:00\n",
    )
    assert (teams.rejected, appts.rejected) == (0, 0)
    assert set(relations.values_list("kind", flat=True)) == {"team", "appointment"}


def test_deleting_an_access_import_removes_its_parquet_file(world):
    imp = import_file(world.est_a1, LogKind.ACCESS, "dpi.csv", ACCESS.encode())
    path = store.access_path(imp)
    assert path.exists() and path.parent.name == str(world.est_a1.pk)
    delete_import(imp)
    assert not path.exists()


def test_housekeeping_sweeps_event_files_no_import_owns(world, settings, tmp_path):
    """Files left by a deleted organisation or a killed import go; imports' files stay, and so
    does anything younger than an hour (an import may be writing it)."""
    import os
    import time

    from hygie.core.tasks import EXTRA_HOUSEKEEPING

    settings.DATA_DIR = tmp_path  # this test's own files only

    kept = import_file(world.est_a1, LogKind.ACCESS, "dpi.csv", ACCESS.encode())
    owned = store.access_path(kept)
    folder = owned.parent
    killed = folder / "9999-20240304T100000000000.parquet"  # its import was rolled back
    partial = folder / "9998-20240304T100000000000.parquet.partial"
    recent = folder / "9997-20240304T100000000000.parquet"  # still being written
    gone_org = folder.parent / "424242" / "77-20240304T100000000000.parquet"
    gone_org.parent.mkdir()
    foreign = folder / "notes.txt"  # not an event file: never touched
    for path in (killed, partial, recent, gone_org, foreign):
        path.write_bytes(b"PAR1")
    old = time.time() - 2 * store.ORPHAN_GRACE_SECONDS
    for path in (owned, killed, partial, gone_org, foreign):
        os.utime(path, (old, old))

    assert EXTRA_HOUSEKEEPING["access_review_orphan_files"] is store.sweep_orphans
    assert store.sweep_orphans() == 3
    assert owned.exists() and recent.exists() and foreign.exists()
    assert not killed.exists() and not partial.exists() and not gone_org.exists()
    assert len(_rows(kept)) == 3  # the import still reads (its three good lines)
    assert store.sweep_orphans() == 0


def test_people_keep_the_address_only_as_a_keyed_digest(world):
    patients = (
        "patient_id,last_name,birth_name,first_name,address,vip,staff_id\n"
        'p1,Martin,Durand,Léa,"5, Avenue Foch 59000 LILLE",1,\n'
        "p2,Petit,,Jean,,maybe,\n"  # line 3: vip neither 0/1 nor true/false
        "p1,Martin,,Léa,,0,\n"  # line 4: p1 again
        "p3,Roux,,Paul,12 rue Nationale,0,u7\n"
    )
    imp = import_file(world.est_a1, LogKind.PATIENTS, "patients.csv", patients.encode())
    assert [r["line"] for r in imp.rejects] == [3, 4]
    p1 = PersonRecord.objects.get(organisation=world.est_a1, person_id="p1")
    assert p1.vip and p1.birth_name == "Durand"
    assert p1.address_key == address_key("5 av. Foch, 59000 Lille") != ""
    assert "foch" not in p1.address_key.lower() and len(p1.address_key) == 64
    assert PersonRecord.objects.get(person_id="p3").staff_id == "u7"

    staff = b"user_id;last_name;first_name;service;schedule\nu7;Roux;Paul;Cardiologie;nuit\n"
    refused = import_file(world.est_a1, LogKind.STAFF, "staff.csv", staff)
    assert refused.rejected == 1 and "schedule" in refused.rejects[0]["error"]


def test_impossible_dates_nul_bytes_and_deep_json_are_rejected_lines_not_errors(world):
    """Year 1, year 9999 late in the day (past UTC's last instant), a NUL byte, JSON nested
    past the parser's depth: each is a rejected line named by its number; the rest is kept."""
    header = "timestamp,user_id,patient_id,action,application,workstation,break_glass,reason\n"
    rows = [
        "2024-03-04T10:00:00+01:00,u1,p1,read,DPI,PC-1,0,",
        "0001-01-01T00:00,u1,p2,read,DPI,PC-1,0,",
        "9999-12-31T23:00-05:00,u1,p3,read,DPI,PC-1,0,",
        "2024-03-04T10:01:00+01:00,u1\x00,p4,read,DPI,PC-1,0,",
    ]
    imp = import_file(world.est_a1, LogKind.ACCESS, "dpi.csv", (header + "\n".join(rows)).encode())
    assert (imp.lines, imp.rejected) == (4, 3)
    assert [r["line"] for r in imp.rejects] == [3, 4, 5]
    assert "hors de 1900–2199" in imp.rejects[0]["error"]
    assert [r[0] for r in _rows(imp)] == [2]

    stays = import_file(
        world.est_a1,
        LogKind.STAYS,
        "stays.csv",
        b"patient_id,unit,start,end\np1,Cardio,0001-01-01T00:00,\np2,Cardio,2024-03-01,\n",
    )
    assert (stays.lines, stays.rejected) == (2, 1) and stays.rejects[0]["line"] == 2
    assert CareRelation.objects.filter(source=stays).count() == 1

    deep = "[" * 100_000 + "]" * 100_000
    data = (
        '{"timestamp": "2024-03-04T10:00:00+01:00", "user_id": "u1", "patient_id": "p1", '
        '"action": "read"}\n' + deep + "\n"
    ).encode()
    imp = import_file(world.est_a1, LogKind.ACCESS, "deep.jsonl", data)
    assert (imp.lines, imp.rejected) == (2, 1)
    assert (imp.rejects[0]["line"], imp.rejects[0]["error"]) == (2, "JSON trop imbriqué")


def test_a_latin1_header_is_refused_with_a_message_that_can_be_shown(world):
    data = "horodatage;utilisateur;unité\n2024-03-04;u1;x\n".encode("latin-1")
    with pytest.raises(ValidationError) as refused:
        import_file(world.est_a1, LogKind.ACCESS, "dpi.csv", data)
    message = " ".join(refused.value.messages)
    message.encode("utf-8")  # no lone surrogate left: the page can display it
    assert "unit\\udce9" in message or "unit\\xe9" in message
    assert not ReviewImport.objects.exists()

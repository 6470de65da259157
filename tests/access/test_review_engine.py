"""The review engine on small hand-written files: each pattern fires on its planted case only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hygie.access.models import CaseStatus, LogKind, ReviewCase, ReviewRun
from hygie.access.review.engine import run_review
from hygie.access.review.ingest import import_file

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2024, 3, 4, tzinfo=PARIS)
END = datetime(2024, 3, 6, tzinfo=PARIS)

STAFF = """user_id;last_name;birth_name;first_name;address;service;schedule
u_nurse;Durand;;Alice;1 rue des Lilas, Lille;Cardiologie;day
u_doc;Leroy;;Bruno;5 av. Foch 59000 Lille;Pneumologie;any
u_night;Petit;;Chloé;;Cardiologie;night
u_clerk;Moreau;;Denis;;Admissions;day
u_bulk;Faure;;Eve;;Radiologie;any
"""
PATIENTS = """patient_id,last_name,birth_name,first_name,address,vip,staff_id
p_clean,Lambert,,Jeanne,3 place du Marché,0,
p_name,Bernard,DURAND,Louis,,0,
p_addr,Roux,,Marc,"5, Avenue Foch, 59000 LILLE",0,
p_colleague,Petit,,Chloé,,0,u_night
p_vip,Célèbre,,Star,,1,
p_self,Leroy,,Bruno,,0,u_doc
p_self_cared,Durand,,Alice,,0,u_nurse
p_bg,Simon,,Hugo,,0,
p_bg_ok,Michel,,Iris,,0,
p_night,Garcia,,Jules,,0,
p_appt,David,,Karl,,0,
p_neighbour,Blanc,,Lucie,"1, rue des Lilas, LILLE",0,
""" + "".join(f"pb{n:02},Nom{n},,X,,0,\n" for n in range(20))
STAYS = """patient_id,unit,start,end
p_clean,Cardiologie,2024-03-01T08:00:00+01:00,
p_self_cared,Cardiologie,2024-03-03T08:00:00+01:00,
p_bg_ok,Pneumologie,2024-03-04T12:00:00+01:00,2024-03-04T18:00:00+01:00
p_name,Neurologie,2024-03-01T08:00:00+01:00,
p_neighbour,Cardiologie,2024-03-04T07:00:00+01:00,
"""
TEAMS = "user_id,unit,start,end\nu_doc,Cardiologie,2024-03-01,2024-03-05\n"
APPOINTMENTS = "patient_id,user_id,start\np_appt,u_doc,2024-03-05T09:00:00+01:00\n"
PLAUSIBLE = "Patient inconscient admis en urgence, antécédents nécessaires"
ACCESS_ROWS = [
    # Clean: explained by the nurse's service, a night nurse at 3 am on her unit's patient,
    # a care-team membership, an appointment the next day, a break-the-glass with a real
    # reason half an hour before the stay was recorded, the nurse's neighbour (same address)
    # admitted in her unit.
    ("2024-03-04T10:00:00+01:00", "u_nurse", "p_clean", 0, ""),
    ("2024-03-04T10:10:00+01:00", "u_nurse", "p_neighbour", 0, ""),
    ("2024-03-05T03:00:00+01:00", "u_night", "p_clean", 0, ""),
    ("2024-03-04T11:00:00+01:00", "u_doc", "p_clean", 0, ""),
    ("2024-03-04T15:00:00+01:00", "u_doc", "p_appt", 0, ""),
    ("2024-03-04T11:30:00+01:00", "u_doc", "p_bg_ok", 1, PLAUSIBLE),
    # Planted.
    ("2024-03-04T14:00:00+01:00", "u_nurse", "p_name", 0, ""),
    ("2024-03-04T14:05:00+01:00", "u_doc", "p_addr", 0, ""),
    ("2024-03-04T14:10:00+01:00", "u_nurse", "p_colleague", 0, ""),
    ("2024-03-04T14:15:00+01:00", "u_clerk", "p_vip", 0, ""),
    ("2024-03-04T14:20:00+01:00", "u_doc", "p_self", 0, ""),
    ("2024-03-04T14:25:00+01:00", "u_nurse", "p_self_cared", 0, ""),
    ("2024-03-04T14:30:00+01:00", "u_doc", "p_bg", 1, "test"),
    ("2024-03-04T23:30:00+01:00", "u_nurse", "p_night", 0, ""),
    *[(f"2024-03-05T10:{2 * n:02}:00+01:00", "u_bulk", f"pb{n:02}", 0, "") for n in range(16)],
    # Outside the period.
    ("2024-03-07T10:00:00+01:00", "u_clerk", "p_vip", 0, ""),
]
EXPECTED = {
    ("u_nurse", "p_name"): {"unexplained", "same_name"},
    ("u_doc", "p_addr"): {"unexplained", "same_address"},
    ("u_nurse", "p_colleague"): {"unexplained", "colleague"},
    ("u_clerk", "p_vip"): {"unexplained", "vip"},
    ("u_doc", "p_self"): {"unexplained", "self"},
    ("u_nurse", "p_self_cared"): {"self"},  # explained by her unit, still her own record
    ("u_doc", "p_bg"): {"unexplained", "break_glass"},
    ("u_nurse", "p_night"): {"unexplained", "off_hours"},
    **{("u_bulk", f"pb{n:02}"): {"unexplained", "bulk"} for n in range(16)},
}


def access_csv(rows) -> bytes:
    lines = ["timestamp,user_id,patient_id,action,application,workstation,break_glass,reason"]
    lines += [f'{ts},{u},{p},read,DPI,PC-1,{bg},"{reason}"' for ts, u, p, bg, reason in rows]
    return ("\n".join(lines) + "\n").encode()


def load(organisation, rows=ACCESS_ROWS):
    for kind, text in [
        (LogKind.STAFF, STAFF),
        (LogKind.PATIENTS, PATIENTS),
        (LogKind.STAYS, STAYS),
        (LogKind.CARE_TEAMS, TEAMS),
        (LogKind.APPOINTMENTS, APPOINTMENTS),
    ]:
        assert import_file(organisation, kind, f"{kind}.csv", text.encode()).rejected == 0
    import_file(organisation, LogKind.ACCESS, "dpi.csv", access_csv(rows))


def cases(run) -> dict:
    return {(c.user_id, c.patient_id): set(c.patterns) for c in run.cases.all()}


def test_every_pattern_fires_on_its_planted_case_and_not_on_clean_accesses(world):
    load(world.est_a1)
    run = run_review(world.est_a1, start=START, end=END)
    assert cases(run) == EXPECTED
    assert (run.events, run.explained) == (len(ACCESS_ROWS) - 1, 7)
    assert run.flagged == len(EXPECTED)
    selfish = run.cases.get(user_id="u_doc", patient_id="p_self")
    assert selfish.score == 60 and selfish.user_label == "Bruno Leroy"
    assert selfish.service == "Pneumologie" and selfish.accesses == 1
    assert selfish.evidence["accesses"][0]["at"] == "2024-03-04T13:20:00Z"
    glass = run.cases.get(patient_id="p_bg")
    assert glass.evidence["break_glass_reason"] == ["short"]
    assert glass.evidence["accesses"][0]["reason"] == "test"
    assert run.cases.get(patient_id="pb00").evidence["bulk_patients"] == 16
    # Highest score first.
    assert list(run.cases.values_list("score", flat=True)) == sorted(
        run.cases.values_list("score", flat=True), reverse=True
    )
    cardio = run.figures["services"]["Cardiologie"]
    assert cardio["events"] == 7 and cardio["explained"] == 4 and cardio["cases"] == 4
    assert run.figures["patterns"]["bulk"] == 16
    assert run.figures["thresholds"]["bulk_per_hour"] == 15


def test_bulk_off_hours_and_reasons_below_their_thresholds_are_not_flagged(world):
    rows = [
        *[(f"2024-03-05T10:{2 * n:02}:00+01:00", "u_bulk", f"pb{n:02}", 0, "") for n in range(15)],
        ("2024-03-04T21:30:00+01:00", "u_nurse", "p_night", 0, ""),  # before 22:00
        ("2024-03-04T23:30:00+01:00", "u_doc", "p_bg", 0, ""),  # "any" schedule
        ("2024-03-04T14:00:00+01:00", "u_nurse", "p_bg_ok", 1, PLAUSIBLE),
    ]
    load(world.est_a1, rows)
    run = run_review(world.est_a1, start=START, end=END)
    assert {p for patterns in cases(run).values() for p in patterns} == {"unexplained"}


def test_the_same_reason_for_many_patients_is_implausible(world):
    rows = [(f"2024-03-04T1{n}:00:00+01:00", "u_doc", f"pb{n:02}", 1, PLAUSIBLE) for n in range(3)]
    load(world.est_a1, rows)
    run = run_review(world.est_a1, start=START, end=END)
    assert all("break_glass" in p for p in cases(run).values()) and run.flagged == 3
    assert run.cases.first().evidence["break_glass_reason"] == ["repeated"]


def test_a_run_never_reads_another_organisations_files(world):
    load(world.est_a1)
    other = [("2024-03-04T10:00:00+01:00", "intrus", f"pb{n:02}", 0, "") for n in range(40)]
    import_file(world.est_b1, LogKind.ACCESS, "dpi-b.csv", access_csv(other))
    run_a = run_review(world.est_a1, start=START, end=END)
    assert cases(run_a) == EXPECTED
    run_b = run_review(world.est_b1, start=START, end=END)
    assert run_b.events == 40 and {c.user_id for c in run_b.cases.all()} == {"intrus"}
    assert run_review(world.est_a2, start=START, end=END).events == 0


def test_a_rerun_keeps_the_dpos_decisions_and_replaces_the_open_cases(world):
    load(world.est_a1)
    first = run_review(world.est_a1, start=START, end=END)
    decided = first.cases.get(patient_id="p_vip")
    decided.status = CaseStatus.LEGITIMATE
    decided.disposition = "Admission : vérification d'identité demandée par le patient."
    decided.save()
    open_before = set(first.cases.exclude(pk=decided.pk).values_list("pk", flat=True))

    second = run_review(world.est_a1, start=START, end=END, user=world.editor)
    assert not ReviewRun.objects.filter(pk=first.pk).exists()
    assert cases(second) == EXPECTED
    kept = second.cases.get(patient_id="p_vip")
    assert kept.pk == decided.pk and kept.status == CaseStatus.LEGITIMATE
    assert second.cases.filter(patient_id="p_vip").count() == 1
    assert not ReviewCase.objects.filter(pk__in=open_before).exists()

    # New accesses after the decision: queued again, pointing at the decided case.
    later = [*ACCESS_ROWS, ("2024-03-05T16:00:00+01:00", "u_clerk", "p_vip", 0, "")]
    import_file(world.est_a1, LogKind.ACCESS, "dpi2.csv", access_csv(later[-1:]))
    third = run_review(world.est_a1, start=START, end=END)
    again = third.cases.filter(patient_id="p_vip").order_by("pk")
    assert [c.status for c in again] == [CaseStatus.LEGITIMATE, CaseStatus.OPEN]
    assert again[1].evidence["previous_case"] == decided.pk


def test_the_queue_keeps_the_highest_scores_and_counts_the_rest(world, monkeypatch):
    from hygie.access.review import engine

    monkeypatch.setattr(engine, "MAX_CASES", 3)
    load(world.est_a1)
    run = run_review(world.est_a1, start=START, end=END)
    assert run.flagged == 3 and run.figures["cases_found"] == len(EXPECTED)
    assert sorted(run.cases.values_list("score", flat=True)) == [55, 55, 60]

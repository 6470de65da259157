"""The synthetic hospital: realistic, explained background, planted misuse, reproducible.

A small reference reviewer written here (care team + stay at the time, order or appointment
the same day) checks what the generator promises, independently of the review engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict

import pytest

from hygie.access.review import quality, synthetic
from hygie.access.review.synthetic import PATTERNS, Truth


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _when(text):
    return dt.datetime.fromisoformat(text) if text else None


def reference_review(directory):
    """{(user, patient): explained?} per access line, with the break-the-glass reasons."""
    teams = defaultdict(set)
    for row in _rows(directory / "care_teams.csv"):
        teams[row["user_id"]].add(row["unit"])
    stays = defaultdict(list)
    for row in _rows(directory / "stays.csv"):
        stays[row["patient_id"]].append((row["unit"], _when(row["start"]), _when(row["end"])))
    visits = defaultdict(set)
    for kind in ("orders", "appointments"):
        for row in _rows(directory / f"{kind}.csv"):
            visits[(row["user_id"], row["patient_id"])].add(_when(row["start"]).date())
    accesses = []
    for row in _rows(directory / "access.csv"):
        at = _when(row["timestamp"])
        explained = at.date() in visits[(row["user_id"], row["patient_id"])] or any(
            unit in teams[row["user_id"]] and start <= at and (end is None or at < end)
            for unit, start, end in stays[row["patient_id"]]
        )
        accesses.append((row, explained))
    return accesses


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hospital")
    truth = synthetic.generate(directory, staff=150, patients=1000, events=20_000, seed=7)
    return directory, truth, reference_review(directory)


def test_every_documented_file_is_written_with_its_header(dataset):
    directory, truth, reviewed = dataset
    for kind, fields in synthetic.FILES.items():
        with open(directory / truth.files[kind], encoding="utf-8") as handle:
            assert handle.readline().strip().split(",") == fields, kind
    units = {row["unit"] for row in _rows(directory / "stays.csv")}
    assert {"Urgences", "Cardiologie", "Pédiatrie", "Réanimation"} <= units
    schedules = Counter(row["schedule"] for row in _rows(directory / "staff.csv"))
    assert schedules["day"] and schedules["night"] and schedules["any"]
    assert len(_rows(directory / "access.csv")) == truth.events
    assert 19_900 <= truth.events <= 20_000


def test_background_accesses_are_explained_and_planted_ones_are_not(dataset):
    directory, truth, reviewed = dataset
    planted = truth.pairs()
    hard = {(u, p): why for u, p, why in truth.hard_negatives}
    unexplained_background = []
    planted_explained = Counter()
    for row, explained in reviewed:
        pair = (row["user_id"], row["patient_id"])
        if pair in planted:
            if explained:
                planted_explained[pair] += 1
        elif pair in hard:
            if "break-the-glass" in hard[pair]:
                assert row["break_glass"] == "1" and len(row["reason"]) > 30
            else:
                assert explained, f"hard negative {pair} ({hard[pair]}) has no care relation"
        elif not explained:
            unexplained_background.append(row)
    assert unexplained_background == []
    # Only self-access may come with a care relation (a colleague hospitalised in her unit).
    assert all(planted[pair] == {"self"} for pair in planted_explained)


def test_one_or_more_of_each_pattern_is_planted_at_a_low_rate(dataset):
    directory, truth, reviewed = dataset
    counts = Counter(pattern for _u, _p, pattern in truth.cases)
    assert set(counts) == set(PATTERNS)
    assert counts["bulk"] >= 20  # one person opening 20–30 records
    planted_lines = sum(
        1 for row, _ in reviewed if (row["user_id"], row["patient_id"]) in truth.pairs()
    )
    assert planted_lines / truth.events < 0.01
    assert len(truth.hard_negatives) == 3


def test_planted_patterns_hold_in_the_identity_files(dataset):
    directory, truth, reviewed = dataset
    staff = {row["user_id"]: row for row in _rows(directory / "staff.csv")}
    patients = {row["patient_id"]: row for row in _rows(directory / "patients.csv")}
    for user, patient, pattern in truth.cases:
        person, record = staff[user], patients[patient]
        if pattern == "same_name":
            assert record["last_name"] == person["last_name"]
        elif pattern == "same_address":
            assert record["address"] == person["address"]
        elif pattern == "colleague":
            colleague = staff[record["staff_id"]]
            assert colleague["service"] == person["service"] and colleague["user_id"] != user
        elif pattern == "vip":
            assert record["vip"] == "1"
        elif pattern == "self":
            assert record["staff_id"] == user
    accesses = {(r["user_id"], r["patient_id"]): r for r, _ in reviewed}
    for user, patient, pattern in truth.cases:
        row = accesses[(user, patient)]
        hour = dt.datetime.fromisoformat(row["timestamp"]).hour
        if pattern == "off_hours":
            assert staff[user]["schedule"] == "day" and not 7 <= hour < 19
        if pattern == "break_glass":
            assert row["break_glass"] == "1" and row["reason"] in synthetic.IMPLAUSIBLE_REASONS


def test_same_seed_same_files_other_seed_other_files(tmp_path, dataset):
    directory, truth, reviewed = dataset
    again = synthetic.generate(tmp_path / "a", staff=150, patients=1000, events=20_000, seed=7)
    synthetic.generate(tmp_path / "b", staff=150, patients=1000, events=20_000, seed=8)

    def digest(folder):
        return hashlib.sha256((folder / "access.csv").read_bytes()).hexdigest()

    assert digest(tmp_path / "a") == digest(directory)
    assert again.cases == truth.cases
    assert digest(tmp_path / "b") != digest(directory)
    assert Truth.load(tmp_path / "a" / "truth.json") == again


def test_malformed_lines_are_where_the_truth_says(tmp_path):
    truth = synthetic.generate(tmp_path, events=5_000, malformed=4, seed=3)
    lines = (tmp_path / "access.csv").read_text("utf-8").splitlines()
    assert len(truth.malformed_lines) == 4
    for number in truth.malformed_lines:
        fields = lines[number - 1].split(",")
        truncated = len(fields) < 8
        bad_time = not truncated and "T" not in fields[0]
        assert truncated or bad_time, lines[number - 1]
    good = [line for n, line in enumerate(lines[1:], 2) if n not in truth.malformed_lines]
    assert all(dt.datetime.fromisoformat(line.split(",")[0]) for line in good)


def test_json_lines_carry_the_same_fields(tmp_path):
    truth = synthetic.generate(tmp_path, events=2_000, seed=4, fmt="jsonl")
    first = json.loads((tmp_path / "access.jsonl").read_text("utf-8").splitlines()[0])
    assert list(first) == synthetic.ACCESS_FIELDS
    assert truth.files["stays"] == "stays.jsonl"


def test_generation_streams_a_large_log_quickly(tmp_path):
    import time

    started = time.perf_counter()
    truth = synthetic.generate(tmp_path, staff=400, patients=5000, events=200_000, seed=5)
    elapsed = time.perf_counter() - started
    assert truth.events > 199_000
    assert elapsed < 10, f"200,000 events took {elapsed:.1f} s"


def test_quality_scores_a_perfect_and_a_partial_review(dataset):
    directory, truth, reviewed = dataset
    flagged = {}
    for row, explained in reviewed:
        if not explained:
            flagged[(row["user_id"], row["patient_id"])] = ["unexplained"]
    perfect = quality.score([(u, p, k) for (u, p), k in flagged.items()], truth)
    # The reference reviewer knows only care relations: it misses self-access explained by care
    # and flags the legitimate break-the-glass (it does not read reasons).
    assert perfect["recall"] >= 0.95
    assert len(perfect["false_alarms"]) == 1
    assert perfect["per_pattern"]["bulk"]["recall"] == 1.0
    half = [(u, p, [k]) for u, p, k in truth.cases[::2]] + [("u99999", "P9999999", ["vip"])]
    partial = quality.score(half, truth)
    assert partial["found"] == len({(u, p) for u, p, _ in truth.cases[::2]})
    assert partial["precision"] == partial["found"] / (partial["found"] + 1)
    assert partial["pattern_named"] == 1.0
    assert partial["per_pattern"]["vip"]["flagged"] >= 1
    assert "précision" in quality.report(partial)


def test_quality_reads_a_review_run(db, world, dataset):
    from django.utils import timezone

    from hygie.access.models import ReviewCase, ReviewRun

    _directory, truth, _reviewed = dataset
    start, end = truth.period
    run = ReviewRun.objects.create(organisation=world.est_a1, period_start=start, period_end=end)
    user, patient, pattern = truth.cases[0]
    now = timezone.now()
    ReviewCase.objects.create(
        run=run,
        organisation=world.est_a1,
        user_id=user,
        patient_id=patient,
        patterns=[pattern],
        first_at=now,
        last_at=now,
    )
    result = quality.score(run, truth)
    assert result["found"] == 1 and result["precision"] == 1.0


def test_management_command_writes_the_files(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("access_review_generate", str(tmp_path), "--events", "3000", stdout=out)
    assert "cas semés" in out.getvalue()
    assert Truth.load(tmp_path / "truth.json").events > 2900

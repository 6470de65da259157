"""Realistic synthetic hospital data for the access review: logs, care relations, planted misuse.

`generate(directory, staff=, patients=, events=, seed=)` writes the documented files (see
docs/access-review.md): `staff.csv`, `patients.csv`, `stays.csv`, `appointments.csv`,
`orders.csv`, `care_teams.csv` and `access.csv` (or `.jsonl`), and returns the `Truth`: the
misuse it planted, as (user_id, patient_id, pattern), and the hard negatives (legitimate
accesses that look odd), also written to `truth.json`.

The hospital: clinical units whose nurses and doctors belong to the unit's care team (day,
night or any schedule), technical units (radiology, laboratory) reached through orders, a
consultation secretariat reached through appointments. Patients have stays moving between
units (often through the emergency unit) and outpatients have appointments. Background accesses
are all explained by a care relationship at the time of access, during the person's shift;
planted misuse is not (or breaks a rule the review knows: same surname, same address, a
colleague's record, a VIP, oneself, bulk, off-hours, break-the-glass without a plausible reason).

Everything is deterministic for a seed. Events are written hour by hour (each hour sorted by
time), so ten million of them never sit in memory; relations (stays, orders, appointments) are
kept, they are a few per patient.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Paris")
DEFAULT_START = dt.datetime(2024, 1, 8, tzinfo=TZ)  # a Monday, winter time

# Units: (name, code, kind). "care": patients stay there; "tech": reached through orders;
# "desk": reached through appointments.
UNITS = [
    ("Urgences", "URG", "care"),
    ("Cardiologie", "CAR", "care"),
    ("Pédiatrie", "PED", "care"),
    ("Réanimation", "REA", "care"),
    ("Bloc opératoire", "BLO", "care"),
    ("Médecine interne", "MIN", "care"),
    ("Chirurgie orthopédique", "ORT", "care"),
    ("Gériatrie", "GER", "care"),
    ("Maternité", "MAT", "care"),
    ("Radiologie", "RAD", "tech"),
    ("Laboratoire", "LAB", "tech"),
    ("Secrétariat des consultations", "SEC", "desk"),
]
CARE_UNITS = [u for u in UNITS if u[2] == "care"]
# Relative size of each care unit (beds): where stays go after admission.
CARE_WEIGHTS = [6, 4, 3, 2, 2, 5, 3, 4, 2]

COMMON_SURNAMES = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
    "Rousseau Vincent Muller Lefevre Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier "
    "Francois Legrand Gauthier Garcia Perrin Robin Clement Morin Nicolas Henry Roussel Mathieu "
    "Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noel Meyer Dufour Meunier"
).split()
_ONSETS = "B Br C Ch D Dr F G Gr K Kerg L M N P Pl R S T Tr V Z".split()
_MIDDLES = "a e i o ou au eau an on in ar er or al el".split()
_CODAS = "lec rand ville mont court det nard zic lou rieux gny quet vert bec".split()
FIRST_NAMES = (
    "Camille Léa Manon Chloé Emma Inès Sarah Julie Marie Claire Anne Nathalie Sophie Isabelle "
    "Lucas Hugo Louis Gabriel Arthur Jules Paul Thomas Nicolas Julien Pierre Antoine Marc Éric"
).split()
STREETS = (
    "rue Victor Hugo|rue de la République|avenue Jean Jaurès|rue Pasteur|rue du Moulin|"
    "place de l'Église|rue des Écoles|chemin des Vignes|rue de la Gare|boulevard Gambetta|"
    "rue Nationale|allée des Tilleuls|rue des Lilas|impasse des Peupliers|rue Carnot|"
    "rue du Stade|route de Paris|rue Voltaire|rue des Acacias|rue du Château|rue Jean Moulin|"
    "avenue de la Libération|rue de Verdun|rue des Rosiers|quai de la Loire|rue Saint-Michel"
).split("|")
CITIES = (
    "59000 Lille|59100 Roubaix|59200 Tourcoing|59300 Valenciennes|59400 Cambrai|59500 Douai|"
    "62000 Arras|62300 Lens|62400 Béthune|80000 Amiens|59140 Dunkerque|59650 Villeneuve-d'Ascq|"
    "59800 Lille|62100 Calais|62200 Boulogne-sur-Mer|59120 Loos|59130 Lambersart"
).split("|")

PLAUSIBLE_REASONS = [
    "Patient inconscient admis en urgence vitale, antécédents nécessaires",
    "Arrêt cardiaque à l'accueil des urgences, dossier antérieur indispensable",
    "Polytraumatisé non encore enregistré, allergies à vérifier avant anesthésie",
]
IMPLAUSIBLE_REASONS = ["", "test", ".", "azerty", "xx", "curiosité"]

PATTERNS = (
    "same_name",
    "same_address",
    "colleague",
    "vip",
    "self",
    "bulk",
    "off_hours",
    "break_glass",
    "unexplained",
)

ACCESS_FIELDS = [
    "timestamp",
    "user_id",
    "patient_id",
    "action",
    "application",
    "workstation",
    "break_glass",
    "reason",
]
FILES = {
    "staff": ["user_id", "last_name", "birth_name", "first_name", "address", "service", "schedule"],
    "patients": [
        "patient_id",
        "last_name",
        "birth_name",
        "first_name",
        "address",
        "vip",
        "staff_id",
    ],
    "stays": ["patient_id", "unit", "start", "end"],
    "appointments": ["patient_id", "user_id", "start", "end"],
    "orders": ["patient_id", "user_id", "start", "end"],
    "care_teams": ["user_id", "unit", "start", "end"],
    "access": ACCESS_FIELDS,
}


@dataclass
class Truth:
    """What `generate` planted: the misuse cases and the hard negatives, with the period."""

    start: str
    end: str
    events: int = 0
    cases: list[tuple[str, str, str]] = field(default_factory=list)  # (user, patient, pattern)
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)  # (user, patient, why)
    malformed_lines: list[int] = field(default_factory=list)  # line numbers in the access file
    files: dict[str, str] = field(default_factory=dict)  # kind -> file name

    @property
    def period(self) -> tuple[dt.datetime, dt.datetime]:
        return dt.datetime.fromisoformat(self.start), dt.datetime.fromisoformat(self.end)

    def pairs(self) -> dict[tuple[str, str], set[str]]:
        found: dict[tuple[str, str], set[str]] = {}
        for user, patient, pattern in self.cases:
            found.setdefault((user, patient), set()).add(pattern)
        return found

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), "utf-8")

    @classmethod
    def load(cls, path: Path) -> Truth:
        data = json.loads(Path(path).read_text("utf-8"))
        for key in ("cases", "hard_negatives"):
            data[key] = [tuple(row) for row in data[key]]
        return cls(**data)


@dataclass
class _Person:
    pid: str
    last_name: str
    birth_name: str
    first_name: str
    address: str


@dataclass
class _Staff(_Person):
    unit: int = 0  # index in UNITS
    schedule: str = "day"
    job: str = "nurse"


# Helpers ----------------------------------------------------------------------------------------
def _on_shift(schedule: str, hour: int) -> bool:
    if schedule == "any":
        return True
    day = 7 <= hour < 19
    return day if schedule == "day" else not day


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _iso(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds")


class _Writer:
    """One output file, CSV (`,`) or JSON lines, counting its lines (header = line 1)."""

    def __init__(self, path: Path, fields: list[str], fmt: str):
        self.handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.fields = fields
        self.fmt = fmt
        self.line = 0
        if fmt == "csv":
            self.csv = csv.writer(self.handle, lineterminator="\n")
            self.csv.writerow(fields)
            self.line = 1

    def row(self, values: list) -> None:
        if self.fmt == "csv":
            self.csv.writerow(values)
        else:
            self.handle.write(json.dumps(dict(zip(self.fields, values, strict=True))) + "\n")
        self.line += 1

    def raw(self, text: str) -> None:
        self.handle.write(text + "\n")
        self.line += 1

    def close(self) -> None:
        self.handle.close()


# The generator ----------------------------------------------------------------------------------
def generate(
    directory,
    *,
    staff: int = 150,
    patients: int = 1000,
    events: int = 20_000,
    seed: int = 1,
    days: int = 28,
    start: dt.datetime = DEFAULT_START,
    misuse: int | None = None,
    malformed: int = 0,
    fmt: str = "csv",
) -> Truth:
    """Write a synthetic data set into `directory` and return what was planted.

    `misuse`: planted cases per pattern (default: 1 per 2 million events, at least 1; bulk
    browsing plants one person per 5 cases, each opening 20–30 records). `malformed`: that many
    broken lines (truncated line, bad timestamp, alternately) in the access log. `fmt`: "csv" or
    "jsonl".
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError("fmt must be 'csv' or 'jsonl'")
    if staff < 60 or patients < 200:
        raise ValueError("at least 60 staff and 200 patients are needed to plant every pattern")
    rng = random.Random(seed)  # noqa: S311 — synthetic data, reproducible by seed
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    start = start.astimezone(TZ)
    end = start + dt.timedelta(days=days)
    hours = days * 24
    per_pattern = misuse if misuse is not None else max(1, events // 2_000_000)
    ext = "csv" if fmt == "csv" else "jsonl"
    truth = Truth(start=_iso(start), end=_iso(end))
    writers = {
        kind: _Writer(directory / f"{kind}.{ext}", fields, fmt) for kind, fields in FILES.items()
    }
    truth.files = {kind: f"{kind}.{ext}" for kind in FILES}

    rare = [rng.choice(_ONSETS) + rng.choice(_MIDDLES) + rng.choice(_CODAS) for _ in range(3000)]
    rare = list(dict.fromkeys(rare))

    def surname() -> str:
        return rng.choice(COMMON_SURNAMES) if rng.random() < 0.5 else rng.choice(rare)

    def address() -> str:
        return f"{rng.randint(1, 300)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"

    def person(pid: str) -> _Person:
        last = surname()
        birth = surname() if rng.random() < 0.25 else last
        return _Person(pid, last, birth, rng.choice(FIRST_NAMES), address())

    # Staff: nurses and doctors in care units, radiology and laboratory staff, secretaries.
    people: list[_Staff] = []
    care_indexes = [i for i, u in enumerate(UNITS) if u[2] == "care"]
    for n in range(staff):
        p = person(f"u{n + 1:05d}")
        roll = n % 20
        if roll < 11:
            job, unit = "nurse", care_indexes[n % len(care_indexes)]
            schedule = ("day", "night", "day", "night", "any")[(n // 9) % 5]
        elif roll < 15:
            job, unit = "doctor", care_indexes[n % len(care_indexes)]
            schedule = "any" if n % 3 else "day"
        elif roll < 16:
            job, unit, schedule = "radiologist", 9, "any"
        elif roll < 17:
            job, unit, schedule = "biologist", 10, "any"
        else:
            job, unit, schedule = "secretary", 11, "day"
        people.append(_Staff(**asdict(p), unit=unit, schedule=schedule, job=job))
    by_unit: dict[int, list[int]] = {}
    for i, s in enumerate(people):
        by_unit.setdefault(s.unit, []).append(i)
    shift_lists = {
        (unit, night): [i for i in members if _on_shift(people[i].schedule, 3 if night else 12)]
        for unit, members in by_unit.items()
        for night in (False, True)
    }
    doctors = [i for i, s in enumerate(people) if s.job == "doctor"]
    desk = by_unit[11] + doctors
    radiology, laboratory = by_unit[9], by_unit[10]

    # Patients; a few are staff members (self-access, colleague's record).
    pats: list[_Person] = [person(f"P{n + 1:07d}") for n in range(patients)]
    vip = [False] * patients
    staff_of = [""] * patients
    for n in range(patients):
        if rng.random() < 0.002:
            vip[n] = True
    staff_patients = rng.sample(range(patients), max(per_pattern * 3, staff // 30))
    staff_hosts = rng.sample(range(staff), len(staff_patients))
    for pat, host in zip(staff_patients, staff_hosts, strict=True):
        staff_of[pat] = people[host].pid
        s = people[host]
        pats[pat] = _Person(pats[pat].pid, s.last_name, s.birth_name, s.first_name, s.address)

    # Stays (movements), orders and appointments, indexed by day.
    stays_by_day: list[list[tuple]] = [[] for _ in range(days)]
    orders_by_day: list[list[tuple]] = [[] for _ in range(days)]
    appts_by_day: list[list[tuple]] = [[] for _ in range(days)]
    stay_rows, order_rows, appt_rows = [], [], []
    in_patients = set(rng.sample(range(patients), int(patients * 0.6)))
    span = days * 86400
    for p in range(patients):
        if p in in_patients:
            t = start + dt.timedelta(seconds=rng.randrange(-3 * 86400, span - 3600))
            units = [0] if rng.random() < 0.45 else []
            units += rng.choices(care_indexes, weights=CARE_WEIGHTS, k=rng.randint(1, 2))
            for k, unit in enumerate(units):
                length = dt.timedelta(
                    hours=rng.randint(3, 12) if unit == 0 else rng.randint(24, 140)
                )
                seg_end = t + length
                last = k == len(units) - 1
                stay_rows.append((p, unit, t, None if last and seg_end > end else seg_end))
                first_day = max(0, (t - start).days)
                last_day = min(days - 1, (seg_end - start).days)
                for d in range(first_day, last_day + 1):
                    stays_by_day[d].append((p, unit, _epoch(t), _epoch(seg_end)))
                # Orders to radiology and laboratory during the stay.
                for _ in range(rng.randint(0, 2)):
                    o_start = t + dt.timedelta(seconds=rng.randrange(int(length.total_seconds())))
                    if not start <= o_start < end:
                        continue
                    tech = radiology if rng.random() < 0.5 else laboratory
                    who = rng.choice(tech)
                    order_rows.append((p, who, o_start, o_start + dt.timedelta(hours=12)))
                    day_end = _epoch(start) + ((o_start - start).days + 1) * 86400
                    orders_by_day[(o_start - start).days].append(
                        (p, who, _epoch(o_start), min(_epoch(o_start) + 43200, day_end))
                    )
                t = seg_end
        if p not in in_patients or rng.random() < 0.2:
            for _ in range(rng.randint(1, 2)):
                d = rng.randrange(days)
                when = (start + dt.timedelta(days=d)).replace(hour=rng.randint(8, 16))
                if when.weekday() >= 5:
                    continue
                who = rng.choice(desk)
                row = (p, who, when, when + dt.timedelta(minutes=30))
                appt_rows.append(row)
                appts_by_day[d].append(row)

    # Planted misuse: chosen now, written in their hour. (hour index, second, user, patient,
    # action, break_glass, reason)
    planted: dict[int, list[tuple]] = {}
    used_pairs: set[tuple[int, int]] = set()
    related_patients = {p for p, *_ in stay_rows} | {p for p, *_ in appt_rows}

    def plant(pattern, user, patient, hour=None, *, count=None, bg=0, reason="", note=None):
        if hour is None:
            hour = _shift_hour(rng, people[user].schedule, hours)
        for _ in range(count or rng.randint(1, 3)):
            h = min(hours - 1, hour + rng.randint(0, 1))
            planted.setdefault(h, []).append(
                (
                    rng.randrange(3600),
                    user,
                    patient,
                    rng.choice(("read", "read", "print")),
                    bg,
                    reason,
                )
            )
        used_pairs.add((user, patient))
        if note:
            truth.hard_negatives.append((people[user].pid, pats[patient].pid, note))
        else:
            truth.cases.append((people[user].pid, pats[patient].pid, pattern))

    def stranger(user: int, pool=None) -> int:
        """A patient with no care relation to anyone at all (never admitted nor seen)."""
        for _ in range(1000):
            p = rng.randrange(patients) if pool is None else rng.choice(pool)
            if (
                p not in related_patients
                and (user, p) not in used_pairs
                and not staff_of[p]
                and not vip[p]
                and not {pats[p].last_name, pats[p].birth_name}
                & {people[user].last_name, people[user].birth_name}
                and pats[p].address != people[user].address
            ):
                return p
        raise ValueError("not enough patients without a care relation; raise `patients`")

    clinical = [i for i, s in enumerate(people) if s.job in ("nurse", "doctor")]
    free_patients = [p for p in range(patients) if p not in related_patients and not staff_of[p]]
    for _ in range(per_pattern):
        u = rng.choice(clinical)
        p = stranger(u, free_patients)
        pats[p].last_name = people[u].last_name
        plant("same_name", u, p)
        u = rng.choice(clinical)
        p = stranger(u, free_patients)
        pats[p].address = people[u].address
        plant("same_address", u, p)
        u = rng.choice(clinical)
        colleagues = [
            q
            for q in staff_patients
            if staff_of[q] != people[u].pid
            and people[int(staff_of[q][1:]) - 1].unit == people[u].unit
            and (u, q) not in used_pairs
            and q not in related_patients
        ]
        if not colleagues:  # make one: a colleague of the same unit becomes a patient
            q = stranger(u, free_patients)
            mate = rng.choice([i for i in by_unit[people[u].unit] if i != u])
            staff_of[q] = people[mate].pid
            m = people[mate]
            pats[q] = _Person(pats[q].pid, m.last_name, m.birth_name, m.first_name, m.address)
            free_patients.remove(q)
            colleagues = [q]
        plant("colleague", u, rng.choice(colleagues))
        u = rng.choice(clinical)
        p = stranger(u, free_patients)
        vip[p] = True
        plant("vip", u, p)
        candidates = [q for q in staff_patients if (int(staff_of[q][1:]) - 1, q) not in used_pairs]
        q = rng.choice(candidates)
        plant("self", int(staff_of[q][1:]) - 1, q)
        u = rng.choice([i for i in clinical if people[i].schedule == "day"])
        night_hour = rng.randrange(days) * 24 + rng.choice((0, 1, 2, 3, 4, 22, 23))
        for _k in range(3):
            plant("off_hours", u, stranger(u, free_patients), night_hour, count=1)
        u = rng.choice(clinical)
        plant(
            "break_glass",
            u,
            stranger(u, free_patients),
            count=1,
            bg=1,
            reason=rng.choice(IMPLAUSIBLE_REASONS),
        )
        u = rng.choice(clinical + desk)
        plant("unexplained", u, stranger(u, free_patients))
    for _ in range(max(1, per_pattern // 5)):
        u = rng.choice(clinical)
        hour = _shift_hour(rng, people[u].schedule, hours)
        for _k in range(rng.randint(20, 30)):
            plant("bulk", u, stranger(u, free_patients), hour, count=1)

    # Hard negatives: a night nurse at 3 am on her unit's patient, a same surname with a care
    # relation, break-the-glass at the emergency unit with a real reason (the stay is recorded
    # two hours later).
    night_nurses = [i for i, s in enumerate(people) if s.job == "nurse" and s.schedule == "night"]
    night_units = {people[i].unit for i in night_nurses} - {0}
    base = _epoch(start)
    for _ in range(per_pattern):
        for _try in range(200):
            d = rng.randrange(days)
            if not stays_by_day[d]:
                continue
            p, unit, s_start, s_end = rng.choice(stays_by_day[d])
            moment = base + d * 86400 + 3 * 3600
            if unit not in night_units or staff_of[p] or not s_start <= moment < s_end - 3600:
                continue
            nurse = rng.choice([i for i in night_nurses if people[i].unit == unit])
            plant("", nurse, p, d * 24 + 3, count=1, note="night nurse at 3 am, her unit's patient")
            break
        for _try in range(200):
            d = rng.randrange(days)
            if not stays_by_day[d]:
                continue
            p, unit, s_start, s_end = rng.choice(stays_by_day[d])
            day_staff = [i for i in by_unit.get(unit, []) if people[i].schedule != "night"]
            moment = base + d * 86400 + 12 * 3600
            if not day_staff or staff_of[p] or not s_start <= moment < s_end - 7200:
                continue
            u = rng.choice(day_staff)
            pats[p].last_name = people[u].last_name
            plant("", u, p, d * 24 + 12, count=1, note="same surname, patient in her unit")
            break
        emergency = [i for i in by_unit[0] if people[i].schedule != "night"]
        d = rng.randrange(1, days - 1)
        hour = d * 24 + rng.randint(8, 17)
        p = stranger(0, free_patients)
        u = rng.choice(emergency)
        arrival = start + dt.timedelta(hours=hour + 2)
        stay_rows.append((p, 0, arrival, arrival + dt.timedelta(hours=6)))
        plant(
            "",
            u,
            p,
            hour,
            count=1,
            bg=1,
            reason=rng.choice(PLAUSIBLE_REASONS),
            note="break-the-glass at the emergency unit with a real reason",
        )
        free_patients.remove(p)

    # Relations and identities.
    for s in people:
        writers["staff"].row(
            [
                s.pid,
                s.last_name,
                s.birth_name,
                s.first_name,
                s.address,
                UNITS[s.unit][0],
                s.schedule,
            ]
        )
        if s.job in ("nurse", "doctor", "radiologist", "biologist"):
            writers["care_teams"].row(
                [s.pid, UNITS[s.unit][0], _iso(start - dt.timedelta(days=365)), ""]
            )
    for n, p in enumerate(pats):
        writers["patients"].row(
            [p.pid, p.last_name, p.birth_name, p.first_name, p.address, int(vip[n]), staff_of[n]]
        )
    for p, unit, s_start, s_end in stay_rows:
        writers["stays"].row([pats[p].pid, UNITS[unit][0], _iso(s_start), _iso(s_end)])
    for p, who, o_start, o_end in order_rows:
        writers["orders"].row([pats[p].pid, people[who].pid, _iso(o_start), _iso(o_end)])
    for p, who, a_start, a_end in appt_rows:
        writers["appointments"].row([pats[p].pid, people[who].pid, _iso(a_start), _iso(a_end)])

    # Access events, hour by hour (integer seconds in the hot loop).
    weights = [1.0 if 7 <= (h % 24) < 20 else 0.3 for h in range(hours)]
    background = max(0, events - sum(len(v) for v in planted.values()))
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    bounds = [round(background * c / total) for c in cumulative]
    access = writers["access"]
    malformed_at = set()
    if malformed:
        step = max(1, events // (malformed + 1))
        malformed_at = {step * (k + 1) for k in range(malformed)}
    written = 0
    workstations = {i: [f"PC-{u[1]}-{k:02d}" for k in range(1, 9)] for i, u in enumerate(UNITS)}
    apps = {9: "PACS", 10: "SIL"}
    user_ids = [s.pid for s in people]
    user_units = [s.unit for s in people]
    patient_ids = [p.pid for p in pats]
    random_ = rng.random  # int(random() * n): a third of randrange's cost, as deterministic
    previous = 0
    for h in range(hours):
        count = bounds[h] - previous
        previous = bounds[h]
        local = (start + dt.timedelta(hours=h)).astimezone(TZ)
        hour_start = base + h * 3600
        night = not 7 <= local.hour < 19
        d = h // 24
        prefix = local.strftime("%Y-%m-%dT%H:")
        offset = local.strftime("%z")
        offset = offset[:3] + ":" + offset[3:]
        day_stays, day_orders = stays_by_day[d], orders_by_day[d]
        day_appts = appts_by_day[d] if 8 <= local.hour < 19 else []
        n_stays, n_orders, n_appts = len(day_stays), len(day_orders), len(day_appts)
        batch = []
        for _ in range(count):
            second = int(random_() * 3600)
            at = hour_start + second
            roll = random_()
            row = None
            if roll < 0.12 and n_orders:
                for _try in range(4):
                    p, who, o_start, o_end = day_orders[int(random_() * n_orders)]
                    if o_start <= at <= o_end:
                        row = (who, p, apps[user_units[who]])
                        break
            elif roll < 0.22 and n_appts:
                p, who, *_ = day_appts[int(random_() * n_appts)]
                row = (who, p, "DPI")
            if row is None and n_stays:
                for _try in range(6):
                    p, unit, s_start, s_end = day_stays[int(random_() * n_stays)]
                    if s_start <= at < s_end:
                        team = shift_lists[(unit, night)]
                        if not team:
                            continue
                        who = team[int(random_() * len(team))]
                        if staff_of[p] and staff_of[p] == user_ids[who]:
                            continue
                        row = (who, p, "DPI")
                        break
            if row is None:
                continue  # no relation fits this moment (rare): the hour gets one event fewer
            r = random_()
            action = "read" if r < 0.85 else "write" if r < 0.97 else "print"
            batch.append((second, row[0], row[1], action, row[2], 0, ""))
        for second, who, p, action, bg, reason in planted.get(h, ()):
            batch.append((second, who, p, action, "DPI", bg, reason))
        batch.sort(key=lambda e: e[0])
        for second, who, p, action, app, bg, reason in batch:
            written += 1
            values = [
                f"{prefix}{second // 60:02d}:{second % 60:02d}{offset}",
                user_ids[who],
                patient_ids[p],
                action,
                app,
                workstations[user_units[who]][who % 8],
                bg,
                reason,
            ]
            if written in malformed_at:
                truth.malformed_lines.append(access.line + 1)
                if len(truth.malformed_lines) % 2:  # a truncated line
                    access.raw(
                        ",".join(str(v) for v in values[:3])
                        if fmt == "csv"
                        else json.dumps(dict(zip(ACCESS_FIELDS, values, strict=True)))[:40]
                    )
                    continue
                values[0] = f"{local:%d/%m/%Y} 25:{second // 60:02d}"  # a bad timestamp
            access.row(values)
    truth.events = written
    for w in writers.values():
        w.close()
    truth.save(directory / "truth.json")
    return truth


def _shift_hour(rng: random.Random, schedule: str, hours: int) -> int:
    """An hour index inside the person's shift (daytime for "any")."""
    day = rng.randrange(hours // 24)
    hour = rng.randint(20, 23) if schedule == "night" else rng.randint(9, 16)
    return min(hours - 2, day * 24 + hour)

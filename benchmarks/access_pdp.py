"""Benchmark of the Zero Trust decision point in process (issue 8).

One run decides the same generated requests (thousands of users and patients, tens of thousands
of requests) with the starter policy through:

- Hygie's engine (the policy compiled to Python closures, hygie/access/pdp/compile.py);
- raw cedarpy with pre-parsed handles (PolicySet.from_str, Entities.from_json_str,
  Schema.from_str) — the reference: zero disagreement is asserted;
- pycasbin with an equivalent ABAC model and policy;
- regopy (rego-cpp, OPA's Rego) with the Rego equivalent, compiled once into a bundle;
- a plain Python function.

Each engine gets its request in its own input format, prepared before timing. Decisions per
second and p50/p99 per decision single-threaded, then throughput with concurrent threads.

    PYTHONPATH=. /work/main/.venv/bin/python benchmarks/access_pdp.py [--requests 30000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import threading
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cedarpy  # noqa: E402

from hygie.access.pdp import engine  # noqa: E402
from hygie.access.pdp.engine import DEFAULT_POLICY, Engine, Entity, Request  # noqa: E402

# The data set ----------------------------------------------------------------------------------
ROLES = [("infirmier", "soins")] * 7 + [("medecin", "medical")] * 2 + [("secretaire", "admin")]


def generate(users: int, patients: int, requests: int, seed: int = 8):
    rnd = random.Random(seed)
    poles = [Entity("Unit", f"pole-{i}") for i in range(10)]
    units = [Entity("Unit", f"unit-{i}", parents=(("Unit", f"pole-{i % 10}"),)) for i in range(60)]
    unit_by_id = {u.id: u for u in units + poles}
    staff = []
    for i in range(users):
        role, family = rnd.choice(ROLES)
        admin = rnd.random() < 0.03
        mine = rnd.sample(units, rnd.choice((1, 1, 2)))
        staff.append(
            Entity(
                "User",
                f"user-{i}",
                {"role": role, "job_family": family, "service": mine[0].id, "admin": admin},
                tuple(("Unit", u.id) for u in mine),
            )
        )
    records, by_unit = [], {}
    for i in range(patients):
        unit = rnd.choice(units)
        patient = Entity("Patient", f"pat-{i}", {"vip": rnd.random() < 0.01}, (("Unit", unit.id),))
        record = Entity(
            "Record", f"rec-{i}", {"patient": patient, "sensitivity": rnd.choice((1, 2, 2, 3, 4))}
        )
        records.append(record)
        by_unit.setdefault(unit.id, []).append(record)
    pages = [
        Entity("Page", f"page-{i}", {"sensitivity": rnd.choice((0, 1, 2, 3, 4))}) for i in range(50)
    ]

    def context(**values):
        zone = rnd.choices(engine.ZONES, weights=(75, 5, 8, 7, 5))[0]
        base = {
            "mfa": rnd.random() < 0.4,
            "zone": zone,
            "hour": rnd.randrange(24),
            "weekday": rnd.randint(1, 7),
            "device_managed": rnd.random() < 0.95,
            "device_compliant": rnd.random() < 0.9,
            "break_glass": False,
            "care_relationship": False,
        }
        base.update(values)
        return base

    def entities_for(user, resource):
        wanted = set(user.parents)
        if resource.type == "Record":
            wanted |= set(resource.attrs["patient"].parents)
        ids = {i for _, i in wanted}
        ids |= {p[1] for i in list(ids) for p in unit_by_id[i].parents}
        return tuple(unit_by_id[i] for i in sorted(ids))

    out = []
    for _ in range(requests):
        user = rnd.choice(staff)
        draw = rnd.random()
        if draw < 0.65:  # in care relationship: a patient of one of her units
            unit_id = rnd.choice(user.parents)[1]
            resource = rnd.choice(by_unit.get(unit_id) or records)
            action = rnd.choices(("read", "write", "print", "export"), weights=(70, 20, 7, 3))[0]
            ctx = context(care_relationship=True)
        elif draw < 0.75:  # another unit's patient, no relationship
            resource, action, ctx = rnd.choice(records), "read", context()
        elif draw < 0.80:  # break-the-glass
            resource, action, ctx = rnd.choice(records), "read", context(break_glass=True)
        elif draw < 0.95:  # ordinary pages
            resource = rnd.choice(pages)
            action = rnd.choice(("read", "print", "write"))
            ctx = context()
        else:  # administration
            resource = rnd.choice(pages)
            action = rnd.choice(("admin", "export"))
            ctx = context()
        out.append(Request(user, action, resource, ctx, entities_for(user, resource)))
    all_entities = poles + units + staff + [r.attrs["patient"] for r in records] + records + pages
    return out, all_entities


# The peers -------------------------------------------------------------------------------------
def plain_python(principal_admin, action, rtype, sensitivity, vip, c):
    """The starter policy by hand."""
    if action == "admin" and (not c["mfa"] or c["zone"] == "internet"):
        return False
    if rtype == "Record":
        if not c["device_managed"]:
            return False
        if action == "export" and not c["mfa"]:
            return False
        if not c["mfa"] and (vip or (c["zone"] == "internet" and sensitivity >= 3)):
            return False
        if c["care_relationship"] and action in ("read", "write", "print"):
            return True
        return c["break_glass"] and action in ("read", "print")
    if principal_admin:
        return True
    return action in ("read", "print") and sensitivity <= 2


CASBIN_MODEL = """
[request_definition]
r = sub, obj, act, ctx

[policy_definition]
p = rule, acts, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = regexMatch(r.act, p.acts) && eval(p.rule)
"""

CASBIN_POLICY = [
    ["r.obj.type == 'Record' and r.ctx.care_relationship", "^(read|write|print)$", "allow"],
    ["r.obj.type == 'Record' and r.ctx.break_glass", "^(read|print)$", "allow"],
    ["r.obj.type == 'Page' and r.obj.sensitivity <= 2", "^(read|print)$", "allow"],
    ["r.obj.type == 'Page' and r.sub.admin", "^(read|write|print|export|admin)$", "allow"],
    ["not r.ctx.mfa", "^admin$", "deny"],
    ["r.ctx.zone == 'internet'", "^admin$", "deny"],
    ["r.obj.type == 'Record' and not r.ctx.device_managed", ".*", "deny"],
    ["r.obj.type == 'Record' and not r.ctx.mfa", "^export$", "deny"],
    [
        "r.obj.type == 'Record' and r.ctx.zone == 'internet' and r.obj.sensitivity >= 3 "
        "and not r.ctx.mfa",
        ".*",
        "deny",
    ],
    ["r.obj.type == 'Record' and r.obj.vip and not r.ctx.mfa", ".*", "deny"],
]

REGO_POLICY = """package hygie

import rego.v1

default allow := false

permit if {
    input.resource.type == "Record"
    input.action in {"read", "write", "print"}
    input.context.care_relationship
}

permit if {
    input.resource.type == "Record"
    input.action in {"read", "print"}
    input.context.break_glass
}

permit if {
    input.resource.type == "Page"
    input.action in {"read", "print"}
    input.resource.sensitivity <= 2
}

permit if {
    input.resource.type == "Page"
    input.principal.admin
}

forbid if {
    input.action == "admin"
    not input.context.mfa
}

forbid if {
    input.action == "admin"
    input.context.zone == "internet"
}

forbid if {
    input.resource.type == "Record"
    not input.context.device_managed
}

forbid if {
    input.resource.type == "Record"
    input.action == "export"
    not input.context.mfa
}

forbid if {
    input.resource.type == "Record"
    input.context.zone == "internet"
    input.resource.sensitivity >= 3
    not input.context.mfa
}

forbid if {
    input.resource.type == "Record"
    input.resource.vip
    not input.context.mfa
}

allow if {
    permit
    not forbid
}
"""


def flat(request: Request):
    resource = request.resource
    vip = resource.attrs["patient"].attrs["vip"] if resource.type == "Record" else False
    return (
        request.principal.attrs["admin"],
        request.action,
        resource.type,
        resource.attrs["sensitivity"],
        vip,
        request.context,
    )


def build_engines(requests, all_entities):
    """name -> (decide(prepared) -> bool-or-Result, prepared inputs)."""
    engines = {}

    hygie = Engine(DEFAULT_POLICY)
    assert hygie.compiled
    engines["Hygie (compiled Cedar)"] = (hygie.decide, requests)

    schema = cedarpy.Schema.from_str(engine.SCHEMA)
    policies = cedarpy.PolicySet.from_str(DEFAULT_POLICY)
    entity_json = []
    for e in all_entities:
        entity_json.append(
            {
                "uid": {"type": e.type, "id": e.id},
                "attrs": {k: engine._cedar_value(v) for k, v in e.attrs.items()},
                "parents": [{"type": t, "id": i} for t, i in e.parents],
            }
        )
    handle = cedarpy.Entities.from_json_str(json.dumps(entity_json), schema)
    cedar_inputs = [engine.to_cedarpy(r)[0] for r in requests]

    def cedar_decide(cedar_request):
        return cedarpy.is_authorized(cedar_request, policies, handle, schema=schema)

    engines["cedarpy (pre-parsed handles)"] = (cedar_decide, cedar_inputs)

    import casbin

    model = casbin.model.Model()
    model.load_model_from_text(CASBIN_MODEL)
    enforcer = casbin.Enforcer(model)
    enforcer.add_policies(CASBIN_POLICY)
    ns = types.SimpleNamespace
    casbin_inputs = []
    for r in requests:
        admin, action, rtype, sensitivity, vip, ctx = flat(r)
        casbin_inputs.append(
            (ns(admin=admin), ns(type=rtype, sensitivity=sensitivity, vip=vip), action, ns(**ctx))
        )
    # pycasbin parses matcher expressions with `ast.parse` on every call, which is not safe
    # across threads on CPython 3.11 (SystemError): a lock serialises it, as an application
    # sharing one enforcer between threads would have to.
    casbin_lock = threading.Lock()

    def casbin_decide(args):
        with casbin_lock:
            return enforcer.enforce(*args)

    engines["pycasbin (ABAC model)"] = (casbin_decide, casbin_inputs)

    from regopy import Input, Interpreter

    local = threading.local()

    def rego_interpreter():
        interpreter = getattr(local, "interpreter", None)
        if interpreter is None:
            interpreter = Interpreter()
            interpreter.add_module("hygie", REGO_POLICY)
            local.interpreter = interpreter
            local.bundle = interpreter.build("data.hygie.allow")
        return interpreter, local.bundle

    rego_inputs = []
    for r in requests:
        admin, action, rtype, sensitivity, vip, ctx = flat(r)
        rego_inputs.append(
            Input(
                {
                    "principal": {"admin": admin},
                    "action": action,
                    "resource": {"type": rtype, "sensitivity": sensitivity, "vip": vip},
                    "context": ctx,
                }
            )
        )

    def rego_decide(value):
        interpreter, bundle = rego_interpreter()
        interpreter.set_input(value)
        # A bundle query answers "undefined" (no result) where no rule matched: deny.
        results = interpreter.query_bundle(bundle).results
        return bool(results) and results[0].expressions == [True]

    engines["regopy (Rego, rego-cpp)"] = (rego_decide, rego_inputs)
    engines["plain Python function"] = (
        lambda args: plain_python(*args),
        [flat(r) for r in requests],
    )
    return engines


def allowed_of(answer) -> bool:
    return answer if isinstance(answer, bool) else answer.allowed


def single(decide, inputs):
    timings = []
    answers = []
    clock = time.perf_counter_ns
    start = clock()
    for value in inputs:
        t0 = clock()
        answer = decide(value)
        timings.append(clock() - t0)
        answers.append(answer)
    elapsed = (clock() - start) / 1e9
    timings.sort()
    return {
        "per_s": len(inputs) / elapsed,
        "p50_us": timings[len(timings) // 2] / 1000,
        "p99_us": timings[int(len(timings) * 0.99)] / 1000,
        "mean_us": statistics.fmean(timings) / 1000,
        "answers": answers,
    }


def concurrent(decide, inputs, threads):
    chunks = [inputs[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def work(chunk):
        barrier.wait()
        for value in chunk:
            decide(value)

    pool = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return len(inputs) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrent-requests", type=int, default=10000)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    requests, all_entities = generate(args.users, args.patients, args.requests)
    engines = build_engines(requests, all_entities)
    print(
        f"{len(requests)} requests, {args.users} users, {args.patients} patients, "
        f"{len(all_entities)} entities; set-up {time.perf_counter() - t0:.1f} s; "
        f"{platform.python_version()} on {platform.machine()}"
    )
    results = {}
    for name, (decide, inputs) in engines.items():
        for value in inputs[:200]:  # warm-up
            decide(value)
        results[name] = single(decide, inputs)
        print(f"  {name}: single-threaded done", file=sys.stderr, flush=True)
        sub = inputs[: args.concurrent_requests]
        results[name]["threads_per_s"] = concurrent(decide, sub, args.threads)

    # Agreement: Hygie against Cedar (decision and determining policies), peers on the decision.
    hygie = results["Hygie (compiled Cedar)"]["answers"]
    cedar = results["cedarpy (pre-parsed handles)"]["answers"]
    disagreements = 0
    for mine, theirs in zip(hygie, cedar, strict=True):
        reasons = {
            theirs.diagnostics.id_annotations_by_reason[r] for r in theirs.diagnostics.reasons
        }
        if mine.allowed != theirs.allowed or set(mine.policies) != reasons:
            disagreements += 1
    reference = [a.allowed for a in cedar]
    allowed = sum(reference)
    print(f"allowed {allowed} / denied {len(reference) - allowed} (Cedar)")
    print()
    print(
        f"| engine | decisions/s (1 thread) | p50 µs | p99 µs | decisions/s ({args.threads} threads) "
        "| disagreements with Cedar |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if name == "Hygie (compiled Cedar)":
            differ = disagreements
        else:
            differ = sum(allowed_of(a) != b for a, b in zip(r["answers"], reference, strict=True))
        r["disagreements"] = differ
        print(
            f"| {name} | {r['per_s']:,.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} "
            f"| {r['threads_per_s']:,.0f} | {differ} |"
        )
    assert disagreements == 0, f"{disagreements} disagreements between Hygie and Cedar"
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return results


if __name__ == "__main__":
    main()

"""Compile a Cedar policy set into Python closures (decision 0801).

The input is cedarpy's typed policy syntax tree (`cedarpy.policies_to_pst`). Every supported
node becomes a closure `f(env) -> value` that follows Cedar's evaluation rules exactly: `&&`,
`||` and `if` short-circuit and require booleans, arithmetic on 64-bit longs fails on overflow,
attribute access fails on a missing attribute or an unknown entity, `in` follows the entity
hierarchy transitively, `like` matches `*` wildcards over the whole string, equality never fails
and is false across types. An error makes the policy not apply and is reported.

Anything else (extension types: ip, decimal, datetime, duration; tags; templates) makes
`compile_policies` return None: the engine then asks cedarpy for every decision.
"""

from __future__ import annotations

import re

from cedarpy import pst

from hygie.access.pdp import engine as _engine

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


class Unsupported(Exception):
    """The policy set uses a construct the compiler does not implement."""


class EvalError(Exception):
    """A Cedar evaluation error: the policy does not apply."""


class _Record(dict):
    """A Cedar record value (hashable, so that it may sit in a set)."""

    __slots__ = ()

    def __hash__(self):  # type: ignore[override]
        return hash(frozenset((k, _key(v)) for k, v in self.items()))


def _key(value):
    """A value's identity for Cedar equality: types never mix (true ≠ 1)."""
    kind = type(value)
    if kind is frozenset:
        return (frozenset, frozenset(_key(v) for v in value))
    if kind is _Record:
        return (_Record, frozenset((k, _key(v)) for k, v in value.items()))
    return (kind, value)


def _eq(a, b) -> bool:
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is frozenset or kind is _Record:
        return _key(a) == _key(b)
    return a == b


def _conv(value):
    """A Python attribute or context value as a Cedar value."""
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return value
    if kind is _engine.Entity or kind is _engine.EntityRef:
        return (value.type, value.id)
    if isinstance(value, dict):
        return _Record((k, _conv(v)) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(_conv(v) for v in value)
    raise EvalError(f"valeur non représentable : {value!r}")


class Env:
    __slots__ = ("request", "principal", "resource", "p_uid", "r_uid", "a_uid", "_store", "_anc")

    def __init__(self, request):
        self.request = request
        self.principal = p = request.principal
        self.resource = r = request.resource
        self.p_uid = (p.type, p.id)
        self.r_uid = (r.type, r.id)
        self.a_uid = ("Action", request.action)
        self._store = None
        self._anc = None

    def entity(self, uid):
        if uid == self.p_uid:
            return self.principal
        if uid == self.r_uid:
            return self.resource
        store = self._store
        if store is None:
            store = self._store = _engine.known_entities(self.request)
        return store.get(uid)

    def ancestors(self, uid) -> set:
        cache = self._anc
        if cache is None:
            cache = self._anc = {}
        found = cache.get(uid)
        if found is None:
            found = set()
            entity = self.entity(uid)
            pending = list(entity.parents) if entity is not None else []
            while pending:
                parent = tuple(pending.pop())
                if parent in found:
                    continue
                found.add(parent)
                known = self.entity(parent)
                if known is not None:
                    pending.extend(known.parents)
            cache[uid] = found
        return found


def _is_uid(value) -> bool:
    return type(value) is tuple


def _in(env, left, right) -> bool:
    if not _is_uid(left):
        raise EvalError("`in` attend une entité à gauche")
    if _is_uid(right):
        return left == right or right in env.ancestors(left)
    if type(right) is frozenset:
        for item in right:
            if not _is_uid(item):
                raise EvalError("`in` attend un ensemble d'entités à droite")
        if left in right:
            return True
        ancestors = env.ancestors(left)
        return any(item in ancestors for item in right)
    raise EvalError("`in` attend une entité ou un ensemble d'entités à droite")


def _attr(env, base, name):
    kind = type(base)
    if kind is tuple:
        entity = env.entity(base)
        if entity is None:
            raise EvalError(f"entité inconnue : {base[0]}::{base[1]!r}")
        attrs = entity.attrs
        if name not in attrs:
            raise EvalError(f"{base[0]}::{base[1]!r} n'a pas d'attribut `{name}`")
        return _conv(attrs[name])
    if kind is _Record:
        if name not in base:
            raise EvalError(f"l'enregistrement n'a pas d'attribut `{name}`")
        return base[name]
    raise EvalError(
        f"accès à l'attribut `{name}` d'une valeur qui n'est ni entité ni enregistrement"
    )


def _has(env, base, name) -> bool:
    kind = type(base)
    if kind is tuple:
        entity = env.entity(base)
        return entity is not None and name in entity.attrs
    if kind is _Record:
        return name in base
    raise EvalError(f"`has {name}` sur une valeur qui n'est ni entité ni enregistrement")


def _bool(value, what: str) -> bool:
    if type(value) is not bool:
        raise EvalError(f"{what} attend un booléen")
    return value


def _long(value, what: str) -> int:
    if type(value) is not int:
        raise EvalError(f"{what} attend un entier")
    return value


def _checked(value: int, what: str) -> int:
    if value < LONG_MIN or value > LONG_MAX:
        raise EvalError(f"dépassement de capacité : {what}")
    return value


def _set(value, what: str) -> frozenset:
    if type(value) is not frozenset:
        raise EvalError(f"{what} attend un ensemble")
    return value


def _contains(container: frozenset, value) -> bool:
    kind = type(value)
    if kind is str or kind is tuple:
        return value in container
    return any(_eq(item, value) for item in container)


def _uid(node: pst.EntityUid) -> tuple[str, str]:
    if node.type.namespace:
        raise Unsupported("espace de noms")
    return (node.type.basename, node.id)


def _type(node: pst.EntityType) -> str:
    if node.namespace:
        raise Unsupported("espace de noms")
    return node.basename


# Expressions -----------------------------------------------------------------------------------
def compile_expr(node):  # noqa: C901 - one arm per node type, like Cedar's evaluator
    kind = type(node)
    if kind is pst.BoolLit or kind is pst.LongLit or kind is pst.StringLit:
        value = node.value
        if kind is pst.LongLit:
            _checked(value, "littéral")
        return lambda env: value
    if kind is pst.EntityLit:
        uid = _uid(node.value)
        return lambda env: uid
    if kind is pst.Var:
        name = node.name
        if name == "principal":
            return lambda env: env.p_uid
        if name == "resource":
            return lambda env: env.r_uid
        if name == "action":
            return lambda env: env.a_uid
        return lambda env: _conv(env.request.context)
    if kind is pst.GetAttr:
        name = node.attr
        base = node.base
        if type(base) is pst.Var and base.name == "context":

            def context_attr(env):
                context = env.request.context
                if name not in context:
                    raise EvalError(f"le contexte n'a pas d'attribut `{name}`")
                return _conv(context[name])

            return context_attr
        if type(base) is pst.Var and base.name in ("principal", "resource"):
            slot = base.name

            def own_attr(env):
                entity = env.principal if slot == "principal" else env.resource
                attrs = entity.attrs
                if name not in attrs:
                    raise EvalError(f"{entity.type}::{entity.id!r} n'a pas d'attribut `{name}`")
                return _conv(attrs[name])

            return own_attr
        f = compile_expr(base)
        return lambda env: _attr(env, f(env), name)
    if kind is pst.HasAttr:
        f = compile_expr(node.base)
        names = node.attrs

        def has(env):
            value = f(env)
            for i, name in enumerate(names):
                if not _has(env, value, name):
                    return False
                if i + 1 < len(names):
                    value = _attr(env, value, name)
            return True

        return has
    if kind is pst.Like:
        f = compile_expr(node.base)
        regex = "".join(
            ".*" if type(p) is pst.Wildcard else re.escape(p.value) for p in node.pattern
        )
        matcher = re.compile(regex, re.DOTALL).fullmatch

        def like(env):
            value = f(env)
            if type(value) is not str:
                raise EvalError("`like` attend une chaîne")
            return matcher(value) is not None

        return like
    if kind is pst.Is:
        f = compile_expr(node.base)
        type_name = _type(node.entity_type)
        g = compile_expr(node.in_expr) if node.in_expr is not None else None

        def is_(env):
            value = f(env)
            if not _is_uid(value):
                raise EvalError("`is` attend une entité")
            if value[0] != type_name:
                return False
            if g is None:
                return True
            return _in(env, value, g(env))

        return is_
    if kind is pst.IfThenElse:
        c, t, e = (
            compile_expr(node.cond),
            compile_expr(node.then_expr),
            compile_expr(node.else_expr),
        )
        return lambda env: t(env) if _bool(c(env), "`if`") else e(env)
    if kind is pst.Set:
        elements = [compile_expr(e) for e in node.elements]
        return lambda env: frozenset(f(env) for f in elements)
    if kind is pst.Record:
        fields = [(k, compile_expr(v)) for k, v in node.fields.items()]
        return lambda env: _Record((k, f(env)) for k, f in fields)
    if kind is pst.UnaryOp:
        return _unary(node)
    if kind is pst.BinaryOp:
        return _binary(node)
    raise Unsupported(kind.__name__)


def _unary(node):
    f = compile_expr(node.arg)
    op = node.op
    if op == "not":
        return lambda env: not _bool(f(env), "`!`")
    if op == "neg":
        return lambda env: _checked(-_long(f(env), "`-`"), "négation")
    if op == "is_empty":
        return lambda env: not _set(f(env), "`isEmpty`")
    raise Unsupported(op)


def _binary(node):  # noqa: C901
    op = node.op
    f, g = compile_expr(node.left), compile_expr(node.right)
    if op == "and":
        return lambda env: _bool(f(env), "`&&`") and _bool(g(env), "`&&`")
    if op == "or":
        return lambda env: _bool(f(env), "`||`") or _bool(g(env), "`||`")
    if op == "eq":
        return lambda env: _eq(f(env), g(env))
    if op == "not_eq":
        return lambda env: not _eq(f(env), g(env))
    if op in ("less", "less_eq", "greater", "greater_eq"):
        compare = {
            "less": int.__lt__,
            "less_eq": int.__le__,
            "greater": int.__gt__,
            "greater_eq": int.__ge__,
        }[op]
        return lambda env: compare(_long(f(env), "comparaison"), _long(g(env), "comparaison"))
    if op in ("add", "sub", "mul"):
        arith = {"add": int.__add__, "sub": int.__sub__, "mul": int.__mul__}[op]
        return lambda env: _checked(
            arith(_long(f(env), "arithmétique"), _long(g(env), "arithmétique")), op
        )
    if op == "in":
        return lambda env: _in(env, f(env), g(env))
    if op == "contains":
        return lambda env: _contains(_set(f(env), "`contains`"), g(env))
    if op == "contains_all":

        def contains_all(env):
            container = _set(f(env), "`containsAll`")
            return all(_contains(container, v) for v in _set(g(env), "`containsAll`"))

        return contains_all
    if op == "contains_any":

        def contains_any(env):
            container = _set(f(env), "`containsAny`")
            return any(_contains(container, v) for v in _set(g(env), "`containsAny`"))

        return contains_any
    raise Unsupported(op)


# Scopes and policies -------------------------------------------------------------------------
def _scope(constraint, slot: str):
    """A test `f(env) -> bool` of a principal/resource scope constraint (never fails)."""
    kind = type(constraint)
    if kind is pst.ScopeAny:
        return None
    uid_attr = "p_uid" if slot == "principal" else "r_uid"
    if kind is pst.ScopeIs:
        type_name = _type(constraint.entity_type)
        return lambda env: getattr(env, uid_attr)[0] == type_name
    if type(getattr(constraint, "entity", None)) is not pst.EntityUid:
        raise Unsupported("slot")
    target = _uid(constraint.entity)
    if kind is pst.ScopeEq:
        return lambda env: getattr(env, uid_attr) == target
    if kind is pst.ScopeIn:
        return lambda env: _in(env, getattr(env, uid_attr), target)
    if kind is pst.ScopeIsIn:
        type_name = _type(constraint.entity_type)
        return lambda env: (
            getattr(env, uid_attr)[0] == type_name and _in(env, getattr(env, uid_attr), target)
        )
    raise Unsupported(kind.__name__)


def _action_scope(constraint):
    kind = type(constraint)
    if kind is pst.ScopeAny:
        return None
    if kind is pst.ActionEq:
        target = _uid(constraint.entity)
        return lambda env: env.a_uid == target
    if kind is pst.ActionIn:
        # Hygie's schema has no action groups: `in` is membership of the list.
        targets = frozenset(_uid(e) for e in constraint.entities)
        return lambda env: env.a_uid in targets
    raise Unsupported(kind.__name__)


def _static_scope(template: pst.Template):
    """(actions, resource type) a policy can apply to; None = any."""
    actions = None
    if type(template.action) is pst.ActionEq:
        actions = frozenset([_uid(template.action.entity)[1]])
    elif type(template.action) is pst.ActionIn:
        actions = frozenset(_uid(e)[1] for e in template.action.entities)
    resource_type = None
    if type(template.resource) in (pst.ScopeIs, pst.ScopeIsIn):
        resource_type = _type(template.resource.entity_type)
    elif type(template.resource) is pst.ScopeEq and type(template.resource.entity) is pst.EntityUid:
        resource_type = _type(template.resource.entity.type)
    return actions, resource_type


def _policy(template: pst.Template):
    tests = [
        t
        for t in (
            _scope(template.principal, "principal"),
            _action_scope(template.action),
            _scope(template.resource, "resource"),
        )
        if t is not None
    ]
    clauses = []
    for clause in template.clauses:
        f = compile_expr(clause.expr)
        clauses.append((f, type(clause) is pst.When))

    def applies(env) -> bool:
        for test in tests:
            if not test(env):
                return False
        for f, when in clauses:
            if _bool(f(env), "condition") is not when:
                return False
        return True

    return applies


def compile_policies(text: str, ids: list[str]):
    """A function `decide(request) -> Result`, or None when the set is not compilable.

    Policies are indexed by the (action, resource type) their scope allows: a request only
    evaluates the policies that can apply to it. The others cannot be satisfied, and their
    scope tests never fail, so skipping them changes neither the decision nor the errors.
    """
    tree = _engine_pst(text)
    if tree is None or tree.templates or tree.template_links:
        return None
    compiled = []
    try:
        for n in range(len(ids)):
            template = tree.static_policies[f"policy{n}"]
            actions, resource_type = _static_scope(template)
            compiled.append(
                (ids[n], template.effect == "forbid", actions, resource_type, _policy(template))
            )
    except (Unsupported, KeyError):
        return None
    index: dict[tuple[str, str], tuple[tuple, tuple]] = {}

    def policies_for(action: str, resource_type: str):
        key = (action, resource_type)
        found = index.get(key)
        if found is None:
            chosen = [
                c
                for c in compiled
                if (c[2] is None or action in c[2]) and (c[3] is None or c[3] == resource_type)
            ]
            found = (
                tuple((c[0], c[4]) for c in chosen if c[1]),
                tuple((c[0], c[4]) for c in chosen if not c[1]),
            )
            index[key] = found  # a dict assignment: safe across threads
        return found

    Result = _engine.Result

    def decide(request):
        forbids, permits = policies_for(request.action, request.resource.type)
        env = Env(request)
        errors = None
        denied = None
        for label, applies in forbids:
            try:
                if applies(env):
                    if denied is None:
                        denied = [label]
                    else:
                        denied.append(label)
            except EvalError as error:
                errors = (errors or []) + [f"{label}: {error}"]
        allowed = None
        for label, applies in permits:
            try:
                if applies(env):
                    if allowed is None:
                        allowed = [label]
                    else:
                        allowed.append(label)
            except EvalError as error:
                errors = (errors or []) + [f"{label}: {error}"]
        if errors:
            errors = tuple(errors)
            if denied:
                return Result(allowed=False, policies=tuple(denied), errors=errors)
            if allowed:
                return Result(allowed=True, policies=tuple(allowed), errors=errors)
            return Result(allowed=False, policies=(), errors=errors)
        # Without errors, the Result only depends on the determining policies: share it.
        key = (True, *denied) if denied else (False, *allowed) if allowed else ()
        result = answers.get(key)
        if result is None:
            if denied:
                result = Result(allowed=False, policies=tuple(denied))
            elif allowed:
                result = Result(allowed=True, policies=tuple(allowed))
            else:
                result = Result(allowed=False)
            answers[key] = result
        return result

    answers: dict[tuple, object] = {}
    return decide


def _engine_pst(text: str):
    import cedarpy

    try:
        return cedarpy.policies_to_pst(text)
    except ValueError:  # syntax newer than the modelled nodes
        return None

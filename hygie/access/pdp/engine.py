"""The decision engine: Cedar policies validated against Hygie's schema, compiled, decided.

`validate(text)` parses a policy text with cedarpy and validates it against `SCHEMA` (strict
mode); every problem carries a line and a column. `Engine(text)` validates, then compiles the
policy set into Python closures (hygie/access/pdp/compile.py) that implement Cedar's semantics
for the subset Hygie's policies use; a policy set using anything outside it is decided by
cedarpy itself (correct, slower). Either way the answer is Cedar's: forbid overrides permit,
default deny, a policy whose evaluation errors does not apply (the error is reported).

`to_cedarpy(request)` gives the same request to cedarpy: the tests and the benchmark check that
both agree (decision 0801).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SCHEMA = (Path(__file__).with_name("schema.cedarschema")).read_text(encoding="utf-8")

ACTIONS = ("read", "write", "print", "export", "admin")
ZONES = ("care", "admin", "office", "vpn", "internet")
# The request context the schema declares (name → Python type of the value).
CONTEXT_TYPES = {
    "mfa": bool,
    "zone": str,
    "hour": int,
    "weekday": int,
    "device_managed": bool,
    "device_compliant": bool,
    "break_glass": bool,
    "care_relationship": bool,
}
_CONTEXT_KEYS = frozenset(CONTEXT_TYPES)
_CONTEXT_ITEMS = tuple(CONTEXT_TYPES.items())
PRINCIPAL_TYPES = ("User",)
RESOURCE_TYPES = ("Record", "Page")


@dataclass(frozen=True)
class Entity:
    type: str  # "User", "Patient", "Record", "Unit", "Page"
    id: str
    # Attribute values: bool, int, str, a list/tuple/set (a Cedar set), a dict (a record), an
    # `Entity` (a reference; the entity is then known to the decision too) or an `EntityRef`.
    attrs: dict = field(default_factory=dict)
    parents: tuple[tuple[str, str], ...] = ()  # (type, id) of the entities it is `in`


@dataclass(frozen=True)
class EntityRef:
    """A reference to an entity by type and id, as an attribute or context value."""

    type: str
    id: str


@dataclass(frozen=True)
class Request:
    principal: Entity
    action: str  # e.g. "read" → Action::"read"
    resource: Entity
    context: dict = field(default_factory=dict)
    # Other entities the policies may reach through attributes or `in` (units, patients…).
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class Result:
    allowed: bool
    policies: tuple[str, ...] = ()  # ids (@id annotation or policyN) of the deciding policies
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyProblem:
    line: int | None
    column: int | None
    message: str


class PolicyError(ValueError):
    def __init__(self, problems: list[PolicyProblem]):
        self.problems = problems
        super().__init__("; ".join(_problem_text(p) for p in problems))


def _problem_text(problem: PolicyProblem) -> str:
    if problem.line is None:
        return problem.message
    return f"ligne {problem.line}, colonne {problem.column} : {problem.message}"


# Hygie's starter policy for a hospital (decision 0803). Every policy has an @id: the decision
# log and the "what if" tool name the policies that decided by it.
DEFAULT_POLICY = """\
// Politique de départ de Hygie pour un établissement de santé.
// Rien n'est permis par défaut ; une interdiction (forbid) l'emporte toujours sur une
// permission (permit).

// Les soignants accèdent au dossier des patients qu'ils prennent en charge : le patient est
// dans une de leurs unités, ils ont un rendez-vous ou une prescription avec lui aujourd'hui, ou
// ils font partie de l'équipe de soins de son unité (relation de soins calculée par Hygie).
@id("relation-de-soins")
permit (
  principal,
  action in [Action::"read", Action::"write", Action::"print"],
  resource is Record
)
when { context.care_relationship };

// Bris de glace : en urgence, hors relation de soins, la consultation est permise avec un
// motif obligatoire ; une alerte est levée et l'accès est revu a posteriori.
@id("bris-de-glace")
permit (
  principal,
  action in [Action::"read", Action::"print"],
  resource is Record
)
when { context.break_glass };

// Les pages ordinaires (hors données de patients) sont lisibles par tout le personnel.
@id("pages-courantes")
permit (
  principal,
  action in [Action::"read", Action::"print"],
  resource is Page
)
when { resource.sensitivity <= 2 };

// Les administrateurs de l'application administrent et exportent les pages.
@id("administrateurs")
permit (
  principal,
  action in [Action::"read", Action::"write", Action::"print", Action::"export", Action::"admin"],
  resource is Page
)
when { principal.admin };

// L'administration exige une authentification forte...
@id("admin-sans-mfa")
forbid (principal, action == Action::"admin", resource)
unless { context.mfa };

// ... et jamais depuis Internet.
@id("admin-depuis-internet")
forbid (principal, action == Action::"admin", resource)
when { context.zone == "internet" };

// Pas de données de patients sur un poste non géré par l'établissement.
@id("poste-non-gere")
forbid (principal, action, resource is Record)
unless { context.device_managed };

// Les exports de données de patients exigent une authentification forte.
@id("export-sans-mfa")
forbid (principal, action == Action::"export", resource is Record)
unless { context.mfa };

// Depuis Internet, les données sensibles exigent une authentification forte.
@id("sensible-depuis-internet")
forbid (principal, action, resource is Record)
when { context.zone == "internet" && resource.sensitivity >= 3 && !context.mfa };

// Le dossier d'une personnalité (VIP) exige une authentification forte.
@id("vip-sans-mfa")
forbid (principal, action, resource is Record)
when { resource.patient.vip && !context.mfa };
"""


# Validation ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _schema_handle():
    import cedarpy

    return cedarpy.Schema.from_str(SCHEMA)


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each policy statement: `policyN` is the Nth span.

    A small scanner that knows strings and `//` comments splits on the top-level `;`.
    """
    spans = []
    start = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c.isspace():
            i += 1
            continue
        if start is None:
            start = i
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if c == ";":
            spans.append((start, i + 1))
            start = None
        i += 1
    if start is not None:
        spans.append((start, n))
    return spans


def _line_col(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


_TOKEN_END = re.compile(r'"(?:[^"\\]|\\.)*"?|[A-Za-z_][A-Za-z0-9_]*|\d+|::|==|!=|<=|>=|&&|\|\||\S')


def _parse_error_offset(text: str, start: int, end: int, message: str) -> int:
    """Where a parse error lies inside one statement: the end of the shortest prefix that
    already fails for another reason than "unexpected end of input", or its named token."""
    import cedarpy

    chunk = text[start:end]
    ends = [m.end() for m in _TOKEN_END.finditer(chunk)]
    for k, stop in enumerate(ends):
        try:
            cedarpy.PolicySet.from_str(chunk[:stop])
        except ValueError as error:
            if "end of input" in str(error):
                continue
            token_start = ends[k - 1] if k else 0
            named = re.search(r"`([^`]+)`", str(error))
            if named:
                found = chunk.rfind(named.group(1), 0, stop)
                if found >= 0:
                    return start + found
            token = chunk[token_start:stop]
            return start + token_start + len(token) - len(token.lstrip())
        # A prefix that parses: the statement is complete so far.
    # Only "end of input" errors: the statement is unfinished.
    return end


def _ids(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Hygie's id of each policy, in source order: its @id annotation, else Cedar's policyN."""
    import cedarpy

    tree = cedarpy.policies_to_pst(text)
    templates = {**tree.templates, **tree.static_policies}
    ids = []
    for n in range(len(spans)):
        template = templates.get(f"policy{n}")
        annotation = template.annotations.get("id") if template is not None else None
        ids.append(annotation if annotation else f"policy{n}")
    return ids


def validate(policy_text: str) -> list[PolicyProblem]:
    """Problems of a policy text against Hygie's schema (empty when valid).

    Each problem has the line and column (1-based) of its place in the text: the offending
    token for a syntax error, the offending name (attribute, entity type, action) or else the
    start of the policy for a schema error.
    """
    import cedarpy

    text = policy_text or ""
    spans = _spans(text)
    if not spans:
        return [PolicyProblem(None, None, "La politique est vide : aucune règle permit ou forbid.")]
    # Syntax first, statement by statement, so that the position is exact.
    try:
        cedarpy.PolicySet.from_str(text)
    except ValueError as error:
        problems = []
        for start, end in spans:
            try:
                cedarpy.PolicySet.from_str(text[start:end])
            except ValueError as chunk_error:
                offset = _parse_error_offset(text, start, end, str(chunk_error))
                line, col = _line_col(text, offset)
                problems.append(PolicyProblem(line, col, f"Erreur de syntaxe : {chunk_error}"))
        if not problems:  # pragma: no cover - whole text fails, no statement alone does
            problems.append(PolicyProblem(None, None, f"Erreur de syntaxe : {error}"))
        return problems

    problems = []
    ids = _ids(text, spans)
    seen: dict[str, int] = {}
    for n, (start, _end) in enumerate(spans):
        policy_id = ids[n]
        if policy_id.startswith("policy") and policy_id == f"policy{n}":
            continue
        if policy_id in seen:
            line, col = _line_col(text, start)
            problems.append(
                PolicyProblem(
                    line,
                    col,
                    f"L'identifiant @id(\"{policy_id}\") est déjà celui d'une autre règle "
                    f"(ligne {_line_col(text, spans[seen[policy_id]][0])[0]}).",
                )
            )
        else:
            seen[policy_id] = n
    result = cedarpy.validate_policies(text, _schema_handle())
    for error in result.errors:
        offset = None
        index = None
        if error.policy_id.startswith("policy") and error.policy_id[6:].isdecimal():
            index = int(error.policy_id[6:])
        message = error.error
        if index is not None and index < len(spans):
            start, end = spans[index]
            offset = start
            message = message.replace(f"for policy `{error.policy_id}`, ", "")
            for name in re.findall(r"`([^`]+)`", message):
                name = name.split("::")[-1].strip('"')
                found = re.search(
                    r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", text[start:end]
                )
                if found:
                    offset = start + found.start()
                    break
            label = ids[index]
            message = f"Règle « {label} » : {message}"
        if offset is None:
            problems.append(PolicyProblem(None, None, message))
        else:
            line, col = _line_col(text, offset)
            problems.append(PolicyProblem(line, col, message))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


# Deciding ------------------------------------------------------------------------------------
def _cedar_value(value):
    """A Python attribute/context value in Cedar's JSON entity format."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Entity | EntityRef):
        return {"__entity": {"type": value.type, "id": value.id}}
    if isinstance(value, dict):
        return {k: _cedar_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_cedar_value(v) for v in value]
    raise TypeError(f"valeur non représentable en Cedar : {value!r}")


def known_entities(request: Request) -> dict[tuple[str, str], Entity]:
    """Every entity of a request: principal, resource, `entities` and entities given as
    attribute values (the first one given wins)."""
    store: dict[tuple[str, str], Entity] = {}
    pending = [request.principal, request.resource, *request.entities]
    while pending:
        entity = pending.pop(0)
        key = (entity.type, entity.id)
        if key in store:
            continue
        store[key] = entity
        for value in entity.attrs.values():
            if isinstance(value, Entity):
                pending.append(value)
            elif isinstance(value, list | tuple | set | frozenset):
                pending.extend(v for v in value if isinstance(v, Entity))
    return store


def to_cedarpy(request: Request) -> tuple[dict, list[dict]]:
    """The same request for cedarpy: (request dict, entities list)."""
    entities = [
        {
            "uid": {"type": e.type, "id": e.id},
            "attrs": {k: _cedar_value(v) for k, v in e.attrs.items()},
            "parents": [{"type": t, "id": i} for t, i in e.parents],
        }
        for e in known_entities(request).values()
    ]
    cedar_request = {
        "principal": {"type": request.principal.type, "id": request.principal.id},
        "action": {"type": "Action", "id": request.action},
        "resource": {"type": request.resource.type, "id": request.resource.id},
        "context": {k: _cedar_value(v) for k, v in request.context.items()},
    }
    return cedar_request, entities


def request_problem(request: Request) -> str | None:
    """Why the request does not conform to the schema (Cedar refuses such a request), or None."""
    if request.action not in ACTIONS:
        return f"action inconnue : {request.action!r}"
    if request.principal.type not in PRINCIPAL_TYPES:
        return f"type de principal non permis : {request.principal.type}"
    if request.resource.type not in RESOURCE_TYPES:
        return f"type de ressource non permis : {request.resource.type}"
    context = request.context
    if context.keys() != _CONTEXT_KEYS:
        extra = sorted(set(context) - _CONTEXT_KEYS)
        missing = sorted(_CONTEXT_KEYS - set(context))
        return f"contexte non conforme (manquants : {missing}, en trop : {extra})"
    for name, kind in _CONTEXT_ITEMS:
        if type(context[name]) is not kind:
            return f"contexte : {name} doit être de type {kind.__name__}"
    return None


class Engine:
    """The compiled policies of one version; `decide` is thread-safe.

    `compiled` is False when the policy set uses a construct the compiler does not support:
    cedarpy then decides every request (decision 0801).
    """

    def __init__(self, policy_text: str, *, compile: bool = True):
        problems = validate(policy_text)
        if problems:
            raise PolicyError(problems)
        self.policy_text = policy_text
        from hygie.access.pdp import compile as compiler

        spans = _spans(policy_text)
        self.ids = _ids(policy_text, spans)
        self._program = compiler.compile_policies(policy_text, self.ids) if compile else None
        self._cedar = None
        if self._program is None:
            import cedarpy

            self._cedar = cedarpy.PolicySet.from_str(policy_text)

    @property
    def compiled(self) -> bool:
        return self._program is not None

    def decide(self, request: Request) -> Result:
        problem = request_problem(request)
        if problem is not None:
            return Result(allowed=False, errors=(f"requête : {problem}",))
        if self._program is not None:
            return self._program(request)
        return self.decide_with_cedarpy(request)

    def decide_with_cedarpy(self, request: Request) -> Result:
        """The decision of Cedar itself (cedarpy), with the same Result shape."""
        import cedarpy

        cedar_request, entities = to_cedarpy(request)
        policies = self._cedar or cedarpy.PolicySet.from_str(self.policy_text)
        answer = cedarpy.is_authorized(cedar_request, policies, entities, schema=_schema_handle())
        return result_from_cedarpy(answer, self.ids)


def result_from_cedarpy(answer, ids: list[str]) -> Result:
    """A Result from cedarpy's AuthzResult (`ids` = Hygie's id of each policyN)."""

    def label(cedar_id: str) -> str:
        if (
            cedar_id.startswith("policy")
            and cedar_id[6:].isdecimal()
            and int(cedar_id[6:]) < len(ids)
        ):
            return ids[int(cedar_id[6:])]
        return cedar_id

    def order(cedar_id: str) -> int:
        return int(cedar_id[6:]) if cedar_id[6:].isdecimal() else 1 << 30

    reasons = sorted(answer.diagnostics.reasons, key=order)
    return Result(
        allowed=answer.allowed,
        policies=tuple(label(r) for r in reasons),
        errors=tuple(answer.diagnostics.errors),
    )

"""The decision engine: Cedar policies validated against Hygie's schema, compiled, decided.

STAND-IN written by the lead: the pdp-core helper replaces this module (same names).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entity:
    type: str  # "User", "Patient", "Record", "Unit", "Device"…
    id: str
    attrs: dict = field(default_factory=dict)
    parents: tuple[tuple[str, str], ...] = ()  # (type, id) of the entities it is `in`


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
        super().__init__("; ".join(p.message for p in problems))


def validate(policy_text: str) -> list[PolicyProblem]:
    """Problems of a policy text against Hygie's schema (empty when valid)."""
    return []


class Engine:
    """The compiled policies of one version; `decide` is thread-safe."""

    def __init__(self, policy_text: str):
        problems = validate(policy_text)
        if problems:
            raise PolicyError(problems)
        self.policy_text = policy_text

    def decide(self, request: Request) -> Result:
        return Result(allowed=False)

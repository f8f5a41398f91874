"""Domain errors shared by the model, the CLI and (later) the service.

Every error names where the problem is (file, field, asset) and why, so a user can fix the input
without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ParkVppError(Exception):
    """Base class of every domain error."""


@dataclass
class InputProblem:
    """One thing wrong with an input.

    Parameters
    ----------
    field : str
        Dotted path of the field (``assets.ev-depot.sessions[3].energy_kwh``).
    reason : str
        Why it is wrong, in words a park energy manager understands.
    asset_id : str or None
        The asset concerned, if any.
    """

    field: str
    reason: str
    asset_id: str | None = None

    def __str__(self) -> str:
        where = f"asset {self.asset_id!r}, " if self.asset_id else ""
        return f"{where}field {self.field}: {self.reason}"


@dataclass
class ParkInputError(ParkVppError):
    """The park file (or its data) describes something that cannot be scheduled."""

    problems: list[InputProblem]
    source: str = "<park>"
    extra: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s) in the park input"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class InfeasibleError(ParkVppError):
    """The solver proved there is no schedule; names the conflicting constraint families.

    Parameters
    ----------
    park_id : str
        The park.
    conflicts : list of (asset_id, family, equation)
        A minimal set of constraint families that cannot hold together (asset ``None`` for
        park-level families such as the power balance).
    """

    park_id: str
    conflicts: list[tuple[str | None, str, str]]
    detail: str = ""

    def __str__(self) -> str:
        if not self.conflicts:
            return f"park {self.park_id!r}: the model is infeasible ({self.detail or 'no detail'})"
        parts = [
            f"{'park' if a is None else 'asset ' + repr(a)}: {fam} (eq. {eq})"
            for a, fam, eq in self.conflicts
        ]
        return (
            f"park {self.park_id!r}: no feasible schedule; these constraint families conflict: "
            + "; ".join(parts)
            + (f". {self.detail}" if self.detail else "")
        )


@dataclass
class SolverError(ParkVppError):
    """The solver stopped without a usable solution (unbounded, error, time limit with none)."""

    park_id: str
    termination: str
    detail: str = ""

    def __str__(self) -> str:
        return f"park {self.park_id!r}: solver stopped with {self.termination}: {self.detail}"


@dataclass
class VerificationError(ParkVppError):
    """The solver's answer violates the physics it was given (a bug or numerical trouble)."""

    park_id: str
    violations: list[str]

    def __str__(self) -> str:
        head = f"park {self.park_id!r}: the solution fails {len(self.violations)} check(s)"
        return "\n".join([head, *[f"  - {v}" for v in self.violations[:20]]])

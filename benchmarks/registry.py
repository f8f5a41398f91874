"""The benchmark case registry.

A case is a named, seeded problem and a function that runs it once and returns a
:class:`Sample`. Modules that define cases call :func:`register` at import; the list of those
modules is explicit (:data:`CASE_MODULES`), so nothing is discovered by name or attribute.
Later issues (the VPP, sizing) add their module to that list.
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Modules whose import registers cases, in report order.
CASE_MODULES: tuple[str, ...] = (
    "benchmarks.park_cases",
    "benchmarks.forecast_cases",
    "benchmarks.vpp_cases",
    "benchmarks.sizing_cases",
)

TIME_METRICS = ("build_s", "handoff_s", "solve_s", "extract_s", "total_s", "wall_s")


@dataclass
class Sample:
    """One run of one case.

    Parameters
    ----------
    times_s : dict
        Stage times [s]: ``build_s``, ``handoff_s``, ``solve_s``, ``extract_s``, ``total_s``
        (their sum) and ``wall_s`` (the whole case, verification included).
    objective, bound, gap : float or None
        Objective [yuan], best bound [yuan] and relative gap [-].
    status, termination, method : str
        As in :class:`models.solve.SolveResult`; a case over several solves reports the worst.
    size : dict
        ``variables``, ``binaries``, ``constraints``, ``nonzeros`` (summed over solves).
    """

    times_s: dict[str, float]
    objective: float | None
    bound: float | None
    gap: float | None
    status: str
    termination: str
    method: str
    size: dict[str, int]

    @classmethod
    def of_solve(
        cls, r: Any, wall_s: float, objective: float | None = None, status: str | None = None
    ) -> Sample:
        """A sample from one :class:`models.solve.SolveResult` (its stage times and size)."""
        return cls(
            {
                "build_s": r.build_s,
                "handoff_s": r.handoff_s,
                "solve_s": r.solve_s,
                "extract_s": r.extract_s,
                "total_s": r.total_s,
                "wall_s": wall_s,
            },
            r.objective if objective is None else objective,
            r.bound,
            r.gap,
            r.status.value if status is None else status,
            r.termination.value,
            r.method,
            {
                "variables": r.size.variables,
                "binaries": r.size.binaries,
                "constraints": r.size.constraints,
                "nonzeros": r.size.nonzeros,
            },
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.times_s,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "termination": self.termination,
            "method": self.method,
            **self.size,
        }


@dataclass(frozen=True)
class Case:
    """A registered benchmark problem.

    Parameters
    ----------
    name : str
        Unique id (``large-park``, ``large-park-lp``, ``horizon-672``, ...).
    group : str
        ``calibration``, ``park``, ``examples``, ``horizon``, ``parks`` (later: ``vpp``, ...).
    description : str
        What the problem is, for the report.
    run : callable
        ``run(repeat)`` solves the case once; ``repeat`` (0, 1, ...) is the HiGHS random seed,
        since MILP time is seed-noisy.
    repeats : int
        Runs per measurement (the report gives medians).
    fast : bool
        In the CI subset of the gate.
    counted : bool
        In the instruction-count gate (``benchmarks/counts.py``) when also fast: false for a
        case whose count is not repeatable across checkouts (named in its registration).
    accepted_statuses : tuple of str
        Statuses the gate accepts (default only ``ok``). A case whose work stops at a time
        limit by design (bid answers) accepts ``warning``; the report still shows it.
    objective_rtol : float
        Relative tolerance of the objective against the baseline [-]: the MIP gap for MILPs.
    gate : tuple of str
        Time metrics the check compares against the baseline.
    params : mapping
        Numbers the plots use (``steps``, ``parks``).
    lp_of : str, optional
        The MILP case this case is the LP relaxation of.
    counted : bool
        In the instruction-count gate (``benchmarks/counts.py``) when also fast; false for a
        case whose count does not repeat across checkouts (the reason is at its registration).
    """

    name: str
    group: str
    description: str
    run: Callable[[int], Sample] = field(compare=False)
    repeats: int = 3
    fast: bool = False
    objective_rtol: float = 1e-6
    gate: tuple[str, ...] = ("total_s",)
    params: Mapping[str, float] = field(default_factory=dict)
    lp_of: str | None = None
    accepted_statuses: tuple[str, ...] = ("ok",)
    counted: bool = True


REGISTRY: dict[str, Case] = {}


def register(case: Case) -> Case:
    """Add a case; a second case of the same name is an error, not a silent replacement."""
    if case.name in REGISTRY:
        raise ValueError(f"benchmark case {case.name!r} is registered twice")
    unknown = set(case.gate) - set(TIME_METRICS)
    if unknown:
        raise ValueError(f"benchmark case {case.name!r}: unknown gate metrics {sorted(unknown)}")
    REGISTRY[case.name] = case
    return case


def all_cases() -> dict[str, Case]:
    """Every registered case, after importing :data:`CASE_MODULES`."""
    for module in CASE_MODULES:
        importlib.import_module(module)
    return REGISTRY


def select(patterns: list[str] | None = None, fast: bool = False) -> list[Case]:
    """Cases named by ``patterns`` (all when empty), optionally only fast ones. A pattern that is
    a case's exact name selects that case; otherwise it selects every case containing it.

    Raises
    ------
    KeyError
        A pattern matches no case (names the known cases).
    """
    cases = list(all_cases().values())
    if fast:
        cases = [c for c in cases if c.fast]
    if patterns:
        names = {c.name for c in cases}

        def hit(p: str, name: str) -> bool:
            return p == name if p in names else p in name

        chosen = [c for c in cases if any(hit(p, c.name) for p in patterns)]
        missing = [p for p in patterns if not any(p in c.name for c in cases)]
        if missing:
            known = ", ".join(c.name for c in cases)
            raise KeyError(f"no benchmark case matches {missing}; known: {known}")
        cases = chosen
    return [c for c in cases if c.group != "calibration"]


def combine(samples: list[Sample]) -> Sample:
    """One sample of a case made of several solves (a VPP of parks): times and sizes summed,
    the worst status kept, the gap recomputed from summed objective and bound."""
    order = {"ok": 0, "warning": 1, "failed": 2}
    worst = max(samples, key=lambda s: order.get(s.status, 2))
    objs = [s.objective for s in samples]
    bounds = [s.bound for s in samples]
    objective = None if any(o is None for o in objs) else sum(o for o in objs if o is not None)
    bound = None if any(b is None for b in bounds) else sum(b for b in bounds if b is not None)
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(abs(objective), 1e-9)
    times = {k: sum(s.times_s.get(k, 0.0) for s in samples) for k in TIME_METRICS}
    size = {k: sum(s.size.get(k, 0) for s in samples) for k in samples[0].size}
    return Sample(times, objective, bound, gap, worst.status, worst.termination, worst.method, size)


def median_or_none(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None

"""DR event allocation by decomposition: parks price their responses in parallel, a small
master allocates, parks re-dispatch in parallel (docs/model.md, V4–V6).

This is Dantzig–Wolfe column generation over the parks, the textbook decomposition of a problem
whose only coupling is the event's request row (V3):

1. **Cost-of-response curves** (parallel, one task per park): each park builds its model once
   (models/response.py), solves its baseline, then its cheapest schedule when each kWh delivered
   in the window earns a price, at a ladder of prices up to the value of delivery
   ``ρ = penalty + energy price`` [yuan/kWh]. Each answer is a column: the park's re-dispatch
   cost and its delivery per step.
2. **Master** (V4, an LP of a few hundred columns): choose a convex combination of each park's
   columns and the shortfall, at least cost, meeting the request. Its duals ``π_t`` are what one
   more kW in step t is worth.
3. **Pricing rounds** (parallel): each park answers at the prices ``π``; an answer with negative
   reduced cost is a new column. The answers also give a Lagrangian lower bound (V5) valid for
   the monolithic MILP itself, so the decomposition's gap is proven even where the monolithic
   model cannot be solved. Rounds stop at the tolerance or the round limit.
4. **Re-dispatch** (parallel, V6): a park whose master weight sits on one column keeps that
   column's schedule; any other park solves for its target delivery (the weighted mix of its
   columns), each kW it misses priced at ``ρ dt`` (a priced shortfall, never an infeasible
   solve). The realised cost, from these schedules, is what is reported.

For parks that are LPs the rounds converge to the monolithic optimum; with binaries the master's
mix of columns need not be a schedule, step 4 makes it one, and the gap to the bound says how
far from optimal that can be.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.response import (
    Response,
    ResponseProblem,
    build_response_problem,
    deliver,
    respond_to_price,
    schedule_of,
    set_baseline,
    solve_baseline,
)
from models.results import ParkSchedule
from models.solve import SolverOptions
from models.spec import ResolvedPark
from vpp.allocation import Allocation, ParkAllocation, ParkBaseline, common_grid
from vpp.event import DrEvent
from vpp.executor import map_ordered, park_executor

Progress = Callable[[str, int, int], None]

DEFAULT_LADDER = (0.125, 0.25, 0.5, 1.0)


@dataclass
class Column:
    """One answer of one park, as the master sees it."""

    label: str
    cost_yuan: float  # the park's cost minus its baseline cost (re-dispatch cost)
    response: Response = field(repr=False)

    @property
    def delivered_kw(self) -> np.ndarray:
        return self.response.delivered_kw

    @property
    def status(self) -> str:
        return self.response.status

    @property
    def abs_gap_yuan(self) -> float | None:
        """How far the answer may be from its question's optimum [yuan] (None: unknown)."""
        s = self.response.solve
        if s.objective is None or s.bound is None:
            return None
        return max(0.0, s.objective - s.bound)


@dataclass
class ParkCurve:
    """Round 1 of one park: its compiled problem and its first columns."""

    prob: ResponseProblem
    columns: list[Column]
    seconds: float


@dataclass
class FinalPark:
    column: Column  # the schedule the park runs (a kept column or its target re-dispatch)
    redispatched: bool
    schedule: ParkSchedule | None
    seconds: float


def curve_task(
    args: tuple[
        ResolvedPark,
        list[int],
        str,
        list[tuple[str, np.ndarray]],
        SolverOptions,
        ParkBaseline | None,
        float,
    ],
) -> ParkCurve:
    """Round 1 for one park (runs in a worker): build, baseline, answers on the price ladder.

    With a given baseline (a schedule made elsewhere), the first column is the park's cheapest
    schedule that imports no more than it in the window (delivery ≥ 0), found like a target.
    """
    park, steps, event_type, ladder, options, baseline, rho = args
    t0 = time.perf_counter()
    prob = build_response_problem(park, steps, event_type)  # type: ignore[arg-type]
    if baseline is None:
        base = solve_baseline(prob, options)
        cols = [Column("baseline", 0.0, base)]
    else:
        set_baseline(prob, baseline.net_import_kw, baseline.cost_yuan)
        zero = deliver(prob, np.zeros(len(steps)), rho, options)
        cols = [Column("no delivery", zero.cost_yuan - baseline.cost_yuan, zero)]
    base_cost = float(prob.baseline_cost_yuan or 0.0)
    for label, price in ladder:
        r = respond_to_price(prob, price, options)
        cols.append(Column(label, r.cost_yuan - base_cost, r))
    return ParkCurve(prob, cols, time.perf_counter() - t0)


def price_task(
    args: tuple[ResponseProblem, np.ndarray, SolverOptions, str],
) -> tuple[ResponseProblem, Column]:
    """One pricing answer (runs in a worker); the problem comes back with its grown pool."""
    prob, price, options, label = args
    r = respond_to_price(prob, price, options)
    return prob, Column(label, r.cost_yuan - float(prob.baseline_cost_yuan or 0.0), r)


def lagrangian_bound(
    answers: list[Column], price_yuan_per_kw: np.ndarray, requested_kw: np.ndarray
) -> float:
    """V5: ``Σ_p [C_p − π·D_p − gap_p] + π·req``, a lower bound on the optimal objective of
    the monolithic model when every ``answers[p]`` is park p's answer at prices ``π`` (with
    ``0 ≤ π_t ≤ ρ dt``) and ``gap_p`` its proven absolute MIP gap [yuan]."""
    pi = np.asarray(price_yuan_per_kw, dtype=float)
    bound = float(pi @ requested_kw)
    for col in answers:
        bound += col.cost_yuan - float(pi @ col.delivered_kw) - (col.abs_gap_yuan or 0.0)
    return bound


FinalArgs = tuple[
    ResolvedPark, ResponseProblem, Column, np.ndarray | None, float, SolverOptions, bool
]


def final_task(args: FinalArgs) -> FinalPark:
    """Re-dispatch one park to its target (or keep its column) and extract its schedule."""
    park, prob, column, target, under_price, options, want_schedule = args
    t0 = time.perf_counter()
    if target is not None:
        r = deliver(prob, target, under_price, options)
        column = Column("target", r.cost_yuan - float(prob.baseline_cost_yuan or 0.0), r)
    schedule = schedule_of(park, prob, column.response) if want_schedule else None
    return FinalPark(column, target is not None, schedule, time.perf_counter() - t0)


@dataclass
class Master:
    """The master LP's answer (V4)."""

    objective_yuan: float
    weights: list[np.ndarray]  # per park, one weight per column
    shortfall_kw: np.ndarray
    duals_yuan_per_kw: np.ndarray  # π_t ≥ 0 per window step
    convexity_duals_yuan: np.ndarray  # σ_p per park


def solve_master(
    columns: list[list[Column]], requested_kw: np.ndarray, short_price_yuan_per_kw: float
) -> Master:
    """min Σ_pk C_pk μ_pk + ρ dt Σ_t short_t  s.t.  Σ_pk D_pkt μ_pk + short_t ≥ req_t,
    Σ_k μ_pk = 1, μ, short ≥ 0 (V4), by HiGHS through scipy (its duals are needed).

    Raises
    ------
    RuntimeError
        The master LP did not solve (it is always feasible: every park's baseline column with
        shortfall covering the request is a solution).
    """
    nw = len(requested_kw)
    sizes = [len(c) for c in columns]
    nmu = sum(sizes)
    cost = np.concatenate(
        [[c.cost_yuan for cols in columns for c in cols], np.full(nw, short_price_yuan_per_kw)]
    )
    a_ub = np.zeros((nw, nmu + nw))
    k = 0
    for cols in columns:
        for c in cols:
            a_ub[:, k] = -c.delivered_kw
            k += 1
    a_ub[:, nmu:] = -np.eye(nw)
    a_eq = np.zeros((len(columns), nmu + nw))
    k = 0
    for p, n in enumerate(sizes):
        a_eq[p, k : k + n] = 1.0
        k += n
    from scipy.optimize import linprog  # here: scipy costs ~1 s at every `vpp serve` start

    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=-np.asarray(requested_kw, dtype=float),
        A_eq=a_eq,
        b_eq=np.ones(len(columns)),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"VPP master LP: {res.message}")
    weights, k = [], 0
    for n in sizes:
        weights.append(np.asarray(res.x[k : k + n]))
        k += n
    return Master(
        objective_yuan=float(res.fun),
        weights=weights,
        shortfall_kw=np.asarray(res.x[nmu:]),
        duals_yuan_per_kw=np.clip(-np.asarray(res.ineqlin.marginals), 0.0, None),
        convexity_duals_yuan=np.asarray(res.eqlin.marginals),
    )


@dataclass
class DecompositionReport:
    """How the decomposition went (written into allocation.json)."""

    rounds: int
    columns: int
    master_objective_yuan: float
    lower_bound_yuan: float | None
    realised_objective_yuan: float
    round_seconds: list[float]
    curves: dict[str, list[dict[str, Any]]]
    baseline_cost_yuan: float  # Σ of the parks' baseline costs

    @property
    def gap_yuan(self) -> float | None:
        """Realised objective − lower bound [yuan]: how far from optimal it can be, proven."""
        if self.lower_bound_yuan is None:
            return None
        return max(0.0, self.realised_objective_yuan - self.lower_bound_yuan)

    @property
    def gap(self) -> float | None:
        """:meth:`gap_yuan` relative to the VPP's total cost (baselines + realised objective),
        as HiGHS measures the monolithic model's gap, so the two are comparable."""
        g = self.gap_yuan
        if g is None:
            return None
        return g / max(abs(self.baseline_cost_yuan + self.realised_objective_yuan), 1.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "columns": self.columns,
            "master_objective_yuan": round(self.master_objective_yuan, 4),
            "lower_bound_yuan": None
            if self.lower_bound_yuan is None
            else round(self.lower_bound_yuan, 4),
            "realised_objective_yuan": round(self.realised_objective_yuan, 4),
            "gap_yuan": self.gap_yuan,
            "gap": self.gap,
            "baseline_cost_yuan": round(self.baseline_cost_yuan, 4),
            "round_seconds": [round(s, 3) for s in self.round_seconds],
            "curves": self.curves,
        }


def allocate_decomposed(
    parks: list[ResolvedPark],
    event: DrEvent,
    options: SolverOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    ladder: tuple[float, ...] = DEFAULT_LADDER,
    max_rounds: int = 3,
    rel_tol: float = 1e-3,
    abs_tol_yuan: float = 1.0,
    schedules: bool = True,
    baselines: list[ParkBaseline] | None = None,
    progress: Progress | None = None,
) -> Allocation:
    """Allocate ``event`` across ``parks`` by decomposition (see the module).

    Parameters
    ----------
    options : SolverOptions, optional
        Every park solve (time limit, MIP gap).
    scheduler, workers :
        Where park tasks run (:func:`vpp.executor.park_executor`).
    ladder : tuple of float
        Round-1 prices as fractions of the value of delivery ``ρ``.
    max_rounds : int
        Pricing rounds after round 1 (0: curves only).
    rel_tol, abs_tol_yuan : float
        Stop when master − lower bound ≤ max(abs_tol, rel_tol · the VPP's total cost) (the
        relative gap of HiGHS, on the same total as the monolithic model's objective).
    schedules : bool
        Extract every park's full schedule (``Allocation.schedules``).
    baselines : list of ParkBaseline, optional
        Schedules to measure delivery against (default: each park's optimal schedule, solved
        in round 1); see :func:`vpp.allocation.allocate_monolithic`.
    progress : callable, optional
        ``progress(stage, done, total)`` as park tasks finish.

    Raises
    ------
    ValueError
        Parks on different grids, or an event off the grid.
    """
    t0 = time.perf_counter()
    grid = common_grid(parks)
    steps = event.steps_on(grid)
    requested = event.requested_on(grid)
    opts = options or SolverOptions()
    if baselines is not None and len(baselines) != len(parks):
        raise ValueError(f"{len(baselines)} baselines for {len(parks)} parks")
    rho = (event.shortfall_penalty_yuan_per_kwh + event.price_yuan_per_kwh) * grid.dt_h
    nw = len(steps)
    prices = [(f"price {f:g}ρ", np.full(nw, f * rho)) for f in ladder if f > 0]

    def _tick(stage: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(stage, done, total)

    round_s: list[float] = []
    with park_executor(scheduler, workers, tasks=len(parks)) as ex:
        tr = time.perf_counter()
        curves = map_ordered(
            ex,
            curve_task,
            [
                (
                    p,
                    steps,
                    event.type,
                    prices,
                    opts,
                    None if baselines is None else baselines[i],
                    rho,
                )
                for i, p in enumerate(parks)
            ],
            _tick("cost-of-response curves"),
        )
        round_s.append(time.perf_counter() - tr)
        probs = [c.prob for c in curves]
        columns = [list(c.columns) for c in curves]
        total_base = sum(float(p.baseline_cost_yuan or 0.0) for p in probs)
        master = solve_master(columns, requested, rho)
        # Round 1's ladder answers are pricing answers at uniform prices: bounds already. The
        # first column is one (at price 0) only when it is the park's own optimal baseline; a
        # "no delivery" answer against a given baseline is constrained, so it is no bound.
        lower = None
        if all(c.abs_gap_yuan is not None for cols in columns for c in cols):
            priced = [(k + 1, f * rho) for k, f in enumerate(f for f in ladder if f > 0)]
            if baselines is None:
                priced.append((0, 0.0))
            if priced:
                lower = max(
                    lagrangian_bound([cols[k] for cols in columns], np.full(nw, pi), requested)
                    for k, pi in priced
                )
        rounds = 0
        for r in range(1, max_rounds + 1):
            tol = max(abs_tol_yuan, rel_tol * abs(total_base + master.objective_yuan))
            if lower is not None and master.objective_yuan - lower <= tol:
                break
            tr = time.perf_counter()
            pi = master.duals_yuan_per_kw
            answers = map_ordered(
                ex,
                price_task,
                [(prob, pi, opts, f"round {r}") for prob in probs],
                _tick(f"pricing round {r}"),
            )
            probs = [a[0] for a in answers]
            round_s.append(time.perf_counter() - tr)
            rounds = r
            new = [a[1] for a in answers]
            if all(c.abs_gap_yuan is not None for c in new):
                bound = lagrangian_bound(new, pi, requested)
                lower = bound if lower is None else max(lower, bound)
            added = 0
            for i, col in enumerate(new):
                reduced = col.cost_yuan - float(pi @ col.delivered_kw)
                if reduced - master.convexity_duals_yuan[i] < -1e-6 * max(1.0, abs(reduced)):
                    columns[i].append(col)
                    added += 1
            if added == 0:
                break
            master = solve_master(columns, requested, rho)
        tr = time.perf_counter()
        jobs: list[FinalArgs] = []
        for i, (park, prob) in enumerate(zip(parks, probs, strict=True)):
            w = master.weights[i]
            k = int(np.argmax(w))
            target: np.ndarray | None = None
            if w[k] < 1.0 - 1e-6:
                # a mix of columns is not a schedule (binaries): re-dispatch to the mix
                target = np.sum(
                    [wi * c.delivered_kw for wi, c in zip(w, columns[i], strict=True)], axis=0
                )
            jobs.append((park, prob, columns[i][k], target, rho, opts, schedules))
        finals = map_ordered(ex, final_task, jobs, _tick("re-dispatch"))
        round_s.append(time.perf_counter() - tr)

    out = []
    for park, prob, fin in zip(parks, probs, finals, strict=True):
        assert prob.baseline_net_kw is not None and prob.baseline_cost_yuan is not None
        col = fin.column
        net = col.response.net_kw
        out.append(
            ParkAllocation(
                park.spec.id,
                prob.baseline_net_kw,
                net,
                col.delivered_kw,
                prob.baseline_cost_yuan,
                prob.baseline_cost_yuan + col.cost_yuan,
            )
        )
    delivered = np.sum([p.delivered_kw for p in out], axis=0)
    shortfall = np.clip(requested - delivered, 0.0, None)
    realised = sum(p.redispatch_cost_yuan for p in out) + rho * float(shortfall.sum())
    statuses = [c.status for cols in columns for c in cols] + [f.column.status for f in finals]
    status = "ok" if all(s == "ok" for s in statuses) else "warning"
    report = DecompositionReport(
        rounds=rounds,
        columns=sum(len(c) for c in columns),
        master_objective_yuan=master.objective_yuan,
        lower_bound_yuan=lower,
        realised_objective_yuan=realised,
        round_seconds=round_s,
        baseline_cost_yuan=total_base,
        curves={
            park.spec.id: [
                {
                    "label": c.label,
                    "delivered_kwh": round(float(c.delivered_kw.sum() * grid.dt_h), 3),
                    "redispatch_cost_yuan": round(c.cost_yuan, 4),
                    "status": c.status,
                }
                for c in cols
            ]
            for park, cols in zip(parks, columns, strict=True)
        },
    )
    notes = []
    if status != "ok":
        bad = sorted({c.label for cols in columns for c in cols if c.status != "ok"})
        notes.append(f"some park answers were not proven optimal: {bad}")
    alloc = Allocation(
        event,
        steps,
        requested,
        shortfall,
        out,
        status,
        report.gap,
        time.perf_counter() - t0,
        method="decomposition",
        notes=notes,
        grid=grid,
    )
    alloc.decomposition = report
    if schedules:
        alloc.schedules = {
            park.spec.id: f.schedule
            for park, f in zip(parks, finals, strict=True)
            if f.schedule is not None
        }
    return alloc

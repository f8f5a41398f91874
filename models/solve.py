"""Solving: standard-form arrays → one HiGHS ``passModel`` call → typed result.

Park and VPP models arrive as :class:`models.linear.LinearModel` (:func:`compile_linear`, ~2 ms
on the large park); pyomo models (planner sizing) through pyomo's ``LinearStandardFormCompiler``
(:func:`compile_model`). Why not an LP file or APPSI: on this machine
(shared/reference/performance-notes.md) the APPSI persistent interface took ~0.3 s for the large
park (it compiles each constraint separately and grows super-linearly with multi-park models)
and LP files are slower still. The matrices stay in memory; nothing is written to disk.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from models.assets.base import parse_family
from models.errors import InfeasibleError, SolverError
from models.linear import LinearModel

# Multiplies every solver time limit. 1 in use; the instruction-count gate
# (benchmarks/counts.py) raises it, because under callgrind everything runs ~50× slower and a
# solve stopped by a time limit does an amount of work that depends on the machine's speed.
TIME_LIMIT_SCALE: float = 1.0


class TerminationCondition(StrEnum):
    """Why the solver stopped (after linopy's ``TerminationCondition``)."""

    optimal = "optimal"
    time_limit = "time_limit"
    infeasible = "infeasible"
    unbounded = "unbounded"
    infeasible_or_unbounded = "infeasible_or_unbounded"
    iteration_limit = "iteration_limit"
    interrupted = "interrupted"
    stall_limit = "stall_limit"  # branch and bound stopped by SolverOptions.mip_stall_s
    start_only = "start_only"  # branch and bound not run (SolverOptions.branch_and_bound)
    error = "error"
    unknown = "unknown"


class Status(StrEnum):
    """Whether the returned solution can be used (after linopy's ``SolverStatus``)."""

    ok = "ok"  # proven optimal within the gap
    warning = "warning"  # feasible but not proven (time limit): use with its gap
    failed = "failed"  # no usable solution


_TERMINATION = {
    highspy.HighsModelStatus.kOptimal: TerminationCondition.optimal,
    highspy.HighsModelStatus.kTimeLimit: TerminationCondition.time_limit,
    highspy.HighsModelStatus.kInfeasible: TerminationCondition.infeasible,
    highspy.HighsModelStatus.kUnbounded: TerminationCondition.unbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: TerminationCondition.infeasible_or_unbounded,
    highspy.HighsModelStatus.kIterationLimit: TerminationCondition.iteration_limit,
    highspy.HighsModelStatus.kInterrupt: TerminationCondition.interrupted,
    highspy.HighsModelStatus.kSolutionLimit: TerminationCondition.interrupted,
}

ProgressFn = Callable[[float, float, float, float], None]


@dataclass(frozen=True)
class SolverOptions:
    """HiGHS settings.

    Parameters
    ----------
    time_limit_s : float
        Wall-clock limit [s]; a feasible solution found by then is returned, flagged.
    mip_rel_gap : float
        Relative MIP gap at which to stop [-] (default 0.1 %).
    threads : int, optional
        HiGHS threads (MIP is effectively single-threaded here; see performance notes).
    random_seed : int, optional
        HiGHS random seed (MIP time is seed-noisy: benchmarks vary it).
    relax : bool
        Solve the LP relaxation (all integrality dropped); results are labelled relaxed.
    log : bool
        Show HiGHS's own log.
    warm_start : bool
        Build a MIP start from the LP relaxation before branch and bound; when it is within
        ``mip_rel_gap`` of the LP bound it is returned as proven (see :func:`lp_rounding_start`).
    lp_presolve : bool
        Run HiGHS presolve on LP solves (the relaxation and ``relax`` solves). Off by default:
        on park models it removes little (large park: 329 of 2,479 rows) and costs more than it
        saves (large park LP 0.12 s with it, 0.04 s without; benchmarks/README.md).
    progress : callable, optional
        Called with (elapsed_s, objective, bound, gap) on each improving MIP solution.
    lp_solver : {"simplex", "ipm"}
        HiGHS algorithm for pure LP solves. Dual simplex is fastest on day-ahead park models;
        interior point (with crossover) on year-long planning LPs: 8 s against 32 s on the full
        year of the large example park (models/sizing.py).
    mip_stall_s : float, optional
        Stop branch and bound once it has had an incumbent and neither the incumbent nor the
        bound has moved for this long [s] (termination ``stall_limit``, status ``warning``,
        the gap reported). For questions whose LP bound is weak and which branch and bound
        cannot close in seconds (the VPP's bid answers, vpp/bids.py); None: off.
    branch_and_bound : bool
        False: when the LP-rounding start (``warm_start``) is not proven within the gap, return
        it as it is, with its gap to the LP bound (termination ``start_only``, status
        ``warning``); branch and bound runs only when there is no start. For questions where
        it was measured to move neither the incumbent nor the bound before stalling (the bid
        answers above the tariff, vpp/bids.py); each HiGHS branch and bound costs ~1.3 s on
        the large park before it can be interrupted (presolve, root LP).
    """

    time_limit_s: float = 300.0
    mip_rel_gap: float = 1e-3
    threads: int | None = None
    random_seed: int | None = None
    relax: bool = False
    log: bool = False
    warm_start: bool = True
    lp_presolve: bool = False
    progress: ProgressFn | None = field(default=None, compare=False)
    lp_solver: Literal["simplex", "ipm"] = "simplex"
    mip_stall_s: float | None = None
    branch_and_bound: bool = True


@dataclass
class ModelSize:
    variables: int
    binaries: int
    constraints: int
    nonzeros: int


@dataclass
class SolveResult:
    """The outcome of one solve; never hides a non-optimal termination."""

    status: Status
    termination: TerminationCondition
    objective: float | None
    bound: float | None
    gap: float | None
    relaxed: bool
    build_s: float
    handoff_s: float
    solve_s: float
    extract_s: float
    size: ModelSize
    method: str = "highs_mip"  # what proved the result: highs_mip, highs_lp or lp_bound
    message: str = ""

    @property
    def total_s(self) -> float:
        return self.build_s + self.handoff_s + self.solve_s + self.extract_s

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["termination"] = self.termination.value
        size = d.pop("size")
        d.update(size)
        d["total_s"] = self.total_s
        return d


@dataclass
class ArrayLp:
    """A model in standard form as numpy arrays (``lower ≤ A x ≤ upper`` on rows and columns,
    ``A`` column-wise), with the attribute names of ``highspy.HighsLp``.

    Why not ``HighsLp`` itself: its pybind setters copy numpy arrays element by element, and
    every read of ``a_matrix_`` copies the whole matrix (measured on the large park: 12 ms to
    set the matrix, against 1.5 ms for :func:`pass_model` to hand all of it to HiGHS).
    """

    num_col_: int
    num_row_: int
    col_cost_: np.ndarray
    offset_: float
    col_lower_: np.ndarray
    col_upper_: np.ndarray
    row_lower_: np.ndarray
    row_upper_: np.ndarray
    a_start: np.ndarray  # int32, num_col_ + 1
    a_index: np.ndarray  # int32
    a_value: np.ndarray
    # HiGHS column types (0 continuous, 1 integer); empty: all continuous
    integrality_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))


def pass_model(h: highspy.Highs, lp: ArrayLp) -> None:
    """Hand ``lp`` to HiGHS in one call (highspy's array overload of ``passModel``)."""
    integrality = lp.integrality_
    if len(integrality) != lp.num_col_:
        integrality = np.zeros(lp.num_col_, dtype=np.int32)
    status = h.passModel(
        int(lp.num_col_),
        int(lp.num_row_),
        len(lp.a_value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(lp.offset_),
        np.ascontiguousarray(lp.col_cost_, dtype=float),
        np.ascontiguousarray(lp.col_lower_, dtype=float),
        np.ascontiguousarray(lp.col_upper_, dtype=float),
        np.ascontiguousarray(lp.row_lower_, dtype=float),
        np.ascontiguousarray(lp.row_upper_, dtype=float),
        np.ascontiguousarray(lp.a_start, dtype=np.int32),
        np.ascontiguousarray(lp.a_index, dtype=np.int32),
        np.ascontiguousarray(lp.a_value, dtype=float),
        np.ascontiguousarray(integrality, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("model", "error", "HiGHS refused the model (passModel)")


@dataclass
class CompiledModel:
    """A model in standard form; for a compiled pyomo model, with the map back to its variables
    (``columns``, ``rows``; empty for a :class:`models.linear.LinearModel`).

    ``groups`` gives, per column, the top-level sub-block (an asset) that owns it, −1 for the
    model's own columns (grid flows, response levels); see :func:`column_groups`.
    """

    lp: ArrayLp
    columns: list[Any]
    rows: list[Any]
    integer: np.ndarray
    size: ModelSize
    groups: np.ndarray | None = None
    model: Any = field(default=None, repr=False)
    # the last LP relaxation's optimal basis (a highspy.HighsBasis): the next LP of the same
    # rows and columns starts from it (large park, a new DR price: 0.047 s → ~0.015 s)
    basis: Any = field(default=None, repr=False)

    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The constraint matrix as column-wise (start, index, value) arrays."""
        return self.lp.a_start, self.lp.a_index, self.lp.a_value


def variable_index(model: pyo.ConcreteModel) -> tuple[list[Any], np.ndarray]:
    """Every variable of ``model`` in a fixed order, and per variable the index of the model's
    direct sub-block (an asset) that owns it (−1: the model's own).

    The order (the model's own variables, then each direct sub-block's) depends only on how the
    model was built, so a rebuild of the same input enumerates the same variables in the same
    order (models/response.py loads a solution into a rebuilt model by it).
    """
    variables = list(model.component_data_objects(pyo.Var, descend_into=False))
    groups = [-1] * len(variables)
    for k, blk in enumerate(model.component_data_objects(pyo.Block, descend_into=False)):
        own = list(blk.component_data_objects(pyo.Var, descend_into=True))
        variables.extend(own)
        groups.extend([k] * len(own))
    return variables, np.asarray(groups, dtype=np.int64)


def column_positions(compiled: CompiledModel, variables: list[Any]) -> np.ndarray:
    """Per column, its position in ``variables`` (from :func:`variable_index`)."""
    pos = {id(v): i for i, v in enumerate(variables)}
    return np.fromiter(
        (pos[id(v)] for v in compiled.columns), dtype=np.int64, count=len(compiled.columns)
    )


def column_groups(compiled: CompiledModel) -> np.ndarray | None:
    """Per column, the index of the model's direct sub-block that owns it (−1: the model's own).

    Computed on first use (~0.02 s on the large park) and kept. None when the compiled model
    carries neither groups nor its pyomo model.
    """
    if compiled.groups is None and compiled.model is not None:
        variables, groups = variable_index(compiled.model)
        compiled.groups = groups[column_positions(compiled, variables)]
    return compiled.groups


def compile_model(model: pyo.ConcreteModel) -> CompiledModel:
    """Compile an (MI)LP pyomo model into standard-form arrays in memory."""
    with PauseGC():
        repn = LinearStandardFormCompiler().write(model, mixed_form=True)
    columns = repn.columns
    n = len(columns)
    A = repn.A.tocsc()
    cost = np.asarray(repn.c.toarray(), dtype=float).ravel() if repn.c.shape[0] else np.zeros(n)
    inf = highspy.kHighsInf
    # one .bounds call per variable (None → nan) is ~2× faster than .lb and .ub
    bounds = np.array([v.bounds for v in columns], dtype=float).reshape(n, 2)
    rhs = np.asarray(repn.rhs, dtype=float)
    senses = np.array([r[1] for r in repn.rows], dtype=int)
    lp = ArrayLp(
        num_col_=n,
        num_row_=A.shape[0],
        col_cost_=cost,
        offset_=float(repn.c_offset[0]) if len(repn.c_offset) else 0.0,
        col_lower_=np.where(np.isnan(bounds[:, 0]), -inf, bounds[:, 0]),
        col_upper_=np.where(np.isnan(bounds[:, 1]), inf, bounds[:, 1]),
        row_lower_=np.where(senses == 1, -inf, rhs),
        row_upper_=np.where(senses == -1, inf, rhs),
        a_start=A.indptr.astype(np.int32),
        a_index=A.indices.astype(np.int32),
        a_value=A.data.astype(float),
    )
    integer = np.array([v.is_integer() for v in columns], dtype=bool)
    size = ModelSize(
        variables=n,
        binaries=int(integer.sum()),
        constraints=len({id(r[0]) for r in repn.rows}),
        nonzeros=int(A.nnz),
    )
    return CompiledModel(
        lp=lp,
        columns=columns,
        rows=[r[0] for r in repn.rows],
        integer=integer,
        size=size,
        model=model,
    )


@dataclass
class _Outcome:
    termination: TerminationCondition
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    method: str
    detail: str = ""


@dataclass(frozen=True)
class RoundingStart:
    """The LP relaxation's objective (a valid bound) and a rounded feasible point, if any."""

    lp_objective: float
    x: np.ndarray | None


def _solve_lp(
    lp: ArrayLp,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    presolve: bool,
    basis: Any = None,
) -> tuple[np.ndarray | None, Any]:
    """The LP relaxation's optimum (None: no optimum) and its basis; ``basis`` starts it."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "on" if presolve else "off")
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.integrality_ = np.zeros(0, dtype=np.int32)
    pass_model(h, lp)
    if basis is not None:
        h.setBasis(basis)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None
    return np.asarray(h.getSolution().col_value, dtype=float), h.getBasis()


def serial_dot(a: np.ndarray, b: np.ndarray) -> float:
    """The dot product of two vectors, computed on the calling thread.

    ``np.dot`` hands vectors longer than 10,000 entries (every park's columns) to OpenBLAS,
    which splits them across its threads; those then spin for ~0.1 s waiting for more work.
    On two cores shared by two pool processes the spinning took the other process's core:
    the 20-park DR event went from 28.8 s to 22.1 s with one BLAS thread. Under callgrind the
    spinning was counted too, and depended on scheduling.
    """
    return float(np.multiply(a, b).sum())


def _objective(compiled: CompiledModel, x: np.ndarray) -> float:
    return serial_dot(np.asarray(compiled.lp.col_cost_), x) + float(compiled.lp.offset_)


def feasible_point(compiled: CompiledModel, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``x`` satisfies the compiled model's bounds, rows and integrality."""
    lp = compiled.lp
    if x.shape != (lp.num_col_,):
        return False
    scale = tol * np.maximum(1.0, np.abs(x))
    if np.any(x < np.asarray(lp.col_lower_) - scale) or np.any(
        x > np.asarray(lp.col_upper_) + scale
    ):
        return False
    if np.any(np.abs(x[compiled.integer] - np.round(x[compiled.integer])) > 1e-6):
        return False
    start, index, value = compiled.matrix()
    ax = np.bincount(index, weights=value * np.repeat(x, np.diff(start)), minlength=lp.num_row_)
    rtol = tol * np.maximum(1.0, np.abs(ax))
    return bool(
        np.all(ax >= np.asarray(lp.row_lower_) - rtol)
        and np.all(ax <= np.asarray(lp.row_upper_) + rtol)
    )


def _new_highs(time_limit_s: float, mip_rel_gap: float, log: bool = False) -> highspy.Highs:
    """A HiGHS instance with the limits every MIP solve of this module sets."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", log)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    return h


def _integrality(integer: np.ndarray) -> np.ndarray:
    """HiGHS's column types for a mask of integer columns (1: integer, 0: continuous)."""
    return np.asarray(integer, dtype=np.int32)


def _start_from(h: highspy.Highs, x: np.ndarray) -> None:
    """Give HiGHS a MIP start (it checks it and keeps it only when feasible)."""
    sol = highspy.HighsSolution()
    sol.col_value = x.tolist()
    sol.value_valid = True
    h.setSolution(sol)


def _restricted_submip(
    compiled: CompiledModel,
    x: np.ndarray,
    value: np.ndarray,
    free: np.ndarray,
    *,
    mip_rel_gap: float,
    time_limit_s: float,
    good_enough: float = -np.inf,
) -> np.ndarray | None:
    """The sub-MIP over the fractional binaries, with every asset that owns none of them held
    at its LP values: only those assets and the model's own columns (grid flows) move.

    It stops at its own ``mip_rel_gap``, or as soon as it has a point whose objective (the
    whole model's) is at most ``good_enough``: the caller's proof against the LP bound needs
    no better (measured on the large park: 0.06–0.09 s to its own gap of 0.05 %, ~0.02 s to a
    point within 0.1 % of the LP bound).

    On the large park this is 1,660 of 17,828 columns; HiGHS solves it in ~0.05 s, against
    ~0.35 s for the sub-MIP over all columns (whose time is HiGHS presolve), and it found the
    same solutions on the benchmark parks. Any point it returns is feasible for the whole model
    (the held columns keep LP-feasible values, the rows see their activity); None when there
    is nothing to restrict (no asset blocks) or it finds no solution.
    """
    groups = column_groups(compiled)
    if groups is None:
        return None
    keep = (groups == -1) | np.isin(groups, np.unique(groups[free]))
    movable = keep & (free | ~compiled.integer)
    if movable.all():
        return None
    lp = compiled.lp
    held = np.where(compiled.integer, value, x)
    start, index, val = compiled.matrix()
    counts = np.diff(start)
    col_of = np.repeat(np.arange(lp.num_col_), counts)
    nz = movable[col_of]
    # row activity of the held columns, moved into the row bounds
    activity: np.ndarray = np.bincount(
        index[~nz], weights=val[~nz] * held[col_of[~nz]], minlength=lp.num_row_
    ).astype(float)
    sub_index = index[nz]
    has = np.bincount(sub_index, minlength=lp.num_row_) > 0
    new_row = np.cumsum(has) - 1
    sub = ArrayLp(
        num_col_=int(movable.sum()),
        num_row_=int(has.sum()),
        col_cost_=lp.col_cost_[movable],
        offset_=0.0,
        col_lower_=lp.col_lower_[movable],
        col_upper_=lp.col_upper_[movable],
        row_lower_=(lp.row_lower_ - activity)[has],
        row_upper_=(lp.row_upper_ - activity)[has],
        a_start=np.concatenate([[0], np.cumsum(counts[movable])]).astype(np.int32),
        a_index=new_row[sub_index].astype(np.int32),
        a_value=val[nz],
        integrality_=_integrality(free[movable]),
    )
    h = _new_highs(time_limit_s, mip_rel_gap)
    pass_model(h, sub)
    if np.isfinite(good_enough):
        # the held columns' cost is a constant of the sub-MIP
        cost = np.asarray(lp.col_cost_, dtype=float)
        target = good_enough - serial_dot(cost[~movable], held[~movable]) - float(lp.offset_)

        def _enough(e: Any) -> None:
            if float(e.data_out.objective_function_value) <= target:
                e.interrupt()

        h.cbMipInterrupt.subscribe(_enough)
    h.run()
    if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    point = held.copy()
    point[movable] = np.asarray(h.getSolution().col_value, dtype=float)
    point[compiled.integer] = np.round(point[compiled.integer])
    return point if feasible_point(compiled, point) else None


def lp_rounding_start(
    compiled: CompiledModel,
    *,
    mip_rel_gap: float,
    time_limit_s: float,
    lp_presolve: bool = False,
    candidates: list[np.ndarray] | None = None,
    accept_rel_gap: float | None = None,
) -> RoundingStart | None:
    """A MIP start from the LP relaxation: keep the binaries it leaves integral, solve the rest.

    The fractional binaries are few on park models (31 of 3,771 on the large benchmark park,
    nearly all battery modes: charging and discharging at once in the LP), so the MIP over
    them alone is small. It is tried in two steps:

    1. restricted (:func:`_restricted_submip`): only the assets owning a fractional binary and
       the grid flows move, every other asset keeps its LP schedule;
    2. if that finds nothing within ``accept_rel_gap`` of the LP bound, over all columns.

    The solution, measured against the LP bound, is often already a proof of optimality within
    the gap. An LP optimum with no fractional binary is returned as it is.

    ``candidates`` are known points (e.g. a park's earlier answers to questions that differ only
    in costs and right-hand sides): the best feasible one is returned without the sub-MIP when
    it is within ``mip_rel_gap`` of the LP bound. Re-solving a park at a new DR price often
    returns an earlier schedule, and the sub-MIP is then skipped.

    Returns
    -------
    RoundingStart or None
        None when the model has no binaries or its LP relaxation has no optimum; ``x`` is None
        when the sub-MIP found no solution (fixing may make it infeasible).
    """
    lp = compiled.lp
    lower = np.asarray(lp.col_lower_, dtype=float).copy()
    upper = np.asarray(lp.col_upper_, dtype=float).copy()
    binary = compiled.integer
    if not binary.any():
        return None
    accept = mip_rel_gap if accept_rel_gap is None else accept_rel_gap
    x, compiled.basis = _solve_lp(lp, lower, upper, lp_presolve, compiled.basis)
    if x is None:
        lp.col_lower_, lp.col_upper_ = lower, upper
        return None
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp_objective = _objective(compiled, x)
    best = None
    if candidates:
        known = [c for c in candidates if feasible_point(compiled, c)]
        if known:
            best = min(known, key=lambda c: _objective(compiled, c))
            if _relative_gap(_objective(compiled, best), lp_objective) <= mip_rel_gap:
                return RoundingStart(lp_objective, best)
    value = np.round(x)
    free = binary & (np.abs(x - value) > 1e-6)
    if not free.any():
        point = np.where(binary, value, x)
        if feasible_point(compiled, point):
            return RoundingStart(lp_objective, point)
    near = None
    if free.any():
        t0 = time.perf_counter()
        near = _restricted_submip(
            compiled,
            x,
            value,
            free,
            mip_rel_gap=mip_rel_gap,
            time_limit_s=time_limit_s,
            # within ``accept`` of the LP bound (with a margin for round-off) is a proof
            good_enough=lp_objective + 0.9 * accept * abs(lp_objective),
        )
        time_limit_s = max(0.01, time_limit_s - (time.perf_counter() - t0))
        if near is not None:
            if _relative_gap(_objective(compiled, near), lp_objective) <= accept:
                return RoundingStart(lp_objective, near)
            if best is None or _objective(compiled, near) < _objective(compiled, best):
                best = near
    fix = binary & ~free
    sub_lo, sub_up = lower.copy(), upper.copy()
    sub_lo[fix] = value[fix]
    sub_up[fix] = value[fix]
    h = _new_highs(time_limit_s, mip_rel_gap)
    lp.col_lower_, lp.col_upper_ = sub_lo, sub_up
    lp.integrality_ = _integrality(free)
    pass_model(h, lp)
    if near is not None:
        # the restricted answer respects every fixing: the sub-MIP starts from it
        _start_from(h, near)
    h.run()
    start = None
    if h.getInfo().primal_solution_status == 2:  # kSolutionStatusFeasible
        start = np.asarray(h.getSolution().col_value, dtype=float)
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.integrality_ = np.zeros(0, dtype=np.int32)
    # A known point better than the rounding (or the only one) is the better MIP start.
    if best is not None and (
        start is None or _objective(compiled, best) < _objective(compiled, start)
    ):
        start = best
    return RoundingStart(lp_objective, start)


def _relative_gap(objective: float, bound: float) -> float:
    # HiGHS's definition, so both proofs report comparable gaps.
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _run_highs(
    compiled: CompiledModel,
    options: SolverOptions,
    start: np.ndarray | None,
    known: tuple[float, float] | None = None,
) -> tuple[highspy.Highs, bool]:
    """HiGHS on the compiled model; also whether the stall watch stopped it (``known``: the
    start's objective and the LP bound, what the stall watch measures progress against)."""
    h = _new_highs(options.time_limit_s, options.mip_rel_gap, log=bool(options.log))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    if options.random_seed is not None:
        h.setOptionValue("random_seed", int(options.random_seed))
    lp = compiled.lp
    if not options.relax and compiled.integer.any():
        lp.integrality_ = _integrality(compiled.integer)
    else:
        lp.integrality_ = np.zeros(0, dtype=np.int32)
        h.setOptionValue("presolve", "on" if options.lp_presolve else "off")
        h.setOptionValue("solver", options.lp_solver)
    pass_model(h, lp)
    if start is not None:
        _start_from(h, start)
    if options.progress is not None and not options.relax:
        cb = options.progress
        h.setOptionValue("mip_improving_solution_save", False)

        def _on_improve(e: Any) -> None:
            d = e.data_out
            cb(
                float(d.running_time),
                float(d.objective_function_value),
                float(d.mip_dual_bound),
                float(d.mip_gap),
            )

        h.cbMipImprovingSolution.subscribe(_on_improve)
    stall = None
    if options.mip_stall_s is not None:
        stall = _StallWatch(options.mip_stall_s, *(known or (np.inf, -np.inf)))
    if stall is not None and not options.relax and compiled.integer.any():
        h.cbMipInterrupt.subscribe(stall)
    h.run()
    return h, stall is not None and stall.fired


class _StallWatch:
    """HiGHS MIP interrupt callback: interrupt once there is an incumbent and neither it nor
    the bound has improved on the best known for ``stall_s``.

    Progress is measured against what the solve started with (the MIP start's objective and
    the LP bound), not against HiGHS's own first reports: during presolve and the root's
    restart HiGHS reports bounds far below the LP bound (measured on a bid answer of the large
    park: −234,593 then −23,001 against an LP bound of −23,001), which are no progress but
    used to restart the clock, so branch and bound ran 1.6–2.4 s to stall where 0.5 s was asked.
    """

    def __init__(self, stall_s: float, incumbent: float, bound: float) -> None:
        self.stall_s = stall_s * TIME_LIMIT_SCALE
        self.incumbent = incumbent
        self.bound = bound
        self.since = 0.0
        self.fired = False

    def _better(self, incumbent: float, bound: float) -> bool:
        tol = 1e-6 * max(1.0, abs(self.incumbent) if np.isfinite(self.incumbent) else 1.0)
        return incumbent < self.incumbent - tol or bound > self.bound + tol

    def __call__(self, e: Any) -> None:
        d = e.data_out
        now = float(d.running_time)
        incumbent, bound = float(d.objective_function_value), float(d.mip_dual_bound)
        if not np.isfinite(incumbent):
            self.since = now
            return
        if self._better(incumbent, bound):
            self.incumbent = min(self.incumbent, incumbent)
            self.bound = max(self.bound, bound)
            self.since = now
        elif now - self.since > self.stall_s:
            self.fired = True
            e.interrupt()


def solve_compiled(
    compiled: CompiledModel, options: SolverOptions, candidates: list[np.ndarray] | None = None
) -> _Outcome:
    """Solve a compiled model (``candidates``: known points, see :func:`lp_rounding_start`)."""
    mip = bool(compiled.integer.any()) and not options.relax
    if TIME_LIMIT_SCALE != 1.0:
        options = dataclasses.replace(options, time_limit_s=options.time_limit_s * TIME_LIMIT_SCALE)
    start = None
    rs = None
    t0 = time.perf_counter()
    if mip and options.warm_start:
        rs = lp_rounding_start(
            compiled,
            mip_rel_gap=options.mip_rel_gap / 2,
            time_limit_s=min(10.0 * TIME_LIMIT_SCALE, options.time_limit_s / 4),
            lp_presolve=options.lp_presolve,
            candidates=candidates,
            accept_rel_gap=options.mip_rel_gap,
        )
        if rs is not None and rs.x is not None:
            start = rs.x
            start_obj = _objective(compiled, rs.x)
            gap = _relative_gap(start_obj, rs.lp_objective)
            # LP bound ≤ MILP optimum ≤ this start: if they are within the gap, that is the
            # optimality proof and branch and bound has nothing left to do.
            if gap <= options.mip_rel_gap:
                return _Outcome(
                    TerminationCondition.optimal, rs.x, start_obj, rs.lp_objective, gap, "lp_bound"
                )
            if not options.branch_and_bound:
                return _Outcome(
                    TerminationCondition.start_only,
                    rs.x,
                    start_obj,
                    rs.lp_objective,
                    gap,
                    "lp_rounding",
                    "branch and bound off: the start, with its gap to the LP bound",
                )
    # time_limit_s is the budget of the whole solve, the start's work included.
    remaining = max(0.01, options.time_limit_s - (time.perf_counter() - t0))
    known = None
    if start is not None and rs is not None:
        known = (start_obj, rs.lp_objective)
    h, stalled = _run_highs(
        compiled, dataclasses.replace(options, time_limit_s=remaining), start, known
    )
    status_h = h.getModelStatus()
    termination = _TERMINATION.get(status_h, TerminationCondition.unknown)
    if termination is TerminationCondition.interrupted and stalled:
        termination = TerminationCondition.stall_limit
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_solution else None
    objective = float(info.objective_function_value) if has_solution else None
    return _Outcome(
        termination=termination,
        x=x,
        objective=objective,
        bound=(float(info.mip_dual_bound) if mip else objective),
        gap=(float(info.mip_gap) if mip else 0.0) if has_solution else None,
        method="highs_mip" if mip else "highs_lp",
        detail=h.modelStatusToString(status_h),
    )


def compile_linear(lm: LinearModel) -> CompiledModel:
    """A :class:`models.linear.LinearModel` as standard-form arrays (one sort of its
    triplets; no pyomo). Columns and rows keep the model's order, so a column index is the
    model's own."""
    start, index, value = lm.csc()
    col_lower, col_upper = lm.col_bounds()
    row_lower, row_upper = lm.row_bounds()
    lp = ArrayLp(
        num_col_=lm.num_col,
        num_row_=lm.num_row,
        col_cost_=lm.col_cost(),
        offset_=float(lm.offset),
        col_lower_=col_lower,
        col_upper_=col_upper,
        row_lower_=row_lower,
        row_upper_=row_upper,
        a_start=start,
        a_index=index,
        a_value=value,
    )
    integer = lm.integer()
    size = ModelSize(
        variables=lm.num_col,
        binaries=int(integer.sum()),
        constraints=lm.num_row,
        nonzeros=len(value),
    )
    return CompiledModel(
        lp=lp,
        columns=[],
        rows=[],
        integer=integer,
        size=size,
        groups=lm.column_blocks(),
    )


def result_of(
    compiled: CompiledModel,
    options: SolverOptions,
    *,
    name: str,
    build_s: float,
    handoff_s: float,
    candidates: list[np.ndarray] | None = None,
) -> tuple[SolveResult, np.ndarray]:
    """Solve a compiled model: the typed result and the solution vector (integers rounded).

    Raises
    ------
    InfeasibleError
        The model has no feasible solution (no families named: the caller diagnoses).
    SolverError
        Unbounded, solver error, or a time limit without any feasible solution.
    """
    t1 = time.perf_counter()
    out = solve_compiled(compiled, options, candidates)
    solve_s = time.perf_counter() - t1
    termination = out.termination
    if termination is TerminationCondition.infeasible:
        raise InfeasibleError(name, [], "HiGHS proved infeasibility")
    if termination in (
        TerminationCondition.unbounded,
        TerminationCondition.infeasible_or_unbounded,
    ):
        raise SolverError(name, termination.value, "check prices and limits (unbounded export?)")
    if out.x is None or out.objective is None:
        raise SolverError(name, termination.value, f"no feasible solution ({out.detail})")
    integer = compiled.integer & (not options.relax)
    x = np.where(integer, np.round(out.x), out.x)
    status = Status.ok if termination is TerminationCondition.optimal else Status.warning
    message = ""
    if status is Status.warning:
        message = f"stopped by {termination.value} with a feasible solution at gap {out.gap:.4%}"
    result = SolveResult(
        status=status,
        termination=termination,
        objective=out.objective,
        bound=out.bound,
        gap=out.gap,
        relaxed=options.relax,
        build_s=build_s,
        handoff_s=handoff_s,
        solve_s=solve_s,
        extract_s=0.0,
        size=compiled.size,
        method=out.method,
        message=message,
    )
    return result, x


def solve_linear(
    lm: LinearModel, options: SolverOptions, *, name: str, build_s: float = 0.0
) -> tuple[SolveResult, np.ndarray]:
    """Hand a linear model to HiGHS and solve it (see :func:`result_of`)."""
    t0 = time.perf_counter()
    compiled = compile_linear(lm)
    handoff_s = time.perf_counter() - t0
    return result_of(compiled, options, name=name, build_s=build_s, handoff_s=handoff_s)


def solve_model(
    model: pyo.ConcreteModel, options: SolverOptions, *, name: str, build_s: float = 0.0
) -> SolveResult:
    """Solve a built pyomo model and load the solution into its variables.

    Raises
    ------
    InfeasibleError
        The model has no feasible solution (diagnose with :func:`diagnose_infeasibility`).
    SolverError
        Unbounded, solver error, or a time limit without any feasible solution.
    """
    t0 = time.perf_counter()
    compiled = compile_model(model)
    handoff_s = time.perf_counter() - t0
    result, x = result_of(compiled, options, name=name, build_s=build_s, handoff_s=handoff_s)
    t2 = time.perf_counter()
    for var, val in zip(compiled.columns, x, strict=True):
        var.set_value(float(val), skip_validation=True)
    result.extract_s = time.perf_counter() - t2
    return result


def diagnose_linear(lm: LinearModel) -> list[tuple[str | None, str, str]]:
    """A minimal set of constraint families of ``lm`` that cannot all hold (a family-level IIS).

    The deletion filter of :func:`diagnose_infeasibility` on the assembled rows: a family is
    dropped by freeing its rows' bounds. Feasibility is asked with a zero objective (so no
    dropped family can make the question unbounded), on the LP relaxation when that is already
    infeasible, the MILP otherwise.

    Returns
    -------
    list of (asset_id or None, family name, equation)
    """
    compiled = compile_linear(lm)
    lp = compiled.lp
    lp.col_cost_ = np.zeros(lm.num_col)
    lp.offset_ = 0.0
    lower, upper = lm.row_bounds()
    active = np.ones(lm.num_row, dtype=bool)

    def feasible(relax: bool) -> bool:
        lp.row_lower_ = np.where(active, lower, -highspy.kHighsInf)
        lp.row_upper_ = np.where(active, upper, highspy.kHighsInf)
        out = solve_compiled(
            compiled, SolverOptions(relax=relax, time_limit_s=60.0, warm_start=False)
        )
        return out.termination is TerminationCondition.optimal

    relax = not feasible(relax=True)
    needed = []
    for f in lm.families:
        active[f.start : f.stop] = False
        if feasible(relax):
            active[f.start : f.stop] = True
            needed.append(f)
    return [(f.block, f.title, f.eq) for f in needed]


def _feasible(model: pyo.ConcreteModel, relax: bool) -> bool:
    compiled = compile_model(model)
    out = solve_compiled(compiled, SolverOptions(relax=relax, time_limit_s=60.0, warm_start=False))
    return out.termination is TerminationCondition.optimal


def diagnose_infeasibility(model: pyo.ConcreteModel) -> list[tuple[str | None, str, str]]:
    """A minimal set of constraint families that cannot all hold (a family-level IIS).

    Deletion filter over the tagged constraint components: drop a family; if the rest is still
    infeasible, it was not needed for the conflict. Uses the LP relaxation when that is already
    infeasible (cheap), the MILP otherwise.

    Returns
    -------
    list of (asset_id or None, family name, equation)
    """
    families = list(model.component_objects(pyo.Constraint, active=True, descend_into=True))
    relax = not _feasible(model, relax=True)
    needed = []
    try:
        for comp in families:
            comp.deactivate()
            if _feasible(model, relax=relax):
                comp.activate()
                needed.append(comp)
    finally:
        for comp in families:
            comp.activate()
    out: list[tuple[str | None, str, str]] = []
    for comp in needed:
        eq, name = parse_family(comp.doc)
        block = comp.parent_block()
        asset_id = None if block is model else str(block.index())
        out.append((asset_id, name, eq))
    return out

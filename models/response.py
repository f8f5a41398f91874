"""A park's response to a DR window, compiled once and re-solved many times.

The decomposition of DR allocation (vpp/decomposition.py) asks each park the same model many
questions: its baseline, its response to a price on delivery, the largest delivery it can
sustain, and the cheapest schedule that meets a target. Only the objective, a few bounds and
the right-hand sides of the window rows change between them, so the park is built and compiled
once and kept as plain arrays (:class:`ResponseProblem`): picklable, so a process pool or a Dask
worker can take it, and re-solving it costs only the solve.

Rows and columns added to the park model (docs/model.md, R1):

- ``R`` (``response_level_kw``) ≥ 0: a level of delivery common to all window steps;
- ``u_t`` (``response_under_kw``) ≥ 0 for t in W: delivery missing from a target;
- R1 (window rows): ``s (imp_t − exp_t) + R − u_t ≤ U_t`` for t in W, with ``s = +1`` for
  peak shaving and −1 for valley filling. With ``U_t = s b_t − q_t`` this says
  ``d_t = s (b_t − imp_t + exp_t) ≥ q_t + R − u_t``: delivery against the baseline ``b``.

Each question sets ``U``, the bounds of ``R`` and ``u`` and the costs; nothing else changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import highspy
import numpy as np

from models.errors import InfeasibleError, SolverError
from models.linear import Terms
from models.park import ParkModel, build_park_model
from models.results import ParkSchedule, schedule_from_solved
from models.solve import (
    ArrayLp,
    CompiledModel,
    ModelSize,
    SolveResult,
    SolverOptions,
    Status,
    TerminationCondition,
    compile_linear,
    serial_dot,
    solve_compiled,
)
from models.spec import ResolvedPark

EventType = Literal["peak_shaving", "valley_filling"]

_INF = highspy.kHighsInf
POOL_SIZE = 6


@dataclass
class ResponseProblem:
    """One park's compiled model with the response rows (R1), as picklable arrays.

    Attributes
    ----------
    park_id : str
    sign : float
        +1 for peak shaving (delivery is import reduction), −1 for valley filling.
    window : numpy.ndarray
        The event's steps on the park's grid.
    dt_h : float
        Step length [h].
    cost, offset :
        The park's objective [yuan] (costs per column and constant).
    baseline_net_kw : numpy.ndarray or None
        Net import of the baseline schedule [kW], whole horizon; set by :meth:`solve_baseline`.
    baseline_cost_yuan : float or None
    """

    park_id: str
    sign: float
    window: np.ndarray
    dt_h: float
    cost: np.ndarray
    offset: float
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    size: ModelSize
    import_cols: np.ndarray
    export_cols: np.ndarray
    level_col: int
    under_cols: np.ndarray
    window_rows: np.ndarray
    # per column, the asset block owning it (−1: park level); the restricted sub-MIP uses it
    groups: np.ndarray | None
    baseline_net_kw: np.ndarray | None = None
    baseline_cost_yuan: float | None = None
    baseline_x: np.ndarray | None = field(default=None, repr=False)
    build_s: float = 0.0
    # Earlier answers (solution vectors), tried as known points before a sub-MIP: every
    # question has the same rows, so an earlier schedule is often still the best one.
    pool: list[np.ndarray] = field(default_factory=list, repr=False)
    # the last LP basis (models.solve.CompiledModel.basis); highspy objects do not pickle, so
    # it stays in the process that made it
    basis: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["basis"] = None
        return state


@dataclass(frozen=True)
class Response:
    """One answer of a park.

    Attributes
    ----------
    net_kw : numpy.ndarray
        Net import [kW], whole horizon.
    delivered_kw : numpy.ndarray
        Delivery against the baseline on the window steps [kW] (``s (b − net)``).
    cost_yuan : float
        The park's own cost of this schedule [yuan] (no DR money, no priced shortfall in it).
    solve : SolveResult
        Status, gap and times of the solve; its objective is ``cost_yuan`` and its bound is
        moved by the same amount, so the gap is the question's own. Never hidden.
    level_kw : float
        ``R`` (only meaningful for :func:`max_level`).
    under_kw : numpy.ndarray
        Target missed per window step [kW] (only :func:`deliver` allows it).
    x : numpy.ndarray
        The solution vector (for :func:`schedule_of`).
    """

    net_kw: np.ndarray
    delivered_kw: np.ndarray
    cost_yuan: float
    solve: SolveResult
    level_kw: float = 0.0
    under_kw: np.ndarray | None = None
    x: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> str:
        return self.solve.status.value

    @property
    def seconds(self) -> float:
        return self.solve.total_s


def _response_model(park: ResolvedPark, window: list[int], event_type: EventType) -> ParkModel:
    """The park model for a response to ``window`` (the R1 rows are added by :func:`_build`,
    after every park column, so the park's columns keep their numbers)."""
    n = park.grid.steps
    if not window or min(window) < 0 or max(window) >= n:
        raise ValueError(f"park {park.spec.id}: event window is empty or outside 0…{n - 1}")
    return build_park_model(park)


def _build(park: ResolvedPark, window: list[int], event_type: EventType) -> ResponseProblem:
    pm = _response_model(park, window, event_type)
    lm = pm.lm
    w = np.asarray(window, dtype=np.int64)
    sign = 1.0 if event_type == "peak_shaving" else -1.0
    level = lm.var(None, "response_level_kw", 1, 0.0, np.inf)
    under = lm.var(None, "response_under_kw", len(w), 0.0, np.inf)
    # A placeholder right-hand side: every question sets its own U_t on these rows.
    window_rows = lm.rows(
        None,
        "response_window",
        "R1",
        "delivery against the baseline in the event window",
        Terms.of(pm.import_cols[w], sign)
        + Terms.of(pm.export_cols[w], -sign)
        + Terms.of(np.repeat(level, len(w)), 1.0)
        + Terms.of(under, -1.0),
        len(w),
        upper=0.0,
    )
    compiled = compile_linear(lm)
    lp = compiled.lp
    start, index, value = compiled.matrix()
    return ResponseProblem(
        park_id=park.spec.id,
        sign=sign,
        window=w,
        dt_h=park.grid.dt_h,
        cost=np.asarray(lp.col_cost_, dtype=float).copy(),
        offset=float(lp.offset_),
        a_start=start,
        a_index=index,
        a_value=value,
        col_lower=np.asarray(lp.col_lower_, dtype=float).copy(),
        col_upper=np.asarray(lp.col_upper_, dtype=float).copy(),
        row_lower=np.asarray(lp.row_lower_, dtype=float).copy(),
        row_upper=np.asarray(lp.row_upper_, dtype=float).copy(),
        integer=compiled.integer.copy(),
        size=compiled.size,
        import_cols=pm.import_cols,
        export_cols=pm.export_cols,
        level_col=int(level[0]),
        under_cols=under,
        window_rows=window_rows,
        groups=compiled.groups,
    )


def build_response_problem(
    park: ResolvedPark, window: list[int], event_type: EventType
) -> ResponseProblem:
    """Build and compile the park with the response rows of ``window`` (R1).

    Raises
    ------
    ValueError
        An empty window or one outside the horizon.
    """
    t0 = time.perf_counter()
    prob = _build(park, window, event_type)
    prob.build_s = time.perf_counter() - t0
    return prob


def schedule_of(park: ResolvedPark, prob: ResponseProblem, response: Response) -> ParkSchedule:
    """The full, verified park schedule (every asset's columns) of one answer.

    The park model is assembled again (the arrays carry no model objects, so they pickle; it
    costs ~0.03 s on the large park); a deterministic build gives the same columns, which is
    checked.
    """
    if response.x is None:
        raise ValueError(f"park {prob.park_id}: the answer carries no solution vector")
    pm = _response_model(park, prob.window.tolist(), _event_type(prob.sign))
    if pm.lm.num_col + 1 + len(prob.window) != len(response.x):
        raise AssertionError(f"park {prob.park_id}: rebuilt model differs")  # pragma: no cover
    return schedule_from_solved(park, pm, replace(response.solve), response.x)


def _event_type(sign: float) -> EventType:
    return "peak_shaving" if sign > 0 else "valley_filling"


@dataclass
class _Question:
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_upper: np.ndarray
    offset: float


def _question(prob: ResponseProblem) -> _Question:
    """The baseline question: R = 0, u = 0, the window rows free."""
    q = _Question(
        prob.cost.copy(), prob.col_lower.copy(), prob.col_upper.copy(), prob.row_upper, prob.offset
    )
    q.row_upper = prob.row_upper.copy()
    q.row_upper[prob.window_rows] = _INF
    q.col_upper[prob.level_col] = 0.0
    q.col_upper[prob.under_cols] = 0.0
    return q


def _ask(
    prob: ResponseProblem, q: _Question, options: SolverOptions, what: str
) -> tuple[np.ndarray, SolveResult]:
    t0 = time.perf_counter()
    lp = ArrayLp(
        num_col_=len(q.cost),
        num_row_=len(prob.row_lower),
        col_cost_=q.cost,
        offset_=q.offset,
        col_lower_=q.col_lower,
        col_upper_=q.col_upper,
        row_lower_=prob.row_lower,
        row_upper_=q.row_upper,
        a_start=prob.a_start,
        a_index=prob.a_index,
        a_value=prob.a_value,
    )
    compiled = CompiledModel(
        lp=lp,
        columns=[],
        rows=[],
        integer=prob.integer,
        size=prob.size,
        groups=prob.groups,
        basis=prob.basis,
    )
    handoff_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    out = solve_compiled(compiled, options, candidates=prob.pool)
    prob.basis = compiled.basis
    solve_s = time.perf_counter() - t1
    name = f"{prob.park_id} ({what})"
    if out.termination is TerminationCondition.infeasible:
        raise InfeasibleError(name, [], "HiGHS proved infeasibility")
    if out.x is None or out.objective is None:
        raise SolverError(name, out.termination.value, f"no feasible solution ({out.detail})")
    x = np.where(prob.integer & (not options.relax), np.round(out.x), out.x)
    if not any(np.array_equal(x, c) for c in prob.pool):
        prob.pool.append(x)
        del prob.pool[:-POOL_SIZE]
    status = Status.ok if out.termination is TerminationCondition.optimal else Status.warning
    own = serial_dot(prob.cost, x) + float(prob.offset)
    shift = own - out.objective
    message = ""
    if status is Status.warning:
        message = f"{what}: stopped by {out.termination.value} at gap {out.gap:.4%}"
    return x, SolveResult(
        status=status,
        termination=out.termination,
        objective=own,
        bound=None if out.bound is None else out.bound + shift,
        gap=out.gap,
        relaxed=options.relax,
        build_s=0.0,
        handoff_s=handoff_s,
        solve_s=solve_s,
        extract_s=0.0,
        size=prob.size,
        method=out.method,
        message=message,
    )


def _net(prob: ResponseProblem, x: np.ndarray) -> np.ndarray:
    return x[prob.import_cols] - x[prob.export_cols]


def _response(prob: ResponseProblem, x: np.ndarray, solve: SolveResult) -> Response:
    if prob.baseline_net_kw is None:
        raise ValueError(f"park {prob.park_id}: solve the baseline first")
    net = _net(prob, x)
    delivered = prob.sign * (prob.baseline_net_kw[prob.window] - net[prob.window])
    return Response(
        net_kw=net,
        delivered_kw=delivered,
        cost_yuan=float(solve.objective or 0.0),
        solve=solve,
        level_kw=float(x[prob.level_col]),
        under_kw=x[prob.under_cols].copy(),
        x=x,
    )


def solve_baseline(prob: ResponseProblem, options: SolverOptions) -> Response:
    """The park's optimal schedule without the event; stored on ``prob`` as the baseline."""
    x, solve = _ask(prob, _question(prob), options, "baseline")
    prob.baseline_net_kw = _net(prob, x)
    prob.baseline_cost_yuan = float(solve.objective or 0.0)
    prob.baseline_x = x
    return _response(prob, x, solve)


def set_baseline(prob: ResponseProblem, net_kw: np.ndarray, cost_yuan: float) -> None:
    """Measure delivery against a baseline computed elsewhere (e.g. yesterday's schedule)."""
    net = np.asarray(net_kw, dtype=float)
    if net.shape != prob.import_cols.shape:
        raise ValueError(
            f"park {prob.park_id}: baseline has {net.size} steps, the model {prob.import_cols.size}"
        )
    prob.baseline_net_kw = net
    prob.baseline_cost_yuan = float(cost_yuan)


def _baseline_rhs(prob: ResponseProblem) -> np.ndarray:
    if prob.baseline_net_kw is None:
        raise ValueError(f"park {prob.park_id}: solve the baseline first")
    return prob.sign * prob.baseline_net_kw[prob.window]


def respond_to_price(
    prob: ResponseProblem,
    price_yuan_per_kw: np.ndarray,
    options: SolverOptions,
    floor_kw: np.ndarray | None = None,
) -> Response:
    """The park's cheapest schedule when each kW delivered in window step t earns
    ``price_yuan_per_kw[t]`` (a per-step price: ``λ_t dt`` for an energy price, or a master
    dual); ``floor_kw`` keeps delivery at least that in every window step, so that answers at
    rising prices nest (bids).

    Delivery ``d_t = s (b_t − imp_t + exp_t)``, so the reward ``−π_t d_t`` moves ``s π_t`` onto
    the import column and ``−s π_t`` onto the export column of step t (plus a constant).
    """
    price = np.asarray(price_yuan_per_kw, dtype=float)
    if price.shape != prob.window.shape:
        raise ValueError(f"park {prob.park_id}: {price.size} prices for {prob.window.size} steps")
    q = _question(prob)
    w = prob.window
    q.cost[prob.import_cols[w]] += prob.sign * price
    q.cost[prob.export_cols[w]] -= prob.sign * price
    if floor_kw is not None:
        floor = np.asarray(floor_kw, dtype=float)
        if floor.shape != prob.window.shape:
            raise ValueError(
                f"park {prob.park_id}: {floor.size} floors for {prob.window.size} steps"
            )
        q.row_upper[prob.window_rows] = _baseline_rhs(prob) - floor
    x, solve = _ask(prob, q, options, "price response")
    return _response(prob, x, solve)


def max_level(
    prob: ResponseProblem, options: SolverOptions, active: np.ndarray | None = None
) -> Response:
    """The largest delivery ``R`` the park sustains in every window step (F1/F2 on the
    compiled model), or only in the ``active`` ones (a mask over the window: one compiled
    problem then answers every sub-window, as the capacity report asks); the schedule's own
    cost is reported, not minimised."""
    q = _question(prob)
    q.cost = np.zeros_like(prob.cost)
    q.cost[prob.level_col] = -1.0
    q.col_upper[prob.level_col] = _INF
    rhs = _baseline_rhs(prob)
    if active is not None:
        mask = np.asarray(active, dtype=bool)
        if mask.shape != prob.window.shape or not mask.any():
            raise ValueError(f"park {prob.park_id}: active mask must cover the window, not empty")
        rhs = np.where(mask, rhs, _INF)
    q.row_upper[prob.window_rows] = rhs
    # The LP-rounding start proves most windows (measured on the large park: 4 windows in
    # 1.25 s with it, 4.8 s by branch and bound alone, the same levels).
    x, solve = _ask(prob, q, options, "largest sustained level")
    return _response(prob, x, solve)


def _target_question(prob: ResponseProblem, target_kw: np.ndarray) -> tuple[_Question, np.ndarray]:
    """The baseline question with delivery of at least ``target_kw`` in each window step (R1)."""
    target = np.asarray(target_kw, dtype=float)
    if target.shape != prob.window.shape:
        raise ValueError(f"park {prob.park_id}: {target.size} targets for {prob.window.size} steps")
    q = _question(prob)
    q.row_upper[prob.window_rows] = _baseline_rhs(prob) - target
    return q, target


def deliver(
    prob: ResponseProblem,
    target_kw: np.ndarray,
    under_price_yuan_per_kw: float,
    options: SolverOptions,
) -> Response:
    """The park's cheapest schedule delivering ``target_kw`` in each window step, each kW short
    costing ``under_price_yuan_per_kw`` (so an unreachable target is a priced shortfall, never
    an infeasible solve)."""
    q, _ = _target_question(prob, target_kw)
    q.col_upper[prob.under_cols] = _INF
    q.cost[prob.under_cols] = float(under_price_yuan_per_kw)
    x, solve = _ask(prob, q, options, "target delivery")
    return _response(prob, x, solve)


def least_shortfall(
    prob: ResponseProblem, target_kw: np.ndarray, options: SolverOptions
) -> Response:
    """The park's schedule missing the least of ``target_kw`` (kWh summed over the window
    steps; −inf: no target in that step), its own cost ignored: a deliverability check.

    :func:`deliver` prices a missed kW, so a shortfall cheaper than the re-dispatch that would
    avoid it (or one inside the MIP gap of the park's whole daily cost) is a correct answer
    there; a check must not accept it. Here the objective is the shortfall alone, so the
    relative gap is the shortfall's own and a zero-shortfall schedule, when the park has one,
    is found and proven (its earlier answers are tried first: a nested bid answer at the
    cleared level already delivers it). The solve's objective (``cost_yuan``) is still the
    schedule's own cost [yuan]; its gap is the shortfall question's.
    """
    q, target = _target_question(prob, target_kw)
    q.cost = np.zeros_like(prob.cost)
    q.offset = 0.0
    q.col_upper[prob.under_cols] = np.where(np.isfinite(target), _INF, 0.0)
    q.cost[prob.under_cols] = prob.dt_h
    x, solve = _ask(prob, q, options, "least shortfall")
    return _response(prob, x, solve)

"""Day-ahead bids: for each interval, a price–quantity curve of at most 10 non-decreasing
segments for load reduction (``down``) and increase (``up``), every point deliverable.

Construction (docs/model.md, B1–B2). Reduction is offered in the day's dear intervals (import
price at or above the day's median: peak and flat periods) and increase in the cheap ones (at or
below the median: valley and flat), where DR events of each kind fall (jiangsu-facts.md: peak
shaving in peak hours, valley filling in valley and flat periods). For each park and direction,
on the offer window W:

1. the baseline schedule (no DR);
2. at each bid price ``λ_1 < … < λ_J`` (J ≤ 10), the park's cheapest schedule when each kWh
   delivered against the baseline in W earns ``λ_j`` (models.response.respond_to_price; outside
   W a change costs only its energy, so storage charges there and discharges in W), with the
   delivery of answer ``j − 1`` as a floor in every interval of W. So the answers nest:
   ``d^j_t ≥ d^{j−1}_t`` for t in W.

The VPP offers in interval t at price ``λ_j`` the quantity ``Q_{j,t} = max(Σ_p d^j_{p,t}, 0)``
(0 outside W), non-decreasing in j by the nesting. **Deliverability**: whatever the market
clears, interval by interval, let ``J*`` be the highest price level cleared anywhere; schedule
``J*`` of every park together delivers ``Σ_p d^{J*}_{p,t} ≥ Σ_p d^{j_t}_{p,t} = Q_{j_t,t}`` in
every cleared interval (nesting), and where that sum is below zero, every level ≤ J* offers 0,
so nothing was cleared there. :func:`check_cleared` re-solves the parks at cleared quantities to
confirm it.

Why not offer every interval: a reward on reduction in every interval makes shifting worth
nothing (a battery's reduction in one interval is a rebound in another), and a reward on
reduction only (rebound free) needs a binary per interval whose big-M relaxation is so weak
that a day's offers took minutes per park (measured on the bundled Wujin park).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from models.response import (
    ResponseProblem,
    build_response_problem,
    least_shortfall,
    respond_to_price,
    set_baseline,
    solve_baseline,
)
from models.solve import SolverOptions
from models.spec import ResolvedPark
from models.timegrid import TimeGrid
from vpp.allocation import common_grid
from vpp.executor import map_ordered, park_executor
from vpp.spec import MAX_BID_SEGMENTS, bid_price_problem

Direction = Literal["down", "up"]
DIRECTIONS: tuple[Direction, Direction] = ("down", "up")
MAX_SEGMENTS = MAX_BID_SEGMENTS
QUANTITY_TOL_KW = 1e-3
# Near a price where importing more pays (valley filling above the tariff) many schedules tie
# and proving 0.1 % takes minutes (measured on the large benchmark park: 30 s time limits hit
# at 0.75 and 1.0 yuan/kWh, with gaps of 0.12 % and 0.28 %). Every answer starts from the
# previous level's schedule, so a time-limited answer is still a deliverable schedule at least
# as good as that one; its status (warning) and gap are reported.
BID_QUESTION_TIME_LIMIT_S = 5.0
# Those answers also show that branch and bound rarely moves once its start is in: on the large
# benchmark park the six up-direction answers from 0.75 yuan/kWh on ended at 5 s with the
# schedule and the gap they had after the first second. So a question also stops once neither
# the incumbent nor the bound has improved for this long (termination stall_limit, a warning
# with its gap, like the time limit); it only applies where branch and bound runs (below).
BID_QUESTION_STALL_S = 0.5
# And branch and bound is not run at all once the LP-rounding start is in (the restricted and
# full sub-MIPs, or an earlier answer): on 4 large benchmark parks, all 80 answers had the same
# delivery and the same gap with and without it (the bound never rose above the LP bound), and
# the up direction took 8.7–9.8 s a park without it against 13.8–16.2 s with it (HiGHS needs
# ~1.3 s of presolve and root LP before a stall can stop it). Such answers are reported with
# termination start_only, status warning and their gap to the LP bound.
BID_QUESTION_BRANCH_AND_BOUND = False


def bid_options(
    time_limit_s: float = BID_QUESTION_TIME_LIMIT_S,
    stall_s: float | None = BID_QUESTION_STALL_S,
    branch_and_bound: bool = BID_QUESTION_BRANCH_AND_BOUND,
) -> SolverOptions:
    """Solver options of one bid question (``stall_s`` None or 0: no stall stop)."""
    return SolverOptions(
        time_limit_s=time_limit_s,
        mip_stall_s=stall_s or None,
        branch_and_bound=branch_and_bound,
    )


def offer_window(park: ResolvedPark, direction: Direction) -> list[int]:
    """The intervals the park offers ``direction`` in (see the module)."""
    price = park.import_price_yuan_per_kwh
    mid = float(np.median(price))
    keep = price >= mid - 1e-9 if direction == "down" else price <= mid + 1e-9
    return np.flatnonzero(keep).tolist()


@dataclass
class ParkOffer:
    """One park's nested answers in one direction.

    Attributes
    ----------
    delivered_kw : numpy.ndarray
        ``d^j_t`` [kW], levels × intervals of the day (negative: rebound; 0 outside the offer
        window, where nothing is offered).
    redispatch_cost_yuan : list of float
        Each answer's cost minus the baseline's [yuan].
    """

    park_id: str
    direction: Direction
    prices_yuan_per_kwh: list[float]
    delivered_kw: np.ndarray
    redispatch_cost_yuan: list[float]
    statuses: list[str]
    prob: ResponseProblem = field(repr=False)
    seconds: float


def offer_task(
    args: tuple[ResolvedPark, list[float], SolverOptions],
) -> tuple[ParkOffer, ParkOffer]:
    """Both directions for one park (runs in a worker; the baseline is solved once)."""
    park, prices, options = args
    t0 = time.perf_counter()
    n = park.grid.steps
    out = []
    base = None
    for direction in DIRECTIONS:
        window = offer_window(park, direction)
        event_type = "peak_shaving" if direction == "down" else "valley_filling"
        prob = build_response_problem(park, window, event_type)  # type: ignore[arg-type]
        if base is None:
            base = solve_baseline(prob, options)
        else:
            set_baseline(prob, base.net_kw, base.cost_yuan)
        floor = None
        rows, costs, statuses = [], [], []
        for price in prices:
            r = respond_to_price(prob, np.full(len(window), price * park.grid.dt_h), options, floor)
            floor = r.delivered_kw
            full = np.zeros(n)
            full[window] = r.delivered_kw
            rows.append(full)
            costs.append(r.cost_yuan - base.cost_yuan)
            statuses.append(r.status)
        out.append(
            ParkOffer(
                park.spec.id,
                direction,
                list(prices),
                np.array(rows),
                costs,
                statuses,
                prob,
                time.perf_counter() - t0,
            )
        )
    return out[0], out[1]


@dataclass
class Bids:
    """The VPP's day-ahead offers."""

    grid: TimeGrid
    prices_yuan_per_kwh: list[float]
    offers: dict[Direction, list[ParkOffer]]
    seconds: float
    checks: list[dict[str, Any]] = field(default_factory=list)

    def quantity_kw(self, direction: Direction) -> np.ndarray:
        """``Q_{j,t} = max(Σ_p d^j_{p,t}, 0)`` [kW], levels × intervals (non-decreasing down
        each column). The sum is signed: one park's rebound in an interval counts against
        another's reduction, as the meter will count it."""
        total = np.sum([o.delivered_kw for o in self.offers[direction]], axis=0)
        return np.clip(total, 0.0, None)

    def segments(self, direction: Direction, interval: int) -> list[tuple[float, float]]:
        """The interval's curve: (price, cumulative quantity) where the quantity grows."""
        q = self.quantity_kw(direction)[:, interval]
        out: list[tuple[float, float]] = []
        for price, qty in zip(self.prices_yuan_per_kwh, q, strict=True):
            if qty > (out[-1][1] if out else 0.0) + QUANTITY_TOL_KW:
                out.append((price, float(qty)))
        return out

    @property
    def statuses(self) -> list[str]:
        return [s for offers in self.offers.values() for o in offers for s in o.statuses]

    def as_dict(self, vpp_id: str) -> dict[str, Any]:
        idx = self.grid.index
        step = dt.timedelta(minutes=self.grid.resolution_min)
        return {
            "format": "parkvpp-bids/1",
            "vpp": vpp_id,
            "date": idx[0].date().isoformat(),
            "interval_minutes": self.grid.resolution_min,
            "units": {"price": "yuan/kWh", "quantity": "kW (cumulative at that price)"},
            "prices_yuan_per_kwh": self.prices_yuan_per_kwh,
            "directions": {
                d: [
                    {
                        "interval": t,
                        "start": idx[t].isoformat(),
                        "end": (idx[t] + step).isoformat(),
                        "segments": [
                            {"price_yuan_per_kwh": p, "quantity_kw": round(q, 3)}
                            for p, q in self.segments(d, t)
                        ],
                    }
                    for t in range(self.grid.steps)
                ]
                for d in DIRECTIONS
            },
            "parks": {
                o.park_id: {
                    d: {
                        # signed: reduction (down) or increase (up) minus rebound, per price level
                        "delivered_kwh": [
                            round(float(v) * self.grid.dt_h, 3)
                            for v in self.park(d, o.park_id).delivered_kw.sum(1)
                        ],
                        "redispatch_cost_yuan": [
                            round(c, 4) for c in self.park(d, o.park_id).redispatch_cost_yuan
                        ],
                        "statuses": self.park(d, o.park_id).statuses,
                    }
                    for d in DIRECTIONS
                }
                for o in self.offers["down"]
            },
            "checks": self.checks,
            "seconds": round(self.seconds, 3),
        }

    def park(self, direction: Direction, park_id: str) -> ParkOffer:
        return next(o for o in self.offers[direction] if o.park_id == park_id)

    def rows(self) -> list[dict[str, Any]]:
        """bids.csv: one row per interval, direction and segment."""
        idx = self.grid.index
        step = dt.timedelta(minutes=self.grid.resolution_min)
        out = []
        for d in DIRECTIONS:
            for t in range(self.grid.steps):
                for k, (p, q) in enumerate(self.segments(d, t), start=1):
                    out.append(
                        {
                            "interval_start": idx[t].isoformat(),
                            "interval_end": (idx[t] + step).isoformat(),
                            "direction": d,
                            "segment": k,
                            "price_yuan_per_kwh": p,
                            "quantity_kw": round(q, 3),
                        }
                    )
        return out


def build_bids(
    parks: list[ResolvedPark],
    prices_yuan_per_kwh: list[float],
    options: SolverOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Bids:
    """Every park's nested answers (in parallel) and the VPP's curves (see the module).

    Raises
    ------
    ValueError
        More than 10 prices, prices not strictly increasing or not positive, parks on
        different grids.
    """
    prices = [float(p) for p in prices_yuan_per_kwh]
    problem = bid_price_problem(prices)
    if problem:
        raise ValueError(problem)
    grid = common_grid(parks)
    t0 = time.perf_counter()
    opts = options or bid_options()
    with park_executor(scheduler, workers, tasks=len(parks)) as ex:
        pairs = map_ordered(ex, offer_task, [(p, prices, opts) for p in parks], progress)
    return Bids(
        grid,
        prices,
        {"down": [a for a, _ in pairs], "up": [b for _, b in pairs]},
        time.perf_counter() - t0,
    )


def check_task(args: tuple[ResponseProblem, np.ndarray, SolverOptions]) -> dict[str, Any]:
    """Re-solve one park for the least shortfall from its cleared quantities (−inf where
    nothing was cleared)."""
    prob, target, options = args
    r = least_shortfall(prob, target, options)
    cleared = np.isfinite(target)
    under = np.where(cleared, np.clip(target - r.delivered_kw, 0.0, None), 0.0)
    return {
        "park_id": prob.park_id,
        "max_shortfall_kw": round(float(under.max(initial=0.0)), 6),
        "status": r.status,
        "gap": r.solve.gap,
        "delivered_kw": r.delivered_kw,
    }


def check_cleared(
    bids: Bids,
    direction: Direction,
    levels: np.ndarray,
    label: str,
    options: SolverOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Clear the ``direction`` curves at price level ``levels[t]`` in interval t (−1: nothing
    cleared), split each cleared quantity into the parks' answers at that level, re-solve
    every park for the least shortfall from its part there (free elsewhere; its cost ignored,
    :func:`models.response.least_shortfall`) and report the VPP's shortfall against the
    cleared quantities; ``deliverable`` is False when any interval misses more than 1e-3 kW.
    A park whose re-solve stops short of optimal says so in its ``status`` and ``gap``.
    """
    lv = np.asarray(levels, dtype=int)
    if lv.shape != (bids.grid.steps,) or lv.max() >= len(bids.prices_yuan_per_kwh):
        raise ValueError(f"levels: one per interval, each below {len(bids.prices_yuan_per_kwh)}")
    # a check proves a shortfall, so it never stops at a start (bid_options may say so)
    check_options = replace(options or SolverOptions(), branch_and_bound=True)
    q = bids.quantity_kw(direction)
    cols = np.arange(lv.size)
    cleared_kw = np.where(lv >= 0, q[np.clip(lv, 0, None), cols], 0.0)
    # An interval cleared at a level offering 0 carries no commitment.
    committed = cleared_kw > QUANTITY_TOL_KW
    jobs = []
    for o in bids.offers[direction]:
        # each park's part is its signed answer at the cleared level: a rebound it had there
        # is allowed, it is already netted in the offered sum
        part = np.where(committed, o.delivered_kw[np.clip(lv, 0, None), cols], -np.inf)
        jobs.append((o.prob, part[o.prob.window], check_options))
    with park_executor(scheduler, workers, tasks=len(jobs)) as ex:
        answers = map_ordered(ex, check_task, jobs)
    delivered = np.zeros(lv.size)
    for o, a in zip(bids.offers[direction], answers, strict=True):
        delivered[o.prob.window] += a.pop("delivered_kw")
    short = np.where(committed, np.clip(cleared_kw - delivered, 0.0, None), 0.0)
    worst = float(short.max(initial=0.0))
    return {
        "scenario": label,
        "direction": direction,
        "cleared_kwh": round(float(cleared_kw.sum() * bids.grid.dt_h), 3),
        "delivered_kwh_in_cleared_intervals": round(
            float(np.where(committed, delivered, 0.0).sum() * bids.grid.dt_h), 3
        ),
        "max_shortfall_kw": round(worst, 6),
        "deliverable": worst <= QUANTITY_TOL_KW,
        "parks": answers,
    }


def standard_checks(
    bids: Bids,
    options: SolverOptions | None = None,
    *,
    seed: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """The checks ``vpp bid`` runs, per direction: every interval cleared at the highest price
    (the whole offer), and a random clearing (a random level or nothing per interval)."""
    rng = np.random.default_rng(seed)
    n, top = bids.grid.steps, len(bids.prices_yuan_per_kwh) - 1
    out = []
    for d in DIRECTIONS:
        out.append(
            check_cleared(
                bids,
                d,
                np.full(n, top),
                f"{d}: every interval cleared at {bids.prices_yuan_per_kwh[top]:g} yuan/kWh",
                options,
                scheduler=scheduler,
                workers=workers,
            )
        )
        out.append(
            check_cleared(
                bids,
                d,
                rng.integers(-1, top + 1, n),
                f"{d}: random clearing (seed {seed})",
                options,
                scheduler=scheduler,
                workers=workers,
            )
        )
    bids.checks = out
    return out

"""Intraday re-dispatch: re-optimise a park from "now" with its measured state over the rest of
the horizon, keeping accepted DR commitments.

The park of the day (its resolved forecasts and prices) is cut at now's step ``k``: every
array keeps steps ``k…n−1``, and each asset's own ``restrict`` (models/assets/*.py) turns its
measured state into its new initial conditions: batteries start at the measured state of
charge with what is left of their discharge budget, EV sessions keep the energy they still
need, a started job runs the rest of its profile, curtailment keeps what is left of its
budget. The month's import peak so far replaces the park file's (demand charge, P5).

A state file (``ParkState``) names, per asset, the quantities its ``restrict`` reads; what it
leaves out must be measured, except that :func:`state_at` gives the state a schedule predicts
at a time, so runs chain: the state after run 1 at the time of run 2 is what run 2 starts from.

Commitments (accepted DR targets, per step: the highest net import for peak shaving, the
lowest for valley filling) are the target question of models/response.py against that profile,
each kW missed priced above anything a miss could save (never an infeasible solve), and the
miss is reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.assets import handler_for
from models.errors import InputProblem, ParkInputError
from models.response import build_response_problem, deliver, schedule_of, set_baseline
from models.results import ParkSchedule, schedule_park
from models.solve import SolverOptions
from models.spec import ResolvedPark
from models.timegrid import TimeGrid


def default_miss_penalty_yuan_per_kwh(park: ResolvedPark) -> float:
    """What a missed committed kWh costs unless the commitment says otherwise: twice the most
    a kWh of import can cost in one step (its price, plus the demand charge of raising the
    month's peak by a kW for one step), so the park misses only what it cannot deliver.

    A flat 10 yuan/kWh was measured to be too little: with a demand charge of 40 yuan/kW-month
    a park preferred missing a commitment (2.5 yuan per kW-step) to raising its peak later.
    """
    dt_h = park.grid.dt_h
    g = park.spec.grid
    worst = float(park.import_price_yuan_per_kwh.max()) + g.demand_charge_yuan_per_kw_month / dt_h
    return 2.0 * max(worst, 1.0)


class ParkState(BaseModel):
    """A park's measured state at ``time`` (the state file).

    Parameters
    ----------
    time : datetime
        Now, tz-aware, on the park's grid; the re-dispatch covers the steps from it on.
    month_peak_so_far_kw : float, optional
        The month's highest metered import so far [kW] (default: the park file's).
    assets : dict
        Per asset id, its measured quantities: battery ``soc_kwh`` (required) and
        ``discharged_kwh``; EV charging ``delivered_kwh`` {session number: kWh};
        shiftable load ``started_at`` (time or null); curtailable load ``curtailed_kwh``.
    """

    model_config = ConfigDict(extra="forbid")
    time: dt.datetime
    month_peak_so_far_kw: float | None = Field(None, ge=0)
    assets: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Commitment:
    """An accepted DR commitment over some steps of the day grid.

    Parameters
    ----------
    type : {"peak_shaving", "valley_filling"}
    steps : list of int
        Steps of the day's grid.
    net_import_kw : numpy.ndarray
        Per step: the highest net import (peak shaving) or the lowest (valley filling) [kW].
    miss_penalty_yuan_per_kwh : float, optional
        Default :func:`default_miss_penalty_yuan_per_kwh` of the park.
    """

    type: Literal["peak_shaving", "valley_filling"]
    steps: list[int]
    net_import_kw: np.ndarray
    miss_penalty_yuan_per_kwh: float | None = None


# How a measured quantity of a later state combines with the state a run started from: totals
# since the start of the horizon add up, a start time already known stays, levels are replaced.
_ADDITIVE = frozenset({"discharged_kwh", "curtailed_kwh", "delivered_kwh"})
_KEPT = frozenset({"started_at"})


def _carry(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out = dict(before)
    for key, value in after.items():
        if key in _ADDITIVE and key in before:
            if isinstance(value, dict):
                merged = {str(k): float(v) for k, v in before[key].items()}
                for k, v in value.items():
                    merged[str(k)] = merged.get(str(k), 0.0) + float(v)
                out[key] = merged
            else:
                out[key] = float(before[key]) + float(value)
        elif key in _KEPT and before.get(key) is not None:
            continue
        else:
            out[key] = value
    return out


@dataclass
class Redispatch:
    """The outcome of one intraday run."""

    park: ResolvedPark  # the remaining park (grid from now)
    schedule: ParkSchedule
    missed_kw: np.ndarray  # per committed step still ahead (0 when kept)
    committed_steps: list[int]  # on the remaining grid
    start_state: ParkState | None = None  # what the run started from

    def state_at(self, time: dt.datetime) -> ParkState:
        """The state this run's schedule predicts at ``time``, on the day's terms: totals since
        the start of the day (not of this run), start times of jobs that started before this
        run, and assets this run no longer had (finished jobs, departed vehicles) carried over
        from the state it started from, so the next run can start from it."""
        later = state_at(self.schedule, time)
        if self.start_state is None:
            return later
        assets = {aid: dict(v) for aid, v in self.start_state.assets.items()}
        for aid, measured in later.assets.items():
            assets[aid] = _carry(assets.get(aid, {}), measured)
        return later.model_copy(update={"assets": assets})


def _step(grid: TimeGrid, time: dt.datetime, what: str) -> int:
    if time.tzinfo is None:
        raise ParkInputError([InputProblem(what, "must carry a UTC offset (e.g. +08:00)")])
    k = grid.step_of(time)
    if k != grid.step_of(time, rounding="ceil") or not 0 <= k < grid.steps:
        raise ParkInputError(
            [
                InputProblem(
                    what,
                    f"{time.isoformat()} is not a step of the horizon "
                    f"{grid.start.isoformat()} + {grid.steps} × {grid.resolution_min} min",
                )
            ]
        )
    return k


def remaining_park(park: ResolvedPark, state: ParkState) -> ResolvedPark:
    """The park from ``state.time`` on, its assets starting from the measured state.

    Raises
    ------
    ParkInputError
        A time off the grid, an unknown asset, or a measured value an asset rejects (named).
    """
    k = _step(park.grid, state.time, "time")
    problems: list[InputProblem] = []
    known = {a.id for a in park.assets}
    for aid in state.assets:
        if aid not in known:
            problems.append(InputProblem(f"assets.{aid}", "no such asset in the park"))
    grid = TimeGrid(
        start=park.grid.index[k].to_pydatetime(),
        steps=park.grid.steps - k,
        resolution_min=park.grid.resolution_min,
    )
    specs, data = [], {}
    for spec in park.assets:
        found: list[InputProblem] = []
        out = handler_for(spec).restrict(
            spec, park.asset_data[spec.id], park.grid, k, state.assets.get(spec.id, {}), found
        )
        problems += [
            dataclasses.replace(p, field=f"assets.{spec.id}.{p.field}", asset_id=spec.id)
            for p in found
        ]
        if out is not None:
            specs.append(out[0])
            data[out[0].id] = out[1]
    if problems:
        raise ParkInputError(problems, f"state of {park.spec.id} at {state.time.isoformat()}")
    g = park.spec.grid
    if state.month_peak_so_far_kw is not None:
        g = g.model_copy(update={"month_peak_so_far_kw": state.month_peak_so_far_kw})
    spec = park.spec.model_copy(update={"assets": specs, "grid": g})
    return ResolvedPark(
        spec=spec,
        grid=grid,
        load_kw=park.load_kw[k:].copy(),
        import_price_yuan_per_kwh=park.import_price_yuan_per_kwh[k:].copy(),
        export_price_yuan_per_kwh=park.export_price_yuan_per_kwh[k:].copy(),
        asset_data=data,
        source=park.source,
    )


def state_at(schedule: ParkSchedule, time: dt.datetime) -> ParkState:
    """The state ``schedule`` predicts at ``time`` (a step of its grid, or its end)."""
    park = schedule.park
    grid = park.grid
    k = grid.steps if time == grid.end else _step(grid, time, "time")
    imp = schedule.frame["import_kw"].to_numpy()[:k]
    peak = max(park.spec.grid.month_peak_so_far_kw, float(imp.max(initial=0.0)))
    assets = {}
    for spec in park.assets:
        measured = handler_for(spec).measured_at(
            schedule.assets[spec.id], spec, park.asset_data[spec.id], grid, k
        )
        if measured:
            assets[spec.id] = measured
    return ParkState(time=time, month_peak_so_far_kw=peak, assets=assets)


def redispatch(
    park: ResolvedPark,
    state: ParkState,
    commitments: list[Commitment] | None = None,
    options: SolverOptions | None = None,
) -> Redispatch:
    """Re-optimise ``park`` (the day's) from ``state.time`` on, keeping ``commitments``.

    Raises
    ------
    ParkInputError
        A bad state (see :func:`remaining_park`) or commitments that mix types.
    """
    rest = remaining_park(park, state)
    k = park.grid.steps - rest.grid.steps
    opts = options or SolverOptions()
    ahead = [(c, [t for t in c.steps if t >= k]) for c in commitments or []]
    ahead = [(c, s) for c, s in ahead if s]
    if not ahead:
        return Redispatch(rest, schedule_park(rest, opts), np.zeros(0), [], state)
    types = {c.type for c, _ in ahead}
    if len(types) > 1:
        raise ParkInputError(
            [InputProblem("commitments", "peak shaving and valley filling at once")],
            park.spec.id,
        )
    cap = np.full(rest.grid.steps, np.nan)
    penalty = 0.0
    for c, steps in ahead:
        by_step = dict(zip(c.steps, np.asarray(c.net_import_kw, dtype=float), strict=True))
        for t in steps:
            cap[t - k] = by_step[t]
        own = c.miss_penalty_yuan_per_kwh
        penalty = max(penalty, default_miss_penalty_yuan_per_kwh(rest) if own is None else own)
    window = np.flatnonzero(~np.isnan(cap)).tolist()
    event_type = ahead[0][0].type
    prob = build_response_problem(rest, window, event_type)
    # the committed profile is the "baseline" the park must not exceed (peak shaving) or
    # fall below (valley filling): delivery against it ≥ 0, each kW short priced
    profile = np.where(np.isnan(cap), 0.0, cap)
    set_baseline(prob, profile, 0.0)
    r = deliver(prob, np.zeros(len(window)), penalty * rest.grid.dt_h, opts)
    missed = r.under_kw if r.under_kw is not None else np.zeros(len(window))
    return Redispatch(rest, schedule_of(rest, prob, r), np.asarray(missed), window, state)


def committed_plan(
    park: ResolvedPark, commitments: list[Commitment], options: SolverOptions | None = None
) -> Redispatch:
    """The day's plan with the commitments in it, from the park file's initial state: where
    the park should be at any time once it accepted them (a battery charged before the event,
    say), the default state of an intraday run that has no measurement."""
    initial = state_at(schedule_park(park, options), park.grid.start)
    return redispatch(park, initial, commitments, options)

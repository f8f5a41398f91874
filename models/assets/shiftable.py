"""Shiftable production job: a fixed power profile that starts once inside a window.

Equations (docs/model.md §Shiftable job): J1 one start (at most one when the run is optional),
J2 power as the start-weighted profile (an expression, not a constraint).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from models.assets.base import (
    TOL,
    AssetHandler,
    AssetResult,
    AssetSpecBase,
    AssetTerms,
    MeasuredState,
    ResolveContext,
    Solved,
    Timestamp,
    to_time,
)
from models.errors import InputProblem
from models.linear import BlockBuilder, Cost, Terms
from models.timegrid import TimeGrid, TimeGridError


class ShiftableLoadSpec(AssetSpecBase):
    """A job that must run once, uninterrupted, with a known power profile.

    Parameters
    ----------
    power_kw : list of float
        Power of each step of the job [kW], at ``profile_resolution_min``.
    profile_resolution_min : int, optional
        Resolution of ``power_kw`` [min]; default the horizon's.
    earliest_start, latest_end : str or datetime, optional
        ISO timestamps with offset, or ``HH:MM`` on the horizon's first day; default the
        horizon's start and end.
    value_yuan : float, optional
        If given, running the job is optional and earns this value [yuan].
    """

    type: Literal["shiftable_load"]
    power_kw: list[float] = Field(min_length=1)
    profile_resolution_min: int | None = None
    earliest_start: Timestamp | None = None
    latest_end: Timestamp | None = None
    value_yuan: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _nonneg(self) -> ShiftableLoadSpec:
        if any(p < 0 for p in self.power_kw):
            raise ValueError("power_kw values must be ≥ 0 (a job consumes power)")
        return self


@dataclass(frozen=True)
class JobData:
    profile_kw: np.ndarray  # at grid resolution
    starts: np.ndarray  # feasible start steps
    optional: bool


def _profile_on_grid(spec: ShiftableLoadSpec, grid: TimeGrid) -> np.ndarray:
    prof = np.asarray(spec.power_kw, dtype=float)
    res = spec.profile_resolution_min or grid.resolution_min
    if res == grid.resolution_min:
        return prof
    if res > grid.resolution_min:
        if res % grid.resolution_min:
            raise ValueError(
                f"profile_resolution_min {res} is not a multiple of {grid.resolution_min}"
            )
        return np.repeat(prof, res // grid.resolution_min)
    k = grid.resolution_min // res
    if grid.resolution_min % res or len(prof) % k:
        raise ValueError(
            f"a {len(prof)}-value profile at {res} min cannot be averaged into "
            f"{grid.resolution_min}-minute steps"
        )
    return np.asarray(prof.reshape(-1, k).mean(axis=1), dtype=float)


def resolve(spec: ShiftableLoadSpec, ctx: ResolveContext, problems: list[InputProblem]) -> JobData:
    grid = ctx.grid
    empty = JobData(np.zeros(1), np.zeros(0, dtype=int), spec.value_yuan is not None)
    try:
        prof = _profile_on_grid(spec, grid)
    except ValueError as exc:
        problems.append(InputProblem("power_kw", str(exc), spec.id))
        return empty
    try:
        lo = (
            0
            if spec.earliest_start is None
            else grid.step_of(to_time(spec.earliest_start, grid), rounding="ceil")
        )
        hi = (
            grid.steps
            if spec.latest_end is None
            else grid.step_of(to_time(spec.latest_end, grid), rounding="floor")
        )
    except (ValueError, TimeGridError) as exc:
        problems.append(InputProblem("earliest_start/latest_end", str(exc), spec.id))
        return empty
    lo, hi = max(lo, 0), min(hi, grid.steps)
    n = len(prof)
    if hi - lo < n:
        problems.append(
            InputProblem(
                "latest_end",
                f"the job lasts {n * grid.dt_h:g} h but its window inside the horizon is "
                f"{max(hi - lo, 0) * grid.dt_h:g} h",
                spec.id,
            )
        )
        return empty
    return JobData(prof, np.arange(lo, hi - n + 1), spec.value_yuan is not None)


def build(b: BlockBuilder, spec: ShiftableLoadSpec, data: JobData, grid: TimeGrid) -> AssetTerms:
    n = len(data.profile_kw)
    start = b.var("start", len(data.starts), 0.0, 1.0, integer=True)
    b.rows(
        "one_start",
        "J1",
        "one start in window",
        Terms.of(start).summed(),
        1,
        0.0 if data.optional else 1.0,
        1.0,
    )
    # J2: a start at k draws the profile over k … k + n − 1 (negative: consumption)
    return AssetTerms(
        net_kw=Terms.of(
            np.repeat(start, n),
            np.tile(-data.profile_kw, len(start)),
            index=(data.starts[:, None] + np.arange(n)[None, :]).ravel(),
        ),
        costs_yuan=(
            {"job_value": Cost(Terms.of(start, -float(spec.value_yuan or 0.0)))}
            if data.optional
            else {}
        ),
    )


def extract(v: Solved, spec: ShiftableLoadSpec, data: JobData, grid: TimeGrid) -> AssetResult:
    x = np.asarray(v["start"], dtype=float)
    n = len(data.profile_kw)
    power = np.zeros(grid.steps)
    running = np.zeros(grid.steps)
    records = []
    for k, w in zip(data.starts.tolist(), x.tolist(), strict=True):
        if w > 1e-6:
            power[k : k + n] += w * data.profile_kw
            records.append({"start_step": k, "start": grid.iso[k], "weight": w})
        if w > 0.5:
            running[k : k + n] = 1.0
    return AssetResult({"power_kw": power, "running": running}, net_kw=-power, records=records)


def costs(
    res: AssetResult, spec: ShiftableLoadSpec, data: JobData, grid: TimeGrid
) -> dict[str, float]:
    if not data.optional:
        return {}
    runs = sum(r["weight"] for r in res.records)
    return {"job_value": -float(spec.value_yuan or 0.0) * runs}


def verify(
    res: AssetResult, spec: ShiftableLoadSpec, data: JobData, grid: TimeGrid, relaxed: bool
) -> list[str]:
    runs = sum(r["weight"] for r in res.records)
    if runs > 1 + TOL or (not data.optional and abs(runs - 1) > TOL):
        return [f"job {spec.id}: runs {runs:.3f} times"]
    if relaxed:
        return []
    if any(min(r["weight"], 1 - r["weight"]) > TOL for r in res.records):
        return [f"job {spec.id}: fractional start"]
    expected = np.zeros(grid.steps)
    for r in res.records:
        k = r["start_step"]
        expected[k : k + len(data.profile_kw)] = data.profile_kw
    if np.any(np.abs(expected - res.columns["power_kw"]) > TOL * max(1.0, expected.max())):
        return [f"job {spec.id}: power does not follow its profile"]
    return []


def net_range(
    spec: ShiftableLoadSpec, data: JobData, grid: TimeGrid
) -> tuple[np.ndarray, np.ndarray]:
    n = len(data.profile_kw)
    # the largest draw at each step over every start that covers it
    most = np.zeros(grid.steps)
    np.maximum.at(
        most,
        (data.starts[:, None] + np.arange(n)[None, :]).ravel(),
        np.tile(data.profile_kw, len(data.starts)),
    )
    return -most, np.zeros(grid.steps)


def restrict(
    spec: ShiftableLoadSpec,
    data: JobData,
    grid: TimeGrid,
    k: int,
    state: MeasuredState,
    problems: list[InputProblem],
) -> tuple[ShiftableLoadSpec, JobData] | None:
    """From step k on. A job that started (``started_at``, a time of the grid) runs the rest of
    its profile from k, as a fixed load; one that has finished is gone; one not started keeps
    the starts still ahead (a mandatory job with none left cannot be scheduled)."""
    n = len(data.profile_kw)
    started = state.get("started_at")
    if started is not None:
        when = started if isinstance(started, dt.datetime) else dt.datetime.fromisoformat(started)
        try:
            s0 = grid.step_of(when)
        except ValueError as exc:
            problems.append(InputProblem("started_at", str(exc), spec.id))
            return None
        if s0 >= k or s0 < 0:
            problems.append(
                InputProblem("started_at", f"{when.isoformat()} is not before now", spec.id)
            )
            return None
        if s0 + n <= k:
            return None
        rest = data.profile_kw[k - s0 :].copy()
        return spec, JobData(profile_kw=rest, starts=np.array([0]), optional=False)
    starts = data.starts[(data.starts >= k) & (data.starts + n <= grid.steps)] - k
    if starts.size == 0:
        if not data.optional:
            problems.append(
                InputProblem(
                    "started_at",
                    f"not started and no start is left from {grid.index[k]:%H:%M} on",
                    spec.id,
                )
            )
        return None
    return spec, JobData(profile_kw=data.profile_kw, starts=starts, optional=data.optional)


def measured_at(
    res: AssetResult, spec: ShiftableLoadSpec, data: JobData, grid: TimeGrid, k: int
) -> dict[str, Any]:
    """When the job started, if it started before step k in this schedule."""
    started = [r for r in res.records if r["start_step"] < k and r["weight"] > 0.5]
    return {"started_at": started[0]["start"] if started else None}


HANDLER: AssetHandler[ShiftableLoadSpec, JobData] = AssetHandler(
    type_name="shiftable_load",
    spec_class=ShiftableLoadSpec,
    resolve=resolve,
    build=build,
    extract=extract,
    costs=costs,
    verify=verify,
    net_range=net_range,
    restrict=restrict,
    measured_at=measured_at,
)

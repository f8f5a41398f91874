"""EV charging depot: sessions with arrival, departure and energy; optional V2G.

Equations (docs/model.md §EV): E1 session energy (with priced unmet-energy slack), E2 site
limit, E3 V2G energy never below the arrival level.

A session's window is the steps fully inside [arrival, departure) and the horizon. A session
that extends beyond the horizon keeps the in-horizon share of its energy (pro rata of its stay),
an explicit assumption stated in docs/model.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
from models.series import SeriesError, data_path
from models.timegrid import TimeGrid, TimeGridError


class EvSession(BaseModel):
    """One vehicle's stay.

    Parameters
    ----------
    arrival, departure : str or datetime
        ISO timestamps with offset, or ``HH:MM`` on the horizon's first day (a departure at or
        before the arrival time of day is on the next day).
    energy_kwh : float
        Energy wanted by departure [kWh].
    max_power_kw : float, optional
        The vehicle's charging limit [kW]; default the charger's power.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    arrival: Timestamp
    departure: Timestamp
    energy_kwh: float = Field(ge=0)
    max_power_kw: float | None = Field(None, gt=0)


class EvChargingSpec(AssetSpecBase):
    """A group of chargers behind one site limit.

    Parameters
    ----------
    chargers : int
        Number of charge points (a session occupies one for its whole stay).
    charger_power_kw : float
        Power of each charge point [kW].
    site_limit_kw : float
        Limit of the depot's connection [kW].
    sessions : list of EvSession, or CSV path
        CSV columns ``arrival, departure, energy_kwh[, max_power_kw]``.
    v2g : bool
        Vehicles may discharge to the park (never below their arrival energy).
    unmet_energy_penalty_yuan_per_kwh : float
        Price of each kWh not delivered by departure [yuan/kWh] (the named slack).
    """

    type: Literal["ev_charging"]
    chargers: int = Field(gt=0)
    charger_power_kw: float = Field(gt=0)
    site_limit_kw: float = Field(gt=0)
    sessions: list[EvSession] | str = Field(default_factory=list)
    v2g: bool = False
    unmet_energy_penalty_yuan_per_kwh: float = Field(3.0, ge=0)


@dataclass(frozen=True)
class EvData:
    first: np.ndarray  # first step of each session's window
    last: np.ndarray  # one past the last step
    energy_kwh: np.ndarray  # energy required within the horizon
    power_kw: np.ndarray  # per-session power limit
    limit_kw: float  # min(site limit, chargers × charger power)
    # each session's number in the day's list (intraday drops sessions gone by; the state
    # file and the schedule's records name sessions by this number)
    ids: np.ndarray | None = None
    # V2G: energy each session already holds above its arrival level [kWh] (intraday: what it
    # charged before now, which it may give back); 0 for a day-ahead schedule
    stored_kwh0: np.ndarray | None = None

    def session_ids(self) -> np.ndarray:
        return np.arange(len(self.first)) if self.ids is None else self.ids

    def initial_stored_kwh(self) -> np.ndarray:
        return np.zeros(len(self.first)) if self.stored_kwh0 is None else self.stored_kwh0


def _load_sessions(
    spec: EvChargingSpec, base_dir: Path, problems: list[InputProblem]
) -> list[EvSession]:
    if not isinstance(spec.sessions, str):
        return list(spec.sessions)
    try:
        path = data_path(spec.sessions, base_dir)
    except SeriesError as exc:
        problems.append(InputProblem("sessions", str(exc), spec.id))
        return []
    if not path.is_file():
        problems.append(
            InputProblem("sessions", f"CSV file {spec.sessions} does not exist", spec.id)
        )
        return []
    frame = pd.read_csv(path, dtype={"arrival": str, "departure": str})
    missing = {"arrival", "departure", "energy_kwh"} - set(frame.columns)
    if missing:
        problems.append(
            InputProblem("sessions", f"{path} lacks columns {sorted(missing)}", spec.id)
        )
        return []
    out: list[EvSession] = []
    for i, row in enumerate(frame.to_dict("records")):
        record = {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
        try:
            out.append(EvSession.model_validate(record, strict=False))
        except ValidationError as exc:
            problems.append(
                InputProblem(f"sessions[{i}] (CSV row {i + 2})", exc.errors()[0]["msg"], spec.id)
            )
    return out


def resolve(spec: EvChargingSpec, ctx: ResolveContext, problems: list[InputProblem]) -> EvData:
    grid = ctx.grid
    sessions = _load_sessions(spec, ctx.base_dir, problems)
    limit = min(spec.site_limit_kw, spec.chargers * spec.charger_power_kw)
    first, last, energy, power = [], [], [], []
    for i, s in enumerate(sessions):
        where = f"sessions[{i}]"
        try:
            arr = to_time(s.arrival, grid)
            dep = to_time(s.departure, grid)
        except (ValueError, TimeGridError) as exc:
            problems.append(InputProblem(where, str(exc), spec.id))
            continue
        if isinstance(s.departure, str) and len(s.departure) <= 5 and dep <= arr:
            dep += dt.timedelta(days=1)
        if dep <= arr:
            problems.append(InputProblem(where, "departure is not after arrival", spec.id))
            continue
        lo = max(grid.step_of(arr, rounding="ceil"), 0)
        hi = min(grid.step_of(dep, rounding="floor"), grid.steps)
        if hi <= lo:
            problems.append(
                InputProblem(
                    where,
                    f"stay {arr:%Y-%m-%d %H:%M}–{dep:%H:%M} covers no whole step of the horizon",
                    spec.id,
                )
            )
            continue
        stay_h = (dep - arr).total_seconds() / 3600
        inside_h = (min(dep, grid.end) - max(arr, grid.start)).total_seconds() / 3600
        need = s.energy_kwh * min(1.0, inside_h / stay_h)
        p = min(s.max_power_kw or spec.charger_power_kw, spec.charger_power_kw, limit)
        can = p * (hi - lo) * grid.dt_h
        if need > can + 1e-6:
            problems.append(
                InputProblem(
                    f"{where}.energy_kwh",
                    f"needs {need:.1f} kWh but its window of {(hi - lo) * grid.dt_h:g} h at "
                    f"{p:g} kW allows at most {can:.1f} kWh",
                    spec.id,
                )
            )
            continue
        first.append(lo)
        last.append(hi)
        energy.append(need)
        power.append(p)
    if first:
        occupancy = np.zeros(grid.steps + 1, dtype=int)
        np.add.at(occupancy, first, 1)
        np.add.at(occupancy, last, -1)
        present = np.cumsum(occupancy)[: grid.steps]
        if present.max() > spec.chargers:
            t = int(np.argmax(present))
            problems.append(
                InputProblem(
                    "sessions",
                    f"{present[t]} vehicles are plugged in at {grid.index[t]:%H:%M} but there are "
                    f"only {spec.chargers} chargers",
                    spec.id,
                )
            )
    return EvData(
        first=np.array(first, dtype=int),
        last=np.array(last, dtype=int),
        energy_kwh=np.array(energy, dtype=float),
        power_kw=np.array(power, dtype=float),
        limit_kw=limit,
    )


def _pairs(data: EvData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One variable per (session, step in its window), numbered flat session by session:
    per pair its session and its step, and per session the first pair (with the end)."""
    lengths = data.last - data.first
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    session = np.repeat(np.arange(len(lengths)), lengths)
    step = np.arange(offsets[-1]) - offsets[session] + data.first[session]
    return session, step.astype(np.int64), offsets


def build(b: BlockBuilder, spec: EvChargingSpec, data: EvData, grid: TimeGrid) -> AssetTerms:
    n_sessions = len(data.first)
    dt_h = grid.dt_h
    session, step, offsets = _pairs(data)
    n_pairs = len(session)
    limit = data.power_kw[session]
    q = b.var("charge_kw", n_pairs, -limit if spec.v2g else 0.0, limit)
    # (intraday V2G: a vehicle that took more than its need before now has a negative need)
    unmet = b.var("unmet_kwh", n_sessions, 0.0, np.maximum(0.0, data.energy_kwh))
    b.rows(
        "session_energy",
        "E1",
        "session energy by departure",
        Terms.of(q, dt_h, index=session) + Terms.of(unmet),
        n_sessions,
        data.energy_kwh,
        data.energy_kwh,
    )
    # one row per step with a vehicle plugged in
    used = np.unique(step)
    row_of_step = np.full(grid.steps, -1, dtype=np.int64)
    row_of_step[used] = np.arange(len(used))
    b.rows(
        "site_limit",
        "E2",
        "site and charger limit",
        Terms.of(q, 1.0, index=row_of_step[step]),
        len(used),
        -data.limit_kw if spec.v2g else -np.inf,
        data.limit_kw,
    )
    if spec.v2g:
        stored = b.var("stored_kwh", n_pairs, 0.0, np.inf)
        # stored_i − stored_{i−1} − Δt q_i = 0 within a session; the first pair of a session
        # starts from what the vehicle already holds
        later = np.ones(n_pairs, dtype=bool)
        later[offsets[:-1]] = False
        idx = np.flatnonzero(later)
        rhs = np.zeros(n_pairs)
        rhs[offsets[:-1]] = data.initial_stored_kwh()
        b.rows(
            "v2g_energy",
            "E3",
            "V2G energy above arrival level",
            Terms.of(stored) + Terms.of(stored[idx - 1], -1.0, index=idx) + Terms.of(q, -dt_h),
            n_pairs,
            rhs,
            rhs,
        )
    return AssetTerms(
        net_kw=Terms.of(q, -1.0, index=step),
        costs_yuan={
            "unmet_energy_penalty": Cost(Terms.of(unmet, spec.unmet_energy_penalty_yuan_per_kwh))
        },
    )


def extract(v: Solved, spec: EvChargingSpec, data: EvData, grid: TimeGrid) -> AssetResult:
    _, step, offsets = _pairs(data)
    flat = np.asarray(v["charge_kw"], dtype=float)
    unmet = np.clip(np.asarray(v["unmet_kwh"], dtype=float), 0.0, None)
    charge = np.bincount(step, weights=flat, minlength=grid.steps)
    connected = np.bincount(step, minlength=grid.steps).astype(float)
    unmet_at_departure = np.bincount(data.last - 1, weights=unmet, minlength=grid.steps)
    ids = data.session_ids().tolist()
    stored0 = data.initial_stored_kwh()
    # per session at once (500 sessions on the large park: a loop of numpy calls took 20 ms)
    lo, hi = offsets[:-1], offsets[1:]
    cum = np.cumsum(flat) * grid.dt_h
    before = np.concatenate([[0.0], cum])[lo]
    delivered = np.concatenate([[0.0], cum])[hi] - before
    if len(flat):
        # the lowest energy held above arrival, after each step of the stay
        min_stored = stored0 + np.minimum.reduceat(cum - np.repeat(before, hi - lo), lo)
        max_power = np.maximum.reduceat(np.abs(flat), lo)
    else:
        min_stored, max_power = stored0.copy(), np.zeros(len(lo))
    rounded = np.round(flat, 6).tolist()
    records = [
        {
            "session": ids[s],
            "first_step": int(data.first[s]),
            "end_step": int(data.last[s]),
            "energy_kwh": float(data.energy_kwh[s]),
            "delivered_kwh": float(delivered[s]),
            "unmet_kwh": float(unmet[s]),
            "min_stored_kwh": float(min_stored[s]),
            "max_power_kw": float(max_power[s]),
            "charge_kw": rounded[lo[s] : hi[s]],
        }
        for s in range(len(lo))
    ]
    return AssetResult(
        {"charge_kw": charge, "connected": connected, "unmet_kwh": unmet_at_departure},
        net_kw=-charge,
        records=records,
    )


def costs(res: AssetResult, spec: EvChargingSpec, data: EvData, grid: TimeGrid) -> dict[str, float]:
    unmet = float(res.columns["unmet_kwh"].sum())
    return {"unmet_energy_penalty": spec.unmet_energy_penalty_yuan_per_kwh * unmet}


def verify(
    res: AssetResult, spec: EvChargingSpec, data: EvData, grid: TimeGrid, relaxed: bool
) -> list[str]:
    out: list[str] = []
    tol = TOL * max(1.0, data.limit_kw)
    # records are in data order; "session" is the day's session number
    for s, r in enumerate(res.records):
        if abs(r["delivered_kwh"] + r["unmet_kwh"] - r["energy_kwh"]) > tol:
            out.append(
                f"ev {spec.id}: session {r['session']} gets {r['delivered_kwh']:.3f} kWh "
                f"(+{r['unmet_kwh']:.3f} unmet) of {r['energy_kwh']:.3f} kWh by departure"
            )
        if r["min_stored_kwh"] < -tol:
            out.append(f"ev {spec.id}: session {r['session']} discharges below its arrival energy")
        if r["max_power_kw"] > data.power_kw[s] + tol:
            out.append(f"ev {spec.id}: session {r['session']} exceeds its power limit")
    if np.any(np.abs(res.columns["charge_kw"]) > data.limit_kw + tol):
        out.append(f"ev {spec.id}: site limit {data.limit_kw} kW exceeded")
    return out


def net_range(spec: EvChargingSpec, data: EvData, grid: TimeGrid) -> tuple[np.ndarray, np.ndarray]:
    present = np.zeros(grid.steps + 1)
    np.add.at(present, data.first, data.power_kw)
    np.add.at(present, data.last, -data.power_kw)
    most = np.minimum(np.cumsum(present)[: grid.steps], data.limit_kw)
    most = np.clip(most, 0.0, None)
    return -most, (most.copy() if spec.v2g else np.zeros(grid.steps))


def restrict(
    spec: EvChargingSpec,
    data: EvData,
    grid: TimeGrid,
    k: int,
    state: MeasuredState,
    problems: list[InputProblem],
) -> tuple[EvChargingSpec, EvData] | None:
    """From step k on: sessions gone by are dropped, the others keep the energy they still
    need. ``delivered_kwh`` maps session numbers (the schedule's records) to the energy they
    have had so far; a session not named has had none."""
    raw = state.get("delivered_kwh", {})
    ids = data.session_ids()
    delivered = np.zeros(len(ids))
    known = {int(i): n for n, i in enumerate(ids)}
    for key, kwh in dict(raw).items():
        if int(key) not in known:
            problems.append(InputProblem(f"delivered_kwh.{key}", "no such session", spec.id))
            continue
        delivered[known[int(key)]] = float(kwh)
    keep = data.last > k
    if not keep.any():
        return None
    first = np.maximum(data.first - k, 0)[keep]
    last = (data.last - k)[keep]
    power = data.power_kw[keep]
    need = data.energy_kwh - delivered
    if not spec.v2g:
        need = np.clip(need, 0.0, None)
    need = need[keep]
    # a stay shortened by "now" may no longer hold what is left: the rest is unmet (priced);
    # with V2G, what a vehicle took before now it may give back (never below its arrival level)
    before = data.initial_stored_kwh() + delivered
    return spec, EvData(
        first=first.astype(int),
        last=last.astype(int),
        energy_kwh=need,
        power_kw=power,
        limit_kw=data.limit_kw,
        ids=ids[keep],
        stored_kwh0=np.clip(before, 0.0, None)[keep] if spec.v2g else None,
    )


def measured_at(
    res: AssetResult, spec: EvChargingSpec, data: EvData, grid: TimeGrid, k: int
) -> dict[str, Any]:
    """What the chargers' meters read at step k if this schedule ran: energy per session."""
    out = {}
    for r in res.records:
        before = max(0, min(k, r["end_step"]) - r["first_step"])
        out[str(r["session"])] = float(sum(r["charge_kw"][:before]) * grid.dt_h)
    return {"delivered_kwh": out}


HANDLER: AssetHandler[EvChargingSpec, EvData] = AssetHandler(
    type_name="ev_charging",
    spec_class=EvChargingSpec,
    resolve=resolve,
    build=build,
    extract=extract,
    costs=costs,
    verify=verify,
    net_range=net_range,
    restrict=restrict,
    measured_at=measured_at,
)

"""The VPP's proven adjustable capacity over a day, park by park and hour by hour.

For each park: its optimal baseline schedule of the day, then for every hour ``h`` the largest
import reduction (and increase) it sustains from ``h:00`` for ``duration_h`` hours
(the "largest sustained level" question of models/response.py, compiled once per park and
direction). The VPP's capacity for a window is the sum of
its parks' for the same window: each park's response is deliverable on its own, and parks share
no constraint. Parks run in a process pool (one MILP per park and window). Each window's
level is solved to ``CAPACITY_MIP_REL_GAP`` (1 %) and is always deliverable; the proven largest
level is reported beside it (``down_bound_kw``, ``up_bound_kw``).

Targets (``Programme``): the VPP total against the capacity target (T1, 200 MW); each park's
reduction capability against ``dr_target_daily_use_frac`` × its daily average kW (near term,
T2) and ``dr_target_peak_frac`` × its peak load (long term); its storage energy against the
storage shares of daily use (T3). A park's DR capability is its best window of the day.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.response import Response, build_response_problem, max_level, set_baseline
from models.results import schedule_park
from models.solve import SolverOptions
from models.spec import ResolvedPark
from vpp.spec import Programme

# Relative MIP gap of each window's answer [-]. A level is always deliverable (it is a feasible
# schedule's); the gap only bounds how far below the proven largest level it may be, and that
# bound is reported next to it. Increase questions go to branch and bound (the LP lets a
# battery charge and discharge at once): on a large generated park the 23 two-hour "up"
# windows took 18.7 s at 0.1 % and 5.9 s at 1 %, their levels at most 0.73 % lower.
CAPACITY_MIP_REL_GAP: float = 0.01


@dataclass
class ParkCapacity:
    """One park's capability per window start (hours of the day).

    ``down_bound_kw`` and ``up_bound_kw`` are the proven largest levels [kW] per window (the
    solver's bound; None when it gave none): the level reported is within ``mip_rel_gap`` of it.
    """

    park_id: str
    hours: list[int]
    down_kw: list[float]
    up_kw: list[float]
    statuses: list[str]
    daily_energy_kwh: float
    peak_load_kw: float
    storage_kwh: float
    baseline_cost_yuan: float
    seconds: float
    down_bound_kw: list[float | None] = field(default_factory=list)
    up_bound_kw: list[float | None] = field(default_factory=list)
    mip_rel_gap: float = CAPACITY_MIP_REL_GAP

    @property
    def dr_capability_kw(self) -> float:
        return max(self.down_kw) if self.down_kw else 0.0


@dataclass
class CapacityReport:
    date: dt.date
    duration_h: float
    parks: list[ParkCapacity]
    programme: Programme
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def hours(self) -> list[int]:
        return self.parks[0].hours if self.parks else []

    def total_kw(self, direction: str = "down") -> list[float]:
        key = "down_kw" if direction == "down" else "up_kw"
        return [float(sum(getattr(p, key)[i] for p in self.parks)) for i in range(len(self.hours))]

    def targets(self) -> dict[str, Any]:
        pr = self.programme
        total = self.total_kw("down")
        best = max(total) if total else 0.0
        parks = {}
        for p in self.parks:
            avg_kw = p.daily_energy_kwh / 24.0
            near = pr.dr_target_daily_use_frac * avg_kw
            long = pr.dr_target_peak_frac * p.peak_load_kw
            parks[p.park_id] = {
                "dr_capability_kw": p.dr_capability_kw,
                "dr_target_near_kw": near,
                "dr_near_met": p.dr_capability_kw >= near,
                "dr_target_long_kw": long,
                "dr_long_met": p.dr_capability_kw >= long,
                "storage_kwh": p.storage_kwh,
                "storage_target_near_kwh": pr.storage_target_daily_use_frac_near
                * p.daily_energy_kwh,
                "storage_near_met": p.storage_kwh
                >= pr.storage_target_daily_use_frac_near * p.daily_energy_kwh,
                "storage_target_long_kwh": pr.storage_target_daily_use_frac_long
                * p.daily_energy_kwh,
                "storage_long_met": p.storage_kwh
                >= pr.storage_target_daily_use_frac_long * p.daily_energy_kwh,
            }
        return {
            "vpp_best_window_kw": best,
            "vpp_best_window_hour": self.hours[int(np.argmax(total))] if total else None,
            "capacity_target_kw": pr.capacity_target_kw,
            "capacity_target_share": best / pr.capacity_target_kw
            if pr.capacity_target_kw
            else None,
            "registrable": best >= pr.registration_min_kw
            and self.duration_h >= pr.registration_min_duration_h,
            "parks": parks,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "duration_h": self.duration_h,
            "hours": self.hours,
            "total_down_kw": self.total_kw("down"),
            "total_up_kw": self.total_kw("up"),
            "parks": [
                {
                    "park_id": p.park_id,
                    "down_kw": p.down_kw,
                    "up_kw": p.up_kw,
                    "statuses": p.statuses,
                    "down_bound_kw": p.down_bound_kw,
                    "up_bound_kw": p.up_bound_kw,
                    "mip_rel_gap": p.mip_rel_gap,
                    "dr_capability_kw": p.dr_capability_kw,
                    "daily_energy_kwh": p.daily_energy_kwh,
                    "peak_load_kw": p.peak_load_kw,
                    "storage_kwh": p.storage_kwh,
                    "baseline_cost_yuan": p.baseline_cost_yuan,
                    "seconds": p.seconds,
                }
                for p in self.parks
            ],
            "targets": self.targets(),
            "seconds": self.seconds,
            "notes": self.notes,
        }


def park_capacity(
    park: ResolvedPark, duration_h: float, mip_rel_gap: float = CAPACITY_MIP_REL_GAP
) -> ParkCapacity:
    """Baseline schedule, then the sustained reduction and increase from every whole hour,
    each to ``mip_rel_gap`` [-] of its proven largest level."""
    if not 0.0 <= mip_rel_gap < 1.0:
        raise ValueError(f"park {park.spec.id}: mip_rel_gap {mip_rel_gap} is not in [0, 1)")
    t0 = time.perf_counter()
    grid = park.grid
    steps = round(duration_h * 60 / grid.resolution_min)
    if steps < 1 or steps > grid.steps:
        raise ValueError(f"duration {duration_h} h does not fit the {grid.steps}-step horizon")
    sched = schedule_park(park)
    base = sched.frame["import_kw"].to_numpy() - sched.frame["export_kw"].to_numpy()
    per_hour = 60 // grid.resolution_min
    starts = [
        h * per_hour for h in range(grid.steps // per_hour) if h * per_hour + steps <= grid.steps
    ]
    hours = [s // per_hour for s in starts]
    found: dict[str, list[float]] = {}
    bound_of: dict[str, list[float | None]] = {}
    status_of: dict[str, list[str]] = {}
    opts = SolverOptions(time_limit_s=60.0, mip_rel_gap=mip_rel_gap)
    for direction, event_type in (("down", "peak_shaving"), ("up", "valley_filling")):
        # compiled once for the whole day; each window only switches its rows on (R1)
        prob = build_response_problem(park, list(range(grid.steps)), event_type)  # type: ignore[arg-type]
        set_baseline(prob, base, float(sched.costs["total_yuan"]))
        found[direction], bound_of[direction], status_of[direction] = [], [], []
        for start in starts:
            mask = np.zeros(grid.steps, dtype=bool)
            mask[start : start + steps] = True
            r = max_level(prob, opts, mask)
            found[direction].append(round(max(r.level_kw, 0.0), 3))
            bound_of[direction].append(_level_bound(r))
            status_of[direction].append(r.status)
    down, up = found["down"], found["up"]
    statuses = [
        d if d != "ok" else u for d, u in zip(status_of["down"], status_of["up"], strict=True)
    ]
    storage = sum(a.energy_kwh for a in park.assets if a.type == "battery")
    return ParkCapacity(
        park.spec.id,
        hours,
        down,
        up,
        statuses,
        # daily use = the horizon's mean load over 24 h (the horizon need not be one day)
        float(park.load_kw.mean() * 24.0),
        float(park.load_kw.max()),
        float(storage),
        float(sched.costs["total_yuan"]),
        time.perf_counter() - t0,
        bound_of["down"],
        bound_of["up"],
        mip_rel_gap,
    )


def _level_bound(r: Response) -> float | None:
    """The proven largest level [kW]: the question minimises −R, so the bound's distance below
    the objective is how far R may still rise."""
    s = r.solve
    if s.objective is None or s.bound is None:
        return None
    return round(max(r.level_kw + max(s.objective - s.bound, 0.0), 0.0), 3)


def _job(args: tuple[ResolvedPark, float, float]) -> ParkCapacity:
    return park_capacity(*args)


def capacity_report(
    parks: list[ResolvedPark],
    duration_h: float,
    programme: Programme,
    workers: int = 2,
    mip_rel_gap: float = CAPACITY_MIP_REL_GAP,
) -> CapacityReport:
    """Capacity of every park (in ``workers`` processes) and the VPP total; each window's level
    to ``mip_rel_gap`` [-] of its proven bound (see :data:`CAPACITY_MIP_REL_GAP`)."""
    t0 = time.perf_counter()
    date = parks[0].grid.start.date()
    if workers > 1 and len(parks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_job, [(p, duration_h, mip_rel_gap) for p in parks]))
    else:
        results = [park_capacity(p, duration_h, mip_rel_gap) for p in parks]
    notes = []
    bad = [(r.park_id, s) for r in results for s in r.statuses if s != "ok"]
    if bad:
        notes.append(f"{len(bad)} window solve(s) not proven optimal: {bad[:5]}")
    return CapacityReport(date, duration_h, results, programme, time.perf_counter() - t0, notes)


def write_report(report: CapacityReport, out: Any) -> list[Any]:
    """``capacity.json``, ``capacity.csv`` (park × hour) and ``capacity.png``."""
    import json
    from pathlib import Path

    import pandas as pd

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = report.as_dict()
    (out / "capacity.json").write_text(json.dumps(doc, indent=2) + "\n")
    rows = []
    for p in report.parks:
        for h, d, u, s, db, ub in zip(
            p.hours, p.down_kw, p.up_kw, p.statuses, p.down_bound_kw, p.up_bound_kw, strict=True
        ):
            rows.append(
                {
                    "park_id": p.park_id,
                    "hour": h,
                    "down_kw": d,
                    "up_kw": u,
                    "status": s,
                    "down_bound_kw": db,
                    "up_bound_kw": ub,
                }
            )
    for i, h in enumerate(report.hours):
        rows.append(
            {
                "park_id": "TOTAL",
                "hour": h,
                "down_kw": report.total_kw("down")[i],
                "up_kw": report.total_kw("up")[i],
                "status": "",
            }
        )
    pd.DataFrame(rows).to_csv(out / "capacity.csv", index=False)
    png = _plot(report, out / "capacity.png")
    return [out / "capacity.json", out / "capacity.csv", png]


def _plot(report: CapacityReport, path: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    hours = np.array(report.hours)
    bottom_d = np.zeros(len(hours))
    bottom_u = np.zeros(len(hours))
    for i, p in enumerate(report.parks):
        ax1.bar(hours, p.down_kw, bottom=bottom_d, label=p.park_id, color=f"C{i}")
        bottom_d += np.array(p.down_kw)
        ax1.bar(hours, [-x for x in p.up_kw], bottom=-bottom_u, alpha=0.5, color=f"C{i}")
        bottom_u += np.array(p.up_kw)
    ax1.axhline(0, color="black", linewidth=0.6)
    ax1.set_xlabel("window start (hour)")
    ax1.set_ylabel("kW (reduction up, increase down)")
    ax1.set_title(f"sustained {report.duration_h:g} h response, {report.date}")
    ax1.legend(fontsize=7)
    t = report.targets()["parks"]
    ids = list(t)
    x = np.arange(len(ids))
    ax2.bar(x - 0.2, [t[i]["dr_capability_kw"] for i in ids], width=0.4, label="DR capability")
    pr = report.programme
    for key, color, label in (
        ("dr_target_near_kw", "tab:red", f"{pr.dr_target_daily_use_frac:.0%} of daily average"),
        ("dr_target_long_kw", "tab:purple", f"{pr.dr_target_peak_frac:.0%} of peak load"),
    ):
        ax2.scatter(x + 0.2, [t[i][key] for i in ids], marker="_", s=400, color=color, label=label)
    ax2.set_xticks(x, ids, rotation=15, fontsize=7)
    ax2.set_ylabel("kW")
    ax2.set_title("park DR capability vs targets")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

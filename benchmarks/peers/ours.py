"""The shared problems as park files, solved by our own path (validate, resolve, build, hand-off,
solve, extract, verify): the same work a user's park goes through."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from benchmarks.peers.problems import Problem
from models.results import schedule_park
from models.solve import SolverOptions
from models.spec import resolve_park, validate_park

_START = dt.datetime(2026, 7, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
# Peers solve to (near) zero gap; ours is asked for the same so objectives can be compared.
PEER_GAP = 1e-7


def _iso(p: Problem, step: int) -> str:
    return (_START + dt.timedelta(hours=p.dt_h * step)).isoformat()


def park_dict(p: Problem) -> dict[str, Any]:
    """The problem as a park file: no degradation cost, no subsidy, no demand charge, so the
    objective is Σ dt·(import price·import − export price·export) like the peers'."""
    assets: list[dict[str, Any]] = []
    if any(p.pv_kw):
        assets.append(
            {"id": "pv", "type": "pv", "capacity_kwp": max(p.pv_kw), "forecast_kw": p.pv_kw}
        )
    if p.battery is not None:
        b = p.battery
        assets.append(
            {
                "id": "bess",
                "type": "battery",
                "power_kw": b.power_kw,
                "energy_kwh": b.energy_kwh,
                "soc_initial_frac": b.soc_initial_kwh / b.energy_kwh,
                "soc_min_frac": b.soc_min_kwh / b.energy_kwh,
                "soc_max_frac": 1.0,
                "soc_final_min_frac": b.soc_final_kwh / b.energy_kwh,
                "charge_efficiency_frac": b.charge_efficiency_frac,
                "discharge_efficiency_frac": b.discharge_efficiency_frac,
                "degradation_cost_yuan_per_kwh": 0.0,
            }
        )
    if p.ev_sessions:
        assets.append(
            {
                "id": "ev",
                "type": "ev_charging",
                "chargers": p.ev_chargers,
                "charger_power_kw": p.ev_charger_power_kw,
                "site_limit_kw": p.ev_chargers * p.ev_charger_power_kw,
                "sessions": [
                    {
                        "arrival": _iso(p, s.arrival_step),
                        "departure": _iso(p, s.departure_step),
                        "energy_kwh": s.energy_kwh,
                        "max_power_kw": s.max_power_kw,
                    }
                    for s in p.ev_sessions
                ],
            }
        )
    for i, d in enumerate(p.deferrable):
        assets.append(
            {
                "id": f"deferrable-{i}",
                "type": "shiftable_load",
                "power_kw": [d.power_kw] * d.steps,
                "earliest_start": _iso(p, d.earliest_step),
                "latest_end": _iso(p, d.latest_end_step),
            }
        )
    return {
        "id": p.name,
        "name": p.description,
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {
            "start": _START.isoformat(),
            "steps": p.steps,
            "resolution_min": round(p.dt_h * 60),
        },
        "grid": {
            "import_limit_kw": p.import_limit_kw,
            "export_limit_kw": p.export_limit_kw,
            "import_price_yuan_per_kwh": p.import_price_yuan_per_kwh,
            "export_price_yuan_per_kwh": p.export_price_yuan_per_kwh,
        },
        "load": p.load_kw,
        "assets": assets,
    }


def solve_once(p: Problem, relax: bool = False) -> dict[str, Any]:
    t0 = time.perf_counter()
    park = resolve_park(validate_park(park_dict(p), source=f"peers:{p.name}"))
    parse_s = time.perf_counter() - t0
    sched = schedule_park(park, SolverOptions(relax=relax, mip_rel_gap=PEER_GAP))
    wall_s = time.perf_counter() - t0
    r = sched.solve
    return {
        "status": r.status.value,
        "termination": r.termination.value,
        "objective": r.objective,
        # build: from the problem's numbers to a model ready to hand to the solver, as for peers
        "build_s": parse_s + r.build_s,
        "solve_s": r.handoff_s + r.solve_s,
        "wall_s": wall_s,
        "method": r.method,
        "variables": r.size.variables,
        "binaries": r.size.binaries,
    }


def solve(p: Problem, repeats: int, relax: bool = False) -> dict[str, Any]:
    """Median over ``repeats`` after one warm-up, like the peers' runner."""
    solve_once(p, relax)
    runs = [solve_once(p, relax) for _ in range(repeats)]
    out = dict(runs[-1])
    for key in ("build_s", "solve_s", "wall_s"):
        out[key] = statistics.median(r[key] for r in runs)
    return out

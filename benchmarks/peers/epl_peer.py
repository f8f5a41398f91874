"""The shared problems in energy-py-linear (PuLP + CBC, as the tool ships).

energy-py-linear works in MW, MWh and price per MWh; our problems are in kW, kWh and yuan per
kWh, so powers are divided by 1,000 and prices multiplied by 1,000: the objective is the same
number of yuan.
"""

from __future__ import annotations

import time
from typing import Any

import energypylinear as epl  # type: ignore[import-not-found]
import numpy as np

from benchmarks.peers.problems import Problem

_solve_s: list[float] = []
_orig_solve = epl.optimizer.Optimizer.solve


def _timed_solve(self: Any, *args: Any, **kwargs: Any) -> Any:
    # PuLP writes an MPS file and runs CBC inside Optimizer.solve: that is the peer's solve.
    t0 = time.perf_counter()
    try:
        return _orig_solve(self, *args, **kwargs)
    finally:
        _solve_s.append(time.perf_counter() - t0)


epl.optimizer.Optimizer.solve = _timed_solve


def _battery(p: Problem) -> Any:
    b = p.battery
    assert b is not None
    if b.discharge_efficiency_frac != 1.0 or b.soc_min_kwh != 0.0:
        raise ValueError("energy-py-linear batteries lose energy on charge only and go to 0")
    return epl.Battery(
        power_mw=b.power_kw / 1000,
        capacity_mwh=b.energy_kwh / 1000,
        efficiency_pct=b.charge_efficiency_frac,
        initial_charge_mwh=b.soc_initial_kwh / 1000,
        final_charge_mwh=b.soc_final_kwh / 1000,
        freq_mins=int(p.dt_h * 60),
    )


def _evs(p: Problem) -> Any:
    events = np.zeros((len(p.ev_sessions), p.steps), dtype=int)
    for i, s in enumerate(p.ev_sessions):
        events[i, s.arrival_step : s.departure_step] = 1
    return epl.EVs(
        charge_events=events,
        chargers_power_mw=[p.ev_charger_power_kw / 1000] * p.ev_chargers,
        charge_events_capacity_mwh=[s.energy_kwh / 1000 for s in p.ev_sessions],
        charge_event_efficiency=1.0,
        charger_turndown=0.0,
        freq_mins=int(p.dt_h * 60),
    )


def solve(p: Problem) -> dict[str, Any]:
    _solve_s.clear()
    t0 = time.perf_counter()
    assets = []
    if p.battery is not None:
        assets.append(_battery(p))
    if p.ev_sessions:
        assets.append(_evs(p))
    dt_h = p.dt_h
    site = epl.Site(
        assets=assets,
        electricity_prices=np.array(p.import_price_yuan_per_kwh) * 1000,
        export_electricity_prices=np.array(p.export_price_yuan_per_kwh) * 1000,
        electric_load_mwh=np.array(p.load_kw) * dt_h / 1000,
        import_limit_mw=p.import_limit_kw / 1000,
        export_limit_mw=p.export_limit_kw / 1000,
        freq_mins=int(dt_h * 60),
    )
    res = site.optimize(objective="price", verbose=0)
    total = time.perf_counter() - t0
    solve_s = sum(_solve_s)
    return {
        "status": "ok" if res.status.feasible else str(res.status.status),
        "termination": str(res.status.status),
        "objective": float(res.status.objective),
        "build_s": total - solve_s,
        "solve_s": solve_s,
        "solver": "CBC (PuLP)",
        "spill_used": bool(res.spill),
    }

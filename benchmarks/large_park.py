"""The large generated park of the park-model issue: 500 EV sessions, 50 shiftable jobs,
5 batteries, 96 steps. ``python -m benchmarks.large_park`` measures build, hand-off, solve
(median over HiGHS seeds, since MILP time is seed-noisy) and the LP relaxation of the same model.
The benchmark harness of the next issue registers this case.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import numpy as np

from models.park import build_park_model
from models.solve import SolverOptions, solve_model
from models.spec import ResolvedPark, resolve_park, validate_park


def large_park(seed: int = 0) -> ResolvedPark:
    rng = np.random.default_rng(seed)
    hours = np.arange(96) / 4
    load = 20000 + 12000 * ((hours >= 8) & (hours < 20)) + rng.normal(0, 500, 96)
    assets: list[dict[str, Any]] = [
        {"id": f"pv-{i}", "type": "pv", "capacity_kwp": 3000.0, "azimuth_deg": 135.0 + 22.5 * i}
        for i in range(5)
    ]
    assets += [
        {
            "id": f"bess-{i}",
            "type": "battery",
            "power_kw": 1500.0,
            "energy_kwh": 3000.0,
            "max_cycles_per_day": 2.0,
            "charge_efficiency_frac": 0.92,
            "discharge_efficiency_frac": 0.92,
            "grid_connected_on": "2025-10-01" if i % 2 == 0 else "2024-01-01",
        }
        for i in range(5)
    ]
    sessions = []
    for _ in range(500):
        arr = float(rng.uniform(0, 20))
        dep = min(24.0, arr + float(rng.uniform(2, 10)))
        a, d = int(np.ceil(arr * 4)), int(np.floor(dep * 4))
        if d - a < 2:
            a, d = 40, 48
        sessions.append(
            {
                "arrival": f"{a // 4:02d}:{a % 4 * 15:02d}",
                "departure": f"{d // 4:02d}:{d % 4 * 15:02d}" if d < 96 else "24:00",
                "energy_kwh": round(float(rng.uniform(5, 0.8 * 11 * (d - a) / 4)), 1),
                "max_power_kw": 11.0,
            }
        )
    assets.append(
        {
            "id": "ev",
            "type": "ev_charging",
            "chargers": 500,
            "charger_power_kw": 11.0,
            "site_limit_kw": 3000.0,
            "sessions": sessions,
        }
    )
    for j in range(50):
        n = int(rng.integers(4, 13))
        e = int(rng.integers(0, 48))
        assets.append(
            {
                "id": f"job-{j}",
                "type": "shiftable_load",
                "power_kw": [float(rng.uniform(100, 800))] * n,
                "earliest_start": f"{e // 4:02d}:{e % 4 * 15:02d}",
                "latest_end": "24:00",
            }
        )
    raw = {
        "id": "large",
        "name": "generated large park",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": "2026-07-15T00:00:00+08:00", "steps": 96, "resolution_min": 15},
        "grid": {
            "import_limit_kw": 60000.0,
            "export_limit_kw": 5000.0,
            "tariff": "jiangsu-2025-two-part-1-10kv",
            "export_price_yuan_per_kwh": 0.391,
            "demand_charge_yuan_per_kw_month": 40.0,
            "month_peak_so_far_kw": 40000.0,
        },
        "load": [float(x) for x in load],
        "assets": assets,
    }
    return resolve_park(validate_park(raw, source="benchmarks.large_park"))


def measure(seeds: int = 3) -> dict[str, Any]:
    park = large_park()
    runs = []
    for relax in (True, False):
        for seed in range(1 if relax else seeds):
            t0 = time.perf_counter()
            pm = build_park_model(park)
            build_s = time.perf_counter() - t0
            r = solve_model(
                pm.model,
                SolverOptions(relax=relax, random_seed=seed),
                name="large",
                build_s=build_s,
            )
            runs.append({"relax": relax, "seed": seed, **r.as_dict()})
    lp = runs[0]
    milp = runs[1:]
    med = {
        k: statistics.median(r[k] for r in milp)
        for k in ("build_s", "handoff_s", "solve_s", "extract_s", "total_s", "gap")
    }
    return {
        "size": {k: lp[k] for k in ("variables", "binaries", "constraints", "nonzeros")},
        "lp_relaxation": {k: lp[k] for k in ("build_s", "handoff_s", "solve_s", "objective")},
        "milp_median": med,
        "milp_runs": [
            {k: r[k] for k in ("seed", "solve_s", "objective", "gap", "termination")} for r in milp
        ],
        "ratio_total_to_lp_solve": med["total_s"] / lp["solve_s"],
        "build_handoff_share_of_total": (med["build_s"] + med["handoff_s"]) / med["total_s"],
    }


if __name__ == "__main__":
    json.dump(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3), sys.stdout, indent=2)
    print()

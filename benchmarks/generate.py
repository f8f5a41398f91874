"""Generated parks with fixed seeds, for benchmark cases.

Every generated park is an ordinary park file (a dict validated by the same schema as users'
files), so a benchmark measures exactly the path a user's park takes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.spec import ResolvedPark, resolve_park, validate_park

_START = dt.datetime(2026, 7, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@dataclass(frozen=True)
class ParkSize:
    """How much of each asset a generated park has, per day of horizon.

    Parameters
    ----------
    base_load_kw : float
        Night load [kW]; working hours (08–20) add 60 % of it.
    pv_arrays : int
        PV arrays of 3,000 kWp each, facing different azimuths.
    batteries : int
        Batteries of 1,500 kW / 3,000 kWh, two cycles a day at most.
    ev_sessions_per_day : int
        EV sessions of 11 kW chargers.
    jobs_per_day : int
        Shiftable production jobs of 1–3 h.
    """

    base_load_kw: float
    pv_arrays: int
    batteries: int
    ev_sessions_per_day: int
    jobs_per_day: int


LARGE = ParkSize(20000.0, 5, 5, 500, 50)  # the park-model issue's large park
MEDIUM = ParkSize(8000.0, 2, 2, 100, 10)
SMALL = ParkSize(1500.0, 1, 1, 10, 2)


def _iso(step: int, resolution_min: int) -> str:
    return (_START + dt.timedelta(minutes=step * resolution_min)).isoformat()


def generated_park_dict(
    size: ParkSize, seed: int = 0, days: int = 1, park_id: str = "generated"
) -> dict[str, Any]:
    """The park file (as a dict) of a generated park.

    Parameters
    ----------
    size : ParkSize
        Asset counts per day.
    seed : int
        Random seed of load noise, sessions and jobs (same seed, same park).
    days : int
        Horizon length [days] of 96 × 15 min steps each.
    park_id : str
        The park's id.
    """
    rng = np.random.default_rng(seed)
    steps = 96 * days
    hours = (np.arange(steps) / 4) % 24
    base = size.base_load_kw
    load = base + 0.6 * base * ((hours >= 8) & (hours < 20)) + rng.normal(0, 0.025 * base, steps)
    scale = size.base_load_kw / 20000.0
    assets: list[dict[str, Any]] = [
        {
            "id": f"pv-{i}",
            "type": "pv",
            "capacity_kwp": 3000.0 * max(scale, 0.1),
            "azimuth_deg": 135.0 + 22.5 * i,
        }
        for i in range(size.pv_arrays)
    ]
    assets += [
        {
            "id": f"bess-{i}",
            "type": "battery",
            "power_kw": 1500.0 * max(scale, 0.1),
            "energy_kwh": 3000.0 * max(scale, 0.1),
            "max_cycles_per_day": 2.0,
            "charge_efficiency_frac": 0.92,
            "discharge_efficiency_frac": 0.92,
            "grid_connected_on": "2025-10-01" if i % 2 == 0 else "2024-01-01",
        }
        for i in range(size.batteries)
    ]
    sessions = []
    for day in range(days):
        for _ in range(size.ev_sessions_per_day):
            arr = float(rng.uniform(0, 20))
            dep = min(24.0, arr + float(rng.uniform(2, 10)))
            a, d = int(np.ceil(arr * 4)), int(np.floor(dep * 4))
            if d - a < 2:
                a, d = 40, 48
            sessions.append(
                {
                    "arrival": _iso(96 * day + a, 15),
                    "departure": _iso(96 * day + d, 15),
                    "energy_kwh": round(float(rng.uniform(5, 0.8 * 11 * (d - a) / 4)), 1),
                    "max_power_kw": 11.0,
                }
            )
    if sessions:
        chargers = size.ev_sessions_per_day
        assets.append(
            {
                "id": "ev",
                "type": "ev_charging",
                "chargers": chargers,
                "charger_power_kw": 11.0,
                "site_limit_kw": 6.0 * chargers,
                "sessions": sessions,
            }
        )
    for day in range(days):
        for j in range(size.jobs_per_day):
            n = int(rng.integers(4, 13))
            e = int(rng.integers(0, 48))
            assets.append(
                {
                    "id": f"job-{day}-{j}",
                    "type": "shiftable_load",
                    "power_kw": [float(rng.uniform(100, 800)) * max(scale, 0.1)] * n,
                    "earliest_start": _iso(96 * day + e, 15),
                    "latest_end": _iso(96 * (day + 1), 15),
                }
            )
    return {
        "id": park_id,
        "name": f"generated park (seed {seed}, {days} day(s))",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": _START.isoformat(), "steps": steps, "resolution_min": 15},
        "grid": {
            "import_limit_kw": 3.0 * base,
            "export_limit_kw": 0.25 * base,
            "tariff": "jiangsu-2025-two-part-1-10kv",
            "export_price_yuan_per_kwh": 0.391,
            "demand_charge_yuan_per_kw_month": 40.0,
            "month_peak_so_far_kw": 2.0 * base,
        },
        "load": [round(float(x), 3) for x in load],
        "assets": assets,
    }


def generated_park(
    size: ParkSize, seed: int = 0, days: int = 1, park_id: str = "generated"
) -> ResolvedPark:
    """A generated park, validated and resolved (see :func:`generated_park_dict`)."""
    raw = generated_park_dict(size, seed, days, park_id)
    return resolve_park(validate_park(raw, source=f"benchmarks.generate:{park_id}"))


def large_park(seed: int = 0) -> ResolvedPark:
    """The park-model issue's large park: 500 EV sessions, 50 jobs, 5 batteries, 96 steps."""
    return generated_park(LARGE, seed, 1, "large")

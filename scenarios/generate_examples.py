"""Generate the bundled example parks: park files, a year (2026) of 15-minute load, EV sessions.

Run ``python -m scenarios.generate_examples`` to rebuild ``scenarios/examples/`` byte for byte
(fixed seeds). How the series are made (documented in scenarios/examples/README.md):

- load = base + production shifts (weekday / weekend levels) + cooling (kW per °C above 22 °C)
  + heating (kW per °C below 10 °C) + AR(1) noise; temperature is a smooth annual cycle
  (mean 16.5 °C, ±12 °C, warmest late July) with a ±4 °C daily swing peaking at 14:00, a
  stand-in for Changzhou/Wuxi climate normals until the weather inputs of the forecasts issue;
- statutory holidays are not yet modelled (the Chinese calendar arrives with the forecasts
  issue); weekends are;
- PV is not stored: the park files leave ``forecast_kw`` out, so the model uses the pvlib
  clear-sky estimate for the park's coordinates and the day scheduled;
- EV sessions and jobs are drawn from the distributions below with a fixed seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from scenarios.examples import EXAMPLES_DIR

YEAR = 2026


@dataclass
class ParkRecipe:
    id: str
    name: str
    city: str
    latitude: float
    longitude: float
    base_kw: float
    shift_kw: list[tuple[float, float, float]]  # (start_h, end_h, kW) on weekdays
    weekend_frac: float
    cooling_kw_per_c: float
    heating_kw_per_c: float
    noise_kw: float
    grid: dict[str, Any]
    pv: list[dict[str, Any]]
    batteries: list[dict[str, Any]]
    ev: list[dict[str, Any]]  # each with a "draw" recipe
    jobs: int
    job_kw: tuple[float, float]
    curtailable: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0


def temperature_c(index: pd.DatetimeIndex) -> np.ndarray:
    doy = index.day_of_year.to_numpy()
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    annual = 16.5 + 12.0 * np.cos(2 * np.pi * (doy - 205) / 365)
    daily = 4.0 * np.cos(2 * np.pi * (hour - 14) / 24)
    return np.asarray(annual + daily, dtype=float)


def load_series(r: ParkRecipe, rng: np.random.Generator) -> pd.DataFrame:
    index = pd.date_range(
        f"{YEAR}-01-01", f"{YEAR + 1}-01-01", freq="15min", inclusive="left", tz="Asia/Shanghai"
    )
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    weekend = index.day_of_week.to_numpy() >= 5
    prod = np.zeros(len(index))
    for start, end, kw in r.shift_kw:
        prod += np.where((hour >= start) & (hour < end), kw, 0.0)
    prod = np.where(weekend, prod * r.weekend_frac, prod)
    temp = temperature_c(index)
    weather = r.cooling_kw_per_c * np.clip(temp - 22, 0, None) + r.heating_kw_per_c * np.clip(
        10 - temp, 0, None
    )
    noise = np.zeros(len(index))
    eps = rng.normal(0, r.noise_kw * np.sqrt(1 - 0.9**2), len(index))
    for i in range(1, len(index)):
        noise[i] = 0.9 * noise[i - 1] + eps[i]
    load = np.clip(r.base_kw + prod + weather + noise, 0.2 * r.base_kw, None)
    return pd.DataFrame({"timestamp": [t.isoformat() for t in index], "load_kw": np.round(load, 1)})


def hhmm(hours: float) -> str:
    minutes = int(round(hours * 60 / 5) * 5)
    minutes = min(max(minutes, 0), 24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def ev_sessions(draw: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for group in draw["groups"]:
        for _ in range(group["count"]):
            arr = rng.uniform(*group["arrival_h"])
            dwell = rng.uniform(*group["dwell_h"])
            dep = min(arr + dwell, 24.0)
            power = float(group["power_kw"])
            energy = min(
                rng.uniform(*group["energy_kwh"]),
                0.8 * power * (int(dep * 4) / 4 - np.ceil(arr * 4) / 4),
            )
            rows.append(
                {
                    "arrival": hhmm(arr),
                    "departure": hhmm(dep),
                    "energy_kwh": round(max(energy, 1.0), 1),
                    "max_power_kw": power,
                }
            )
    frame = pd.DataFrame(rows)
    # Drop stays that round to less than one whole 15-minute step.
    arr_h = frame["arrival"].map(lambda s: int(s[:2]) + int(s[3:]) / 60)
    dep_h = frame["departure"].map(lambda s: int(s[:2]) + int(s[3:]) / 60)
    keep = (np.floor(dep_h * 4) - np.ceil(arr_h * 4)) >= 2
    return frame[keep].sort_values("arrival").reset_index(drop=True)


def jobs(r: ParkRecipe, rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for j in range(r.jobs):
        steps = int(rng.integers(4, 17))  # 1–4 h at 15 min
        level = rng.uniform(*r.job_kw)
        ramp = np.minimum(1.0, (np.arange(steps) + 1) / 2)
        profile = [round(float(level * x), 1) for x in ramp]
        earliest = float(rng.choice([0, 6, 8, 10, 12]))
        latest = float(min(24, earliest + rng.choice([8, 12, 16, 24])))
        latest = max(latest, earliest + steps / 4 + 1)
        job: dict[str, Any] = {
            "id": f"job-{j + 1:02d}",
            "type": "shiftable_load",
            "name": f"batch process {j + 1}",
            "power_kw": profile,
            "earliest_start": hhmm(earliest),
            "latest_end": hhmm(min(latest, 24)),
        }
        if j % 6 == 5:
            job["value_yuan"] = round(float(sum(profile)) * 0.25 * 1.2, 0)
        out.append(job)
    return out


RECIPES = [
    ParkRecipe(
        id="changzhou-wujin-mfg",
        name="Changzhou Wujin advanced manufacturing park",
        city="Changzhou",
        latitude=31.81,
        longitude=119.97,
        base_kw=16000,
        shift_kw=[(0, 24, 8000), (8, 20, 6000)],
        weekend_frac=0.6,
        cooling_kw_per_c=900,
        heating_kw_per_c=300,
        noise_kw=600,
        grid={
            "import_limit_kw": 45000,
            "export_limit_kw": 5000,
            "tariff": "jiangsu-2025-two-part-1-10kv",
            "export_price_yuan_per_kwh": 0.391,
            "demand_charge_yuan_per_kw_month": 40.0,
            "month_peak_so_far_kw": 36000.0,
        },
        pv=[
            {
                "id": "pv-roof-a",
                "type": "pv",
                "capacity_kwp": 6000.0,
                "tilt_deg": 20.0,
                "azimuth_deg": 180.0,
            },
            {
                "id": "pv-roof-b",
                "type": "pv",
                "capacity_kwp": 5000.0,
                "tilt_deg": 10.0,
                "azimuth_deg": 135.0,
            },
            {
                "id": "pv-roof-c",
                "type": "pv",
                "capacity_kwp": 4000.0,
                "tilt_deg": 10.0,
                "azimuth_deg": 225.0,
            },
        ],
        batteries=[
            {
                "id": "bess-a",
                "type": "battery",
                "power_kw": 4000.0,
                "energy_kwh": 8000.0,
                "max_cycles_per_day": 2.0,
                "charge_efficiency_frac": 0.92,
                "discharge_efficiency_frac": 0.92,
                "degradation_cost_yuan_per_kwh": 0.05,
                "grid_connected_on": dt.date(2025, 9, 20),
            },
            {
                "id": "bess-b",
                "type": "battery",
                "power_kw": 4000.0,
                "energy_kwh": 8000.0,
                "max_cycles_per_day": 2.0,
                "charge_efficiency_frac": 0.92,
                "discharge_efficiency_frac": 0.92,
                "degradation_cost_yuan_per_kwh": 0.05,
                "grid_connected_on": dt.date(2024, 5, 10),
            },
        ],
        ev=[
            {
                "id": "ev-staff",
                "type": "ev_charging",
                "chargers": 260,
                "charger_power_kw": 11.0,
                "site_limit_kw": 1500.0,
                "draw": {
                    "groups": [
                        {
                            "count": 220,
                            "arrival_h": (7.0, 9.0),
                            "dwell_h": (8.5, 10.0),
                            "energy_kwh": (10, 35),
                            "power_kw": 11,
                        },
                        {
                            "count": 40,
                            "arrival_h": (19.0, 20.5),
                            "dwell_h": (3.0, 4.5),
                            "energy_kwh": (8, 25),
                            "power_kw": 11,
                        },
                    ]
                },
            },
            {
                "id": "ev-fleet",
                "type": "ev_charging",
                "chargers": 40,
                "charger_power_kw": 120.0,
                "site_limit_kw": 2400.0,
                "draw": {
                    "groups": [
                        {
                            "count": 25,
                            "arrival_h": (0.0, 1.0),
                            "dwell_h": (4.0, 6.0),
                            "energy_kwh": (80, 200),
                            "power_kw": 120,
                        },
                        {
                            "count": 20,
                            "arrival_h": (11.0, 13.0),
                            "dwell_h": (1.5, 3.0),
                            "energy_kwh": (40, 120),
                            "power_kw": 120,
                        },
                    ]
                },
            },
        ],
        jobs=30,
        job_kw=(200, 1500),
        curtailable=[
            {
                "id": "chillers",
                "type": "curtailable_load",
                "max_curtail_kw": 2000.0,
                "cost_yuan_per_kwh": 1.5,
                "max_curtailed_kwh": 4000.0,
            }
        ],
        seed=11,
    ),
    ParkRecipe(
        id="wuxi-xishan-electronics",
        name="Wuxi Xishan electronics park",
        city="Wuxi",
        latitude=31.49,
        longitude=120.31,
        base_kw=4500,
        shift_kw=[(8, 20, 3500), (20, 24, 1500)],
        weekend_frac=0.5,
        cooling_kw_per_c=300,
        heating_kw_per_c=120,
        noise_kw=200,
        grid={
            "import_limit_kw": 14000,
            "export_limit_kw": 2000,
            "tariff": "jiangsu-2025-two-part-1-10kv",
            "export_price_yuan_per_kwh": 0.391,
            "demand_charge_yuan_per_kw_month": 40.0,
            "month_peak_so_far_kw": 10500.0,
        },
        pv=[
            {
                "id": "pv-roofs",
                "type": "pv",
                "capacity_kwp": 4000.0,
                "tilt_deg": 15.0,
                "azimuth_deg": 180.0,
            }
        ],
        batteries=[
            {
                "id": "bess-1",
                "type": "battery",
                "power_kw": 2000.0,
                "energy_kwh": 4000.0,
                "max_cycles_per_day": 2.0,
                "charge_efficiency_frac": 0.93,
                "discharge_efficiency_frac": 0.93,
                "degradation_cost_yuan_per_kwh": 0.05,
                "grid_connected_on": dt.date(2026, 1, 5),
            },
        ],
        ev=[
            {
                "id": "ev-staff",
                "type": "ev_charging",
                "chargers": 70,
                "charger_power_kw": 7.0,
                "site_limit_kw": 350.0,
                "draw": {
                    "groups": [
                        {
                            "count": 60,
                            "arrival_h": (7.5, 9.0),
                            "dwell_h": (8.0, 10.0),
                            "energy_kwh": (8, 30),
                            "power_kw": 7,
                        },
                    ]
                },
            },
        ],
        jobs=8,
        job_kw=(100, 600),
        curtailable=[
            {
                "id": "hvac",
                "type": "curtailable_load",
                "max_curtail_kw": 500.0,
                "cost_yuan_per_kwh": 1.2,
                "max_curtailed_kwh": 1000.0,
            }
        ],
        seed=22,
    ),
    ParkRecipe(
        id="changzhou-xinbei-logistics",
        name="Changzhou Xinbei cold-chain logistics park",
        city="Changzhou",
        latitude=31.86,
        longitude=119.97,
        base_kw=1800,
        shift_kw=[(6, 22, 1200)],
        weekend_frac=0.9,
        cooling_kw_per_c=150,
        heating_kw_per_c=30,
        noise_kw=80,
        grid={
            "import_limit_kw": 6000,
            "export_limit_kw": 1500,
            "tariff": "jiangsu-2025-two-part-1-10kv",
            "export_price_yuan_per_kwh": 0.391,
            "demand_charge_yuan_per_kw_month": 40.0,
            "month_peak_so_far_kw": 4200.0,
        },
        pv=[
            {
                "id": "pv-warehouse",
                "type": "pv",
                "capacity_kwp": 3000.0,
                "tilt_deg": 5.0,
                "azimuth_deg": 180.0,
            }
        ],
        batteries=[
            {
                "id": "bess-1",
                "type": "battery",
                "power_kw": 1000.0,
                "energy_kwh": 2000.0,
                "max_cycles_per_day": 2.0,
                "charge_efficiency_frac": 0.93,
                "discharge_efficiency_frac": 0.93,
                "degradation_cost_yuan_per_kwh": 0.05,
                "grid_connected_on": dt.date(2025, 11, 1),
            },
        ],
        ev=[
            {
                "id": "ev-vans",
                "type": "ev_charging",
                "chargers": 110,
                "charger_power_kw": 40.0,
                "site_limit_kw": 1200.0,
                "v2g": True,
                "draw": {
                    "groups": [
                        {
                            "count": 70,
                            "arrival_h": (0.0, 0.5),
                            "dwell_h": (5.0, 7.0),
                            "energy_kwh": (30, 60),
                            "power_kw": 40,
                        },
                        {
                            "count": 40,
                            "arrival_h": (12.0, 14.0),
                            "dwell_h": (2.0, 4.0),
                            "energy_kwh": (15, 40),
                            "power_kw": 40,
                        },
                    ]
                },
            },
        ],
        jobs=4,
        job_kw=(150, 500),
        seed=33,
    ),
]


def build_example(r: ParkRecipe, out_dir: Path) -> None:
    rng = np.random.default_rng(r.seed)
    data_dir = out_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    load_series(r, rng).to_csv(data_dir / f"{r.id}-load.csv", index=False)
    assets: list[dict[str, Any]] = [*r.pv, *r.batteries]
    for ev in r.ev:
        sessions = ev_sessions(ev["draw"], rng)
        path = f"data/{r.id}-{ev['id']}-sessions.csv"
        sessions.to_csv(out_dir / path, index=False)
        assets.append({k: v for k, v in ev.items() if k != "draw"} | {"sessions": path})
    assets += jobs(r, rng)
    assets += r.curtailable
    park = {
        "id": r.id,
        "name": r.name,
        "timezone": "Asia/Shanghai",
        "location": {"latitude": r.latitude, "longitude": r.longitude},
        "horizon": {"start": f"{YEAR}-07-15T00:00:00+08:00", "steps": 96, "resolution_min": 15},
        "grid": r.grid,
        "load": f"data/{r.id}-load.csv",
        "assets": assets,
    }
    header = (
        f"# {r.name} ({r.city}). Generated by `python -m scenarios.generate_examples`; see README.md.\n"
        "# Export price 0.391 yuan/kWh: Jiangsu coal-fired benchmark, a user-supplied assumption.\n"
        "# Demand charge 40 yuan/kW-month: assumption (Jiangsu value unconfirmed, jiangsu-facts.md).\n"
    )
    text = yaml.safe_dump(
        park, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None
    )
    (out_dir / f"{r.id}.yaml").write_text(header + text, encoding="utf-8")


def main() -> None:
    for r in RECIPES:
        build_example(r, EXAMPLES_DIR)
        print(f"wrote {EXAMPLES_DIR / (r.id + '.yaml')}")


if __name__ == "__main__":
    main()

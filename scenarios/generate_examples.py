"""Generate the bundled example parks: park files and a synthetic metered year (2026).

Run ``python -m scenarios.generate_examples`` to rebuild ``scenarios/examples/`` byte for byte
(fixed seeds). How the series are made (documented in scenarios/examples/README.md):

- ``data/<park>-history.csv.gz``: 15-minute ``timestamp, load_kw, pv_kw, temperature_c``;
- temperature = a smooth annual cycle (mean 16.5 °C, ±12 °C, warmest late July) with a ±4 °C
  daily swing peaking at 14:00, plus a day-to-day AR(1) anomaly (±2.5 °C) and cooler overcast
  summer days: a stand-in for Changzhou/Wuxi climate normals;
- load = base + production shifts + cooling (kW per °C above 22 °C) + heating (kW per °C below
  10 °C) + AR(1) noise. Shifts run in full on working days of the Chinese calendar (weekdays
  that are not statutory holidays, and make-up workdays, 调休), at ``weekend_frac`` on weekends
  and at ``holiday_frac`` on statutory holidays (``forecasts.calendar``);
- PV = the pvlib clear-sky output of the park's arrays (``forecasts.pv``) times a clearness
  per step: each day is clear, partly cloudy or overcast (overcast more likely in the June–July
  plum rains), partly cloudy days fluctuating within the day. The park files leave PV
  ``forecast_kw`` out, so schedules use the clear-sky estimate of the day;
- ``data/<park>-<ev>-history.csv.gz``: a year of EV sessions (ISO arrival and departure,
  energy, power) drawn per day from the groups below, fewer on non-working days; the
  ``-sessions.csv`` files are one working day's draw, used by the park files;
- jobs are drawn from the distributions below with a fixed seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yaml

from forecasts.calendar import DayType, day_type
from forecasts.pv import clearsky_pv_kw
from models.timegrid import TimeGrid
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
    holiday_frac: float
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


DAYS = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-31", freq="D").date
STEPS_PER_DAY = 96


def year_index() -> pd.DatetimeIndex:
    return pd.date_range(
        f"{YEAR}-01-01", f"{YEAR + 1}-01-01", freq="15min", inclusive="left", tz="Asia/Shanghai"
    )


def sky(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clearness per 15-minute step [-] and each day's state (0 clear, 1 partly, 2 overcast)."""
    states = np.empty(len(DAYS), dtype=int)
    clearness = np.empty((len(DAYS), STEPS_PER_DAY))
    for i, day in enumerate(DAYS):
        rainy = day.month in (6, 7)  # plum rains (梅雨)
        p = [0.3, 0.35, 0.35] if rainy else [0.45, 0.35, 0.2]
        state = int(rng.choice(3, p=p))
        states[i] = state
        if state == 0:
            clearness[i] = rng.uniform(0.92, 1.0)
        elif state == 2:
            clearness[i] = rng.uniform(0.12, 0.35)
        else:
            walk = np.cumsum(rng.normal(0, 0.08, STEPS_PER_DAY))
            clearness[i] = np.clip(rng.uniform(0.55, 0.8) + walk - walk.mean(), 0.1, 1.0)
    return clearness.ravel(), states


def temperature_c(
    index: pd.DatetimeIndex, states: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    doy = index.day_of_year.to_numpy()
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    annual = 16.5 + 12.0 * np.cos(2 * np.pi * (doy - 205) / 365)
    daily = 4.0 * np.cos(2 * np.pi * (hour - 14) / 24)
    anomaly = np.zeros(len(DAYS))
    for i in range(1, len(DAYS)):
        anomaly[i] = 0.7 * anomaly[i - 1] + rng.normal(0, 2.5 * np.sqrt(1 - 0.7**2))
    overcast = (states == 2).astype(float)
    per_day = np.repeat(anomaly - 2.0 * overcast, STEPS_PER_DAY)
    return np.asarray(annual + daily + per_day, dtype=float)


def pv_kw(r: ParkRecipe, clearness: np.ndarray) -> np.ndarray:
    tz = ZoneInfo("Asia/Shanghai")
    parts = []
    for first in range(0, len(DAYS), 7):  # a TimeGrid spans a week at most
        n_days = min(7, len(DAYS) - first)
        day = DAYS[first]
        grid = TimeGrid(
            start=dt.datetime(day.year, day.month, day.day, tzinfo=tz),
            steps=n_days * STEPS_PER_DAY,
            resolution_min=15,
        )
        parts.append(
            sum(
                (
                    clearsky_pv_kw(
                        grid,
                        latitude_deg=r.latitude,
                        longitude_deg=r.longitude,
                        capacity_kwp=float(a["capacity_kwp"]),
                        tilt_deg=float(a.get("tilt_deg", 20.0)),
                        azimuth_deg=float(a.get("azimuth_deg", 180.0)),
                    )
                    for a in r.pv
                ),
                np.zeros(grid.steps),
            )
        )
    return np.asarray(np.concatenate(parts) * clearness, dtype=float)


def day_factor(r: ParkRecipe) -> np.ndarray:
    """Production level of each day: 1 on working days, else the weekend or holiday level."""
    out = []
    for day in DAYS:
        kind = day_type(day)
        if kind in (DayType.workday, DayType.makeup_workday):
            out.append(1.0)
        elif kind is DayType.holiday:
            out.append(r.holiday_frac)
        else:
            out.append(r.weekend_frac)
    return np.repeat(np.array(out), STEPS_PER_DAY)


def history(r: ParkRecipe, rng: np.random.Generator) -> pd.DataFrame:
    index = year_index()
    clearness, states = sky(rng)
    temp = temperature_c(index, states, rng)
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    prod = np.zeros(len(index))
    for start, end, kw in r.shift_kw:
        prod += np.where((hour >= start) & (hour < end), kw, 0.0)
    prod = prod * day_factor(r)
    weather = r.cooling_kw_per_c * np.clip(temp - 22, 0, None) + r.heating_kw_per_c * np.clip(
        10 - temp, 0, None
    )
    noise = np.zeros(len(index))
    eps = rng.normal(0, r.noise_kw * np.sqrt(1 - 0.9**2), len(index))
    for i in range(1, len(index)):
        noise[i] = 0.9 * noise[i - 1] + eps[i]
    load = np.clip(r.base_kw + prod + weather + noise, 0.2 * r.base_kw, None)
    return pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in index],
            "load_kw": np.round(load, 1),
            "pv_kw": np.round(pv_kw(r, clearness), 1),
            "temperature_c": np.round(temp, 1),
        }
    )


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


def ev_history(draw: dict[str, Any], r: ParkRecipe, rng: np.random.Generator) -> pd.DataFrame:
    """A year of sessions: each day a Poisson number per group around its count (a third of it
    on non-working days), times drawn as in :func:`ev_sessions`."""
    factor = day_factor(r)[::STEPS_PER_DAY]
    rows = []
    for i, day in enumerate(DAYS):
        midnight = pd.Timestamp(day, tz="Asia/Shanghai")
        scale = 1.0 if factor[i] >= 1.0 else 0.33
        for group in draw["groups"]:
            for _ in range(int(rng.poisson(group["count"] * scale))):
                arr = np.ceil(rng.uniform(*group["arrival_h"]) * 4) / 4
                dep = min(np.floor((arr + rng.uniform(*group["dwell_h"])) * 4) / 4, 24.0)
                if dep - arr < 0.5:
                    continue
                power = float(group["power_kw"])
                energy = min(rng.uniform(*group["energy_kwh"]), 0.8 * power * (dep - arr))
                rows.append(
                    {
                        "arrival": (midnight + pd.Timedelta(hours=arr)).isoformat(),
                        "departure": (midnight + pd.Timedelta(hours=dep)).isoformat(),
                        "energy_kwh": round(max(energy, 1.0), 1),
                        "max_power_kw": power,
                    }
                )
    return pd.DataFrame(rows)


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
        holiday_frac=0.3,
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
        holiday_frac=0.25,
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
        holiday_frac=0.8,
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
    # gzip without a timestamp in its header, so a rebuild is byte for byte the same
    gz = {"method": "gzip", "mtime": 0}
    history(r, rng).to_csv(data_dir / f"{r.id}-history.csv.gz", index=False, compression=gz)
    assets: list[dict[str, Any]] = [*r.pv, *r.batteries]
    for ev in r.ev:
        sessions = ev_sessions(ev["draw"], rng)
        path = f"data/{r.id}-{ev['id']}-sessions.csv"
        sessions.to_csv(out_dir / path, index=False)
        ev_history(ev["draw"], r, rng).to_csv(
            data_dir / f"{r.id}-{ev['id']}-history.csv.gz", index=False, compression=gz
        )
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
        "load": f"data/{r.id}-history.csv.gz#load_kw",
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

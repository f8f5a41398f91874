"""The same optimal cost at 15, 30 and 60 minutes on step-constant (hourly) inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import battery, park_dict, solve


def hourly_csv(path: Path, values: np.ndarray, column: str) -> str:
    stamps = pd.date_range("2026-07-15", periods=len(values), freq="60min", tz="Asia/Shanghai")
    pd.DataFrame({"timestamp": [t.isoformat() for t in stamps], column: values}).to_csv(
        path, index=False
    )
    return path.name


@pytest.fixture
def hourly_park(tmp_path: Path) -> dict[str, object]:
    hours = np.arange(24)
    load = 400 + 200 * ((hours >= 8) & (hours < 20)) + 30 * (hours % 3)
    pv = np.clip(300 * np.sin(np.pi * (hours - 6) / 12), 0, None).round(1)
    d = park_dict(
        steps=24,
        load=hourly_csv(tmp_path / "load.csv", load.astype(float), "load_kw"),
        assets=[
            {
                "id": "pv",
                "type": "pv",
                "capacity_kwp": 400.0,
                "forecast_kw": hourly_csv(tmp_path / "pv.csv", pv, "pv_kw"),
            },
            battery(
                power_kw=100.0,
                energy_kwh=200.0,
                soc_initial_frac=0.5,
                soc_final_min_frac=0.5,
                charge_efficiency_frac=0.95,
                discharge_efficiency_frac=0.95,
                degradation_cost_yuan_per_kwh=0.02,
            ),
            {
                "id": "job",
                "type": "shiftable_load",
                "power_kw": [80.0, 120.0],
                "profile_resolution_min": 60,
                "earliest_start": "06:00",
                "latest_end": "20:00",
            },
            {
                "id": "ev",
                "type": "ev_charging",
                "chargers": 2,
                "charger_power_kw": 20.0,
                "site_limit_kw": 30.0,
                "sessions": [
                    {"arrival": "08:00", "departure": "17:00", "energy_kwh": 60.0},
                    {"arrival": "18:00", "departure": "23:00", "energy_kwh": 40.0},
                ],
            },
            {
                "id": "hvac",
                "type": "curtailable_load",
                "max_curtail_kw": 50.0,
                "cost_yuan_per_kwh": 0.9,
                "max_curtailed_kwh": 100.0,
            },
        ],
        demand_charge_yuan_per_kw_month=40.0,
        month_peak_so_far_kw=550.0,
        export_limit_kw=100.0,
        export_price_yuan_per_kwh=0.2,
    )
    del d["grid"]["import_price_yuan_per_kwh"]  # type: ignore[index]
    d["grid"]["tariff"] = "jiangsu-2025-two-part-1-10kv"  # type: ignore[index]
    d["_dir"] = tmp_path
    return d


def test_same_optimal_cost_at_15_30_60_minutes(hourly_park: dict[str, object]) -> None:
    base_dir = hourly_park.pop("_dir")
    costs = {}
    for res in (60, 30, 15):
        d = dict(hourly_park)
        d["horizon"] = {
            "start": "2026-07-15T00:00:00+08:00",
            "steps": 24 * 60 // res,
            "resolution_min": res,
        }
        s = solve(d, base_dir=base_dir)  # type: ignore[arg-type]
        costs[res] = s.costs["total_yuan"]
        assert s.summary["energy_kwh"]["load_kwh"] == pytest.approx(
            float(pd.read_csv(base_dir / "load.csv")["load_kw"].sum())
        )  # type: ignore[operator]
    assert costs[30] == pytest.approx(costs[60], rel=1e-7)
    assert costs[15] == pytest.approx(costs[60], rel=1e-7)

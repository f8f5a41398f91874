"""Small parks for hand-solved tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.results import ParkSchedule, schedule_park
from models.solve import SolverOptions
from models.spec import ResolvedPark, resolve_park, validate_park

EXACT = SolverOptions(mip_rel_gap=1e-9, time_limit_s=60)


def park_dict(
    *,
    steps: int,
    resolution_min: int = 60,
    load: Any = 0.0,
    price: Any = 0.5,
    assets: list[dict[str, Any]] | None = None,
    start: str = "2026-07-15T00:00:00+08:00",
    **grid: Any,
) -> dict[str, Any]:
    g: dict[str, Any] = {
        "import_limit_kw": 10_000.0,
        "export_limit_kw": 0.0,
        "import_price_yuan_per_kwh": price,
    }
    g.update(grid)
    return {
        "id": "t",
        "name": "test park",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": start, "steps": steps, "resolution_min": resolution_min},
        "grid": g,
        "load": load,
        "assets": assets or [],
    }


def resolved(d: dict[str, Any], base_dir: Path | str = ".") -> ResolvedPark:
    return resolve_park(validate_park(d), base_dir=base_dir)


def solve(
    d: dict[str, Any], options: SolverOptions = EXACT, base_dir: Path | str = "."
) -> ParkSchedule:
    return schedule_park(resolved(d, base_dir), options)


def battery(**kw: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "id": "bess",
        "type": "battery",
        "power_kw": 50.0,
        "energy_kwh": 100.0,
        "soc_initial_frac": 0.0,
        "soc_min_frac": 0.0,
        "soc_max_frac": 1.0,
        "soc_final_min_frac": 0.0,
        "charge_efficiency_frac": 1.0,
        "discharge_efficiency_frac": 1.0,
        "degradation_cost_yuan_per_kwh": 0.0,
    }
    b.update(kw)
    return b

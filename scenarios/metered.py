"""The scorecard of a park's metered year alone (``vpp scorecard PARK --annual FILE``).

Grid import and export come from the history's ``load_kw`` and ``pv_kw`` step by step
(import = max(load − PV, 0), export = max(PV − load, 0)): the history meters the site, not the
connection, so storage's own effect on the meter is not in it (stated in the output).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from pydantic import ValidationError

from models.errors import InputProblem, ParkInputError
from models.spec import ParkYamlLoader, load_park, problems_from_validation
from scenarios.periods import history_path, year_frame
from scenarios.scorecard import EnergyYear, Scorecard, scorecard
from scenarios.spec import AnnualData


def load_annual(path: Path) -> AnnualData:
    """Read an annual-data file (the ``annual`` block of the scenario format)."""
    if not path.exists():
        raise ParkInputError([InputProblem("<file>", "file does not exist")], str(path))
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=ParkYamlLoader)
    try:
        return AnnualData.model_validate(raw or {})
    except ValidationError as exc:
        raise ParkInputError(problems_from_validation(exc, raw), str(path)) from exc


def metered_scorecard(
    park_file: Path, annual: AnnualData, *, history: Path | None = None, year: int | None = None
) -> tuple[Scorecard, dict[str, object]]:
    """Indicators T2–T10 of a park's metered year; also returns what was read."""
    park = load_park(park_file)
    path = history or history_path(park, None, park_file.parent, park_file.parent)
    frame = year_frame(path, year, 60, str(park_file))
    load = frame["load_kw"].to_numpy(dtype=float)
    pv = (
        np.clip(frame["pv_kw"].to_numpy(dtype=float), 0.0, None)
        if "pv_kw" in frame.columns
        else np.zeros_like(load)
    )
    pv = np.nan_to_num(pv)
    days = len(load) // 24
    card = scorecard(
        EnergyYear(
            electricity_use_kwh=float(load.sum()),
            grid_import_kwh=float(np.clip(load - pv, 0.0, None).sum()),
            grid_export_kwh=float(np.clip(pv - load, 0.0, None).sum()),
            pv_generation_kwh=float(pv.sum()),
            peak_load_kw=float(load.max()),
            days=days,
            storage_kwh=float(sum(a.energy_kwh for a in park.assets if a.type == "battery")),
            pv_kwp=float(sum(a.capacity_kwp for a in park.assets if a.type == "pv")),
            roof_potential_kwp=annual.roof_potential_kwp,
            dr_capability_kw=annual.dr_capability_kw,
            green_certificates_mwh=annual.green_certificates_mwh,
            green_power_purchase_kwh=annual.green_power_purchase_kwh,
            carriers=annual.carriers.model_dump(),
            value_added_10k_yuan=annual.value_added_10k_yuan,
            emission_factor_kg_per_kwh=park.grid.emission_factor_kg_per_kwh,
            carrier_factors=dict(annual.carrier_factors),
            green_certificates_reduce_co2=annual.green_certificates_reduce_co2,
        )
    )
    info: dict[str, object] = {
        "park": park.id,
        "history": str(path),
        "year": int(frame.index[0].year),
        "filled_steps": int(frame.attrs.get("filled_steps", 0)),
        "note": "grid import and export from load − PV per hour (storage not metered)",
    }
    return card, info

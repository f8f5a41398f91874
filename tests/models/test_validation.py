"""Impossible inputs are rejected before building, naming the file, field and asset; a model
that is infeasible anyway names the conflicting constraint families."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import InfeasibleError, ParkInputError
from models.spec import load_park, parse_park
from tests.helpers import battery, park_dict, resolved, solve


def problems_of(exc: ParkInputError) -> list[tuple[str | None, str, str]]:
    return [(p.asset_id, p.field, p.reason) for p in exc.problems]


def test_ev_session_needing_more_than_its_window_allows() -> None:
    ev = {
        "id": "depot",
        "type": "ev_charging",
        "chargers": 2,
        "charger_power_kw": 10.0,
        "site_limit_kw": 20.0,
        "sessions": [{"arrival": "01:00", "departure": "03:00", "energy_kwh": 25.0}],
    }
    with pytest.raises(ParkInputError) as info:
        resolved(park_dict(steps=4, assets=[ev]))
    [(asset, field, reason)] = problems_of(info.value)
    assert asset == "depot"
    assert field == "sessions[0].energy_kwh"
    assert "25.0 kWh" in reason and "20.0 kWh" in reason


def test_job_longer_than_its_window() -> None:
    job = {
        "id": "kiln",
        "type": "shiftable_load",
        "power_kw": [5.0] * 3,
        "earliest_start": "01:00",
        "latest_end": "03:00",
    }
    with pytest.raises(ParkInputError) as info:
        resolved(park_dict(steps=4, assets=[job]))
    [(asset, field, reason)] = problems_of(info.value)
    assert (asset, field) == ("kiln", "latest_end")
    assert "lasts 3 h" in reason and "2 h" in reason


def test_soc_bounds_inverted() -> None:
    with pytest.raises(ParkInputError) as info:
        resolved(park_dict(steps=4, assets=[battery(soc_min_frac=0.8, soc_max_frac=0.2)]))
    [(asset, field, reason)] = problems_of(info.value)
    assert asset == "bess"
    assert "soc_min_frac 0.8 is above soc_max_frac 0.2" in reason
    assert field == "assets[0]"


def test_series_of_the_wrong_length() -> None:
    with pytest.raises(ParkInputError) as info:
        resolved(park_dict(steps=4, load=[1.0, 2.0, 3.0]))
    [(asset, field, reason)] = problems_of(info.value)
    assert asset is None and field == "load"
    assert "3 values" in reason and "4 steps" in reason


def test_pv_forecast_wrong_length_names_the_asset() -> None:
    pv = {"id": "roof", "type": "pv", "capacity_kwp": 10.0, "forecast_kw": [1.0, 2.0]}
    with pytest.raises(ParkInputError) as info:
        resolved(park_dict(steps=4, assets=[pv]))
    assert problems_of(info.value)[0][:2] == ("roof", "forecast_kw")


def test_unknown_key_is_an_error_naming_the_asset() -> None:
    d = park_dict(steps=4, assets=[{**battery(), "capacity_mwh": 3}])
    with pytest.raises(ParkInputError) as info:
        resolved(d)
    [(asset, field, reason)] = problems_of(info.value)
    assert (asset, field) == ("bess", "assets[0].capacity_mwh")
    assert "unknown key" in reason


def test_duplicate_asset_ids() -> None:
    with pytest.raises(ParkInputError, match="used more than once"):
        resolved(park_dict(steps=4, assets=[battery(), battery()]))


def test_unreachable_final_soc() -> None:
    b = battery(power_kw=10.0, soc_final_min_frac=1.0)  # 100 kWh in 4 h at 10 kW: impossible
    with pytest.raises(ParkInputError) as info:
        resolved(park_dict(steps=4, assets=[b]))
    assert problems_of(info.value)[0][:2] == ("bess", "soc_final_min_frac")


def test_too_many_vehicles_for_the_chargers() -> None:
    sess = [{"arrival": "00:00", "departure": "02:00", "energy_kwh": 1.0}] * 3
    ev = {
        "id": "depot",
        "type": "ev_charging",
        "chargers": 2,
        "charger_power_kw": 10.0,
        "site_limit_kw": 20.0,
        "sessions": sess,
    }
    with pytest.raises(
        ParkInputError, match="3 vehicles are plugged in at 00:00 but there are only 2 chargers"
    ):
        resolved(park_dict(steps=4, assets=[ev]))


def test_file_name_and_every_problem_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "park.yaml"
    path.write_text(
        "id: p\nname: p\nlocation: {latitude: 31.8, longitude: 120}\n"
        "horizon: {start: '2026-07-15T00:00:00+08:00', steps: 4, resolution_min: 60}\n"
        "grid: {import_limit_kw: 100, tariff: nope}\nload: 1\nassets:\n"
        "  - {id: b, type: battery, power_kw: -5, energy_kwh: 10}\n"
    )
    with pytest.raises(ParkInputError) as info:
        load_park(path)
    text = str(info.value)
    assert str(path) in text
    assert "grid.tariff" in text
    assert "asset 'b', field assets[0].power_kw" in text


def test_times_of_day_are_not_read_as_base_60_numbers() -> None:
    text = (
        "id: p\nname: p\nlocation: {latitude: 31.8, longitude: 120}\n"
        "horizon: {start: '2026-07-15T00:00:00+08:00', steps: 24, resolution_min: 60}\n"
        "grid: {import_limit_kw: 100, import_price_yuan_per_kwh: 0.5}\nload: 1\nassets:\n"
        "  - {id: j, type: shiftable_load, power_kw: [1], earliest_start: 14:00, latest_end: 16:00}\n"
    )
    spec = parse_park(text)
    assert spec.assets[0].earliest_start == "14:00"  # type: ignore[union-attr]


def test_json_park_files_are_accepted() -> None:
    import json

    spec = parse_park(
        json.dumps(park_dict(steps=4, assets=[{**battery(), "grid_connected_on": "2026-01-05"}])),
        fmt="json",
    )
    assert spec.assets[0].type == "battery"


def test_infeasible_model_names_asset_and_family() -> None:
    # The job must run (10 kW for 2 h) but the import limit is 5 kW: the balance, the import
    # limit and the job's one-start family conflict.
    job = {"id": "kiln", "type": "shiftable_load", "power_kw": [10.0, 10.0]}
    with pytest.raises(InfeasibleError) as info:
        solve(park_dict(steps=4, assets=[job], import_limit_kw=5.0))
    conflicts = info.value.conflicts
    assert (None, "power balance", "P1") in conflicts
    assert (None, "grid import limit", "P2") in conflicts
    assert ("kiln", "one start in window", "J1") in conflicts
    assert "kiln" in str(info.value)

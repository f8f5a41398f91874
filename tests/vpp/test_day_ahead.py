"""``vpp day-ahead``: forecasts chosen per park, and the whole job's files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from models.spec import ForecastSpec, validate_park
from tests.vpp.test_capacity import _park
from vpp.cli import app
from vpp.day_ahead_cmd import with_forecasts
from vpp.spec import load_vpp

EXAMPLE_VPP = (
    Path(__file__).parents[2] / "scenarios" / "examples" / "vpp" / "changzhou-wuxi-demo.yaml"
)


def test_example_parks_are_forecast_from_their_histories() -> None:
    _, parks = load_vpp(EXAMPLE_VPP)
    forecast, notes = with_forecasts(parks)
    for (spec, base), note in zip(forecast, notes, strict=True):
        assert isinstance(spec.forecast, ForecastSpec), note
        # every EV asset of the bundled parks has a session history next to its sessions
        evs = [a.id for a in spec.assets if a.type == "ev_charging"]
        assert sorted(spec.forecast.ev_session_history) == sorted(evs)
        for path in spec.forecast.ev_session_history.values():
            assert (base / path).exists()
    # a fixed-load park is left as written, and said so
    raw = _park("fixed")
    kept, notes = with_forecasts([(validate_park(raw), Path("."))])
    assert kept[0][0].forecast is None and "as written (a fixed load)" in notes[0]


def test_day_ahead_job_writes_every_part(tmp_path: Path) -> None:
    raw = _park("hand")
    raw["grid"]["import_price_yuan_per_kwh"] = [0.3] * 48 + [1.0] * 48
    vpp = {
        "id": "v",
        "name": "one",
        "parks": [raw],
        "programme": {"bid_prices_yuan_per_kwh": [0.5, 2.0]},
    }
    (tmp_path / "vpp.yaml").write_text(yaml.safe_dump(vpp))
    out = tmp_path / "out"
    args = ["day-ahead", str(tmp_path / "vpp.yaml"), "--date", "2026-07-15", "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--scheduler", "serial", "--workers", "1"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "day-ahead.json").read_text())
    assert doc["parks"][0]["park_id"] == "hand" and doc["parks"][0]["status"] == "ok"
    assert doc["bids_deliverable"] is True
    assert set(doc["stages_s"]) == {"forecasts_s", "schedules_s", "capacity_s", "bids_s"}
    for f in (
        "schedules/hand/schedule.csv",
        "capacity/capacity.json",
        "bids/bids.json",
        "bids/bids.csv",
    ):
        assert (out / f).exists(), f

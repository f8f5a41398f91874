"""The CLI end to end on a bundled example, reading back the CSV and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scenarios.examples import EXAMPLES_DIR
from vpp.cli import app

runner = CliRunner()
PARK = EXAMPLES_DIR / "wuxi-xishan-electronics.yaml"


def test_schedule_writes_csv_json_html(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["schedule", str(PARK), "--date", "2026-07-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "schedule.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert len(frame) == 96
    assert list(frame.columns[:6]) == [
        "timestamp",
        "load_kw",
        "import_kw",
        "export_kw",
        "pv_kw",
        "pv_curtailed_kw",
    ]
    for col in [
        "bess-1.charge_kw",
        "bess-1.discharge_kw",
        "bess-1.soc_kwh",
        "ev-staff.charge_kw",
        "job-01.power_kw",
        "import_price_yuan_per_kwh",
        "export_price_yuan_per_kwh",
    ]:
        assert col in frame.columns
    assert frame["timestamp"].iloc[0] == "2026-07-15T00:00:00+08:00"
    # The JSON agrees with the CSV.
    dt_h = 0.25
    assert summary["energy_kwh"]["import_kwh"] == pytest.approx(
        frame["import_kw"].sum() * dt_h, rel=1e-5
    )
    energy = (frame["import_kw"] * frame["import_price_yuan_per_kwh"]).sum() * dt_h
    assert summary["costs_yuan"]["energy_yuan"] == pytest.approx(energy, rel=1e-5)
    assert summary["peak_import_kw"] == pytest.approx(frame["import_kw"].max(), rel=1e-5)
    assert summary["solver"]["status"] == "ok" and summary["solver"]["termination"] == "optimal"
    assert summary["costs_yuan"]["total_yuan"] == pytest.approx(
        summary["solver"]["objective"], rel=1e-6
    )
    for key in ("build_s", "solve_s", "variables", "binaries", "constraints", "bound", "gap"):
        assert key in summary["solver"]
    # July 2026 is within bess-1's subsidy window (connected 2026-01-05).
    assert summary["costs_yuan"]["subsidy_yuan"] == pytest.approx(
        0.3 * summary["storage"][0]["discharge_kwh"], rel=1e-6
    )
    html = (out / "schedule.html").read_text()
    assert '<script src="http' not in html and "plotly" in html.lower()  # self-contained


def test_relax_is_labelled(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["schedule", str(PARK), "--out", str(tmp_path), "--relax", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["relaxed"] is True and summary["solver"]["relaxed"] is True


def test_bad_input_exits_with_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PARK.read_text().replace("power_kw: 2000.0", "power_kw: -1"))
    result = runner.invoke(app, ["schedule", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "asset 'bess-1', field assets[1].power_kw" in result.stderr
    assert not (tmp_path / "o").exists()


def test_schema_park_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema", "park"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"id", "horizon", "grid", "load", "assets"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_validate_ok() -> None:
    result = runner.invoke(app, ["validate", str(PARK), "--date", "2026-12-16"])
    assert result.exit_code == 0, result.output
    assert "96 steps of 15 min" in result.stdout

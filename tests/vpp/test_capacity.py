"""Proven flexibility and the VPP capacity report, on parks solved by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from benchmarks.generate import SMALL, generated_park
from models.flexibility import sustained_change
from models.results import schedule_park
from models.spec import resolve_park, validate_park
from vpp.capacity import capacity_report, park_capacity
from vpp.cli import app
from vpp.spec import Programme, load_vpp


def _park(park_id: str = "p", soc_initial: float = 0.5) -> dict[str, Any]:
    """1,000 kW of flat load for 6 h at a flat price, and a lossless 500 kW / 1,000 kWh battery
    that must end at least half full; its degradation cost keeps it idle in the baseline."""
    return {
        "id": park_id,
        "name": "hand park",
        "location": {"latitude": 31.8, "longitude": 120.0},
        "horizon": {"start": "2026-07-15T00:00:00+08:00", "steps": 6, "resolution_min": 60},
        "grid": {"import_limit_kw": 5000.0, "import_price_yuan_per_kwh": 0.6},
        "load": 1000.0,
        "assets": [
            {
                "id": "bess",
                "type": "battery",
                "power_kw": 500.0,
                "energy_kwh": 1000.0,
                "soc_initial_frac": soc_initial,
                "soc_min_frac": 0.0,
                "soc_max_frac": 1.0,
                "soc_final_min_frac": 0.5,
                "charge_efficiency_frac": 1.0,
                "discharge_efficiency_frac": 1.0,
                "degradation_cost_yuan_per_kwh": 0.01,
            }
        ],
    }


def _resolved(raw: dict[str, Any]):  # type: ignore[no-untyped-def]
    return resolve_park(validate_park(raw, source="test"))


def test_sustained_reduction_and_increase_by_hand() -> None:
    park = _resolved(_park())
    base = schedule_park(park).frame["import_kw"].to_numpy()
    np.testing.assert_allclose(base, 1000.0, atol=1e-6)  # idle battery
    # hours 0–2: only the 500 kWh above the floor can go out, over 2 h
    assert sustained_change(park, base, 0, 2, "down").kw == pytest.approx(250.0)
    # hours 2–4: charge to full first, then 500 kW for 2 h, then recharge to half by the end
    assert sustained_change(park, base, 2, 2, "down").kw == pytest.approx(500.0)
    # hours 4–6: the battery must end half full, so only 500 kWh can go out
    assert sustained_change(park, base, 4, 2, "down").kw == pytest.approx(250.0)
    assert sustained_change(park, base, 0, 2, "up").kw == pytest.approx(250.0)
    assert sustained_change(park, base, 2, 2, "up").kw == pytest.approx(500.0)
    with pytest.raises(ValueError, match="outside"):
        sustained_change(park, base, 5, 2)


def test_an_empty_battery_offers_no_immediate_reduction() -> None:
    park = _resolved(_park(soc_initial=0.0))
    base = schedule_park(park).frame["import_kw"].to_numpy()
    assert sustained_change(park, base, 0, 1, "down").kw == pytest.approx(0.0, abs=1e-6)


def test_capacity_report_sums_parks_per_window() -> None:
    parks = [_resolved(_park("a")), _resolved(_park("b"))]
    report = capacity_report(parks, 2.0, Programme(capacity_target_kw=1000.0), workers=1)
    assert report.hours == [0, 1, 2, 3, 4]
    for p in report.parks:
        np.testing.assert_allclose(p.down_kw, [250, 500, 500, 500, 250], atol=1e-6)
    np.testing.assert_allclose(report.total_kw("down"), [500, 1000, 1000, 1000, 500], atol=1e-6)
    for p in report.parks:  # the LP is tight here: every level is its own proven bound
        np.testing.assert_allclose(np.asarray(p.down_bound_kw, dtype=float), p.down_kw, atol=1e-6)
        np.testing.assert_allclose(np.asarray(p.up_bound_kw, dtype=float), p.up_kw, atol=1e-6)
    t = report.targets()
    assert t["vpp_best_window_kw"] == pytest.approx(1000.0)
    assert t["capacity_target_share"] == pytest.approx(1.0)
    # 8 % of the daily average (1,000 kW) = 80 kW; 10 % of the peak load = 100 kW
    assert t["parks"]["a"]["dr_target_near_kw"] == pytest.approx(80.0)
    assert t["parks"]["a"]["dr_long_met"]
    # daily use is the mean load over 24 h (24,000 kWh), whatever the horizon: 8 % = 1,920 kWh
    assert t["parks"]["a"]["storage_target_near_kwh"] == pytest.approx(1920.0)
    assert not t["parks"]["a"]["storage_near_met"]


def test_levels_are_within_the_gap_of_their_proven_bounds() -> None:
    park = generated_park(SMALL, 0, park_id="gen")
    tight = park_capacity(park, 2.0, mip_rel_gap=1e-4)
    loose = park_capacity(park, 2.0, mip_rel_gap=0.01)
    assert loose.mip_rel_gap == 0.01 and tight.mip_rel_gap == 1e-4
    for d in ("down", "up"):
        lo = np.asarray(getattr(loose, f"{d}_kw"))
        lo_bound = np.asarray(getattr(loose, f"{d}_bound_kw"), dtype=float)
        best = np.asarray(getattr(tight, f"{d}_kw"))
        assert np.all(lo <= lo_bound + 1e-6)
        assert np.all(lo_bound - lo <= 0.01 * np.maximum(lo, 1.0) + 1e-6)
        # a proven bound is above every deliverable level, the tighter answer's included
        assert np.all(best <= lo_bound + 1e-3)
        assert np.all(lo >= best * (1 - 0.01) - 1e-3)


def test_a_gap_outside_zero_to_one_is_refused_with_the_park() -> None:
    with pytest.raises(ValueError, match=r"park a: mip_rel_gap 1\.5"):
        park_capacity(_resolved(_park("a")), 2.0, mip_rel_gap=1.5)


def test_cli_capacity(tmp_path: Path) -> None:
    vpp = {"id": "v", "name": "two parks", "parks": [_park("a"), _park("b")]}
    (tmp_path / "vpp.yaml").write_text(yaml.safe_dump(vpp))
    spec, parks = load_vpp(tmp_path / "vpp.yaml")
    assert spec.programme.capacity_target_kw == 200_000.0  # the T1 default
    assert [p.id for p, _ in parks] == ["a", "b"]
    runner = CliRunner()
    # --date makes a 96 × 15 min day; this park's load is a scalar, so any day works
    res = runner.invoke(
        app,
        [
            "capacity",
            str(tmp_path / "vpp.yaml"),
            "--date",
            "2026-07-15",
            "--duration-h",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "1",
            "--gap",
            "0.02",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert len(doc["hours"]) == 23 and len(doc["parks"]) == 2
    assert doc["parks"][0]["mip_rel_gap"] == 0.02
    assert len(doc["parks"][0]["up_bound_kw"]) == 23
    assert "up_bound_kw" in (tmp_path / "out" / "capacity.csv").read_text().splitlines()[0]
    assert (tmp_path / "out" / "capacity.png").stat().st_size > 1000
    assert (tmp_path / "out" / "capacity.csv").read_text().count("TOTAL") == 23
    dup = {"id": "v", "name": "dup", "parks": [_park("a"), _park("a")]}
    (tmp_path / "dup.yaml").write_text(yaml.safe_dump(dup))
    bad = runner.invoke(app, ["capacity", str(tmp_path / "dup.yaml"), "--date", "2026-07-15"])
    assert bad.exit_code == 2 and "park ids used twice" in bad.output

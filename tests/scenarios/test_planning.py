"""Planner scenarios end to end: the scenario file, the year, the economics, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from models.errors import ParkInputError
from models.sizing import SizingInfeasibleError
from scenarios.economics import Investment, annuity, cash_flows, crf, subsidy_share
from scenarios.periods import representative_days
from scenarios.plan import prepare_file, run_scenario
from scenarios.spec import load_scenario, parse_scenario
from scenarios.sweep import SweepError, cases, parse_values, resolve_key
from vpp.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios" / "examples"


def write_park(tmp: Path, load_kw: float | np.ndarray = 1000.0, **grid: Any) -> Path:
    """A park with a flat (or given) 15-minute load over 2026 and no assets."""
    idx = pd.date_range("2026-01-01", "2027-01-01", freq="15min", tz="Asia/Shanghai")[:-1]
    load = np.broadcast_to(np.asarray(load_kw, dtype=float), (len(idx),))
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "load_kw": load}).to_csv(
        tmp / "history.csv", index=False
    )
    park = {
        "id": "flat",
        "name": "flat park",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": "2026-07-15T00:00:00+08:00"},
        "grid": {
            "import_limit_kw": 20000.0,
            "tariff": "jiangsu-2025-two-part-1-10kv",
            "demand_charge_yuan_per_kw_month": 40.0,
            **grid,
        },
        "load": "history.csv#load_kw",
    }
    (tmp / "park.yaml").write_text(yaml.safe_dump(park))
    return tmp / "park.yaml"


def write_scenario(tmp: Path, **fields: Any) -> Path:
    doc: dict[str, Any] = {"id": "s", "name": "scenario", "park": "park.yaml", **fields}
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


# 2026: Jun–Aug and Dec–Feb are 182 days with 8 valley, 8 flat and 8 peak hours; Mar–May and
# Sep–Nov 183 days with 8 valley, 9 flat and 7 peak hours (苏发改价格发〔2025〕426号).
VALLEY, FLAT, PEAK = 0.5912 * 0.35 + 0.0645, 0.6557, 0.5912 * 1.8 + 0.0645
YEAR_PRICE_HOURS = 182 * (8 * VALLEY + 8 * FLAT + 8 * PEAK) + 183 * (
    8 * VALLEY + 9 * FLAT + 7 * PEAK
)


@pytest.mark.parametrize("method", ["full-year", "representative-days"])
def test_flat_load_no_technologies_costs_are_analytic(tmp_path: Path, method: str) -> None:
    write_park(tmp_path)
    prep = prepare_file(write_scenario(tmp_path, method={"kind": method, "days": 4}))
    plan = run_scenario(prep)
    costs = plan.result.costs_yuan_per_year
    assert costs["energy"] == pytest.approx(1000 * YEAR_PRICE_HOURS, rel=1e-9)
    assert costs["demand_charge"] == pytest.approx(12 * 1000 * 40.0, rel=1e-9)
    assert costs["total"] == pytest.approx(1000 * YEAR_PRICE_HOURS + 480_000, rel=1e-9)
    assert plan.result.sizes == {}
    assert plan.cash.npv_yuan == pytest.approx(0.0, abs=1e-3)


def _subsidy_scenario(tmp: Path, enabled: bool) -> Path:
    # A flat tariff (no arbitrage), a 2-year horizon so the 24-month reward is worth its full
    # 0.3 yuan/kWh, and cheap storage: with the reward each kWh of capacity earns
    # 0.3 × 365 − 0.6557 × (1/0.81 − 1) × 365 − 25 ≈ 28 yuan a year, without it loses ≈ 81.
    write_park(
        tmp,
        tariff={
            "name": "jiangsu-2025-two-part-1-10kv",
            "peak_multiplier": 1.0,
            "valley_multiplier": 1.0,
        },
        demand_charge_yuan_per_kw_month=0.0,
    )
    return write_scenario(
        tmp,
        technologies={
            "storage": {
                "max_power_kw": 1000.0,
                "max_energy_kwh": 4000.0,
                "duration_h_min": 0.0,
                "duration_h_max": 8.0,
                "capex_yuan_per_kwh": 50.0,
                "om_yuan_per_kwh_year": 0.0,
                "lifetime_years": 2,
                "soc_min_frac": 0.0,
                "soc_max_frac": 1.0,
                "max_cycles_per_day": 1.0,
            }
        },
        economics={
            "discount_rate_frac": 0.0,
            "horizon_years": 2,
            "storage_subsidy_enabled": enabled,
        },
        method={"kind": "representative-days", "days": 2},
    )


def test_storage_pays_only_with_the_subsidy(tmp_path: Path) -> None:
    on = run_scenario(prepare_file(_subsidy_scenario(tmp_path, True)))
    assert on.result.sizes["storage_energy_kwh"] == pytest.approx(4000.0, rel=1e-6)
    assert on.result.subsidy_eligible
    assert on.cash.npv_yuan > 0
    off = run_scenario(prepare_file(_subsidy_scenario(tmp_path, False)))
    assert off.result.sizes["storage_energy_kwh"] == pytest.approx(0.0, abs=1e-6)


def test_storage_and_pv_targets_bind_at_the_threshold(tmp_path: Path) -> None:
    write_park(tmp_path)
    path = write_scenario(
        tmp_path,
        technologies={
            "pv": {"roof_potential_kwp": 3000.0, "capex_yuan_per_kwp": 50000.0},
            "storage": {
                "max_power_kw": 5000.0,
                "max_energy_kwh": 20000.0,
                "capex_yuan_per_kwh": 9000.0,
            },
        },
        targets={"term": "near", "indicators": ["T3", "T4"]},
        method={"kind": "representative-days", "days": 3},
    )
    plan = run_scenario(prepare_file(path))
    assert plan.result.sizes["pv_kwp"] == pytest.approx(0.5 * 3000.0, rel=1e-7)
    daily_kwh = 1000 * 24
    assert plan.result.sizes["storage_energy_kwh"] == pytest.approx(0.08 * daily_kwh, rel=1e-7)
    t3 = next(i for i in plan.scorecard.indicators if i.id == "T3")
    assert t3.near_pass and t3.value == pytest.approx(t3.near_threshold, rel=1e-7)


def test_unreachable_target_is_reported_with_its_indicator(tmp_path: Path) -> None:
    write_park(tmp_path)
    path = write_scenario(
        tmp_path,
        technologies={"pv": {"roof_potential_kwp": 3000.0, "max_kwp": 1000.0}},
        targets={"indicators": ["T4"]},
        method={"kind": "representative-days", "days": 2},
    )
    with pytest.raises(SizingInfeasibleError, match="T4"):
        run_scenario(prepare_file(path))


def test_bad_scenarios_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ParkInputError, match=r"technologies\.pv\.roof_potential_kwpp"):
        parse_scenario("id: a\nname: b\npark: p.yaml\ntechnologies: {pv: {roof_potential_kwpp: 3}}")
    write_park(tmp_path)
    bad = write_scenario(
        tmp_path, technologies={"pv": {"roof_potential_kwp": 10.0, "min_kwp": 20.0}}
    )
    with pytest.raises(ParkInputError, match=r"technologies\.pv"):
        prepare_file(bad)
    gap = write_scenario(tmp_path, year=2025)
    with pytest.raises(ParkInputError, match="no load in 2025"):
        prepare_file(gap)
    t4 = write_scenario(tmp_path, targets={"indicators": ["T4"]})
    with pytest.raises(ParkInputError, match=r"T4 needs technologies\.pv"):
        run_scenario(prepare_file(t4))


def test_history_with_a_long_gap_is_refused(tmp_path: Path) -> None:
    write_park(tmp_path)
    frame = pd.read_csv(tmp_path / "history.csv")
    frame.drop(index=range(1000, 1100)).to_csv(tmp_path / "history.csv", index=False)
    with pytest.raises(ParkInputError, match="100 step"):
        prepare_file(write_scenario(tmp_path))


def test_representative_days_keep_the_year_and_its_days(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    load = 1000 + 200 * rng.random(365 * 96)
    write_park(tmp_path, load_kw=load)
    prep = prepare_file(write_scenario(tmp_path, method={"resolution_min": 60}))
    pd_ = representative_days(prep.year, 6, seed=0)
    assert sum(pd_.periods.weights) == 365
    assert pd_.periods.year_sum(pd_.load_kw) == pytest.approx(prep.year.load_kw.sum(), rel=1e-9)
    assert len(pd_.cluster_of_day) == 365 and set(pd_.cluster_of_day.values()) == set(range(6))
    assert all(len(m) >= 1 for m in pd_.periods.months)


def test_economics_by_hand() -> None:
    assert crf(0.06, 12) == pytest.approx(0.06 * 1.06**12 / (1.06**12 - 1))
    assert crf(0.0, 10) == pytest.approx(0.1)
    assert annuity(0.1, 2) == pytest.approx(1 / 1.1 + 1 / 1.21)
    assert subsidy_share(0.0, 20, 24) == pytest.approx(0.1)
    cf = cash_flows(
        [Investment("storage", 1000.0, 3)],
        annual_savings_yuan=300.0,
        subsidy_yuan_per_year=120.0,
        subsidy_months=18,
        rate=0.0,
        horizon_years=4,
    )
    # Year 0: −1000; years 1–4: +300; reward 120 in year 1, 60 in year 2; replacement at year
    # 3 (−1000) with 2/3 of it left at year 4 (+666.7).
    expected = [-1000, 420, 360, -700, 300 + 2000 / 3]
    assert cf.flows_yuan.tolist() == pytest.approx(expected)
    assert cf.npv_yuan == pytest.approx(sum(expected))
    # Cumulative −1000, −580, −220, −920, +46.7: paid back during year 4.
    assert cf.simple_payback_years == pytest.approx(3 + 920 / (920 + 46.6667), rel=1e-4)


def test_sweep_keys_and_values() -> None:
    assert resolve_key("storage_capex_yuan_per_kwh") == "technologies.storage.capex_yuan_per_kwh"
    assert resolve_key("events_per_year") == "economics.dr.events_per_year"
    assert resolve_key("economics.discount_rate_frac") == "economics.discount_rate_frac"
    with pytest.raises(SweepError, match="ambiguous"):
        resolve_key("lifetime_years")
    with pytest.raises(SweepError, match="names no scenario field"):
        resolve_key("storage_colour")
    assert parse_values("k", "400:800:100") == [400, 500, 600, 700, 800]
    assert parse_values("k", "0.05:0.07:0.01") == [0.05, 0.06, 0.07]
    assert parse_values("k", "true,false") == [True, False]
    spec = load_scenario(EXAMPLES / "planning" / "changzhou-wujin-mfg-2027.yaml")
    got = cases(
        spec, ["storage_capex_yuan_per_kwh=400:800:200", "storage_subsidy_enabled=true,false"]
    )
    assert len(got) == 6
    with pytest.raises(SweepError, match="capex_yuan_per_kwh"):
        cases(spec, ["storage_capex_yuan_per_kwh=-5,1"])


runner = CliRunner()


def test_cli_size_writes_plan_scorecard_and_plots(tmp_path: Path) -> None:
    write_park(tmp_path)
    path = write_scenario(
        tmp_path,
        technologies={"pv": {"roof_potential_kwp": 3000.0}},
        targets={"indicators": ["T4"]},
        method={"kind": "representative-days", "days": 3},
    )
    out = tmp_path / "out"
    res = runner.invoke(app, ["size", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "plan.json").read_text())
    assert plan["format"] == "parkvpp-plan/1"
    assert plan["sizes"]["pv_kwp"] >= 1500.0 - 1e-6
    assert plan["solver"]["plan"]["status"] == "ok"
    card = pd.read_csv(out / "scorecard.csv")
    assert list(card["id"]) == ["T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10"]
    for name in ("load_duration.png", "typical_days.png", "cost_waterfall.png", "series.csv"):
        assert (out / name).stat().st_size > 0
    series = pd.read_csv(out / "series.csv")
    assert len(series) == 3 * 24


def test_cli_sweep_runs_cases_and_reports_failures(tmp_path: Path) -> None:
    write_park(tmp_path)
    path = write_scenario(
        tmp_path,
        technologies={"pv": {"roof_potential_kwp": 3000.0, "max_kwp": 2000.0}},
        targets={"indicators": ["T4"]},
        method={"kind": "representative-days", "days": 2},
    )
    out = tmp_path / "sweep"
    res = runner.invoke(
        app,
        ["size", str(path), "--sweep", "T4=0.5,0.9", "--scheduler", "serial", "--out", str(out)],
    )
    # 'T4' is no field: the key error is named.
    assert res.exit_code == 2 and "T4" in res.output
    res = runner.invoke(
        app,
        [
            "size",
            str(path),
            "--sweep",
            "pv_roof_potential_kwp=3000,5000",
            "--scheduler",
            "serial",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out / "sweep.csv")
    # 50 % of a 5,000 kWp roof needs 2,500 kWp, above the 2,000 kWp range: that case fails.
    assert frame["status"].tolist() == ["ok", "failed"]
    assert 1500.0 - 1e-6 <= frame.loc[0, "pv_kwp"] <= 2000.0 + 1e-6
    assert "T4" in frame.loc[1, "message"]


def test_cli_scorecard_of_a_metered_year(tmp_path: Path) -> None:
    annual = tmp_path / "annual.yaml"
    annual.write_text(
        yaml.safe_dump(
            {
                "value_added_10k_yuan": 150000.0,
                "roof_potential_kwp": 32000.0,
                "carriers": {"natural_gas_m3": 9_000_000.0},
            }
        )
    )
    res = runner.invoke(
        app,
        [
            "scorecard",
            str(EXAMPLES / "changzhou-wujin-mfg.yaml"),
            "--annual",
            str(annual),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    t4 = next(i for i in doc["indicators"] if i["id"] == "T4")
    assert t4["value"] == pytest.approx(15000 / 32000)
    assert t4["near_pass"] is False
    t2 = next(i for i in doc["indicators"] if i["id"] == "T2")
    assert t2["value"] is None and t2["near_pass"] is None
    schema = runner.invoke(app, ["schema", "scenario"])
    assert schema.exit_code == 0 and "roof_potential_kwp" in schema.output


@pytest.mark.slow
def test_bundled_scenario_with_accuracy(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "size",
            str(EXAMPLES / "planning" / "changzhou-wujin-mfg-2027.yaml"),
            "--accuracy",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    acc = json.loads((tmp_path / "accuracy.json").read_text())
    assert abs(acc["objective_error_frac"]) < 0.01
    assert acc["regret_frac"] >= -1e-6  # the full year's own optimum is never beaten
    plan = json.loads((tmp_path / "plan.json").read_text())
    t5 = next(i for i in plan["scorecard"]["indicators"] if i["id"] == "T5")
    assert t5["near_pass"]


def test_an_hourly_history_is_read_at_its_own_resolution(tmp_path: Path) -> None:
    write_park(tmp_path)
    idx = pd.date_range("2026-01-01", "2027-01-01", freq="60min", tz="Asia/Shanghai")[:-1]
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "load_kw": 1000.0}).to_csv(
        tmp_path / "history.csv", index=False
    )
    prep = prepare_file(write_scenario(tmp_path))
    assert prep.year.filled_steps == 0
    assert len(prep.year.load_kw) == 8760
    assert prep.year.load_kw.sum() == pytest.approx(1000.0 * 8760)


@pytest.mark.slow
def test_sweep_on_a_local_dask_cluster(tmp_path: Path) -> None:
    write_park(tmp_path)
    path = write_scenario(
        tmp_path,
        technologies={"pv": {"roof_potential_kwp": 3000.0}},
        method={"kind": "representative-days", "days": 2},
    )
    out = tmp_path / "sweep"
    res = runner.invoke(
        app,
        [
            "size",
            str(path),
            "--sweep",
            "pv_capex_yuan_per_kwp=2000,20000",
            "--scheduler",
            "dask-local",
            "--workers",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out / "sweep.csv")
    assert frame["status"].tolist() == ["ok", "ok"]
    # Dear PV is not built beyond the (zero) existing capacity; cheap PV fills the roof.
    assert frame.loc[1, "pv_kwp"] == pytest.approx(0.0, abs=1e-6)
    assert frame.loc[0, "pv_kwp"] > 2000.0
    assert np.isnan(frame.loc[1, "irr_frac"])  # nothing invested: no rate of return
    assert (out / "sweep.png").stat().st_size > 0

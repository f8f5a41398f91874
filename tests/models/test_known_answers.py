"""Cases solved by hand: exact dispatch and cost."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from models.assets.battery import subsidy_window
from tests.helpers import battery, park_dict, solve


def test_battery_arbitrage_lossless() -> None:
    # Charge 50 kW in the two cheap hours, discharge 50 kW in the two dear ones.
    s = solve(park_dict(steps=4, load=100.0, price=[0.2, 0.2, 1.0, 1.0], assets=[battery()]))
    f = s.frame
    np.testing.assert_allclose(f["bess.charge_kw"], [50, 50, 0, 0], atol=1e-6)
    np.testing.assert_allclose(f["bess.discharge_kw"], [0, 0, 50, 50], atol=1e-6)
    np.testing.assert_allclose(f["import_kw"], [150, 150, 50, 50], atol=1e-6)
    assert s.costs["total_yuan"] == pytest.approx(0.2 * 300 + 1.0 * 100)
    assert s.solve.objective == pytest.approx(160.0)


def test_battery_arbitrage_with_losses() -> None:
    # 100 kWh bought at 0.2 store 90 kWh, which deliver 81 kWh at 1.0: 50 kW then 31 kW.
    b = battery(charge_efficiency_frac=0.9, discharge_efficiency_frac=0.9)
    s = solve(park_dict(steps=4, load=100.0, price=[0.2, 0.2, 1.0, 1.0], assets=[b]))
    assert s.frame["bess.discharge_kw"].sum() == pytest.approx(81.0, abs=1e-6)
    assert s.frame["bess.soc_kwh"].iloc[1] == pytest.approx(90.0, abs=1e-6)
    assert s.costs["energy_yuan"] == pytest.approx(0.2 * 300 + 1.0 * (200 - 81))


def test_battery_final_soc_condition() -> None:
    # Must end half full: only 50 of the 100 kWh stored may be sold at the peak.
    b = battery(soc_final_min_frac=0.5)
    s = solve(park_dict(steps=4, load=100.0, price=[0.2, 0.2, 1.0, 1.0], assets=[b]))
    assert s.frame["bess.soc_kwh"].iloc[-1] == pytest.approx(50.0, abs=1e-6)
    assert s.costs["total_yuan"] == pytest.approx(0.2 * 300 + 1.0 * 150)


def test_demand_charge_shaving() -> None:
    # Peak 300 kW against a month peak of 150 kW: charge 50 kW in hour 1, discharge 100 kW in
    # hour 2: import 150 then 200 kW, 50 kW above the month's peak at 10 yuan/kW.
    b = battery(power_kw=100.0, soc_initial_frac=0.5)
    d = park_dict(
        steps=2,
        load=[100.0, 300.0],
        price=0.5,
        assets=[b],
        demand_charge_yuan_per_kw_month=10.0,
        month_peak_so_far_kw=150.0,
    )
    s = solve(d)
    assert s.summary["peak_import_kw"] == pytest.approx(200.0, abs=1e-6)
    assert s.costs["demand_charge_yuan"] == pytest.approx(500.0, abs=1e-4)
    assert s.costs["total_yuan"] == pytest.approx(175.0 + 500.0, abs=1e-4)


def test_demand_charge_only_above_month_peak() -> None:
    d = park_dict(
        steps=2,
        load=[100.0, 120.0],
        price=0.5,
        demand_charge_yuan_per_kw_month=10.0,
        month_peak_so_far_kw=150.0,
    )
    assert solve(d).costs["demand_charge_yuan"] == pytest.approx(0.0, abs=1e-9)


JOB = {"id": "oven", "type": "shiftable_load", "power_kw": [10.0, 10.0]}


def test_shiftable_job_lands_in_cheapest_window() -> None:
    s = solve(park_dict(steps=4, price=[0.5, 0.1, 0.2, 0.9], assets=[JOB]))
    np.testing.assert_allclose(s.frame["oven.power_kw"], [0, 10, 10, 0], atol=1e-9)
    assert s.costs["total_yuan"] == pytest.approx(3.0)
    assert s.assets["oven"].records[0]["start_step"] == 1


def test_shiftable_job_respects_earliest_start() -> None:
    job = {**JOB, "earliest_start": "02:00"}
    s = solve(park_dict(steps=4, price=[0.5, 0.1, 0.2, 0.9], assets=[job]))
    np.testing.assert_allclose(s.frame["oven.power_kw"], [0, 0, 10, 10], atol=1e-9)
    assert s.costs["total_yuan"] == pytest.approx(11.0)


@pytest.mark.parametrize(("value", "runs", "total"), [(5.0, True, 3.0 - 5.0), (2.0, False, 0.0)])
def test_optional_job_runs_only_when_worth_it(value: float, runs: bool, total: float) -> None:
    job = {**JOB, "value_yuan": value}
    s = solve(park_dict(steps=4, price=[0.5, 0.1, 0.2, 0.9], assets=[job]))
    assert bool(s.frame["oven.power_kw"].sum() > 0) == runs
    assert s.costs["total_yuan"] == pytest.approx(total)


def ev(sessions: list[dict[str, object]], **kw: object) -> dict[str, object]:
    d: dict[str, object] = {
        "id": "ev",
        "type": "ev_charging",
        "chargers": 4,
        "charger_power_kw": 10.0,
        "site_limit_kw": 40.0,
        "sessions": sessions,
        "unmet_energy_penalty_yuan_per_kwh": 3.0,
    }
    d.update(kw)
    return d


def test_ev_session_meets_its_deadline() -> None:
    # 15 kWh between 00:00 and 03:00 at ≤ 10 kW: 10 kWh in the cheap hour 1, 5 kWh at 0.9;
    # the cheap hour 3 is after departure.
    sess = [{"arrival": "00:00", "departure": "03:00", "energy_kwh": 15.0}]
    s = solve(park_dict(steps=4, price=[0.9, 0.1, 0.9, 0.1], assets=[ev(sess)]))
    f = s.frame
    assert f["ev.charge_kw"].iloc[1] == pytest.approx(10.0)
    assert f["ev.charge_kw"].iloc[3] == pytest.approx(0.0)
    assert f["ev.charge_kw"].sum() == pytest.approx(15.0)
    assert s.costs["total_yuan"] == pytest.approx(1.0 + 4.5)
    assert s.summary["slacks"] == []


def test_ev_unmet_energy_is_priced_and_reported() -> None:
    # Two cars, one hour, 10 kWh each, but the site allows 10 kW: 10 kWh stay unmet.
    sess = [{"arrival": "01:00", "departure": "02:00", "energy_kwh": 10.0}] * 2
    s = solve(park_dict(steps=4, price=0.5, assets=[ev(sess, site_limit_kw=10.0)]))
    assert s.costs["unmet_energy_penalty_yuan"] == pytest.approx(30.0)
    assert s.summary["slacks"][0]["total_kwh"] == pytest.approx(10.0)
    assert s.costs["total_yuan"] == pytest.approx(5.0 + 30.0)


def test_v2g_never_below_arrival_energy() -> None:
    # V2G may sell back at the peak only energy it first bought in this stay.
    sess = [{"arrival": "00:00", "departure": "04:00", "energy_kwh": 5.0}]
    s = solve(
        park_dict(steps=4, load=20.0, price=[0.1, 1.0, 0.1, 0.1], assets=[ev(sess, v2g=True)])
    )
    charge = s.frame["ev.charge_kw"].to_numpy()
    assert np.cumsum(charge).min() >= -1e-6
    assert charge[1] == pytest.approx(-10.0)  # full discharge at the dear hour
    assert charge.sum() == pytest.approx(5.0)


def test_ev_session_records_by_hand() -> None:
    # Session 0 (00:00–04:00) buys 10 kWh at the cheap first hour, sells them back at the dear
    # second one and buys its 5 kWh later; session 1 (02:00–04:00) needs 8 kWh in the cheap
    # hours at the end. Records are computed for all sessions at once: each must see only its
    # own steps.
    sess = [
        {"arrival": "00:00", "departure": "04:00", "energy_kwh": 5.0},
        {"arrival": "02:00", "departure": "04:00", "energy_kwh": 8.0, "max_power_kw": 4.0},
    ]
    s = solve(
        park_dict(steps=4, load=20.0, price=[0.1, 1.0, 0.2, 0.2], assets=[ev(sess, v2g=True)])
    )
    r0, r1 = s.assets["ev"].records
    assert [r0["first_step"], r0["end_step"], r1["first_step"], r1["end_step"]] == [0, 4, 2, 4]
    assert r0["charge_kw"][:2] == pytest.approx([10.0, -10.0])
    assert sum(r0["charge_kw"]) == pytest.approx(5.0)
    assert r0["delivered_kwh"] == pytest.approx(5.0)
    assert r0["min_stored_kwh"] == pytest.approx(0.0, abs=1e-9)  # after the sale
    assert r0["max_power_kw"] == pytest.approx(10.0)
    assert r1["charge_kw"] == pytest.approx([4.0, 4.0])
    assert r1["delivered_kwh"] == pytest.approx(8.0)
    assert r1["min_stored_kwh"] == pytest.approx(4.0)  # after its first hour
    assert r1["max_power_kw"] == pytest.approx(4.0)
    assert r0["unmet_kwh"] == r1["unmet_kwh"] == 0.0
    total = np.zeros(4)
    total[:4] += r0["charge_kw"]
    total[2:] += r1["charge_kw"]
    np.testing.assert_allclose(s.frame["ev.charge_kw"], total, atol=1e-9)


def test_pv_curtailed_when_export_is_capped() -> None:
    pv = {"id": "pv", "type": "pv", "capacity_kwp": 100.0, "forecast_kw": [100.0]}
    d = park_dict(
        steps=1,
        load=10.0,
        price=0.5,
        assets=[pv],
        export_limit_kw=50.0,
        export_price_yuan_per_kwh=0.3,
    )
    s = solve(d)
    assert s.frame["pv_kw"].iloc[0] == pytest.approx(60.0)
    assert s.frame["pv_curtailed_kw"].iloc[0] == pytest.approx(40.0)
    assert s.frame["export_kw"].iloc[0] == pytest.approx(50.0)
    assert s.costs["total_yuan"] == pytest.approx(-15.0)


def test_subsidy_window_starts_the_month_after_connection() -> None:
    assert subsidy_window(dt.date(2026, 3, 10), 24) == (dt.date(2026, 4, 1), dt.date(2028, 4, 1))
    assert subsidy_window(dt.date(2025, 12, 31), 24) == (dt.date(2026, 1, 1), dt.date(2028, 1, 1))


@pytest.mark.parametrize(
    ("day", "connected", "power_kw", "eligible"),
    [
        ("2026-03-31", "2026-03-10", 500.0, False),  # connection month: not yet
        ("2026-04-01", "2026-03-10", 500.0, True),  # first day of the next month
        ("2028-03-31", "2026-03-10", 500.0, True),  # last day of month 24
        ("2028-04-01", "2026-03-10", 500.0, False),  # after two years
        ("2026-04-01", "2026-03-10", 400.0, False),  # below 0.5 MW
    ],
)
def test_subsidy_switches_on_and_off(
    day: str, connected: str, power_kw: float, eligible: bool
) -> None:
    # Flat price: cycling only pays through the subsidy (0.3 − 0.01 degradation per kWh);
    # one cycle a day allowed: 100 kWh over 24 hours.
    b = battery(
        power_kw=power_kw,
        energy_kwh=100.0,
        degradation_cost_yuan_per_kwh=0.01,
        max_cycles_per_day=1.0,
        grid_connected_on=dt.date.fromisoformat(connected),
    )
    s = solve(
        park_dict(steps=24, load=1000.0, price=0.5, assets=[b], start=f"{day}T00:00:00+08:00")
    )
    base = 0.5 * 1000 * 24
    if eligible:
        assert s.costs["subsidy_yuan"] == pytest.approx(30.0)
        assert s.costs["total_yuan"] == pytest.approx(base + 1.0 - 30.0)
        assert s.summary["storage"][0]["equivalent_cycles"] == pytest.approx(1.0)
    else:
        assert s.costs["subsidy_yuan"] == pytest.approx(0.0)
        assert s.costs["total_yuan"] == pytest.approx(base)


def test_tariff_prices_follow_jiangsu_2025_periods() -> None:
    d = park_dict(steps=24, price=0.5, load=0.0)
    del d["grid"]["import_price_yuan_per_kwh"]
    d["grid"]["tariff"] = "jiangsu-2025-two-part-1-10kv"
    s = solve(d)
    p = s.frame["import_price_yuan_per_kwh"].to_numpy()
    flat, peak, valley = 0.5912 + 0.0645, 0.5912 * 1.8 + 0.0645, 0.5912 * 0.35 + 0.0645
    # Summer: valley 00–06 and 11–13, peak 14–22, flat otherwise.
    expected = [valley] * 6 + [flat] * 5 + [valley] * 2 + [flat] + [peak] * 8 + [flat] * 2
    np.testing.assert_allclose(p, expected)

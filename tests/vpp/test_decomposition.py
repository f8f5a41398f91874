"""DR allocation by decomposition: the same answers as the monolithic model where they must be,
a proven gap where they need not be, the same result on a local Dask cluster."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.generate import SMALL, generated_park
from models.response import (
    build_response_problem,
    deliver,
    least_shortfall,
    max_level,
    respond_to_price,
    schedule_of,
    solve_baseline,
)
from models.results import schedule_park
from models.solve import SolverOptions
from models.spec import resolve_park, validate_park
from tests.vpp.test_allocation import EXACT, _event, _parks, run_dispatch
from tests.vpp.test_capacity import _park
from vpp.allocation import ParkBaseline, allocate_monolithic
from vpp.decomposition import allocate_decomposed, solve_master
from vpp.event import DrEvent

TZ = dt.timezone(dt.timedelta(hours=8))


def _peak(event_id: str, start_h: int, end_h: int, kw: float) -> DrEvent:
    return DrEvent(
        id=event_id,
        type="peak_shaving",
        start=dt.datetime(2026, 7, 15, start_h, tzinfo=TZ),
        end=dt.datetime(2026, 7, 15, end_h, tzinfo=TZ),
        requested_kw=kw,
        price_yuan_per_kwh=1.0,
        shortfall_penalty_yuan_per_kwh=2.0,
    )


@pytest.mark.parametrize(
    ("kw", "cheap_kw", "dear_kw", "short_kw"),
    [(300.0, 300.0, 0.0, 0.0), (600.0, 500.0, 100.0, 0.0), (1200.0, 500.0, 500.0, 200.0)],
)
def test_known_answers_match_the_monolithic_model(
    kw: float, cheap_kw: float, dear_kw: float, short_kw: float
) -> None:
    # Derived by hand (tests/vpp/test_allocation.py): the cheap battery holds 500 kW for the
    # 2 h window, the dear one covers the rest, beyond 1,000 kW it is shortfall.
    dec = allocate_decomposed(_parks(), _event(kw), EXACT, scheduler="serial", rel_tol=1e-12)
    mono = allocate_monolithic(_parks(), _event(kw), EXACT)
    cheap, dear = dec.parks
    np.testing.assert_allclose(cheap.delivered_kw, [cheap_kw] * 2, atol=1e-6)
    np.testing.assert_allclose(dear.delivered_kw, [dear_kw] * 2, atol=1e-6)
    np.testing.assert_allclose(dec.shortfall_kw, [short_kw] * 2, atol=1e-6)
    assert dec.objective_yuan(1.0) == pytest.approx(mono.objective_yuan(1.0), abs=1e-6)
    assert dec.status == "ok" and dec.method == "decomposition"
    # asked for a tight tolerance, the proven bound closes on this small instance
    assert dec.decomposition.gap_yuan == pytest.approx(0.0, abs=1e-6)
    # every park's new schedule is a verified full schedule that meets its delivery
    sched = dec.schedules["cheap"]
    net = (sched.frame["import_kw"] - sched.frame["export_kw"]).to_numpy()
    np.testing.assert_allclose(net[2:4], 1000.0 - cheap_kw, atol=1e-6)


def test_an_empty_battery_gets_no_storage_response() -> None:
    # The event starts at once: an empty battery has nothing to discharge and no time to
    # charge first, so all of it goes to the other park (then to shortfall).
    empty = _park("empty", soc_initial=0.0)
    empty["assets"][0]["soc_final_min_frac"] = 0.0
    empty["assets"][0]["degradation_cost_yuan_per_kwh"] = 0.0  # even free, it cannot help
    full = _park("full", soc_initial=1.0)
    full["assets"][0]["soc_final_min_frac"] = 0.0
    # dearer from hour 2, so that the baseline empties the battery there, not in the event
    # hour (at a flat price every order of discharge ties, and which one the solver returns
    # decides what is left to deliver)
    full["grid"]["import_price_yuan_per_kwh"] = [0.6, 0.6, 0.7, 0.7, 0.7, 0.7]
    parks = [resolve_park(validate_park(r, source="test")) for r in (empty, full)]
    event = _peak("now", 0, 1, 700.0)
    dec = allocate_decomposed(parks, event, EXACT, scheduler="serial")
    np.testing.assert_allclose(dec.parks[0].delivered_kw, [0.0], atol=1e-6)
    np.testing.assert_allclose(dec.parks[1].delivered_kw, [500.0], atol=1e-6)
    np.testing.assert_allclose(dec.shortfall_kw, [200.0], atol=1e-6)


def _random_parks(seed: int, n: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        raw = _park(f"p{i}", soc_initial=float(rng.uniform(0.2, 0.9)))
        a = raw["assets"][0]
        a["power_kw"] = float(rng.uniform(100, 800))
        a["energy_kwh"] = float(rng.uniform(300, 2000))
        a["charge_efficiency_frac"] = float(rng.uniform(0.85, 1.0))
        a["discharge_efficiency_frac"] = float(rng.uniform(0.85, 1.0))
        a["degradation_cost_yuan_per_kwh"] = float(rng.uniform(0.0, 0.3))
        raw["grid"]["import_price_yuan_per_kwh"] = rng.uniform(0.3, 1.2, 6).round(3).tolist()
        out.append(resolve_park(validate_park(raw, source="test")))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equals_the_monolithic_optimum_on_convex_instances(seed: int) -> None:
    # LP relaxations are convex: column generation must reach the monolithic optimum.
    parks = _random_parks(seed, 4)
    lp = SolverOptions(relax=True)
    event = _event(float(np.random.default_rng(seed).uniform(300, 2500)))
    baselines = [ParkBaseline.of(schedule_park(p, lp)) for p in parks]
    mono = allocate_monolithic(parks, event, lp, baselines=baselines)
    dec = allocate_decomposed(
        parks, event, lp, scheduler="serial", baselines=baselines, max_rounds=20, rel_tol=1e-9
    )
    assert dec.objective_yuan(1.0) == pytest.approx(mono.objective_yuan(1.0), abs=1e-4)
    assert dec.decomposition.lower_bound_yuan <= mono.objective_yuan(1.0) + 1e-6


def test_milp_parks_stay_within_the_proven_gap() -> None:
    parks = [generated_park(SMALL, seed=s, park_id=f"small-{s}") for s in range(3)]
    event = _peak("small", 17, 19, 1500.0)
    tight = SolverOptions(mip_rel_gap=1e-7)
    baselines = [ParkBaseline.of(schedule_park(p, tight)) for p in parks]
    mono = allocate_monolithic(parks, event, tight, baselines=baselines)
    dec = allocate_decomposed(parks, event, tight, scheduler="serial", baselines=baselines)
    dt_h = parks[0].grid.dt_h
    rep = dec.decomposition
    # the bound is below both answers, and the decomposition's answer is within its gap
    assert rep.lower_bound_yuan <= mono.objective_yuan(dt_h) + 1e-3
    assert dec.objective_yuan(dt_h) <= rep.lower_bound_yuan + rep.gap_yuan + 1e-6
    assert dec.objective_yuan(dt_h) - mono.objective_yuan(dt_h) <= rep.gap_yuan + 1e-3
    assert rep.gap < 1e-3  # stated: within HiGHS's default MIP gap of the VPP's total cost


def test_response_questions_by_hand() -> None:
    park = _parks()[0]  # the cheap park: lossless battery, 0.01 yuan/kWh degradation
    prob = build_response_problem(park, [2, 3], "peak_shaving")
    base = solve_baseline(prob, EXACT)
    np.testing.assert_allclose(base.net_kw, 1000.0, atol=1e-6)
    # pays above the degradation cost of discharge (and of the recharge it forces): respond
    r = respond_to_price(prob, np.array([0.05, 0.05]), EXACT)
    np.testing.assert_allclose(r.delivered_kw, [500.0, 500.0], atol=1e-6)
    assert r.cost_yuan - base.cost_yuan == pytest.approx(10.0, abs=1e-6)
    # pays below it: stay put
    r = respond_to_price(prob, np.array([0.004, 0.004]), EXACT)
    np.testing.assert_allclose(r.delivered_kw, [0.0, 0.0], atol=1e-6)
    assert max_level(prob, EXACT).level_kw == pytest.approx(500.0, abs=1e-6)
    # a target above capability is met as far as possible, the rest is priced shortfall
    d = deliver(prob, np.array([700.0, 100.0]), 5.0, EXACT)
    np.testing.assert_allclose(d.delivered_kw, [500.0, 100.0], atol=1e-6)
    np.testing.assert_allclose(d.under_kw, [200.0, 0.0], atol=1e-6)
    sched = schedule_of(park, prob, d)
    assert sched.costs["total_yuan"] == pytest.approx(d.cost_yuan, abs=1e-6)


def test_least_shortfall_does_not_trade_delivery_for_cost() -> None:
    # The cheap park's battery discharges at 0.01 yuan/kWh (1 h steps): a kW missed at
    # 0.005 yuan is the cheaper answer for deliver(), which is why the bid check must not use
    # it; least_shortfall() delivers whatever the park physically can.
    prob = build_response_problem(_parks()[0], [2, 3], "peak_shaving")
    solve_baseline(prob, EXACT)
    priced = deliver(prob, np.array([400.0, 400.0]), 0.005, EXACT)
    np.testing.assert_allclose(priced.under_kw, [400.0, 400.0], atol=1e-6)
    least = least_shortfall(prob, np.array([400.0, 400.0]), EXACT)
    assert least.status == "ok"
    np.testing.assert_allclose(least.under_kw, [0.0, 0.0], atol=1e-6)
    assert least.delivered_kw.min() >= 400.0 - 1e-6
    # beyond the battery's 500 kW: exactly the excess is missed, in that step only
    over = least_shortfall(prob, np.array([700.0, 100.0]), EXACT)
    np.testing.assert_allclose(over.under_kw, [200.0, 0.0], atol=1e-6)
    # −inf: no target in that step, so no shortfall can be counted there
    free = least_shortfall(prob, np.array([-np.inf, 500.0]), EXACT)
    np.testing.assert_allclose(free.under_kw, [0.0, 0.0], atol=1e-6)
    assert free.delivered_kw[1] >= 500.0 - 1e-6


def test_master_duals_price_the_request() -> None:
    # one park, columns: nothing (cost 0) or 100 kW at 10 yuan; the request of 50 kW takes
    # half of the second column and the dual is its marginal cost, 0.1 yuan/kW
    from vpp.decomposition import Column

    park = _parks()[0]
    prob = build_response_problem(park, [2], "peak_shaving")
    base = solve_baseline(prob, EXACT)
    full = deliver(prob, np.array([100.0]), 5.0, EXACT)
    cols = [[Column("0", 0.0, base), Column("100", 10.0, full)]]
    m = solve_master(cols, np.array([50.0]), 3.0)
    np.testing.assert_allclose(m.weights[0], [0.5, 0.5], atol=1e-9)
    assert m.objective_yuan == pytest.approx(5.0)
    np.testing.assert_allclose(m.duals_yuan_per_kw, [0.1], atol=1e-9)


def test_local_dask_cluster_gives_the_same_allocation() -> None:
    serial = allocate_decomposed(_parks(), _event(600.0), EXACT, scheduler="serial")
    dask = allocate_decomposed(_parks(), _event(600.0), EXACT, scheduler="dask-local", workers=2)
    for a, b in zip(serial.parks, dask.parks, strict=True):
        np.testing.assert_allclose(a.delivered_kw, b.delivered_kw, atol=1e-6)
    assert dask.objective_yuan(1.0) == pytest.approx(serial.objective_yuan(1.0), abs=1e-6)


def test_unknown_scheduler_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="scheduler 'mars'"):
        allocate_decomposed(_parks(), _event(600.0), EXACT, scheduler="mars")


def test_cli_dispatch_by_decomposition_writes_every_schedule(tmp_path: Path) -> None:
    res = run_dispatch(tmp_path, "--method", "decomposition", "--scheduler", "serial")
    out = tmp_path / "out"
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["method"] == "decomposition" and doc["shortfall_kw"] == [0.0] * 8
    assert doc["decomposition"]["gap"] < 1e-3  # the default tolerance of the VPP total
    for pid in ("cheap", "dear"):
        frame = (out / pid / "schedule.csv").read_text().splitlines()
        assert frame[0].startswith("timestamp,") and len(frame) == 97
    # the schedules carry the delivery: the park's window import is its target
    doc_parks = {p["park_id"]: p for p in doc["parks"]}
    assert sum(doc_parks[p]["delivered_kw"][0] for p in doc_parks) == pytest.approx(600.0)

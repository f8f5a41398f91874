"""Hypothesis properties over random small parks, checked from the schedule itself."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import battery, park_dict, solve

TOL = 1e-5


@st.composite
def small_parks(draw: st.DrawFn) -> dict[str, Any]:
    steps = draw(st.integers(3, 8))
    prices = draw(st.lists(st.floats(0.05, 1.5), min_size=steps, max_size=steps))
    load = draw(st.lists(st.floats(0.0, 200.0), min_size=steps, max_size=steps))
    pv = draw(st.lists(st.floats(0.0, 150.0), min_size=steps, max_size=steps))
    eta = draw(st.floats(0.8, 1.0))
    soc0 = draw(st.floats(0.1, 0.9))
    assets: list[dict[str, Any]] = [
        {"id": "pv", "type": "pv", "capacity_kwp": 150.0, "forecast_kw": pv},
        battery(
            power_kw=draw(st.floats(10.0, 80.0)),
            energy_kwh=draw(st.floats(20.0, 150.0)),
            soc_initial_frac=soc0,
            soc_min_frac=0.1,
            soc_max_frac=0.9,
            soc_final_min_frac=draw(st.floats(0.1, soc0)),
            charge_efficiency_frac=eta,
            discharge_efficiency_frac=eta,
            degradation_cost_yuan_per_kwh=draw(st.floats(0.0, 0.1)),
        ),
    ]
    length = draw(st.integers(1, 2))
    if length <= steps:
        assets.append(
            {
                "id": "job",
                "type": "shiftable_load",
                "power_kw": [draw(st.floats(1.0, 50.0))] * length,
            }
        )
    arrival = draw(st.integers(0, steps - 1))
    departure = draw(st.integers(arrival + 1, steps))
    assets.append(
        {
            "id": "ev",
            "type": "ev_charging",
            "chargers": 1,
            "charger_power_kw": 20.0,
            "site_limit_kw": 20.0,
            "v2g": draw(st.booleans()),
            "sessions": [
                {
                    "arrival": f"{arrival:02d}:00",
                    "departure": f"{departure:02d}:00",
                    "energy_kwh": draw(st.floats(0.0, 20.0 * (departure - arrival))),
                }
            ],
        }
    )
    return park_dict(
        steps=steps,
        load=load,
        price=prices,
        assets=assets,
        import_limit_kw=1000.0,
        export_limit_kw=draw(st.sampled_from([0.0, 50.0])),
        export_price_yuan_per_kwh=draw(st.floats(0.0, 0.6)),
        demand_charge_yuan_per_kw_month=draw(st.sampled_from([0.0, 30.0])),
        month_peak_so_far_kw=draw(st.floats(0.0, 300.0)),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_parks())
def test_schedule_properties(d: dict[str, Any]) -> None:
    s = solve(d)
    f = s.frame
    b = d["assets"][1]
    e = b["energy_kwh"]
    ch, dis, soc = (
        f["bess.charge_kw"].to_numpy(),
        f["bess.discharge_kw"].to_numpy(),
        f["bess.soc_kwh"].to_numpy(),
    )
    # Energy balance at the park bus, from the columns alone.
    supply = f["import_kw"] + f["pv_kw"] + dis
    demand = f["load_kw"] + f["export_kw"] + ch + f["ev.charge_kw"] + f.get("job.power_kw", 0.0)
    np.testing.assert_allclose(supply, demand, atol=1e-4)
    # Bounds.
    assert np.all(soc >= 0.1 * e - TOL) and np.all(soc <= 0.9 * e + TOL)
    assert soc[-1] >= b["soc_final_min_frac"] * e - TOL
    assert np.all(ch <= b["power_kw"] + TOL) and np.all(dis <= b["power_kw"] + TOL)
    assert np.all(f["import_kw"] <= 1000.0 + TOL)
    assert np.all(f["export_kw"] <= d["grid"]["export_limit_kw"] + TOL)
    assert np.all(f["pv_kw"] <= np.array(d["assets"][0]["forecast_kw"]) + TOL)
    # SoC dynamics and no simultaneous charge and discharge.
    prev = np.concatenate([[b["soc_initial_frac"] * e], soc[:-1]])
    eta = b["charge_efficiency_frac"]
    np.testing.assert_allclose(soc, prev + ch * eta - dis / eta, atol=1e-4)
    assert np.all(np.minimum(ch, dis) <= TOL)
    # Cost recomputed here from the schedule equals the solver's objective.
    g = d["grid"]
    imp, exp = f["import_kw"].to_numpy(), f["export_kw"].to_numpy()
    cost = (
        float(np.dot(g["import_price_yuan_per_kwh"], imp))
        - g["export_price_yuan_per_kwh"] * exp.sum()
        + g["demand_charge_yuan_per_kw_month"] * max(0.0, imp.max() - g["month_peak_so_far_kw"])
        + b["degradation_cost_yuan_per_kwh"] * dis.sum()
        + 3.0 * f["ev.unmet_kwh"].sum()
    )
    assert s.solve.objective is not None
    assert abs(cost - s.solve.objective) <= 1e-6 * max(1.0, abs(cost)) + 1e-4

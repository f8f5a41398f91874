"""The solve path: implied flow bounds, the LP-bound optimality proof, time limits, verifier."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from models.park import build_park_model, implied_flow_bounds
from models.results import verify_schedule
from models.solve import SolverOptions, Status, TerminationCondition, serial_dot
from scenarios.examples import EXAMPLES_DIR
from tests.helpers import battery, park_dict, resolved, solve


def test_import_export_binaries_only_where_both_flows_can_happen() -> None:
    # Export pays more than import in both hours, but only hour 1 has PV above the load.
    pv = {"id": "pv", "type": "pv", "capacity_kwp": 100.0, "forecast_kw": [0.0, 100.0]}
    d = park_dict(
        steps=2,
        load=50.0,
        price=0.5,
        assets=[pv],
        export_limit_kw=100.0,
        export_price_yuan_per_kwh=1.0,
    )
    park = resolved(d)
    imp_max, exp_max = implied_flow_bounds(park)
    np.testing.assert_allclose(imp_max, [50.0, 50.0])
    np.testing.assert_allclose(exp_max, [0.0, 50.0])
    pm = build_park_model(park)
    # one mode binary, for step 1 (its P4 rows are the only ones there)
    assert [g.name for g in pm.lm.groups if g.integer] == ["importing"]
    assert len(pm.model.importing) == 1
    assert [f.eq for f in pm.lm.families].count("P4") == 2
    mode_rows = [f for f in pm.lm.families if f.key == "import_mode"]
    start, index, _ = pm.lm.csc()
    imp1 = int(pm.import_cols[1])
    assert mode_rows[0].start in index[start[imp1] : start[imp1 + 1]]
    s = solve(d)
    np.testing.assert_allclose(s.frame["import_kw"], [50.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(s.frame["export_kw"], [0.0, 50.0], atol=1e-9)
    assert s.costs["total_yuan"] == pytest.approx(0.5 * 50 - 1.0 * 50)


def test_lp_bound_proof_agrees_with_branch_and_bound() -> None:
    from models.results import schedule_park
    from models.spec import load_park, resolve_park

    path = EXAMPLES_DIR / "wuxi-xishan-electronics.yaml"
    park = resolve_park(load_park(path), base_dir=path.parent)
    fast = schedule_park(park, SolverOptions(mip_rel_gap=1e-3))
    # plain branch and bound to 0.01 % (tighter took 64 s on the 2026 synthetic history)
    exact = schedule_park(park, SolverOptions(mip_rel_gap=1e-4, warm_start=False))
    assert fast.solve.method == "lp_bound"
    assert exact.solve.method == "highs_mip"
    assert fast.solve.bound is not None and fast.solve.objective is not None
    assert fast.solve.gap is not None and fast.solve.gap <= 1e-3
    # The LP bound is a true lower bound, and the start is within the gap of the optimum.
    assert exact.solve.objective is not None
    assert fast.solve.bound <= exact.solve.objective + 1e-6
    assert fast.solve.objective <= exact.solve.objective * (1 + 1e-3) + 1e-6


def _subsidised_battery_park(extra: list[dict[str, Any]], **grid: Any) -> dict[str, Any]:
    """A subsidised battery with no cycle limit under the Jiangsu TOU tariff: the relaxation
    charges and discharges at once in every step, so proving a tight gap takes long."""
    b = battery(
        power_kw=500.0,
        energy_kwh=1000.0,
        soc_initial_frac=0.5,
        soc_final_min_frac=0.5,
        charge_efficiency_frac=0.95,
        discharge_efficiency_frac=0.95,
        degradation_cost_yuan_per_kwh=0.05,
        grid_connected_on="2026-03-10",
    )
    d = park_dict(steps=96, resolution_min=15, load=1200.0, assets=[b, *extra], **grid)
    del d["grid"]["import_price_yuan_per_kwh"]
    d["grid"]["tariff"] = "jiangsu-2025-two-part-1-10kv"
    return d


def test_time_limit_with_a_feasible_solution_is_flagged() -> None:
    # proving 0.01 % takes far longer than one second
    job = {"id": "oven", "type": "shiftable_load", "power_kw": [300.0] * 4}
    d = _subsidised_battery_park(
        [job], demand_charge_yuan_per_kw_month=40.0, month_peak_so_far_kw=1500.0
    )
    s = solve(d, SolverOptions(time_limit_s=1.0, mip_rel_gap=1e-4))
    assert s.solve.termination is TerminationCondition.time_limit
    assert s.solve.status is Status.warning
    assert s.solve.gap is not None and s.solve.gap > 1e-4
    assert "time_limit" in s.solve.message


def test_verifier_catches_a_tampered_schedule() -> None:
    s = solve(park_dict(steps=4, load=100.0, price=[0.2, 0.2, 1.0, 1.0], assets=[battery()]))
    assert verify_schedule(s.park, s.frame, s.assets, s.solve, s.costs) == []
    frame = s.frame.copy()
    frame.loc[2, "import_kw"] += 5.0
    problems = verify_schedule(s.park, frame, s.assets, s.solve, s.costs)
    assert any("power balance off by" in p and "step 2" in p for p in problems)
    lying = dataclasses.replace(s.solve, objective=s.solve.objective + 1.0)  # type: ignore[operator]
    problems = verify_schedule(s.park, s.frame, s.assets, lying, s.costs)
    assert any("differs from the solver objective" in p for p in problems)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_restricted_submip_moves_only_the_assets_owning_fractional_binaries(seed: int) -> None:
    from benchmarks.generate import MEDIUM, generated_park
    from models.solve import (
        _objective,
        _relative_gap,
        _restricted_submip,
        _solve_lp,
        column_groups,
        compile_linear,
        feasible_point,
    )

    park = generated_park(MEDIUM, seed, 1)
    compiled = compile_linear(build_park_model(park).lm)
    lp = compiled.lp
    x, _ = _solve_lp(lp, np.asarray(lp.col_lower_).copy(), np.asarray(lp.col_upper_).copy(), False)
    assert x is not None
    value = np.round(x)
    free = compiled.integer & (np.abs(x - value) > 1e-6)
    assert free.any()  # the medium park's LP leaves battery modes fractional
    groups = column_groups(compiled)
    assert groups is not None and groups.shape == x.shape
    owners = np.unique(groups[free])
    point = _restricted_submip(compiled, x, value, free, mip_rel_gap=1e-6, time_limit_s=60.0)
    assert point is not None
    # feasible for the whole model, integral, and within the gap of the LP bound
    assert feasible_point(compiled, point)
    assert _relative_gap(_objective(compiled, point), _objective(compiled, x)) <= 1e-3
    # assets owning no fractional binary keep their LP values exactly
    held = (groups >= 0) & ~np.isin(groups, owners)
    assert held.any()
    np.testing.assert_array_equal(point[held], np.where(compiled.integer, value, x)[held])
    # the binaries the LP left integral stay where they were
    fixed = compiled.integer & ~free
    np.testing.assert_array_equal(point[fixed], value[fixed])


def test_restricted_start_agrees_with_branch_and_bound() -> None:
    from benchmarks.generate import MEDIUM, generated_park
    from models.results import schedule_park

    park = generated_park(MEDIUM, 1, 1)
    fast = schedule_park(park, SolverOptions(mip_rel_gap=1e-3))
    exact = schedule_park(park, SolverOptions(mip_rel_gap=1e-5, warm_start=False))
    assert fast.solve.method == "lp_bound"
    assert fast.solve.objective is not None and exact.solve.objective is not None
    assert fast.solve.bound is not None and fast.solve.bound <= exact.solve.objective + 1e-6
    assert fast.solve.objective <= exact.solve.objective * (1 + 1e-3) + 1e-6


def test_stalled_branch_and_bound_is_stopped_and_flagged() -> None:
    s = solve(
        _subsidised_battery_park([]),
        SolverOptions(time_limit_s=8.0, mip_rel_gap=1e-9, mip_stall_s=0.3),
    )
    assert s.solve.termination is TerminationCondition.stall_limit
    assert s.solve.status is Status.warning
    assert s.solve.gap is not None and s.solve.gap > 1e-9
    assert "stall_limit" in s.solve.message
    assert s.solve.solve_s < 30.0


def test_serial_dot_agrees_with_numpy_dot() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=12_219), rng.normal(size=12_219)
    assert serial_dot(a, b) == pytest.approx(float(np.dot(a, b)), rel=1e-12, abs=1e-9)
    assert serial_dot(np.zeros(0), np.zeros(0)) == 0.0


class _Event:
    """A stand-in for HiGHS's callback event: the fields the stall watch reads."""

    def __init__(self, t: float, incumbent: float, bound: float) -> None:
        self.data_out = dataclasses.make_dataclass(
            "Out", ["running_time", "objective_function_value", "mip_dual_bound"]
        )(t, incumbent, bound)
        self.interrupted = False

    def interrupt(self) -> None:
        self.interrupted = True


def test_stall_is_measured_against_the_known_start_and_lp_bound() -> None:
    from models.solve import _StallWatch

    # started from a point worth 100 with an LP bound of 90: HiGHS's early bounds below 90
    # are no progress, so the clock runs from 0 and stops the solve after 0.5 s
    w = _StallWatch(0.5, 100.0, 90.0)
    for t, bound in ((0.1, -500.0), (0.3, 60.0), (0.45, 90.0)):
        e = _Event(t, 100.0, bound)
        w(e)
        assert not e.interrupted
    e = _Event(0.6, 100.0, 90.0)
    w(e)
    assert e.interrupted and w.fired
    # a better incumbent (or bound) restarts the clock
    w = _StallWatch(0.5, 100.0, 90.0)
    for t, inc, bound, stops in (
        (0.4, 95.0, 90.0, False),
        (0.8, 95.0, 91.0, False),
        (1.2, 95.0, 91.0, False),
        (1.4, 95.0, 91.0, True),
    ):
        e = _Event(t, inc, bound)
        w(e)
        assert e.interrupted is stops, t
    # no incumbent yet: never stopped, the clock starts with the first one
    w = _StallWatch(0.5, np.inf, -np.inf)
    for t, inc, stops in (
        (1.0, np.inf, False),
        (2.0, np.inf, False),
        (2.1, 50.0, False),
        (2.5, 50.0, False),
        (2.7, 50.0, True),
    ):
        e = _Event(t, inc, 0.0)
        w(e)
        assert e.interrupted is stops, t


def test_without_branch_and_bound_the_start_is_returned_and_flagged() -> None:
    # the park branch and bound cannot close (see the stall test): it stops at a stall
    bnb = solve(
        _subsidised_battery_park([]),
        SolverOptions(time_limit_s=8.0, mip_rel_gap=1e-9, mip_stall_s=0.3),
    )
    start = solve(
        _subsidised_battery_park([]),
        SolverOptions(time_limit_s=8.0, mip_rel_gap=1e-9, branch_and_bound=False),
    )
    assert start.solve.termination is TerminationCondition.start_only
    assert start.solve.status is Status.warning and "start_only" in start.solve.message
    assert start.solve.gap is not None and start.solve.gap > 1e-9
    assert start.solve.solve_s < bnb.solve.solve_s
    # branch and bound starts from that start: never worse; the start's bound is the LP's
    assert bnb.solve.objective is not None and start.solve.objective is not None
    assert bnb.solve.objective <= start.solve.objective + 1e-6
    assert start.solve.bound is not None and start.solve.bound <= bnb.solve.objective + 1e-6

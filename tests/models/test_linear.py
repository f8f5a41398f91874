"""The array-assembled linear model: triplets, the column-wise matrix, the pyomo view."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from benchmarks.generate import SMALL, generated_park
from models.linear import LinearModel, Terms, pyomo_columns
from models.park import build_park_model
from models.solve import SolverOptions, compile_linear, compile_model, solve_compiled
from models.spec import ResolvedPark
from tests.helpers import battery, park_dict, resolved


def test_matrix_sums_duplicates_and_orders_columns() -> None:
    lm = LinearModel("t")
    x = lm.var(None, "x", 2, 0.0, 10.0)
    y = lm.var("a", "y", 1, -1.0, 1.0, integer=True)
    # row 0: x0 + x0 + 3 y ≤ 4 (x0 twice: summed to 2), row 1: x1 − y = 0
    lm.rows(
        None,
        "r",
        "Q1",
        "test rows",
        Terms.of([x[0], x[0], y[0], x[1], y[0]], [1.0, 1.0, 3.0, 1.0, -1.0], index=[0, 0, 0, 1, 1]),
        2,
        [-np.inf, 0.0],
        [4.0, 0.0],
    )
    lm.cost(Terms.of(x, [1.0, 2.0]), constant=5.0)
    lm.cost(Terms.of(x[:1], 0.5))
    start, index, value = lm.csc()
    dense = np.zeros((2, 3))
    for j in range(3):
        dense[index[start[j] : start[j + 1]], j] = value[start[j] : start[j + 1]]
    np.testing.assert_array_equal(dense, [[2.0, 0.0, 3.0], [0.0, 1.0, -1.0]])
    np.testing.assert_array_equal(lm.col_cost(), [1.5, 2.0, 0.0])
    assert lm.offset == 5.0
    np.testing.assert_array_equal(lm.integer(), [False, False, True])
    np.testing.assert_array_equal(lm.column_blocks(), [-1, -1, 0])
    assert lm.values(np.array([1.0, 2.0, 3.0]), "a") == {"y": pytest.approx([3.0])}


def test_misaligned_coefficients_are_refused() -> None:
    with pytest.raises(ValueError, match="3 columns with \\(2,\\) coefficients"):
        Terms.of(np.arange(3), [1.0, 2.0])
    with pytest.raises(ValueError, match="\\(1,\\) element indices"):
        Terms.of(np.arange(3), 1.0, index=np.zeros(1, dtype=int))


def test_a_row_without_terms_is_refused() -> None:
    lm = LinearModel("t")
    x = lm.var(None, "x", 2)
    with pytest.raises(ValueError, match="family Q1 r has rows without terms"):
        lm.rows(None, "r", "Q1", "test rows", Terms.of(x[:1]), 2, upper=1.0)


def _every_family() -> ResolvedPark:
    """A park whose model has every family of docs/model.md's park and assets."""
    assets = [
        {"id": "pv", "type": "pv", "capacity_kwp": 80.0, "forecast_kw": [0.0, 60.0, 80.0, 10.0]},
        battery(max_cycles_per_day=2.0),
        {
            "id": "ev",
            "type": "ev_charging",
            "chargers": 2,
            "charger_power_kw": 10.0,
            "site_limit_kw": 15.0,
            "v2g": True,
            "sessions": [
                {"arrival": "00:00", "departure": "03:00", "energy_kwh": 12.0},
                {"arrival": "01:00", "departure": "04:00", "energy_kwh": 5.0},
            ],
        },
        {
            "id": "shed",
            "type": "curtailable_load",
            "max_curtail_kw": 5.0,
            "cost_yuan_per_kwh": 0.8,
            "max_curtailed_kwh": 6.0,
        },
        {
            "id": "oven",
            "type": "shiftable_load",
            "power_kw": [8.0, 4.0],
            "earliest_start": "00:00",
            "latest_end": "04:00",
            "value_yuan": 9.0,
        },
    ]
    return resolved(
        park_dict(
            steps=4,
            load=20.0,
            price=[0.3, 0.6, 1.0, 0.6],
            assets=assets,
            export_limit_kw=50.0,
            export_price_yuan_per_kwh=0.7,
        )
    )


@pytest.mark.parametrize("which", ["every-family", "small-generated"])
def test_pyomo_view_compiles_to_the_same_model(which: str) -> None:
    """The pyomo model of the same rows, compiled by pyomo's own standard form compiler, is
    the directly assembled model: same bounds, costs, integrality and matrix, row by row (rows
    of a family in order, up to the sign pyomo may give a ≥ row)."""
    park = _every_family() if which == "every-family" else generated_park(SMALL, 0, 1)
    pm = build_park_model(park)
    if which == "every-family":
        eqs = {f.eq for f in pm.lm.families}
        assert eqs >= {"P1", "P2", "P3", "P4", "P5", "B1", "B2", "B3", "B4", "B5"}
        assert eqs >= {"E1", "E2", "E3", "C1", "J1"}
    direct = compile_linear(pm.lm)
    via = compile_model(pm.model)
    cols = pyomo_columns(pm.model, pm.lm)
    assert len(cols) == pm.lm.num_col
    order = np.array([{id(v): j for j, v in enumerate(via.columns)}[id(v)] for v in cols])
    assert direct.size.variables == via.size.variables
    assert direct.size.constraints == via.size.constraints
    np.testing.assert_allclose(np.asarray(via.lp.col_cost_)[order], direct.lp.col_cost_)
    assert float(via.lp.offset_) == pytest.approx(float(direct.lp.offset_))
    np.testing.assert_array_equal(via.integer[order], direct.integer)
    np.testing.assert_allclose(np.asarray(via.lp.col_lower_)[order], direct.lp.col_lower_)
    np.testing.assert_allclose(np.asarray(via.lp.col_upper_)[order], direct.lp.col_upper_)

    def dense(c: object, perm: np.ndarray | None) -> np.ndarray:
        start, index, value = c.matrix()  # type: ignore[attr-defined]
        n = len(start) - 1
        a = np.zeros((c.lp.num_row_, n))  # type: ignore[attr-defined]
        for j in range(n):
            a[index[start[j] : start[j + 1]], j] = value[start[j] : start[j + 1]]
        return a if perm is None else a[:, perm]

    a_direct, a_via = dense(direct, None), dense(via, order)
    # pyomo may split a ranged row in two (one per side): its rows by constraint
    rows_of: dict[int, list[int]] = {}
    for i, r in enumerate(via.rows):
        rows_of.setdefault(id(r), []).append(i)
    lo_d, up_d = np.asarray(direct.lp.row_lower_), np.asarray(direct.lp.row_upper_)
    lo_v, up_v = np.asarray(via.lp.row_lower_), np.asarray(via.lp.row_upper_)
    for f in pm.lm.families:
        owner = pm.model if f.block is None else pm.model.asset[f.block]
        comp = owner.component(f.key)
        assert comp.doc.startswith(f.eq + "|")
        for i in range(f.stop - f.start):
            r = f.start + i
            lo, up = -np.inf, np.inf
            for k in rows_of[id(comp[i])]:
                sign = 1.0 if np.allclose(a_via[k], a_direct[r]) else -1.0
                np.testing.assert_allclose(sign * a_via[k], a_direct[r], err_msg=f"{f.key}[{i}]")
                k_lo, k_up = (lo_v[k], up_v[k]) if sign > 0 else (-up_v[k], -lo_v[k])
                lo, up = max(lo, k_lo), min(up, k_up)
            assert (lo, up) == pytest.approx((lo_d[r], up_d[r])), f"{f.key}[{i}]"


def test_pyomo_view_solves_to_the_same_optimum() -> None:
    pm = build_park_model(generated_park(SMALL, 1, 1))
    options = SolverOptions(mip_rel_gap=1e-6, warm_start=False, random_seed=0)
    direct = solve_compiled(compile_linear(pm.lm), options)
    via = solve_compiled(compile_model(pm.model), options)
    assert direct.objective is not None and via.objective is not None
    assert direct.objective == pytest.approx(via.objective, rel=1e-5)
    # and the pyomo objective, evaluated at the direct solution, agrees
    assert direct.x is not None
    for v, val in zip(pyomo_columns(pm.model, pm.lm), direct.x, strict=True):
        v.set_value(float(val), skip_validation=True)
    assert pyo.value(pm.model.objective) == pytest.approx(direct.objective, rel=1e-9)


def test_append_stacks_models_block_diagonally() -> None:
    def one(k: float) -> LinearModel:
        lm = LinearModel("p")
        x = lm.var(None, "x", 2, 0.0, k)
        y = lm.var("bess", "y", 1, 0.0, 1.0, integer=True)
        lm.rows(None, "r", "Q1", "test", Terms.of(x) + Terms.of(np.repeat(y, 2), k), 2, upper=k)
        lm.cost(Terms.of(x, k), constant=k)
        return lm

    a, b = one(1.0), one(2.0)
    vpp = LinearModel("vpp")
    assert vpp.append(a, "park_0") == 0
    assert vpp.append(b, "park_1") == 3
    assert vpp.num_col == 6 and vpp.num_row == 4
    assert [g.block for g in vpp.groups] == ["park_0", "park_0/bess", "park_1", "park_1/bess"]
    assert [(f.block, f.start, f.stop) for f in vpp.families] == [
        ("park_0", 0, 2),
        ("park_1", 2, 4),
    ]
    start, index, value = vpp.csc()
    dense = np.zeros((4, 6))
    for j in range(6):
        dense[index[start[j] : start[j + 1]], j] = value[start[j] : start[j + 1]]
    block = np.zeros((4, 6))
    block[:2, :3] = [[1, 0, 1], [0, 1, 1]]
    block[2:, 3:] = [[1, 0, 2], [0, 1, 2]]
    np.testing.assert_array_equal(dense, block)
    np.testing.assert_array_equal(vpp.col_cost(), [1, 1, 0, 2, 2, 0])
    assert vpp.offset == 3.0
    np.testing.assert_array_equal(vpp.integer(), [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(vpp.row_bounds()[1], [1, 1, 2, 2])

"""Day-ahead bids: a curve derived by hand, monotone curves of at most 10 segments, and
deliverability re-checked by re-solving the parks at cleared quantities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from benchmarks.generate import SMALL, generated_park
from models.solve import SolverOptions
from models.spec import resolve_park, validate_park
from tests.vpp.test_capacity import _park
from vpp.bids import MAX_SEGMENTS, build_bids, check_cleared, offer_window, standard_checks
from vpp.cli import app

EXACT = SolverOptions(mip_rel_gap=1e-9)
TOU = [0.3, 0.3, 0.3, 1.0, 1.0, 1.0]


def _curtail_park() -> dict[str, Any]:
    """1,000 kW of load for 6 h at a time-of-use price and 300 kW of it curtailable at 1.5
    yuan/kWh: never worth it at the tariff alone (1.0 < 1.5), worth it in the peak hours when
    DR pays more than 0.5 yuan/kWh."""
    raw = _park("curtail")
    raw["grid"]["import_price_yuan_per_kwh"] = TOU
    raw["assets"] = [
        {
            "id": "line-3",
            "type": "curtailable_load",
            "max_curtail_kw": 300.0,
            "cost_yuan_per_kwh": 1.5,
        }
    ]
    return raw


def test_curve_by_hand() -> None:
    park = resolve_park(validate_park(_curtail_park(), source="test"))
    assert offer_window(park, "down") == [3, 4, 5]  # price ≥ the day's median (0.65)
    assert offer_window(park, "up") == [0, 1, 2]
    bids = build_bids([park], [0.2, 0.6, 1.0], EXACT, scheduler="serial")
    down = bids.quantity_kw("down")
    np.testing.assert_allclose(down[:, :3], 0.0, atol=1e-6)  # nothing offered off-window
    np.testing.assert_allclose(down[:, 3:], [[0.0] * 3, [300.0] * 3, [300.0] * 3], atol=1e-6)
    assert bids.segments("down", 4) == [(0.6, pytest.approx(300.0))]
    # curtailment cannot raise the load: nothing to offer upward
    np.testing.assert_allclose(bids.quantity_kw("up"), 0.0, atol=1e-6)
    # the answer at 0.6: 900 kWh curtailed at 1.5 yuan/kWh, each saving the 1.0 tariff
    cost = bids.park("down", "curtail").redispatch_cost_yuan
    assert cost == pytest.approx([0.0, 900 * (1.5 - 1.0), 900 * (1.5 - 1.0)], abs=1e-6)


@pytest.fixture(scope="module")
def small_bids() -> Any:
    parks = [generated_park(SMALL, seed=s, park_id=f"small-{s}") for s in range(2)]
    return build_bids(parks, [0.1, 0.3, 0.6, 1.0, 2.0, 5.0], scheduler="serial")


def test_curves_are_monotone_and_short(small_bids: Any) -> None:
    for d in ("down", "up"):
        q = small_bids.quantity_kw(d)
        assert np.all(np.diff(q, axis=0) >= -1e-6), d
        for t in range(small_bids.grid.steps):
            seg = small_bids.segments(d, t)
            assert len(seg) <= MAX_SEGMENTS
            prices = [p for p, _ in seg]
            qty = [x for _, x in seg]
            assert prices == sorted(prices) and qty == sorted(qty)
    assert small_bids.quantity_kw("down").max() > 0  # the parks' batteries do offer


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000))
def test_any_clearing_is_deliverable(small_bids: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    levels = rng.integers(-1, len(small_bids.prices_yuan_per_kwh), small_bids.grid.steps)
    for d in ("down", "up"):
        c = check_cleared(small_bids, d, levels, f"seed {seed}", scheduler="serial")
        assert c["deliverable"], c


def test_a_quantity_beyond_the_offer_is_not_deliverable(small_bids: Any) -> None:
    # the check has teeth: inflate one park's answer and the re-solve cannot follow it
    o = small_bids.offers["down"][0]
    t = int(np.argmax(small_bids.quantity_kw("down")[-1]))
    saved = o.delivered_kw.copy()
    try:
        o.delivered_kw[-1, t] += 1e5
        top = np.full(small_bids.grid.steps, len(small_bids.prices_yuan_per_kwh) - 1)
        c = check_cleared(small_bids, "down", top, "inflated", scheduler="serial")
        assert not c["deliverable"] and c["max_shortfall_kw"] > 1e4
    finally:
        o.delivered_kw[:] = saved


def test_bad_prices_are_rejected() -> None:
    park = resolve_park(validate_park(_curtail_park(), source="test"))
    with pytest.raises(ValueError, match="strictly increasing"):
        build_bids([park], [0.5, 0.5], scheduler="serial")
    with pytest.raises(ValueError, match="1 to 10 prices"):
        build_bids([park], [0.1 * k for k in range(1, 12)], scheduler="serial")


@pytest.mark.parametrize("bnb", [[], ["--branch-and-bound"]])
def test_cli_bid_writes_json_csv_and_plot(tmp_path: Path, bnb: list[str]) -> None:
    # the same curve with and without branch and bound: every answer here is proven by its
    # start, so the flag must change nothing but run
    raw = _curtail_park()
    # the CLI puts every park on the delivery day (96 × 15 min): a day-long price list
    raw["grid"]["import_price_yuan_per_kwh"] = [0.3] * 48 + [1.0] * 48
    vpp = {
        "id": "v",
        "name": "one",
        "parks": [raw],
        "programme": {"bid_prices_yuan_per_kwh": [0.2, 0.6, 1.0]},
    }
    (tmp_path / "vpp.yaml").write_text(yaml.safe_dump(vpp))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "bid",
            str(tmp_path / "vpp.yaml"),
            "--date",
            "2026-07-15",
            "--out",
            str(out),
            "--scheduler",
            "serial",
            "--json",
            *bnb,
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "bids.json").read_text())
    assert doc["format"] == "parkvpp-bids/1" and doc["interval_minutes"] == 15
    assert len(doc["directions"]["down"]) == 96
    peak = [i["interval"] for i in doc["directions"]["down"] if i["segments"]]
    assert peak == list(range(48, 96))
    assert all(
        s["price_yuan_per_kwh"] == 0.6 and s["quantity_kw"] == pytest.approx(300.0)
        for i in doc["directions"]["down"]
        for s in i["segments"]
    )
    assert all(c["deliverable"] for c in doc["checks"])
    csv = (out / "bids.csv").read_text().splitlines()
    assert csv[0] == "interval_start,interval_end,direction,segment,price_yuan_per_kwh,quantity_kw"
    assert (out / "bids.png").stat().st_size > 10_000


def test_standard_checks_on_the_hand_park() -> None:
    park = resolve_park(validate_park(_curtail_park(), source="test"))
    bids = build_bids([park], [0.2, 0.6, 1.0], EXACT, scheduler="serial")
    checks = standard_checks(bids, EXACT, scheduler="serial")
    assert [c["deliverable"] for c in checks] == [True] * 4
    # every interval cleared at the top price: 300 kW for 3 h of peak
    assert checks[0]["cleared_kwh"] == pytest.approx(900.0)


def test_bid_questions_stop_when_branch_and_bound_stalls_unless_told_not_to() -> None:
    from vpp.bids import BID_QUESTION_STALL_S, BID_QUESTION_TIME_LIMIT_S, bid_options

    default = bid_options()
    assert default.time_limit_s == BID_QUESTION_TIME_LIMIT_S
    assert default.mip_stall_s == BID_QUESTION_STALL_S > 0
    assert bid_options(2.0, 0.0).mip_stall_s is None  # `vpp bid --stall 0`
    # the start is the answer unless branch and bound is asked for (`--branch-and-bound`)
    assert default.branch_and_bound is False and bid_options(branch_and_bound=True).branch_and_bound

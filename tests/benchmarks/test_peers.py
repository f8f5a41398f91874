"""Peer comparison: shared problem data, our side against an independent LP, the orchestrator's
verdicts, and a peer that is missing or fails being reported rather than hidden."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog

from benchmarks.peers import compare, ours, run_peer
from benchmarks.peers.problems import Problem, problems, tou_price
from models.tariff import builtin_tariff
from models.timegrid import TimeGrid


def test_shared_price_is_the_jiangsu_tariff() -> None:
    grid = TimeGrid.day(dt.date(2026, 7, 15))
    ours_price = builtin_tariff("jiangsu-2025-two-part-1-10kv").import_price(grid)
    # the tariff's levels are written to 4 decimals in the shared problem
    assert np.abs(np.array(tou_price()) - ours_price).max() < 1e-4


def test_problems_round_trip_json() -> None:
    for p in problems().values():
        assert Problem.from_json(p.to_json()) == p


def _battery_lp(p: Problem) -> float:
    """The battery arbitrage as a plain LP (scipy's HiGHS), written from the problem alone:
    x = [charge_kw, discharge_kw, soc_kwh] per step; with losses, charging and discharging at
    once never pays, so no binaries are needed for the optimum."""
    b = p.battery
    assert b is not None
    n, dt_h = p.steps, p.dt_h
    price = np.array(p.import_price_yuan_per_kwh)
    c = np.concatenate([price * dt_h, -price * dt_h, np.zeros(n)])
    a_eq = np.zeros((n, 3 * n))
    b_eq = np.zeros(n)
    for t in range(n):
        a_eq[t, t] = -dt_h * b.charge_efficiency_frac
        a_eq[t, n + t] = dt_h / b.discharge_efficiency_frac
        a_eq[t, 2 * n + t] = 1.0
        if t > 0:
            a_eq[t, 2 * n + t - 1] = -1.0
        else:
            b_eq[t] = b.soc_initial_kwh
    bounds = [(0, b.power_kw)] * (2 * n) + [(b.soc_min_kwh, b.energy_kwh)] * (n - 1)
    bounds.append((b.soc_final_kwh, b.energy_kwh))
    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert res.status == 0
    return float(res.fun)


def test_ours_matches_an_independent_lp_on_battery_arbitrage() -> None:
    p = problems()["battery-arbitrage"]
    r = ours.solve_once(p)
    assert r["status"] == "ok"
    assert r["objective"] == pytest.approx(_battery_lp(p), rel=1e-7)


def test_ours_solves_every_shared_problem() -> None:
    for p in problems().values():
        r = ours.solve_once(p)
        assert r["status"] == "ok", p.name
        relaxed = ours.solve_once(p, relax=True)
        assert relaxed["objective"] <= r["objective"] + 1e-6


def test_ev_arbitrage_cost_by_hand() -> None:
    # Each session charges at its cheapest steps within its window (22 kW per vehicle, 8
    # chargers, so vehicles never compete): the cost is a sum of sorted prices.
    p = problems()["ev-arbitrage"]
    price = np.array(p.import_price_yuan_per_kwh)
    expected = 0.0
    for s in p.ev_sessions:
        window = np.sort(price[s.arrival_step : s.departure_step])
        need = s.energy_kwh
        for q in window:
            e = min(need, s.max_power_kw * p.dt_h)
            expected += e * q
            need -= e
            if need <= 0:
                break
    assert ours.solve_once(p)["objective"] == pytest.approx(expected, rel=1e-9)


def test_a_missing_peer_is_reported_with_its_error() -> None:
    buf = io.StringIO()
    with redirect_stdout(buf):
        run_peer.main(["energypylinear", "battery-arbitrage", "1"])
    out = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert out["status"] == "error"
    assert "energypylinear" in out["error"]


def test_peer_requirements_come_from_pyproject() -> None:
    for peer in compare.PEERS:
        reqs = compare.peer_requirements(peer)
        assert any(r.startswith(peer) for r in reqs)
    with pytest.raises(KeyError, match="peers-nope"):
        compare.peer_requirements("nope")


def _doc(peer_obj: float, ratio: float, status: str = "ok") -> dict[str, Any]:
    peer: dict[str, Any] = {"status": status, "objective": peer_obj, "version": "1"}
    peer.update(
        objective_rel_diff=abs(peer_obj - 100.0) / 100.0,
        agrees=abs(peer_obj - 100.0) / 100.0 <= compare.AGREEMENT_RTOL,
        build_s=0.2 * ratio,
        solve_s=0.8 * ratio,
        ratio_build=ratio,
        ratio_solve=ratio,
        ratio_total=ratio,
        solver="x",
    )
    return {
        "repeats": 1,
        "peers": {"energypylinear": {"python": "p", "error": ""}},
        "problems": {
            "p": {
                "description": "",
                "equivalent": True,
                "ours": {
                    "status": "ok",
                    "objective": 100.0,
                    "build_s": 0.2,
                    "solve_s": 0.8,
                    "method": "highs_lp",
                },
                "peers": {"energypylinear": peer},
                "fastest_peer_ratio": ratio,
                "target_met": ratio >= compare.TARGET_SPEEDUP,
            }
        },
    }


def test_peers_verdicts(tmp_path: Path) -> None:
    assert compare.problems_found(_doc(100.0, 5.0)) == []
    found = compare.problems_found(_doc(100.01, 5.0))
    assert len(found) == 1 and "objective" in found[0]
    slow = compare.problems_found(_doc(100.0, 1.5))
    assert len(slow) == 1 and "target" in slow[0]
    failed = compare.problems_found(_doc(100.0, 5.0, status="error"))
    assert failed and "error" in failed[0]
    doc = _doc(100.0, 5.0)
    doc["problems"]["p"]["peers"]["pypsa"] = {"status": "not installed", "error": "pip said no"}
    doc["peers"]["pypsa"] = {"python": None, "error": "pip said no"}
    assert compare.problems_found(doc) == []  # reported, not a failure of ours
    md = compare.markdown(doc)
    assert "not installed" in md and "pip said no" in md
    assert compare.plot(doc, tmp_path / "p.png").stat().st_size > 1000

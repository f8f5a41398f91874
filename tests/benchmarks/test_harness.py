"""The benchmark harness: registry, gate arithmetic, retry merge, reports, one real run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from benchmarks import check as gate
from benchmarks.generate import LARGE, generated_park, large_park
from benchmarks.registry import Case, Sample, all_cases, combine, register, select
from benchmarks.report import markdown, write
from benchmarks.runner import derived, measure_case
from models.park import build_park_model
from models.solve import SolverOptions, solve_model
from vpp.cli import app


def _sample(total: float, objective: float | None = 100.0, status: str = "ok") -> Sample:
    times = {
        "build_s": total * 0.2,
        "handoff_s": total * 0.2,
        "solve_s": total * 0.5,
        "extract_s": total * 0.1,
        "total_s": total,
        "wall_s": total,
    }
    size = {"variables": 10, "binaries": 2, "constraints": 5, "nonzeros": 20}
    return Sample(times, objective, objective, 0.0, status, "optimal", "highs_mip", size)


def _result(total_norm: float, objective: float | None = 100.0, status: str = "ok") -> dict:
    return {
        "gate": ["total_s"],
        "normalised": {"total_s": total_norm},
        "median": {"total_s": total_norm},
        "objective": objective,
        "objective_worst": objective,
        "objective_rtol": 1e-3,
        "status": status,
        "termination": "optimal" if status == "ok" else "time_limit",
    }


def test_registry_holds_the_issue_cases() -> None:
    names = set(all_cases())
    for required in (
        "calibration",
        "small-park",
        "small-park-lp",
        "large-park",
        "large-park-lp",
        "horizon-96",
        "horizon-672",
        "horizon-672-lp",
        "parks-5",
        "parks-20",
        "parks-50",
        "forecast-bundled-parks",
    ):
        assert required in names
    assert sum(n.startswith("example-") for n in names) == 6
    # every MILP case of the park groups has its LP relaxation registered
    lps = {c.lp_of for c in all_cases().values() if c.lp_of}
    assert {"small-park", "large-park", "horizon-96", "horizon-672"} <= lps
    assert all(c.group != "calibration" for c in select(None, fast=True))


def test_register_refuses_duplicates_and_unknown_metrics() -> None:
    existing = next(iter(all_cases().values()))
    with pytest.raises(ValueError, match="registered twice"):
        register(existing)
    with pytest.raises(ValueError, match="unknown gate metrics"):
        register(Case("x-never", "park", "", lambda i: _sample(1.0), gate=("speed",)))


def test_select_names_unknown_patterns() -> None:
    with pytest.raises(KeyError, match="no-such-case"):
        select(["no-such-case"])
    assert [c.name for c in select(["large-park-lp"])] == ["large-park-lp"]


def test_large_park_has_the_issue_size() -> None:
    park = large_park()
    kinds = [a.type for a in park.assets]
    assert kinds.count("battery") == 5
    assert kinds.count("shiftable_load") == 50
    ev = next(a for a in park.assets if a.type == "ev_charging")
    assert len(ev.sessions) == 500  # type: ignore[union-attr]
    # the same seed gives the same park; another seed another
    assert generated_park(LARGE, 0).load_kw.tolist() == park.load_kw.tolist()
    assert generated_park(LARGE, 1).load_kw.tolist() != park.load_kw.tolist()


def test_combine_sums_and_keeps_worst_status() -> None:
    s = combine([_sample(1.0, 10.0), _sample(2.0, 20.0, status="warning")])
    assert s.times_s["total_s"] == pytest.approx(3.0)
    assert s.objective == pytest.approx(30.0)
    assert s.status == "warning"
    assert s.size["variables"] == 20


def test_gate_fails_a_slower_case_and_passes_noise() -> None:
    base = _result(4.0)
    slow = gate.check_case("c", _result(5.2), base)  # ×1.30 and 1.2 units above
    assert not slow.ok and slow.slow
    assert slow.ratios["total_s"] == pytest.approx(1.3)
    assert gate.check_case("c", _result(4.9), base).ok  # ×1.225: within 25 %
    # a tiny case doubling by 0.02 calibration units is noise, not a regression
    assert gate.check_case("c", _result(0.04), _result(0.02)).ok


def test_gate_fails_worse_objective_and_non_optimal_status() -> None:
    base = _result(1.0, objective=1000.0)
    worse = gate.check_case("c", _result(1.0, objective=1001.5), base)
    assert not worse.ok and "objective worse" in worse.problems[0]
    assert gate.check_case("c", _result(1.0, objective=1000.9), base).ok  # within 0.1 %
    assert gate.check_case("c", _result(1.0, objective=990.0), base).ok  # better is fine
    failed = gate.check_case("c", _result(1.0, status="warning"), base)
    assert not failed.ok and "status warning" in failed.problems[0]
    # a case that stops at a time limit by design accepts warning, never failed
    accepting = {**_result(1.0, status="warning"), "accepted_statuses": ["ok", "warning"]}
    assert gate.check_case("c", accepting, base).ok
    accepting["status"] = "failed"
    assert not gate.check_case("c", accepting, base).ok
    new = gate.check_case("c", _result(1.0), None)
    assert new.ok and "no baseline" in new.note


def test_retry_keeps_the_faster_measurement() -> None:
    first = {"cases": {"a": _result(5.0), "b": _result(1.0)}}
    retry = {"cases": {"a": _result(4.1)}}
    merged = gate.merge_retry(first, retry)
    assert merged["cases"]["a"]["normalised"]["total_s"] == 4.1
    assert merged["cases"]["a"]["retried"]
    slower_again = gate.merge_retry(first, {"cases": {"a": _result(6.0)}})
    assert slower_again["cases"]["a"]["normalised"]["total_s"] == 5.0


def test_derived_ratios() -> None:
    cases: dict[str, Any] = {
        "m": {"lp_of": None, "median": _sample(2.0).times_s},
        "m-lp": {"lp_of": "m", "median": _sample(1.0).times_s},
    }
    d = derived(cases)["m"]
    assert d["total_over_lp_solve"] == pytest.approx(2.0 / 0.5)
    assert d["total_over_lp_total"] == pytest.approx(2.0)
    assert d["build_handoff_share"] == pytest.approx(0.4)


@pytest.fixture(scope="module")
def small_run() -> dict[str, Any]:
    return measure_case(all_cases()["small-park-lp"], repeats=2)


def test_measure_case_runs_the_real_model(small_run: dict[str, Any]) -> None:
    assert small_run["status"] == "ok"
    assert len(small_run["samples"]) == 2
    t = small_run["median"]
    assert t["total_s"] == pytest.approx(
        t["build_s"] + t["handoff_s"] + t["solve_s"] + t["extract_s"]
    )
    assert small_run["peak_rss_mb"] > 50
    assert small_run["size"]["variables"] > 0
    # the objective is the model's own, solved here directly
    from benchmarks.generate import SMALL

    pm = build_park_model(generated_park(SMALL, 0))
    direct = solve_model(pm.model, SolverOptions(relax=True), name="small")
    assert small_run["objective"] == pytest.approx(direct.objective, rel=1e-9)


def test_reports_and_check_command(small_run: dict[str, Any], tmp_path: Path) -> None:
    run = copy.deepcopy(small_run)
    run["normalised"] = {k: v / 0.5 for k, v in run["median"].items()}
    doc = {
        "schema": 1,
        "created": "2026-11-22T00:00:00+00:00",
        "commit": "test",
        "machine": {"cpu": "x", "cores": 2, "python": "3.11", "pyomo": "6", "highspy": "1"},
        "calibration_s": 0.5,
        "calibration_samples_s": [0.5],
        "cases": {"small-park-lp": run},
        "derived": {},
    }
    paths = write(doc, tmp_path / "ok")
    assert (tmp_path / "ok" / "stages.png").stat().st_size > 1000
    assert "| small-park-lp | ok |" in markdown(doc)
    assert len(paths) == 3
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(doc))
    results = tmp_path / "results.json"
    runner = CliRunner()
    # the same run against itself passes
    results.write_text(json.dumps(doc))
    args = ["bench", "check", "--baseline", str(baseline), "--results", str(results)]
    ok = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert ok.exit_code == 0, ok.output
    assert "gate passed" in ok.output
    # twice as slow in calibration units fails, naming the case
    slow = copy.deepcopy(doc)
    slow["cases"]["small-park-lp"]["normalised"]["total_s"] *= 2
    slow["cases"]["small-park-lp"]["normalised"]["total_s"] += 1.0
    results.write_text(json.dumps(slow))
    bad = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert bad.exit_code == 1
    assert "gate failed" in bad.output and "small-park-lp" in bad.output
    assert "FAIL" in (tmp_path / "b" / "results.md").read_text()
    # a file that is not a results document is a clear error
    results.write_text("{}")
    err = runner.invoke(app, [*args, "--out", str(tmp_path / "c")])
    assert err.exit_code == 2 and "not a benchmark results document" in err.output


def test_gate_catches_a_grown_model() -> None:
    base = _result(1.0)
    base["size"] = {"variables": 1000, "binaries": 100, "constraints": 500, "nonzeros": 4000}
    now = _result(1.0)
    now["size"] = {"variables": 1200, "binaries": 100, "constraints": 500, "nonzeros": 4000}
    v = gate.check_case("c", now, base)
    assert not v.ok and "model grew: variables 1,200 vs 1,000" in v.problems[0]
    now["size"]["variables"] = 1050  # within 10 %
    assert gate.check_case("c", now, base).ok

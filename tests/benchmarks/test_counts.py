"""The instruction-count gate: parsing callgrind's output and the verdicts against a baseline.
The counting itself runs in CI as `make bench-count` (30 s to 3 min per case under valgrind)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import counts as cg

CALLGRIND_OUT = """# callgrind format
version: 1
creator: callgrind-3.19.0
cmd:  python -m benchmarks.counts small-park-lp /tmp/x.json
events: Ir
summary: 0
fl=(1) ???
fn=(1) 0x0000000000108e40
1 3


totals: 195515272
"""


def _doc(instructions: int, objective: float | None = 100.0, status: str = "ok") -> dict:
    return {
        "schema": cg.SCHEMA_VERSION,
        "fingerprint": {"python": "3.11.7", "pyomo": "6.10.1"},
        "cases": {
            "small-park-lp": {
                "instructions": instructions,
                "objective": objective,
                "status": status,
                "termination": "optimal" if status == "ok" else "infeasible",
                "accepted_statuses": ["ok"],
            }
        },
    }


def test_parse_totals_reads_the_total_instruction_count() -> None:
    assert cg.parse_totals(CALLGRIND_OUT) == 195_515_272


def test_parse_totals_refuses_output_without_totals() -> None:
    with pytest.raises(cg.CountError, match="totals"):
        cg.parse_totals("events: Ir\n")


def test_same_count_passes_and_small_noise_passes() -> None:
    base = _doc(195_515_272)
    assert all(v.ok for v in cg.check(_doc(195_515_272), base))
    assert all(v.ok for v in cg.check(_doc(195_251_374), base))  # two real counts, 0.13 % apart


def test_more_work_than_allowed_fails_with_the_ratio() -> None:
    (v,) = cg.check(_doc(210_000_000), _doc(195_515_272), max_increase=0.03)
    assert not v.ok
    assert "more work" in v.problems[0] and "×1.074" in v.problems[0]


def test_a_failure_names_the_environment_difference() -> None:
    now = _doc(210_000_000)
    now["fingerprint"]["pyomo"] = "6.11.0"
    (v,) = cg.check(now, _doc(195_515_272))
    assert "pyomo 6.10.1 → 6.11.0" in v.problems[0]


def test_much_less_work_passes_with_a_note_to_refresh() -> None:
    (v,) = cg.check(_doc(150_000_000), _doc(195_515_272))
    assert v.ok and "refresh" in v.note


def test_worse_objective_and_bad_status_fail() -> None:
    (v,) = cg.check(_doc(195_515_272, objective=101.0), _doc(195_515_272, objective=100.0))
    assert any("objective worse" in p for p in v.problems)
    (v,) = cg.check(_doc(195_515_272, status="failed"), _doc(195_515_272))
    assert any("status failed" in p for p in v.problems)


def test_new_case_is_reported_not_failed() -> None:
    base = _doc(1)
    base["cases"] = {}
    (v,) = cg.check(_doc(195_515_272), base)
    assert v.ok and v.ratio is None and "no baseline" in v.note


def test_load_names_the_file_of_a_wrong_document(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"schema": 1, "cases_": {}}))
    with pytest.raises(ValueError, match=r"x\.json"):
        cg.load(bad)


def test_committed_baseline_is_a_counts_document_of_the_fast_cases() -> None:
    from benchmarks.registry import select

    doc = cg.load(cg.BASELINE)
    assert set(doc["cases"]) == {c.name for c in select(None, fast=True) if c.counted}
    assert all(r["instructions"] > 10_000_000 for r in doc["cases"].values())


def test_count_error_without_valgrind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(cg.CountError, match="valgrind is not installed"):
        cg.count_case("small-park-lp")

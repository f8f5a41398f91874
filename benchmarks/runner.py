"""Run benchmark cases: each in a fresh process (so peak memory is the case's own and one case's
garbage does not slow the next), one after another (so they do not compete for the 2 cores),
with a calibration problem measured before and after to normalise the times."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.registry import TIME_METRICS, Case, all_cases, median_or_none

SCHEMA_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent


def _peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024.0  # Linux reports kB


def _run_in_child(name: str, repeats: int) -> dict[str, Any]:
    cases = all_cases()
    case, calib = cases[name], cases["calibration"]
    case.run(0)  # warm-up: imports, pvlib and generated-data caches are not measured
    if case is not calib:
        calib.run(0)
    ready_rss_mb = _peak_rss_mb()
    samples = []
    for i in range(repeats):
        # The calibration problem runs just before and after each sample, in this process:
        # a shared machine's speed drifts by tens of percent within minutes (measured here),
        # so each sample is normalised by the speed of its own moment.
        before = calib.run(0).times_s["total_s"] if case is not calib else None
        sample = case.run(i).as_dict()
        after = calib.run(0).times_s["total_s"] if case is not calib else None
        sample["calibration_s"] = (
            (before + after) / 2 if before is not None and after is not None else None
        )
        samples.append(sample)
    return {"samples": samples, "ready_rss_mb": ready_rss_mb, "peak_rss_mb": _peak_rss_mb()}


def measure_case(case: Case, repeats: int | None = None) -> dict[str, Any]:
    """Run one case ``repeats`` times in a fresh process and summarise.

    Returns
    -------
    dict
        Medians of the stage times [s], the samples, objective (median) and worst objective,
        worst status, size, peak memory [MB].
    """
    n = repeats or case.repeats
    # A fresh spawned process per case; not a multiprocessing.Pool, whose daemonic workers may
    # not start the processes that multi-park cases use.
    ctx = multiprocessing.get_context("spawn")
    common = {
        "group": case.group,
        "description": case.description,
        "params": dict(case.params),
        "lp_of": case.lp_of,
        "fast": case.fast,
        "gate": list(case.gate),
        "objective_rtol": case.objective_rtol,
        "accepted_statuses": list(case.accepted_statuses),
        "repeats": n,
    }
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            raw = pool.submit(_run_in_child, case.name, n).result()
    except Exception as exc:  # any failure of the case is reported as the case's result
        return {
            **common,
            "median": dict.fromkeys(TIME_METRICS, 0.0),
            "objective": None,
            "objective_worst": None,
            "bound": None,
            "gap": None,
            "status": "failed",
            "termination": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "methods": [],
            "size": dict.fromkeys(("variables", "binaries", "constraints", "nonzeros"), 0),
            "peak_rss_mb": 0.0,
            "ready_rss_mb": 0.0,
            "samples": [],
        }
    samples = raw["samples"]
    order = {"ok": 0, "warning": 1, "failed": 2}
    worst = max(samples, key=lambda s: order.get(s["status"], 2))
    objectives = [s["objective"] for s in samples]
    known = [o for o in objectives if o is not None]
    return {
        **common,
        "median": {k: statistics.median(s[k] for s in samples) for k in TIME_METRICS},
        "objective": median_or_none(objectives),
        "objective_worst": max(known) if known else None,
        "bound": median_or_none([s["bound"] for s in samples]),
        "gap": median_or_none([s["gap"] for s in samples]),
        "status": worst["status"],
        "termination": worst["termination"],
        "methods": sorted({s["method"] for s in samples}),
        "size": {k: samples[0][k] for k in ("variables", "binaries", "constraints", "nonzeros")},
        "peak_rss_mb": raw["peak_rss_mb"],
        "ready_rss_mb": raw["ready_rss_mb"],
        "samples": samples,
    }


def calibrate(repeats: int | None = None) -> list[float]:
    """Total seconds of each calibration run (see the ``calibration`` case)."""
    res = measure_case(all_cases()["calibration"], repeats)
    return [s["total_s"] for s in res["samples"]]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _git_commit() -> str | None:
    """HEAD's short hash, with ``-dirty`` when the measured code differs from it."""
    head = _git("rev-parse", "--short", "HEAD")
    if not head:
        return None
    changed = _git(
        "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/baseline.json"
    )
    return f"{head}-dirty" if changed else head


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pyomo": version("pyomo"),
        "highspy": version("highspy"),
        "ci": bool(os.environ.get("CI")),
    }


@dataclass
class Progress:
    """Called as each case starts and ends, so long suites show where they are."""

    start: Callable[[str, int, int], None] = lambda name, i, n: None
    end: Callable[[str, dict[str, Any]], None] = lambda name, res: None


def run_suite(
    cases: list[Case], repeats: int | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Measure ``cases`` between two calibrations; times are also given per calibration unit.

    Returns
    -------
    dict
        The results document (``SCHEMA_VERSION``): machine, commit, calibration, cases.
    """
    progress = progress or Progress()
    t0 = time.perf_counter()
    n = len(cases) + 2
    progress.start("calibration", 1, n)
    calib = calibrate()
    results: dict[str, Any] = {}
    for i, case in enumerate(cases):
        progress.start(case.name, i + 2, n)
        results[case.name] = measure_case(case, repeats)
        progress.end(case.name, results[case.name])
    progress.start("calibration", n, n)
    calib += calibrate()
    calibration_s = statistics.median(calib)
    for res in results.values():
        res["normalised"] = normalise(res, calibration_s)
    return {
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "machine": machine(),
        "calibration_s": calibration_s,
        "calibration_samples_s": calib,
        "suite_wall_s": time.perf_counter() - t0,
        "cases": results,
        "derived": derived(results),
    }


def normalise(res: dict[str, Any], calibration_s: float) -> dict[str, float]:
    """Median over samples of each time divided by the calibration of that sample's moment
    (falling back to the suite's calibration for samples without one)."""
    out = {}
    samples = res.get("samples") or []
    for k in TIME_METRICS:
        ratios = [s[k] / (s.get("calibration_s") or calibration_s) for s in samples if k in s]
        out[k] = statistics.median(ratios) if ratios else res["median"][k] / calibration_s
    return out


def derived(cases: dict[str, Any]) -> dict[str, Any]:
    """Targets of the benchmark issue computed from MILP cases and their LP relaxations:
    total MILP time over the LP's solve time and over the LP's whole path, and the share of
    build + hand-off in the MILP's total."""
    out: dict[str, Any] = {}
    for name, lp in cases.items():
        milp = cases.get(lp.get("lp_of") or "")
        if milp is None:
            continue
        m, lpm = milp["median"], lp["median"]
        out[lp["lp_of"]] = {
            "milp_total_s": m["total_s"],
            "lp_solve_s": lpm["solve_s"],
            "lp_total_s": lpm["total_s"],
            "total_over_lp_solve": m["total_s"] / lpm["solve_s"] if lpm["solve_s"] else None,
            "total_over_lp_total": m["total_s"] / lpm["total_s"] if lpm["total_s"] else None,
            "build_handoff_share": (m["build_s"] + m["handoff_s"]) / m["total_s"]
            if m["total_s"]
            else None,
            "lp_case": name,
        }
    return out

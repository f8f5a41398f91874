"""Planner sizing cases: the large example park's full year (hourly) and its twelve
representative days, a discrete-product MILP, and a 50-case sweep on two processes.

A sizing case's stage times are the plan's solve (``build_s``, ``handoff_s``, ``solve_s``,
``extract_s`` summed over the lazy-binary rounds' last solve); ``wall_s`` is the whole
``run_scenario`` (the year loaded, the plan and the do-nothing reference solved, economics and
scorecard). The objective is the plan's annual cost [yuan/yr].
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.registry import Case, Sample, register
from models.solve import SolverOptions
from scenarios.plan import Plan, Prepared, prepare_file, run_scenario
from scenarios.spec import load_scenario
from scenarios.sweep import CaseTask, cases, run_case
from vpp.executor import map_ordered, park_executor

PLANNING = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "planning"
WUJIN = PLANNING / "changzhou-wujin-mfg-2027.yaml"
XISHAN = PLANNING / "wuxi-xishan-electronics-2027.yaml"
SWEEP = ["storage_capex_yuan_per_kwh=410:900:10"]  # 50 cases


@functools.cache
def _prepared(path: Path) -> Prepared:
    return prepare_file(path)


def _sample(plan: Plan, wall_s: float) -> Sample:
    r, ref = plan.result.solve, plan.reference.solve
    status = "ok" if r.status.value == ref.status.value == "ok" else "warning"
    return Sample.of_solve(r, wall_s, plan.result.costs_yuan_per_year["total"], status)


def _plan_runner(path: Path, kind: str, relax: bool = False) -> Callable[[int], Sample]:
    def run(repeat: int) -> Sample:
        prep = _prepared(path)
        m = prep.spec.method
        opts = SolverOptions(
            mip_rel_gap=m.mip_rel_gap, time_limit_s=m.time_limit_s, random_seed=repeat, relax=relax
        )
        t0 = time.perf_counter()
        plan = run_scenario(prep, kind=kind, options=opts)
        return _sample(plan, time.perf_counter() - t0)

    return run


def _sweep_run(repeat: int) -> Sample:
    spec = load_scenario(WUJIN)
    tasks = [CaseTask(spec, WUJIN.parent, str(WUJIN), c) for c in cases(spec, SWEEP)]
    t0 = time.perf_counter()
    with park_executor("processes", 2, len(tasks)) as ex:
        rows = map_ordered(ex, run_case, tasks)
    wall = time.perf_counter() - t0
    failed = [r for r in rows if r["status"] != "ok"]
    return Sample(
        {
            "build_s": 0.0,
            "handoff_s": 0.0,
            "solve_s": wall,
            "extract_s": 0.0,
            "total_s": wall,
            "wall_s": wall,
        },
        # the objective column carries the sum of the cases' annual costs
        float(sum(r.get("annual_cost_yuan") or 0.0 for r in rows)),
        None,
        None,
        "failed" if failed else "ok",
        "optimal" if not failed else "error",
        "sweep",
        {"variables": 0, "binaries": 0, "constraints": 0, "nonzeros": 0},
    )


def _register_all() -> None:
    register(
        Case(
            "sizing-year-wujin",
            "sizing",
            "PV and storage sizing of the large example park over the full year, hourly "
            "(8,760 steps), with its do-nothing reference (target: < 60 s)",
            _plan_runner(WUJIN, "full-year"),
            repeats=1,
            gate=("wall_s",),
            params={"steps": 8760},
        )
    )
    register(
        Case(
            "sizing-year-wujin-lp",
            "sizing",
            "the LP relaxation of sizing-year-wujin (eligibility relaxed)",
            _plan_runner(WUJIN, "full-year", relax=True),
            repeats=1,
            gate=("wall_s",),
            params={"steps": 8760},
            lp_of="sizing-year-wujin",
        )
    )
    register(
        Case(
            "sizing-12days-wujin",
            "sizing",
            "the same on 12 representative days (k-means medoids; target: < 30 s)",
            _plan_runner(WUJIN, "representative-days"),
            repeats=3,
            fast=True,
            gate=("wall_s",),
            params={"steps": 288},
        )
    )
    register(
        Case(
            "sizing-12days-xishan-products",
            "sizing",
            "12 representative days of the Xishan park with storage as whole 2.5 MW / 5 MWh "
            "containers (an integer MILP)",
            _plan_runner(XISHAN, "representative-days"),
            repeats=3,
            objective_rtol=1e-3,
            gate=("wall_s",),
            params={"steps": 288},
        )
    )
    register(
        Case(
            "sizing-sweep-50",
            "sizing",
            "a 50-case sweep of the storage price (410 … 900 yuan/kWh) on 12 representative "
            "days of the Wujin park, on 2 processes",
            _sweep_run,
            repeats=1,
            objective_rtol=1e-4,
            gate=("wall_s",),
            params={"cases": 50},
        )
    )


_register_all()

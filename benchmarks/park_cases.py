"""Park day-ahead cases: calibration, small and large generated parks, the bundled example
parks, horizon scaling (96 … 672 steps), many independent parks, and the LP relaxation of each
MILP case (the floor MILP time is measured against)."""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.generate import LARGE, MEDIUM, SMALL, ParkSize, generated_park
from benchmarks.registry import Case, Sample, combine, register
from models.results import schedule_park
from models.solve import SolverOptions
from models.spec import ResolvedPark, load_park, resolve_park
from scenarios.examples import EXAMPLE_DAYS, example_parks

_FORK = multiprocessing.get_context("fork")
# Horizon lengths of the scaling cases [days of 96 steps].
HORIZON_DAYS = (1, 2, 4, 7)
# Parks scheduled side by side in the scaling cases.
PARK_COUNTS = (5, 20, 50)


def park_sample(park: ResolvedPark, relax: bool, seed: int) -> Sample:
    """Schedule one park (build, hand-off, solve, extract, verify) and time it."""
    t0 = time.perf_counter()
    sched = schedule_park(park, SolverOptions(relax=relax, random_seed=seed))
    wall_s = time.perf_counter() - t0
    return Sample.of_solve(sched.solve, wall_s)


@functools.cache
def _generated(size: ParkSize, seed: int, days: int) -> ResolvedPark:
    # Generation and pvlib are not what is measured: made once per process.
    return generated_park(size, seed, days)


@functools.cache
def _example(path: str, season: str) -> ResolvedPark:
    return resolve_park(load_park(path), base_dir=Path(path).parent, date=EXAMPLE_DAYS[season])


def _generated_runner(size: ParkSize, seed: int, days: int, relax: bool) -> Callable[[int], Sample]:
    def run(repeat: int) -> Sample:
        return park_sample(_generated(size, seed, days), relax, repeat)

    return run


def _example_runner(path: str, season: str) -> Callable[[int], Sample]:
    def run(repeat: int) -> Sample:
        return park_sample(_example(path, season), False, repeat)

    return run


def _one_of_many(args: tuple[ResolvedPark, int]) -> Sample:
    park, repeat = args
    return park_sample(park, False, repeat)


def _parks_runner(n: int) -> Callable[[int], Sample]:
    def run(repeat: int) -> Sample:
        # Parks without a coupling constraint are independent MILPs: two processes use both
        # cores (HiGHS MIP is single-threaded here). The parks are resolved (pvlib) once, in
        # this process, as a day-ahead run would have them from the forecasts; the wall time
        # includes starting the pool and shipping the parks to it.
        parks = [_generated(MEDIUM, s, 1) for s in range(n)]
        t0 = time.perf_counter()
        # fork, explicitly: the harness runs each case in a spawned process, whose children
        # would otherwise be spawned too and re-import everything (seconds per worker).
        with ProcessPoolExecutor(max_workers=2, mp_context=_FORK) as pool:
            samples = list(pool.map(_one_of_many, [(p, repeat) for p in parks]))
        wall_s = time.perf_counter() - t0
        out = combine(samples)
        out.times_s["wall_s"] = wall_s
        return out

    return run


def _register_all() -> None:
    register(
        Case(
            "calibration",
            "calibration",
            "LP relaxation of a generated medium park over 7 days (seed 777): model assembly, "
            "hand-off and HiGHS dual simplex, so it scales with the machine's Python, numpy and "
            "solver speed alike (~0.19 s here; 7 days since the park model is assembled as "
            "arrays: 2 days took 0.035 s, too short to time steadily)",
            _generated_runner(MEDIUM, 777, 7, relax=True),
            repeats=5,
        )
    )
    for label, size, fast in (("small", SMALL, True), ("large", LARGE, True)):
        desc = (
            f"{size.pv_arrays} PV, {size.batteries} batteries, {size.ev_sessions_per_day} EV "
            f"sessions, {size.jobs_per_day} shiftable jobs, 96 × 15 min"
        )
        register(
            Case(
                f"{label}-park",
                "park",
                f"{label} generated park MILP to 0.1 % gap: {desc}",
                _generated_runner(size, 0, 1, relax=False),
                repeats=5 if label == "large" else 7,
                fast=fast,
                objective_rtol=1e-3,
            )
        )
        register(
            Case(
                f"{label}-park-lp",
                "park",
                f"LP relaxation of {label}-park",
                _generated_runner(size, 0, 1, relax=True),
                repeats=3 if label == "large" else 7,
                fast=fast,
                lp_of=f"{label}-park",
            )
        )
    for path in example_parks():
        for season in EXAMPLE_DAYS:
            register(
                Case(
                    f"example-{path.stem}-{season}",
                    "examples",
                    f"bundled park {path.name} on its {season} day {EXAMPLE_DAYS[season]}",
                    _example_runner(str(path), season),
                    fast=season == "summer",
                    objective_rtol=1e-3,
                )
            )
    for days in HORIZON_DAYS:
        steps = 96 * days
        register(
            Case(
                f"horizon-{steps}",
                "horizon",
                f"generated medium park over {days} day(s) ({steps} steps) MILP",
                _generated_runner(MEDIUM, 1, days, relax=False),
                objective_rtol=1e-3,
                params={"steps": steps},
            )
        )
        register(
            Case(
                f"horizon-{steps}-lp",
                "horizon",
                f"LP relaxation of horizon-{steps}",
                _generated_runner(MEDIUM, 1, days, relax=True),
                params={"steps": steps},
                lp_of=f"horizon-{steps}",
            )
        )
    for n in PARK_COUNTS:
        register(
            Case(
                f"parks-{n}",
                "parks",
                f"{n} generated medium parks scheduled day-ahead as independent MILPs on 2 "
                "processes (no coupling: VPP-coupled cases come with the VPP issue)",
                _parks_runner(n),
                repeats=1 if n >= 50 else 3,
                objective_rtol=1e-3,
                gate=("wall_s",),
                params={"parks": n},
            )
        )


_register_all()

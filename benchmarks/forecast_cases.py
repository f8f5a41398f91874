"""Forecast cases: the day-ahead forecasts of every bundled park (load by quantile gradient
boosting, PV with its error model), as the operator runs them before the 10:30 deadline."""

from __future__ import annotations

import datetime as dt
import functools
import time

from benchmarks.registry import Case, Sample, register
from forecasts.history import History, read_history
from forecasts.load import forecast_load
from forecasts.pv_forecast import forecast_pv
from models.spec import ParkSpec, load_park
from scenarios.examples import EXAMPLE_DAYS, example_parks


@functools.cache
def _parks() -> tuple[tuple[ParkSpec, History], ...]:
    out = []
    for path in example_parks():
        spec = load_park(path)
        assert isinstance(spec.load, str)
        out.append((spec, read_history(path.parent / spec.load.partition("#")[0])))
    return tuple(out)


def _run(repeat: int) -> Sample:
    day: dt.date = EXAMPLE_DAYS["summer"]
    t0 = time.perf_counter()
    for spec, hist in _parks():
        temp = hist.day(day, "temperature_c")
        forecast_load(hist, day, "gradient-boosting", temperature_c=temp)
        forecast_pv(spec, day, history=hist)
    wall = time.perf_counter() - t0
    times = dict.fromkeys(("build_s", "handoff_s", "solve_s", "extract_s"), 0.0)
    times.update(total_s=wall, wall_s=wall)
    size = dict.fromkeys(("variables", "binaries", "constraints", "nonzeros"), 0)
    return Sample(times, None, None, None, "ok", "optimal", "forecast", size)


register(
    Case(
        "forecast-bundled-parks",
        "forecasts",
        "day-ahead load (quantile gradient boosting) and PV (clear sky × metered clearness) "
        f"forecasts of the {len(example_parks())} bundled parks for {EXAMPLE_DAYS['summer']}",
        _run,
        repeats=3,
        gate=("wall_s",),
    )
)

"""``forecast: auto`` in a park file: replace the fixed series of the day by forecasts.

The park's load becomes the chosen quantile of the load forecast, each PV array's
``forecast_kw`` the P50 of the PV forecast (clear sky × metered clearness), and each EV asset
named in ``ev_session_history`` takes the forecast sessions of the day. The forecasts see only
data before the day-ahead cutoff (10:30 on the day before). Everything else in the park file is
kept as written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forecasts.ev import forecast_sessions, read_sessions
from forecasts.history import HistoryError, read_history
from forecasts.load import ForecastError, forecast_load
from forecasts.pv_forecast import forecast_pv
from models.errors import InputProblem, ParkInputError
from models.series import SeriesError, data_path
from models.spec import ForecastSpec, ParkSpec
from models.timegrid import TimeGrid


def apply_forecasts(spec: ParkSpec, base_dir: Path, grid: TimeGrid, source: str) -> ParkSpec:
    """A copy of ``spec`` whose load, PV forecasts and EV sessions come from the forecasts.

    Raises
    ------
    ParkInputError
        The horizon is not one day of 15-minute steps, the history cannot be read, or a
        forecast cannot be made (the problem names the field, the asset and the reason).
    """
    fs = spec.forecast if isinstance(spec.forecast, ForecastSpec) else ForecastSpec()
    if grid.resolution_min != 15 or grid.steps != 96 or grid.start.hour or grid.start.minute:
        raise ParkInputError(
            [
                InputProblem(
                    "forecast",
                    "forecasts are made per day: use a one-day horizon of 96 × 15 min from "
                    "midnight (or --date)",
                )
            ],
            source,
        )
    day = grid.start.date()
    history_path = fs.history
    if history_path is None:
        if not isinstance(spec.load, str):
            raise ParkInputError(
                [InputProblem("forecast.history", "give the metered history (load is not a file)")],
                source,
            )
        history_path = spec.load.partition("#")[0]
    problems: list[InputProblem] = []
    try:
        hist = read_history(data_path(history_path, base_dir))
    except (HistoryError, SeriesError) as exc:
        raise ParkInputError([InputProblem("forecast.history", str(exc))], source) from exc
    temp = None
    if "temperature_c" in hist.frame.columns and hist.is_complete(day, "temperature_c"):
        # the history's own temperature of the day stands for the weather forecast
        temp = hist.day(day, "temperature_c")
    load: list[float] | float | str = spec.load
    try:
        fc = forecast_load(hist, day, fs.load_method, temperature_c=temp)
        chosen = {"p10": fc.p10_kw, "p50": fc.p50_kw, "p90": fc.p90_kw}[fs.load_quantile]
        load = [round(float(x), 3) for x in np.clip(chosen, 0.0, None)]
    except ForecastError as exc:
        problems.append(InputProblem("forecast.load_method", str(exc)))
    pvf = forecast_pv(spec, day, history=hist)
    assets: list[dict[str, object]] = []
    for a in spec.assets:
        if a.type == "pv":
            series = pvf.per_array_p50_kw[a.id]
            assets.append({**a.model_dump(), "forecast_kw": [round(float(x), 3) for x in series]})
        elif a.type == "ev_charging" and a.id in fs.ev_session_history:
            try:
                sess = read_sessions(data_path(fs.ev_session_history[a.id], base_dir))
                evf = forecast_sessions(sess, day, default_power_kw=a.charger_power_kw)
                assets.append({**a.model_dump(), "sessions": evf.sessions})
            except (ForecastError, SeriesError) as exc:
                problems.append(InputProblem("forecast.ev_session_history", str(exc), a.id))
                assets.append(a.model_dump())
        else:
            assets.append(a.model_dump())
    unknown = set(fs.ev_session_history) - {a.id for a in spec.assets if a.type == "ev_charging"}
    for aid in sorted(unknown):
        problems.append(
            InputProblem("forecast.ev_session_history", "no EV charging asset has this id", aid)
        )
    if problems:
        raise ParkInputError(problems, source)
    # validated again, so the forecast values meet the same rules as values written by hand
    return ParkSpec.model_validate(
        {**spec.model_dump(), "load": load, "assets": assets, "forecast": None}
    )

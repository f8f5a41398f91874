"""``vpp forecast PARK --date D`` and ``vpp forecast backtest PARK --history H --days N``."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from forecasts.backtest import backtest, best_method, held_out_days, plot
from forecasts.ev import forecast_sessions, read_sessions
from forecasts.history import History, HistoryError, read_history
from forecasts.load import METHODS, forecast_load
from forecasts.pv_forecast import forecast_pv, pv_backtest, read_weather
from models.errors import ParkVppError
from models.spec import ForecastSpec, ParkSpec, load_park

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)
EXIT_INPUT = 2


def _history_for(park_file: Path, spec: ParkSpec, history: Path | None) -> History:
    """``--history``, or else the park's own load file when it is a timestamped CSV."""
    if history is not None:
        return read_history(history)
    if isinstance(spec.load, str):
        path = (park_file.parent / spec.load.partition("#")[0]).resolve()
        return read_history(path)
    raise HistoryError(
        str(park_file), "load", "the park's load is not a history file: pass --history"
    )


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"--date {text!r} is not YYYY-MM-DD") from exc


def _do_backtest(
    park_file: Path, history: Path | None, days: int, out: Path, as_json: bool
) -> None:
    spec = load_park(park_file)
    hist = _history_for(park_file, spec, history)
    held = held_out_days(hist, days)
    t0 = time.perf_counter()
    scores = backtest(hist, held)
    pv = pv_backtest(spec, hist, held) if "pv_kw" in hist.frame.columns else None
    elapsed = time.perf_counter() - t0
    chosen = best_method(scores)
    out.mkdir(parents=True, exist_ok=True)
    png = plot(scores, out / f"{spec.id}-backtest.png")
    doc: dict[str, Any] = {
        "park": spec.id,
        "history": hist.source,
        "held_out_days": [d.isoformat() for d in held],
        "cutoff": "10:30 on the day before each held-out day",
        "weather": "temperature of the held-out day from the history (a perfect forecast)",
        "methods": {m: s.as_dict() for m, s in scores.items()},
        "chosen": chosen,
        "pv": pv,
        "seconds": round(elapsed, 2),
        "plot": str(png),
    }
    (out / f"{spec.id}-backtest.json").write_text(json.dumps(doc, indent=2) + "\n")
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    table = Table(
        title=f"load backtest {spec.id}: {len(held)} held-out days ({held[0]} … {held[-1]})"
    )
    for col in ("method", "days", "MAE kW", "MAPE", "pinball kW", "errors"):
        table.add_column(col, justify="left" if col in ("method", "errors") else "right")
    for m, s in scores.items():
        table.add_row(
            m + (" (chosen)" if m == chosen else ""),
            str(len(s.days)),
            f"{s.mean('mae_kw'):,.1f}",
            f"{s.mean('mape_frac'):.2%}",
            f"{s.mean('pinball_kw'):,.1f}",
            str(len(s.errors)),
        )
    console.print(table)
    if pv is not None:
        console.print(
            f"PV ({pv['method']}): MAE {pv['mae_kw']:,.1f} kW, pinball {pv['pinball_kw']:,.1f} kW, "
            f"P10–P90 coverage {pv['coverage_frac']:.0%} over {pv['days']} days"
        )
    console.print(f"{elapsed:.1f} s; wrote {out / (spec.id + '-backtest.json')} and {png}")


def _do_forecast(
    park_file: Path,
    history: Path | None,
    day: dt.date,
    method: str | None,
    as_json: bool,
    weather: Path | None = None,
) -> None:
    spec = load_park(park_file)
    hist = _history_for(park_file, spec, history)
    temp = None
    if "temperature_c" in hist.frame.columns and hist.is_complete(day, "temperature_c"):
        temp = hist.day(day, "temperature_c")
    chosen = method or "gradient-boosting"
    if chosen not in (*METHODS, "auto"):
        raise typer.BadParameter(f"--method {chosen!r}; known: {', '.join(METHODS)}, auto")
    fc = forecast_load(hist, day, chosen, temperature_c=temp)
    weather_fc = read_weather(weather, day, spec.timezone) if weather is not None else None
    pvf = forecast_pv(spec, day, history=hist, weather=weather_fc)
    pv = pvf.p50_kw
    ev: dict[str, Any] = {}
    if isinstance(spec.forecast, ForecastSpec):
        for aid, path in spec.forecast.ev_session_history.items():
            evf = forecast_sessions(read_sessions(park_file.parent / path), day)
            ev[aid] = evf.as_dict()
    doc = {
        "park": spec.id,
        "date": day.isoformat(),
        "load_method": fc.method,
        "cutoff": fc.cutoff.isoformat(),
        "notes": fc.notes,
        "timestamps": [t.isoformat() for t in fc.timestamps],
        "load_p10_kw": np.round(fc.p10_kw, 1).tolist(),
        "load_p50_kw": np.round(fc.p50_kw, 1).tolist(),
        "load_p90_kw": np.round(fc.p90_kw, 1).tolist(),
        "pv_method": pvf.method,
        "pv_notes": pvf.notes,
        "pv_p10_kw": np.round(pvf.p10_kw, 1).tolist(),
        "pv_p50_kw": np.round(pvf.p50_kw, 1).tolist(),
        "pv_p90_kw": np.round(pvf.p90_kw, 1).tolist(),
        "temperature_c": None if temp is None else np.round(temp, 1).tolist(),
        "ev_sessions": ev,
    }
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    table = Table(title=f"{spec.id} {day} day-ahead ({fc.method}, data before {fc.cutoff})")
    for col in ("hour", "load P10 kW", "load P50 kW", "load P90 kW", "PV P10", "PV P50", "PV P90"):
        table.add_column(col, justify="right")
    per_hour = len(fc.timestamps) // 24
    for h in range(24):
        sl = slice(h * per_hour, (h + 1) * per_hour)
        table.add_row(
            f"{h:02d}:00",
            f"{fc.p10_kw[sl].mean():,.0f}",
            f"{fc.p50_kw[sl].mean():,.0f}",
            f"{fc.p90_kw[sl].mean():,.0f}",
            f"{pvf.p10_kw[sl].mean():,.0f}",
            f"{pv[sl].mean():,.0f}",
            f"{pvf.p90_kw[sl].mean():,.0f}",
        )
    console.print(table)
    for aid, e in ev.items():
        console.print(
            f"{aid}: {e['expected_count']:.1f} sessions expected; arrival h P10/P50/P90 "
            f"{e['arrival_h_p10_p50_p90']}, dwell h {e['dwell_h_p10_p50_p90']}, "
            f"energy kWh {e['energy_kwh_p10_p50_p90']}",
            highlight=False,
        )


def forecast(
    target: Annotated[str, typer.Argument(help="A park file, or `backtest` followed by one.")],
    park: Annotated[Path | None, typer.Argument(help="The park file (after `backtest`).")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Day to forecast, YYYY-MM-DD.")] = None,
    history: Annotated[
        Path | None,
        typer.Option("--history", help="Metered history; default the park's load file."),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Held-out days (backtest).")] = 14,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            help=f"Load method: {', '.join(METHODS)} (default gradient-boosting, the better on "
            "every bundled park's backtest) or auto (chosen by a 7-day backtest).",
        ),
    ] = None,
    weather: Annotated[
        Path | None,
        typer.Option(
            "--weather",
            help="Weather forecast CSV: timestamp, ghi_w_per_m2[, dni_w_per_m2, dhi_w_per_m2, "
            "temp_air_c, wind_m_per_s].",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for backtest outputs.")] = Path(
        "out/forecast"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Day-ahead load (P10/P50/P90) and PV forecast of a park, or a backtest of the load methods.

    \b
    vpp forecast PARK.yaml --date 2026-07-15
    vpp forecast backtest PARK.yaml --history H.csv --days 14
    """
    try:
        if target == "backtest":
            if park is None:
                raise typer.BadParameter("vpp forecast backtest needs a park file")
            _do_backtest(park, history, days, out, as_json)
            return
        if park is not None:
            raise typer.BadParameter(f"unexpected second argument {park}")
        if date is None:
            raise typer.BadParameter("--date is required")
        _do_forecast(Path(target), history, _date(date), method, as_json, weather)
    except ParkVppError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_INPUT) from exc

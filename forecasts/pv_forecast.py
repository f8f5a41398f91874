"""Day-ahead PV forecasts of a park with P10/P50/P90.

- Central estimate: the pvlib chain of :mod:`forecasts.pv` per PV array, from a weather forecast
  when one is given (:class:`forecasts.pv.Weather`), else from clear sky.
- Error model, fitted on the park's metered ``pv_kw`` history before the day-ahead cutoff: the
  clearness ratio k = metered ÷ clear-sky output, per hour of day, over the last ``window_days``
  days (daylight steps only: clear-sky above 5 % of its daily peak). Without weather, P10/P50/
  P90 = clear-sky × the 10/50/90 % quantiles of k. With weather, P50 is the weather-driven output
  and P10/P90 scale it by the quantiles of k relative to their median: this assumes the weather
  forecast's error is as dispersed as the day-to-day clearness, an upper bound until an archive
  of past weather forecasts allows fitting the forecast error itself.
- Without history, the quantiles collapse onto the central estimate and the notes say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from forecasts.history import History
from forecasts.load import cutoff_for
from forecasts.pv import PvSystemParams, Weather, clearsky_pv_kw, weather_pv_kw
from models.spec import ParkSpec
from models.timegrid import TimeGrid


@dataclass
class PvForecast:
    """PV forecast of one day for the park (all arrays) [kW per step]."""

    timestamps: pd.DatetimeIndex
    p10_kw: np.ndarray
    p50_kw: np.ndarray
    p90_kw: np.ndarray
    method: str  # "clear-sky" or "weather"
    notes: list[str] = field(default_factory=list)
    per_array_p50_kw: dict[str, np.ndarray] = field(default_factory=dict)


def _arrays(spec: ParkSpec) -> list[tuple[str, float, float, float]]:
    return [
        (a.id, a.capacity_kwp, a.tilt_deg, a.azimuth_deg) for a in spec.assets if a.type == "pv"
    ]


def _params(spec: ParkSpec) -> dict[str, PvSystemParams]:
    return {a.id: a.system_params() for a in spec.assets if a.type == "pv"}


def park_clearsky_kw(
    spec: ParkSpec, grid: TimeGrid, weather: Weather | None = None
) -> dict[str, np.ndarray]:
    """Output of each PV array of the park on ``grid`` [kW]: clear sky, or from ``weather``."""
    params = _params(spec)
    out = {}
    for aid, kwp, tilt, az in _arrays(spec):
        site = {
            "latitude_deg": spec.location.latitude,
            "longitude_deg": spec.location.longitude,
            "capacity_kwp": kwp,
            "tilt_deg": tilt,
            "azimuth_deg": az,
            "params": params[aid],
        }
        out[aid] = (
            clearsky_pv_kw(grid, **site)  # type: ignore[arg-type]
            if weather is None
            else weather_pv_kw(grid, weather, **site)  # type: ignore[arg-type]
        )
    return out


def _clear_total(spec: ParkSpec, first: dt.date, days: int) -> np.ndarray:
    tz = ZoneInfo(spec.timezone)
    parts = []
    for offset in range(0, days, 7):  # a TimeGrid spans a week at most
        n = min(7, days - offset)
        d = first + dt.timedelta(days=offset)
        grid = TimeGrid(dt.datetime(d.year, d.month, d.day, tzinfo=tz), 96 * n, 15)
        parts.append(sum(park_clearsky_kw(spec, grid).values(), np.zeros(grid.steps)))
    return np.concatenate(parts) if parts else np.zeros(0)


def clearness_quantiles(
    spec: ParkSpec, history: History, day: dt.date, window_days: int = 60
) -> tuple[np.ndarray, int] | None:
    """Quantiles (10/50/90 %) of metered ÷ clear-sky PV per hour of day, shape (24, 3), from
    the ``window_days`` before the cutoff of ``day``; None when there is too little data."""
    if "pv_kw" not in history.frame.columns or history.resolution_min != 15:
        return None
    cutoff = cutoff_for(day)
    last = (cutoff - pd.Timedelta(days=1)).date()  # the last complete day before the cutoff
    first = last - dt.timedelta(days=window_days - 1)
    first = max(first, history.frame.index[0].date())
    days = (last - first).days + 1
    if days < 7:
        return None
    idx = pd.date_range(pd.Timestamp(first, tz=spec.timezone), periods=96 * days, freq="15min")
    metered = history.frame["pv_kw"].reindex(idx).to_numpy(dtype=float)
    clear = _clear_total(spec, first, days)
    daily_peak = np.repeat(clear.reshape(days, 96).max(axis=1), 96)
    use = np.isfinite(metered) & (clear > 0.05 * np.maximum(daily_peak, 1e-9))
    if use.sum() < 7 * 24:
        return None
    k = np.clip(metered[use] / clear[use], 0.0, 1.5)
    hours = idx.hour.to_numpy()[use]
    out = np.empty((24, 3))
    overall = np.quantile(k, [0.1, 0.5, 0.9])
    for h in range(24):
        kh = k[hours == h]
        out[h] = np.quantile(kh, [0.1, 0.5, 0.9]) if kh.size >= 10 else overall
    return out, days


def forecast_pv(
    spec: ParkSpec,
    day: dt.date,
    *,
    history: History | None = None,
    weather: Weather | None = None,
    window_days: int = 60,
) -> PvForecast:
    """The park's PV forecast of ``day`` (96 × 15 min) with P10/P50/P90 (see the module)."""
    grid = TimeGrid.day(day, resolution_min=15, timezone=spec.timezone)
    timestamps = pd.DatetimeIndex(grid.index)
    notes: list[str] = []
    per_array = park_clearsky_kw(spec, grid, weather)
    method = "clear-sky" if weather is None else "weather"
    central = sum(per_array.values(), np.zeros(grid.steps))
    quants = clearness_quantiles(spec, history, day, window_days) if history else None
    if quants is None:
        notes.append("no PV history before the cutoff: P10 = P50 = P90 (no error model)")
        return PvForecast(
            timestamps, central.copy(), central, central.copy(), method, notes, per_array
        )
    q, used_days = quants
    hours = timestamps.hour.to_numpy()
    k10, k50, k90 = q[hours, 0], q[hours, 1], q[hours, 2]
    notes.append(f"clearness quantiles from {used_days} days of metered PV before the cutoff")
    ac_limit = sum(kwp / 1.1 for _, kwp, _, _ in _arrays(spec))
    if method == "clear-sky":
        p10, p50, p90 = central * k10, central * k50, central * k90
        scale = np.divide(p50, central, out=np.zeros_like(central), where=central > 0)
        per_array = {aid: v * scale for aid, v in per_array.items()}
    else:
        safe = np.maximum(k50, 1e-6)
        p50 = central
        p10 = central * np.minimum(k10 / safe, 1.0)
        p90 = central * np.maximum(k90 / safe, 1.0)
    p90 = np.minimum(p90, ac_limit)
    return PvForecast(timestamps, p10, p50, p90, method, notes, per_array)


def pv_backtest(spec: ParkSpec, history: History, days: list[dt.date]) -> dict[str, object]:
    """Clear-sky × clearness-quantile PV forecasts of ``days`` against metered ``pv_kw``: MAE of
    P50, mean pinball loss of P10/P50/P90 [kW] and how often the metered value fell within
    P10–P90 (ideally 80 %)."""
    from forecasts.backtest import pinball_kw

    maes, pins, inside, n = [], [], [], 0
    for d in days:
        actual = history.day(d, "pv_kw")
        if not np.isfinite(actual).all():
            continue
        f = forecast_pv(spec, d, history=history)
        maes.append(float(np.mean(np.abs(actual - f.p50_kw))))
        pins.append(
            float(
                np.mean(
                    [
                        pinball_kw(actual, f.p10_kw, 0.1),
                        pinball_kw(actual, f.p50_kw, 0.5),
                        pinball_kw(actual, f.p90_kw, 0.9),
                    ]
                )
            )
        )
        day_light = f.p90_kw > 0
        inside.append(
            float(
                np.mean(
                    (actual[day_light] >= f.p10_kw[day_light] - 1e-6)
                    & (actual[day_light] <= f.p90_kw[day_light] + 1e-6)
                )
            )
            if day_light.any()
            else 1.0
        )
        n += 1
    return {
        "method": "clear-sky × clearness quantiles (no weather forecast in the history)",
        "days": n,
        "mae_kw": float(np.mean(maes)) if maes else None,
        "pinball_kw": float(np.mean(pins)) if pins else None,
        "coverage_frac": float(np.mean(inside)) if inside else None,
    }


WEATHER_COLUMNS = ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2", "temp_air_c", "wind_m_per_s")


def read_weather(path: Path | str, day: dt.date, timezone: str = "Asia/Shanghai") -> Weather:
    """A weather forecast file for ``day``: ``timestamp`` plus ``ghi_w_per_m2`` and optionally
    ``dni_w_per_m2``, ``dhi_w_per_m2``, ``temp_air_c``, ``wind_m_per_s``, on or finer than
    15 minutes (finer values are averaged per step, coarser ones held).

    Raises
    ------
    ForecastError
        Missing file or GHI column, or the day not fully covered.
    """
    from forecasts.history import parse_timestamps
    from forecasts.load import ForecastError

    p = Path(path)
    if not p.exists():
        raise ForecastError("weather", f"{p}: does not exist")
    raw = pd.read_csv(p, dtype={"timestamp": str})
    if "timestamp" not in raw.columns or "ghi_w_per_m2" not in raw.columns:
        raise ForecastError("weather", f"{p}: needs columns timestamp and ghi_w_per_m2")
    idx = parse_timestamps(raw["timestamp"], str(p))
    frame = raw.drop(columns="timestamp").set_index(idx).sort_index()
    grid = pd.date_range(pd.Timestamp(day, tz=timezone), periods=96, freq="15min")
    cols = {}
    for c in WEATHER_COLUMNS:
        if c not in frame.columns:
            continue
        series = pd.to_numeric(frame[c], errors="coerce")
        per_step = series.resample("15min").mean().reindex(grid).ffill(limit=3)
        if per_step.isna().any():
            first = per_step.index[int(np.argmax(per_step.isna().to_numpy()))]
            raise ForecastError("weather", f"{p}: {c} does not cover {first.isoformat()}")
        cols[c] = per_step.to_numpy(dtype=float)
    return Weather(
        cols["ghi_w_per_m2"],
        cols.get("dni_w_per_m2"),
        cols.get("dhi_w_per_m2"),
        cols.get("temp_air_c"),
        cols.get("wind_m_per_s"),
    )

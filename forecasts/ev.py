"""EV session forecasts: the next day's expected sessions from the park's session history.

The history is a table of sessions (``arrival``, ``departure`` as ISO timestamps, naive =
Asia/Shanghai; ``energy_kwh``; optional ``max_power_kw``). For a target day D, only sessions
that arrived on days up to D−2 are used (D−1 is incomplete at the 10:30 cutoff). Days of the same
class as D (working, or not: weekends and holidays) in the last ``window_days`` give:

- the expected count: the mean number of sessions a day;
- the arrival, dwell and energy distributions (reported as quantiles);
- the forecast sessions: ``round(expected count)`` sessions taken at evenly spaced quantiles
  of the pooled sessions sorted by arrival time, so that arrival, dwell and energy stay joint
  (a late arrival keeps its short dwell) and the same history always gives the same day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasts.calendar import is_working_day
from forecasts.history import TZ, HistoryError, parse_timestamps
from forecasts.load import ForecastError


def _ts(values: pd.Series, column: str, source: str) -> pd.Series:
    try:
        parsed = parse_timestamps(values, source, column)
    except HistoryError as exc:
        raise ForecastError("ev-sessions", str(exc)) from exc
    return pd.Series(parsed, index=values.index)


def read_sessions(path: Path | str) -> pd.DataFrame:
    """Read a session history; arrival and departure tz-aware, sorted by arrival.

    Raises
    ------
    ForecastError
        Missing file or column, unparseable timestamps, departure not after arrival, negative
        energy (names the file, column and row).
    """
    p = Path(path)
    if not p.exists():
        raise ForecastError("ev-sessions", f"{p}: does not exist")
    frame = pd.read_csv(p, dtype={"arrival": str, "departure": str})
    missing = {"arrival", "departure", "energy_kwh"} - set(frame.columns)
    if missing:
        raise ForecastError("ev-sessions", f"{p}: missing columns {sorted(missing)}")
    frame["arrival"] = _ts(frame["arrival"], "arrival", str(p))
    frame["departure"] = _ts(frame["departure"], "departure", str(p))
    bad = frame.index[frame["departure"] <= frame["arrival"]]
    if len(bad):
        raise ForecastError(
            "ev-sessions", f"{p}: departure not after arrival in row {int(bad[0]) + 2}"
        )
    if (frame["energy_kwh"] < 0).any():
        row = int(frame.index[frame["energy_kwh"] < 0][0]) + 2
        raise ForecastError("ev-sessions", f"{p}: energy_kwh negative in row {row}")
    return frame.sort_values("arrival").reset_index(drop=True)


@dataclass
class EvForecast:
    """Expected EV sessions of one day."""

    day: dt.date
    expected_count: float
    sessions: list[dict[str, Any]]
    days_used: list[dt.date]
    arrival_h_quantiles: list[float] = field(default_factory=list)  # 10/50/90 %
    dwell_h_quantiles: list[float] = field(default_factory=list)
    energy_kwh_quantiles: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "expected_count": self.expected_count,
            "days_used": [d.isoformat() for d in self.days_used],
            "arrival_h_p10_p50_p90": self.arrival_h_quantiles,
            "dwell_h_p10_p50_p90": self.dwell_h_quantiles,
            "energy_kwh_p10_p50_p90": self.energy_kwh_quantiles,
            "sessions": self.sessions,
        }


def forecast_sessions(
    history: pd.DataFrame, day: dt.date, *, window_days: int = 28, default_power_kw: float = 7.0
) -> EvForecast:
    """Expected sessions of ``day`` (see the module).

    Raises
    ------
    ForecastError
        No day of the target's class with sessions in the window.
    """
    working = is_working_day(day)
    arrival_day = pd.Series(pd.DatetimeIndex(history["arrival"]).date, index=history.index)
    last = day - dt.timedelta(days=2)
    first = last - dt.timedelta(days=window_days - 1)
    candidates = [
        first + dt.timedelta(days=i)
        for i in range(window_days)
        if is_working_day(first + dt.timedelta(days=i)) == working
    ]
    in_window = arrival_day.isin(candidates)
    pool = history[in_window]
    if pool.empty or not candidates:
        kind = "working" if working else "non-working"
        raise ForecastError(
            "ev-sessions", f"no {kind} day with sessions between {first} and {last}"
        )
    counts = arrival_day[in_window].value_counts().reindex(candidates, fill_value=0)
    expected = float(counts.mean())
    n = round(expected)
    arrivals = pd.DatetimeIndex(pool["arrival"])
    arr_h = ((arrivals - arrivals.normalize()).total_seconds() / 3600).to_numpy()
    dwell_h = ((pool["departure"] - pool["arrival"]).dt.total_seconds() / 3600).to_numpy()
    energy = pool["energy_kwh"].to_numpy(dtype=float)
    power = (
        pool["max_power_kw"].to_numpy(dtype=float)
        if "max_power_kw" in pool.columns
        else np.full(len(pool), default_power_kw)
    )
    order = np.argsort(arr_h, kind="stable")
    picks = (
        order[np.minimum((np.arange(n) + 0.5) / max(n, 1) * len(order), len(order) - 1).astype(int)]
        if n
        else []
    )
    base = pd.Timestamp(day, tz=TZ)
    sessions = []
    for i in picks:
        # whole quarter-hours, so each forecast session covers the steps it will charge in
        a = base + pd.Timedelta(minutes=int(np.ceil(arr_h[i] * 4)) * 15)
        d = a + pd.Timedelta(minutes=max(int(np.floor(dwell_h[i] * 4)), 1) * 15)
        sessions.append(
            {
                "arrival": a.isoformat(),
                "departure": d.isoformat(),
                "energy_kwh": round(float(energy[i]), 1),
                "max_power_kw": float(power[i]),
            }
        )
    q = [0.1, 0.5, 0.9]
    return EvForecast(
        day,
        expected,
        sessions,
        candidates,
        [round(float(x), 2) for x in np.quantile(arr_h, q)],
        [round(float(x), 2) for x in np.quantile(dwell_h, q)],
        [round(float(x), 1) for x in np.quantile(energy, q)],
    )

"""Day-ahead park load forecasts with quantiles, from the park's own metered history.

Two methods, chosen per park by backtest (:mod:`forecasts.backtest`):

- ``similar-day``: the mean, step by step, of the most recent days of the same class as the
  target (working day, weekend, statutory holiday; make-up workdays count as working days).
- ``gradient-boosting``: scikit-learn's ``HistGradientBoostingRegressor`` on calendar features
  (step of day, day class, day of week, day of year), the temperature of the target step and
  loads of the same step 2 and 7 days before; quantiles from models trained with the quantile
  loss.

What a forecast may see: a day-ahead forecast for day D is made before the 10:30 deadline on
D−1 (Jiangsu spot market rules, jiangsu-facts.md), so it uses metered data strictly before
``cutoff`` = D−1 10:30. Lags are therefore at least 2 days. Temperature of day D is a weather
*forecast* input: the caller passes it (the synthetic history's own temperature stands in for a
perfect weather forecast in backtests, which the backtest report says).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from forecasts.calendar import DayType, day_type
from forecasts.history import TZ, History
from models.errors import ParkVppError

Method = Literal["similar-day", "gradient-boosting"]
MethodChoice = Literal["similar-day", "gradient-boosting", "auto"]
METHODS: tuple[Method, ...] = ("similar-day", "gradient-boosting")
QUANTILES = (0.1, 0.5, 0.9)
DEADLINE = dt.time(10, 30)  # day-ahead bids due 10:30 on D−1 (jiangsu-facts.md)


class ForecastError(ParkVppError):
    """A forecast that cannot be made from the data given (names the method and the reason)."""

    def __init__(self, method: str, reason: str) -> None:
        self.method = method
        super().__init__(f"forecast {method}: {reason}")


@dataclass
class LoadForecast:
    """Forecast of one day.

    Parameters
    ----------
    method : str
    timestamps : DatetimeIndex
        Step starts of the target day.
    p10_kw, p50_kw, p90_kw : ndarray
        Quantiles per step [kW] (p10 ≤ p50 ≤ p90).
    cutoff : Timestamp
        No data at or after this instant was used.
    """

    method: str
    timestamps: pd.DatetimeIndex
    p10_kw: np.ndarray
    p50_kw: np.ndarray
    p90_kw: np.ndarray
    cutoff: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"p10_kw": self.p10_kw, "p50_kw": self.p50_kw, "p90_kw": self.p90_kw},
            index=self.timestamps,
        )


def cutoff_for(day: dt.date) -> pd.Timestamp:
    """The day-ahead deadline for ``day``: 10:30 on the day before, Asia/Shanghai."""
    return pd.Timestamp(dt.datetime.combine(day - dt.timedelta(days=1), DEADLINE)).tz_localize(TZ)


def _class(day: dt.date) -> str:
    kind = day_type(day)
    if kind in (DayType.workday, DayType.makeup_workday):
        return "working"
    return kind.value


def _day_index(day: dt.date, steps: int, resolution_min: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(day, tz=TZ), periods=steps, freq=f"{resolution_min}min")


def _sorted_quantiles(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> tuple[np.ndarray, ...]:
    stacked = np.sort(np.vstack([p10, p50, p90]), axis=0)
    return stacked[0], stacked[1], stacked[2]


def similar_day(
    history: History, day: dt.date, *, days: int = 5, lookback_days: int = 120
) -> LoadForecast:
    """Mean of the ``days`` most recent complete days of the target's class, per step; P10/P90
    from the spread of those days around their mean, widened by the same method's errors on
    the recent past (see :func:`_residual_spread`).

    Raises
    ------
    ForecastError
        No complete day of the class in the lookback before the cutoff.
    """
    cutoff = cutoff_for(day)
    seen = history.before(cutoff)
    target = _class(day)
    picked = _pick_days(seen, day, target, days, lookback_days)
    notes = []
    if not picked and target == "holiday":
        # few holidays a year: fall back to weekends, said so
        picked = _pick_days(seen, day, "weekend", days, lookback_days)
        notes.append("no earlier holiday in the lookback: weekend days used")
    if not picked:
        raise ForecastError(
            "similar-day",
            f"no complete {target} day in the {lookback_days} days before {cutoff.isoformat()}",
        )
    arr = np.vstack([seen.day(d) for d in picked])
    p50 = arr.mean(axis=0)
    spread = _residual_spread(seen, day, target, days, lookback_days)
    # P50 stays the similar-day mean (the rule); a biased recent past widens one side only
    p10 = p50 + min(spread[0], 0.0)
    p90 = p50 + max(spread[1], 0.0)
    notes.append("days used: " + ", ".join(d.isoformat() for d in picked))
    steps = history.steps_per_day
    return LoadForecast(
        "similar-day", _day_index(day, steps, history.resolution_min), p10, p50, p90, cutoff, notes
    )


def _pick_days(
    seen: History, day: dt.date, target: str, days: int, lookback_days: int
) -> list[dt.date]:
    picked: list[dt.date] = []
    for back in range(2, lookback_days + 2):  # D−1 is not complete at the cutoff
        d = day - dt.timedelta(days=back)
        if _class(d) != target or not seen.is_complete(d):
            continue
        picked.append(d)
        if len(picked) == days:
            break
    return picked


def _residual_spread(
    seen: History, day: dt.date, target: str, days: int, lookback_days: int, samples: int = 8
) -> tuple[float, float]:
    """10 % and 90 % quantiles of the similar-day errors on the last ``samples`` days of the
    class, each forecast from the days before it (no look-ahead) [kW]."""
    errors: list[np.ndarray] = []
    for back in range(2, lookback_days + 2):
        d = day - dt.timedelta(days=back)
        if _class(d) != target or not seen.is_complete(d):
            continue
        ref = _pick_days(seen.before(cutoff_for(d)), d, target, days, lookback_days)
        if len(ref) < days:
            break
        errors.append(seen.day(d) - np.mean([seen.day(r) for r in ref], axis=0))
        if len(errors) == samples:
            break
    if not errors:
        return 0.0, 0.0
    flat = np.concatenate(errors)
    return float(np.quantile(flat, 0.1)), float(np.quantile(flat, 0.9))


def _features(frame: pd.DataFrame, resolution_min: int) -> pd.DataFrame:
    """Features of each step of ``frame`` (which must hold the lagged loads)."""
    idx = pd.DatetimeIndex(frame.index)
    steps_per_day = 24 * 60 // resolution_min
    classes = {d: _class(d) for d in sorted(set(idx.date))}
    cls = np.array([classes[d] for d in idx.date])
    lag2 = frame["load_kw"].shift(2 * steps_per_day)
    lag7 = frame["load_kw"].shift(7 * steps_per_day)
    out = pd.DataFrame(
        {
            "step": (idx.hour * 60 + idx.minute) // resolution_min,
            "working": (cls == "working").astype(int),
            "holiday": (cls == "holiday").astype(int),
            "weekday": idx.day_of_week,
            "doy": idx.day_of_year,
            "temperature_c": frame.get("temperature_c", np.nan),
            "lag2_kw": lag2.to_numpy(),
            "lag7_kw": lag7.to_numpy(),
        },
        index=idx,
    )
    return out


def gradient_boosting(
    history: History,
    day: dt.date,
    *,
    temperature_c: np.ndarray | None = None,
    train_days: int = 120,
    seed: int = 0,
) -> LoadForecast:
    """Quantile gradient boosting on calendar, temperature and lagged-load features.

    Parameters
    ----------
    history : History
        Metered history; only data before the cutoff trains the models.
    day : date
        Target day.
    temperature_c : ndarray, optional
        Forecast temperature per step of the target day [°C]; without it, and without a
        temperature column in the history, temperature is left out of the features.
    train_days : int
        Days of history before the cutoff used for training.

    Raises
    ------
    ForecastError
        Too little history (fewer than 21 complete days before the cutoff).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    cutoff = cutoff_for(day)
    seen = history.before(cutoff)
    steps = history.steps_per_day
    target_idx = _day_index(day, steps, history.resolution_min)
    start = cutoff - pd.Timedelta(days=train_days)
    train = seen.frame[seen.frame.index >= start]
    use_temp = "temperature_c" in train.columns and temperature_c is not None
    # One frame: training rows, then the target day with its load unknown (NaN) so that the
    # lags of the target day come from the seen data only.
    target = pd.DataFrame(index=target_idx, columns=train.columns, dtype=float)
    if use_temp and temperature_c is not None:
        target["temperature_c"] = np.asarray(temperature_c, dtype=float)
    full = pd.concat([train, target])
    full = full[~full.index.duplicated(keep="first")]
    full = full.reindex(
        pd.date_range(full.index[0], full.index[-1], freq=f"{history.resolution_min}min")
    )
    feats = _features(full, history.resolution_min)
    if not use_temp:
        feats = feats.drop(columns="temperature_c")
    y = full["load_kw"]
    is_train = (full.index < cutoff) & y.notna().to_numpy() & feats["lag7_kw"].notna().to_numpy()
    if int(is_train.sum()) < 21 * steps:
        raise ForecastError(
            "gradient-boosting",
            f"{int(is_train.sum())} usable training steps before {cutoff.isoformat()}: need 21 days",
        )
    x_train, y_train = feats[is_train], y[is_train]
    x_target = feats.loc[target_idx]
    preds = []
    for q in QUANTILES:
        model = HistGradientBoostingRegressor(
            loss="quantile",
            quantile=q,
            max_iter=100,
            learning_rate=0.08,
            max_leaf_nodes=31,
            categorical_features=None,
            random_state=seed,
        )
        model.fit(x_train, y_train)
        preds.append(model.predict(x_target))
    p10, p50, p90 = _sorted_quantiles(*preds)
    notes = [f"trained on {int(is_train.sum())} steps from {x_train.index[0].date()}"]
    if not use_temp:
        notes.append("no temperature forecast given: temperature not used")
    return LoadForecast("gradient-boosting", target_idx, p10, p50, p90, cutoff, notes)


def forecast_load(
    history: History,
    day: dt.date,
    method: MethodChoice | str = "similar-day",
    *,
    temperature_c: np.ndarray | None = None,
) -> LoadForecast:
    """Day-ahead load forecast of ``day`` by ``method`` (see the module); ``auto`` picks the
    method with the lower MAPE on a 7-day backtest ending before the cutoff."""
    if method == "auto":
        from forecasts.backtest import choose_method

        chosen, scores = choose_method(history, day)
        fc = forecast_load(history, day, chosen, temperature_c=temperature_c)
        mapes = ", ".join(f"{m} {s.mean('mape_frac'):.2%}" for m, s in scores.items())
        fc.notes.insert(0, f"chosen by a 7-day backtest before the cutoff (MAPE: {mapes})")
        return fc
    if method == "similar-day":
        return similar_day(history, day)
    if method == "gradient-boosting":
        return gradient_boosting(history, day, temperature_c=temperature_c)
    raise ForecastError(str(method), f"unknown method; known: {', '.join(METHODS)}, auto")

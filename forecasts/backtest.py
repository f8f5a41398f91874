"""Backtests of the load forecasts on held-out days: MAE, MAPE and pinball loss per method.

Each held-out day D is forecast exactly as in operation: from the history before D−1 10:30
(:func:`forecasts.load.cutoff_for`), never with data from D or later. Temperature is the one
input taken from the target day (a weather forecast in operation; the history's own
temperature here, i.e. a perfect weather forecast, which the report states).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from forecasts.history import History
from forecasts.load import METHODS, QUANTILES, ForecastError, LoadForecast, Method, forecast_load


def pinball_kw(actual: np.ndarray, forecast: np.ndarray, q: float) -> float:
    """Mean pinball (quantile) loss [kW]."""
    diff = np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


@dataclass
class DayScore:
    day: dt.date
    mae_kw: float
    mape_frac: float
    pinball_kw: float  # mean over the P10, P50 and P90 losses
    forecast: LoadForecast
    actual_kw: np.ndarray


@dataclass
class MethodScore:
    method: str
    days: list[DayScore] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def mean(self, attr: str) -> float:
        vals = [getattr(d, attr) for d in self.days]
        return float(np.mean(vals)) if vals else float("nan")

    def as_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "days": len(self.days),
            "mae_kw": self.mean("mae_kw"),
            "mape_frac": self.mean("mape_frac"),
            "pinball_kw": self.mean("pinball_kw"),
            "errors": self.errors,
        }


def score_day(fc: LoadForecast, actual: np.ndarray, day: dt.date) -> DayScore:
    err = actual - fc.p50_kw
    nonzero = np.abs(actual) > 1e-6
    mape = (
        float(np.mean(np.abs(err[nonzero]) / np.abs(actual[nonzero]))) if nonzero.any() else np.nan
    )
    quants = {0.1: fc.p10_kw, 0.5: fc.p50_kw, 0.9: fc.p90_kw}
    pin = float(np.mean([pinball_kw(actual, quants[q], q) for q in QUANTILES]))
    return DayScore(day, float(np.mean(np.abs(err))), mape, pin, fc, actual)


def held_out_days(history: History, n: int) -> list[dt.date]:
    """The last ``n`` complete days of the history (the held-out set)."""
    out = [d for d in reversed(history.dates()) if history.is_complete(d)]
    return sorted(out[:n])


def backtest(
    history: History, days: list[dt.date], methods: tuple[Method, ...] = METHODS
) -> dict[str, MethodScore]:
    """Forecast every day in ``days`` with every method and score it against the metered load."""
    scores: dict[str, MethodScore] = {m: MethodScore(m) for m in methods}
    has_temp = "temperature_c" in history.frame.columns
    for day in days:
        actual = history.day(day)
        temp = history.day(day, "temperature_c") if has_temp else None
        for m in methods:
            try:
                fc = forecast_load(history, day, m, temperature_c=temp)
            except ForecastError as exc:
                scores[m].errors.append(f"{day}: {exc}")
                continue
            scores[m].days.append(score_day(fc, actual, day))
    return scores


def best_method(scores: dict[str, MethodScore]) -> str:
    """The method with the lowest mean MAPE over the days both methods scored."""
    ranked = sorted((s for s in scores.values() if s.days), key=lambda s: s.mean("mape_frac"))
    if not ranked:
        raise ForecastError("backtest", "no method produced a forecast")
    return ranked[0].method


def plot(scores: dict[str, MethodScore], path: Path, last_days: int = 7) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(scores), 1, figsize=(10, 3.0 * len(scores)), sharex=True, squeeze=False
    )
    for ax, (name, s) in zip(axes[:, 0], scores.items(), strict=True):
        shown = s.days[-last_days:]
        for i, d in enumerate(shown):
            ts = d.forecast.timestamps
            ax.plot(
                ts, d.actual_kw, color="black", linewidth=0.9, label="metered" if i == 0 else None
            )
            ax.plot(ts, d.forecast.p50_kw, color="tab:blue", label="P50" if i == 0 else None)
            ax.fill_between(
                ts,
                d.forecast.p10_kw,
                d.forecast.p90_kw,
                color="tab:blue",
                alpha=0.2,
                label="P10–P90" if i == 0 else None,
            )
        ax.set_title(
            f"{name}: MAPE {s.mean('mape_frac'):.1%}, MAE {s.mean('mae_kw'):,.0f} kW, "
            f"pinball {s.mean('pinball_kw'):,.0f} kW over {len(s.days)} days"
        )
        ax.set_ylabel("kW")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def choose_method(
    history: History, day: dt.date, days: int = 7
) -> tuple[str, dict[str, MethodScore]]:
    """The method with the lowest MAPE on the ``days`` most recent complete days whose load is
    known at the cutoff of ``day`` (so the choice itself sees no future data)."""
    from forecasts.load import cutoff_for

    seen = history.before(cutoff_for(day))
    last = day - dt.timedelta(days=2)
    held = [d for d in reversed(seen.dates()) if d <= last and seen.is_complete(d)][:days]
    if not held:
        raise ForecastError("auto", f"no complete day before {last} to choose a method on")
    scores = backtest(seen, sorted(held))
    return best_method(scores), scores

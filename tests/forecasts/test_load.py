"""Load forecasts: similar-day by hand, no look-ahead, quantile order, backtest metrics
recomputed from raw errors, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from forecasts.backtest import backtest, pinball_kw, score_day
from forecasts.calendar import is_working_day
from forecasts.history import History, history_from_frame
from forecasts.load import cutoff_for, forecast_load, gradient_boosting, similar_day
from vpp.cli import app

D = dt.date


START = D(2026, 3, 2)


def synthetic(days: int = 63, seed: int = 0) -> pd.DataFrame:
    """From 2 March 2026: working days at 1,000 kW + 10 kW per day index, other days 300 kW,
    a daily shape and a little noise; temperature with a daily cycle."""
    idx = pd.date_range(pd.Timestamp(START, tz="Asia/Shanghai"), periods=96 * days, freq="15min")
    rng = np.random.default_rng(seed)
    day_no = (idx.normalize() - idx[0].normalize()).days.to_numpy()
    working = np.array([is_working_day(t.date()) for t in idx])
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60
    shape = 200 * np.sin(np.pi * np.clip(hour - 6, 0, 12) / 12)
    load = np.where(working, 1000 + 10 * day_no + shape, 300.0) + rng.normal(0, 5, len(idx))
    temp = 20 + 5 * np.cos(2 * np.pi * (hour - 14) / 24)
    return pd.DataFrame(
        {"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_kw": load, "temperature_c": temp}
    )


@pytest.fixture(scope="module")
def hist() -> History:
    return history_from_frame(synthetic(), source="synthetic")


def test_cutoff_is_the_day_ahead_deadline() -> None:
    assert cutoff_for(D(2026, 4, 15)) == pd.Timestamp("2026-04-14T10:30:00+08:00")


def test_similar_day_by_hand(hist: History) -> None:
    day = D(2026, 4, 15)  # Wednesday; 14 April (D−1) is not complete at the cutoff
    fc = similar_day(hist, day)
    used = [D(2026, 4, 13), D(2026, 4, 10), D(2026, 4, 9), D(2026, 4, 8), D(2026, 4, 7)]
    expected = np.mean([hist.day(d) for d in used], axis=0)
    np.testing.assert_allclose(fc.p50_kw, expected)
    assert fc.notes[-1] == "days used: " + ", ".join(d.isoformat() for d in used)
    assert (fc.p10_kw <= fc.p50_kw).all() and (fc.p50_kw <= fc.p90_kw).all()
    weekend = similar_day(hist, D(2026, 4, 18))  # Saturday: weekends only
    assert abs(float(np.median(weekend.p50_kw)) - 300.0) < 10


def test_no_future_data_leaks_into_a_forecast(hist: History) -> None:
    day = D(2026, 4, 22)
    cutoff = cutoff_for(day)
    poisoned = hist.frame.copy()
    poisoned.loc[poisoned.index >= cutoff, "load_kw"] = 1e9
    bad = History(poisoned, hist.resolution_min, source="poisoned")
    temp = hist.day(day, "temperature_c")
    for name in ("similar-day", "gradient-boosting"):
        a = forecast_load(hist, day, name, temperature_c=temp)  # type: ignore[arg-type]
        b = forecast_load(bad, day, name, temperature_c=temp)  # type: ignore[arg-type]
        np.testing.assert_array_equal(a.p50_kw, b.p50_kw)
        np.testing.assert_array_equal(a.p90_kw, b.p90_kw)
        assert a.cutoff == cutoff


def test_gradient_boosting_learns_the_pattern(hist: History) -> None:
    day = D(2026, 4, 29)
    fc = gradient_boosting(hist, day, temperature_c=hist.day(day, "temperature_c"))
    actual = hist.day(day)
    assert float(np.mean(np.abs(actual - fc.p50_kw) / actual)) < 0.05
    assert (fc.p10_kw <= fc.p50_kw).all() and (fc.p50_kw <= fc.p90_kw).all()


def test_backtest_metrics_from_raw_errors(hist: History) -> None:
    days = [D(2026, 4, 27), D(2026, 4, 28)]
    scores = backtest(hist, days)
    for s in scores.values():
        assert [d.day for d in s.days] == days
        for d in s.days:
            err = d.actual_kw - d.forecast.p50_kw
            assert d.mae_kw == pytest.approx(np.abs(err).mean())
            assert d.mape_frac == pytest.approx((np.abs(err) / d.actual_kw).mean())
            q = {0.1: d.forecast.p10_kw, 0.5: d.forecast.p50_kw, 0.9: d.forecast.p90_kw}
            by_hand = np.mean(
                [
                    np.mean(np.maximum(k * (d.actual_kw - f), (k - 1) * (d.actual_kw - f)))
                    for k, f in q.items()
                ]
            )
            assert d.pinball_kw == pytest.approx(by_hand)
        assert s.mean("mae_kw") == pytest.approx(np.mean([d.mae_kw for d in s.days]))
    # the pinball loss of a perfect forecast is 0; of a constant offset, known
    a = np.array([10.0, 10.0])
    assert pinball_kw(a, a, 0.9) == 0.0
    assert pinball_kw(a, a - 1.0, 0.9) == pytest.approx(0.9)
    assert pinball_kw(a, a + 1.0, 0.9) == pytest.approx(0.1)
    assert score_day(scores["similar-day"].days[0].forecast, a.repeat(48), days[0]).mae_kw > 0


def test_cli_forecast_and_backtest(tmp_path: Path) -> None:
    synthetic().to_csv(tmp_path / "history.csv", index=False)
    park = {
        "id": "t",
        "name": "test park",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": "2026-04-29T00:00:00+08:00", "steps": 96, "resolution_min": 15},
        "grid": {"import_limit_kw": 5000.0, "tariff": "jiangsu-2025-two-part-1-10kv"},
        "load": "history.csv#load_kw",
        "assets": [{"id": "pv", "type": "pv", "capacity_kwp": 500.0}],
    }
    (tmp_path / "park.yaml").write_text(yaml.safe_dump(park))
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "forecast",
            str(tmp_path / "park.yaml"),
            "--date",
            "2026-04-29",
            "--json",
            "--method",
            "similar-day",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert len(doc["load_p50_kw"]) == 96 and max(doc["pv_p50_kw"]) > 100
    # no PV history: the quantiles collapse onto the clear-sky estimate, said in the notes
    assert doc["pv_p10_kw"] == doc["pv_p90_kw"] and "no PV history" in doc["pv_notes"][0]
    assert doc["cutoff"] == "2026-04-28T10:30:00+08:00"
    bt = runner.invoke(
        app,
        [
            "forecast",
            "backtest",
            str(tmp_path / "park.yaml"),
            "--history",
            str(tmp_path / "history.csv"),
            "--days",
            "2",
            "--json",
            "--out",
            str(tmp_path / "bt"),
        ],
    )
    assert bt.exit_code == 0, bt.output
    out = json.loads(bt.stdout)
    assert set(out["methods"]) == {"similar-day", "gradient-boosting"}
    assert out["chosen"] in out["methods"]
    assert (tmp_path / "bt" / "t-backtest.png").stat().st_size > 1000
    bad = runner.invoke(
        app,
        [
            "forecast",
            str(tmp_path / "park.yaml"),
            "--date",
            "2026-04-29",
            "--history",
            str(tmp_path / "nope.csv"),
        ],
    )
    assert bad.exit_code == 2 and "does not exist" in bad.output


def test_auto_chooses_by_a_backtest_before_the_cutoff(hist: History) -> None:
    from forecasts.backtest import choose_method

    day = D(2026, 4, 29)
    chosen, scores = choose_method(hist, day, days=3)
    held = [d.day for d in scores["similar-day"].days]
    assert held == [D(2026, 4, 25), D(2026, 4, 26), D(2026, 4, 27)]  # the last days ≤ D−2
    assert chosen == min(scores, key=lambda m: scores[m].mean("mape_frac"))
    fc = forecast_load(hist, day, "auto", temperature_c=hist.day(day, "temperature_c"))
    assert fc.notes[0].startswith("chosen by a 7-day backtest")
    assert fc.method in ("similar-day", "gradient-boosting")

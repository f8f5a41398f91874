"""DR baselines computed by hand on a small synthetic history around the 2026 Spring Festival
(holiday 15–23 February, make-up workdays Saturday 14 and Saturday 28 February)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecasts.baselines import RULES, BaselineError, compute_baseline, rule
from forecasts.calendar import CalendarError, DayType, day_type, is_working_day
from forecasts.history import History, history_from_frame
from vpp.cli import app

D = dt.date
FIRST = D(2026, 2, 1)
EVENT_DAY = D(2026, 3, 3)  # Tuesday; invitation day Monday 2 March
START, END = "2026-03-03T14:00:00+08:00", "2026-03-03T16:00:00+08:00"
EVENT_STEPS = np.arange(56, 64)  # 14:00 … 15:45


def level(day: D) -> float:
    """A distinct load level per working day; holidays and weekends are far lower, so using
    one by mistake shows in the result."""
    if not is_working_day(day):
        return 200.0
    return 1000.0 + 10.0 * (day - FIRST).days


def synthetic(event_day_level: float = 900.0) -> pd.DataFrame:
    idx = pd.date_range("2026-02-01", "2026-03-03 23:45", freq="15min", tz="Asia/Shanghai")
    step = (idx.hour * 4 + idx.minute // 15).to_numpy()
    lv = np.array([level(t.date()) for t in idx])
    lv[idx.date == EVENT_DAY] = event_day_level
    return pd.DataFrame(
        {"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_kw": lv + 2.0 * step}
    )


@pytest.fixture
def hist() -> History:
    return history_from_frame(synthetic(), source="synthetic")


def expected(days: list[D]) -> np.ndarray:
    return np.mean([level(d) for d in days]) + 2.0 * EVENT_STEPS


def test_calendar_around_spring_festival_2026() -> None:
    assert day_type(D(2026, 2, 14)) is DayType.makeup_workday
    assert day_type(D(2026, 2, 15)) is DayType.holiday
    assert day_type(D(2026, 2, 21)) is DayType.holiday  # a Saturday inside the holiday
    assert day_type(D(2026, 2, 24)) is DayType.workday
    assert day_type(D(2026, 2, 28)) is DayType.makeup_workday
    assert day_type(D(2026, 3, 1)) is DayType.weekend
    with pytest.raises(CalendarError, match="2027-01-04"):
        day_type(D(2027, 1, 4))


def test_jiangsu_agreed_uses_the_five_recent_normal_workdays(hist: History) -> None:
    b = compute_baseline(hist, RULES["jiangsu-agreed"], START, END)
    # before Monday 2 March: Sun 1 Mar is a weekend; Sat 28 Feb a make-up workday (used)
    assert b.days_used == [
        D(2026, 2, 28),
        D(2026, 2, 27),
        D(2026, 2, 26),
        D(2026, 2, 25),
        D(2026, 2, 24),
    ]
    np.testing.assert_allclose(b.baseline_kw, expected(b.days_used))
    assert b.invitation_day == D(2026, 3, 2)
    assert [s.reason for s in b.skipped] == ["weekend"]


def test_earlier_event_and_abnormal_days_reach_back_over_the_holiday(hist: History) -> None:
    b = compute_baseline(
        hist,
        RULES["jiangsu-agreed"],
        START,
        END,
        event_days=[D(2026, 2, 26)],
        abnormal_days=[D(2026, 2, 27)],
    )
    # 26 and 27 Feb excluded; 23–15 Feb are the holiday; Sat 14 Feb was a make-up workday
    assert b.days_used == [
        D(2026, 2, 28),
        D(2026, 2, 25),
        D(2026, 2, 24),
        D(2026, 2, 14),
        D(2026, 2, 13),
    ]
    np.testing.assert_allclose(b.baseline_kw, expected(b.days_used))
    reasons = {s.day: s.reason for s in b.skipped}
    assert reasons[D(2026, 2, 26)] == "earlier event day"
    assert reasons[D(2026, 2, 27)] == "flagged abnormal"
    assert reasons[D(2026, 2, 16)] == "holiday"


def test_delivered_reduction(hist: History) -> None:
    b = compute_baseline(hist, RULES["jiangsu-agreed"], START, END)
    metered = 900.0 + 2.0 * EVENT_STEPS
    base_level = np.mean([level(d) for d in b.days_used])
    # (baseline energy − metered energy) ÷ duration
    assert b.delivered_kw(metered) == pytest.approx(base_level - 900.0)


def test_real_time_is_the_quarter_hour_before_control(hist: History) -> None:
    b = compute_baseline(hist, RULES["jiangsu-real-time"], START, END)
    np.testing.assert_allclose(b.baseline_kw, np.full(8, 900.0 + 2.0 * 55))  # 13:45 step
    assert b.days_used == []


def test_n_of_m_highest_and_trimmed_mean(hist: History) -> None:
    nm = compute_baseline(hist, rule("n-of-m-highest", days=2, candidates=4), START, END)
    # the 4 most recent: 28, 27, 26, 25 Feb; the two highest in the window: 28 and 27
    assert nm.days_used == [D(2026, 2, 28), D(2026, 2, 27)]
    np.testing.assert_allclose(nm.baseline_kw, expected(nm.days_used))
    tm = compute_baseline(hist, RULES["trimmed-mean"], START, END)
    # 28, 27, 26, 25, 24 Feb; drop the highest (28) and the lowest (24)
    assert tm.days_used == [D(2026, 2, 27), D(2026, 2, 26), D(2026, 2, 25)]
    np.testing.assert_allclose(tm.baseline_kw, expected(tm.days_used))


def test_same_day_adjustment_additive_and_capped(hist: History) -> None:
    plain = compute_baseline(hist, RULES["jiangsu-agreed"], START, END)
    adj = compute_baseline(hist, rule("jiangsu-agreed", adjustment="additive"), START, END)
    # 11:00–13:00 on the event day is at level 900, the baseline days' mean level is higher:
    # the difference is added, within ±20 % of the baseline
    delta = 900.0 - np.mean([level(d) for d in plain.days_used])
    assert adj.adjustment_kw is not None
    np.testing.assert_allclose(adj.adjustment_kw, np.maximum(delta, -0.2 * plain.baseline_kw))
    np.testing.assert_allclose(adj.baseline_kw, plain.baseline_kw + adj.adjustment_kw)
    mult = compute_baseline(
        hist,
        rule("jiangsu-agreed", adjustment="multiplicative", adjustment_cap_frac=0.01),
        START,
        END,
    )
    assert mult.adjustment_kw is not None
    np.testing.assert_allclose(mult.baseline_kw, plain.baseline_kw * 0.99)  # capped at −1 %


def test_a_gap_in_the_window_skips_the_day_never_zero_fills() -> None:
    frame = synthetic()
    ts = pd.to_datetime(frame["timestamp"], format="ISO8601")
    frame.loc[ts == pd.Timestamp("2026-02-27T14:30:00+08:00"), "load_kw"] = np.nan
    h = history_from_frame(frame, source="gappy")
    assert len(h.gaps) == 1 and h.gaps[0].steps == 1
    b = compute_baseline(h, RULES["jiangsu-agreed"], START, END)
    assert D(2026, 2, 27) not in b.days_used
    assert D(2026, 2, 23) not in b.days_used  # the holiday is not the replacement
    assert b.days_used[-1] == D(2026, 2, 14)
    assert any("missing" in s.reason for s in b.skipped if s.day == D(2026, 2, 27))


def test_too_few_days_names_what_was_skipped(hist: History) -> None:
    with pytest.raises(BaselineError, match=r"found 3 of the 5.*earlier event day.*holiday"):
        compute_baseline(
            hist,
            rule("jiangsu-agreed", lookback_days=12),
            START,
            END,
            event_days=[D(2026, 2, 24), D(2026, 2, 25)],
        )
    with pytest.raises(BaselineError, match="not on the 15-minute grid"):
        compute_baseline(hist, RULES["jiangsu-agreed"], "2026-03-03T14:05", END)
    with pytest.raises(BaselineError, match="unknown rule"):
        rule("guangdong-secret")
    with pytest.raises(BaselineError, match="trim"):
        rule("trimmed-mean", trim=3)


def test_cli_baseline_json(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    synthetic().to_csv(path, index=False)
    runner = CliRunner()
    args = [
        "baseline",
        str(path),
        "--event-start",
        "2026-03-03T14:00",
        "--event-end",
        "2026-03-03T16:00",
    ]
    res = runner.invoke(app, [*args, "--rule", "jiangsu-agreed", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["days_used"] == [
        "2026-02-28",
        "2026-02-27",
        "2026-02-26",
        "2026-02-25",
        "2026-02-24",
    ]
    np.testing.assert_allclose(
        out["baseline_kw"], expected([D.fromisoformat(d) for d in out["days_used"]])
    )
    assert len(out["baseline_kw"]) == 8
    assert out["delivered_kw"] == pytest.approx(
        np.mean([level(D.fromisoformat(d)) for d in out["days_used"]]) - 900.0
    )
    rt = json.loads(runner.invoke(app, [*args, "--rule", "jiangsu-real-time", "--json"]).stdout)
    assert rt["baseline_kw"] == [1010.0] * 8
    bad = runner.invoke(app, [*args, "--rule", "nope"])
    assert bad.exit_code == 2 and "unknown rule" in bad.output
    missing = runner.invoke(
        app,
        [
            "baseline",
            str(tmp_path / "none.csv"),
            "--event-start",
            "2026-03-03T14:00",
            "--event-end",
            "2026-03-03T16:00",
        ],
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output

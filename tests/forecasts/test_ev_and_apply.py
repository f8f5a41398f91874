"""EV session forecasts and ``forecast: auto`` in a park file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from forecasts.calendar import is_working_day
from forecasts.ev import forecast_sessions, read_sessions
from forecasts.load import ForecastError
from models.errors import ParkInputError
from models.results import schedule_park
from models.spec import load_park, resolve_park
from scenarios.examples import EXAMPLES_DIR

D = dt.date


def _sessions(first: D, days: int) -> pd.DataFrame:
    """Working days: 10 cars arriving 08:00–08:45, staying 9 h, 20 kWh at 7 kW; other days:
    2 cars arriving 10:00 for 3 h with 8 kWh at 7 kW."""
    rows = []
    for i in range(days):
        d = first + dt.timedelta(days=i)
        if is_working_day(d):
            for k in range(10):
                a = pd.Timestamp(d) + pd.Timedelta(minutes=8 * 60 + 5 * k)
                rows.append((a, a + pd.Timedelta(hours=9), 20.0))
        else:
            for _ in range(2):
                a = pd.Timestamp(d) + pd.Timedelta(hours=10)
                rows.append((a, a + pd.Timedelta(hours=3), 8.0))
    return pd.DataFrame(
        {
            "arrival": [r[0].isoformat() for r in rows],
            "departure": [r[1].isoformat() for r in rows],
            "energy_kwh": [r[2] for r in rows],
            "max_power_kw": 7.0,
        }
    )


def test_ev_forecast_reproduces_the_pattern(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    _sessions(D(2026, 3, 2), 40).to_csv(path, index=False)
    hist = read_sessions(path)
    work = forecast_sessions(hist, D(2026, 4, 8))  # a Wednesday
    assert work.expected_count == pytest.approx(10.0)
    assert len(work.sessions) == 10
    assert all(s["energy_kwh"] == 20.0 for s in work.sessions)
    # arrivals 08:00–08:45 rounded up to the quarter-hour, 9 h stays
    first = pd.Timestamp(work.sessions[0]["arrival"])
    assert first == pd.Timestamp("2026-04-08T08:00:00+08:00")
    assert pd.Timestamp(work.sessions[0]["departure"]) - first == pd.Timedelta(hours=9)
    weekend = forecast_sessions(hist, D(2026, 4, 11))  # a Saturday
    assert weekend.expected_count == pytest.approx(2.0)
    assert [s["energy_kwh"] for s in weekend.sessions] == [8.0, 8.0]


def test_ev_forecast_does_not_look_ahead(tmp_path: Path) -> None:
    frame = _sessions(D(2026, 3, 2), 40)
    path = tmp_path / "a.csv"
    frame.to_csv(path, index=False)
    day = D(2026, 4, 8)
    base = forecast_sessions(read_sessions(path), day)
    # sessions arriving on D−1 or later (including the target day) change nothing
    late = frame[pd.to_datetime(frame["arrival"]).dt.date >= day - dt.timedelta(days=1)].copy()
    late["energy_kwh"] = 999.0
    poisoned = pd.concat([frame[~frame.index.isin(late.index)], late])
    poisoned.to_csv(tmp_path / "b.csv", index=False)
    assert forecast_sessions(read_sessions(tmp_path / "b.csv"), day).sessions == base.sessions


def test_ev_history_errors_name_the_row(tmp_path: Path) -> None:
    bad = pd.DataFrame(
        {"arrival": ["2026-04-01T10:00"], "departure": ["2026-04-01T09:00"], "energy_kwh": [5.0]}
    )
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ForecastError, match="departure not after arrival in row 2"):
        read_sessions(tmp_path / "bad.csv")
    with pytest.raises(ForecastError, match="no working day with sessions"):
        forecast_sessions(
            read_sessions(_write(tmp_path, _sessions(D(2026, 3, 2), 5))), D(2026, 6, 10)
        )


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    return path


def _auto_park(tmp_path: Path, forecast: object) -> Path:
    src = EXAMPLES_DIR / "wuxi-xishan-electronics.yaml"
    raw = yaml.safe_load(src.read_text())
    raw["load"] = str(EXAMPLES_DIR / raw["load"])
    for a in raw["assets"]:
        if isinstance(a.get("sessions"), str):
            a["sessions"] = str(EXAMPLES_DIR / a["sessions"])
    raw["forecast"] = forecast
    path = tmp_path / "auto.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_forecast_auto_schedules_from_forecasts(tmp_path: Path) -> None:
    day = D(2026, 7, 15)
    hist_path = EXAMPLES_DIR / "data" / "wuxi-xishan-electronics-history.csv.gz"
    ev_hist = EXAMPLES_DIR / "data" / "wuxi-xishan-electronics-ev-staff-history.csv.gz"
    path = _auto_park(
        tmp_path,
        {"load_method": "similar-day", "ev_session_history": {"ev-staff": str(ev_hist)}},
    )
    spec = load_park(path)
    park = resolve_park(spec, base_dir=path.parent, date=day)
    fixed = resolve_park(
        load_park(EXAMPLES_DIR / "wuxi-xishan-electronics.yaml"), base_dir=EXAMPLES_DIR, date=day
    )
    # the load is the similar-day forecast, not the metered day
    from forecasts.history import read_history
    from forecasts.load import similar_day

    expected = similar_day(read_history(hist_path), day).p50_kw
    np.testing.assert_allclose(park.load_kw, np.clip(expected, 0, None), atol=1e-3)
    assert not np.allclose(park.load_kw, fixed.load_kw)
    sched = schedule_park(park)
    assert sched.solve.status.value == "ok"
    auto = resolve_park(load_park(_auto_park(tmp_path, "auto")), base_dir=tmp_path, date=day)
    assert auto.load_kw.shape == (96,)


def test_forecast_auto_errors_are_input_problems(tmp_path: Path) -> None:
    path = _auto_park(tmp_path, {"ev_session_history": {"no-such-ev": "x.csv"}})
    with pytest.raises(ParkInputError, match="no EV charging asset has this id"):
        resolve_park(load_park(path), base_dir=path.parent, date=D(2026, 7, 15))
    spec = load_park(_auto_park(tmp_path, "auto"))
    with pytest.raises(ParkInputError, match="one-day horizon"):
        resolve_park(
            spec.model_copy(update={"horizon": spec.horizon.model_copy(update={"steps": 192})}),
            base_dir=tmp_path,
        )

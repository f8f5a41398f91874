from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.errors import InputProblem
from models.series import resolve_series
from models.timegrid import TimeGrid, TimeGridError


def test_day_grid() -> None:
    g = TimeGrid.day(dt.date(2026, 7, 15))
    assert g.steps == 96 and g.dt_h == 0.25
    assert str(g.index[0]) == "2026-07-15 00:00:00+08:00"
    assert g.parse_time("14:30") == g.start + dt.timedelta(hours=14.5)
    assert g.step_of(g.parse_time("14:40"), rounding="ceil") == 59


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": dt.datetime(2026, 7, 15), "steps": 4, "resolution_min": 15},
        {"start": dt.datetime(2026, 7, 15, tzinfo=dt.UTC), "steps": 4, "resolution_min": 20},
        {"start": dt.datetime(2026, 7, 15, tzinfo=dt.UTC), "steps": 9999, "resolution_min": 60},
    ],
)
def test_bad_grids(kwargs: dict[str, object]) -> None:
    with pytest.raises(TimeGridError):
        TimeGrid(**kwargs)  # type: ignore[arg-type]


def test_csv_with_finer_data_is_averaged_and_gaps_are_errors(tmp_path: Path) -> None:
    g = TimeGrid.day(dt.date(2026, 7, 15), resolution_min=60)
    stamps = pd.date_range("2026-07-15", periods=96, freq="15min", tz="Asia/Shanghai")
    values = np.arange(96, dtype=float)
    pd.DataFrame({"timestamp": [t.isoformat() for t in stamps], "load_kw": values}).to_csv(
        tmp_path / "l.csv", index=False
    )
    problems: list[InputProblem] = []
    arr = resolve_series("l.csv", g, tmp_path, field="load", asset_id=None, problems=problems)
    assert problems == []
    np.testing.assert_allclose(arr, values.reshape(24, 4).mean(axis=1))
    pd.DataFrame(
        {"timestamp": [t.isoformat() for t in stamps.delete(10)], "load_kw": np.delete(values, 10)}
    ).to_csv(tmp_path / "gap.csv", index=False)
    resolve_series("gap.csv", g, tmp_path, field="load", asset_id=None, problems=problems)
    assert len(problems) == 1 and "gaps are not filled silently" in problems[0].reason

"""The history store: timestamps, duplicates, gaps, formats and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasts.history import HistoryError, history_from_frame, read_history


def _frame(rows: list[tuple[str, object]]) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": [r[0] for r in rows], "load_kw": [r[1] for r in rows]})


def test_naive_and_offset_timestamps_are_shanghai_time() -> None:
    h = history_from_frame(
        _frame(
            [
                ("2026-03-02 00:00", 1.0),
                ("2026-03-01T16:15:00Z", 2.0),
                ("2026-03-02T00:30:00+08:00", 3.0),
            ]
        )
    )
    assert str(h.frame.index.tz) == "Asia/Shanghai"
    assert h.frame.index[1] == pd.Timestamp("2026-03-02T00:15:00+08:00")
    assert h.frame["load_kw"].tolist() == [1.0, 2.0, 3.0]


def test_gaps_are_reported_and_kept_missing() -> None:
    h = history_from_frame(
        _frame(
            [
                ("2026-03-02T00:00", 1.0),
                ("2026-03-02T00:15", ""),
                ("2026-03-02T01:00", 4.0),
                ("2026-03-02T01:15", 5.0),
            ]
        )
    )
    assert len(h.frame) == 6  # 00:00 … 01:15 on the grid
    assert np.isnan(h.frame["load_kw"].iloc[1:4]).all()  # never zero-filled
    assert [(g.start.strftime("%H:%M"), g.end.strftime("%H:%M"), g.steps) for g in h.gaps] == [
        ("00:15", "01:00", 3)
    ]
    assert h.summary()["missing_steps"] == {"load_kw": 3}
    assert not h.is_complete(pd.Timestamp("2026-03-02").date())


def test_identical_duplicates_are_dropped_conflicting_ones_refused() -> None:
    h = history_from_frame(
        _frame([("2026-03-02T00:00", 1.0), ("2026-03-02T00:00", 1.0), ("2026-03-02T00:15", 2.0)])
    )
    assert h.duplicates_dropped == 1 and len(h.frame) == 2
    with pytest.raises(
        HistoryError,
        match=r"timestamp: 1 timestamp\(s\) repeated with different values: 2026-03-02T00:00",
    ):
        history_from_frame(_frame([("2026-03-02T00:00", 1.0), ("2026-03-02T00:00", 1.5)]))


def test_bad_input_names_file_column_and_row() -> None:
    with pytest.raises(
        HistoryError, match=r"f.csv: timestamp: 1 timestamp\(s\) not on the 15-minute grid.*row 3"
    ):
        history_from_frame(
            _frame([("2026-03-02T00:00", 1.0), ("2026-03-02T00:07", 1.0)]), source="f.csv"
        )
    with pytest.raises(HistoryError, match=r"load_kw: non-numeric values: row 2: 'lots'"):
        history_from_frame(_frame([("2026-03-02T00:00", "lots")]))
    with pytest.raises(HistoryError, match="missing column"):
        history_from_frame(pd.DataFrame({"time": ["2026-03-02"], "load_kw": [1.0]}))
    with pytest.raises(HistoryError, match="none of load_kw"):
        history_from_frame(pd.DataFrame({"timestamp": ["2026-03-02"], "power": [1.0]}))
    with pytest.raises(HistoryError, match="not ISO 8601"):
        history_from_frame(_frame([("yesterday", 1.0)]))


def test_csv_and_parquet_read_the_same(tmp_path: Path) -> None:
    idx = pd.date_range("2026-03-02", periods=8, freq="15min", tz="Asia/Shanghai")
    df = pd.DataFrame(
        {"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_kw": np.arange(8.0), "pv_kw": 0.5}
    )
    df.to_csv(tmp_path / "h.csv", index=False)
    df.to_parquet(tmp_path / "h.parquet", index=False)
    a = read_history(tmp_path / "h.csv")
    b = read_history(tmp_path / "h.parquet")
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert list(a.frame.columns) == ["load_kw", "pv_kw"]
    with pytest.raises(HistoryError, match="does not exist"):
        read_history(tmp_path / "none.csv")
    (tmp_path / "h.xlsx").write_text("x")
    with pytest.raises(HistoryError, match="unknown format"):
        read_history(tmp_path / "h.xlsx")


def test_before_hides_the_future() -> None:
    h = history_from_frame(
        _frame([("2026-03-02T00:00", 1.0), ("2026-03-02T00:15", 2.0), ("2026-03-02T00:30", 3.0)])
    )
    cut = h.before(pd.Timestamp("2026-03-02T00:30:00+08:00"))
    assert cut.frame["load_kw"].tolist() == [1.0, 2.0]

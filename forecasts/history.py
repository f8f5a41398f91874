"""A park's metered history: regular 15-minute steps, gaps reported, never zero-filled.

Conventions (stated once, checked on read):

- a timestamp labels the **start** of its interval; each value is the interval's mean power [kW];
- naive timestamps are Asia/Shanghai local time (UTC+8, no daylight saving, so every local
  time exists exactly once); timestamps with an offset are converted to it;
- every timestamp lies on the resolution's grid (``00, 15, 30, 45`` for 15 minutes);
- a timestamp repeated with identical values is one reading (counted and dropped); repeated
  with different values it is an error, since no rule can say which one the meter meant;
- steps with no reading, or an empty value, are **gaps**: kept as NaN and listed, so that a
  baseline or a backtest can refuse or skip them, and nothing is zero-filled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import ParkVppError

TZ = "Asia/Shanghai"
KNOWN_COLUMNS = ("load_kw", "pv_kw", "temperature_c")


class HistoryError(ParkVppError):
    """A history file that cannot be read as metered data; names the file, column and rows."""

    def __init__(self, source: str, field_name: str, reason: str) -> None:
        self.source = source
        self.field = field_name
        self.reason = reason
        super().__init__(f"{source}: {field_name}: {reason}")


@dataclass(frozen=True)
class Gap:
    """A run of missing steps, ``[start, end)``."""

    start: pd.Timestamp
    end: pd.Timestamp
    steps: int
    columns: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "steps": self.steps,
            "columns": list(self.columns),
        }


@dataclass
class History:
    """Metered history on a regular grid.

    Parameters
    ----------
    frame : DataFrame
        Index: tz-aware interval starts (Asia/Shanghai), every step from the first to the last
        reading; columns among ``load_kw``, ``pv_kw`` [kW] and ``temperature_c`` [°C]; NaN
        where a reading is missing.
    resolution_min : int
        Step [min].
    gaps : list of Gap
        Missing runs, per column set.
    duplicates_dropped : int
        Identical repeated readings removed.
    source : str
        Where it came from (for messages).
    """

    frame: pd.DataFrame
    resolution_min: int
    gaps: list[Gap] = field(default_factory=list)
    duplicates_dropped: int = 0
    source: str = "<history>"

    @property
    def steps_per_day(self) -> int:
        return 24 * 60 // self.resolution_min

    def dates(self) -> list[dt.date]:
        """Calendar days with at least one step in the history."""
        return sorted({ts.date() for ts in self.frame.index})

    def day(self, date: dt.date, column: str = "load_kw") -> np.ndarray:
        """The day's values [kW], NaN where missing, one per step (length ``steps_per_day``)."""
        start = pd.Timestamp(date, tz=TZ)
        idx = pd.date_range(start, periods=self.steps_per_day, freq=f"{self.resolution_min}min")
        if column not in self.frame.columns:
            raise HistoryError(self.source, column, "no such column in the history")
        return self.frame[column].reindex(idx).to_numpy(dtype=float)

    def is_complete(self, date: dt.date, column: str = "load_kw") -> bool:
        return bool(np.isfinite(self.day(date, column)).all())

    def before(self, when: pd.Timestamp) -> History:
        """The history strictly before ``when``: what a forecast made at ``when`` may see."""
        cut = self.frame[self.frame.index < when]
        gaps = [g for g in self.gaps if g.start < when]
        return History(cut, self.resolution_min, gaps, self.duplicates_dropped, self.source)

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source,
            "first": self.frame.index[0].isoformat() if len(self.frame) else None,
            "last": self.frame.index[-1].isoformat() if len(self.frame) else None,
            "steps": len(self.frame),
            "resolution_min": self.resolution_min,
            "columns": list(self.frame.columns),
            "missing_steps": {c: int(self.frame[c].isna().sum()) for c in self.frame.columns},
            "gaps": [g.as_dict() for g in self.gaps],
            "duplicates_dropped": self.duplicates_dropped,
        }


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
            raise HistoryError(str(path), "file", f"reading Parquet needs pyarrow ({exc})") from exc
    if suffix in (".csv", ".txt", ".gz"):
        return pd.read_csv(path, dtype={"timestamp": str})
    raise HistoryError(str(path), "file", f"unknown format {suffix!r}: use .csv or .parquet")


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def parse_timestamps(raw: pd.Series, source: str, column: str = "timestamp") -> pd.DatetimeIndex:
    """ISO timestamps as Asia/Shanghai time (naive ones are local time), vectorised.

    Raises
    ------
    HistoryError
        Unparseable values (names up to three rows).
    """
    # Naive and offset-carrying timestamps may be mixed in one file: parse each group
    # vectorised (a year of 15-minute rows), naive as Shanghai local time.
    text = raw.astype(str).str.strip()
    aware = text.str.contains(_OFFSET, regex=True).to_numpy()
    out = pd.Series(pd.NaT, index=range(len(text)), dtype=f"datetime64[ns, {TZ}]")
    try:
        if aware.any():
            out[aware] = (
                pd.to_datetime(text[aware], format="ISO8601", utc=True).dt.tz_convert(TZ).to_numpy()
            )
        if (~aware).any():
            out[~aware] = (
                pd.to_datetime(text[~aware], format="ISO8601").dt.tz_localize(TZ).to_numpy()
            )
    except (ValueError, TypeError) as exc:
        bad = []
        for i, v in enumerate(text):
            try:
                pd.Timestamp(v)
            except ValueError:
                bad.append(f"row {i + 2}: {v!r}")
            if len(bad) >= 3:
                break
        raise HistoryError(
            source, column, f"not ISO 8601 timestamps ({'; '.join(bad) or exc})"
        ) from exc
    return pd.DatetimeIndex(out)


def history_from_frame(
    data: pd.DataFrame, *, resolution_min: int = 15, source: str = "<history>"
) -> History:
    """Check and regularise a table with a ``timestamp`` column (see the module's rules).

    Raises
    ------
    HistoryError
        No timestamp or no known column, unparseable or off-grid timestamps, conflicting
        duplicates, non-numeric values. The message names the file, column and rows.
    """
    if resolution_min not in (5, 15, 30, 60):
        raise HistoryError(source, "resolution_min", f"{resolution_min} is not 5, 15, 30 or 60")
    if "timestamp" not in data.columns:
        raise HistoryError(source, "timestamp", "missing column (need timestamp, load_kw, ...)")
    columns = [c for c in KNOWN_COLUMNS if c in data.columns]
    if not columns:
        raise HistoryError(
            source, "columns", f"none of {', '.join(KNOWN_COLUMNS)} in {list(data.columns)}"
        )
    if data.empty:
        raise HistoryError(source, "timestamp", "no rows")
    index = parse_timestamps(data["timestamp"], source)
    step = pd.Timedelta(minutes=resolution_min)
    off = (index - index.normalize()) % step != pd.Timedelta(0)
    if off.any():
        rows = [f"row {i + 2}: {index[i].isoformat()}" for i in np.flatnonzero(off)[:3]]
        raise HistoryError(
            source,
            "timestamp",
            f"{int(off.sum())} timestamp(s) not on the {resolution_min}-minute grid "
            f"(interval starts expected): {'; '.join(rows)}",
        )
    values = pd.DataFrame(index=index)
    for c in columns:
        col = pd.to_numeric(data[c], errors="coerce")
        bad = col.isna() & data[c].notna() & (data[c].astype(str).str.strip() != "")
        if bad.any():
            rows = [f"row {i + 2}: {data[c].iloc[i]!r}" for i in np.flatnonzero(bad)[:3]]
            raise HistoryError(source, c, f"non-numeric values: {'; '.join(rows)}")
        values[c] = col.to_numpy(dtype=float)
    dup = values.index.duplicated(keep=False)
    dropped = 0
    if dup.any():
        repeated = values[dup]
        distinct = repeated.reset_index().drop_duplicates()
        counts = distinct.iloc[:, 0].value_counts()
        conflicts = sorted(counts[counts > 1].index)
        if conflicts:
            listed = ", ".join(t.isoformat() for t in conflicts[:3])
            raise HistoryError(
                source,
                "timestamp",
                f"{len(conflicts)} timestamp(s) repeated with different values: {listed}",
            )
        dropped = int(values.index.duplicated(keep="first").sum())
        values = values[~values.index.duplicated(keep="first")]
    values = values.sort_index()
    full = pd.date_range(values.index[0], values.index[-1], freq=step)
    values = values.reindex(full)
    return History(values, resolution_min, _gaps(values, step), dropped, source)


def _gaps(frame: pd.DataFrame, step: pd.Timedelta) -> list[Gap]:
    out: list[Gap] = []
    missing = frame.isna()
    any_missing = missing.any(axis=1).to_numpy()
    if not any_missing.any():
        return out
    idx = frame.index
    start = None
    for i, m in enumerate(any_missing):
        if m and start is None:
            start = i
        if start is not None and (not m or i == len(any_missing) - 1):
            end = i + 1 if m else i
            cols = tuple(c for c in frame.columns if missing[c].iloc[start:end].any())
            out.append(Gap(idx[start], idx[start] + step * (end - start), end - start, cols))
            start = None
    return out


def read_history(path: Path | str, *, resolution_min: int = 15) -> History:
    """Read a metered history (CSV or Parquet with ``timestamp`` and ``load_kw`` / ``pv_kw`` /
    ``temperature_c``); see the module's rules.

    Raises
    ------
    HistoryError
        The file is missing or unreadable, or breaks a rule (names file, column, rows).
    """
    p = Path(path)
    if not p.exists():
        raise HistoryError(str(p), "file", "does not exist")
    try:
        data = _read_table(p)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise HistoryError(str(p), "file", f"cannot be read ({exc})") from exc
    return history_from_frame(data, resolution_min=resolution_min, source=str(p))

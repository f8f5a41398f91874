"""Time series inputs: a scalar, an inline list, or a CSV file, mapped onto a TimeGrid.

CSV files either carry a ``timestamp`` column (tz-aware ISO; the horizon is selected by time,
finer data averaged, coarser data held step-constant) or are positional (one row per step).
``data/load.csv#load_kw`` picks a column; otherwise the single numeric column is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import InputProblem
from models.timegrid import TimeGrid

SeriesInput = float | int | list[float] | str


class SeriesError(ValueError):
    """A series cannot be mapped onto the grid; carries the reason only."""


_CONFINED_ROOT: ContextVar[Path | None] = ContextVar("confined_data_root", default=None)


@contextmanager
def confined_data_paths(root: Path) -> Iterator[None]:
    """Within this block (this thread or task), file paths in park specs must be relative and
    stay inside ``root``. The service resolves its clients' park files in such a block: a
    client must not make the server read, or describe in an error, any other file."""
    token = _CONFINED_ROOT.set(root.resolve())
    try:
        yield
    finally:
        _CONFINED_ROOT.reset(token)


def data_path(text: str, base_dir: Path) -> Path:
    """The file a park spec names: relative paths start at ``base_dir``.

    Raises
    ------
    SeriesError
        Inside :func:`confined_data_paths`, an absolute path or one that leaves the data folder.
    """
    path = Path(text)
    root = _CONFINED_ROOT.get()
    if root is None:
        return path if path.is_absolute() else base_dir / path
    if path.is_absolute():
        raise SeriesError(f"{text!r}: must be a path relative to the data folder")
    full = (base_dir / path).resolve()
    if not full.is_relative_to(root):
        raise SeriesError(f"{text!r}: leaves the data folder")
    return full


def read_csv_series(path_spec: str, base_dir: Path, grid: TimeGrid) -> np.ndarray:
    """Read ``path[#column]`` and return one value per grid step."""
    path_text, _, column = path_spec.partition("#")
    path = data_path(path_text, base_dir)
    if not path.is_file():
        raise SeriesError(f"CSV file {path_text} does not exist (or is not a file)")
    frame = pd.read_csv(path)
    if column:
        if column not in frame.columns:
            raise SeriesError(f"CSV {path} has no column {column!r} (has {list(frame.columns)})")
        values = frame[column]
    else:
        numeric = [c for c in frame.columns if c != "timestamp"]
        if len(numeric) != 1:
            raise SeriesError(
                f"CSV {path} has columns {numeric}: name one with '{path_text}#<column>'"
            )
        values = frame[numeric[0]]
    if values.isna().any():
        first = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise SeriesError(f"CSV {path} has an empty value at data row {first + 1}")
    if "timestamp" not in frame.columns:
        arr = values.to_numpy(dtype=float)
        if len(arr) != grid.steps:
            raise SeriesError(
                f"CSV {path} has {len(arr)} rows without timestamps; the horizon has "
                f"{grid.steps} steps (add a timestamp column or match the length)"
            )
        return arr
    stamps = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_convert(grid.tz)
    series = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(stamps)).sort_index()
    if series.index.has_duplicates:
        raise SeriesError(f"CSV {path} has duplicate timestamps")
    return align_to_grid(series, grid, str(path))


def align_to_grid(series: pd.Series, grid: TimeGrid, label: str) -> np.ndarray:
    """Average finer data into steps, hold coarser data step-constant; gaps are errors."""
    if len(series.index) < 2:
        raise SeriesError(f"{label}: needs at least two timestamps")
    src_min = int(pd.Series(series.index).diff().dropna().min().total_seconds() // 60)
    if src_min <= 0:
        raise SeriesError(f"{label}: timestamps must be strictly increasing")
    start, end = pd.Timestamp(grid.start), pd.Timestamp(grid.end)
    if src_min <= grid.resolution_min:
        window = series[(series.index >= start) & (series.index < end)]
        expected = grid.steps * grid.resolution_min // src_min
        if len(window) != expected:
            raise SeriesError(
                f"{label}: {len(window)} rows between {start} and {end}, expected {expected} at "
                f"{src_min}-minute resolution (gaps are not filled silently)"
            )
        return window.to_numpy().reshape(grid.steps, -1).mean(axis=1)
    held = series.reindex(grid.index, method="ffill")
    if held.isna().any() or series.index[-1] + pd.Timedelta(minutes=src_min) < end:
        raise SeriesError(f"{label}: does not cover the horizon {start} to {end}")
    return held.to_numpy(dtype=float)


def resolve_series(
    value: SeriesInput,
    grid: TimeGrid,
    base_dir: Path,
    *,
    field: str,
    asset_id: str | None,
    problems: list[InputProblem],
    allow_scalar: bool = True,
) -> np.ndarray:
    """Map a series input onto ``grid``; record a problem (and return zeros) if impossible."""
    try:
        if isinstance(value, str):
            arr = read_csv_series(value, base_dir, grid)
        elif isinstance(value, list):
            arr = np.asarray(value, dtype=float)
            if len(arr) != grid.steps:
                raise SeriesError(f"has {len(arr)} values, the horizon has {grid.steps} steps")
        else:
            if not allow_scalar:
                raise SeriesError("must be a list or a CSV path, not a single number")
            arr = np.full(grid.steps, float(value))
        if not np.all(np.isfinite(arr)):
            raise SeriesError("contains NaN or infinite values")
        return arr
    except SeriesError as exc:
        problems.append(InputProblem(field, str(exc), asset_id))
        return np.zeros(grid.steps)

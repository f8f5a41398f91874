"""The one time grid shared by every model, forecast and report.

A :class:`TimeGrid` is a tz-aware, equally spaced sequence of steps. Power is
expressed in kW per step and energy in kWh; the two are linked only through
``dt_h``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

DEFAULT_TIMEZONE = "Asia/Shanghai"
ALLOWED_RESOLUTIONS_MIN = (5, 15, 30, 60)
MAX_HORIZON_H = 7 * 24
# Planning (scenarios/) runs over a whole year.
MAX_PLANNING_HORIZON_H = 366 * 24


class TimeGridError(ValueError):
    """A time grid that cannot exist (bad resolution, naive timestamps, ...)."""


@dataclass(frozen=True)
class TimeGrid:
    """Equally spaced, tz-aware steps.

    Parameters
    ----------
    start : datetime.datetime
        First step's start, tz-aware.
    steps : int
        Number of steps, from 1 to ``max_horizon_h`` (a week for schedules).
    resolution_min : int
        Step length [min], one of 5, 15, 30, 60.
    max_horizon_h : int
        Longest horizon allowed [h]: a week for operation, a year for planning grids.
    """

    start: dt.datetime
    steps: int
    resolution_min: int
    max_horizon_h: int = field(default=MAX_HORIZON_H, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise TimeGridError(f"horizon.start {self.start.isoformat()} must be tz-aware")
        if self.resolution_min not in ALLOWED_RESOLUTIONS_MIN:
            raise TimeGridError(
                f"horizon.resolution_min {self.resolution_min} must be one of "
                f"{ALLOWED_RESOLUTIONS_MIN}"
            )
        max_steps = self.max_horizon_h * 60 // self.resolution_min
        if not 1 <= self.steps <= max_steps:
            raise TimeGridError(
                f"horizon.steps {self.steps} must be between 1 and {max_steps} "
                f"({self.max_horizon_h} h at {self.resolution_min} min)"
            )

    @classmethod
    def day(
        cls, date: dt.date, resolution_min: int = 15, timezone: str = DEFAULT_TIMEZONE
    ) -> TimeGrid:
        """One calendar day starting at local midnight (96 × 15 min by default)."""
        start = dt.datetime(date.year, date.month, date.day, tzinfo=ZoneInfo(timezone))
        return cls(start=start, steps=24 * 60 // resolution_min, resolution_min=resolution_min)

    @property
    def dt_h(self) -> float:
        """Step length [h]."""
        return self.resolution_min / 60.0

    @property
    def tz(self) -> dt.tzinfo:
        tz = self.start.tzinfo
        assert tz is not None
        return tz

    @property
    def end(self) -> dt.datetime:
        """End of the last step (exclusive)."""
        return self.start + dt.timedelta(minutes=self.resolution_min * self.steps)

    @property
    def duration_h(self) -> float:
        return self.steps * self.dt_h

    @cached_property
    def index(self) -> pd.DatetimeIndex:
        """Step start times, tz-aware."""
        return pd.date_range(
            start=pd.Timestamp(self.start),
            periods=self.steps,
            freq=pd.Timedelta(minutes=self.resolution_min),
        )

    @cached_property
    def iso(self) -> list[str]:
        """Step start times as ISO 8601 strings with their UTC offset (schedule timestamps)."""
        return [ts.isoformat() for ts in self.index]

    @cached_property
    def hours(self) -> np.ndarray:
        """Local clock hour of each step start as a float (14.25 for 14:15)."""
        idx = self.index
        return np.asarray(idx.hour + idx.minute / 60.0, dtype=float)

    def step_of(self, when: dt.datetime, *, rounding: str = "floor") -> int:
        """Index of the step boundary at or around ``when``.

        Parameters
        ----------
        when : datetime.datetime
            A tz-aware instant.
        rounding : {"floor", "ceil"}
            How an instant between two boundaries is rounded.

        Returns
        -------
        int
            Boundary index in ``[..]``; may lie outside ``0..steps``.
        """
        if when.tzinfo is None:
            raise TimeGridError(f"timestamp {when.isoformat()} must be tz-aware")
        offset_min = (when - self.start).total_seconds() / 60.0
        q = offset_min / self.resolution_min
        return int(np.floor(q + 1e-9)) if rounding == "floor" else int(np.ceil(q - 1e-9))

    def parse_time(self, text: str) -> dt.datetime:
        """Parse an ISO timestamp, or ``HH:MM`` on the horizon's first day.

        ``24:00`` means the end of the first day.
        """
        text = text.strip()
        if len(text) <= 5 and ":" in text:
            hh, mm = text.split(":")
            minutes = int(hh) * 60 + int(mm)
            if not 0 <= minutes <= 24 * 60 or not 0 <= int(mm) < 60:
                raise TimeGridError(f"time of day {text!r} is not between 00:00 and 24:00")
            midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
            return midnight + dt.timedelta(minutes=minutes)
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            raise TimeGridError(f"timestamp {text!r} must carry a UTC offset (e.g. +08:00)")
        return parsed.astimezone(self.tz)

    def with_resolution(self, resolution_min: int) -> TimeGrid:
        """The same span at another resolution (must divide the span evenly)."""
        total_min = self.steps * self.resolution_min
        if total_min % resolution_min:
            raise TimeGridError(
                f"a {total_min}-minute horizon cannot be split into {resolution_min}-minute steps"
            )
        return TimeGrid(self.start, total_min // resolution_min, resolution_min, self.max_horizon_h)

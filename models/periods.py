"""Weighted periods for planning models: a full year, or representative days.

A sizing model runs over *segments*: runs of consecutive steps that stand for some number of
real days each. The full year is one segment of 8,760 hourly steps with weight 1; twelve
representative days are twelve 24-step segments, each weighted by the number of days its
cluster holds. Storage is cyclic within each segment, and every segment knows which months its
days fall in, so monthly demand charges can be charged on the right steps (docs/model.md §Sizing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class PeriodsError(ValueError):
    """Inconsistent segments (lengths, weights or months)."""


@dataclass(frozen=True)
class Periods:
    """Segments of steps, their weights and the months they stand for.

    Parameters
    ----------
    lengths : tuple of int
        Steps in each segment.
    weights : tuple of float
        How many times each segment counts in a year [-] (full year: 1; a representative day:
        the number of days of its cluster).
    dt_h : float
        Step length [h].
    months : tuple of frozenset of int
        Per step, flattened over the segments: the calendar months (1–12) whose peak that step
        can set. A full-year step belongs to its own month; a representative day's steps belong
        to every month that has a day in its cluster.
    labels : tuple of str
        A name per segment (the representative day's date, or ``"year"``).
    """

    lengths: tuple[int, ...]
    weights: tuple[float, ...]
    dt_h: float
    months: tuple[frozenset[int], ...]
    labels: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.lengths) != len(self.weights) or not self.lengths:
            raise PeriodsError("one weight per segment, and at least one segment")
        if any(n < 1 for n in self.lengths) or any(w <= 0 for w in self.weights):
            raise PeriodsError("segments need ≥ 1 step and a positive weight")
        if len(self.months) != self.steps:
            raise PeriodsError(f"{len(self.months)} month sets for {self.steps} steps")
        if self.labels and len(self.labels) != len(self.lengths):
            raise PeriodsError("one label per segment")

    @property
    def steps(self) -> int:
        return int(sum(self.lengths))

    @property
    def starts(self) -> np.ndarray:
        """Index of each segment's first step."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(int)

    @property
    def step_weight(self) -> np.ndarray:
        """Weight of each step [-]: ``w_k`` in docs/model.md, its segment's weight."""
        return np.repeat(np.asarray(self.weights, dtype=float), self.lengths)

    @property
    def first_of_segment(self) -> np.ndarray:
        """True at the first step of each segment."""
        out = np.zeros(self.steps, dtype=bool)
        out[self.starts] = True
        return out

    @property
    def previous(self) -> np.ndarray:
        """The step before each step, cyclic within its segment (first → last of segment)."""
        prev = np.arange(self.steps) - 1
        starts = self.starts
        prev[starts] = starts + np.asarray(self.lengths) - 1
        return prev

    def year_sum(self, values: np.ndarray) -> float:
        """Σ_k w_k · values_k · dt_h: a per-step power as a year's energy [kWh]."""
        return float(np.dot(self.step_weight, values) * self.dt_h)

    def month_steps(self) -> dict[int, np.ndarray]:
        """Per calendar month, the steps that can set its peak."""
        out: dict[int, list[int]] = {}
        for k, ms in enumerate(self.months):
            for m in ms:
                out.setdefault(m, []).append(k)
        return {m: np.asarray(v, dtype=int) for m, v in sorted(out.items())}

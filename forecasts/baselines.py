"""Demand-response baselines: what a park would have drawn in an event window without the event.

Each rule is named, documented and configurable; every number comes from
``shared/reference/jiangsu-facts.md`` ("Demand response") or is a documented variant:

- ``jiangsu-agreed`` (约定响应, Jiangsu DR implementing rules, trial, 2015-06-15): the same
  hours averaged over the **5 most recent normal production workdays** before the invitation
  day. "Normal production workday": a working day of the Chinese calendar (weekdays that are not
  statutory holidays, and make-up workdays, 调休), not an earlier event day, not flagged
  abnormal, and with every reading of the window present.
- ``jiangsu-real-time`` (实时响应, same rules): the load in the **15 minutes before control
  starts**, held over the event.
- ``n-of-m-highest``: of the M most recent normal workdays, the N with the highest load in the
  window (NYISO's customer baseline is 5 of 10); defaults N = 5, M = 10.
- ``trimmed-mean``: of the N most recent normal workdays, drop the highest and the lowest day in
  the window and average the rest (the Sichuan practice noted in the fact sheet); N = 5.
- Any same-hours rule can take a **same-day adjustment**: the event day's load in a window
  before the event against the baseline days' load in that window, applied additively or as a
  ratio, capped (defaults: 2 h ending 1 h before the start, cap ±20 %). Not in the Jiangsu rules:
  off unless asked for.

The delivered reduction is (baseline energy − metered energy in the event) ÷ event duration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from forecasts.calendar import DayType, day_type
from forecasts.history import TZ, History
from models.errors import ParkVppError

JIANGSU_DR_SOURCE = (
    "Jiangsu DR implementing rules (trial, 2015-06-15); shared/reference/jiangsu-facts.md"
)


class BaselineError(ParkVppError):
    """A baseline that cannot be computed by its rule (names the rule and the reason)."""

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"baseline {rule}: {reason}")


class BaselineRule(BaseModel):
    """A baseline rule.

    Parameters
    ----------
    name : str
        Rule id.
    kind : {"same_hours", "pre_event"}
        Average the event's hours over earlier days, or hold the load just before the event.
    days : int
        Days averaged (same_hours) [-].
    candidates : int, optional
        Look at this many most recent eligible days and keep the ``days`` highest in the window
        (N of M); None: the ``days`` most recent.
    trim : int
        Drop this many highest and this many lowest of the selected days before averaging.
    lookback_days : int
        How far back to search for eligible days [days].
    pre_event_minutes : int
        Window before the event start averaged by ``pre_event`` rules [min].
    adjustment : {"none", "additive", "multiplicative"}
        Same-day adjustment.
    adjustment_hours, adjustment_gap_hours : float
        The adjustment window's length, and how long before the event start it ends [h].
    adjustment_cap_frac : float
        Cap of the adjustment as a fraction of the baseline [-].
    source : str
        Where the rule comes from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["same_hours", "pre_event"]
    days: int = Field(5, ge=1, le=60)
    candidates: int | None = Field(None, ge=1, le=120)
    trim: int = Field(0, ge=0, le=10)
    lookback_days: int = Field(90, ge=1, le=400)
    pre_event_minutes: int = Field(15, ge=5, le=240)
    adjustment: Literal["none", "additive", "multiplicative"] = "none"
    adjustment_hours: float = Field(2.0, gt=0, le=12)
    adjustment_gap_hours: float = Field(1.0, ge=0, le=12)
    adjustment_cap_frac: float = Field(0.2, ge=0, le=1)
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> BaselineRule:
        if self.candidates is not None and self.candidates < self.days:
            raise ValueError(f"candidates ({self.candidates}) must be ≥ days ({self.days})")
        if 2 * self.trim >= self.days:
            raise ValueError(f"trim {self.trim} from both ends leaves no day of {self.days}")
        return self


RULES: dict[str, BaselineRule] = {
    r.name: r
    for r in (
        BaselineRule(name="jiangsu-agreed", kind="same_hours", days=5, source=JIANGSU_DR_SOURCE),
        BaselineRule(
            name="jiangsu-real-time",
            kind="pre_event",
            pre_event_minutes=15,
            source=JIANGSU_DR_SOURCE,
        ),
        BaselineRule(
            name="n-of-m-highest",
            kind="same_hours",
            days=5,
            candidates=10,
            source="variant: N highest of the M most recent workdays (NYISO CBL uses 5 of 10)",
        ),
        BaselineRule(
            name="trimmed-mean",
            kind="same_hours",
            days=5,
            trim=1,
            source="variant: drop the highest and lowest day (Sichuan; jiangsu-facts.md)",
        ),
    )
}


def rule(name: str, **overrides: object) -> BaselineRule:
    """A built-in rule, optionally with fields changed (``days``, ``adjustment``, ...).

    Raises
    ------
    BaselineError
        Unknown rule name, or overrides that break the rule's consistency.
    """
    if name not in RULES:
        raise BaselineError(name, f"unknown rule; known: {', '.join(RULES)}")
    if not overrides:
        return RULES[name]
    try:
        return BaselineRule.model_validate({**RULES[name].model_dump(), **overrides})
    except ValueError as exc:
        raise BaselineError(name, str(exc)) from exc


@dataclass
class SkippedDay:
    day: dt.date
    reason: str


@dataclass
class Baseline:
    """A computed baseline.

    Parameters
    ----------
    rule : BaselineRule
        The rule used.
    timestamps : DatetimeIndex
        Event steps (interval starts).
    baseline_kw : ndarray
        Baseline per step [kW].
    days_used : list of date
        Days averaged (same-hours rules), most recent first.
    skipped : list of SkippedDay
        Days looked at and not used, with the reason (holiday, event day, gap, ...).
    adjustment_kw : ndarray, optional
        The same-day adjustment added per step [kW] (already in ``baseline_kw``).
    invitation_day : date, optional
    resolution_min : int
        Step of the event [min].
    """

    rule: BaselineRule
    timestamps: pd.DatetimeIndex
    baseline_kw: np.ndarray
    resolution_min: int
    days_used: list[dt.date] = field(default_factory=list)
    skipped: list[SkippedDay] = field(default_factory=list)
    adjustment_kw: np.ndarray | None = None
    invitation_day: dt.date | None = None

    @property
    def dt_h(self) -> float:
        return self.resolution_min / 60.0

    def delivered_kw(self, metered_kw: np.ndarray) -> float:
        """(baseline energy − metered energy) ÷ duration [kW]: the delivered reduction."""
        m = np.asarray(metered_kw, dtype=float)
        if m.shape != self.baseline_kw.shape:
            raise BaselineError(
                self.rule.name,
                f"metered series has {m.size} steps, the event {self.baseline_kw.size}",
            )
        if not np.isfinite(m).all():
            raise BaselineError(self.rule.name, "metered load has gaps inside the event")
        duration_h = self.dt_h * m.size
        energy_diff_kwh = float((self.baseline_kw - m).sum() * self.dt_h)
        return energy_diff_kwh / duration_h

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule.name,
            "source": self.rule.source,
            "resolution_min": self.resolution_min,
            "invitation_day": self.invitation_day.isoformat() if self.invitation_day else None,
            "timestamps": [t.isoformat() for t in self.timestamps],
            "baseline_kw": [round(float(x), 6) for x in self.baseline_kw],
            "days_used": [d.isoformat() for d in self.days_used],
            "skipped": [{"day": s.day.isoformat(), "reason": s.reason} for s in self.skipped],
            "adjustment_kw": None
            if self.adjustment_kw is None
            else [round(float(x), 6) for x in self.adjustment_kw],
        }


def _event_steps(
    history: History, start: pd.Timestamp, end: pd.Timestamp, name: str
) -> pd.DatetimeIndex:
    step = pd.Timedelta(minutes=history.resolution_min)
    if end <= start:
        raise BaselineError(name, f"event end {end.isoformat()} is not after its start")
    for label, t in (("start", start), ("end", end)):
        if (t - t.normalize()) % step != pd.Timedelta(0):
            raise BaselineError(
                name,
                f"event {label} {t.isoformat()} is not on the {history.resolution_min}-minute grid",
            )
    return pd.date_range(start, end - step, freq=step)


def _window(history: History, steps: pd.DatetimeIndex) -> np.ndarray:
    return history.frame["load_kw"].reindex(steps).to_numpy(dtype=float)


def _as_ts(t: pd.Timestamp | dt.datetime | str) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_localize(TZ) if ts.tzinfo is None else ts.tz_convert(TZ)


def compute_baseline(
    history: History,
    rule: BaselineRule,
    event_start: pd.Timestamp | dt.datetime | str,
    event_end: pd.Timestamp | dt.datetime | str,
    *,
    invitation_day: dt.date | None = None,
    event_days: Iterable[dt.date] = (),
    abnormal_days: Iterable[dt.date] = (),
) -> Baseline:
    """The baseline of one event by ``rule``.

    Parameters
    ----------
    history : History
        Metered load (``load_kw``); only data before the relevant cut-off is used.
    rule : BaselineRule
        See :data:`RULES`.
    event_start, event_end : timestamp
        The event window ``[start, end)``, on the history's grid (naive: Asia/Shanghai).
    invitation_day : date, optional
        Day the event was announced; default the day before the event (day-ahead invitation).
    event_days, abnormal_days : iterable of date
        Earlier event days and days flagged abnormal: never baseline days.

    Raises
    ------
    BaselineError
        Too few eligible days in the lookback, missing readings the rule needs, or a window off
        the grid. Names the rule, the days looked at and why each was skipped.
    """
    if "load_kw" not in history.frame.columns:
        raise BaselineError(rule.name, f"{history.source} has no load_kw column")
    start, end = _as_ts(event_start), _as_ts(event_end)
    steps = _event_steps(history, start, end, rule.name)
    event_day = start.date()
    if rule.kind == "pre_event":
        before = pd.date_range(
            start - pd.Timedelta(minutes=rule.pre_event_minutes),
            start,
            freq=f"{history.resolution_min}min",
            inclusive="left",
        )
        if len(before) == 0:
            raise BaselineError(rule.name, "pre-event window shorter than one step")
        vals = _window(history, before)
        if not np.isfinite(vals).all():
            raise BaselineError(
                rule.name,
                f"no complete reading in the {rule.pre_event_minutes} min before "
                f"{start.isoformat()} ({before[0].isoformat()} … missing)",
            )
        return Baseline(
            rule, steps, np.full(len(steps), float(vals.mean())), history.resolution_min
        )

    invitation = invitation_day or (event_day - dt.timedelta(days=1))
    if invitation > event_day:
        raise BaselineError(rule.name, f"invitation day {invitation} is after the event day")
    excluded = set(event_days)
    abnormal = set(abnormal_days)
    wanted = rule.candidates or rule.days
    chosen: list[tuple[dt.date, np.ndarray]] = []
    skipped: list[SkippedDay] = []
    first = history.frame.index[0].date() if len(history.frame) else invitation
    for back in range(1, rule.lookback_days + 1):
        d = invitation - dt.timedelta(days=back)
        if d < first:
            break
        kind = day_type(d)
        if kind not in (DayType.workday, DayType.makeup_workday):
            skipped.append(SkippedDay(d, kind.value))
            continue
        if d in excluded:
            skipped.append(SkippedDay(d, "earlier event day"))
            continue
        if d in abnormal:
            skipped.append(SkippedDay(d, "flagged abnormal"))
            continue
        shifted = steps - pd.Timedelta(days=(event_day - d).days)
        vals = _window(history, shifted)
        if not np.isfinite(vals).all():
            skipped.append(
                SkippedDay(d, f"{int((~np.isfinite(vals)).sum())} missing step(s) in the window")
            )
            continue
        chosen.append((d, vals))
        if len(chosen) == wanted:
            break
    if len(chosen) < wanted:
        why = "; ".join(f"{s.day} {s.reason}" for s in skipped[:12])
        raise BaselineError(
            rule.name,
            f"found {len(chosen)} of the {wanted} normal workdays needed in the "
            f"{rule.lookback_days} days before {invitation} (skipped: {why or 'none'}; history "
            f"starts {first})",
        )
    if rule.candidates is not None:
        # N of M: the days with the highest load in the event window
        ranked = sorted(chosen, key=lambda dv: float(dv[1].sum()), reverse=True)
        chosen = sorted(ranked[: rule.days], key=lambda dv: dv[0], reverse=True)
    used = chosen
    if rule.trim:
        ranked = sorted(chosen, key=lambda dv: float(dv[1].sum()))
        kept = ranked[rule.trim : len(ranked) - rule.trim]
        for d, _ in ranked[: rule.trim] + ranked[len(ranked) - rule.trim :]:
            skipped.append(SkippedDay(d, "trimmed (highest or lowest in the window)"))
        used = sorted(kept, key=lambda dv: dv[0], reverse=True)
    baseline = np.mean([v for _, v in used], axis=0)
    adjustment = None
    if rule.adjustment != "none":
        adjustment = _same_day_adjustment(
            history, rule, start, event_day, [d for d, _ in used], baseline
        )
        baseline = baseline + adjustment
    return Baseline(
        rule,
        steps,
        baseline,
        history.resolution_min,
        [d for d, _ in used],
        skipped,
        adjustment,
        invitation,
    )


def _same_day_adjustment(
    history: History,
    rule: BaselineRule,
    start: pd.Timestamp,
    event_day: dt.date,
    days: list[dt.date],
    baseline: np.ndarray,
) -> np.ndarray:
    end = start - pd.Timedelta(hours=rule.adjustment_gap_hours)
    begin = end - pd.Timedelta(hours=rule.adjustment_hours)
    window = pd.date_range(begin, end, freq=f"{history.resolution_min}min", inclusive="left")
    actual = _window(history, window)
    if not np.isfinite(actual).all():
        raise BaselineError(
            rule.name,
            f"same-day adjustment needs the event day's load {begin.isoformat()} – "
            f"{end.isoformat()}, which has gaps",
        )
    ref = np.mean(
        [_window(history, window - pd.Timedelta(days=(event_day - d).days)) for d in days], axis=0
    )
    actual_mean, ref_mean = float(actual.mean()), float(ref.mean())
    cap = rule.adjustment_cap_frac
    if rule.adjustment == "additive":
        delta = actual_mean - ref_mean
        limit = cap * np.abs(baseline)
        return np.clip(np.full_like(baseline, delta), -limit, limit)
    if ref_mean <= 0:
        raise BaselineError(rule.name, "multiplicative adjustment on a non-positive reference load")
    ratio = float(np.clip(actual_mean / ref_mean, 1 - cap, 1 + cap))
    return baseline * (ratio - 1.0)

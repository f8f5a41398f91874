"""Chinese working calendar: workday, weekend, statutory holiday, make-up workday (调休).

From the maintained ``chinese-calendar`` library (the State Council's annual holiday notices),
never a hand-written list. Dates outside the library's years raise :class:`CalendarError`
naming the covered range: a forecast or baseline must not silently treat an unknown Spring
Festival as an ordinary week.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import chinese_calendar

from models.errors import ParkVppError


class DayType(StrEnum):
    """What kind of day a date is for production and DR baselines."""

    workday = "workday"  # Monday–Friday, not a holiday
    weekend = "weekend"  # Saturday or Sunday, not a make-up workday
    holiday = "holiday"  # statutory holiday (including the weekend days inside it)
    makeup_workday = "makeup_workday"  # a weekend day worked in exchange for a holiday (调休)


class CalendarError(ParkVppError):
    """A date the calendar library does not cover."""

    def __init__(self, day: dt.date, detail: str) -> None:
        self.day = day
        super().__init__(
            f"the Chinese holiday calendar has no data for {day.isoformat()} ({detail}); "
            "update the chinese-calendar package, or give the day's type explicitly"
        )


def _covered(day: dt.date) -> None:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError as exc:
        raise CalendarError(day, str(exc)) from exc


def day_type(day: dt.date) -> DayType:
    """The type of ``day``.

    Raises
    ------
    CalendarError
        The library has no data for the year of ``day``.
    """
    _covered(day)
    holiday, name = chinese_calendar.get_holiday_detail(day)
    if holiday and name is not None:
        return DayType.holiday
    if day.weekday() >= 5:
        return DayType.makeup_workday if chinese_calendar.is_workday(day) else DayType.weekend
    return DayType.workday


def is_working_day(day: dt.date) -> bool:
    """A day factories work: a weekday that is no holiday, or a make-up workday."""
    return day_type(day) in (DayType.workday, DayType.makeup_workday)


def holiday_name(day: dt.date) -> str | None:
    """The statutory holiday ``day`` belongs to (or is a make-up workday for), if any."""
    _covered(day)
    _, name = chinese_calendar.get_holiday_detail(day)
    return name


def covered_years() -> tuple[int, int]:
    """First and last year the installed calendar library covers."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return years[0], years[-1]

"""Metered storage energy: cumulative register readings → measured intervals, flagged.

A storage station's meter has two cumulative registers, charge and discharge [kWh], read every
15 minutes. The energy of an interval is the difference of consecutive readings of the same
meter. What can go wrong, and what this module does about it:

- **Duplicates and disorder**: readings are sorted by time; the same reading twice is one reading;
  two different values for one meter and time are refused (:class:`ConflictingReadingError`),
  since either could be the true one.
- **Rollover**: a register with a fixed number of digits wraps to zero. A drop from the top tenth
  of the register's range to its bottom tenth is a rollover when the register's modulus is known;
  the wrapped delta ``modulus − previous + current`` is exact and counts.
- **Reset** (or any other drop): the energy of that interval is unknown. It counts as zero and is
  flagged ``reset``; it is never negative.
- **Meter swap**: a new serial starts a new chain; the interval across the swap is unknown
  (flag ``swap``).
- **Implausible**: more energy than the rated power could move in the interval (with 10 %
  headroom for meter and rating tolerance) is flagged and not counted, so a corrupted reading
  never becomes a huge discharge.
- **Gaps**: readings missing between two readings. The registers are cumulative, so the delta
  across a gap is still *measured* energy, only its time within the gap is unknown: it counts
  where the whole gap lies in one month and one eligibility window (the ledger checks that),
  and is flagged ``gap``. Nothing is ever filled in for payment; :func:`estimate_gap` spreads a
  gap's energy evenly for display only.

Energy is :class:`decimal.Decimal` throughout (readings carry 0.001 kWh), so sums are exact.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
# Fraction of the register range at the top (before) and bottom (after) within which a drop is
# read as a rollover rather than a reset.
ROLLOVER_BAND_FRAC = Decimal("0.1")
# Headroom over rated power × duration before an interval is implausible: meters are accurate to
# ~0.5 % (class 0.5S) and converters may exceed their nameplate briefly.
PLAUSIBLE_HEADROOM_FRAC = Decimal("0.1")


class Flag(StrEnum):
    """What an interval's energy is."""

    ok = "ok"  # consecutive readings, plausible deltas
    gap = "gap"  # readings missing in between: measured, time within unknown
    rollover = "rollover"  # a register wrapped: exact, counted
    reset = "reset"  # a register dropped: unknown, counted as zero
    swap = "swap"  # the meter's serial changed: unknown, counted as zero
    implausible = "implausible"  # above rated power × duration: not counted


# Flags whose measured energy is known and may be paid (subject to the ledger's window rules).
MEASURED = frozenset({Flag.ok, Flag.gap, Flag.rollover})


class ConflictingReadingError(ValueError):
    """Two different values for the same meter and time."""


@dataclass(frozen=True)
class Reading:
    """One reading of a meter's cumulative registers.

    Parameters
    ----------
    meter_id : str
        The meter (a station may have several).
    ts : datetime
        Time of the reading (tz-aware).
    charge_kwh, discharge_kwh : Decimal
        Cumulative register values [kWh], ≥ 0.
    serial : str or None
        The meter's serial number; a change means the meter was swapped.
    """

    meter_id: str
    ts: dt.datetime
    charge_kwh: Decimal
    discharge_kwh: Decimal
    serial: str | None = None

    def same_values(self, other: Reading) -> bool:
        return (self.charge_kwh, self.discharge_kwh, self.serial) == (
            other.charge_kwh,
            other.discharge_kwh,
            other.serial,
        )


@dataclass(frozen=True)
class MeterConfig:
    """What the checks need to know about a station's meters.

    Parameters
    ----------
    rated_power_kw : Decimal
        The station's rated power [kW]: the plausibility limit.
    interval_min : int
        The reading interval [min]; a longer step between readings is a gap.
    register_modulus_kwh : Decimal or None
        Where the registers wrap [kWh] (e.g. 1,000,000 for six digits); None: they do not, and
        every drop is a reset.
    """

    rated_power_kw: Decimal
    interval_min: int = 15
    register_modulus_kwh: Decimal | None = None


@dataclass(frozen=True)
class Interval:
    """The energy between two consecutive readings of one meter.

    ``charge_kwh`` and ``discharge_kwh`` are the counted energies [kWh] (zero when not measured);
    ``raw_*_kwh`` are the plain register differences, kept for the audit trail.
    """

    meter_id: str
    start: dt.datetime
    end: dt.datetime
    charge_kwh: Decimal
    discharge_kwh: Decimal
    flag: Flag
    raw_charge_kwh: Decimal
    raw_discharge_kwh: Decimal
    note: str = ""

    @property
    def measured(self) -> bool:
        return self.flag in MEASURED

    @property
    def duration_h(self) -> Decimal:
        return Decimal((self.end - self.start).total_seconds()) / Decimal(3600)


def clean(readings: Iterable[Reading]) -> list[Reading]:
    """Readings sorted by meter and time with exact duplicates dropped.

    Raises
    ------
    ConflictingReadingError
        Two readings of one meter at one time with different values (names both).
    """
    by_key: dict[tuple[str, dt.datetime], Reading] = {}
    for r in readings:
        key = (r.meter_id, r.ts)
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = r
        elif not seen.same_values(r):
            raise ConflictingReadingError(
                f"meter {r.meter_id!r} at {r.ts.isoformat()}: discharge {seen.discharge_kwh} / "
                f"charge {seen.charge_kwh} kWh already stored, now {r.discharge_kwh} / "
                f"{r.charge_kwh} kWh"
            )
    return sorted(by_key.values(), key=lambda r: (r.meter_id, r.ts))


def _delta(before: Decimal, after: Decimal, modulus: Decimal | None) -> tuple[Decimal, Flag]:
    d = after - before
    if d >= 0:
        return d, Flag.ok
    if (
        modulus is not None
        and before >= modulus * (1 - ROLLOVER_BAND_FRAC)
        and after <= modulus * ROLLOVER_BAND_FRAC
    ):
        return modulus - before + after, Flag.rollover
    return ZERO, Flag.reset


def intervals(readings: Iterable[Reading], config: MeterConfig) -> list[Interval]:
    """The flagged intervals between consecutive readings of each meter (see the module doc).

    Raises
    ------
    ConflictingReadingError
        As :func:`clean`.
    """
    rows = clean(readings)
    step = dt.timedelta(minutes=config.interval_min)
    out: list[Interval] = []
    for prev, cur in itertools.pairwise(rows):
        if prev.meter_id != cur.meter_id:
            continue
        raw_c = cur.charge_kwh - prev.charge_kwh
        raw_d = cur.discharge_kwh - prev.discharge_kwh
        if prev.serial != cur.serial:
            out.append(
                Interval(
                    cur.meter_id,
                    prev.ts,
                    cur.ts,
                    ZERO,
                    ZERO,
                    Flag.swap,
                    raw_c,
                    raw_d,
                    f"serial {prev.serial} → {cur.serial}",
                )
            )
            continue
        charge, fc = _delta(prev.charge_kwh, cur.charge_kwh, config.register_modulus_kwh)
        discharge, fd = _delta(prev.discharge_kwh, cur.discharge_kwh, config.register_modulus_kwh)
        flags = {fc, fd}
        hours = Decimal((cur.ts - prev.ts).total_seconds()) / Decimal(3600)
        limit = config.rated_power_kw * hours * (1 + PLAUSIBLE_HEADROOM_FRAC)
        note = ""
        if Flag.reset in flags:
            flag, charge, discharge = Flag.reset, ZERO, ZERO
            note = "a register dropped"
        elif charge > limit or discharge > limit:
            flag = Flag.implausible
            note = (
                f"{max(charge, discharge)} kWh in {hours} h exceeds rated "
                f"{config.rated_power_kw} kW × duration × {1 + PLAUSIBLE_HEADROOM_FRAC}"
            )
            charge, discharge = ZERO, ZERO
        elif Flag.rollover in flags:
            flag = Flag.rollover
        elif cur.ts - prev.ts > step:
            flag = Flag.gap
            missing = int((cur.ts - prev.ts) / step) - 1
            note = f"{missing} reading(s) missing"
        else:
            flag = Flag.ok
        out.append(
            Interval(cur.meter_id, prev.ts, cur.ts, charge, discharge, flag, raw_c, raw_d, note)
        )
    return out


def estimate_gap(interval: Interval, step: dt.timedelta) -> list[tuple[dt.datetime, Decimal]]:
    """A gap's discharge spread evenly over its steps, for display only (never paid).

    Returns
    -------
    list of (start, discharge_kwh)
        One entry per ``step`` in the gap.
    """
    n = max(1, int((interval.end - interval.start) / step))
    share = interval.discharge_kwh / n
    return [(interval.start + i * step, share) for i in range(n)]

"""The rules engine of the rewards paid on metered data: the storage discharge reward and the
green-electricity reward. Pure functions on :class:`decimal.Decimal`; the service's ledger
(``services/ledger.py``) stores what they compute.

Changzhou defaults (``../shared/reference/policy-targets.md`` T11 and T12, Changzhou action plan
§三(二); ``jiangsu-facts.md`` "Storage subsidies"): 0.3 yuan per kWh discharged by new storage of
at least 0.5 MW, from the month after grid connection, for at most 24 months; green electricity:
up to 50 % of the green-environment value in green power purchases, at most 100,000 yuan per
enterprise per year. Comparable cities add a yuan cap per station (Guangzhou Huangpu and
Dongguan: 3 M yuan), so the cap is a parameter too (none by default: Changzhou names none).

Money is rounded to the fen (0.01 yuan) once per statement line, half up, as a payment is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from vpp.metering import Interval

FEN = Decimal("0.01")
KWH = Decimal("0.001")
TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no DST: months are local months


def to_fen(amount: Decimal) -> Decimal:
    """Round yuan to the fen, half up."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Month:
    """A calendar month in local time (Asia/Shanghai)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``.

        Raises
        ------
        ValueError
            Not a month (names the text).
        """
        try:
            y, m = text.split("-")
            out = cls(int(y), int(m))
        except ValueError as exc:
            raise ValueError(f"month {text!r}: expected YYYY-MM") from exc
        if not 1 <= out.month <= 12 or out.year < 2000:
            raise ValueError(f"month {text!r}: expected YYYY-MM")
        return out

    @classmethod
    def of(cls, when: dt.datetime | dt.date) -> Month:
        if isinstance(when, dt.datetime):
            when = when.astimezone(TZ).date()
        return cls(when.year, when.month)

    def plus(self, months: int) -> Month:
        i = self.year * 12 + self.month - 1 + months
        return Month(i // 12, i % 12 + 1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=TZ)

    @property
    def end(self) -> dt.datetime:
        return self.plus(1).start

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __lt__(self, other: Month) -> bool:
        return (self.year, self.month) < (other.year, other.month)

    def __le__(self, other: Month) -> bool:
        return (self.year, self.month) <= (other.year, other.month)


@dataclass(frozen=True)
class DischargeRule:
    """The storage discharge reward (T11).

    Parameters
    ----------
    rate_yuan_per_kwh : Decimal
        Paid per eligible kWh discharged.
    min_power_kw : Decimal
        Stations below this rated power earn nothing.
    start_offset_months : int
        The first paid month after the month of grid connection (1: the month after).
    duration_months : int
        Paid months from the first.
    cap_yuan : Decimal or None
        Total over the whole period per station (None: no cap).
    """

    rate_yuan_per_kwh: Decimal = Decimal("0.3")
    min_power_kw: Decimal = Decimal("500")
    start_offset_months: int = 1
    duration_months: int = 24
    cap_yuan: Decimal | None = None

    def window(self, grid_connection: dt.date) -> tuple[Month, Month]:
        """First and last paid month."""
        first = Month.of(grid_connection).plus(self.start_offset_months)
        return first, first.plus(self.duration_months - 1)


@dataclass(frozen=True)
class GreenRule:
    """The green-electricity reward (T12).

    Parameters
    ----------
    share_frac : Decimal
        Paid share of the green-environment value of green power purchases [-].
    cap_yuan_per_year : Decimal
        Per enterprise and calendar year.
    """

    share_frac: Decimal = Decimal("0.5")
    cap_yuan_per_year: Decimal = Decimal("100000")


@dataclass(frozen=True)
class Station:
    """What the discharge rule needs of a station."""

    id: str
    rated_power_kw: Decimal
    grid_connection: dt.date


@dataclass
class MonthDischarge:
    """One station-month of the discharge reward.

    ``eligible_kwh`` is the measured discharge of intervals wholly in the month (and the window);
    ``unattributed_kwh`` is measured discharge of intervals across a month or window edge (a gap
    over midnight of the 1st): known in total, not by month, so not paid.
    """

    station_id: str
    month: Month
    in_window: bool
    eligible_station: bool
    metered_kwh: Decimal = Decimal(0)
    eligible_kwh: Decimal = Decimal(0)
    unattributed_kwh: Decimal = Decimal(0)
    flagged: dict[str, int] = field(default_factory=dict)  # flag → intervals
    rate_yuan_per_kwh: Decimal = Decimal(0)
    amount_yuan: Decimal = Decimal(0)
    capped: bool = False
    reason: str = ""


def discharge_month(
    station: Station,
    month: Month,
    intervals: Iterable[Interval],
    rule: DischargeRule,
    paid_before_yuan: Decimal = Decimal(0),
) -> MonthDischarge:
    """The discharge reward of ``station`` for ``month``.

    Parameters
    ----------
    intervals : iterable of Interval
        The station's flagged intervals (any months: those of ``month`` are taken).
    paid_before_yuan : Decimal
        What earlier months of the window paid, for the cap [yuan].
    """
    first, last = rule.window(station.grid_connection)
    out = MonthDischarge(
        station.id,
        month,
        in_window=first <= month <= last,
        eligible_station=station.rated_power_kw >= rule.min_power_kw,
    )
    m0, m1 = month.start, month.end
    w0, w1 = first.start, last.end
    for iv in intervals:
        if iv.end <= m0 or iv.start >= m1:
            continue
        out.flagged[iv.flag.value] = out.flagged.get(iv.flag.value, 0) + 1
        if not iv.measured:
            continue
        out.metered_kwh += iv.discharge_kwh
        inside_month = m0 <= iv.start and iv.end <= m1
        inside_window = w0 <= iv.start and iv.end <= w1
        crosses_window = (iv.start < w0 < iv.end) or (iv.start < w1 < iv.end)
        if not inside_month or crosses_window:
            out.unattributed_kwh += iv.discharge_kwh
        elif inside_window:
            out.eligible_kwh += iv.discharge_kwh
    if not out.eligible_station:
        out.eligible_kwh = Decimal(0)
        out.reason = (
            f"rated {station.rated_power_kw} kW is below the {rule.min_power_kw} kW minimum"
        )
        return out
    if not out.in_window:
        out.eligible_kwh = Decimal(0)
        out.reason = f"outside the paid months {first} to {last}"
        return out
    out.rate_yuan_per_kwh = rule.rate_yuan_per_kwh
    amount = to_fen(out.eligible_kwh * rule.rate_yuan_per_kwh)
    if rule.cap_yuan is not None and paid_before_yuan + amount > rule.cap_yuan:
        amount = max(Decimal(0), rule.cap_yuan - paid_before_yuan)
        out.capped = True
        out.reason = f"capped at {rule.cap_yuan} yuan over the window"
    out.amount_yuan = amount
    return out


@dataclass(frozen=True)
class GreenPurchase:
    """One green power purchase of an enterprise.

    ``green_value_yuan`` is the green-environment value in the trade price (the premium over
    the ordinary price, times the energy) [yuan].
    """

    enterprise: str
    delivered: dt.date
    energy_kwh: Decimal
    green_value_yuan: Decimal


@dataclass
class MonthGreen:
    enterprise: str
    month: Month
    energy_kwh: Decimal
    green_value_yuan: Decimal
    amount_yuan: Decimal
    capped: bool


def green_months(purchases: Iterable[GreenPurchase], rule: GreenRule) -> list[MonthGreen]:
    """The green-electricity reward by enterprise and month, the yearly cap applied in month
    order (the month that reaches it is paid up to it, later months of that year nothing)."""
    sums: dict[tuple[str, Month], tuple[Decimal, Decimal]] = {}
    for p in purchases:
        key = (p.enterprise, Month.of(p.delivered))
        e, v = sums.get(key, (Decimal(0), Decimal(0)))
        sums[key] = (e + p.energy_kwh, v + p.green_value_yuan)
    out: list[MonthGreen] = []
    paid: dict[tuple[str, int], Decimal] = {}
    for (ent, month), (energy, value) in sorted(
        sums.items(), key=lambda kv: (kv[0][0], kv[0][1].year, kv[0][1].month)
    ):
        before = paid.get((ent, month.year), Decimal(0))
        amount = to_fen(value * rule.share_frac)
        capped = before + amount > rule.cap_yuan_per_year
        if capped:
            amount = max(Decimal(0), rule.cap_yuan_per_year - before)
        paid[(ent, month.year)] = before + amount
        out.append(MonthGreen(ent, month, energy, value, amount, capped))
    return out

"""The reward rules: eligibility window edges, minimum size, caps, rounding to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from vpp.metering import Flag, Interval
from vpp.subsidy import (
    DischargeRule,
    GreenPurchase,
    GreenRule,
    Month,
    Station,
    discharge_month,
    green_months,
    to_fen,
)

TZ = dt.timezone(dt.timedelta(hours=8))
RULE = DischargeRule()  # Changzhou: 0.3 yuan/kWh, ≥ 500 kW, month after connection, 24 months
BIG = Station("s1", Decimal(1000), dt.date(2026, 1, 31))  # connected on the last day of January


def iv(start: dt.datetime, hours: float, kwh: str, flag: Flag = Flag.ok) -> Interval:
    end = start + dt.timedelta(hours=hours)
    d = Decimal(kwh)
    return Interval("m1", start, end, Decimal(0), d, flag, Decimal(0), d)


def at(y: int, m: int, d: int, h: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=TZ)


def test_window_starts_the_month_after_connection_and_lasts_24_months() -> None:
    assert RULE.window(dt.date(2026, 1, 31)) == (Month(2026, 2), Month(2028, 1))
    assert RULE.window(dt.date(2026, 2, 1)) == (Month(2026, 3), Month(2028, 2))
    assert RULE.window(dt.date(2026, 12, 31)) == (Month(2027, 1), Month(2028, 12))


@pytest.mark.parametrize(
    ("month", "paid"),
    [
        (Month(2026, 1), False),  # the month of connection
        (Month(2026, 2), True),  # the first paid month
        (Month(2028, 1), True),  # the 24th
        (Month(2028, 2), False),  # the 25th
    ],
)
def test_window_edges(month: Month, paid: bool) -> None:
    out = discharge_month(BIG, month, [iv(month.start, 0.25, "100.001")], RULE)
    assert out.metered_kwh == Decimal("100.001")
    assert out.amount_yuan == (Decimal("30.00") if paid else Decimal(0))
    assert out.in_window is paid
    if not paid:
        assert "outside the paid months 2026-02 to 2028-01" in out.reason


def test_a_049_mw_station_earns_nothing() -> None:
    small = Station("s2", Decimal(490), dt.date(2026, 1, 15))
    out = discharge_month(small, Month(2026, 3), [iv(at(2026, 3, 2), 0.25, "100")], RULE)
    assert out.amount_yuan == 0 and out.metered_kwh == 100 and "below the 500" in out.reason
    exactly = Station("s3", Decimal(500), dt.date(2026, 1, 15))
    out = discharge_month(exactly, Month(2026, 3), [iv(at(2026, 3, 2), 0.25, "100")], RULE)
    assert out.amount_yuan == Decimal("30.00")


def test_only_measured_intervals_wholly_in_the_month_are_paid() -> None:
    ivs = [
        iv(at(2026, 3, 31, 23), 2.0, "400", Flag.gap),  # 31 March 23:00 → 1 April 01:00
        iv(at(2026, 3, 10), 0.25, "0", Flag.reset),
        iv(at(2026, 3, 10, 1), 3.0, "900", Flag.gap),
        iv(at(2026, 3, 11), 0.25, "0", Flag.implausible),
    ]
    out = discharge_month(BIG, Month(2026, 3), ivs, RULE)
    assert out.eligible_kwh == 900 and out.unattributed_kwh == 400
    assert out.flagged == {"gap": 2, "reset": 1, "implausible": 1}
    assert out.amount_yuan == Decimal("270.00")
    april = discharge_month(BIG, Month(2026, 4), ivs, RULE)
    assert april.eligible_kwh == 0 and april.unattributed_kwh == 400


def test_rounding_to_the_fen_half_up() -> None:
    assert to_fen(Decimal("0.005")) == Decimal("0.01")
    assert to_fen(Decimal("0.0049")) == Decimal("0.00")
    out = discharge_month(BIG, Month(2026, 3), [iv(at(2026, 3, 2), 0.25, "0.015")], RULE)
    assert out.amount_yuan == Decimal("0.00")  # 0.0045 yuan
    out = discharge_month(BIG, Month(2026, 3), [iv(at(2026, 3, 2), 0.25, "0.017")], RULE)
    assert out.amount_yuan == Decimal("0.01")  # 0.0051 yuan


def test_cap_over_the_window() -> None:
    rule = DischargeRule(cap_yuan=Decimal("100"))
    out = discharge_month(
        BIG, Month(2026, 3), [iv(at(2026, 3, 2), 0.25, "200")], rule, Decimal("80")
    )
    assert out.amount_yuan == Decimal("20") and out.capped


def test_green_reward_is_half_the_green_value_capped_per_enterprise_year() -> None:
    buys = [
        GreenPurchase("acme", dt.date(2026, 1, 5), Decimal(1_000_000), Decimal("150000")),
        GreenPurchase("acme", dt.date(2026, 2, 5), Decimal(1_000_000), Decimal("60000")),
        GreenPurchase("acme", dt.date(2026, 3, 5), Decimal(10), Decimal("1")),
        GreenPurchase("acme", dt.date(2027, 1, 5), Decimal(10), Decimal("0.03")),
        GreenPurchase("beta", dt.date(2026, 2, 9), Decimal(10), Decimal("0.01")),
    ]
    out = {(g.enterprise, str(g.month)): g for g in green_months(buys, GreenRule())}
    assert out["acme", "2026-01"].amount_yuan == Decimal("75000.00")
    assert out["acme", "2026-02"].amount_yuan == Decimal("25000.00")
    assert out["acme", "2026-02"].capped
    assert out["acme", "2026-03"].amount_yuan == 0
    assert out["acme", "2027-01"].amount_yuan == Decimal("0.02")  # a new year; 0.015 → 0.02
    assert out["beta", "2026-02"].amount_yuan == Decimal("0.01")  # 0.005 → 0.01


def test_month_parsing_names_the_text() -> None:
    assert Month.parse("2026-08") == Month(2026, 8) and str(Month(2026, 8)) == "2026-08"
    with pytest.raises(ValueError, match="'2026-13'"):
        Month.parse("2026-13")
    assert Month.of(dt.datetime(2026, 7, 31, 16, 30, tzinfo=dt.UTC)) == Month(2026, 8)

"""Register readings → measured intervals: hand cases and a property over reading sequences
(shuffled, duplicated, with gaps, a reset and a rollover)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vpp.metering import (
    ConflictingReadingError,
    Flag,
    MeterConfig,
    Reading,
    estimate_gap,
    intervals,
)

TZ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 8, 3, 0, 0, tzinfo=TZ)
STEP = dt.timedelta(minutes=15)
CFG = MeterConfig(rated_power_kw=Decimal(1000), register_modulus_kwh=Decimal(1_000_000))


def r(i: int, charge: str, discharge: str, serial: str | None = "S1") -> Reading:
    return Reading("m1", T0 + i * STEP, Decimal(charge), Decimal(discharge), serial)


def test_consecutive_readings_give_exact_deltas() -> None:
    out = intervals([r(0, "10", "20"), r(1, "110.5", "20"), r(2, "110.5", "270.125")], CFG)
    assert [(iv.charge_kwh, iv.discharge_kwh, iv.flag) for iv in out] == [
        (Decimal("100.5"), Decimal(0), Flag.ok),
        (Decimal(0), Decimal("250.125"), Flag.ok),
    ]


def test_rollover_is_exact_and_reset_counts_nothing() -> None:
    out = intervals([r(0, "0", "999900"), r(1, "0", "50"), r(2, "0", "3"), r(3, "0", "80")], CFG)
    assert [(iv.discharge_kwh, iv.flag) for iv in out] == [
        (Decimal(150), Flag.rollover),  # 100 to the wrap + 50
        (Decimal(0), Flag.reset),
        (Decimal(77), Flag.ok),
    ]
    assert out[1].raw_discharge_kwh == Decimal(-47)  # the audit trail keeps the drop


def test_without_a_modulus_every_drop_is_a_reset() -> None:
    cfg = MeterConfig(rated_power_kw=Decimal(1000))
    (iv,) = intervals([r(0, "0", "999900"), r(1, "0", "50")], cfg)
    assert iv.flag is Flag.reset and iv.discharge_kwh == 0


def test_implausible_jump_is_not_counted() -> None:
    # 1000 kW for 15 min is 250 kWh; 10 % headroom allows 275
    ok, bad = intervals([r(0, "0", "0"), r(1, "0", "275"), r(2, "0", "551")], CFG)
    assert ok.flag is Flag.ok and ok.discharge_kwh == 275
    assert bad.flag is Flag.implausible and bad.discharge_kwh == 0 and "exceeds" in bad.note


def test_gap_is_measured_and_flagged_and_estimates_are_for_display() -> None:
    (iv,) = intervals([r(0, "0", "0"), r(4, "0", "400")], CFG)
    assert iv.flag is Flag.gap and iv.discharge_kwh == 400 and "3 reading(s) missing" in iv.note
    assert [kwh for _, kwh in estimate_gap(iv, STEP)] == [Decimal(100)] * 4


def test_meter_swap_breaks_the_chain() -> None:
    out = intervals([r(0, "0", "5000"), r(1, "0", "0", "S2"), r(2, "0", "60", "S2")], CFG)
    assert [(iv.flag, iv.discharge_kwh) for iv in out] == [(Flag.swap, 0), (Flag.ok, 60)]


def test_duplicates_collapse_and_conflicts_are_refused() -> None:
    a = [r(0, "0", "0"), r(1, "0", "10")]
    assert intervals(a + a, CFG) == intervals(a, CFG)
    with pytest.raises(ConflictingReadingError, match=r"meter 'm1' at 2026-08-03T00:15:00\+08:00"):
        intervals([*a, r(1, "0", "11")], CFG)


def test_meters_are_chained_separately() -> None:
    other = Reading("m2", T0 + STEP, Decimal(0), Decimal(5), "X")
    out = intervals([r(0, "0", "0"), other, r(1, "0", "10")], CFG)
    assert [(iv.meter_id, iv.discharge_kwh) for iv in out] == [("m1", Decimal(10))]


@st.composite
def sequences(draw: st.DrawFn) -> tuple[list[Reading], Decimal]:
    """Readings of one meter over a day or less, the true discharge to be counted."""
    n = draw(st.integers(4, 60))
    per_step_max = 250_000  # [Wh]: 1000 kW for 15 min
    true_d = [Decimal(draw(st.integers(0, per_step_max))) / 1000 for _ in range(n)]
    true_c = [Decimal(draw(st.integers(0, per_step_max))) / 1000 for _ in range(n)]
    modulus = CFG.register_modulus_kwh
    assert modulus is not None
    start_d = draw(st.sampled_from([Decimal(5000), modulus - Decimal(300)]))  # near a wrap or not
    reset_at = draw(st.one_of(st.none(), st.integers(1, n - 1)))
    regs_c, regs_d = [Decimal(2000)], [start_d]
    for i in range(n):
        if i == reset_at:
            regs_c.append(Decimal(0))  # the meter was reset: this interval's energy is lost
            regs_d.append(Decimal(0))
        else:
            regs_c.append(regs_c[-1] + true_c[i])
            regs_d.append((regs_d[-1] + true_d[i]) % modulus)
    if reset_at is not None:
        # a reset is a drop only from a register above zero (a register at 0 cannot show one)
        assume(regs_c[reset_at] > 0 and regs_d[reset_at] > 0)
    readings = [Reading("m1", T0 + i * STEP, regs_c[i], regs_d[i], "S1") for i in range(n + 1)]
    # gaps: drop readings that are not an end of the reset interval or of the sequence
    keep_ends = {0, n} | ({reset_at, reset_at + 1} if reset_at is not None else set())
    dropped = draw(st.sets(st.integers(1, n - 1), max_size=n // 3)) - keep_ends
    kept = [rd for i, rd in enumerate(readings) if i not in dropped]
    counted = sum((d for i, d in enumerate(true_d) if i != reset_at), Decimal(0))
    # shuffled and partly duplicated, as late and repeated batches arrive
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    batch = kept + rng.sample(kept, k=len(kept) // 2)
    rng.shuffle(batch)
    return batch, counted


@settings(max_examples=200, deadline=None)
@given(sequences())
def test_counted_discharge_is_the_true_positive_deltas(case: tuple[list[Reading], Decimal]) -> None:
    batch, counted = case
    out = intervals(batch, CFG)
    assert sum((iv.discharge_kwh for iv in out), Decimal(0)) == counted
    assert all(iv.discharge_kwh >= 0 and iv.charge_kwh >= 0 for iv in out)
    assert all(iv.start < iv.end for iv in out)
    assert intervals(batch + batch, CFG) == out  # re-ingestion changes nothing

"""The subsidy ledger: booked amounts per station and month, append-only.

A run for a month computes every station's reward from its stored readings
(``vpp/subsidy.py``) and books the difference to what is already booked for that station and
month: the first run books an ``initial`` entry, later runs an ``adjustment`` only when late
readings changed the figure. Nothing booked is ever edited, so a statement shows what was paid
when, and why it changed. Running the same month again with no new data books nothing.
"""

from __future__ import annotations

import csv
import html
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.auth import Principal
from services.green import months as green_months_of
from services.metering import get as get_station
from services.metering import month_intervals, station_spec
from services.orm import GreenLedgerEntry, LedgerEntry, LedgerRun, StationRow, utcnow
from services.policy import Action, require
from vpp.subsidy import DischargeRule, GreenRule, Month, MonthDischarge, discharge_month

WH = Decimal(1000)
FEN = Decimal(100)
GREEN_RULE = GreenRule()  # Changzhou defaults (vpp/subsidy.py)


def yuan(fen: int) -> Decimal:
    """Fen as yuan with two places (``720.90``, not ``720.9``)."""
    return (Decimal(fen) / FEN).quantize(Decimal("0.01"))


def kwh(wh: int) -> Decimal:
    """Wh as kWh with three places."""
    return (Decimal(wh) / WH).quantize(Decimal("0.001"))


def _booked(session: Session, station_id: str, month: str | None = None) -> tuple[int, int]:
    """Booked eligible Wh and fen for a station (one month, or all months before ``month``
    when it starts with ``<``)."""
    q = select(
        func.coalesce(func.sum(LedgerEntry.eligible_wh), 0),
        func.coalesce(func.sum(LedgerEntry.amount_fen), 0),
    ).where(LedgerEntry.station_id == station_id)
    if month is not None and month.startswith("<"):
        q = q.where(LedgerEntry.month < month[1:])
    elif month is not None:
        q = q.where(LedgerEntry.month == month)
    wh, fen = session.execute(q).one()
    return int(wh), int(fen)


def compute(session: Session, row: StationRow, month: Month, rule: DischargeRule) -> MonthDischarge:
    """The reward of one station-month from its stored readings, the cap counted against
    what earlier months booked."""
    _, fen_before = _booked(session, row.id, f"<{month}")
    ivs = month_intervals(session, row, month)
    return discharge_month(station_spec(row), month, ivs, rule, Decimal(fen_before) / FEN)


def _detail(md: MonthDischarge) -> dict[str, Any]:
    return {
        "metered_kwh": str(md.metered_kwh),
        "eligible_kwh": str(md.eligible_kwh),
        "unattributed_kwh": str(md.unattributed_kwh),
        "rate_yuan_per_kwh": str(md.rate_yuan_per_kwh),
        "amount_yuan": str(md.amount_yuan),
        "flagged_intervals": md.flagged,
        "in_window": md.in_window,
        "eligible_station": md.eligible_station,
        "capped": md.capped,
        "reason": md.reason,
    }


def _rule(rule: DischargeRule, st: StationRow) -> dict[str, Any]:
    """The rule an entry was booked under (rules are settings and may change)."""
    first, last = rule.window(station_spec(st).grid_connection)
    return {
        "rate_yuan_per_kwh": str(rule.rate_yuan_per_kwh),
        "min_power_kw": str(rule.min_power_kw),
        "paid_months": f"{first} to {last}",
        "cap_yuan": None if rule.cap_yuan is None else str(rule.cap_yuan),
    }


@dataclass
class RunResult:
    run: LedgerRun
    entries: list[LedgerEntry]
    green: list[GreenLedgerEntry]


def run_month(
    session: Session,
    who: Principal,
    month: Month,
    rule: DischargeRule | None = None,
    green_rule: GreenRule | None = None,
) -> RunResult:
    """Book ``month`` for every station of the caller's organisation (role: operator).

    One transaction: either every station's entry is booked or none.
    """
    require(who, Action.ledger_write)
    rule = rule or DischargeRule()
    run = LedgerRun(
        id=str(uuid.uuid4()),
        organisation=who.organisation,
        month=str(month),
        client_id=who.client_id,
        created_at=utcnow(),
    )
    session.add(run)
    entries = []
    stations = session.scalars(
        select(StationRow)
        .where(StationRow.organisation == who.organisation)
        .order_by(StationRow.id)
    ).all()
    for st in stations:
        md = compute(session, st, month, rule)
        wh, fen = _booked(session, st.id, str(month))
        d_wh = int(md.eligible_kwh * WH) - wh
        d_fen = int(md.amount_yuan * FEN) - fen
        booked_before = _has_entries(session, st.id, str(month))
        # The first run books even a zero (the statement then says why); later runs book only
        # a change.
        if booked_before and d_wh == 0 and d_fen == 0:
            continue
        entry = LedgerEntry(
            run_id=run.id,
            station_id=st.id,
            month=str(month),
            kind="adjustment" if booked_before else "initial",
            eligible_wh=d_wh,
            amount_fen=d_fen,
            detail={**_detail(md), "rule": _rule(rule, st)},
            created_at=utcnow(),
        )
        session.add(entry)
        session.flush()
        entries.append(entry)
    green = _book_green(session, who.organisation, month, run.id, green_rule or GREEN_RULE)
    session.commit()
    return RunResult(run, entries, green)


def _book_green(
    session: Session, organisation: str, month: Month, run_id: str, rule: GreenRule
) -> list[GreenLedgerEntry]:
    """The green-electricity reward of ``month`` for the organisation: booked like the storage
    reward (a change only, as an adjustment after the first run)."""
    computed = next(
        (g for g in green_months_of(session, organisation, rule) if g.month == month), None
    )
    fen_now = int(computed.amount_yuan * FEN) if computed else 0
    booked = session.execute(
        select(func.count(), func.coalesce(func.sum(GreenLedgerEntry.amount_fen), 0)).where(
            GreenLedgerEntry.organisation == organisation, GreenLedgerEntry.month == str(month)
        )
    ).one()
    n, fen = int(booked[0]), int(booked[1])
    if computed is None and n == 0:
        return []  # no purchases that month and nothing booked: nothing to say
    if n and fen_now == fen:
        return []
    entry = GreenLedgerEntry(
        run_id=run_id,
        organisation=organisation,
        month=str(month),
        kind="adjustment" if n else "initial",
        amount_fen=fen_now - fen,
        detail={
            "energy_kwh": str(computed.energy_kwh) if computed else "0",
            "green_value_yuan": str(computed.green_value_yuan) if computed else "0",
            "amount_yuan": str(computed.amount_yuan) if computed else "0",
            "capped": bool(computed and computed.capped),
            "rule": {
                "share_frac": str(rule.share_frac),
                "cap_yuan_per_year": str(rule.cap_yuan_per_year),
            },
        },
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return [entry]


def _has_entries(session: Session, station_id: str, month: str) -> bool:
    n = session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.station_id == station_id, LedgerEntry.month == month)
    )
    return bool(n)


@dataclass
class Statement:
    """One station-month: the booked entries, their totals, and what a run now would compute."""

    station_id: str
    station_name: str
    month: Month
    entries: list[LedgerEntry]
    booked_kwh: Decimal
    booked_yuan: Decimal
    current: MonthDischarge

    @property
    def pending_yuan(self) -> Decimal:
        """What the next run would book (late data since the last run) [yuan]."""
        return self.current.amount_yuan - self.booked_yuan

    def as_dict(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "month": str(self.month),
            "booked_eligible_kwh": str(self.booked_kwh),
            "booked_amount_yuan": str(self.booked_yuan),
            "pending_amount_yuan": str(self.pending_yuan),
            "current": _detail(self.current),
            "entries": [
                {
                    "id": e.id,
                    "run_id": e.run_id,
                    "kind": e.kind,
                    "eligible_kwh": str(kwh(e.eligible_wh)),
                    "amount_yuan": str(yuan(e.amount_fen)),
                    "booked_at": e.created_at.isoformat(),
                    "detail": e.detail,
                }
                for e in self.entries
            ],
        }


def statement(
    session: Session,
    who: Principal,
    station_id: str,
    month: Month,
    rule: DischargeRule | None = None,
) -> Statement:
    require(who, Action.ledger_read)
    row = get_station(session, who, station_id, Action.ledger_read)
    entries = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.station_id == station_id, LedgerEntry.month == str(month))
            .order_by(LedgerEntry.id)
        )
    )
    wh, fen = _booked(session, station_id, str(month))
    current = compute(session, row, month, rule or DischargeRule())
    return Statement(
        station_id,
        str(row.spec.get("name", station_id)),
        month,
        entries,
        kwh(wh),
        yuan(fen),
        current,
    )


def statement_csv(st: Statement) -> str:
    """The entries as CSV (one row per entry, then the total)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["station_id", "month", "entry_id", "kind", "booked_at", "eligible_kwh", "amount_yuan"]
    )
    for e in st.entries:
        w.writerow(
            [
                st.station_id,
                str(st.month),
                e.id,
                e.kind,
                e.created_at.isoformat(),
                str(kwh(e.eligible_wh)),
                str(yuan(e.amount_fen)),
            ]
        )
    w.writerow(
        [st.station_id, str(st.month), "", "total", "", str(st.booked_kwh), str(st.booked_yuan)]
    )
    return buf.getvalue()


def statement_html(st: Statement) -> str:
    """A printable page of the statement."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{x.id}</td><td>{e(x.kind)}</td><td>{e(x.created_at.strftime('%Y-%m-%d %H:%M'))} UTC</td>"
        f"<td class=n>{kwh(x.eligible_wh):,.3f}</td><td class=n>{yuan(x.amount_fen):,.2f}</td></tr>"
        for x in st.entries
    )
    cur = st.current
    flags = ", ".join(f"{k}: {v}" for k, v in sorted(cur.flagged.items())) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Storage discharge reward — {e(st.station_id)} — {st.month}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #999; padding: 4px 8px; }} .n {{ text-align: right; }}
@media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>Storage discharge reward statement</h1>
<p>Station <b>{e(st.station_name)}</b> ({e(st.station_id)}), month <b>{st.month}</b>.
Rate {cur.rate_yuan_per_kwh} yuan/kWh. {e(cur.reason)}</p>
<table><tr><th>entry</th><th>kind</th><th>booked</th><th>eligible kWh</th><th>amount yuan</th></tr>
{rows}
<tr><th colspan=3>total booked</th><th class=n>{st.booked_kwh:,.3f}</th><th class=n>{st.booked_yuan:,.2f}</th></tr>
</table>
<p>Metered discharge {cur.metered_kwh:,.3f} kWh; eligible {cur.eligible_kwh:,.3f} kWh;
not attributable to one month (a gap across its edge) {cur.unattributed_kwh:,.3f} kWh.
Flagged intervals: {e(flags)}. Pending for the next run: {st.pending_yuan:,.2f} yuan.</p>
<p>Gaps are paid only where the whole gap lies in this month; resets, meter swaps and
implausible intervals are not paid; nothing estimated is paid.</p>
</body></html>
"""


def green_year(
    session: Session, who: Principal, year: int, rule: GreenRule | None = None
) -> list[dict[str, Any]]:
    """The caller's enterprise's green reward by month of ``year``, computed and booked."""
    require(who, Action.ledger_read)
    booked: dict[str, int] = {}
    for e in session.scalars(
        select(GreenLedgerEntry).where(GreenLedgerEntry.organisation == who.organisation)
    ):
        booked[e.month] = booked.get(e.month, 0) + e.amount_fen
    return [
        {
            "month": str(g.month),
            "energy_kwh": str(g.energy_kwh.quantize(Decimal("0.001"))),
            "green_value_yuan": str(g.green_value_yuan.quantize(Decimal("0.01"))),
            "amount_yuan": str(g.amount_yuan.quantize(Decimal("0.01"))),
            "capped": g.capped,
            "booked_yuan": str(yuan(booked.get(str(g.month), 0))),
        }
        for g in green_months_of(session, who.organisation, rule or GREEN_RULE)
        if g.month.year == year
    ]

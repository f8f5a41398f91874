"""``/stations`` and ``/ledger``: storage stations, their meter readings and the subsidy ledger
(issue 8)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from services import green, ledger, metering
from services.api.deps import PrincipalDep, SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import (
    BatchOut,
    GreenEntryOut,
    GreenMonthOut,
    GreenPurchaseOut,
    GreenYearOut,
    IntervalOut,
    IntervalsOut,
    LedgerEntryOut,
    LedgerRunIn,
    LedgerRunOut,
    RejectedReading,
    StationOut,
)
from services.errors import ServiceError
from services.orm import LedgerEntry
from services.policy import Action
from vpp.metering import Flag, estimate_gap
from vpp.subsidy import Month

router = APIRouter(tags=["stations"])
MonthPath = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _entry(e: LedgerEntry) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=e.id,
        station_id=e.station_id,
        month=e.month,
        kind=e.kind,
        eligible_kwh=str(ledger.kwh(e.eligible_wh)),
        amount_yuan=str(ledger.yuan(e.amount_fen)),
        detail=e.detail,
    )


def _month(text: str, field: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise ServiceError(422, "Unprocessable Entity", str(exc), field) from exc


@router.post(
    "/stations", status_code=201, response_model=StationOut, responses=documented(401, 403, 409)
)
def register_station(
    body: metering.StationIn, session: SessionDep, who: PrincipalDep, response: Response
) -> StationOut:
    """Register a storage station (role: operator). Its readings are written by ``station``
    clients of the organisation ``reporter`` (default: the station id)."""
    row = metering.register(session, who, body)
    response.headers["Location"] = f"/stations/{row.id}"
    return StationOut.model_validate(row)


@router.get(
    "/stations/{station_id}", response_model=StationOut, responses=documented(401, 403, 404)
)
def read_station(station_id: str, session: SessionDep, who: PrincipalDep) -> StationOut:
    """A station (its owner's readers, and its own station clients)."""
    return StationOut.model_validate(metering.get(session, who, station_id, Action.stations_read))


@router.post(
    "/stations/{station_id}/readings",
    response_model=BatchOut,
    responses=documented(401, 403, 404, 413),
)
def post_readings(
    station_id: str, body: metering.BatchIn, session: SessionDep, who: PrincipalDep
) -> BatchOut:
    """Store a batch of register readings (role: station, its own station only). Idempotent:
    readings already stored with the same values are duplicates; conflicting ones are listed in
    ``rejected`` and the stored reading stands. Late and out-of-order readings are welcome."""
    res = metering.ingest(session, who, station_id, body)
    return BatchOut(
        accepted=res.accepted,
        duplicates=res.duplicates,
        rejected=[RejectedReading(**r) for r in res.rejected],
        stored_total=metering.reading_count(session, station_id),
    )


@router.get(
    "/stations/{station_id}/intervals/{month}",
    response_model=IntervalsOut,
    responses=documented(401, 403, 404),
)
def read_intervals(
    station_id: str, month: MonthPath, session: SessionDep, who: PrincipalDep
) -> IntervalsOut:
    """The station's measured intervals in a month with their flags (gaps, resets, rollovers,
    meter swaps, implausible values); gaps carry a display-only even spread."""
    row = metering.get(session, who, station_id, Action.stations_read)
    m = _month(month, "month")
    ivs = [
        iv
        for iv in metering.month_intervals(session, row, m)
        if iv.end > m.start and iv.start < m.end
    ]
    step = metering.meter_config(row).interval_min
    out = []
    flagged: dict[str, int] = {}
    for iv in ivs:
        flagged[iv.flag.value] = flagged.get(iv.flag.value, 0) + 1
        est = None
        if iv.flag is Flag.gap:
            est = str(estimate_gap(iv, dt.timedelta(minutes=step))[0][1])
        out.append(
            IntervalOut(
                meter_id=iv.meter_id,
                start=iv.start,
                end=iv.end,
                charge_kwh=str(iv.charge_kwh),
                discharge_kwh=str(iv.discharge_kwh),
                raw_charge_kwh=str(iv.raw_charge_kwh),
                raw_discharge_kwh=str(iv.raw_discharge_kwh),
                flag=iv.flag.value,
                note=iv.note,
                estimate_discharge_kwh_per_step=est,
            )
        )
    metered = sum((iv.discharge_kwh for iv in ivs if iv.measured), Decimal(0))
    return IntervalsOut(
        station_id=station_id,
        month=str(m),
        flagged=flagged,
        metered_discharge_kwh=str(metered),
        intervals=out,
    )


@router.get(
    "/stations/{station_id}/reconciliation/{day}",
    responses=documented(401, 403, 404),
)
def read_reconciliation(
    station_id: str, day: dt.date, session: SessionDep, who: PrincipalDep
) -> dict[str, Any]:
    """Metered discharge of a day against the planned discharge of the station's battery in the
    newest finished day-ahead schedule of its park, per 15-minute step [kWh]."""
    return metering.reconcile(session, who, station_id, day)


@router.post(
    "/ledger/runs", status_code=201, response_model=LedgerRunOut, responses=documented(401, 403)
)
def run_ledger(
    body: LedgerRunIn, session: SessionDep, who: PrincipalDep, settings: SettingsDep
) -> LedgerRunOut:
    """Book a month for every station of the caller's organisation (role: operator). The first
    run books each station's amount; later runs book only changes (late data) as adjustments."""
    res = ledger.run_month(
        session, who, _month(body.month, "month"), settings.discharge_rule(), settings.green_rule()
    )
    return LedgerRunOut(
        id=res.run.id,
        month=res.run.month,
        organisation=res.run.organisation,
        created_at=res.run.created_at,
        entries=[_entry(e) for e in res.entries],
        green_entries=[
            GreenEntryOut(
                id=g.id,
                month=g.month,
                kind=g.kind,
                amount_yuan=str(ledger.yuan(g.amount_fen)),
                detail=g.detail,
            )
            for g in res.green
        ],
    )


@router.post(
    "/green-purchases",
    status_code=201,
    response_model=GreenPurchaseOut,
    responses={
        200: {"model": GreenPurchaseOut, "description": "Already stored"},
        **documented(401, 403, 409),
    },
)
def post_green_purchase(
    body: green.GreenPurchaseIn, session: SessionDep, who: PrincipalDep, response: Response
) -> GreenPurchaseOut:
    """Record a green power purchase of the caller's enterprise (role: operator). The same
    ``ref`` again with the same values is a no-op (200); with other values, 409."""
    row, new = green.record(session, who, body)
    if not new:
        response.status_code = 200
    return GreenPurchaseOut(
        ref=row.ref,
        organisation=row.organisation,
        delivered_date=row.delivered_date,
        energy_kwh=str(ledger.kwh(row.energy_wh)),
        green_value_yuan=str(ledger.yuan(row.green_value_fen)),
        new=new,
    )


@router.get("/green-rewards/{year}", response_model=GreenYearOut, responses=documented(401, 403))
def read_green_rewards(
    year: Annotated[int, Path(ge=2000, le=2100)],
    session: SessionDep,
    who: PrincipalDep,
    settings: SettingsDep,
) -> GreenYearOut:
    """The caller's enterprise's green-electricity reward by month of ``year``: computed from
    its purchases (half the green-environment value, capped per year) and as booked."""
    rule = settings.green_rule()
    rows = ledger.green_year(session, who, year, rule)
    return GreenYearOut(
        organisation=who.organisation,
        year=year,
        cap_yuan_per_year=str(rule.cap_yuan_per_year),
        months=[GreenMonthOut(**r) for r in rows],
    )


@router.get(
    "/stations/{station_id}/statements/{month}",
    responses={
        200: {
            "description": "The statement: JSON, CSV or a printable HTML page",
            "content": {"application/json": {}, "text/csv": {}, "text/html": {}},
        },
        **documented(401, 403, 404),
    },
)
def read_statement(
    station_id: str,
    month: MonthPath,
    session: SessionDep,
    who: PrincipalDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["json", "csv", "html"], Query(description="json, csv or html")
    ] = "json",
) -> Response:
    """A station-month of the discharge reward: booked entries and totals, and what the next
    run would add (roles: operator, planner, viewer of the owner)."""
    st = ledger.statement(
        session, who, station_id, _month(month, "month"), settings.discharge_rule()
    )
    if format == "csv":
        return Response(ledger.statement_csv(st), media_type="text/csv")
    if format == "html":
        return Response(ledger.statement_html(st), media_type="text/html")
    return Response(json.dumps(st.as_dict()), media_type="application/json")

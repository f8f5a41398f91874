"""Storage stations and their meter readings in the service (issue 8).

Readings are stored as received in an append-only table (integer Wh) and never edited. A batch
is idempotent: a reading already stored with the same values is a duplicate (no-op), one with
other values for the same meter and time is rejected and reported (the stored one stands).
Readings may arrive late and in any order; the flagged intervals (``vpp/metering.py``) are
computed from the stored readings whenever they are asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.auth import Principal, Role
from services.errors import ServiceError, conflict, forbidden, not_found
from services.fields import Amount
from services.orm import Job, MeterReadingRow, StationRow, utcnow
from services.policy import Action, require
from vpp.metering import Interval, MeterConfig, Reading, intervals
from vpp.subsidy import Month, Station

MAX_BATCH = 10_000
TZ = dt.timezone(dt.timedelta(hours=8))  # days are local days (Asia/Shanghai)
WH = Decimal(1000)


class StationIn(BaseModel):
    """A storage station to register (role: operator)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=200)
    park_id: str | None = Field(None, max_length=64, description="The park it stands in")
    asset_id: str | None = Field(
        None,
        max_length=64,
        description="Its battery asset in the park file (for the reconciliation with schedules)",
    )
    rated_power_kw: Amount = Field(gt=0, le=10_000_000, description="Rated power [kW]")
    energy_kwh: Amount | None = Field(None, gt=0, description="Rated energy [kWh]")
    grid_connection_date: dt.date = Field(description="Local date of grid connection")
    interval_min: int = Field(15, ge=1, le=60, description="Reading interval [min]")
    register_modulus_kwh: Amount | None = Field(
        None, gt=0, description="Where the registers wrap to zero [kWh]; none: they do not"
    )
    reporter: str | None = Field(
        None,
        max_length=64,
        description="Organisation of the station clients that write its readings "
        "(default: the station id)",
    )


class ReadingIn(BaseModel):
    """One reading of a meter's cumulative registers."""

    model_config = ConfigDict(extra="forbid")
    meter_id: str = Field(min_length=1, max_length=64)
    ts: dt.datetime = Field(description="Time of the reading, with its UTC offset")
    charge_kwh: Amount = Field(ge=0, le=10**12, decimal_places=3, description="Register [kWh]")
    discharge_kwh: Amount = Field(ge=0, le=10**12, decimal_places=3, description="Register [kWh]")
    serial: str | None = Field(None, max_length=64, description="Meter serial number")

    @field_validator("ts")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("needs a UTC offset (e.g. +08:00)")
        return v


class BatchIn(BaseModel):
    """A batch of readings of one station (role: station)."""

    model_config = ConfigDict(extra="forbid")
    readings: list[ReadingIn] = Field(min_length=1, max_length=MAX_BATCH)


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def station_spec(row: StationRow) -> Station:
    spec = row.spec
    return Station(
        row.id,
        Decimal(str(spec["rated_power_kw"])),
        dt.date.fromisoformat(spec["grid_connection_date"]),
    )


def meter_config(row: StationRow) -> MeterConfig:
    spec = row.spec
    modulus = spec.get("register_modulus_kwh")
    return MeterConfig(
        Decimal(str(spec["rated_power_kw"])),
        int(spec.get("interval_min", 15)),
        None if modulus is None else Decimal(str(modulus)),
    )


def register(session: Session, who: Principal, body: StationIn) -> StationRow:
    require(who, Action.stations_write)
    spec = body.model_dump(mode="json", exclude_none=True)
    row = StationRow(
        id=body.id,
        organisation=who.organisation,
        reporter=body.reporter or body.id,
        spec=spec,
        client_id=who.client_id,
        created_at=utcnow(),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(f"station {body.id!r} already exists", "id") from exc
    return row


def _visible(who: Principal, row: StationRow) -> bool:
    if who.role is Role.station:
        return who.organisation == row.reporter
    return who.organisation == row.organisation


def get(session: Session, who: Principal, station_id: str, action: Action) -> StationRow:
    """A station the principal may ``action`` (404 when it is not theirs to see)."""
    require(who, action)
    row = session.get(StationRow, station_id)
    if row is None or not _visible(who, row):
        raise not_found(f"station {station_id!r}")
    return row


def _wh(kwh: Decimal) -> int:
    return int(kwh * WH)


def _key(meter_id: str, ts: dt.datetime) -> tuple[str, dt.datetime]:
    return meter_id, ts.astimezone(dt.UTC)


def ingest(session: Session, who: Principal, station_id: str, batch: BatchIn) -> BatchResult:
    """Store a batch of readings (see the module doc); one transaction for the batch.

    Raises
    ------
    ServiceError
        403 unless the caller is a station client of this station; 404 for an unknown station.
    """
    require(who, Action.readings_write)
    row = session.get(StationRow, station_id)
    if row is None:
        raise not_found(f"station {station_id!r}")
    if who.organisation != row.reporter:
        raise forbidden(f"station client of {who.organisation!r} may not write {station_id!r}")
    for _attempt in range(3):
        try:
            return _ingest_once(session, who, station_id, batch)
        except IntegrityError:
            # A concurrent batch stored some of these readings first: classify them again.
            session.rollback()
    raise ServiceError(503, "Service Unavailable", "readings kept colliding; retry the batch")


def _ingest_once(session: Session, who: Principal, station_id: str, batch: BatchIn) -> BatchResult:
    incoming: dict[tuple[str, dt.datetime], ReadingIn] = {}
    result = BatchResult()
    for i, r in enumerate(batch.readings):
        key = _key(r.meter_id, r.ts)
        seen = incoming.get(key)
        if seen is None:
            incoming[key] = r
        elif (seen.charge_kwh, seen.discharge_kwh, seen.serial) == (
            r.charge_kwh,
            r.discharge_kwh,
            r.serial,
        ):
            result.duplicates += 1
        else:
            result.rejected.append(
                {
                    "index": i,
                    "meter_id": r.meter_id,
                    "ts": r.ts.isoformat(),
                    "reason": "differs "
                    "from another reading of the same meter and time in this batch",
                }
            )
    stored = _stored(session, station_id, list(incoming))
    new_rows = []
    now = utcnow()
    for key, r in incoming.items():
        old = stored.get(key)
        if old is None:
            new_rows.append(
                {
                    "station_id": station_id,
                    "meter_id": r.meter_id,
                    "ts": key[1],
                    "charge_wh": _wh(r.charge_kwh),
                    "discharge_wh": _wh(r.discharge_kwh),
                    "serial": r.serial,
                    "client_id": who.client_id,
                    "received_at": now,
                }
            )
        elif (old.charge_wh, old.discharge_wh, old.serial) == (
            _wh(r.charge_kwh),
            _wh(r.discharge_kwh),
            r.serial,
        ):
            result.duplicates += 1
        else:
            result.rejected.append(
                {
                    "meter_id": r.meter_id,
                    "ts": r.ts.isoformat(),
                    "reason": f"conflicts with the stored reading (discharge "
                    f"{Decimal(old.discharge_wh) / WH} kWh, charge {Decimal(old.charge_wh) / WH} "
                    f"kWh, serial {old.serial}), which stands",
                }
            )
    if new_rows:
        session.execute(insert(MeterReadingRow), new_rows)
    session.commit()
    result.accepted = len(new_rows)
    return result


def _stored(
    session: Session, station_id: str, keys: list[tuple[str, dt.datetime]]
) -> dict[tuple[str, dt.datetime], MeterReadingRow]:
    if not keys:
        return {}
    out: dict[tuple[str, dt.datetime], MeterReadingRow] = {}
    by_meter: dict[str, list[dt.datetime]] = {}
    for meter, ts in keys:
        by_meter.setdefault(meter, []).append(ts)
    for meter, times in by_meter.items():
        q = select(MeterReadingRow).where(
            MeterReadingRow.station_id == station_id,
            MeterReadingRow.meter_id == meter,
            MeterReadingRow.ts >= min(times),
            MeterReadingRow.ts <= max(times),
        )
        for row in session.scalars(q):
            out[_key(row.meter_id, row.ts)] = row
    return out


def _reading(row: MeterReadingRow) -> Reading:
    return Reading(
        row.meter_id,
        row.ts,
        Decimal(row.charge_wh) / WH,
        Decimal(row.discharge_wh) / WH,
        row.serial,
    )


def month_intervals(session: Session, row: StationRow, month: Month) -> list[Interval]:
    """The station's flagged intervals touching ``month``."""
    return range_intervals(session, row, month.start, month.end)


def range_intervals(
    session: Session, row: StationRow, start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """The station's flagged intervals touching [start, end]: its readings in the range and,
    per meter, the last before and the first after it."""
    m0, m1 = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    meters = session.scalars(
        select(MeterReadingRow.meter_id).where(MeterReadingRow.station_id == row.id).distinct()
    ).all()
    conds = [and_(MeterReadingRow.ts >= m0, MeterReadingRow.ts <= m1)]
    for meter in meters:
        before = session.scalar(
            select(func.max(MeterReadingRow.ts)).where(
                MeterReadingRow.station_id == row.id,
                MeterReadingRow.meter_id == meter,
                MeterReadingRow.ts < m0,
            )
        )
        after = session.scalar(
            select(func.min(MeterReadingRow.ts)).where(
                MeterReadingRow.station_id == row.id,
                MeterReadingRow.meter_id == meter,
                MeterReadingRow.ts > m1,
            )
        )
        for ts in (before, after):
            if ts is not None:
                conds.append(and_(MeterReadingRow.meter_id == meter, MeterReadingRow.ts == ts))
    rows = session.scalars(
        select(MeterReadingRow).where(MeterReadingRow.station_id == row.id, or_(*conds))
    ).all()
    return intervals([_reading(r) for r in rows], meter_config(row))


def reconcile(session: Session, who: Principal, station_id: str, day: dt.date) -> dict[str, Any]:
    """Metered discharge of a day against the optimizer's planned discharge, per 15-minute step.

    The plan is the station's battery (``asset_id``) in the newest finished day-ahead schedule
    of its park (``park_id``) for ``day``. Metered energy of an interval of one step is exact;
    an interval over several steps (a gap) is spread evenly over them and those steps are
    flagged ``estimated`` (for looking at, as everywhere, never for payment).

    Raises
    ------
    ServiceError
        404 for a station not visible; 422 when the station names no park or asset, or no
        finished schedule of its park for the day exists (named).
    """
    row = get(session, who, station_id, Action.ledger_read)
    park_id, asset_id = row.spec.get("park_id"), row.spec.get("asset_id")
    if not park_id or not asset_id:
        raise ServiceError(
            422,
            "Unprocessable Entity",
            f"station {station_id!r} names no park_id and asset_id: register them to reconcile",
            "park_id",
        )
    jobs = session.scalars(
        select(Job)
        .where(Job.organisation == row.organisation, Job.status == "done")
        .order_by(Job.finished_at.desc())
    ).all()
    plan = None
    for job in jobs:
        result = job.result or {}
        if result.get("date") == day.isoformat() and park_id in result.get("parks", {}):
            plan = (job.id, result["parks"][park_id]["schedule"])
            break
    if plan is None:
        raise ServiceError(
            422,
            "Unprocessable Entity",
            f"no finished day-ahead schedule of park {park_id!r} for {day}: POST /schedules first",
            "date",
        )
    job_id, schedule = plan
    column = f"{asset_id}.discharge_kw"
    if column not in schedule:
        raise ServiceError(
            422,
            "Unprocessable Entity",
            f"park {park_id!r} has no battery {asset_id!r} in its schedule",
            "asset_id",
        )
    step = dt.timedelta(minutes=15)
    t0 = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
    n = len(schedule[column])
    dt_h = Decimal(step.total_seconds()) / Decimal(3600)
    planned = [Decimal(str(v)) * dt_h for v in schedule[column]]
    metered = [Decimal(0)] * n
    measured = [False] * n
    estimated = [False] * n
    for iv in range_intervals(session, row, t0, t0 + n * step):
        if not iv.measured:
            continue
        first = int((iv.start - t0) / step)
        last = int((iv.end - t0) / step)  # exclusive
        if last - first < 1:
            continue
        share = iv.discharge_kwh / (last - first)
        for k in range(max(first, 0), min(last, n)):
            metered[k] += share
            measured[k] = True
            estimated[k] = estimated[k] or last - first > 1
    steps = [
        {
            "start": (t0 + k * step).isoformat(),
            "planned_discharge_kwh": str(planned[k].quantize(Decimal("0.001"))),
            "metered_discharge_kwh": str(metered[k].quantize(Decimal("0.001")))
            if measured[k]
            else None,
            "estimated": estimated[k],
        }
        for k in range(n)
    ]
    total_plan = sum(planned, Decimal(0))
    total_meter = sum((m for m, ok in zip(metered, measured, strict=True) if ok), Decimal(0))
    plan_on_metered = sum((p for p, ok in zip(planned, measured, strict=True) if ok), Decimal(0))
    return {
        "station_id": station_id,
        "date": day.isoformat(),
        "schedule_job_id": job_id,
        "planned_discharge_kwh": str(total_plan.quantize(Decimal("0.001"))),
        "metered_discharge_kwh": str(total_meter.quantize(Decimal("0.001"))),
        "planned_on_metered_steps_kwh": str(plan_on_metered.quantize(Decimal("0.001"))),
        "deviation_kwh": str((total_meter - plan_on_metered).quantize(Decimal("0.001"))),
        "unmetered_steps": measured.count(False),
        "estimated_steps": estimated.count(True),
        "steps": steps,
    }


def reading_count(session: Session, station_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(MeterReadingRow)
            .where(MeterReadingRow.station_id == station_id)
        )
        or 0
    )

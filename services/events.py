"""Grid DR events: receive (idempotent by id and modification), allocate, cancel, read.

Rules (issue 7):

- the same event id and modification number posted again returns the stored event and never
  dispatches twice (the primary key decides between concurrent posts);
- the same id and modification with a different body is refused (409);
- a higher modification replaces the event and its plan (a new allocation); a lower one is
  refused as stale (409);
- a cancellation releases the plan; everything stays in the event's history.

Allocation runs in the background (``run_allocation``) with the VPP layer's methods (the
monolithic MILP up to 3 parks, decomposition above); it stores its plan only if the event is
still at the modification it computed for and was not cancelled meanwhile.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.series import confined_data_paths
from models.solve import SolverOptions
from models.spec import ParkSpec, validate_park
from services.auth import Principal
from services.background import guarded
from services.errors import ServiceError, conflict, not_found
from services.orm import DrEventRow, DrEventVersion, Park, Vpp, utcnow
from services.policy import Action, can_see, require
from vpp.allocation import allocate_monolithic
from vpp.decomposition import allocate_decomposed
from vpp.event import DrEvent
from vpp.spec import resolve_parks

MONOLITHIC_MAX_PARKS = 3
Status = Literal["allocating", "allocated", "failed", "cancelled"]
_NUMERIC = (
    "requested_kw",
    "price_yuan_per_kwh",
    "price_yuan_per_kw",
    "shortfall_penalty_yuan_per_kwh",
)


class EventIn(BaseModel):
    """What the grid company posts: the event, the VPP it calls, its modification number."""

    model_config = ConfigDict(extra="forbid")
    vpp_id: str = Field(max_length=64, description="The VPP the event calls")
    modification_number: int = Field(
        0, ge=0, strict=True, description="0 for a new event; higher numbers replace it"
    )
    event: DrEvent

    @model_validator(mode="before")
    @classmethod
    def _no_bools(cls, raw: Any) -> Any:
        # JSON true/false are not numbers here (pydantic's lax mode would read them as 1/0).
        ev = raw.get("event") if isinstance(raw, dict) else None
        if isinstance(ev, dict):
            for key in _NUMERIC:
                v = ev.get(key)
                if isinstance(v, bool) or (
                    isinstance(v, list) and any(isinstance(x, bool) for x in v)
                ):
                    raise ValueError(f"event.{key}: a boolean is not a number")
        return raw


def _visible(who: Principal, row: DrEventRow, vpp_org: str) -> bool:
    return can_see(who, row.organisation) or who.organisation == vpp_org


def _history(session: Session, row: DrEventRow) -> None:
    session.add(
        DrEventVersion(
            event_id=row.id,
            modification=row.modification,
            status=row.status,
            spec=row.spec,
            plan=row.plan,
            error=row.error,
        )
    )


def receive(session: Session, who: Principal, body: EventIn) -> tuple[DrEventRow, bool]:
    """Store an event (or recognise it); returns the row and whether it needs allocating."""
    require(who, Action.events_write)
    vpp = session.get(Vpp, body.vpp_id)
    if vpp is None:
        raise ServiceError(422, "Unprocessable Entity", f"no VPP {body.vpp_id!r}", "vpp_id")
    spec = body.event.model_dump(mode="json")
    event_id = body.event.id
    row = session.get(DrEventRow, event_id)
    if row is None:
        now = utcnow()
        row = DrEventRow(
            id=event_id,
            organisation=who.organisation,
            vpp_id=body.vpp_id,
            modification=body.modification_number,
            status="allocating",
            spec=spec,
            allocations_run=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        try:
            session.flush()
            _history(session, row)
            session.commit()
            return row, True
        except IntegrityError:
            session.rollback()  # a concurrent post of the same event won: treat as a repeat
            row = session.get(DrEventRow, event_id)
            assert row is not None
    if row.organisation != who.organisation:
        raise conflict(f"event id {event_id!r} belongs to another grid company", "event.id")
    if body.modification_number < row.modification:
        raise conflict(
            f"event {event_id!r} is at modification {row.modification}; "
            f"{body.modification_number} is stale",
            "modification_number",
        )
    if body.modification_number == row.modification:
        if row.spec != spec or row.vpp_id != body.vpp_id:
            raise conflict(
                f"event {event_id!r} modification {row.modification} was received with other "
                "content: send a higher modification_number to change it",
                "modification_number",
            )
        return row, False
    done = session.execute(
        update(DrEventRow)
        .where(DrEventRow.id == event_id, DrEventRow.modification == row.modification)
        .values(
            modification=body.modification_number,
            vpp_id=body.vpp_id,
            spec=spec,
            status="allocating",
            plan=None,
            error=None,
            updated_at=utcnow(),
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise conflict(f"event {event_id!r} was modified concurrently: post again", "event.id")
    session.commit()
    session.refresh(row)
    _history(session, row)
    session.commit()
    return row, True


def get(session: Session, who: Principal, event_id: str) -> DrEventRow:
    require(who, Action.events_read)
    row = session.get(DrEventRow, event_id)
    if row is None:
        raise not_found(f"event {event_id!r}")
    vpp = session.get(Vpp, row.vpp_id)
    if not _visible(who, row, vpp.organisation if vpp else ""):
        raise not_found(f"event {event_id!r}")
    return row


def history(session: Session, who: Principal, event_id: str) -> list[DrEventVersion]:
    get(session, who, event_id)
    return list(
        session.scalars(
            select(DrEventVersion)
            .where(DrEventVersion.event_id == event_id)
            .order_by(DrEventVersion.id)
        )
    )


def cancel(session: Session, who: Principal, event_id: str) -> DrEventRow:
    """Cancel an event: its plan is released (kept in the history)."""
    require(who, Action.events_write)
    row = get(session, who, event_id)
    if row.organisation != who.organisation:
        raise ServiceError(403, "Forbidden", "only the grid company that sent it can cancel it")
    if row.status == "cancelled":
        return row
    row.status = "cancelled"
    row.plan = None
    row.updated_at = utcnow()
    session.flush()
    _history(session, row)
    session.commit()
    return row


def _park_specs(session: Session, vpp: Vpp, files_dir: Path) -> list[tuple[ParkSpec, Path]]:
    out = []
    for i, item in enumerate(vpp.spec["parks"]):
        if isinstance(item, str):
            park = session.get(Park, item)
            if park is None:
                raise ServiceError(
                    422, "Unprocessable Entity", f"park {item!r} is gone", f"parks[{i}]"
                )
            out.append((validate_park(park.spec, source=item), files_dir))
        else:
            out.append((validate_park(item, source=f"{vpp.id}:parks[{i}]"), files_dir))
    return out


def allocate(
    session: Session, row: DrEventRow, files_dir: Path, scheduler: str | None
) -> dict[str, Any]:
    """The allocation plan of an event (the VPP layer; no database writes)."""
    vpp = session.get(Vpp, row.vpp_id)
    if vpp is None:
        raise ServiceError(422, "Unprocessable Entity", f"VPP {row.vpp_id!r} is gone", "vpp_id")
    event = DrEvent.model_validate(row.spec)
    with confined_data_paths(files_dir):  # a client's park names files: only the data folder's
        resolved = resolve_parks(_park_specs(session, vpp, files_dir), event.start.date())
    options = SolverOptions(time_limit_s=300.0)
    if len(resolved) <= MONOLITHIC_MAX_PARKS:
        alloc = allocate_monolithic(resolved, event, options)
    else:
        alloc = allocate_decomposed(resolved, event, options, scheduler=scheduler)
    plan: dict[str, Any] = alloc.as_dict(resolved[0].grid.dt_h)
    plan["vpp_id"] = vpp.id
    plan["vpp_version"] = vpp.version
    plan["computed_at"] = dt.datetime.now(dt.UTC).isoformat()
    return plan


def run_allocation(
    sessions: sessionmaker[Session],
    event_id: str,
    modification: int,
    files_dir: Path,
    scheduler: str | None = "serial",
) -> None:
    """Allocate an event in the background and store the plan (or the failure)."""
    with sessions() as session:
        row = session.get(DrEventRow, event_id)
        if row is None or row.modification != modification or row.status != "allocating":
            return
        plan, error = guarded(
            lambda: allocate(session, row, files_dir, scheduler), f"allocation of event {event_id}"
        )
        status = "failed" if error else "allocated"
        # Only the modification this was computed for, and only if not cancelled meanwhile.
        done = session.execute(
            update(DrEventRow)
            .where(
                DrEventRow.id == event_id,
                DrEventRow.modification == modification,
                DrEventRow.status == "allocating",
            )
            .values(
                status=status,
                plan=plan,
                error=error,
                allocations_run=DrEventRow.allocations_run + 1,
                updated_at=utcnow(),
            )
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            session.commit()
            session.refresh(row)
            _history(session, row)
        session.commit()

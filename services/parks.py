"""Parks in the database: create, read, versioned update, list, history.

A park is stored as its validated park file (the same schema as ``vpp schema park``); every
version is kept in ``park_versions``, never edited. An update names the version it replaces
(``If-Match``), so two operators cannot overwrite each other unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.spec import ParkSpec
from services.auth import Principal
from services.errors import ServiceError, conflict, not_found
from services.orm import Park, ParkVersion, utcnow
from services.policy import Action, can_see, require, require_owner


@dataclass(frozen=True)
class Page:
    items: list[Park]
    total: int
    limit: int
    offset: int


def _spec_json(spec: ParkSpec) -> dict[str, Any]:
    """The stored form: the validated park file as JSON (``None`` fields left out)."""
    return spec.model_dump(mode="json", exclude_none=True)


def create_park(session: Session, who: Principal, park: ParkSpec) -> Park:
    require(who, Action.parks_write)
    spec = _spec_json(park)
    park_id = spec["id"]
    now = utcnow()
    row = Park(
        id=park_id,
        organisation=who.organisation,
        version=1,
        spec=spec,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.add(ParkVersion(park_id=park_id, version=1, spec=spec, client_id=who.client_id))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(f"park {park_id!r} already exists", "id") from exc
    return row


def get_park(session: Session, who: Principal, park_id: str) -> Park:
    require(who, Action.parks_read)
    park = session.get(Park, park_id)
    if park is None or not can_see(who, park.organisation):
        raise not_found(f"park {park_id!r}")
    return park


def update_park(
    session: Session, who: Principal, park_id: str, new: ParkSpec, expected_version: int | None
) -> Park:
    """Replace a park's spec with a new version.

    Raises
    ------
    ServiceError
        428 without ``If-Match``; 412 when the park has moved on; 422 when the body's ``id``
        differs from the path's.
    """
    require(who, Action.parks_write)
    park = get_park(session, who, park_id)
    require_owner(who, park.organisation)
    if expected_version is None:
        raise ServiceError(
            428, "Precondition Required", 'send If-Match: "<version>" of the park you edited'
        )
    spec = _spec_json(new)
    if spec["id"] != park_id:
        raise ServiceError(422, "Unprocessable Entity", "the id cannot change", "id")
    # Compare-and-set on the version: a concurrent update loses cleanly instead of overwriting.
    new_version = park.version + 1
    updated = (
        session.query(Park)
        .filter(Park.id == park_id, Park.version == expected_version)
        .update({"version": new_version, "spec": spec, "updated_at": utcnow()})
    )
    if updated != 1:
        session.rollback()
        current = session.get(Park, park_id)
        raise ServiceError(
            412,
            "Precondition Failed",
            f"park {park_id!r} is at version {current.version if current else '?'}, "
            f"not {expected_version}: fetch it again and reapply your change",
        )
    session.add(
        ParkVersion(park_id=park_id, version=new_version, spec=spec, client_id=who.client_id)
    )
    session.commit()
    session.refresh(park)
    return park


def list_parks(session: Session, who: Principal, limit: int, offset: int) -> Page:
    require(who, Action.parks_read)
    q = select(Park)
    count = select(func.count()).select_from(Park)
    if not can_see(who, "\0"):  # not a read-all role: own organisation only
        q = q.where(Park.organisation == who.organisation)
        count = count.where(Park.organisation == who.organisation)
    items = list(session.scalars(q.order_by(Park.id).limit(limit).offset(offset)))
    total = int(session.scalar(count) or 0)
    return Page(items, total, limit, offset)


def park_history(session: Session, who: Principal, park_id: str) -> list[ParkVersion]:
    get_park(session, who, park_id)
    return list(
        session.scalars(
            select(ParkVersion).where(ParkVersion.park_id == park_id).order_by(ParkVersion.version)
        )
    )

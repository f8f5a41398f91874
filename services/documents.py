"""Versioned documents (parks, VPPs): create, read, versioned update, list, history.

A document is stored as its validated file (the same schema as the files); every version is kept
in its history table, never edited. An update names the version it replaces (``If-Match``), so
two operators cannot overwrite each other unseen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.auth import Principal
from services.errors import ServiceError, conflict, not_found
from services.orm import Park, ParkVersion, Vpp, VppVersion, utcnow
from services.policy import READ_ALL, Action, can_see, require, require_owner


@dataclass(frozen=True)
class Kind:
    """One kind of versioned document and its tables."""

    label: str
    table: Any  # Park or Vpp (same columns)
    history: Any  # ParkVersion or VppVersion
    read: Action
    write: Action

    def version_row(self, doc_id: str, version: int, spec: dict[str, Any], client: str) -> Any:
        if self.history is ParkVersion:
            return ParkVersion(park_id=doc_id, version=version, spec=spec, client_id=client)
        return VppVersion(vpp_id=doc_id, version=version, spec=spec, client_id=client)

    def history_of(self, doc_id: str) -> Any:
        if self.history is ParkVersion:
            return (
                select(ParkVersion)
                .where(ParkVersion.park_id == doc_id)
                .order_by(ParkVersion.version)
            )
        return select(VppVersion).where(VppVersion.vpp_id == doc_id).order_by(VppVersion.version)


PARKS = Kind("park", Park, ParkVersion, Action.parks_read, Action.parks_write)
VPPS = Kind("vpp", Vpp, VppVersion, Action.vpps_read, Action.vpps_write)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    limit: int
    offset: int


# Validates a body against the database (e.g. a VPP's parks exist), raising ServiceError.
Check = Callable[[Session, Principal, dict[str, Any]], None]


def create(
    session: Session, who: Principal, kind: Kind, spec: dict[str, Any], check: Check | None = None
) -> Any:
    """Store version 1 of a new document; ``check`` runs only once the caller may write, so it
    tells nothing about stored objects to a caller without the right."""
    require(who, kind.write)
    if check is not None:
        check(session, who, spec)
    doc_id = spec["id"]
    now = utcnow()
    row = kind.table(
        id=doc_id,
        organisation=who.organisation,
        version=1,
        spec=spec,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.flush()
        session.add(kind.version_row(doc_id, 1, spec, who.client_id))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(f"{kind.label} {doc_id!r} already exists", "id") from exc
    return row


def get(session: Session, who: Principal, kind: Kind, doc_id: str) -> Any:
    require(who, kind.read)
    row = session.get(kind.table, doc_id)
    if row is None or not can_see(who, row.organisation):
        raise not_found(f"{kind.label} {doc_id!r}")
    return row


def replace(
    session: Session,
    who: Principal,
    kind: Kind,
    doc_id: str,
    spec: dict[str, Any],
    expected_version: int | None,
    check: Check | None = None,
) -> Any:
    """Replace a document with a new version (``check`` as in :func:`create`).

    Raises
    ------
    ServiceError
        428 without ``If-Match``; 412 when it has moved on; 422 when the body's ``id`` differs
        from the path's.
    """
    require(who, kind.write)
    row = get(session, who, kind, doc_id)
    require_owner(who, row.organisation)
    if expected_version is None:
        raise ServiceError(
            428,
            "Precondition Required",
            f'send If-Match: "<version>" of the {kind.label} you edited',
            "If-Match",
        )
    if spec["id"] != doc_id:
        raise ServiceError(422, "Unprocessable Entity", "the id cannot change", "id")
    if check is not None:
        check(session, who, spec)
    # Compare-and-set on the version: a concurrent update loses cleanly instead of overwriting.
    new_version = expected_version + 1
    done = session.execute(
        update(kind.table)
        .where(kind.table.id == doc_id, kind.table.version == expected_version)
        .values(version=new_version, spec=spec, updated_at=utcnow())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        current = session.get(kind.table, doc_id)
        raise ServiceError(
            412,
            "Precondition Failed",
            f"{kind.label} {doc_id!r} is at version {current.version if current else '?'}, "
            f"not {expected_version}: fetch it again and reapply your change",
            "If-Match",
        )
    session.add(kind.version_row(doc_id, new_version, spec, who.client_id))
    session.commit()
    session.refresh(row)
    return row


def page(session: Session, who: Principal, kind: Kind, limit: int, offset: int) -> Page:
    require(who, kind.read)
    q = select(kind.table)
    count = select(func.count()).select_from(kind.table)
    if who.role not in READ_ALL:  # own organisation only
        q = q.where(kind.table.organisation == who.organisation)
        count = count.where(kind.table.organisation == who.organisation)
    items = list(session.scalars(q.order_by(kind.table.id).limit(limit).offset(offset)))
    return Page(items, int(session.scalar(count) or 0), limit, offset)


def history(session: Session, who: Principal, kind: Kind, doc_id: str) -> list[Any]:
    get(session, who, kind, doc_id)
    return list(session.scalars(kind.history_of(doc_id)))

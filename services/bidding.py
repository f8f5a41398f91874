"""Day-ahead bids in the service: compute (a background job), review, submit before the
deadline; a submitted bid never changes.

Each computation is a new *version* for its VPP and delivery day. Submitting a version makes it
the VPP's bid for that day (an earlier submitted version becomes ``superseded``); submission is
refused after the deadline (10:30 local time on the day before delivery by default), and a
submitted, superseded or failed version cannot be submitted again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.series import confined_data_paths
from models.spec import resolve_park, validate_park
from services import documents
from services.auth import Principal
from services.background import guarded
from services.errors import ServiceError, conflict, not_found
from services.orm import Bid, Park, Vpp, utcnow
from services.policy import Action, can_see, require, require_owner
from vpp.bids import build_bids, standard_checks
from vpp.spec import Programme

TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The service's clock (tests move it)."""
    return dt.datetime.now(dt.UTC)


class BidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vpp_id: str = Field(max_length=64)
    delivery_date: dt.date = Field(description="The day the bids are for (96 × 15 min)")


def deadline(delivery: dt.date, local_hhmm: str) -> dt.datetime:
    """When bids for ``delivery`` are due: ``local_hhmm`` on the day before, Asia/Shanghai."""
    h, m = (int(x) for x in local_hhmm.split(":"))
    day_before = delivery - dt.timedelta(days=1)
    return dt.datetime(day_before.year, day_before.month, day_before.day, h, m, tzinfo=TZ)


def create_version(session: Session, who: Principal, body: BidRequest) -> Bid:
    """A new bid version for the VPP and day, computed in the background."""
    require(who, Action.bids_write)
    vpp = documents.get(session, who, documents.VPPS, body.vpp_id)
    require_owner(who, vpp.organisation)
    day = body.delivery_date.isoformat()
    for _ in range(5):  # concurrent requests race for the next version number
        latest = session.scalar(
            select(func.max(Bid.version)).where(Bid.vpp_id == vpp.id, Bid.delivery_date == day)
        )
        bid = Bid(
            id=str(uuid.uuid4()),
            vpp_id=vpp.id,
            organisation=vpp.organisation,
            delivery_date=day,
            version=(latest or 0) + 1,
            status="computing",
            client_id=who.client_id,
            created_at=utcnow(),
        )
        session.add(bid)
        try:
            session.commit()
            return bid
        except IntegrityError:
            session.rollback()
    raise conflict("too many concurrent bid computations for this VPP and day; retry")


def get(session: Session, who: Principal, bid_id: str) -> Bid:
    require(who, Action.bids_read)
    bid = session.get(Bid, bid_id)
    if bid is None or not can_see(who, bid.organisation):
        raise not_found(f"bid {bid_id!r}")
    return bid


def versions(session: Session, who: Principal, vpp_id: str, delivery: dt.date) -> list[Bid]:
    require(who, Action.bids_read)
    documents.get(session, who, documents.VPPS, vpp_id)
    return list(
        session.scalars(
            select(Bid)
            .where(Bid.vpp_id == vpp_id, Bid.delivery_date == delivery.isoformat())
            .order_by(Bid.version)
        )
    )


def submit(session: Session, who: Principal, bid_id: str, deadline_local: str) -> Bid:
    """Submit a draft before the deadline.

    Raises
    ------
    ServiceError
        409 when the version is not a draft (computing, failed, or already submitted); 422
        when the deadline has passed.
    """
    require(who, Action.bids_write)
    bid = get(session, who, bid_id)
    require_owner(who, bid.organisation)
    due = deadline(dt.date.fromisoformat(bid.delivery_date), deadline_local)
    if now() >= due:
        raise ServiceError(
            422,
            "Unprocessable Entity",
            f"bids for {bid.delivery_date} were due by {due.isoformat()}: the deadline has passed",
            "delivery_date",
        )
    if bid.status != "draft":
        raise conflict(f"bid version {bid.version} is {bid.status}: only a draft can be submitted")
    session.execute(
        update(Bid)
        .where(
            Bid.vpp_id == bid.vpp_id,
            Bid.delivery_date == bid.delivery_date,
            Bid.status == "submitted",
        )
        .values(status="superseded")
    )
    done = session.execute(
        update(Bid)
        .where(Bid.id == bid.id, Bid.status == "draft")
        .values(status="submitted", submitted_at=utcnow())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise conflict("the bid changed state meanwhile; read it again")
    session.commit()
    session.refresh(bid)
    return bid


def run(sessions: sessionmaker[Session], bid_id: str, files_dir: Path) -> None:
    """Compute a bid version (every park's nested price answers, the VPP's curves, the
    deliverability checks) and store it as a draft, or the failure."""
    with sessions() as s:
        bid = s.get(Bid, bid_id)
        if bid is None or bid.status != "computing":
            return
        vpp = s.get(Vpp, bid.vpp_id)
        raws = []
        for item in vpp.spec["parks"] if vpp else []:
            park = s.get(Park, item) if isinstance(item, str) else None
            raws.append(park.spec if park is not None else item)
        programme = Programme.model_validate(vpp.spec.get("programme", {})) if vpp else Programme()
        day = dt.date.fromisoformat(bid.delivery_date)
        vpp_id = bid.vpp_id

    def compute() -> dict[str, Any]:
        with confined_data_paths(files_dir):  # a client's park names files: only the data folder's
            parks = [
                resolve_park(
                    validate_park(r, source=str(r.get("id"))), base_dir=files_dir, date=day
                )
                for r in raws
            ]
        if not parks:
            raise ValueError("the VPP has no parks")
        bids = build_bids(parks, programme.bid_prices_yuan_per_kwh, scheduler="serial")
        doc = bids.as_dict(vpp_id)
        doc["checks"] = standard_checks(bids)
        return doc

    content, error = guarded(compute, f"bid {bid_id}")
    with sessions() as s:
        s.execute(
            update(Bid)
            .where(Bid.id == bid_id, Bid.status == "computing")
            .values(status="failed" if error else "draft", content=content, error=error)
        )
        s.commit()

"""``/bids``: compute, review and submit a VPP's day-ahead bids (deadline 10:30 on D−1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services import bidding
from services.api.deps import PrincipalDep, SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import BidOut

router = APIRouter(prefix="/bids", tags=["bids"])


@router.post(
    "", status_code=202, response_model=BidOut, responses=documented(401, 403, 404, 409, 413)
)
def compute_bids(
    body: bidding.BidRequest,
    session: SessionDep,
    who: PrincipalDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> BidOut:
    """Compute a new bid version for a VPP and delivery day (role: operator)."""
    bid = bidding.create_version(session, who, body)
    request.app.state.jobs.submit(
        bidding.run, request.app.state.sessions, bid.id, Path(settings.files_dir)
    )
    response.headers["Location"] = f"/bids/{bid.id}"
    return BidOut.model_validate(bid)


@router.get("", response_model=list[BidOut], responses=documented(401, 403, 404))
def list_versions(
    session: SessionDep,
    who: PrincipalDep,
    vpp_id: Annotated[str, Query(max_length=64)],
    delivery_date: Annotated[dt.date, Query(description="YYYY-MM-DD")],
) -> list[BidOut]:
    """Every bid version of a VPP for a delivery day, oldest first."""
    return [BidOut.model_validate(b) for b in bidding.versions(session, who, vpp_id, delivery_date)]


@router.get("/{bid_id}", response_model=BidOut, responses=documented(401, 403, 404))
def read_bid(bid_id: str, session: SessionDep, who: PrincipalDep) -> BidOut:
    """One bid version with its content once computed."""
    return BidOut.model_validate(bidding.get(session, who, bid_id))


@router.post("/{bid_id}/submit", response_model=BidOut, responses=documented(401, 403, 404, 409))
def submit_bid(
    bid_id: str, session: SessionDep, who: PrincipalDep, settings: SettingsDep
) -> BidOut:
    """Submit a draft (role: operator) before the deadline; it never changes afterwards."""
    return BidOut.model_validate(bidding.submit(session, who, bid_id, settings.bid_deadline_local))

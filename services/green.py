"""Green power purchases and the green-electricity reward in the service (issue 8, T12).

An enterprise (the caller's organisation) records its green power purchases; the reward is half
their green-environment value, capped per enterprise and year (``vpp/subsidy.py``
:func:`green_months`). Purchases are append-only: the same ``ref`` with the same values is a
no-op, with other values a 409 naming the stored one. The ledger books the reward by month with
the storage reward (``services/ledger.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.auth import Principal
from services.errors import ServiceError
from services.fields import Amount
from services.orm import GreenPurchaseRow, utcnow
from services.policy import Action, require
from vpp.subsidy import GreenPurchase, GreenRule, MonthGreen, green_months


class GreenPurchaseIn(BaseModel):
    """One green power purchase (a trade of the green power market)."""

    model_config = ConfigDict(extra="forbid")
    ref: str = Field(min_length=1, max_length=128, description="The trade's reference")
    delivered_date: dt.date = Field(description="Local date the energy was delivered")
    energy_kwh: Amount = Field(gt=0, le=10**12, decimal_places=3, description="Energy [kWh]")
    green_value_yuan: Amount = Field(
        ge=0,
        le=10**12,
        decimal_places=2,
        description="Green-environment value in the trade price, for the whole trade [yuan]",
    )


def record(
    session: Session, who: Principal, body: GreenPurchaseIn
) -> tuple[GreenPurchaseRow, bool]:
    """Store a purchase; returns the stored row and whether it is new.

    Raises
    ------
    ServiceError
        409 when ``ref`` is stored with other values.
    """
    require(who, Action.green_write)
    energy_wh = int(body.energy_kwh * 1000)
    value_fen = int(body.green_value_yuan * 100)
    row = GreenPurchaseRow(
        organisation=who.organisation,
        ref=body.ref,
        delivered_date=body.delivered_date.isoformat(),
        energy_wh=energy_wh,
        green_value_fen=value_fen,
        client_id=who.client_id,
        received_at=utcnow(),
    )
    session.add(row)
    try:
        session.commit()
        return row, True
    except IntegrityError:
        session.rollback()
    stored = session.scalars(
        select(GreenPurchaseRow).where(
            GreenPurchaseRow.organisation == who.organisation, GreenPurchaseRow.ref == body.ref
        )
    ).one()
    same = (stored.delivered_date, stored.energy_wh, stored.green_value_fen) == (
        row.delivered_date,
        energy_wh,
        value_fen,
    )
    if not same:
        raise ServiceError(
            409,
            "Conflict",
            f"purchase {body.ref!r} is stored with delivered_date {stored.delivered_date}, "
            f"{Decimal(stored.energy_wh) / 1000} kWh, {Decimal(stored.green_value_fen) / 100} "
            "yuan; it stands",
            "ref",
        )
    return stored, False


def purchases(session: Session, organisation: str) -> list[GreenPurchase]:
    rows = session.scalars(
        select(GreenPurchaseRow).where(GreenPurchaseRow.organisation == organisation)
    ).all()
    return [
        GreenPurchase(
            organisation,
            dt.date.fromisoformat(r.delivered_date),
            Decimal(r.energy_wh) / 1000,
            Decimal(r.green_value_fen) / 100,
        )
        for r in rows
    ]


def months(session: Session, organisation: str, rule: GreenRule | None = None) -> list[MonthGreen]:
    """The reward by month of every year with purchases, the yearly cap applied."""
    return green_months(purchases(session, organisation), rule or GreenRule())

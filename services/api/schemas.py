"""Response bodies (request bodies are the file formats' own pydantic models)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """An RFC 7807 problem (``application/problem+json``)."""

    type: str = Field("about:blank", description="A URI naming the problem type")
    title: str
    status: int
    detail: str = ""
    instance: str | None = Field(None, description="The request path")
    field: str | None = Field(None, description="The request field that failed, dotted")
    errors: list[dict[str, Any]] | None = Field(
        None, description="Every failing field: {field, reason, asset_id}"
    )


class TokenOut(BaseModel):
    """An OAuth2 access token (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Lifetime [s]")


class DocumentOut(BaseModel):
    """A stored park or VPP: the current version of its file."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    organisation: str = Field(description="Who owns it (the creating client's organisation)")
    version: int = Field(description="Increases by one with every update (send it as If-Match)")
    spec: dict[str, Any] = Field(description="The file (schemas: `vpp schema park`, the VPP file)")
    created_at: dt.datetime
    updated_at: dt.datetime


class DocumentVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    spec: dict[str, Any]
    client_id: str = Field(description="Who wrote this version")
    created_at: dt.datetime


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int = Field(description="Documents visible to the caller")
    limit: int
    offset: int


class EventOut(BaseModel):
    """A DR event as last modified, with its allocation plan once computed."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    organisation: str = Field(description="The grid company that sent it")
    vpp_id: str
    modification: int
    status: str = Field(description="allocating, allocated, failed or cancelled")
    spec: dict[str, Any] = Field(description="The event (kW, yuan/kWh, yuan/kW in the names)")
    plan: dict[str, Any] | None = Field(
        None,
        description="Per-park target import profiles [kW] and expected delivery [kW], costs "
        "[yuan] (vpp dispatch's allocation.json)",
    )
    error: str | None = None
    allocations_run: int = Field(description="Allocations computed for this event so far")
    created_at: dt.datetime
    updated_at: dt.datetime


class EventVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    modification: int
    status: str
    spec: dict[str, Any]
    plan: dict[str, Any] | None = None
    error: str | None = None
    created_at: dt.datetime


class JobOut(BaseModel):
    """A background job: poll until ``status`` is done or failed."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str = Field(description="schedule-park or schedule-vpp")
    target_id: str
    params: dict[str, Any]
    status: str = Field(description="queued, running, done or failed")
    progress_frac: float = Field(description="Share of the parks scheduled so far [-]")
    result: dict[str, Any] | None = Field(
        None,
        description="Per park: the summary (costs [yuan], energy [kWh], solver block) and the "
        "schedule's columns (kW per step, units in the names)",
    )
    error: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None


class BidOut(BaseModel):
    """One version of a VPP's day-ahead bids."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    vpp_id: str
    delivery_date: str
    version: int
    status: str = Field(description="computing, draft, failed, submitted or superseded")
    content: dict[str, Any] | None = Field(
        None,
        description="parkvpp-bids/1: per direction up to 10 non-decreasing price [yuan/kWh] – "
        "quantity [kW] segments per interval, and the deliverability checks",
    )
    error: str | None = None
    created_at: dt.datetime
    submitted_at: dt.datetime | None = None


class StationOut(BaseModel):
    """A registered storage station."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    organisation: str = Field(description="The owner (the registering operator's organisation)")
    reporter: str = Field(description="Organisation of the station clients that write readings")
    spec: dict[str, Any] = Field(description="As registered (energies in kWh, power in kW)")
    created_at: dt.datetime


class RejectedReading(BaseModel):
    meter_id: str
    ts: str
    reason: str
    index: int | None = Field(None, description="Position in the batch, for in-batch clashes")


class BatchOut(BaseModel):
    """What happened to a batch of readings."""

    accepted: int = Field(description="Readings stored now")
    duplicates: int = Field(description="Readings already stored with the same values (no-op)")
    rejected: list[RejectedReading] = Field(
        description="Readings that conflict with a stored one for the same meter and time"
    )
    stored_total: int = Field(description="Readings of this station stored in all")


class IntervalOut(BaseModel):
    meter_id: str
    start: dt.datetime
    end: dt.datetime
    charge_kwh: str = Field(description="Counted charge [kWh] (decimal string)")
    discharge_kwh: str = Field(description="Counted discharge [kWh] (decimal string)")
    raw_charge_kwh: str = Field(description="Plain register difference [kWh]")
    raw_discharge_kwh: str = Field(description="Plain register difference [kWh]")
    flag: str = Field(description="ok, gap, rollover, reset, swap or implausible")
    note: str
    estimate_discharge_kwh_per_step: str | None = Field(
        None, description="For gaps: the discharge spread evenly per reading step, display only"
    )


class IntervalsOut(BaseModel):
    """A station's flagged intervals in a month."""

    station_id: str
    month: str = Field(description="YYYY-MM, local time (Asia/Shanghai)")
    flagged: dict[str, int] = Field(description="Intervals per flag")
    metered_discharge_kwh: str = Field(description="Measured discharge [kWh] (decimal string)")
    intervals: list[IntervalOut]


class LedgerRunIn(BaseModel):
    """Book a month for every station of the caller's organisation."""

    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")


class LedgerEntryOut(BaseModel):
    id: int
    station_id: str
    month: str
    kind: str = Field(description="initial or adjustment")
    eligible_kwh: str = Field(description="Change of eligible discharge [kWh] (decimal string)")
    amount_yuan: str = Field(description="Change of the amount [yuan] (decimal string, fen)")
    detail: dict[str, Any]


class GreenEntryOut(BaseModel):
    id: int
    month: str
    kind: str = Field(description="initial or adjustment")
    amount_yuan: str = Field(description="Change of the amount [yuan] (decimal string, fen)")
    detail: dict[str, Any]


class LedgerRunOut(BaseModel):
    id: str
    month: str
    organisation: str
    created_at: dt.datetime
    entries: list[LedgerEntryOut] = Field(description="Storage reward entries booked by this run")
    green_entries: list[GreenEntryOut] = Field(
        description="Green-electricity reward entries booked by this run"
    )


class GreenPurchaseOut(BaseModel):
    ref: str
    organisation: str
    delivered_date: str
    energy_kwh: str = Field(description="[kWh] (decimal string)")
    green_value_yuan: str = Field(description="[yuan] (decimal string)")
    new: bool = Field(description="False when this purchase was already stored (a no-op)")


class GreenMonthOut(BaseModel):
    month: str
    energy_kwh: str = Field(description="Green power bought [kWh]")
    green_value_yuan: str = Field(description="Its green-environment value [yuan]")
    amount_yuan: str = Field(description="The reward, the yearly cap applied [yuan]")
    capped: bool
    booked_yuan: str = Field(description="What the ledger has booked for the month [yuan]")


class GreenYearOut(BaseModel):
    organisation: str
    year: int
    cap_yuan_per_year: str
    months: list[GreenMonthOut]

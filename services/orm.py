"""The database tables (SQLAlchemy 2). Changes go through Alembic (services/migrations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp; SQLite stores them without an offset, so values read back
    are marked UTC (they were written as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


# SQLite autoincrements only an INTEGER PRIMARY KEY (64-bit there anyway).
_BIGINT_ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Client(Base):
    """An API client (OAuth2 client credentials): one role, one organisation."""

    __tablename__ = "clients"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False)


class Token(Base):
    """An issued bearer token, stored as its SHA-256 (the token itself is shown once)."""

    __tablename__ = "tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class VersionedDocument:
    """Columns of a versioned document (parks, VPPs): the current version of its file."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Park(VersionedDocument, Base):
    """The current version of a park file."""

    __tablename__ = "parks"


class ParkVersion(Base):
    """Every version a park ever had (append-only)."""

    __tablename__ = "park_versions"
    __table_args__ = (UniqueConstraint("park_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class IdempotencyRecord(Base):
    """A POST's stored response under its ``Idempotency-Key`` (per client)."""

    __tablename__ = "idempotency"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method_path: Mapped[str] = mapped_column(String(400))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: in progress
    response: Mapped[bytes | None] = mapped_column(nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The server process that reserved the key (services/idempotency.py BOOT_ID).
    owner: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Vpp(VersionedDocument, Base):
    """The current version of a VPP (its parks by stored park id, or inline)."""

    __tablename__ = "vpps"


class VppVersion(Base):
    __tablename__ = "vpp_versions"
    __table_args__ = (UniqueConstraint("vpp_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vpp_id: Mapped[str] = mapped_column(ForeignKey("vpps.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DrEventRow(Base):
    """A grid DR event as last modified, with its allocation plan."""

    __tablename__ = "dr_events"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)  # the grid company's
    vpp_id: Mapped[str] = mapped_column(ForeignKey("vpps.id"), index=True)
    modification: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # allocating, allocated, failed, cancelled
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    allocations_run: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DrEventVersion(Base):
    """The event's history: every modification, cancellation and plan, append-only."""

    __tablename__ = "dr_event_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("dr_events.id"), index=True)
    modification: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Job(Base):
    """A background computation (a day-ahead schedule) with its status, progress and result."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    progress_frac: Mapped[float] = mapped_column(default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Bid(Base):
    """One version of a VPP's day-ahead bids for a delivery day; immutable once submitted."""

    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("vpp_id", "delivery_date", "version"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vpp_id: Mapped[str] = mapped_column(ForeignKey("vpps.id"), index=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    delivery_date: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    # computing, draft, failed, submitted, superseded
    status: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class StationRow(Base):
    """A storage station whose metered discharge earns the reward (issue 8).

    ``organisation`` owns it (the operator that registered it); ``reporter`` is the organisation
    of the ``station`` clients that may write its readings (by default the station's own id).
    """

    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    reporter: Mapped[str] = mapped_column(String(64), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MeterReadingRow(Base):
    """One register reading as received: append-only, never edited. Energies are integer Wh
    (the meters' 0.001 kWh resolution), exact on every database."""

    __tablename__ = "meter_readings"
    __table_args__ = (UniqueConstraint("station_id", "meter_id", "ts"),)
    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    meter_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    charge_wh: Mapped[int] = mapped_column(BigInteger)
    discharge_wh: Mapped[int] = mapped_column(BigInteger)
    serial: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LedgerRun(Base):
    """One run of the ledger over an organisation's stations for a month."""

    __tablename__ = "ledger_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    month: Mapped[str] = mapped_column(String(7))
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LedgerEntry(Base):
    """A booked amount: append-only; late data add a compensating entry, never an edit.
    ``eligible_wh`` and ``amount_fen`` are this entry's change, not a running total."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("ledger_runs.id"), index=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # initial, adjustment
    eligible_wh: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GreenPurchaseRow(Base):
    """A green power purchase of an enterprise (the organisation), append-only; ``ref`` is the
    trade's reference, unique per enterprise (a repeat is a no-op)."""

    __tablename__ = "green_purchases"
    __table_args__ = (UniqueConstraint("organisation", "ref"),)
    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    ref: Mapped[str] = mapped_column(String(128))
    delivered_date: Mapped[str] = mapped_column(String(10))
    energy_wh: Mapped[int] = mapped_column(BigInteger)
    green_value_fen: Mapped[int] = mapped_column(BigInteger)
    client_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class GreenLedgerEntry(Base):
    """A booked green-electricity reward (change, not a running total), append-only."""

    __tablename__ = "green_ledger_entries"
    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("ledger_runs.id"))
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(16))  # initial, adjustment
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

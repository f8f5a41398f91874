"""Service configuration (pydantic-settings): environment variables prefixed ``VPP_``.

Zero configuration runs on an embedded SQLite file under ``./data/``; ``VPP_DATABASE_URL``
(e.g. ``postgresql+psycopg://user@host/db``) switches to PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vpp.subsidy import DischargeRule, GreenRule


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Parameters
    ----------
    database_url : str
        SQLAlchemy URL (default: SQLite in WAL mode, synchronous=FULL, ``./data/vpp.db``).
    token_ttl_s : int
        Lifetime of an access token [s].
    max_request_bytes : int
        Largest request body accepted [bytes] (a park with a week of 5-minute series fits).
    max_page_size : int
        Largest ``limit`` of a list request.
    files_dir : str
        Folder that relative paths inside stored park files (CSV series) start from.
    allocation_workers : int
        DR event allocations that run at once (background threads).
    bid_deadline_local : str
        Bids for day D are due by this local time (HH:MM) on the day before (Jiangsu spot
        market rules V1.0: 10:30 on D−1, jiangsu-facts.md [lead]).
    allocation_scheduler : str
        Where a decomposition's park solves run (vpp/executor.py): ``serial`` by default in
        the service, ``processes``, ``dask-local`` or a Dask address.
    single_instance : bool
        One server process owns the database (what ``vpp serve`` runs). A POST that was in
        progress under an ``Idempotency-Key`` when an earlier process died (a crash, kill -9)
        is then taken over at once by the retry. Set false when several instances share one
        PostgreSQL database: such keys are then taken over after ``idempotency_lease_s``.
    idempotency_lease_s : float
        After this long an in-progress key is abandoned whatever process holds it [s] (longer
        than any POST: long work runs as background jobs).
    discharge_rate_yuan_per_kwh, discharge_min_power_kw, discharge_start_offset_months,
    discharge_months, discharge_cap_yuan : rule of the storage discharge reward
        Changzhou action plan §三(二) (policy-targets.md T11): 0.3 yuan/kWh, ≥ 500 kW, from the
        month after grid connection, 24 months, no cap named (comparable cities cap at 3 M yuan).
    green_share_frac, green_cap_yuan_per_year : rule of the green-electricity reward
        Changzhou §三(二) (T12): 50 % of the green-environment value, ≤ 100,000 yuan a year.
    """

    model_config = SettingsConfigDict(env_prefix="VPP_", extra="ignore")

    database_url: str = "sqlite:///./data/vpp.db"
    token_ttl_s: int = Field(3600, ge=60, le=7 * 24 * 3600)
    max_request_bytes: int = Field(2_000_000, ge=1024)
    max_page_size: int = Field(200, ge=1, le=10_000)
    files_dir: str = "."
    allocation_workers: int = Field(2, ge=1, le=64)
    allocation_scheduler: str = "serial"
    discharge_rate_yuan_per_kwh: Decimal = Field(Decimal("0.3"), ge=0)
    discharge_min_power_kw: Decimal = Field(Decimal("500"), ge=0)
    discharge_start_offset_months: int = Field(1, ge=0, le=24)
    discharge_months: int = Field(24, ge=1, le=240)
    discharge_cap_yuan: Decimal | None = Field(None, ge=0)
    green_share_frac: Decimal = Field(Decimal("0.5"), ge=0, le=1)
    green_cap_yuan_per_year: Decimal = Field(Decimal("100000"), ge=0)
    single_instance: bool = True
    idempotency_lease_s: float = Field(60.0, ge=1.0, le=3600.0)
    bid_deadline_local: str = Field("10:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    def discharge_rule(self) -> DischargeRule:
        return DischargeRule(
            self.discharge_rate_yuan_per_kwh,
            self.discharge_min_power_kw,
            self.discharge_start_offset_months,
            self.discharge_months,
            self.discharge_cap_yuan,
        )

    def green_rule(self) -> GreenRule:
        return GreenRule(self.green_share_frac, self.green_cap_yuan_per_year)

"""The FastAPI application (``create_app``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from models.spec import ParkSpec
from services import documents, vpps
from services.api import problems
from services.api.middleware import BodyLimit, Idempotency
from services.api.routes import auth, bids, events, schedules, stations
from services.api.routes.documents import versioned_router
from services.db import make_engine, session_factory
from services.migrate import upgrade
from services.settings import Settings
from vpp.spec import VppSpec


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The service on ``settings.database_url`` (migrated to the newest revision on start)."""
    settings = settings or Settings()
    engine = engine or make_engine(settings.database_url)
    upgrade(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs = ThreadPoolExecutor(settings.allocation_workers, thread_name_prefix="allocation")
        app.state.jobs = jobs
        try:
            yield
        finally:
            jobs.shutdown(wait=True)

    app = FastAPI(
        lifespan=lifespan,
        title="parkvpp service",
        version="0.1.0",
        description="Parks, VPPs, schedules, bids and grid DR events (issue 7). Errors are "
        "RFC 7807 problems; every POST honours Idempotency-Key. Units are in field names.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    problems.install(app)
    # Order: the size limit runs first (outermost), then idempotency.
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.include_router(auth.router)
    app.include_router(versioned_router(documents.PARKS, ParkSpec, "/parks"))
    app.include_router(versioned_router(documents.VPPS, VppSpec, "/vpps", vpps.check_parks))
    app.include_router(events.router)
    app.include_router(schedules.router)
    app.include_router(bids.router)
    app.include_router(stations.router)
    return app

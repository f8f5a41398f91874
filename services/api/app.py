"""The FastAPI application (``create_app``)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from services.api import problems
from services.api.middleware import BodyLimit, Idempotency
from services.api.routes import auth, parks
from services.db import make_engine, session_factory
from services.migrate import upgrade
from services.settings import Settings


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The service on ``settings.database_url`` (migrated to the newest revision on start)."""
    settings = settings or Settings()
    engine = engine or make_engine(settings.database_url)
    upgrade(engine)
    app = FastAPI(
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
    app.include_router(parks.router)
    return app

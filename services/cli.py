"""``vpp serve``, ``vpp db upgrade``, ``vpp credentials create``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from services.auth import Role, create_client
from services.db import make_engine, session_factory
from services.migrate import current_revision, upgrade
from services.settings import Settings

db_app = typer.Typer(no_args_is_help=True, help="The service database (Alembic migrations).")
credentials_app = typer.Typer(no_args_is_help=True, help="API client credentials.")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database of VPP_DATABASE_URL (default ./data/vpp.db) to ``revision``."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(engine, revision)
    typer.echo(f"{engine.url.render_as_string()}: {before or 'empty'} → {current_revision(engine)}")


@credentials_app.command("create")
def credentials_create(
    role: Annotated[Role, typer.Option(help="grid, operator, planner, viewer or station.")],
    organisation: Annotated[
        str, typer.Option(help="Who the client acts for (objects belong to it).")
    ],
) -> None:
    """Create a client; its secret is printed once and stored only hashed."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        cred = create_client(session, role, organisation)
    typer.echo(
        json.dumps(
            {
                "client_id": cred.client_id,
                "client_secret": cred.client_secret,
                "role": cred.role.value,
                "organisation": cred.organisation,
                "note": "the secret is shown once: store it now",
            },
            indent=2,
        )
    )


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the service (SQLite under ./data/ unless VPP_DATABASE_URL says otherwise)."""
    import uvicorn

    from services.api.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")

"""Service fixtures: the app on SQLite and on a throwaway PostgreSQL cluster.

The PostgreSQL cluster is made with the machine's ``initdb`` / ``pg_ctl`` (as the ``postgres``
user when the tests run as root, since PostgreSQL refuses to run as root); every test gets its
own database. Without those binaries the PostgreSQL cases are skipped, with the reason shown.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from benchmarks.pgcluster import PostgresUnavailableError, create_database, throwaway_cluster
from services.api.app import create_app
from services.auth import Role, create_client
from services.settings import Settings


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        with throwaway_cluster(fsync=False) as url:
            yield url
    except PostgresUnavailableError as exc:
        pytest.skip(str(exc))


_db_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vpp.db'}"
    server: str = request.getfixturevalue("postgres_server")

    return create_database(server, f"t{os.getpid()}_{next(_db_numbers)}")


class Api:
    """A test client with helpers to make credentials and tokens."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.sessions = client.app.state.sessions  # type: ignore[attr-defined]

    def credentials(self, role: str, organisation: str = "org-a") -> tuple[str, str]:
        with self.sessions() as s:
            c = create_client(s, Role(role), organisation)
        return c.client_id, c.client_secret

    def token(self, role: str, organisation: str = "org-a") -> str:
        cid, secret = self.credentials(role, organisation)
        r = self.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def headers(self, role: str, organisation: str = "org-a", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, organisation)}", **extra}

    def poll(
        self, path: str, headers: dict[str, str], busy: str, timeout_s: float = 180.0
    ) -> dict[str, Any]:
        """GET ``path`` until its ``status`` is no longer ``busy`` (background work)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            doc: dict[str, Any] = self.client.get(path, headers=headers).json()
            if doc["status"] not in (busy, "queued"):
                return doc
            time.sleep(0.2)
        raise AssertionError(f"{path} still {busy} after {timeout_s:g} s")


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, max_request_bytes=200_000))
    with TestClient(app) as client:
        yield Api(client)
    app.state.engine.dispose()


def small_park(park_id: str = "p1", **grid: Any) -> dict[str, Any]:
    return {
        "id": park_id,
        "name": "test park",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": "2026-07-15T00:00:00+08:00", "steps": 4, "resolution_min": 60},
        "grid": {"import_limit_kw": 1000.0, "import_price_yuan_per_kwh": 0.5, **grid},
        "load": [100.0, 120.0, 110.0, 90.0],
    }

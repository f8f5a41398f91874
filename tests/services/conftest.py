"""Service fixtures: the app on SQLite and on a throwaway PostgreSQL cluster.

The PostgreSQL cluster is made with the machine's ``initdb`` / ``pg_ctl`` (as the ``postgres``
user when the tests run as root, since PostgreSQL refuses to run as root); every test gets its
own database. Without those binaries the PostgreSQL cases are skipped, with the reason shown.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.auth import Role, create_client
from services.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        return [runuser, "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not on this machine")
    base = Path(tempfile.mkdtemp(prefix="vpp-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        **run,  # type: ignore[call-overload]
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"]),
        **run,  # type: ignore[call-overload]
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


_db_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vpp.db'}"
    server: str = request.getfixturevalue("postgres_server")
    import psycopg

    name = f"t{os.getpid()}_{next(_db_numbers)}"
    with psycopg.connect(
        server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


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

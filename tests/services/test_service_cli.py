"""``vpp db upgrade``, ``vpp credentials create`` and the migration history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from services.db import make_engine
from services.migrate import current_revision, downgrade, upgrade
from vpp.cli import app

runner = CliRunner()


def test_db_upgrade_and_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'vpp.db'}"
    monkeypatch.setenv("VPP_DATABASE_URL", url)
    r = runner.invoke(app, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    assert "empty → 0006" in r.output
    r = runner.invoke(app, ["credentials", "create", "--role", "grid", "--organisation", "sgcc"])
    assert r.exit_code == 0, r.output
    cred = json.loads(r.output)
    assert cred["role"] == "grid" and len(cred["client_secret"]) >= 40
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_hash FROM clients").scalar_one()
    assert cred["client_secret"] not in stored and stored.startswith("scrypt$")
    r = runner.invoke(app, ["credentials", "create", "--role", "king", "--organisation", "x"])
    assert r.exit_code == 2


def test_migrations_from_empty_and_from_each_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:  # data written under the previous revision
        conn.exec_driver_sql(
            "INSERT INTO parks (id, organisation, version, spec, created_at, updated_at) "
            "VALUES ('old', 'org-a', 3, '{\"id\": \"old\"}', '2026-01-01', '2026-01-01')"
        )
    upgrade(engine, "0004")
    with engine.begin() as conn:  # a key in progress under 0004 (no owner column yet)
        conn.exec_driver_sql(
            "INSERT INTO idempotency (client_id, key, method_path, body_sha256, created_at) "
            "VALUES ('c', 'k', 'POST /parks', 'd', '2026-01-01')"
        )
    upgrade(engine)  # head, from the previous revision
    assert current_revision(engine) == "0006"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT owner FROM idempotency").scalar() is None
    downgrade(engine, "0004")  # and back: the column and the metering tables go
    assert "stations" not in set(inspect(engine).get_table_names())
    upgrade(engine)
    names = set(inspect(engine).get_table_names())
    assert {"stations", "meter_readings", "ledger_runs", "ledger_entries"} <= names
    assert {"green_purchases", "green_ledger_entries"} <= names
    assert {"clients", "tokens", "parks", "park_versions", "idempotency"} <= names
    assert {"vpps", "vpp_versions", "dr_events", "dr_event_versions", "jobs", "bids"} <= names
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM parks WHERE id = 'old'").scalar() == 3
    engine.dispose()


def test_vpp_serve_starts_with_zero_configuration(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    vpp = Path(sys.executable).parent / "vpp"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VPP_")}
    proc = subprocess.Popen(
        [str(vpp), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/parks", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert (tmp_path / "data" / "vpp.db").exists()  # the embedded default database
    finally:
        proc.terminate()
        proc.wait(timeout=30)

"""A throwaway PostgreSQL cluster from the machine's ``initdb`` and ``pg_ctl``, for the service
tests (``tests/services/conftest.py``) and the service load run (``vpp bench service``).

PostgreSQL refuses to run as root, so as root the binaries run as the ``postgres`` user through
``runuser``. The cluster listens on 127.0.0.1 on a free port, trusts local connections, and is
deleted when the context ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailableError(RuntimeError):
    """This machine cannot start a PostgreSQL cluster (the reason is the message)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailableError(
                "running as root without runuser: cannot start PostgreSQL"
            )
        return [runuser, "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def throwaway_cluster(fsync: bool = True) -> Iterator[str]:
    """Start a cluster; yields its server URL ``postgresql+psycopg://postgres@127.0.0.1:<port>``
    (append ``/<database>``; the ``postgres`` database exists).

    Parameters
    ----------
    fsync : bool
        PostgreSQL's ``fsync``: off only where durability does not matter (tests).

    Raises
    ------
    PostgresUnavailableError
        No ``initdb`` / ``pg_ctl`` on PATH, or root without ``runuser``.
    subprocess.CalledProcessError
        ``initdb`` or ``pg_ctl start`` failed (its output is on the exception).
    """
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailableError(
            "PostgreSQL binaries (initdb, pg_ctl) are not on this machine"
        )
    base = Path(tempfile.mkdtemp(prefix="vpp-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    try:
        subprocess.run(
            _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = (
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
        )
        subprocess.run(
            _as_postgres(
                [pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(base, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the cluster at ``server_url``; returns its URL."""
    import psycopg

    with psycopg.connect(
        server_url.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"

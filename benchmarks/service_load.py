"""A bounded load run of the service on loopback (``vpp bench service``), and the server
process the crash test kills.

It starts ``vpp serve`` on a fresh database (SQLite in a temporary folder, or a throwaway
PostgreSQL cluster), registers the three bundled parks and the bundled VPP as the operator,
posts a 20 MW DR event as the grid company and times POST → allocation available, asks for a
day-ahead schedule, then holds ``threads`` client threads of keep-alive GETs on the event and on
the schedule for ``seconds`` each, and reports requests per second with p50 and p99 latency;
then as many station clients post batches of readings (a meter-day of 96 each) for ``seconds``
and it reports readings ingested per second.

The load comes from this process and the server is another one, on the same 2 cores: the
figures are what one machine serves to itself, a floor for a server with its own machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.pgcluster import create_database, free_port, throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"
BUNDLED_PARKS = (
    "changzhou-wujin-mfg.yaml",
    "wuxi-xishan-electronics.yaml",
    "changzhou-xinbei-logistics.yaml",
)
EVENT = {
    "vpp_id": "demo",
    "modification_number": 0,
    "event": {
        "id": "load-ev-1",
        "type": "peak_shaving",
        "notice": "day_ahead",
        "start": "2026-07-15T14:00:00+08:00",
        "end": "2026-07-15T16:00:00+08:00",
        "requested_kw": 20_000.0,
        "price_yuan_per_kwh": 3.0,
        "shortfall_penalty_yuan_per_kwh": 1.0,
    },
}


class LoadRunError(RuntimeError):
    """The service did not start, refused the setup, or a background job failed."""


@dataclass
class Phase:
    """Keep-alive GETs of one path by ``threads`` threads for ``seconds``."""

    path: str
    threads: int
    seconds: float
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float


@dataclass
class Ingest:
    """Station clients posting batches of readings (one meter-day of 96 each) back to back."""

    threads: int
    seconds: float
    batches: int
    readings: int
    errors: int
    readings_per_s: float
    p50_batch_ms: float
    p99_batch_ms: float


@dataclass
class LoadResult:
    """One backend's run."""

    backend: str
    event_post_ms: float  # POST /dr-events answered (202) [ms]
    allocation_s: float  # POST → the plan readable [s]
    schedule_s: float  # POST /schedules → the schedule readable [s]
    phases: list[Phase]
    ingest: Ingest

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, round(q * (len(sorted_ms) - 1)))]


def hold(base_url: str, path: str, headers: dict[str, str], threads: int, seconds: float) -> Phase:
    """``threads`` threads GET ``path`` back to back for ``seconds``; every latency is kept."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
            start.wait()
            while time.perf_counter() < stop_at[0]:
                t0 = time.perf_counter()
                r = client.get(path)
                latencies[i].append((time.perf_counter() - t0) * 1000.0)
                if r.status_code != 200:
                    errors[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    start.wait()
    for t in pool:
        t.join()
    all_ms = sorted(x for lat in latencies for x in lat)
    return Phase(
        path,
        threads,
        seconds,
        len(all_ms),
        sum(errors),
        len(all_ms) / seconds,
        statistics.median(all_ms) if all_ms else float("nan"),
        _percentile(all_ms, 0.99),
    )


class ServeProcess:
    """``vpp serve`` as a child process on a fixed port, which can be killed and restarted
    (the crash test kills it with SIGKILL mid-request)."""

    def __init__(self, database_url: str, files_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VPP_DATABASE_URL": database_url,
            "VPP_FILES_DIR": str(files_dir),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (kept across restarts; stop() closes it)

    def start(self, timeout_s: float = 60.0) -> None:
        """Start and wait until it answers.

        Raises
        ------
        LoadRunError
            It exited or did not answer within ``timeout_s`` (with the tail of its log).
        """
        vpp = Path(sys.executable).parent / "vpp"
        self.proc = subprocess.Popen(
            [str(vpp), "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                tail = self.log.read().decode(errors="replace")[-2000:]
                raise LoadRunError(f"vpp serve did not start on {self.base}:\n{tail}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, whatever it was doing."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def ingest_hold(
    base_url: str, station_id: str, headers: dict[str, str], threads: int, seconds: float
) -> Ingest:
    """``threads`` station clients, each its own meter, POST consecutive days of 15-minute
    readings (96 a batch) for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]
    t0 = dt.datetime(2026, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    step = dt.timedelta(minutes=15)

    def worker(i: int) -> None:
        k = 0
        with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
            start.wait()
            while time.perf_counter() < stop_at[0]:
                batch = [
                    {
                        "meter_id": f"load-m{i}",
                        "ts": (t0 + (k + j) * step).isoformat(),
                        "charge_kwh": 0.0,
                        "discharge_kwh": round((k + j) * 120.5, 3),
                    }
                    for j in range(96)
                ]
                k += 96
                t = time.perf_counter()
                r = client.post(f"/stations/{station_id}/readings", json={"readings": batch})
                latencies[i].append((time.perf_counter() - t) * 1000.0)
                if r.status_code != 200 or r.json()["accepted"] != 96:
                    errors[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    all_ms = sorted(x for lat in latencies for x in lat)
    ok = len(all_ms) - sum(errors)
    return Ingest(
        threads,
        elapsed,
        len(all_ms),
        ok * 96,
        sum(errors),
        ok * 96 / elapsed,
        statistics.median(all_ms) if all_ms else float("nan"),
        _percentile(all_ms, 0.99),
    )


@contextmanager
def _server(database_url: str, files_dir: Path) -> Iterator[str]:
    server = ServeProcess(database_url, files_dir)
    try:
        server.start()
        yield server.base
    finally:
        server.stop()


def credentials(
    database_url: str,
    who: tuple[tuple[str, str], ...] = (("operator", "vpp-co"), ("grid", "state-grid")),
) -> dict[str, tuple[str, str]]:
    from services.auth import Role, create_client
    from services.db import make_engine, session_factory
    from services.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    out = {}
    with session_factory(engine)() as s:
        for role, org in who:
            c = create_client(s, Role(role), org)
            out[role] = (c.client_id, c.client_secret)
    engine.dispose()
    return out


def token(base: str, cid: str, secret: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    if r.status_code != 200:
        raise LoadRunError(f"token for {cid}: {r.status_code} {r.text}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _iso(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _must(r: httpx.Response, *codes: int) -> dict[str, Any]:
    if r.status_code not in codes:
        raise LoadRunError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    doc: dict[str, Any] = r.json()
    return doc


def _wait(
    client: httpx.Client, path: str, busy: tuple[str, ...], timeout_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        doc = _must(client.get(path), 200)
        if doc["status"] not in busy:
            return doc
        time.sleep(0.05)
    raise LoadRunError(f"{path} still {busy} after {timeout_s:.0f} s")


def run_backend(
    backend: str,
    database_url: str,
    threads: int,
    seconds: float,
    say: Callable[[str], None] = lambda _m: None,
) -> LoadResult:
    """One load run on ``database_url`` (an empty database)."""
    creds = credentials(
        database_url,
        (("operator", "vpp-co"), ("grid", "state-grid"), ("station", "load-bess")),
    )
    with _server(database_url, EXAMPLES) as base:
        op, grid = token(base, *creds["operator"]), token(base, *creds["grid"])
        with httpx.Client(base_url=base, timeout=60.0) as c:
            ids = []
            for name in BUNDLED_PARKS:
                # YAML dates become JSON strings, as a client sending the file would write them
                spec = json.loads(
                    json.dumps(yaml.safe_load((EXAMPLES / name).read_text()), default=_iso)
                )
                ids.append(_must(c.post("/parks", json=spec, headers=op), 201)["id"])
            vpp = {"id": "demo", "name": "Changzhou–Wuxi demonstration VPP", "parks": ids}
            _must(c.post("/vpps", json=vpp, headers=op), 201)
            say(f"{backend}: 3 bundled parks and the VPP registered; posting a 20 MW event")
            t0 = time.perf_counter()
            posted = c.post("/dr-events", json=EVENT, headers=grid)
            post_ms = (time.perf_counter() - t0) * 1000.0
            _must(posted, 202)
            c.headers.update(grid)
            doc = _wait(c, "/dr-events/load-ev-1", ("allocating",), 600.0)
            allocation_s = time.perf_counter() - t0
            if doc["status"] != "allocated":
                raise LoadRunError(f"event allocation ended {doc['status']}: {doc.get('error')}")
            say(f"{backend}: allocated in {allocation_s:.2f} s; computing a day-ahead schedule")
            t0 = time.perf_counter()
            body = {"park_id": ids[0], "date": "2026-07-15"}
            job = _must(c.post("/schedules", json=body, headers=op), 202)
            c.headers.update(op)
            doc = _wait(c, f"/schedules/{job['id']}", ("queued", "running"), 600.0)
            schedule_s = time.perf_counter() - t0
            if doc["status"] != "done":
                raise LoadRunError(f"schedule job ended {doc['status']}: {doc.get('error')}")
            station = {
                "id": "load-bess",
                "name": "load-run storage",
                "rated_power_kw": 2000.0,
                "grid_connection_date": "2026-06-30",
            }
            _must(c.post("/stations", json=station, headers=op), 201)
        phases = []
        for path, headers in (("/dr-events/load-ev-1", grid), (f"/schedules/{job['id']}", op)):
            say(f"{backend}: {threads} threads GET {path} for {seconds:g} s")
            phases.append(hold(base, path, headers, threads, seconds))
        say(
            f"{backend}: {threads} station threads POST a day of readings per batch for {seconds:g} s"
        )
        meter = token(base, *creds["station"])
        ingest = ingest_hold(base, "load-bess", meter, threads, seconds)
    return LoadResult(backend, post_ms, allocation_s, schedule_s, phases, ingest)


def run(
    backends: list[str],
    threads: int = 8,
    seconds: float = 10.0,
    say: Callable[[str], None] = lambda _m: None,
) -> list[LoadResult]:
    """Load runs on each of ``backends`` (``sqlite``, ``postgresql``), each on a new database.

    Raises
    ------
    benchmarks.pgcluster.PostgresUnavailableError
        ``postgresql`` asked for on a machine without ``initdb`` / ``pg_ctl``.
    LoadRunError
        The service failed to start or to answer the setup.
    """
    results = []
    for backend in backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="vpp-load-") as tmp:
                url = f"sqlite:///{Path(tmp) / 'vpp.db'}"
                results.append(run_backend(backend, url, threads, seconds, say))
        elif backend == "postgresql":
            with throwaway_cluster(fsync=True) as server:
                url = create_database(server, "vpp_load")
                results.append(run_backend(backend, url, threads, seconds, say))
        else:
            raise ValueError(f"backend {backend!r}: use sqlite or postgresql")
    return results

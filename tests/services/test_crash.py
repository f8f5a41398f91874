"""Crash safety: ``vpp serve`` killed with SIGKILL again and again while station clients ingest
readings concurrently. Every batch a client saw acknowledged (2xx) must be stored, each reading
exactly once, and the ledger must not move when every batch is sent again."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from benchmarks.service_load import ServeProcess, credentials, token
from services.db import make_engine, session_factory
from services.orm import MeterReadingRow

TZ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 7, 1, tzinfo=TZ)
STEP = dt.timedelta(minutes=15)
WRITERS, BATCHES, PER_BATCH = 4, 20, 8
KILLS = 5
# Writers go on past BATCHES until the last kill, so every kill lands mid-ingestion however
# fast the machine is (a fixed count once finished before the fifth kill); this caps them
# inside July (2,976 quarter-hours).
MAX_BATCHES = 300


def batch(writer: int, b: int) -> list[dict[str, Any]]:
    out = []
    for i in range(PER_BATCH):
        k = b * PER_BATCH + i
        out.append(
            {
                "meter_id": f"m{writer}",
                "ts": (T0 + k * STEP).isoformat(),
                "charge_kwh": 0.0,
                "discharge_kwh": round(10.0 + k * 50.5, 3),
            }
        )
    return out


def send(base: str, headers: dict[str, str], body: dict[str, Any], key: str) -> dict[str, Any]:
    """POST until acknowledged: the server may be dead or restarting (the same key each time)."""
    while True:
        try:
            r = httpx.post(
                f"{base}/stations/bess-1/readings",
                json=body,
                headers={**headers, "Idempotency-Key": key},
                timeout=30.0,
            )
            if r.status_code == 200:
                doc: dict[str, Any] = r.json()
                return doc
            assert r.status_code in (409, 500, 503), r.text  # in progress elsewhere, or dying
        except httpx.TransportError:
            pass
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_during_concurrent_ingestion_loses_nothing(
    database_url: str, tmp_path: Path
) -> None:
    creds = credentials(database_url, (("operator", "org-a"), ("station", "bess-1")))
    server = ServeProcess(database_url, tmp_path)
    server.start()
    op = token(server.base, *creds["operator"])
    st = {
        "id": "bess-1",
        "name": "storage",
        "rated_power_kw": 1000.0,
        "grid_connection_date": "2026-06-30",
    }
    assert httpx.post(f"{server.base}/stations", json=st, headers=op).status_code == 201
    meter = token(server.base, *creds["station"])
    acked: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    killing = threading.Event()
    killing.set()
    sent = [0] * WRITERS

    def writer(w: int) -> None:
        b = 0
        while b < BATCHES or (killing.is_set() and b < MAX_BATCHES):
            key = f"w{w}-b{b}"
            res = send(server.base, meter, {"readings": batch(w, b)}, key)
            with lock:
                acked[key] = res
            b += 1
        sent[w] = b

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    rng = random.Random(7)
    kills = 0
    try:
        while kills < KILLS:
            time.sleep(rng.uniform(0.3, 1.2))
            server.kill()
            kills += 1
            server.start()
        killing.clear()
        for t in threads:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in threads)
        # still writing at the last kill: none stopped at the cap
        assert max(sent) < MAX_BATCHES, sent
        assert len(acked) == sum(sent)

        engine = make_engine(database_url)
        with session_factory(engine)() as s:
            rows = s.scalars(select(MeterReadingRow)).all()
        engine.dispose()
        stored = {(r.meter_id, r.ts.astimezone(TZ).isoformat()): r.discharge_wh for r in rows}
        assert len(stored) == len(rows) == sum(sent) * PER_BATCH  # each exactly once
        for w in range(WRITERS):
            for b in range(sent[w]):
                for rd in batch(w, b):
                    want = int(Decimal(str(rd["discharge_kwh"])) * 1000)
                    assert stored[rd["meter_id"], rd["ts"]] == want

        run1 = httpx.post(f"{server.base}/ledger/runs", json={"month": "2026-07"}, headers=op)
        assert run1.status_code == 201
        first = httpx.get(f"{server.base}/stations/bess-1/statements/2026-07", headers=op).json()

        # every batch again: under its key (replayed) and under a new one (all duplicates)
        def resend(w: int) -> None:
            for b in range(sent[w]):
                body = {"readings": batch(w, b)}
                send(server.base, meter, body, f"w{w}-b{b}")
                again = send(server.base, meter, body, f"again-w{w}-b{b}")
                assert again["accepted"] == 0 and again["duplicates"] == PER_BATCH

        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(resend, range(WRITERS)))
        run2 = httpx.post(f"{server.base}/ledger/runs", json={"month": "2026-07"}, headers=op)
        assert run2.json()["entries"] == []
        second = httpx.get(f"{server.base}/stations/bess-1/statements/2026-07", headers=op).json()
        assert second["booked_amount_yuan"] == first["booked_amount_yuan"]
        assert Decimal(first["booked_eligible_kwh"]) == Decimal(
            sum(n * PER_BATCH - 1 for n in sent) * 50.5
        ).quantize(Decimal("0.001"))
    finally:
        server.stop()

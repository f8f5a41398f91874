"""The service load run: the read phase against a tiny local server, and one short end-to-end
run of ``vpp serve`` on SQLite (the bundled VPP allocated, a schedule computed, reads held)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks import service_load as sl


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"{}" if self.path == "/ok" else b"no"
        self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_hold_counts_requests_latencies_and_errors(local_server: str) -> None:
    ok = sl.hold(local_server, "/ok", {}, threads=2, seconds=0.5)
    assert ok.requests > 10 and ok.errors == 0
    assert ok.requests_per_s == pytest.approx(ok.requests / 0.5)
    assert 0 < ok.p50_ms <= ok.p99_ms
    bad = sl.hold(local_server, "/missing", {}, threads=1, seconds=0.3)
    assert bad.requests > 0 and bad.errors == bad.requests


def test_percentile_of_sorted_latencies() -> None:
    ms = [float(i) for i in range(1, 101)]
    assert sl._percentile(ms, 0.99) == 99.0
    assert sl._percentile(ms, 0.0) == 1.0


@pytest.mark.slow
def test_end_to_end_on_sqlite() -> None:
    (r,) = sl.run(["sqlite"], threads=2, seconds=1.0)
    assert r.backend == "sqlite" and r.allocation_s > 0 and r.schedule_s > 0
    assert [p.path.split("/")[1] for p in r.phases] == ["dr-events", "schedules"]
    assert all(p.requests > 0 and p.errors == 0 for p in r.phases)
    assert r.ingest.readings > 0 and r.ingest.errors == 0 and r.ingest.readings % 96 == 0


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="mongodb"):
        sl.run(["mongodb"])

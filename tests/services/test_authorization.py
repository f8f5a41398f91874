"""The authorization matrix: every route of the OpenAPI against every role, without a token, and
from another organisation. The expectations are written out here, not read from
``services.policy``, so a wrong policy fails; a route missing from the table fails too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services import bidding
from tests.services.conftest import Api, small_park
from tests.services.test_events_api import event, setup_vpp, wait_done
from tests.services.test_stations_api import readings, station

ROLES = ("station", "viewer", "planner", "grid", "operator")  # the allowed role often goes last
READERS = frozenset({"operator", "planner", "viewer", "grid"})
OPERATOR = frozenset({"operator"})
GRID = frozenset({"grid"})
# The grid company's own organisation, and the station client of station bess-1 (its
# "reporter"); the other roles are in org-a, which owns everything.
ORG = {"grid": "sgcc", "station": "bess-1"}
STATION_READERS = frozenset({"operator", "planner", "viewer", "station"})
LEDGER_READERS = frozenset({"operator", "planner", "viewer"})
TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass
class World:
    """Objects of org-a (parks pa, pb, VPP vpp-1, a schedule job and a draft bid) and the grid
    company's event ev-1 on vpp-1."""

    api: Api
    job_id: str
    bid_id: str
    heads: dict[tuple[str, str], dict[str, str]]

    def h(self, role: str, org: str | None = None) -> dict[str, str]:
        key = (role, org or ORG.get(role, "org-a"))
        if key not in self.heads:
            self.heads[key] = self.api.headers(*key)
        return self.heads[key]

    def if_match(self, path: str) -> dict[str, str]:
        etag = self.api.client.get(path, headers=self.h("operator")).headers["etag"]
        return {"If-Match": etag}


@dataclass(frozen=True)
class Row:
    """One route: how to call it as ``role`` (``call(world, headers, role)``), the status when
    the role may, who may, and the status from another organisation (``None``: not an object
    of one organisation)."""

    method: str
    path: str
    ok: int
    allowed: frozenset[str]
    call: Callable[[World, dict[str, str], str], Any]
    other_org: int | None = None


def _get(path: str) -> Callable[[World, dict[str, str], str], Any]:
    return lambda w, h, _r: w.api.client.get(path, headers=h)


def _bid_submit(w: World, h: dict[str, str], _r: str) -> Any:
    return w.api.client.post(f"/bids/{w.bid_id}/submit", headers=h)


MATRIX: tuple[Row, ...] = (
    Row(
        "POST",
        "/parks",
        201,
        OPERATOR,
        lambda w, h, r: w.api.client.post("/parks", json=small_park(f"new-{r}"), headers=h),
    ),
    Row("GET", "/parks", 200, READERS, _get("/parks")),
    Row("GET", "/parks/{doc_id}", 200, READERS, _get("/parks/pa"), other_org=404),
    Row(
        "PUT",
        "/parks/{doc_id}",
        200,
        OPERATOR,
        lambda w, h, _r: w.api.client.put(
            "/parks/pa", json=small_park("pa"), headers={**h, **w.if_match("/parks/pa")}
        ),
        other_org=404,
    ),
    Row("GET", "/parks/{doc_id}/versions", 200, READERS, _get("/parks/pa/versions"), 404),
    Row(
        "POST",
        "/vpps",
        201,
        OPERATOR,
        lambda w, h, r: w.api.client.post(
            "/vpps", json={"id": f"v-{r}", "name": "v", "parks": ["pa"]}, headers=h
        ),
    ),
    Row("GET", "/vpps", 200, READERS, _get("/vpps")),
    Row("GET", "/vpps/{doc_id}", 200, READERS, _get("/vpps/vpp-1"), other_org=404),
    Row(
        "PUT",
        "/vpps/{doc_id}",
        200,
        OPERATOR,
        lambda w, h, _r: w.api.client.put(
            "/vpps/vpp-1",
            json={"id": "vpp-1", "name": "renamed", "parks": ["pa", "pb"]},
            headers={**h, **w.if_match("/vpps/vpp-1")},
        ),
        other_org=404,
    ),
    Row("GET", "/vpps/{doc_id}/versions", 200, READERS, _get("/vpps/vpp-1/versions"), 404),
    Row(
        "POST",
        "/dr-events",
        202,
        GRID,
        lambda w, h, r: w.api.client.post("/dr-events", json=event(f"ev-{r}"), headers=h),
    ),
    Row("GET", "/dr-events/{event_id}", 200, READERS, _get("/dr-events/ev-1"), other_org=404),
    Row(
        "GET",
        "/dr-events/{event_id}/history",
        200,
        READERS,
        _get("/dr-events/ev-1/history"),
        other_org=404,
    ),
    Row(
        "POST",
        "/dr-events/{event_id}/cancel",
        200,
        GRID,
        lambda w, h, _r: w.api.client.post("/dr-events/ev-1/cancel", headers=h),
        other_org=403,  # another grid company sees every event but cancels only its own
    ),
    Row(
        "POST",
        "/schedules",
        202,
        OPERATOR,
        lambda w, h, _r: w.api.client.post(
            "/schedules", json={"park_id": "pa", "date": "2026-07-15"}, headers=h
        ),
        other_org=404,
    ),
    Row(
        "GET",
        "/schedules/{job_id}",
        200,
        frozenset({"operator", "planner", "viewer"}),  # schedules are the park's business
        lambda w, h, _r: w.api.client.get(f"/schedules/{w.job_id}", headers=h),
        other_org=404,
    ),
    Row(
        "POST",
        "/bids",
        202,
        OPERATOR,
        lambda w, h, _r: w.api.client.post(
            "/bids", json={"vpp_id": "vpp-1", "delivery_date": "2026-07-15"}, headers=h
        ),
        other_org=404,
    ),
    Row(
        "GET",
        "/bids",
        200,
        READERS,
        _get("/bids?vpp_id=vpp-1&delivery_date=2026-07-15"),
        other_org=404,
    ),
    Row(
        "GET",
        "/bids/{bid_id}",
        200,
        READERS,
        lambda w, h, _r: w.api.client.get(f"/bids/{w.bid_id}", headers=h),
        other_org=404,
    ),
    Row("POST", "/bids/{bid_id}/submit", 200, OPERATOR, _bid_submit, other_org=404),
    Row(
        "POST",
        "/stations",
        201,
        OPERATOR,
        lambda w, h, r: w.api.client.post("/stations", json=station(f"st-{r}"), headers=h),
    ),
    Row("GET", "/stations/{station_id}", 200, STATION_READERS, _get("/stations/bess-1"), 404),
    Row(
        "POST",
        "/stations/{station_id}/readings",
        200,
        frozenset({"station"}),
        lambda w, h, _r: w.api.client.post(
            "/stations/bess-1/readings", json={"readings": readings(0, 2)}, headers=h
        ),
        other_org=403,  # a station client of another station
    ),
    Row(
        "GET",
        "/stations/{station_id}/intervals/{month}",
        200,
        STATION_READERS,
        _get("/stations/bess-1/intervals/2026-07"),
        other_org=404,
    ),
    Row(
        "GET",
        "/stations/{station_id}/reconciliation/{day}",
        200,
        LEDGER_READERS,
        _get("/stations/bess-1/reconciliation/2026-07-15"),
        other_org=404,
    ),
    Row(
        "POST",
        "/ledger/runs",
        201,
        OPERATOR,
        lambda w, h, _r: w.api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=h),
    ),
    Row(
        "POST",
        "/green-purchases",
        201,
        OPERATOR,
        lambda w, h, r: w.api.client.post(
            "/green-purchases",
            json={
                "ref": f"t-{r}",
                "delivered_date": "2026-07-03",
                "energy_kwh": 1000,
                "green_value_yuan": 30,
            },
            headers=h,
        ),
    ),
    Row("GET", "/green-rewards/{year}", 200, LEDGER_READERS, _get("/green-rewards/2026")),
    Row(
        "GET",
        "/stations/{station_id}/statements/{month}",
        200,
        LEDGER_READERS,
        _get("/stations/bess-1/statements/2026-07"),
        other_org=404,
    ),
)
PUBLIC = {("POST", "/oauth/token")}  # the token endpoint authenticates by client secret


def _world(api: Api) -> World:
    setup_vpp(api)
    w = World(api, "", "", {})
    assert api.client.post("/dr-events", json=event(), headers=w.h("grid")).status_code == 202
    assert wait_done(api, w.h("grid"))["status"] == "allocated"
    op = w.h("operator")
    job = api.client.post("/schedules", json={"park_id": "pa", "date": "2026-07-15"}, headers=op)
    w.job_id = job.json()["id"]
    api.poll(f"/schedules/{w.job_id}", op, "running")
    bid = api.client.post(
        "/bids", json={"vpp_id": "vpp-1", "delivery_date": "2026-07-15"}, headers=op
    )
    w.bid_id = bid.json()["id"]
    assert api.poll(f"/bids/{w.bid_id}", op, "computing")["status"] == "draft"
    bess = {**station("bess-1"), "park_id": "pa", "asset_id": "bess"}  # the job's park
    assert api.client.post("/stations", json=bess, headers=op).status_code == 201
    return w


def test_matrix_covers_every_route(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    published = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert published - PUBLIC == {(r.method, r.path) for r in MATRIX}


def test_every_role_against_every_route(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bidding, "now", lambda: dt.datetime(2026, 7, 14, 9, 0, tzinfo=TZ))
    w = _world(api)
    wrong: list[str] = []

    def expect(row: Row, who: str, got: Any, want: int) -> None:
        if got.status_code != want:
            wrong.append(f"{row.method} {row.path} as {who}: {got.status_code}, want {want}")
        elif want >= 400 and got.headers["content-type"] != "application/problem+json":
            wrong.append(f"{row.method} {row.path} as {who}: {want} is not a problem")

    for row in MATRIX:
        expect(row, "anonymous", row.call(w, {}, "anonymous"), 401)
        expect(row, "bad token", row.call(w, {"Authorization": "Bearer x"}, "bad"), 401)
        if row.other_org is not None:
            # another organisation's role that may do this in its own organisation
            others = sorted(row.allowed - {"grid"}) or ["grid"]
            role = "operator" if "operator" in row.allowed else others[0]
            expect(row, f"{role} of org-b", row.call(w, w.h(role, "org-b"), role), row.other_org)
        for role in ROLES:
            expect(row, role, row.call(w, w.h(role), role), row.ok if role in row.allowed else 403)
    assert not wrong, "\n".join(wrong)

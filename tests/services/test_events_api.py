"""Grid DR events through the service: idempotent receipt, allocation, modification, cancel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.services.conftest import Api


def flexible_park(park_id: str) -> dict[str, Any]:
    return {
        "id": park_id,
        "name": f"park {park_id}",
        "location": {"latitude": 31.81, "longitude": 119.97},
        "horizon": {"start": "2026-07-15T00:00:00+08:00"},
        "grid": {"import_limit_kw": 2000.0, "tariff": "jiangsu-2025-two-part-1-10kv"},
        "load": 500.0,
        "assets": [
            {
                "id": "bess",
                "type": "battery",
                "power_kw": 200.0,
                "energy_kwh": 400.0,
                "soc_initial_frac": 0.5,
                "soc_final_min_frac": 0.5,
                "max_cycles_per_day": 2.0,
            }
        ],
    }


def event(event_id: str = "ev-1", requested_kw: float = 100.0, mod: int = 0) -> dict[str, Any]:
    return {
        "vpp_id": "vpp-1",
        "modification_number": mod,
        "event": {
            "id": event_id,
            "type": "peak_shaving",
            "notice": "day_ahead",
            "start": "2026-07-15T17:00:00+08:00",
            "end": "2026-07-15T19:00:00+08:00",
            "requested_kw": requested_kw,
            "price_yuan_per_kwh": 1.0,
            "shortfall_penalty_yuan_per_kwh": 2.0,
        },
    }


def setup_vpp(api: Api) -> None:
    op = api.headers("operator", "org-a")
    for pid in ("pa", "pb"):
        assert api.client.post("/parks", json=flexible_park(pid), headers=op).status_code == 201
    vpp = {"id": "vpp-1", "name": "demo", "parks": ["pa", "pb"]}
    r = api.client.post("/vpps", json=vpp, headers=op)
    assert r.status_code == 201, r.text


def wait_done(api: Api, headers: dict[str, str], event_id: str = "ev-1") -> dict[str, Any]:
    return api.poll(f"/dr-events/{event_id}", headers, "allocating")


def test_event_lifecycle(api: Api) -> None:
    setup_vpp(api)
    grid = api.headers("grid", "sgcc")
    r = api.client.post("/dr-events", json=event(), headers=grid)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == "/dr-events/ev-1"
    doc = wait_done(api, grid)
    assert doc["status"] == "allocated", doc["error"]
    plan = doc["plan"]
    assert {p["park_id"] for p in plan["parks"]} == {"pa", "pb"}
    # 2 × 200 kW of batteries: the 100 kW is met (never less than asked, no shortfall)
    assert min(plan["delivered_kw"]) >= 100.0 - 1e-3 and max(plan["shortfall_kw"]) < 1e-3
    assert doc["allocations_run"] == 1

    again = api.client.post("/dr-events", json=event(), headers=grid)
    assert again.status_code == 200 and again.json()["allocations_run"] == 1
    clash = api.client.post("/dr-events", json=event(requested_kw=150.0), headers=grid)
    assert clash.status_code == 409 and clash.json()["field"] == "modification_number"

    mod = api.client.post("/dr-events", json=event(requested_kw=300.0, mod=1), headers=grid)
    assert mod.status_code == 202
    doc = wait_done(api, grid)
    assert doc["modification"] == 1 and doc["allocations_run"] == 2
    assert min(doc["plan"]["delivered_kw"]) >= 300.0 - 1e-3
    stale = api.client.post("/dr-events", json=event(mod=0), headers=grid)
    assert stale.status_code == 409

    viewer = api.headers("viewer", "org-a")  # the VPP's organisation reads its plan
    assert api.client.get("/dr-events/ev-1", headers=viewer).status_code == 200
    stranger = api.headers("viewer", "org-z")
    assert api.client.get("/dr-events/ev-1", headers=stranger).status_code == 404
    op = api.headers("operator", "org-a")
    assert api.client.post("/dr-events", json=event("ev-2"), headers=op).status_code == 403
    assert api.client.post("/dr-events/ev-1/cancel", headers=op).status_code == 403

    gone = api.client.post("/dr-events/ev-1/cancel", headers=grid)
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    assert gone.json()["plan"] is None
    hist = api.client.get("/dr-events/ev-1/history", headers=grid).json()
    assert [h["status"] for h in hist] == [
        "allocating",
        "allocated",
        "allocating",
        "allocated",
        "cancelled",
    ]
    assert [h["modification"] for h in hist] == [0, 0, 1, 1, 1]


def test_fifty_concurrent_posts_allocate_once(api: Api) -> None:
    setup_vpp(api)
    grid = api.headers("grid", "sgcc")

    def post(_: int) -> int:
        return api.client.post("/dr-events", json=event("ev-c"), headers=grid).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(post, range(50)))
    assert codes.count(202) == 1 and codes.count(200) == 49
    doc = wait_done(api, grid, "ev-c")
    assert doc["status"] == "allocated" and doc["allocations_run"] == 1
    hist = api.client.get("/dr-events/ev-c/history", headers=grid).json()
    assert [h["status"] for h in hist] == ["allocating", "allocated"]


def test_bad_events_are_refused_with_the_field(api: Api) -> None:
    setup_vpp(api)
    grid = api.headers("grid", "sgcc")
    body = event()
    body["event"]["requested_kw"] = True
    r = api.client.post("/dr-events", json=body, headers=grid)
    assert r.status_code == 422 and "boolean" in r.json()["detail"]
    body = event()
    body["vpp_id"] = "nope"
    r = api.client.post("/dr-events", json=body, headers=grid)
    assert r.status_code == 422 and r.json()["field"] == "vpp_id"
    body = event()
    body["event"]["colour"] = "red"
    r = api.client.post("/dr-events", json=body, headers=grid)
    assert r.status_code == 422 and r.json()["field"] == "event.colour"


def test_vpp_parks_must_exist_and_be_owned(api: Api) -> None:
    op = api.headers("operator", "org-a")
    r = api.client.post("/vpps", json={"id": "v", "name": "v", "parks": ["ghost"]}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "parks[0]"
    other = api.headers("operator", "org-b")
    assert api.client.post("/parks", json=flexible_park("pz"), headers=other).status_code == 201
    r = api.client.post("/vpps", json={"id": "v", "name": "v", "parks": ["pz"]}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "parks[0]"

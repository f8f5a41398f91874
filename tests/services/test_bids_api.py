"""Day-ahead bids through the service: compute, review, submit before the deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services import bidding
from tests.services.conftest import Api
from tests.services.test_events_api import setup_vpp

TZ = dt.timezone(dt.timedelta(hours=8))
BEFORE = dt.datetime(2026, 7, 14, 9, 0, tzinfo=TZ)  # bids for 15 July are due 14 July 10:30
AFTER = dt.datetime(2026, 7, 14, 10, 30, tzinfo=TZ)


def wait_bid(api: Api, headers: dict[str, str], bid_id: str) -> dict[str, Any]:
    return api.poll(f"/bids/{bid_id}", headers, "computing")


def test_compute_review_submit_and_deadline(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_vpp(api)
    op = api.headers("operator", "org-a")
    monkeypatch.setattr(bidding, "now", lambda: BEFORE)
    body = {"vpp_id": "vpp-1", "delivery_date": "2026-07-15"}
    r = api.client.post("/bids", json=body, headers=op)
    assert r.status_code == 202 and r.json()["version"] == 1
    v1 = wait_bid(api, op, r.json()["id"])
    assert v1["status"] == "draft", v1["error"]
    assert v1["content"]["format"] == "parkvpp-bids/1"
    assert all(c["deliverable"] for c in v1["content"]["checks"])

    sub = api.client.post(f"/bids/{v1['id']}/submit", headers=op)
    assert sub.status_code == 200 and sub.json()["status"] == "submitted"
    again = api.client.post(f"/bids/{v1['id']}/submit", headers=op)
    assert again.status_code == 409

    v2 = wait_bid(api, op, api.client.post("/bids", json=body, headers=op).json()["id"])
    assert v2["version"] == 2
    assert api.client.post(f"/bids/{v2['id']}/submit", headers=op).status_code == 200
    listed = api.client.get("/bids?vpp_id=vpp-1&delivery_date=2026-07-15", headers=op).json()
    assert [(b["version"], b["status"]) for b in listed] == [(1, "superseded"), (2, "submitted")]
    assert listed[0]["content"] == v1["content"]  # a submitted bid never changes

    monkeypatch.setattr(bidding, "now", lambda: AFTER)
    v3 = wait_bid(api, op, api.client.post("/bids", json=body, headers=op).json()["id"])
    late = api.client.post(f"/bids/{v3['id']}/submit", headers=op)
    assert late.status_code == 422 and late.json()["field"] == "delivery_date"
    assert "deadline has passed" in late.json()["detail"]

    assert api.client.post("/bids", json=body, headers=api.headers("planner")).status_code == 403
    assert (
        api.client.get(f"/bids/{v2['id']}", headers=api.headers("grid", "sgcc")).status_code == 200
    )
    other = api.headers("viewer", "org-b")
    assert api.client.get(f"/bids/{v2['id']}", headers=other).status_code == 404


def test_deadline_is_the_day_before_at_local_time() -> None:
    due = bidding.deadline(dt.date(2026, 7, 15), "10:30")
    assert due == dt.datetime(2026, 7, 14, 10, 30, tzinfo=TZ)
    assert bidding.deadline(dt.date(2026, 1, 1), "09:00").date() == dt.date(2025, 12, 31)

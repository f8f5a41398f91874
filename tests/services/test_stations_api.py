"""Stations, meter readings and the subsidy ledger through the service (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from services.orm import LedgerEntry, MeterReadingRow
from tests.services.conftest import Api

TZ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 7, 1, 0, 0, tzinfo=TZ)
STEP = dt.timedelta(minutes=15)


def station(sid: str = "bess-1", power_kw: float = 1000.0) -> dict[str, Any]:
    return {
        "id": sid,
        "name": f"storage {sid}",
        "rated_power_kw": power_kw,
        "energy_kwh": 2000.0,
        "grid_connection_date": "2026-06-30",  # the reward runs from July 2026
        "register_modulus_kwh": 1_000_000,
    }


def readings(start: int, n: int, discharge0: float = 1000.0, per_step: float = 100.125):
    return [
        {
            "meter_id": "m1",
            "ts": (T0 + (start + i) * STEP).isoformat(),
            "charge_kwh": 50.0,
            "discharge_kwh": round(discharge0 + (start + i) * per_step, 3),
            "serial": "S1",
        }
        for i in range(n)
    ]


def test_ingest_intervals_ledger_and_statements(api: Api) -> None:
    op = api.headers("operator", "org-a")
    r = api.client.post("/stations", json=station(), headers=op)
    assert r.status_code == 201, r.text
    assert r.json()["reporter"] == "bess-1"
    meter = api.headers("station", "bess-1")

    # 20 readings of 1 July (19 intervals of 100.125 kWh), sent in two overlapping batches
    first = api.client.post(
        "/stations/bess-1/readings", json={"readings": readings(0, 12)}, headers=meter
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 12, "duplicates": 0, "rejected": [], "stored_total": 12}
    later = readings(8, 12)
    later.reverse()  # out of order
    second = api.client.post("/stations/bess-1/readings", json={"readings": later}, headers=meter)
    assert second.json()["accepted"] == 8 and second.json()["duplicates"] == 4
    clash = readings(3, 1, discharge0=999.0)
    third = api.client.post("/stations/bess-1/readings", json={"readings": clash}, headers=meter)
    body = third.json()
    assert body["accepted"] == 0 and len(body["rejected"]) == 1
    assert "which stands" in body["rejected"][0]["reason"]
    with api.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MeterReadingRow)) == 20

    ivs = api.client.get("/stations/bess-1/intervals/2026-07", headers=op).json()
    assert ivs["flagged"] == {"ok": 19}
    assert Decimal(ivs["metered_discharge_kwh"]) == Decimal("1902.375")

    run = api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=op)
    assert run.status_code == 201, run.text
    (entry,) = run.json()["entries"]
    assert entry["kind"] == "initial" and Decimal(entry["eligible_kwh"]) == Decimal("1902.375")
    assert Decimal(entry["amount_yuan"]) == Decimal("570.71")  # 570.7125 → to the fen

    # late data: one reading after four missing ones (a gap of five steps of discharge)
    late = [readings(24, 1)[0]]
    api.client.post("/stations/bess-1/readings", json={"readings": late}, headers=meter)
    st = api.client.get("/stations/bess-1/statements/2026-07", headers=op).json()
    assert Decimal(st["pending_amount_yuan"]) == Decimal("150.19")  # 500.625 kWh × 0.3
    assert st["current"]["flagged_intervals"] == {"ok": 19, "gap": 1}
    again = api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=op).json()
    (adj,) = again["entries"]
    assert adj["kind"] == "adjustment" and Decimal(adj["amount_yuan"]) == Decimal("150.19")
    idle = api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=op).json()
    assert idle["entries"] == []  # nothing new: nothing booked

    st = api.client.get("/stations/bess-1/statements/2026-07", headers=op).json()
    assert Decimal(st["booked_amount_yuan"]) == Decimal("720.90")
    assert Decimal(st["pending_amount_yuan"]) == 0
    assert [e["kind"] for e in st["entries"]] == ["initial", "adjustment"]
    text = api.client.get("/stations/bess-1/statements/2026-07?format=csv", headers=op)
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert rows[-1]["kind"] == "total" and rows[-1]["amount_yuan"] == "720.90"
    page = api.client.get("/stations/bess-1/statements/2026-07?format=html", headers=op)
    assert page.headers["content-type"].startswith("text/html") and "720.90" in page.text
    with api.sessions() as s:  # the ledger only grew
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 2


def test_stations_read_and_write_only_their_own(api: Api) -> None:
    op = api.headers("operator", "org-a")
    for sid in ("bess-a", "bess-b"):
        assert api.client.post("/stations", json=station(sid), headers=op).status_code == 201
    a, b = api.headers("station", "bess-a"), api.headers("station", "bess-b")
    batch = {"readings": readings(0, 2)}
    assert api.client.post("/stations/bess-a/readings", json=batch, headers=a).status_code == 200
    assert api.client.post("/stations/bess-a/readings", json=batch, headers=b).status_code == 403
    assert api.client.get("/stations/bess-a", headers=a).status_code == 200
    assert api.client.get("/stations/bess-a", headers=b).status_code == 404
    assert api.client.get("/stations/bess-a/intervals/2026-07", headers=b).status_code == 404
    assert api.client.get("/stations/bess-a/statements/2026-07", headers=a).status_code == 403
    assert api.client.post("/stations/bess-a/readings", json=batch, headers=op).status_code == 403
    other_op = api.headers("operator", "org-b")
    assert api.client.get("/stations/bess-a", headers=other_op).status_code == 404


def test_bad_readings_name_the_field(api: Api) -> None:
    op = api.headers("operator", "org-a")
    api.client.post("/stations", json=station(), headers=op)
    meter = api.headers("station", "bess-1")
    bad = readings(0, 1)
    bad[0]["discharge_kwh"] = True
    r = api.client.post("/stations/bess-1/readings", json={"readings": bad}, headers=meter)
    assert r.status_code == 422 and r.json()["field"] == "readings.0.discharge_kwh"
    bad = readings(0, 1)
    bad[0]["ts"] = "2026-07-01T00:00:00"
    r = api.client.post("/stations/bess-1/readings", json={"readings": bad}, headers=meter)
    assert r.status_code == 422 and "UTC offset" in r.json()["detail"]
    bad = readings(0, 1)
    bad[0]["discharge_kwh"] = 1.0001
    r = api.client.post("/stations/bess-1/readings", json={"readings": bad}, headers=meter)
    assert r.status_code == 422 and r.json()["field"] == "readings.0.discharge_kwh"
    r = api.client.get("/stations/bess-1/intervals/2026-13", headers=op)
    assert r.status_code == 422
    # JSON true is not a number anywhere an amount is asked for (services/fields.py)
    r = api.client.post("/stations", json={**station("b2"), "rated_power_kw": True}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "rated_power_kw"
    buy = {"ref": "GT-9", "delivered_date": "2026-07-03", "energy_kwh": True}
    r = api.client.post("/green-purchases", json={**buy, "green_value_yuan": 1}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "energy_kwh"


def test_reconciliation_of_metered_against_planned_discharge(api: Api) -> None:
    from tests.services.test_events_api import flexible_park

    op = api.headers("operator", "org-a")
    assert api.client.post("/parks", json=flexible_park("pa"), headers=op).status_code == 201
    st = {**station(), "park_id": "pa", "asset_id": "bess"}
    assert api.client.post("/stations", json=st, headers=op).status_code == 201
    r = api.client.get("/stations/bess-1/reconciliation/2026-07-01", headers=op)
    assert r.status_code == 422 and "POST /schedules first" in r.json()["detail"]
    job = api.client.post("/schedules", json={"park_id": "pa", "date": "2026-07-01"}, headers=op)
    done = api.poll(f"/schedules/{job.json()['id']}", op, "running")
    assert done["status"] == "done", done["error"]
    plan_kw = done["result"]["parks"]["pa"]["schedule"]["bess.discharge_kw"]

    meter = api.headers("station", "bess-1")
    rd = readings(0, 5) + readings(8, 1)  # steps 0–3 exact, then a gap over steps 4–7
    api.client.post("/stations/bess-1/readings", json={"readings": rd}, headers=meter)
    rec = api.client.get("/stations/bess-1/reconciliation/2026-07-01", headers=op).json()
    assert rec["schedule_job_id"] == done["id"] and len(rec["steps"]) == 96
    assert Decimal(rec["planned_discharge_kwh"]) == Decimal(str(sum(plan_kw) * 0.25)).quantize(
        Decimal("0.001")
    )
    got = [s["metered_discharge_kwh"] for s in rec["steps"][:9]]
    assert got[:4] == ["100.125"] * 4 and got[4:8] == ["100.125"] * 4 and got[8] is None
    assert [s["estimated"] for s in rec["steps"][:8]] == [False] * 4 + [True] * 4
    assert Decimal(rec["metered_discharge_kwh"]) == Decimal("801.000")
    assert rec["unmetered_steps"] == 88 and rec["estimated_steps"] == 4
    planned8 = sum(Decimal(s["planned_discharge_kwh"]) for s in rec["steps"][:8])
    assert Decimal(rec["deviation_kwh"]) == Decimal("801.000") - planned8


def test_green_purchases_and_their_reward(api: Api) -> None:
    op = api.headers("operator", "acme")
    buy = {
        "ref": "GT-1",
        "delivered_date": "2026-07-03",
        "energy_kwh": 1_000_000,
        "green_value_yuan": 150000,
    }
    r = api.client.post("/green-purchases", json=buy, headers=op)
    assert r.status_code == 201 and r.json()["new"]
    again = api.client.post("/green-purchases", json=buy, headers=op)
    assert again.status_code == 200 and not again.json()["new"]
    clash = api.client.post("/green-purchases", json={**buy, "green_value_yuan": 1}, headers=op)
    assert clash.status_code == 409 and clash.json()["field"] == "ref"
    run = api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=op).json()
    (g,) = run["green_entries"]
    assert g["kind"] == "initial" and g["amount_yuan"] == "75000.00"
    # a late purchase in July reaches the 100,000 yuan cap of the year
    late = {
        "ref": "GT-2",
        "delivered_date": "2026-07-20",
        "energy_kwh": 500_000,
        "green_value_yuan": 80000,
    }
    api.client.post("/green-purchases", json=late, headers=op)
    run = api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=op).json()
    (g,) = run["green_entries"]
    assert g["kind"] == "adjustment" and g["amount_yuan"] == "25000.00" and g["detail"]["capped"]
    assert (
        api.client.post("/ledger/runs", json={"month": "2026-07"}, headers=op).json()[
            "green_entries"
        ]
        == []
    )
    year = api.client.get("/green-rewards/2026", headers=op).json()
    assert year["months"] == [
        {
            "month": "2026-07",
            "energy_kwh": "1500000.000",
            "green_value_yuan": "230000.00",
            "amount_yuan": "100000.00",
            "capped": True,
            "booked_yuan": "100000.00",
        }
    ]
    other = api.headers("viewer", "other-co")
    assert api.client.get("/green-rewards/2026", headers=other).json()["months"] == []


def test_reward_rules_are_settings_and_entries_record_them(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from services.settings import Settings

    liyang = Settings(
        database_url=f"sqlite:///{tmp_path / 'v.db'}",
        discharge_rate_yuan_per_kwh=Decimal("0.8"),  # the Liyang draft (jiangsu-facts.md)
        discharge_cap_yuan=Decimal("1000"),
    )
    app = create_app(liyang)
    with TestClient(app) as client:
        api = Api(client)
        op = api.headers("operator", "org-a")
        assert client.post("/stations", json=station(), headers=op).status_code == 201
        meter = api.headers("station", "bess-1")
        client.post("/stations/bess-1/readings", json={"readings": readings(0, 20)}, headers=meter)
        (e,) = client.post("/ledger/runs", json={"month": "2026-07"}, headers=op).json()["entries"]
        # 1,902.375 kWh × 0.8 = 1,521.90 yuan, capped at 1,000
        assert e["amount_yuan"] == "1000.00" and e["detail"]["capped"]
        assert e["detail"]["rule"] == {
            "rate_yuan_per_kwh": "0.8",
            "min_power_kw": "500",
            "paid_months": "2026-07 to 2028-06",
            "cap_yuan": "1000",
        }
    app.state.engine.dispose()

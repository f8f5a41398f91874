"""OpenADR: event mapping, and our VEN gateway against a real OpenLEADR 2.0b VTN on localhost
feeding a running service (``vpp serve``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.pgcluster import free_port
from benchmarks.service_load import ServeProcess, credentials, token
from tests.services.test_events_api import flexible_park
from vpp.openadr import (
    Gateway,
    OadrMappingError,
    VenConfig,
    event_from_oadr2,
    event_from_oadr3,
    make_client,
    report_oadr3,
)

TZ = dt.timezone(dt.timedelta(hours=8))
CFG = VenConfig(
    vtn_url="http://127.0.0.1:1/OpenADR2/Simple/2.0b",
    ven_name="parkvpp",
    vpp_id="vpp-1",
    simple_level_kw={1: 50.0, 2: 100.0, 3: 150.0},
    price_yuan_per_kwh=1.0,
    shortfall_penalty_yuan_per_kwh=2.0,
)


def oadr2(values: list[float], name: str = "LOAD_DISPATCH", minutes: int = 30) -> dict[str, Any]:
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    return {
        "event_descriptor": {"event_id": "E1", "modification_number": 2, "event_status": "far"},
        "active_period": {
            "dtstart": start,
            "duration": dt.timedelta(minutes=minutes * len(values)),
        },
        "event_signals": [
            {
                "signal_name": name,
                "signal_type": "delta" if name == "LOAD_DISPATCH" else "level",
                "intervals": [
                    {"duration": dt.timedelta(minutes=minutes), "signal_payload": v} for v in values
                ],
            }
        ],
    }


def test_load_dispatch_becomes_per_step_kw() -> None:
    m = event_from_oadr2(oadr2([-100.0, -250.0]), CFG)
    assert (m.event_id, m.modification, m.cancelled) == ("oadr-E1", 2, False)
    ev = m.body["event"] if m.body else {}
    assert ev["type"] == "peak_shaving"
    assert ev["requested_kw"] == [100.0, 100.0, 250.0, 250.0]
    assert ev["start"] == "2026-12-01T09:00:00+00:00" and ev["end"] == "2026-12-01T10:00:00+00:00"


def test_constant_take_is_valley_filling_and_simple_levels_use_the_config() -> None:
    m = event_from_oadr2(oadr2([80.0]), CFG)
    assert m.body and m.body["event"]["type"] == "valley_filling"
    assert m.body["event"]["requested_kw"] == 80.0
    m = event_from_oadr2(oadr2([2, 3], name="SIMPLE", minutes=15), CFG)
    assert m.body and m.body["event"]["requested_kw"] == [100.0, 150.0]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (oadr2([-100.0], minutes=10), "not a whole number of 15-minute steps"),
        (oadr2([-100.0, 50.0]), "both sheds and takes"),
        (oadr2([1], name="ELECTRICITY_PRICE"), "no LOAD_DISPATCH or SIMPLE signal"),
    ],
)
def test_unusable_events_are_refused_with_the_reason(event: dict[str, Any], reason: str) -> None:
    with pytest.raises(OadrMappingError, match=reason):
        event_from_oadr2(event, CFG)


def test_cancellation() -> None:
    ev = oadr2([-100.0])
    ev["event_descriptor"]["event_status"] = "cancelled"
    m = event_from_oadr2(ev, CFG)
    assert m.cancelled and m.body is None


def oadr3_event() -> dict[str, Any]:
    return {
        "id": "ev-3",
        "programID": "prog-1",
        "eventName": "afternoon shed",
        "intervalPeriod": {"start": "2026-12-01T17:00:00+08:00", "duration": "PT15M"},
        "intervals": [
            {"id": i, "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [v]}]}
            for i, v in enumerate([-200, -200, -300, -300])
        ],
    }


def test_openadr3_event_maps_and_bad_objects_name_the_field() -> None:
    m = event_from_oadr3(oadr3_event(), CFG)
    assert m.body and m.body["event"]["requested_kw"] == [200.0, 200.0, 300.0, 300.0]
    assert m.body["event"]["end"] == "2026-12-01T18:00:00+08:00"
    assert m.event_id == "oadr-ev-3"
    bad = oadr3_event()
    del bad["programID"]
    with pytest.raises(OadrMappingError, match="programID"):
        event_from_oadr3(bad, CFG)
    bad = oadr3_event()
    bad["intervals"][0]["payloads"][0]["values"] = [True]
    with pytest.raises(OadrMappingError, match=r"intervals\[0\]"):
        event_from_oadr3(bad, CFG)


def test_openadr3_report_of_delivered_load() -> None:
    from openadr3.entities.raw import RawReport

    ours = {
        "spec": {"id": "oadr-ev-3", "type": "peak_shaving", "start": "2026-12-01T17:00:00+08:00"},
        "plan": {"vpp_id": "vpp-1", "delivered_kw": [200.0, 199.5]},
    }
    rep = report_oadr3(ours, "parkvpp", "ev-3")
    assert RawReport.model_validate(rep).event_id == "ev-3"
    vals = [iv["payloads"][0]["values"][0] for iv in rep["resources"][0]["intervals"]]
    assert vals == [-200.0, -199.5]
    assert rep["payloadDescriptors"][0]["payloadType"] == "DELTA_USAGE"


@pytest.mark.slow
def test_ven_gateway_against_an_openleadr_vtn(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vpp.db'}"
    creds = credentials(url, (("operator", "org-a"), ("grid", "vtn-test")))
    server = ServeProcess(url, tmp_path)
    server.start()
    try:
        op = token(server.base, *creds["operator"])
        for pid in ("pa", "pb"):
            r = httpx.post(f"{server.base}/parks", json=flexible_park(pid), headers=op)
            assert r.status_code == 201, r.text
        vpp = {"id": "vpp-1", "name": "demo", "parks": ["pa", "pb"]}
        assert httpx.post(f"{server.base}/vpps", json=vpp, headers=op).status_code == 201
        result = asyncio.run(_scenario(server.base, *creds["grid"], op))
    finally:
        server.stop()
    print(f"OpenADR VTN event → allocation available: {result['latency_s']:.2f} s")
    assert result["opt"] == "optIn"
    assert result["allocations_run"] == 1
    assert result["posts_after_restart"] == 1  # a fresh gateway posted again …
    assert result["status_after_cancel"] == "cancelled"
    # the report carries the plan's delivered reduction at the gateway's "now" (17:30, step 2)
    assert result["planned_at_1730_kw"] >= 100.0 - 1e-3
    assert max(result["reported"]) == pytest.approx(result["planned_at_1730_kw"], abs=1e-3)


async def _scenario(base: str, client_id: str, secret: str, op: dict[str, str]) -> dict[str, Any]:
    from openleadr import OpenADRServer

    port = free_port()
    vtn = OpenADRServer(
        vtn_id="TEST_VTN",
        http_port=port,
        requested_poll_freq=dt.timedelta(seconds=1),
        verify_message_signatures=False,
        show_fingerprint=False,
    )
    vtn.add_handler("on_create_party_registration", lambda info: ("ven-1", "reg-1"))
    reported: list[float] = []

    async def on_update(data: list[tuple[dt.datetime, float]]) -> None:
        reported.extend(v for _, v in data)

    def on_register_report(
        ven_id, resource_id, measurement, unit, scale, min_sampling_interval, max_sampling_interval
    ):  # type: ignore[no-untyped-def]
        return on_update, min_sampling_interval

    vtn.add_handler("on_register_report", on_register_report)
    await vtn.run()
    cfg = VenConfig(
        vtn_url=f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b",
        ven_name="parkvpp",
        vpp_id="vpp-1",
        service_url=base,
        report_interval_s=1.0,
        price_yuan_per_kwh=1.0,
        shortfall_penalty_yuan_per_kwh=2.0,
    )
    # tomorrow 17:00–19:00 local, 100 kW of load shed
    day = (dt.datetime.now(TZ) + dt.timedelta(days=1)).date()
    start = dt.datetime.combine(day, dt.time(17), TZ)
    gw = Gateway(cfg, client_id, secret, clock=lambda: start + dt.timedelta(minutes=30))
    ven = make_client(gw)
    await ven.run()
    opts: list[str] = []
    t0 = time.perf_counter()
    event_id = vtn.add_event(
        ven_id="ven-1",
        signal_name="LOAD_DISPATCH",
        signal_type="delta",
        intervals=[{"dtstart": start, "duration": dt.timedelta(hours=2), "signal_payload": -100.0}],
        callback=lambda ven_id, event_id, opt_type: opts.append(opt_type),
    )
    ours = f"oadr-{event_id}"
    doc = await _wait(base, ours, op, lambda d: d["status"] != "allocating")
    latency = time.perf_counter() - t0
    await _until(lambda: bool(opts))
    await _until(lambda: bool(reported) and max(reported) > 0, timeout_s=30.0)

    vtn.events_updated["ven-1"] = True  # the VTN delivers the same event again
    await asyncio.sleep(3.0)
    await ven.stop()
    gw2 = Gateway(cfg, client_id, secret)  # a restarted gateway: no memory of the event
    ven2 = make_client(gw2, ven_id="ven-1")
    await ven2.run()
    vtn.events_updated["ven-1"] = True
    await _until(lambda: gw2.posts >= 1)
    again = await _wait(base, ours, op, lambda d: True)

    vtn.cancel_event("ven-1", event_id)
    cancelled = await _wait(base, ours, op, lambda d: d["status"] == "cancelled")
    await ven2.stop()
    await vtn.stop()
    return {
        "opt": opts[0],
        "latency_s": latency,
        "allocations_run": again["allocations_run"],
        "posts_after_restart": gw2.posts,
        "status_after_cancel": cancelled["status"],
        "reported": reported,
        "first_status": doc["status"],
        "planned_at_1730_kw": doc["plan"]["delivered_kw"][2],
    }


async def _wait(
    base: str, event_id: str, headers: dict[str, str], done: Any, timeout_s: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base) as http:
        while time.monotonic() < deadline:
            r = await http.get(f"/dr-events/{event_id}", headers=headers)
            if r.status_code == 200 and done(r.json()):
                doc: dict[str, Any] = r.json()
                return doc
            await asyncio.sleep(0.1)
    raise AssertionError(f"event {event_id} not as expected after {timeout_s} s")


async def _until(cond: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


def test_bundled_gateway_file_is_valid_and_bad_files_name_the_field(tmp_path: Path) -> None:
    import typer

    from vpp.ven_cmd import load_config

    cfg = load_config(Path("scenarios/examples/vpp/ven.yaml"))
    assert cfg.simple_level_kw[3] == 20000.0 and cfg.price_yuan_per_kwh == 3.0
    bad = tmp_path / "ven.yaml"
    bad.write_text("vtn_url: x\nven_name: v\nvpp_id: p\nprice_yuan_per_kwh: 1\n")
    with pytest.raises(typer.BadParameter, match="shortfall_penalty_yuan_per_kwh"):
        load_config(bad)

"""OpenADR: our VPP as a VEN of a grid company's VTN (issue 8).

The gateway (``vpp ven run``) registers with an OpenADR 2.0b VTN, polls it for events, turns
each event into a DR event of our own format and posts it to the service's ``/dr-events`` (the
same handling as the native API: idempotent by event id and modification number, allocated by
the VPP layer), answers the VTN with optIn (or optOut when the service refuses the event), and
reports back the delivered load reduction of the allocated plan.

The OpenADR 2.0b protocol (registration, polling, XML and its schema, report negotiation) is
OpenLEADR's client (``openleadr.OpenADRClient``); this module holds what is ours: the mapping of
OpenADR events to ours (:func:`event_from_oadr2`, :func:`event_from_oadr3` for OpenADR 3.1 event
objects), the de-duplication, and the link to the service. Notifications may arrive more than
once (jiangsu-facts.md, "OpenADR 3"): an event id and modification number already handled is not
posted again, and the service itself returns the stored event for a repeat, so not even a
restarted gateway dispatches twice.

Signals: ``LOAD_DISPATCH`` (a ``delta`` in kW: negative = shed load, positive = take more) and
``SIMPLE`` (levels 1–3, mapped to kW by the gateway's configuration, since a level has no
unit). Intervals on the 15-minute grid become one requested kW per step; the service refuses
events off its grid, and the gateway then opts out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

STEP = dt.timedelta(minutes=15)


class OadrMappingError(ValueError):
    """An OpenADR event we cannot turn into a DR event (the reason names the field)."""


class VenConfig(BaseModel):
    """The gateway's configuration file (``vpp ven run CONFIG``).

    Secrets are not in the file: the service client's id and secret come from the environment
    (``VPP_VEN_CLIENT_ID``, ``VPP_VEN_CLIENT_SECRET``), a ``grid``-role client of the
    organisation that stands for this VTN.
    """

    model_config = ConfigDict(extra="forbid")
    vtn_url: str = Field(description="The VTN's OpenADR 2.0b base URL")
    ven_name: str = Field(min_length=1, max_length=100)
    vpp_id: str = Field(description="The VPP in the service that answers this VTN's events")
    service_url: str = Field("http://127.0.0.1:8000", description="Our service's base URL")
    event_id_prefix: str = Field("oadr-", max_length=20, description="Prefix of our event ids")
    simple_level_kw: dict[int, float] = Field(
        default_factory=lambda: {1: 0.0, 2: 0.0, 3: 0.0},
        description="Load shed [kW] a SIMPLE signal level asks for (0: opt out of that level)",
    )
    # An OpenADR 2.0b event carries no money: the programme's terms are configuration, and
    # required, since with both at 0 the allocation has no reason to deliver anything.
    price_yuan_per_kwh: float = Field(ge=0, description="Paid per kWh delivered")
    shortfall_penalty_yuan_per_kwh: float = Field(
        ge=0, description="Charged per kWh short of the request"
    )
    report_interval_s: float = Field(60.0, gt=0, description="Delivered-load report sampling [s]")


def _intervals(
    signal: Mapping[str, Any], start: dt.datetime
) -> list[tuple[dt.datetime, dt.timedelta, float]]:
    out = []
    t = start
    for i, iv in enumerate(signal.get("intervals") or []):
        duration = iv.get("duration")
        if not isinstance(duration, dt.timedelta) or duration <= dt.timedelta(0):
            raise OadrMappingError(f"event_signals.intervals[{i}].duration: missing or not > 0")
        begin = iv.get("dtstart") or t
        payload = iv.get("signal_payload")
        if isinstance(payload, bool) or not isinstance(payload, int | float):
            raise OadrMappingError(f"event_signals.intervals[{i}].signal_payload: not a number")
        out.append((begin, duration, float(payload)))
        t = begin + duration
    if not out:
        raise OadrMappingError("event_signals.intervals: the signal has no intervals")
    return out


def _steps(intervals: list[tuple[dt.datetime, dt.timedelta, float]]) -> list[float]:
    values: list[float] = []
    for i, (_begin, duration, value) in enumerate(intervals):
        n, rest = divmod(duration, STEP)
        if rest:
            raise OadrMappingError(
                f"event_signals.intervals[{i}].duration: {duration} is not a whole number of "
                "15-minute steps"
            )
        values.extend([value] * n)
    return values


@dataclass(frozen=True)
class Mapped:
    """An OpenADR event as ours: the body for ``POST /dr-events``, or a cancellation."""

    event_id: str
    modification: int
    cancelled: bool
    body: dict[str, Any] | None


def event_from_oadr2(event: Mapping[str, Any], cfg: VenConfig) -> Mapped:
    """Map an OpenADR 2.0b event (as OpenLEADR parses ``oadrEvent``) to our DR event.

    Raises
    ------
    OadrMappingError
        No supported signal, intervals off the 15-minute grid, a SIMPLE level without kW.
    """
    desc = event["event_descriptor"]
    event_id = f"{cfg.event_id_prefix}{desc['event_id']}"
    modification = int(desc.get("modification_number") or 0)
    if desc.get("event_status") == "cancelled":
        return Mapped(event_id, modification, True, None)
    period = event["active_period"]
    start: dt.datetime = period["dtstart"]
    signals = event["event_signals"]
    if isinstance(signals, Mapping):
        signals = signals.get("event_signals", [])
    chosen = [s for s in signals if s.get("signal_name") in ("LOAD_DISPATCH", "SIMPLE", "simple")]
    if not chosen:
        names = [s.get("signal_name") for s in signals]
        raise OadrMappingError(f"event_signals: no LOAD_DISPATCH or SIMPLE signal (got {names})")
    signal = chosen[0]
    ivs = _intervals(signal, start)
    steps = _steps(ivs)
    if signal["signal_name"] == "LOAD_DISPATCH":
        if signal.get("signal_type") not in ("delta", None):
            raise OadrMappingError(
                f"event_signals.signal_type: LOAD_DISPATCH {signal.get('signal_type')!r} is not "
                "supported (only delta)"
            )
        shed = all(v <= 0 for v in steps)
        if not shed and not all(v >= 0 for v in steps):
            raise OadrMappingError("event_signals: a LOAD_DISPATCH both sheds and takes load")
        kind = "peak_shaving" if shed else "valley_filling"
        kw = [abs(v) for v in steps]
    else:
        kind = "peak_shaving"
        kw = []
        for v in steps:
            level = int(v)
            if level != 0 and cfg.simple_level_kw.get(level, 0.0) <= 0:
                raise OadrMappingError(
                    f"event_signals.signal_payload: SIMPLE level {level} has no kW configured"
                )
            kw.append(cfg.simple_level_kw.get(level, 0.0) if level else 0.0)
    end = start + len(steps) * STEP
    body = {
        "vpp_id": cfg.vpp_id,
        "modification_number": modification,
        "event": {
            "id": event_id,
            "type": kind,
            "notice": "day_ahead"
            if start - dt.datetime.now(dt.UTC) > dt.timedelta(hours=12)
            else "real_time",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "requested_kw": kw[0] if len(set(kw)) == 1 else kw,
            "price_yuan_per_kwh": cfg.price_yuan_per_kwh,
            "shortfall_penalty_yuan_per_kwh": cfg.shortfall_penalty_yuan_per_kwh,
        },
    }
    return Mapped(event_id, modification, False, body)


def event_from_oadr3(obj: Mapping[str, Any], cfg: VenConfig) -> Mapped:
    """Map an OpenADR 3.1 ``event`` object (JSON) to our DR event.

    The object is first read by the ``openadr3`` package's wire-format model (``RawEvent``);
    then its intervals (on ``intervalPeriod``, PT15M steps) with a ``DISPATCH_SETPOINT_RELATIVE``
    payload (kW, negative = shed) or ``SIMPLE`` levels become the requested kW. OpenADR 3 has no
    modification number (objects carry ``modificationDateTime``): a changed event must come
    with a new id, or a VTN-side counter in ``cfg.event_id_prefix``.

    Raises
    ------
    OadrMappingError
        Not an OpenADR 3 event (the field named), or as :func:`event_from_oadr2`.
    """
    from openadr3.entities.raw import RawEvent
    from pydantic import ValidationError

    try:
        raw = RawEvent.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise OadrMappingError(f"{where}: {err['msg']}") from exc
    period = raw.interval_period
    if period is None or period.start is None:
        raise OadrMappingError("intervalPeriod.start: missing")
    try:
        start = dt.datetime.fromisoformat(period.start)
        step = _iso_duration(period.duration or "PT15M")
    except ValueError as exc:
        raise OadrMappingError(f"intervalPeriod: {exc}") from exc
    values: list[tuple[dt.datetime, dt.timedelta, float]] = []
    kinds = set()
    for i, iv in enumerate(raw.intervals or []):
        for p in iv.payloads:
            if p.type in ("DISPATCH_SETPOINT_RELATIVE", "SIMPLE"):
                kinds.add(p.type)
                v = p.values[0] if p.values else None
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise OadrMappingError(f"intervals[{i}].payloads.values: not a number")
                values.append((start + i * step, step, float(v)))
    if not values:
        raise OadrMappingError("intervals: no DISPATCH_SETPOINT_RELATIVE or SIMPLE payload")
    as2 = {
        "event_descriptor": {
            "event_id": raw.id or raw.event_name or "unnamed",
            "modification_number": 0,
            "event_status": "far",
        },
        "active_period": {"dtstart": start},
        "event_signals": [
            {
                "signal_name": "LOAD_DISPATCH"
                if "DISPATCH_SETPOINT_RELATIVE" in kinds
                else "SIMPLE",
                "signal_type": "delta",
                "intervals": [
                    {"dtstart": b, "duration": d, "signal_payload": v} for b, d, v in values
                ],
            }
        ],
    }
    return event_from_oadr2(as2, cfg)


def report_oadr3(event: Mapping[str, Any], client_name: str, event_id: str) -> dict[str, Any]:
    """An OpenADR 3.1 ``report`` of an allocated event's delivered load change: one
    ``DELTA_USAGE`` value [kW] per 15-minute step (negative = less load than the baseline),
    for the VPP as one resource. ``event`` is our event as the service returns it
    (``spec`` and ``plan``). Checked by the ``openadr3`` wire-format model (``RawReport``)."""
    from openadr3.entities.raw import RawReport

    spec, plan = event["spec"], event["plan"]
    sign = -1.0 if spec["type"] == "peak_shaving" else 1.0
    obj = {
        "objectType": "REPORT",
        "eventID": event_id,
        "clientName": client_name,
        "reportName": f"delivered {spec['id']}",
        "payloadDescriptors": [
            {
                "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
                "payloadType": "DELTA_USAGE",
                "readingType": "PROJECTION",
                "units": "KW",
            }
        ],
        "resources": [
            {
                "resourceName": plan.get("vpp_id", "vpp"),
                "intervalPeriod": {"start": spec["start"], "duration": "PT15M"},
                "intervals": [
                    {"id": i, "payloads": [{"type": "DELTA_USAGE", "values": [sign * float(v)]}]}
                    for i, v in enumerate(plan["delivered_kw"])
                ],
            }
        ],
    }
    checked: dict[str, Any] = RawReport.model_validate(obj).model_dump(
        by_alias=True, exclude_none=True
    )
    return checked


def _iso_duration(text: str) -> dt.timedelta:
    """``PT15M``, ``PT1H``, ``PT2H30M`` (the durations OpenADR 3 intervals use)."""
    if not text.startswith("PT"):
        raise ValueError(f"duration {text!r}: only PTnHnMnS is supported")
    rest, total = text[2:], dt.timedelta()
    num = ""
    for ch in rest:
        if ch.isdigit():
            num += ch
            continue
        if not num:
            raise ValueError(f"duration {text!r}")
        total += {
            "H": dt.timedelta(hours=1),
            "M": dt.timedelta(minutes=1),
            "S": dt.timedelta(seconds=1),
        }[ch] * int(num)
        num = ""
    if num or total <= dt.timedelta(0):
        raise ValueError(f"duration {text!r}")
    return total


@dataclass
class Gateway:
    """The link between the VTN (through OpenLEADR's client) and our service."""

    cfg: VenConfig
    client_id: str
    client_secret: str
    handled: dict[tuple[str, int], str] = field(default_factory=dict)  # → optIn / optOut
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id → plan
    posts: int = 0  # POST /dr-events sent (for the tests and the log)
    # What "now" is for the delivered-load report (a test runs tomorrow's event today).
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    _token: str | None = None

    async def _headers(self, http: httpx.AsyncClient, renew: bool = False) -> dict[str, str]:
        if self._token is None or renew:
            r = await http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    async def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.cfg.service_url, timeout=60.0) as http:
            r = await http.request(method, path, headers=await self._headers(http), **kw)
            if r.status_code == 401:  # the token expired: one new token, one retry
                r = await http.request(
                    method, path, headers=await self._headers(http, renew=True), **kw
                )
            return r

    async def on_event(self, event: Mapping[str, Any]) -> str:
        """OpenLEADR's ``on_event`` / ``on_update_event``: ``optIn`` when the service accepted
        the event (or its cancellation), ``optOut`` when it refused it."""
        try:
            mapped = event_from_oadr2(event, self.cfg)
        except OadrMappingError as exc:
            log.warning("OpenADR event %s refused: %s", event["event_descriptor"]["event_id"], exc)
            return "optOut"
        key = (mapped.event_id, mapped.modification)
        if mapped.cancelled:
            key = (mapped.event_id, -1)
        if key in self.handled:  # delivered again: answered as before, not posted again
            return self.handled[key]
        if mapped.cancelled:
            r = await self._call("POST", f"/dr-events/{mapped.event_id}/cancel")
            answer = "optIn" if r.status_code in (200, 404, 409) else "optOut"
        else:
            self.posts += 1
            r = await self._call("POST", "/dr-events", json=mapped.body)
            answer = "optIn" if r.status_code in (200, 202) else "optOut"
            if answer == "optOut":
                log.warning("the service refused OpenADR event %s: %s", mapped.event_id, r.text)
            else:
                asyncio.get_running_loop().create_task(self._follow(mapped.event_id))
        self.handled[key] = answer
        return answer

    async def _follow(self, event_id: str, timeout_s: float = 600.0) -> None:
        """Keep the event's plan once allocated (what the reports send back)."""
        try:
            await self._follow_once(event_id, timeout_s)
        except Exception:  # a background task: its failure must be seen, not lost
            log.exception("following event %s failed", event_id)

    async def _follow_once(self, event_id: str, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            r = await self._call("GET", f"/dr-events/{event_id}")
            if r.status_code == 200 and r.json()["status"] != "allocating":
                doc = r.json()
                if doc["status"] == "allocated" and doc.get("plan"):
                    self.plans[event_id] = doc
                return
            await asyncio.sleep(0.2)

    def delivered_kw(self, now: dt.datetime | None = None) -> float:
        """The load reduction [kW] the allocated plans deliver at ``now`` (0 outside events)."""
        now = now or self.clock()
        total = 0.0
        for doc in self.plans.values():
            ev = doc["spec"] if "spec" in doc else doc.get("event", {})
            start = dt.datetime.fromisoformat(ev["start"])
            end = dt.datetime.fromisoformat(ev["end"])
            if start <= now < end:
                delivered = doc["plan"]["delivered_kw"]
                i = min(int((now - start) / STEP), len(delivered) - 1)
                total += float(delivered[i])
        return total


def make_client(gw: Gateway, ven_id: str | None = None) -> Any:
    """OpenLEADR's VEN client wired to ``gw``: events to the service, delivered load back.

    Messages are not XML-signed (the VTN link is expected to be TLS with client certificates
    or a private network, as the 2.0b profile allows); ``ven_id`` may be pre-assigned.
    """
    from openleadr import OpenADRClient, enums

    client = OpenADRClient(
        ven_name=gw.cfg.ven_name,
        vtn_url=gw.cfg.vtn_url,
        ven_id=ven_id,
        disable_signature=True,
        show_fingerprint=False,
    )
    client.add_handler("on_event", gw.on_event)
    client.add_handler("on_update_event", gw.on_event)
    client.add_report(
        callback=gw.delivered_kw,
        resource_id=gw.cfg.vpp_id,
        measurement="power_real",
        unit="W",
        scale="k",
        report_name=enums.REPORT_NAME.TELEMETRY_USAGE,
        reading_type=enums.READING_TYPE.PROJECTED,
        report_duration=dt.timedelta(hours=24),
        sampling_rate=dt.timedelta(seconds=gw.cfg.report_interval_s),
    )
    return client


async def run_gateway(gw: Gateway) -> None:
    """Run the VEN until cancelled."""
    client = make_client(gw)
    await client.run()
    try:
        await asyncio.Event().wait()
    finally:
        await client.stop()

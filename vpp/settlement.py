"""Settlement of a DR event from 15-minute metered data, per park and for the VPP.

For each park: its baseline by the programme's rule (``forecasts.baselines``: Jiangsu agreed
response for day-ahead events, the real-time rule for real-time ones, unless another rule is
named), the delivered response = (baseline energy − metered energy) ÷ duration (its sign
flipped for valley filling), the performance ratio against the cleared kW, and the money under
the programme's bands (``vpp.spec.Programme``; defaults from the Sichuan example of
jiangsu-facts.md):

- delivered up to ``band_high`` × cleared is paid in full; above it at ``over_delivery_pay_frac``;
- below ``band_low`` × cleared, a penalty of ``shortfall_penalty_price_factor`` × price per kW
  short of ``band_low`` × cleared;
- the capacity price is the event's ``price_yuan_per_kw`` (or the programme's default for the
  event type), plus the event's energy price per kWh delivered up to the cleared energy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasts.baselines import RULES, Baseline, compute_baseline
from forecasts.history import History, HistoryError, history_from_frame, read_history
from models.errors import ParkVppError
from vpp.event import DrEvent
from vpp.spec import Programme


class SettlementError(ParkVppError):
    """A settlement that cannot be computed (names the park and the reason)."""


@dataclass
class ParkSettlement:
    park_id: str
    baseline: Baseline
    metered_kw: np.ndarray
    delivered_kw: float
    cleared_kw: float
    payment_yuan: float
    penalty_yuan: float

    @property
    def performance_ratio(self) -> float | None:
        return self.delivered_kw / self.cleared_kw if self.cleared_kw > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "park_id": self.park_id,
            "rule": self.baseline.rule.name,
            "days_used": [d.isoformat() for d in self.baseline.days_used],
            "baseline_kw": self.baseline.baseline_kw.round(3).tolist(),
            "metered_kw": self.metered_kw.round(3).tolist(),
            "delivered_kw": round(self.delivered_kw, 3),
            "cleared_kw": round(self.cleared_kw, 3),
            "performance_ratio": None
            if self.performance_ratio is None
            else round(self.performance_ratio, 4),
            "payment_yuan": round(self.payment_yuan, 2),
            "penalty_yuan": round(self.penalty_yuan, 2),
        }


@dataclass
class Settlement:
    event: DrEvent
    parks: list[ParkSettlement]
    notes: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        return {
            "delivered_kw": sum(p.delivered_kw for p in self.parks),
            "cleared_kw": sum(p.cleared_kw for p in self.parks),
            "payment_yuan": sum(p.payment_yuan for p in self.parks),
            "penalty_yuan": sum(p.penalty_yuan for p in self.parks),
        }

    def as_dict(self) -> dict[str, Any]:
        t = self.totals()
        return {
            "event": self.event.id,
            "type": self.event.type,
            "parks": [p.as_dict() for p in self.parks],
            "total": {k: round(v, 3) for k, v in t.items()}
            | {
                "performance_ratio": round(t["delivered_kw"] / t["cleared_kw"], 4)
                if t["cleared_kw"] > 0
                else None,
                "net_yuan": round(t["payment_yuan"] - t["penalty_yuan"], 2),
            },
            "notes": self.notes,
        }


def money(
    delivered_kw: float,
    cleared_kw: float,
    price_yuan_per_kw: float,
    energy_price_yuan_per_kwh: float,
    duration_h: float,
    programme: Programme,
) -> tuple[float, float]:
    """Payment and penalty [yuan] for one party under the programme's bands."""
    low, high = programme.settlement_full_pay_band
    full_kw = min(max(delivered_kw, 0.0), high * cleared_kw)
    over_kw = max(delivered_kw - high * cleared_kw, 0.0) * programme.over_delivery_pay_frac
    energy_kwh = min(max(delivered_kw, 0.0), cleared_kw) * duration_h
    payment = price_yuan_per_kw * (full_kw + over_kw) + energy_price_yuan_per_kwh * energy_kwh
    short_kw = max(low * cleared_kw - delivered_kw, 0.0)
    penalty = programme.shortfall_penalty_price_factor * price_yuan_per_kw * short_kw
    return payment, penalty


def read_metered(source: Path, park_ids: list[str]) -> dict[str, History]:
    """Metered net import per park: a folder with ``<park_id>.csv`` (``timestamp, load_kw``)
    or one CSV with ``timestamp, park_id, load_kw``.

    Raises
    ------
    SettlementError
        A park without metered data.
    """
    out: dict[str, History] = {}
    try:
        if source.is_dir():
            for pid in park_ids:
                path = source / f"{pid}.csv"
                if not path.exists():
                    raise SettlementError(f"park {pid}: no metered file {path}")
                out[pid] = read_history(path)
        else:
            frame = pd.read_csv(source, dtype={"timestamp": str, "park_id": str})
            if "park_id" not in frame.columns:
                raise SettlementError(f"{source}: needs columns timestamp, park_id, load_kw")
            for pid in park_ids:
                part = frame[frame["park_id"] == pid].drop(columns="park_id")
                if part.empty:
                    raise SettlementError(f"park {pid}: no rows in {source}")
                out[pid] = history_from_frame(part, source=f"{source}[{pid}]")
    except HistoryError as exc:
        raise SettlementError(str(exc)) from exc
    return out


def settle(
    event: DrEvent,
    metered: dict[str, History],
    programme: Programme,
    *,
    cleared_kw: dict[str, float] | None = None,
    rule_name: str | None = None,
    event_days: list[dt.date] | None = None,
) -> Settlement:
    """Settle ``event`` for every park in ``metered`` (see the module).

    ``cleared_kw`` gives each park's cleared (allocated) response; without it the request is
    split in proportion to what each park delivered, so only the VPP total is judged.
    """
    name = rule_name or ("jiangsu-agreed" if event.notice == "day_ahead" else "jiangsu-real-time")
    if name not in RULES:
        raise SettlementError(f"unknown baseline rule {name!r}; known: {', '.join(RULES)}")
    rule = RULES[name]
    sign = 1.0 if event.type == "peak_shaving" else -1.0
    duration_h = (event.end - event.start).total_seconds() / 3600
    price = event.price_yuan_per_kw or (
        programme.peak_shaving_price_yuan_per_kw
        if event.type == "peak_shaving"
        else programme.valley_filling_price_yuan_per_kw
    )
    rows: list[tuple[str, Baseline, np.ndarray, float]] = []
    for pid, hist in metered.items():
        b = compute_baseline(hist, rule, event.start, event.end, event_days=event_days or [])
        m = hist.frame["load_kw"].reindex(b.timestamps).to_numpy(dtype=float)
        if not np.isfinite(m).all():
            raise SettlementError(f"park {pid}: metered load has gaps inside the event")
        rows.append((pid, b, m, sign * b.delivered_kw(m)))
    notes = []
    requested = float(np.mean(np.atleast_1d(event.requested_kw)))
    if cleared_kw is None:
        total = sum(max(r[3], 0.0) for r in rows)
        cleared = {
            pid: requested * (max(d, 0.0) / total if total > 0 else 1.0 / len(rows))
            for pid, _, _, d in rows
        }
        notes.append("no allocation given: the request is split by delivery; judge the total")
    else:
        missing = [pid for pid, *_ in rows if pid not in cleared_kw]
        if missing:
            raise SettlementError(f"no cleared kW for parks {missing}")
        cleared = cleared_kw
    parks = []
    for pid, b, m, d in rows:
        pay, pen = money(d, cleared[pid], price, event.price_yuan_per_kwh, duration_h, programme)
        parks.append(ParkSettlement(pid, b, m, d, cleared[pid], pay, pen))
    return Settlement(event, parks, notes)


def cleared_from_allocation(path: Path) -> dict[str, float]:
    """Each park's cleared kW: the mean of its allocated delivery in ``allocation.json``."""
    import json

    doc = json.loads(path.read_text())
    return {p["park_id"]: float(np.mean(p["delivered_kw"])) for p in doc["parks"]}

"""Problems shared with peer tools, as plain data.

This module imports only the standard library, so that each peer's own environment (whose
numpy, pandas and rich pins conflict with each other: energypylinear wants numpy < 2 and
rich < 13, EMHASS numpy ≥ 2, PyPSA pandas ≥ 3) can read a problem from JSON without our
package's dependencies. Inputs are fixed numbers: the Jiangsu 2025 two-part 1–10 kV TOU import
price of a July weekday and a clear-sky PV shape, written out here so that every tool sees
exactly the same data.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

STEPS = 96
DT_H = 0.25

# Jiangsu 2025 two-part 1–10 kV TOU import price on 2026-07-15 [yuan/kWh] by hour of day
# (valley 00–06 and 11–13, peak 14–22 in summer, flat otherwise; models/tariff.py, checked
# against it in tests/benchmarks/test_peers.py).
_VALLEY, _FLAT, _PEAK = 0.2714, 0.6557, 1.1287
_HOURLY = [_VALLEY] * 6 + [_FLAT] * 5 + [_VALLEY] * 2 + [_FLAT] + [_PEAK] * 8 + [_FLAT] * 2


def tou_price() -> list[float]:
    """96 quarter-hour import prices [yuan/kWh]."""
    return [_HOURLY[t // 4] for t in range(STEPS)]


def pv_shape() -> list[float]:
    """Clear-sky-like PV output per kWp per step [kW/kWp]: a sine from 05:30 to 19:00 peaking
    at 0.8 (deterministic, so peers that cannot run pvlib get the same series)."""
    out = []
    for t in range(STEPS):
        h = (t + 0.5) * DT_H
        x = (h - 5.5) / (19.0 - 5.5)
        out.append(round(0.8 * math.sin(math.pi * x), 6) if 0 < x < 1 else 0.0)
    return out


def industrial_load_kw(base_kw: float) -> list[float]:
    """A two-shift factory: base at night, +60 % 08–20, a dip at lunch [kW]."""
    out = []
    for t in range(STEPS):
        h = t * DT_H
        f = 1.0 + 0.6 * (8 <= h < 20) - 0.15 * (12 <= h < 13)
        out.append(round(base_kw * f, 3))
    return out


@dataclass(frozen=True)
class Battery:
    power_kw: float
    energy_kwh: float
    charge_efficiency_frac: float
    discharge_efficiency_frac: float
    soc_initial_kwh: float
    soc_final_kwh: float  # the final state must reach this (peers: equal to it)
    soc_min_kwh: float = 0.0


@dataclass(frozen=True)
class EvSession:
    arrival_step: int
    departure_step: int  # one past the last charging step
    energy_kwh: float
    max_power_kw: float


@dataclass(frozen=True)
class DeferrableLoad:
    power_kw: float
    steps: int  # one uninterrupted block of constant power
    earliest_step: int
    latest_end_step: int


@dataclass(frozen=True)
class Problem:
    """One shared problem: minimise Σ dt·(import price·import − export price·export) [yuan].

    Parameters
    ----------
    name : str
        Problem id.
    peers : list of str
        Peer tools that express this problem.
    equivalent : bool
        True when the formulations are the same model, so objectives must agree to 1e-6.
    """

    name: str
    description: str
    peers: list[str]
    import_price_yuan_per_kwh: list[float]
    export_price_yuan_per_kwh: list[float]
    load_kw: list[float]
    pv_kw: list[float]
    import_limit_kw: float
    export_limit_kw: float
    battery: Battery | None = None
    ev_sessions: list[EvSession] = field(default_factory=list)
    ev_chargers: int = 0
    ev_charger_power_kw: float = 0.0
    deferrable: list[DeferrableLoad] = field(default_factory=list)
    equivalent: bool = True
    steps: int = STEPS
    dt_h: float = DT_H

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> Problem:
        d: dict[str, Any] = json.loads(text)
        d["battery"] = Battery(**d["battery"]) if d["battery"] else None
        d["ev_sessions"] = [EvSession(**s) for s in d["ev_sessions"]]
        d["deferrable"] = [DeferrableLoad(**x) for x in d["deferrable"]]
        return Problem(**d)


def problems() -> dict[str, Problem]:
    price = tou_price()
    pv = pv_shape()
    sessions = [
        EvSession(a, d, e, 22.0)
        for a, d, e in [
            (0, 28, 80.0),
            (4, 36, 60.0),
            (30, 60, 45.0),
            (34, 72, 70.0),
            (40, 56, 30.0),
            (52, 88, 90.0),
            (64, 96, 55.0),
            (72, 96, 40.0),
        ]
    ]
    out = [
        Problem(
            "battery-arbitrage",
            "1 MW / 2 MWh battery trading against the TOU price, 90 % round trip (all on "
            "charge), empty at start and end, export paid at the import price",
            ["energypylinear"],
            price,
            price,
            [0.0] * STEPS,
            [0.0] * STEPS,
            import_limit_kw=10_000.0,
            export_limit_kw=10_000.0,
            battery=Battery(1000.0, 2000.0, 0.9, 1.0, 0.0, 0.0),
        ),
        Problem(
            "ev-arbitrage",
            "8 EV sessions on 8 chargers of 22 kW, charging at least cost by departure",
            ["energypylinear"],
            price,
            [0.0] * STEPS,
            [0.0] * STEPS,
            [0.0] * STEPS,
            import_limit_kw=10_000.0,
            export_limit_kw=0.0,
            ev_sessions=sessions,
            ev_chargers=8,
            ev_charger_power_kw=22.0,
        ),
        Problem(
            "pv-storage-lp",
            "factory load 2 MW base, 3 MWp PV, 1.5 MW / 3 MWh battery (95 % each way, half "
            "full at start and end), TOU import, no export payment",
            ["pypsa"],
            price,
            [0.0] * STEPS,
            industrial_load_kw(2000.0),
            [round(3000.0 * x, 3) for x in pv],
            import_limit_kw=10_000.0,
            export_limit_kw=0.0,
            battery=Battery(1500.0, 3000.0, 0.95, 0.95, 1500.0, 1500.0),
        ),
        Problem(
            "pv-battery-deferrable",
            "house-scale EMHASS problem in kW: 5 kW load base, 6 kWp PV, 5 kW / 10 kWh battery, "
            "two deferrable loads as single constant blocks, export paid 0.391 yuan/kWh",
            ["emhass"],
            price,
            [0.391] * STEPS,
            industrial_load_kw(5.0),
            [round(6.0 * x, 4) for x in pv],
            import_limit_kw=100.0,
            export_limit_kw=100.0,
            battery=Battery(5.0, 10.0, 0.95, 0.95, 5.0, 5.0),
            deferrable=[DeferrableLoad(3.0, 12, 0, 96), DeferrableLoad(1.5, 16, 32, 96)],
        ),
    ]
    return {p.name: p for p in out}

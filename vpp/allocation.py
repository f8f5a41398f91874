"""DR event allocation across a VPP's parks: the monolithic MILP (small VPPs, and the reference
for the decomposition that comes next).

One model holds every park's model as a block, each with its own constraints unchanged, plus
the event's coupling rows (docs/model.md, V2–V3). With ``b_{p,t}`` park p's baseline net import
(its optimal schedule without the event) and the event window W:

- V2 (delivery): ``d_{p,t} = s_p (b_{p,t} − (imp_{p,t} − exp_{p,t}))`` for t in W, with
  ``s_p = +1`` for peak shaving and −1 for valley filling;
- V3 (request): ``Σ_p d_{p,t} + short_t ≥ requested_t``, ``short_t ≥ 0``;
- objective: ``Σ_p cost_p + (penalty + price) · dt · Σ_t short_t`` — the revenue for delivering
  the whole request is a constant, so each kWh short costs its penalty and its lost payment.

The re-dispatch cost of the event is the total park cost minus the baselines' cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from models.assets.base import family, values
from models.park import build_park_model
from models.results import schedule_park
from models.solve import SolverOptions, solve_model
from models.spec import ResolvedPark
from vpp.event import DrEvent


@dataclass
class ParkAllocation:
    park_id: str
    baseline_import_kw: np.ndarray  # net import without the event, whole horizon
    target_import_kw: np.ndarray  # net import with the event, whole horizon
    delivered_kw: np.ndarray  # per event step
    baseline_cost_yuan: float
    cost_yuan: float

    @property
    def redispatch_cost_yuan(self) -> float:
        return self.cost_yuan - self.baseline_cost_yuan


@dataclass
class Allocation:
    event: DrEvent
    steps: list[int]
    requested_kw: np.ndarray
    shortfall_kw: np.ndarray
    parks: list[ParkAllocation]
    status: str
    gap: float | None
    seconds: float
    method: str = "monolithic"
    notes: list[str] = field(default_factory=list)

    @property
    def delivered_kw(self) -> np.ndarray:
        return np.sum([p.delivered_kw for p in self.parks], axis=0)

    def revenue_yuan(self, dt_h: float) -> float:
        """Energy payment for delivery up to the request, plus the capacity payment on the
        average delivered kW (both as the event's prices say)."""
        paid_kw = np.minimum(self.delivered_kw, self.requested_kw)
        e = self.event
        return float(
            e.price_yuan_per_kwh * dt_h * paid_kw.sum() + e.price_yuan_per_kw * paid_kw.mean()
        )

    def penalty_yuan(self, dt_h: float) -> float:
        return float(self.event.shortfall_penalty_yuan_per_kwh * dt_h * self.shortfall_kw.sum())

    def as_dict(self, dt_h: float) -> dict[str, Any]:
        return {
            "event": self.event.id,
            "method": self.method,
            "status": self.status,
            "gap": self.gap,
            "steps": self.steps,
            "requested_kw": self.requested_kw.round(3).tolist(),
            "delivered_kw": self.delivered_kw.round(3).tolist(),
            "shortfall_kw": self.shortfall_kw.round(3).tolist(),
            "redispatch_cost_yuan": round(sum(p.redispatch_cost_yuan for p in self.parks), 4),
            "revenue_yuan": round(self.revenue_yuan(dt_h), 4),
            "penalty_yuan": round(self.penalty_yuan(dt_h), 4),
            "parks": [
                {
                    "park_id": p.park_id,
                    "delivered_kw": p.delivered_kw.round(3).tolist(),
                    "target_import_kw": p.target_import_kw.round(3).tolist(),
                    "baseline_import_kw": p.baseline_import_kw.round(3).tolist(),
                    "redispatch_cost_yuan": round(p.redispatch_cost_yuan, 4),
                }
                for p in self.parks
            ],
            "seconds": self.seconds,
            "notes": self.notes,
        }


def allocate_monolithic(
    parks: list[ResolvedPark], event: DrEvent, options: SolverOptions | None = None
) -> Allocation:
    """Allocate ``event`` across ``parks`` at least total cost in one MILP (see the module).

    Raises
    ------
    ValueError
        Parks on different grids, or an event off the grid.
    """
    t0 = time.perf_counter()
    grid = parks[0].grid
    for p in parks[1:]:
        if p.grid != grid:
            raise ValueError(f"park {p.spec.id} is on another time grid than {parks[0].spec.id}")
    steps = event.steps_on(grid)
    requested = event.requested_on(grid)
    sign = 1.0 if event.type == "peak_shaving" else -1.0
    baselines = [schedule_park(p) for p in parks]
    base_net = [
        b.frame["import_kw"].to_numpy() - b.frame["export_kw"].to_numpy() for b in baselines
    ]
    m = pyo.ConcreteModel(name=f"vpp-{event.id}")
    m.W = pyo.Set(initialize=steps, ordered=True)
    models = []
    for i, p in enumerate(parks):
        pm = build_park_model(p).model
        pm.objective.deactivate()
        m.add_component(f"park_{i}", pm)
        models.append(pm)
    m.delivered_kw = pyo.Var(range(len(parks)), m.W)
    m.shortfall_kw = pyo.Var(m.W, domain=pyo.NonNegativeReals)

    def _delivery(m: pyo.ConcreteModel, i: int, t: int) -> Any:
        pm = models[i]
        return m.delivered_kw[i, t] == sign * (
            float(base_net[i][t]) - (pm.import_kw[t] - pm.export_kw[t])
        )

    m.delivery = pyo.Constraint(
        range(len(parks)), m.W, rule=_delivery, doc=family("V2", "park delivery vs baseline")
    )
    req = dict(zip(steps, requested, strict=True))
    m.request = pyo.Constraint(
        m.W,
        rule=lambda m, t: (
            sum(m.delivered_kw[i, t] for i in range(len(parks))) + m.shortfall_kw[t]
            >= float(req[t])
        ),
        doc=family("V3", "event request"),
    )
    short_price = (event.shortfall_penalty_yuan_per_kwh + event.price_yuan_per_kwh) * grid.dt_h
    m.objective = pyo.Objective(
        expr=sum(pm.objective.expr for pm in models)
        + short_price * sum(m.shortfall_kw[t] for t in m.W),
        sense=pyo.minimize,
    )
    res = solve_model(m, options or SolverOptions(), name=f"vpp-{event.id}")
    out = []
    for i, p in enumerate(parks):
        pm = models[i]
        net = values(pm.import_kw, range(grid.steps)) - values(pm.export_kw, range(grid.steps))
        out.append(
            ParkAllocation(
                p.spec.id,
                base_net[i],
                net,
                np.array([sign * (base_net[i][t] - net[t]) for t in steps]),
                float(baselines[i].costs["total_yuan"]),
                float(pyo.value(pm.objective.expr)),
            )
        )
    shortfall = np.clip(values(m.shortfall_kw, steps), 0.0, None)
    return Allocation(
        event,
        steps,
        requested,
        shortfall,
        out,
        res.status.value,
        res.gap,
        time.perf_counter() - t0,
    )

"""DR event allocation across a VPP's parks: the monolithic MILP (small VPPs, and the reference
for the decomposition of vpp/decomposition.py).

One model holds every park's model as a block (models/linear.py: ``LinearModel.append``), each
with its own constraints unchanged, plus
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

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.linear import LinearModel, Terms
from models.park import build_park_model
from models.results import ParkSchedule, schedule_from_solved, schedule_park
from models.solve import SolverOptions, serial_dot, solve_linear
from models.spec import ResolvedPark
from models.timegrid import TimeGrid
from vpp.event import DrEvent


@dataclass(frozen=True)
class ParkBaseline:
    """A park's schedule without the event, against which its delivery is measured.

    Parameters
    ----------
    net_import_kw : numpy.ndarray
        Import minus export [kW], whole horizon.
    cost_yuan : float
        The park's cost of that schedule [yuan].
    """

    net_import_kw: np.ndarray
    cost_yuan: float

    @classmethod
    def of(cls, schedule: ParkSchedule) -> ParkBaseline:
        f = schedule.frame
        return cls(
            f["import_kw"].to_numpy() - f["export_kw"].to_numpy(),
            float(schedule.costs["total_yuan"]),
        )


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
    # Every park's full schedule with the event (asset by asset), when extracted.
    schedules: dict[str, ParkSchedule] = field(default_factory=dict)
    # How the decomposition went (vpp/decomposition.py), None for the monolithic model.
    decomposition: Any = None
    grid: TimeGrid | None = None

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

    @property
    def redispatch_cost_yuan(self) -> float:
        return float(sum(p.redispatch_cost_yuan for p in self.parks))

    def objective_yuan(self, dt_h: float) -> float:
        """What both methods minimise: re-dispatch cost plus each kWh short at its penalty and
        its lost energy payment (= net cost − the revenue of the full request, a constant)."""
        e = self.event
        rho = (e.shortfall_penalty_yuan_per_kwh + e.price_yuan_per_kwh) * dt_h
        return self.redispatch_cost_yuan + rho * float(self.shortfall_kw.sum())

    def net_cost_yuan(self, dt_h: float) -> float:
        """Re-dispatch cost − DR revenue + shortfall penalty [yuan]."""
        return self.redispatch_cost_yuan - self.revenue_yuan(dt_h) + self.penalty_yuan(dt_h)

    def as_dict(self, dt_h: float) -> dict[str, Any]:
        return {
            "event": self.event.id,
            "event_type": self.event.type,
            "method": self.method,
            "status": self.status,
            "gap": self.gap,
            "steps": self.steps,
            "requested_kw": self.requested_kw.round(3).tolist(),
            "delivered_kw": self.delivered_kw.round(3).tolist(),
            "shortfall_kw": self.shortfall_kw.round(3).tolist(),
            "redispatch_cost_yuan": round(self.redispatch_cost_yuan, 4),
            "revenue_yuan": round(self.revenue_yuan(dt_h), 4),
            "penalty_yuan": round(self.penalty_yuan(dt_h), 4),
            "net_cost_yuan": round(self.net_cost_yuan(dt_h), 4),
            "objective_yuan": round(self.objective_yuan(dt_h), 4),
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
            "decomposition": None if self.decomposition is None else self.decomposition.as_dict(),
        }


def common_grid(parks: list[ResolvedPark]) -> TimeGrid:
    """The time grid all ``parks`` share.

    Raises
    ------
    ValueError
        No parks, or parks on different grids.
    """
    if not parks:
        raise ValueError("no parks to allocate the event to")
    grid = parks[0].grid
    for p in parks[1:]:
        if p.grid != grid:
            raise ValueError(f"park {p.spec.id} is on another time grid than {parks[0].spec.id}")
    return grid


def allocate_monolithic(
    parks: list[ResolvedPark],
    event: DrEvent,
    options: SolverOptions | None = None,
    *,
    with_schedules: bool = True,
    baselines: list[ParkBaseline] | None = None,
) -> Allocation:
    """Allocate ``event`` across ``parks`` at least total cost in one MILP (see the module).

    ``baselines`` (one per park) are the schedules delivery is measured against; by default
    each park's optimal schedule without the event. Optimal schedules are often not unique
    (a job may run in either of two equally priced hours), so methods compared on the same
    event must share them.

    Raises
    ------
    ValueError
        Parks on different grids, or an event off the grid.
    """
    t0 = time.perf_counter()
    grid = common_grid(parks)
    steps = event.steps_on(grid)
    requested = event.requested_on(grid)
    sign = 1.0 if event.type == "peak_shaving" else -1.0
    opts = options or SolverOptions()
    if baselines is None:
        baselines = [ParkBaseline.of(schedule_park(p, opts)) for p in parks]
    if len(baselines) != len(parks):
        raise ValueError(f"{len(baselines)} baselines for {len(parks)} parks")
    base_net = [b.net_import_kw for b in baselines]
    lm = LinearModel(f"vpp-{event.id}")
    w = np.asarray(steps, dtype=np.int64)
    built = [build_park_model(p) for p in parks]
    first = [lm.append(pm.lm, f"park_{i}") for i, pm in enumerate(built)]
    costs = [(pm.lm.col_cost(), pm.lm.offset) for pm in built]
    delivered = lm.var(None, "delivered_kw", len(parks) * len(w), -np.inf, np.inf)
    shortfall_cols = lm.var(None, "shortfall_kw", len(w), 0.0, np.inf)
    for i, pm in enumerate(built):
        # V2: d_{p,t} + s (imp_t − exp_t) = s b_t
        d = delivered[i * len(w) : (i + 1) * len(w)]
        lm.rows(
            None,
            f"delivery_{i}",
            "V2",
            "park delivery vs baseline",
            Terms.of(d)
            + Terms.of(pm.import_cols[w] + first[i], sign)
            + Terms.of(pm.export_cols[w] + first[i], -sign),
            len(w),
            sign * base_net[i][w],
            sign * base_net[i][w],
        )
    lm.rows(
        None,
        "request",
        "V3",
        "event request",
        Terms.of(delivered, 1.0, index=np.tile(np.arange(len(w)), len(parks)))
        + Terms.of(shortfall_cols),
        len(w),
        lower=requested,
    )
    short_price = (event.shortfall_penalty_yuan_per_kwh + event.price_yuan_per_kwh) * grid.dt_h
    lm.cost(Terms.of(shortfall_cols, short_price))
    res, x = solve_linear(lm, opts, name=f"vpp-{event.id}")
    out = []
    for i, p in enumerate(parks):
        pm = built[i]
        own_x = x[first[i] : first[i] + pm.lm.num_col]
        net = own_x[pm.import_cols] - own_x[pm.export_cols]
        cost, offset = costs[i]
        out.append(
            ParkAllocation(
                p.spec.id,
                base_net[i],
                net,
                sign * (base_net[i][w] - net[w]),
                baselines[i].cost_yuan,
                float(serial_dot(cost, own_x)) + offset,
            )
        )
    shortfall = np.clip(x[shortfall_cols], 0.0, None)
    schedules = {}
    if with_schedules:
        for i, (p, pa) in enumerate(zip(parks, out, strict=True)):
            own = dataclasses.replace(res, objective=pa.cost_yuan, bound=None)
            own_x = x[first[i] : first[i] + built[i].lm.num_col]
            schedules[p.spec.id] = schedule_from_solved(p, built[i], own, own_x)
    return Allocation(
        event,
        steps,
        requested,
        shortfall,
        out,
        res.status.value,
        res.gap,
        time.perf_counter() - t0,
        schedules=schedules,
        grid=grid,
    )

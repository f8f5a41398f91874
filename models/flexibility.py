"""Proven flexibility: the largest change of a park's net grid import it can sustain over a
window, with all its constraints, relative to its optimal baseline schedule.

Formulation (docs/model.md, F1–F2). With the baseline net import ``b_t = imp_t − exp_t`` of the
park's optimal schedule and a window ``W`` of steps:

- F1 (reduction): ``imp_t − exp_t ≤ b_t − R`` for t in W, maximise ``R ≥ 0``;
- F2 (increase): ``imp_t − exp_t ≥ b_t + R`` for t in W, maximise ``R ≥ 0``.

Every asset constraint stays (storage energy and SoC bounds, EV energy by departure, job
windows, curtailment limits, connection limits), so ``R`` is what the park can deliver, not a
sum of nameplates. Cost is not in the objective: this is capability, priced by the DR layer.
The solve is the same MILP path as scheduling (LP bound proof, HiGHS), and any status other
than optimal is reported with the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyomo.environ as pyo

from models.assets.base import family
from models.errors import InfeasibleError
from models.park import build_park_model
from models.solve import SolverOptions, solve_model
from models.spec import ResolvedPark

Direction = Literal["down", "up"]


@dataclass(frozen=True)
class Flexibility:
    """The sustained change of one park over one window.

    Parameters
    ----------
    start_step, steps : int
        The window ``[start_step, start_step + steps)`` on the park's grid.
    direction : {"down", "up"}
        Import reduction (peak shaving) or increase (valley filling).
    kw : float
        Sustainable change [kW] (0 when the park cannot move at all).
    status : str
        Solver status (``ok`` or ``warning`` with its gap); never hidden.
    gap : float or None
    seconds : float
    """

    start_step: int
    steps: int
    direction: Direction
    kw: float
    status: str
    gap: float | None
    seconds: float


def sustained_change(
    park: ResolvedPark,
    baseline_net_kw: np.ndarray,
    start_step: int,
    steps: int,
    direction: Direction = "down",
    options: SolverOptions | None = None,
) -> Flexibility:
    """Largest change of net import the park sustains over the window (F1 or F2).

    Raises
    ------
    ValueError
        A window outside the horizon or a baseline of the wrong length.
    """
    n = park.grid.steps
    if len(baseline_net_kw) != n:
        raise ValueError(f"baseline has {len(baseline_net_kw)} steps, the park {n}")
    if steps < 1 or start_step < 0 or start_step + steps > n:
        raise ValueError(f"window [{start_step}, {start_step + steps}) is outside 0…{n}")
    t0 = time.perf_counter()
    pm = build_park_model(park)
    m = pm.model
    window = list(range(start_step, start_step + steps))
    b = np.asarray(baseline_net_kw, dtype=float)
    m.flex_kw = pyo.Var(domain=pyo.NonNegativeReals)
    if direction == "down":
        m.flex_window = pyo.Constraint(
            window,
            rule=lambda m, t: m.import_kw[t] - m.export_kw[t] <= float(b[t]) - m.flex_kw,
            doc=family("F1", "sustained import reduction"),
        )
    else:
        m.flex_window = pyo.Constraint(
            window,
            rule=lambda m, t: m.import_kw[t] - m.export_kw[t] >= float(b[t]) + m.flex_kw,
            doc=family("F2", "sustained import increase"),
        )
    m.objective.deactivate()
    # minimise −R: the solve path (LP-bound proof, gaps) is written for minimisation
    m.flex_objective = pyo.Objective(expr=-m.flex_kw, sense=pyo.minimize)
    opts = options or SolverOptions(time_limit_s=60.0)
    try:
        res = solve_model(m, opts, name=park.spec.id)
    except InfeasibleError:
        # The baseline itself is feasible with R = 0, so this only happens if the baseline
        # came from another model: report no flexibility rather than invent some.
        return Flexibility(
            start_step, steps, direction, 0.0, "failed", None, time.perf_counter() - t0
        )
    kw = float(pyo.value(m.flex_kw))
    return Flexibility(
        start_step,
        steps,
        direction,
        max(kw, 0.0),
        res.status.value,
        res.gap,
        time.perf_counter() - t0,
    )

"""Proven flexibility: the largest change of a park's net grid import it can sustain over a
window, with all its constraints, relative to its optimal baseline schedule.

Formulation (docs/model.md, F1–F2). With the baseline net import ``b_t = imp_t − exp_t`` of the
park's optimal schedule and a window ``W`` of steps:

- F1 (reduction): ``imp_t − exp_t ≤ b_t − R`` for t in W, maximise ``R ≥ 0``;
- F2 (increase): ``imp_t − exp_t ≥ b_t + R`` for t in W, maximise ``R ≥ 0``.

Every asset constraint stays (storage energy and SoC bounds, EV energy by departure, job
windows, curtailment limits, connection limits), so ``R`` is what the park can deliver, not a
sum of nameplates. Cost is not in the objective: this is capability, priced by the DR layer.
It is the "largest sustained level" question of models/response.py (R1 with the level free),
and any status other than optimal is reported with the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.errors import InfeasibleError
from models.response import build_response_problem, max_level, set_baseline
from models.solve import SolverOptions
from models.spec import ResolvedPark

Direction = Literal["down", "up"]
_EVENT_TYPE: dict[str, Literal["peak_shaving", "valley_filling"]] = {
    "down": "peak_shaving",
    "up": "valley_filling",
}


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
    prob = build_response_problem(
        park, list(range(start_step, start_step + steps)), _EVENT_TYPE[direction]
    )
    set_baseline(prob, np.asarray(baseline_net_kw, dtype=float), 0.0)
    try:
        r = max_level(prob, options or SolverOptions(time_limit_s=60.0))
    except InfeasibleError:
        # The baseline itself is feasible with R = 0, so this only happens if the baseline
        # came from another model: report no flexibility rather than invent some.
        return Flexibility(
            start_step, steps, direction, 0.0, "failed", None, time.perf_counter() - t0
        )
    return Flexibility(
        start_step,
        steps,
        direction,
        max(r.level_kw, 0.0),
        r.status,
        r.solve.gap,
        time.perf_counter() - t0,
    )

"""The shared LP dispatch problem in PyPSA (linopy + HiGHS).

Mapping: one bus; the load as a ``Load``; PV as a ``Generator`` with ``p_max_pu`` (curtailable,
like ours); grid import as a ``Generator`` priced at the import price; grid export as a
``Generator`` with ``p_min_pu = -1`` priced at the export price (revenue when negative); the
battery as a ``StorageUnit`` with separate charge and discharge efficiencies, no standing loss,
its initial state fixed and its final state fixed by ``state_of_charge_set``. Snapshot weights
are the step length [h], so the objective is in yuan like ours. PyPSA's storage has no binary
keeping charge and discharge apart: on this problem (load above PV at every step, prices > 0)
doing both never pays, so the optimum is the same as our MILP's.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import pypsa  # type: ignore[import-not-found]

from benchmarks.peers.problems import Problem

logging.getLogger("pypsa").setLevel(logging.ERROR)
logging.getLogger("linopy").setLevel(logging.ERROR)


def solve(p: Problem) -> dict[str, Any]:
    t0 = time.perf_counter()
    n = pypsa.Network()
    snapshots = pd.RangeIndex(p.steps)
    n.set_snapshots(snapshots)
    n.snapshot_weightings = pd.DataFrame(
        p.dt_h, index=snapshots, columns=n.snapshot_weightings.columns, dtype=float
    )
    n.add("Bus", "park")
    n.add("Load", "load", bus="park", p_set=pd.Series(p.load_kw, index=snapshots))
    pv_peak = max(p.pv_kw)
    if pv_peak > 0:
        n.add(
            "Generator",
            "pv",
            bus="park",
            p_nom=pv_peak,
            p_max_pu=pd.Series(np.array(p.pv_kw) / pv_peak, index=snapshots),
            marginal_cost=0.0,
        )
    n.add(
        "Generator",
        "grid-import",
        bus="park",
        p_nom=p.import_limit_kw,
        marginal_cost=pd.Series(p.import_price_yuan_per_kwh, index=snapshots),
    )
    if p.export_limit_kw > 0:
        n.add(
            "Generator",
            "grid-export",
            bus="park",
            p_nom=p.export_limit_kw,
            p_min_pu=-1.0,
            p_max_pu=0.0,
            marginal_cost=pd.Series(p.export_price_yuan_per_kwh, index=snapshots),
        )
    if p.battery is not None:
        b = p.battery
        soc_set = pd.Series(np.nan, index=snapshots)
        soc_set.iloc[-1] = b.soc_final_kwh
        n.add(
            "StorageUnit",
            "bess",
            bus="park",
            p_nom=b.power_kw,
            max_hours=b.energy_kwh / b.power_kw,
            efficiency_store=b.charge_efficiency_frac,
            efficiency_dispatch=b.discharge_efficiency_frac,
            state_of_charge_initial=b.soc_initial_kwh,
            state_of_charge_set=soc_set,
            cyclic_state_of_charge=False,
            standing_loss=0.0,
        )
    n.optimize.create_model()
    t1 = time.perf_counter()
    status, condition = n.optimize.solve_model(solver_name="highs", log_to_console=False)
    t2 = time.perf_counter()
    return {
        "status": "ok" if status == "ok" and condition == "optimal" else f"{status}/{condition}",
        "termination": str(condition),
        "objective": float(n.objective + (n.objective_constant or 0.0)),
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "solver": "HiGHS (linopy)",
    }

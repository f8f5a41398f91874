"""From a solved park model to a schedule, a cost breakdown recomputed from that schedule, a
summary, and a post-solve verification that fails loudly."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.assets import handler_for
from models.assets.base import AssetResult
from models.assets.battery import BatterySpec
from models.assets.pv import PvSpec
from models.errors import InfeasibleError, VerificationError
from models.park import ParkModel, build_park_model
from models.solve import SolveResult, SolverOptions, diagnose_linear, solve_linear
from models.spec import ResolvedPark

BALANCE_TOL_KW = 1e-4
OBJECTIVE_TOL_REL = 1e-6
OBJECTIVE_TOL_ABS_YUAN = 1e-3

PENALTY_CATEGORIES = ("pv_curtailment", "unmet_energy_penalty", "load_curtailment")


@dataclass
class ParkSchedule:
    """A verified schedule of one park with its costs and solver record."""

    park: ResolvedPark
    solve: SolveResult
    frame: pd.DataFrame
    assets: dict[str, AssetResult]
    costs: dict[str, float]
    summary: dict[str, Any]


def cost_breakdown(
    park: ResolvedPark, frame: pd.DataFrame, assets: dict[str, AssetResult]
) -> dict[str, float]:
    """Every cost term recomputed from the schedule alone [yuan] (not from the solver).

    ``total_yuan`` = energy + carbon − export revenue + demand charge + degradation + penalties
    − subsidy − job value.
    """
    g, dt_h = park.spec.grid, park.grid.dt_h
    imp = frame["import_kw"].to_numpy()
    exp = frame["export_kw"].to_numpy()
    energy = float((park.import_price_yuan_per_kwh * imp).sum() * dt_h)
    co2_t = float(imp.sum() * dt_h * g.emission_factor_kg_per_kwh / 1000.0)
    carbon = g.carbon_price_yuan_per_t * co2_t
    export_rev = float((park.export_price_yuan_per_kwh * exp).sum() * dt_h)
    demand = g.demand_charge_yuan_per_kw_month * max(0.0, float(imp.max()) - g.month_peak_so_far_kw)
    cats: dict[str, float] = {}
    for spec in park.assets:
        for k, v in (
            handler_for(spec)
            .costs(assets[spec.id], spec, park.asset_data[spec.id], park.grid)
            .items()
        ):
            cats[k] = cats.get(k, 0.0) + v
    out = {
        "energy_yuan": energy,
        "carbon_yuan": carbon,
        "export_revenue_yuan": export_rev,
        "demand_charge_yuan": demand,
        "degradation_yuan": cats.get("degradation", 0.0),
        "pv_curtailment_penalty_yuan": cats.get("pv_curtailment", 0.0),
        "unmet_energy_penalty_yuan": cats.get("unmet_energy_penalty", 0.0),
        "load_curtailment_cost_yuan": cats.get("load_curtailment", 0.0),
        "subsidy_yuan": -cats.get("subsidy", 0.0),
        "job_value_yuan": -cats.get("job_value", 0.0),
    }
    out["penalties_yuan"] = (
        out["pv_curtailment_penalty_yuan"]
        + out["unmet_energy_penalty_yuan"]
        + out["load_curtailment_cost_yuan"]
    )
    out["total_yuan"] = (
        energy
        + carbon
        - export_rev
        + demand
        + out["degradation_yuan"]
        + out["penalties_yuan"]
        - out["subsidy_yuan"]
        - out["job_value_yuan"]
    )
    return out


def _frame(
    park: ResolvedPark, pm: ParkModel, x: np.ndarray, assets: dict[str, AssetResult]
) -> pd.DataFrame:
    grid = park.grid
    imp = x[pm.import_cols]
    exp = x[pm.export_cols]
    cols: dict[str, Any] = {
        "timestamp": grid.iso,
        "load_kw": park.load_kw,
        "import_kw": np.clip(imp, 0.0, None),
        "export_kw": np.clip(exp, 0.0, None),
    }
    pv_ids = [a.id for a in park.assets if isinstance(a, PvSpec)]
    cols["pv_kw"] = sum((assets[i].columns["power_kw"] for i in pv_ids), np.zeros(grid.steps))
    cols["pv_curtailed_kw"] = sum(
        (assets[i].columns["curtailed_kw"] for i in pv_ids), np.zeros(grid.steps)
    )
    for spec in park.assets:
        for q, arr in assets[spec.id].columns.items():
            cols[f"{spec.id}.{q}"] = arr
    cols["import_price_yuan_per_kwh"] = park.import_price_yuan_per_kwh
    cols["export_price_yuan_per_kwh"] = park.export_price_yuan_per_kwh
    return pd.DataFrame(cols)


def verify_schedule(
    park: ResolvedPark,
    frame: pd.DataFrame,
    assets: dict[str, AssetResult],
    result: SolveResult,
    costs: dict[str, float],
) -> list[str]:
    """Physical and accounting checks of a schedule; empty when it is sound."""
    g = park.spec.grid
    out: list[str] = []
    imp, exp = frame["import_kw"].to_numpy(), frame["export_kw"].to_numpy()
    net = sum((a.net_kw for a in assets.values()), np.zeros(park.grid.steps))
    residual = imp - exp + net - park.load_kw
    scale = max(1.0, float(np.abs(park.load_kw).max()))
    if np.any(np.abs(residual) > BALANCE_TOL_KW * scale):
        t = int(np.argmax(np.abs(residual)))
        out.append(
            f"power balance off by {residual[t]:.6f} kW at step {t} ({frame['timestamp'][t]})"
        )
    if np.any(imp > g.import_limit_kw * (1 + 1e-6) + 1e-6):
        out.append(f"import above the limit {g.import_limit_kw} kW")
    if np.any(exp > g.export_limit_kw * (1 + 1e-6) + 1e-6):
        out.append(f"export above the limit {g.export_limit_kw} kW")
    for spec in park.assets:
        out += handler_for(spec).verify(
            assets[spec.id], spec, park.asset_data[spec.id], park.grid, result.relaxed
        )
    if result.objective is not None:
        diff = abs(costs["total_yuan"] - result.objective)
        if diff > OBJECTIVE_TOL_ABS_YUAN + OBJECTIVE_TOL_REL * abs(result.objective):
            out.append(
                f"cost recomputed from the schedule ({costs['total_yuan']:.4f} yuan) differs from the "
                f"solver objective ({result.objective:.4f} yuan)"
            )
    return out


def summarize(
    park: ResolvedPark,
    frame: pd.DataFrame,
    assets: dict[str, AssetResult],
    costs: dict[str, float],
    result: SolveResult,
) -> dict[str, Any]:
    """The summary.json content: costs, energy totals, KPIs, storage, slacks, solver."""
    g, grid, dt_h = park.spec.grid, park.grid, park.grid.dt_h
    imp, exp = frame["import_kw"].to_numpy(), frame["export_kw"].to_numpy()
    pv = frame["pv_kw"].to_numpy()
    pv_exported = np.minimum(exp, pv)
    pv_kwh = float(pv.sum() * dt_h)
    consumed_kwh = float((imp + pv - exp).sum() * dt_h)
    pv_self_kwh = float((pv - pv_exported).sum() * dt_h)
    storage: list[dict[str, Any]] = []
    for spec in park.assets:
        if isinstance(spec, BatterySpec):
            c = assets[spec.id].columns
            dis_kwh = float(c["discharge_kw"].sum() * dt_h)
            eligible = c["subsidy_rate_yuan_per_kwh"] > 0
            storage.append(
                {
                    "asset_id": spec.id,
                    "charge_kwh": float(c["charge_kw"].sum() * dt_h),
                    "discharge_kwh": dis_kwh,
                    "equivalent_cycles": dis_kwh / spec.energy_kwh,
                    "subsidy_eligible_discharge_kwh": float(
                        c["discharge_kw"][eligible].sum() * dt_h
                    ),
                    "subsidy_yuan": float(
                        (c["subsidy_rate_yuan_per_kwh"] * c["discharge_kw"]).sum() * dt_h
                    ),
                    "final_soc_kwh": float(c["soc_kwh"][-1]),
                }
            )
    slacks = []
    for spec in park.assets:
        recs = [r for r in assets[spec.id].records if r.get("unmet_kwh", 0.0) > 1e-6]
        if recs:
            slacks.append(
                {
                    "asset_id": spec.id,
                    "slack": "ev_unmet_energy_kwh",
                    "total_kwh": float(sum(r["unmet_kwh"] for r in recs)),
                    "sessions": [r["session"] for r in recs],
                }
            )
    totals = {
        "load_kwh": float(park.load_kw.sum() * dt_h),
        "import_kwh": float(imp.sum() * dt_h),
        "export_kwh": float(exp.sum() * dt_h),
        "pv_available_kwh": float((pv + frame["pv_curtailed_kw"].to_numpy()).sum() * dt_h),
        "pv_generated_kwh": pv_kwh,
        "pv_curtailed_kwh": float(frame["pv_curtailed_kw"].sum() * dt_h),
        "pv_self_consumed_kwh": pv_self_kwh,
        "consumed_kwh": consumed_kwh,
        "storage_discharge_kwh": float(sum(float(s["discharge_kwh"]) for s in storage)),
    }
    return {
        "park_id": park.spec.id,
        "park_name": park.spec.name,
        "horizon": {
            "start": grid.start.isoformat(),
            "steps": grid.steps,
            "resolution_min": grid.resolution_min,
        },
        "relaxed": result.relaxed,
        "costs_yuan": costs,
        "energy_kwh": totals,
        "peak_import_kw": float(imp.max()),
        "month_peak_so_far_kw": g.month_peak_so_far_kw,
        "pv_self_consumption_frac": pv_self_kwh / pv_kwh if pv_kwh > 0 else None,
        "renewable_share_frac": pv_self_kwh / consumed_kwh if consumed_kwh > 0 else None,
        "co2_kg": float(imp.sum() * dt_h * g.emission_factor_kg_per_kwh),
        "storage": storage,
        "slacks": slacks,
        "solver": result.as_dict(),
    }


def schedule_park(park: ResolvedPark, options: SolverOptions | None = None) -> ParkSchedule:
    """Build, solve, extract and verify the day-ahead schedule of one park.

    Raises
    ------
    InfeasibleError
        With the conflicting constraint families, asset by asset.
    SolverError
        No usable solution.
    VerificationError
        The solution violates the model's physics (never silently accepted).
    """
    options = options or SolverOptions()
    t0 = time.perf_counter()
    pm = build_park_model(park)
    build_s = time.perf_counter() - t0
    try:
        result, x = solve_linear(pm.lm, options, name=park.spec.id, build_s=build_s)
    except InfeasibleError as exc:
        raise InfeasibleError(park.spec.id, diagnose_linear(pm.lm), exc.detail) from exc
    return schedule_from_solved(park, pm, result, x)


def schedule_from_solved(
    park: ResolvedPark, pm: ParkModel, result: SolveResult, x: np.ndarray
) -> ParkSchedule:
    """Extract, cost and verify the schedule of the solution vector ``x`` of ``pm``.

    Raises
    ------
    VerificationError
        The solution violates the model's physics (never silently accepted).
    """
    t1 = time.perf_counter()
    assets = {
        spec.id: handler_for(spec).extract(
            pm.lm.values(x, spec.id), spec, park.asset_data[spec.id], park.grid
        )
        for spec in park.assets
    }
    frame = _frame(park, pm, x, assets)
    result.extract_s += time.perf_counter() - t1
    costs = cost_breakdown(park, frame, assets)
    problems = verify_schedule(park, frame, assets, result, costs)
    if problems:
        raise VerificationError(park.spec.id, problems)
    return ParkSchedule(
        park, result, frame, assets, costs, summarize(park, frame, assets, costs, result)
    )

"""The shared PV + battery + deferrable-load problem in EMHASS (cvxpy + HiGHS).

EMHASS works in W and Wh with prices per kWh; its ``profit`` cost function maximises
export revenue minus import cost, so its objective is the negative of ours, scaled by the step:
ours = −objective. The configuration starts from EMHASS's own defaults and sets: 15-minute steps,
one day, PV and battery on, battery discharge to the grid allowed (ours allows it), no stress,
deficit, surplus or final-SOC reward terms, the MIP gap as tight as ours, and each deferrable
load as one uninterrupted block of constant power (``set_deferrable_load_single_constant``),
which is our shiftable job.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import emhass  # type: ignore[import-not-found]
import numpy as np
import orjson  # type: ignore[import-not-found]
import pandas as pd
from emhass.optimization import Optimization  # type: ignore[import-not-found]
from emhass.utils import (  # type: ignore[import-not-found]
    build_config,
    build_params,
    build_secrets,
    get_yaml_parse,
)

from benchmarks.peers.problems import Problem

_LOG = logging.getLogger("emhass-peer")
_LOG.setLevel(logging.ERROR)
_ROOT = Path(emhass.__file__).parent
_DATA = Path(tempfile.mkdtemp(prefix="emhass-peer-"))
_CONF = {
    "data_path": _DATA,
    "root_path": _ROOT,
    "defaults_path": _ROOT / "data" / "config_defaults.json",
    "associations_path": _ROOT / "data" / "associations.csv",
}


async def _defaults() -> dict[str, Any]:
    config = await build_config(_CONF, _LOG, _CONF["defaults_path"])
    _, secrets = await build_secrets(_CONF, _LOG, no_response=True)
    params: dict[str, Any] = await build_params(_CONF, secrets, config, _LOG)
    return params


def _confs(p: Problem) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    params = asyncio.run(_defaults())
    b = p.battery
    assert b is not None
    params["retrieve_hass_conf"]["optimization_time_step"] = int(p.dt_h * 60)
    params["retrieve_hass_conf"]["time_zone"] = "Asia/Shanghai"
    o = params["optim_conf"]
    o.update(
        {
            "set_use_pv": True,
            "set_use_battery": True,
            "set_nocharge_from_grid": False,
            "set_nodischarge_to_grid": False,
            "set_battery_dynamic": False,
            "weight_battery_discharge": 0.0,
            "weight_battery_charge": 0.0,
            "lp_solver": "Highs",
            "lp_solver_mip_rel_gap": 1e-7,
            "lp_solver_timeout": 300,
            "delta_forecast_daily": 1,
            "number_of_deferrable_loads": len(p.deferrable),
            "nominal_power_of_deferrable_loads": [d.power_kw * 1000 for d in p.deferrable],
            "minimum_power_of_deferrable_loads": [0.0] * len(p.deferrable),
            "operating_hours_of_each_deferrable_load": [d.steps * p.dt_h for d in p.deferrable],
            "start_timesteps_of_each_deferrable_load": [d.earliest_step for d in p.deferrable],
            "end_timesteps_of_each_deferrable_load": [
                0 if d.latest_end_step >= p.steps else d.latest_end_step for d in p.deferrable
            ],
            "treat_deferrable_load_as_semi_cont": [True] * len(p.deferrable),
            "set_deferrable_load_single_constant": [True] * len(p.deferrable),
            "set_deferrable_startup_penalty": [0.0] * len(p.deferrable),
            "cost_forecast_per_deferrable_load": [None] * len(p.deferrable),
            "is_electric_load": [True] * len(p.deferrable),
            "def_minimum_on_time": [0] * len(p.deferrable),
            "def_minimum_off_time": [0] * len(p.deferrable),
            "set_deferrable_max_startups": [0] * len(p.deferrable),
            "deferrable_load_max_cost": [0.0] * len(p.deferrable),
        }
    )
    pc = params["plant_conf"]
    pc.update(
        {
            "maximum_power_from_grid": p.import_limit_kw * 1000,
            "maximum_power_to_grid": p.export_limit_kw * 1000,
            "inverter_is_hybrid": False,
            "compute_curtailment": False,
            "battery_discharge_power_max": b.power_kw * 1000,
            "battery_charge_power_max": b.power_kw * 1000,
            "battery_discharge_efficiency": b.discharge_efficiency_frac,
            "battery_charge_efficiency": b.charge_efficiency_frac,
            "battery_nominal_energy_capacity": b.energy_kwh * 1000,
            "battery_minimum_state_of_charge": b.soc_min_kwh / b.energy_kwh,
            "battery_maximum_state_of_charge": 1.0,
            "battery_target_state_of_charge": b.soc_final_kwh / b.energy_kwh,
            "battery_stress_cost": 0.0,
            "battery_soc_deficit_cost": 0.0,
            "battery_soc_surplus_cost": 0.0,
            "battery_soc_final_reward_factor": 0.0,
            "inverter_stress_cost": 0.0,
        }
    )
    return get_yaml_parse(orjson.dumps(params).decode("utf-8"), _LOG)


_CACHE: dict[str, Any] = {}


def solve(p: Problem) -> dict[str, Any]:
    t0 = time.perf_counter()
    if p.name not in _CACHE:
        # EMHASS's configuration assembly reads its defaults file and secrets once per
        # process, as its server does at start-up: not counted in the model build.
        _CACHE[p.name] = _confs(p)
    rh, oc, pc = _CACHE[p.name]
    t0 = time.perf_counter()
    index = pd.date_range(
        "2026-07-15 00:00", periods=p.steps, freq=f"{int(p.dt_h * 60)}min", tz="Asia/Shanghai"
    )
    load_w = np.array(p.load_kw) * 1000
    pv_w = np.array(p.pv_kw) * 1000
    cost = np.array(p.import_price_yuan_per_kwh)
    price = np.array(p.export_price_yuan_per_kwh)
    data = pd.DataFrame(
        {"unit_load_cost": cost, "unit_prod_price": price, "p_pv": pv_w, "p_load": load_w},
        index=index,
    )
    opt = Optimization(
        rh,
        oc,
        pc,
        "unit_load_cost",
        "unit_prod_price",
        "profit",
        _CONF,
        _LOG,
        opt_time_delta=24,
        num_timesteps=p.steps,
    )
    b = p.battery
    assert b is not None
    stages: dict[str, float] = {}
    res = opt.perform_optimization(
        data,
        pv_w,
        load_w,
        cost,
        price,
        soc_init=b.soc_initial_kwh / b.energy_kwh,
        soc_final=b.soc_final_kwh / b.energy_kwh,
        stage_times=stages,
    )
    wall = time.perf_counter() - t0
    status = str(opt.optim_status)
    solve_s = stages.get("optim_solve.solve", float("nan"))
    cost_col = "cost_profit" if "cost_profit" in res.columns else None
    objective = -float(res[cost_col].sum()) if cost_col else float("nan")
    return {
        "status": "ok" if status.lower() == "optimal" else status,
        "termination": status,
        "objective": objective,
        "build_s": wall - solve_s,
        "solve_s": solve_s,
        "solver": "HiGHS (cvxpy)",
    }

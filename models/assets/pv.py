"""Rooftop PV: dispatchable down to zero (curtailment), never above its available output.

Equations (docs/model.md §PV): V1 output bounded by availability (as variable bounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyomo.environ as pyo
from pydantic import Field

from forecasts.pv import PvSystemParams, clearsky_pv_kw
from models.assets.base import (
    TOL,
    AssetHandler,
    AssetResult,
    AssetSpecBase,
    AssetTerms,
    MeasuredState,
    ResolveContext,
    Solved,
    family,
)
from models.errors import InputProblem
from models.linear import BlockBuilder, Cost, Terms
from models.series import resolve_series
from models.timegrid import TimeGrid


class PvSpec(AssetSpecBase):
    """A PV array.

    Parameters
    ----------
    capacity_kwp : float
        DC nameplate [kWp].
    tilt_deg, azimuth_deg : float
        Orientation [°]; azimuth 180 = south (pvlib convention).
    forecast_kw : list, scalar or CSV path, optional
        Available AC output per step [kW]; if absent, a pvlib clear-sky estimate.
    curtailment_cost_yuan_per_kwh : float
        Cost of each kWh left unused [yuan/kWh] (0: curtail freely when it pays).
    system_losses_frac : float
        Soiling, wiring, mismatch and availability losses for the pvlib estimates [-]
        (PVWatts default 14 %).
    """

    type: Literal["pv"]
    capacity_kwp: float = Field(gt=0)
    tilt_deg: float = Field(20.0, ge=0, le=90)
    azimuth_deg: float = Field(180.0, ge=0, lt=360)
    forecast_kw: float | list[float] | str | None = None
    curtailment_cost_yuan_per_kwh: float = Field(0.0, ge=0)
    system_losses_frac: float = Field(0.14, ge=0, lt=1)

    def system_params(self) -> PvSystemParams:
        return PvSystemParams(system_losses_frac=self.system_losses_frac)


@dataclass(frozen=True)
class PvData:
    available_kw: np.ndarray


def resolve(spec: PvSpec, ctx: ResolveContext, problems: list[InputProblem]) -> PvData:
    if spec.forecast_kw is None:
        avail = clearsky_pv_kw(
            ctx.grid,
            latitude_deg=ctx.latitude_deg,
            longitude_deg=ctx.longitude_deg,
            capacity_kwp=spec.capacity_kwp,
            tilt_deg=spec.tilt_deg,
            azimuth_deg=spec.azimuth_deg,
            params=spec.system_params(),
        )
    else:
        avail = resolve_series(
            spec.forecast_kw,
            ctx.grid,
            ctx.base_dir,
            field="forecast_kw",
            asset_id=spec.id,
            problems=problems,
        )
        if np.any(avail < 0):
            problems.append(InputProblem("forecast_kw", "PV output cannot be negative", spec.id))
        # A forecast above 1.5 × nameplate is almost certainly a unit error (W vs kW).
        if np.any(avail > 1.5 * spec.capacity_kwp):
            problems.append(
                InputProblem(
                    "forecast_kw",
                    f"peak {avail.max():.0f} kW exceeds 1.5 × capacity_kwp "
                    f"({spec.capacity_kwp:.0f} kWp): wrong unit?",
                    spec.id,
                )
            )
    return PvData(available_kw=np.clip(avail, 0.0, None))


def build(b: BlockBuilder, spec: PvSpec, data: PvData, grid: TimeGrid) -> AssetTerms:
    # V1: 0 ≤ p_t ≤ A_t, as bounds (availability is data, never in conflict with anything).
    power = b.var("power_kw", grid.steps, 0.0, data.available_kw)
    rate = spec.curtailment_cost_yuan_per_kwh * grid.dt_h
    return AssetTerms(
        net_kw=Terms.of(power),
        costs_yuan={
            "pv_curtailment": Cost(
                Terms.of(power, -rate), constant_yuan=rate * float(data.available_kw.sum())
            )
        },
    )


def extract(v: Solved, spec: PvSpec, data: PvData, grid: TimeGrid) -> AssetResult:
    power = np.clip(v["power_kw"], 0.0, None)
    return AssetResult(
        {
            "power_kw": power,
            "available_kw": data.available_kw.copy(),
            "curtailed_kw": np.clip(data.available_kw - power, 0.0, None),
        },
        net_kw=power,
    )


def costs(res: AssetResult, spec: PvSpec, data: PvData, grid: TimeGrid) -> dict[str, float]:
    curtailed_kwh = float(res.columns["curtailed_kw"].sum() * grid.dt_h)
    return {"pv_curtailment": spec.curtailment_cost_yuan_per_kwh * curtailed_kwh}


def verify(
    res: AssetResult, spec: PvSpec, data: PvData, grid: TimeGrid, relaxed: bool
) -> list[str]:
    over = res.columns["power_kw"] - data.available_kw
    if np.any(over > TOL * max(1.0, spec.capacity_kwp)):
        t = int(np.argmax(over))
        return [f"pv {spec.id}: output exceeds availability by {over[t]:.4f} kW at step {t}"]
    return []


def net_range(spec: PvSpec, data: PvData, grid: TimeGrid) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(grid.steps), data.available_kw.copy()


def restrict(
    spec: PvSpec,
    data: PvData,
    grid: TimeGrid,
    k: int,
    state: MeasuredState,
    problems: list[InputProblem],
) -> tuple[PvSpec, PvData]:
    """PV keeps its forecast from step k on; it has no state."""
    return spec, PvData(available_kw=data.available_kw[k:].copy())


def measured_at(
    res: AssetResult, spec: PvSpec, data: PvData, grid: TimeGrid, k: int
) -> dict[str, Any]:
    """PV carries no state from one step to the next."""
    return {}


HANDLER: AssetHandler[PvSpec, PvData] = AssetHandler(
    type_name="pv",
    spec_class=PvSpec,
    resolve=resolve,
    build=build,
    extract=extract,
    costs=costs,
    verify=verify,
    net_range=net_range,
    restrict=restrict,
    measured_at=measured_at,
)


# --- Planning: PV whose capacity is a decision (docs/model.md §Sizing) -----------------------


@dataclass(frozen=True)
class PvSizing:
    """PV to size for planning models.

    Parameters
    ----------
    capacity_kwp_min, capacity_kwp_max : float
        Bounds on the installed DC capacity [kWp] (the maximum is the usable roof potential).
    yield_kw_per_kwp : numpy.ndarray
        Available AC output per kWp installed in each step [kW/kWp].
    """

    capacity_kwp_min: float
    capacity_kwp_max: float
    yield_kw_per_kwp: np.ndarray


def build_sized(b: pyo.Block, sizing: PvSizing) -> Any:
    """PV output ``p_k ≤ C · y_k`` with capacity ``C`` a variable (SV1); returns ``p``."""
    y = [float(v) for v in sizing.yield_kw_per_kwp]
    K = range(len(y))
    b.capacity_kwp = pyo.Var(bounds=(sizing.capacity_kwp_min, sizing.capacity_kwp_max))
    # Night steps are bounded to zero rather than given a row.
    b.power_kw = pyo.Var(K, bounds=lambda _b, k: (0.0, None if y[k] > 0 else 0.0))
    b.availability = pyo.Constraint(
        [k for k in K if y[k] > 0],
        rule=lambda b, k: b.power_kw[k] <= y[k] * b.capacity_kwp,
        doc=family("SV1", "output within the sized array's availability"),
    )
    return b.power_kw

"""Curtailable load: part of the park load that may be shed at a price.

Equations (docs/model.md §Curtailable load): C1 energy budget; the per-step limit
``min(max_curtail_kw, park load)`` is a variable bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from models.assets.base import (
    TOL,
    AssetHandler,
    AssetResult,
    AssetSpecBase,
    AssetTerms,
    MeasuredState,
    ResolveContext,
    Solved,
)
from models.errors import InputProblem
from models.linear import BlockBuilder, Cost, Terms
from models.timegrid import TimeGrid


class CurtailableLoadSpec(AssetSpecBase):
    """Load that can be reduced (it is part of the park ``load``).

    Parameters
    ----------
    max_curtail_kw : float
        Largest reduction in any step [kW].
    cost_yuan_per_kwh : float
        Cost of each kWh shed (lost production, comfort) [yuan/kWh].
    max_curtailed_kwh : float, optional
        Energy budget over the horizon [kWh].
    """

    type: Literal["curtailable_load"]
    max_curtail_kw: float = Field(gt=0)
    cost_yuan_per_kwh: float = Field(ge=0)
    max_curtailed_kwh: float | None = Field(None, ge=0)


@dataclass(frozen=True)
class CurtailData:
    limit_kw: np.ndarray


def resolve(
    spec: CurtailableLoadSpec, ctx: ResolveContext, problems: list[InputProblem]
) -> CurtailData:
    # Shedding more than the park draws would turn the park into a generator.
    return CurtailData(np.minimum(spec.max_curtail_kw, np.clip(ctx.load_kw, 0.0, None)))


def build(
    b: BlockBuilder, spec: CurtailableLoadSpec, data: CurtailData, grid: TimeGrid
) -> AssetTerms:
    curtail = b.var("curtail_kw", grid.steps, 0.0, data.limit_kw)
    if spec.max_curtailed_kwh is not None:
        b.rows(
            "energy_budget",
            "C1",
            "curtailed energy budget",
            Terms.of(curtail, grid.dt_h).summed(),
            1,
            upper=spec.max_curtailed_kwh,
        )
    return AssetTerms(
        net_kw=Terms.of(curtail),
        costs_yuan={
            "load_curtailment": Cost(Terms.of(curtail, spec.cost_yuan_per_kwh * grid.dt_h))
        },
    )


def extract(v: Solved, spec: CurtailableLoadSpec, data: CurtailData, grid: TimeGrid) -> AssetResult:
    curtail = np.clip(v["curtail_kw"], 0.0, None)
    return AssetResult({"curtail_kw": curtail}, net_kw=curtail)


def costs(
    res: AssetResult, spec: CurtailableLoadSpec, data: CurtailData, grid: TimeGrid
) -> dict[str, float]:
    return {
        "load_curtailment": spec.cost_yuan_per_kwh
        * grid.dt_h
        * float(res.columns["curtail_kw"].sum())
    }


def verify(
    res: AssetResult, spec: CurtailableLoadSpec, data: CurtailData, grid: TimeGrid, relaxed: bool
) -> list[str]:
    c = res.columns["curtail_kw"]
    out = []
    if np.any(c > data.limit_kw + TOL * max(1.0, spec.max_curtail_kw)):
        out.append(f"curtailable {spec.id}: sheds more than allowed")
    if (
        spec.max_curtailed_kwh is not None
        and c.sum() * grid.dt_h > spec.max_curtailed_kwh + TOL * max(1.0, spec.max_curtailed_kwh)
    ):
        out.append(f"curtailable {spec.id}: exceeds max_curtailed_kwh")
    return out


def net_range(
    spec: CurtailableLoadSpec, data: CurtailData, grid: TimeGrid
) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(grid.steps), data.limit_kw.copy()


def restrict(
    spec: CurtailableLoadSpec,
    data: CurtailData,
    grid: TimeGrid,
    k: int,
    state: MeasuredState,
    problems: list[InputProblem],
) -> tuple[CurtailableLoadSpec, CurtailData]:
    """From step k on; ``curtailed_kwh`` (so far today) comes off the energy budget."""
    done = float(state.get("curtailed_kwh", 0.0))
    if done < 0:
        problems.append(InputProblem("curtailed_kwh", f"must be ≥ 0, got {done}", spec.id))
    if spec.max_curtailed_kwh is not None:
        spec = spec.model_copy(
            update={"max_curtailed_kwh": max(0.0, spec.max_curtailed_kwh - done)}
        )
    return spec, CurtailData(limit_kw=data.limit_kw[k:].copy())


def measured_at(
    res: AssetResult, spec: CurtailableLoadSpec, data: CurtailData, grid: TimeGrid, k: int
) -> dict[str, Any]:
    """Energy curtailed before step k, if this schedule ran."""
    return {"curtailed_kwh": float(res.columns["curtail_kw"][:k].sum() * grid.dt_h)}


HANDLER: AssetHandler[CurtailableLoadSpec, CurtailData] = AssetHandler(
    type_name="curtailable_load",
    spec_class=CurtailableLoadSpec,
    resolve=resolve,
    build=build,
    extract=extract,
    costs=costs,
    verify=verify,
    net_range=net_range,
    restrict=restrict,
    measured_at=measured_at,
)

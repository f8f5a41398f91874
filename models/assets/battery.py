"""Battery storage: charge / discharge with losses, SoC limits, cycling and subsidy.

Equations (docs/model.md §Battery): B1–B2 exclusive charge or discharge (binary), B3 SoC
dynamics, B4 final SoC, B5 cycle limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pyomo.environ as pyo
from pydantic import Field, Strict, model_validator

from models.assets.base import (
    TOL,
    AssetHandler,
    AssetResult,
    AssetSpecBase,
    AssetTerms,
    MeasuredState,
    ResolveContext,
    Solved,
    SubsidyRule,
    family,
)
from models.errors import InputProblem
from models.linear import BlockBuilder, Cost, Terms
from models.timegrid import TimeGrid


class BatterySpec(AssetSpecBase):
    """A battery energy storage system (AC-coupled).

    Parameters
    ----------
    power_kw : float
        Maximum charge and discharge power at the AC meter [kW].
    energy_kwh : float
        Nameplate energy [kWh].
    soc_initial_frac, soc_min_frac, soc_max_frac, soc_final_min_frac : float
        State of charge as fractions of ``energy_kwh`` [-].
    charge_efficiency_frac, discharge_efficiency_frac : float
        One-way efficiencies [-]; the product is the round-trip efficiency (CEC 2022 field
        statistics for Chinese stations: ~0.78–0.81, jiangsu-facts.md).
    degradation_cost_yuan_per_kwh : float
        Wear cost per kWh discharged [yuan/kWh].
    max_cycles_per_day : float, optional
        Equivalent full cycles (discharged kWh / ``energy_kwh``) allowed per 24 h.
    grid_connected_on : date, optional
        Grid connection date; drives the discharge subsidy's eligibility window.
    """

    type: Literal["battery"]
    power_kw: float = Field(gt=0)
    energy_kwh: float = Field(gt=0)
    soc_initial_frac: float = Field(0.5, ge=0, le=1)
    soc_min_frac: float = Field(0.1, ge=0, le=1)
    soc_max_frac: float = Field(0.9, ge=0, le=1)
    soc_final_min_frac: float = Field(0.5, ge=0, le=1)
    charge_efficiency_frac: float = Field(0.95, gt=0, le=1)
    discharge_efficiency_frac: float = Field(0.95, gt=0, le=1)
    degradation_cost_yuan_per_kwh: float = Field(0.05, ge=0)
    max_cycles_per_day: float | None = Field(None, gt=0)
    # ISO strings too: JSON bodies and Python dicts carry dates as text.
    grid_connected_on: Annotated[dt.date, Strict(False)] | None = None

    @model_validator(mode="after")
    def _soc_order(self) -> BatterySpec:
        if self.soc_min_frac > self.soc_max_frac:
            raise ValueError(
                f"soc_min_frac {self.soc_min_frac} is above soc_max_frac {self.soc_max_frac}"
            )
        for name in ("soc_initial_frac", "soc_final_min_frac"):
            v = getattr(self, name)
            if not self.soc_min_frac - 1e-12 <= v <= self.soc_max_frac + 1e-12:
                raise ValueError(
                    f"{name} {v} lies outside [soc_min_frac, soc_max_frac] = "
                    f"[{self.soc_min_frac}, {self.soc_max_frac}]"
                )
        return self


@dataclass(frozen=True)
class BatteryData:
    subsidy_rate_yuan_per_kwh: np.ndarray  # per step, 0 where not eligible
    max_discharge_kwh: float | None


def subsidy_window(connected_on: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """First and last-exclusive day of the reward: from the month after connection."""
    first_month = connected_on.month + 1
    start = dt.date(connected_on.year + (first_month - 1) // 12, (first_month - 1) % 12 + 1, 1)
    end_index = start.month - 1 + months
    end = dt.date(start.year + end_index // 12, end_index % 12 + 1, 1)
    return start, end


def subsidy_rate(spec: BatterySpec, rule: SubsidyRule, grid: TimeGrid) -> np.ndarray:
    """Reward per kWh discharged in each step [yuan/kWh] (0 where not eligible)."""
    if spec.grid_connected_on is None or spec.power_kw < rule.min_power_kw:
        return np.zeros(grid.steps)
    start, end = subsidy_window(spec.grid_connected_on, rule.months)
    days = np.array([ts.date() for ts in grid.index])
    eligible = (days >= start) & (days < end)
    return np.where(eligible, rule.rate_yuan_per_kwh, 0.0)


def resolve(spec: BatterySpec, ctx: ResolveContext, problems: list[InputProblem]) -> BatteryData:
    grid = ctx.grid
    e = spec.energy_kwh
    need_kwh = (spec.soc_final_min_frac - spec.soc_initial_frac) * e
    can_kwh = spec.power_kw * spec.charge_efficiency_frac * grid.duration_h
    if need_kwh > can_kwh + 1e-9:
        problems.append(
            InputProblem(
                "soc_final_min_frac",
                f"needs {need_kwh:.1f} kWh more stored than at the start, but at most "
                f"{can_kwh:.1f} kWh can be charged in {grid.duration_h:g} h",
                spec.id,
            )
        )
    max_dis = None
    if spec.max_cycles_per_day is not None:
        max_dis = spec.max_cycles_per_day * e * grid.duration_h / 24.0
        # Discharging is never forced, so the cycle limit alone cannot make a model infeasible.
    return BatteryData(
        subsidy_rate_yuan_per_kwh=subsidy_rate(spec, ctx.subsidy, grid), max_discharge_kwh=max_dis
    )


def build(b: BlockBuilder, spec: BatterySpec, data: BatteryData, grid: TimeGrid) -> AssetTerms:
    n = grid.steps
    p, e, dt_h = spec.power_kw, spec.energy_kwh, grid.dt_h
    eta_c, eta_d = spec.charge_efficiency_frac, spec.discharge_efficiency_frac
    ch = b.var("charge_kw", n, 0.0, p)
    dis = b.var("discharge_kw", n, 0.0, p)
    soc = b.var("soc_kwh", n, spec.soc_min_frac * e, spec.soc_max_frac * e)
    mode = b.var("charging", n, 0.0, 1.0, integer=True)
    b.rows(
        "exclusive_charge",
        "B1",
        "charge only in charge mode",
        Terms.of(ch) + Terms.of(mode, -p),
        n,
        upper=0.0,
    )
    b.rows(
        "exclusive_discharge",
        "B2",
        "discharge only in discharge mode",
        Terms.of(dis) + Terms.of(mode, p),
        n,
        upper=p,
    )
    # soc_t − soc_{t−1} − Δt η_c c_t + Δt d_t / η_d = 0, with soc_{−1} = soc_0 on the right
    dyn = (
        Terms.of(soc)
        + Terms.of(soc[:-1], -1.0, index=np.arange(1, n))
        + Terms.of(ch, -dt_h * eta_c)
        + Terms.of(dis, dt_h / eta_d)
    )
    rhs = np.zeros(n)
    rhs[0] = spec.soc_initial_frac * e
    b.rows("soc_dynamics", "B3", "state-of-charge dynamics", dyn, n, rhs, rhs)
    b.rows(
        "soc_final",
        "B4",
        "final state of charge",
        Terms.of(soc[-1:]),
        1,
        lower=spec.soc_final_min_frac * e,
    )
    if data.max_discharge_kwh is not None:
        b.rows(
            "cycle_limit",
            "B5",
            "cycle limit",
            Terms.of(dis, dt_h).summed(),
            1,
            upper=data.max_discharge_kwh,
        )
    rate = data.subsidy_rate_yuan_per_kwh
    paid = rate > 0
    return AssetTerms(
        net_kw=Terms.of(dis) + Terms.of(ch, -1.0),
        costs_yuan={
            "degradation": Cost(Terms.of(dis, spec.degradation_cost_yuan_per_kwh * dt_h)),
            "subsidy": Cost(Terms.of(dis[paid], -dt_h * rate[paid])),
        },
    )


def extract(v: Solved, spec: BatterySpec, data: BatteryData, grid: TimeGrid) -> AssetResult:
    charge = np.clip(v["charge_kw"], 0.0, None)
    discharge = np.clip(v["discharge_kw"], 0.0, None)
    return AssetResult(
        {
            "charge_kw": charge,
            "discharge_kw": discharge,
            "soc_kwh": np.array(v["soc_kwh"], dtype=float),
            "subsidy_rate_yuan_per_kwh": data.subsidy_rate_yuan_per_kwh.copy(),
        },
        net_kw=discharge - charge,
    )


def costs(
    res: AssetResult, spec: BatterySpec, data: BatteryData, grid: TimeGrid
) -> dict[str, float]:
    dis = res.columns["discharge_kw"]
    return {
        "degradation": spec.degradation_cost_yuan_per_kwh * grid.dt_h * float(dis.sum()),
        "subsidy": -grid.dt_h * float((data.subsidy_rate_yuan_per_kwh * dis).sum()),
    }


def verify(
    res: AssetResult, spec: BatterySpec, data: BatteryData, grid: TimeGrid, relaxed: bool
) -> list[str]:
    out: list[str] = []
    e, dt_h = spec.energy_kwh, grid.dt_h
    tol = TOL * max(1.0, e)
    ch, dis, soc = res.columns["charge_kw"], res.columns["discharge_kw"], res.columns["soc_kwh"]
    prev = np.concatenate([[spec.soc_initial_frac * e], soc[:-1]])
    expected = prev + dt_h * (
        spec.charge_efficiency_frac * ch - dis / spec.discharge_efficiency_frac
    )
    if np.any(np.abs(expected - soc) > tol):
        t = int(np.argmax(np.abs(expected - soc)))
        out.append(
            f"battery {spec.id}: SoC dynamics off by {abs(expected[t] - soc[t]):.4f} kWh at step {t}"
        )
    if np.any(soc < spec.soc_min_frac * e - tol) or np.any(soc > spec.soc_max_frac * e + tol):
        out.append(
            f"battery {spec.id}: SoC leaves [{spec.soc_min_frac}, {spec.soc_max_frac}] × {e} kWh"
        )
    if soc[-1] < spec.soc_final_min_frac * e - tol:
        out.append(f"battery {spec.id}: final SoC {soc[-1]:.3f} kWh below the required minimum")
    if np.any(ch > spec.power_kw + tol) or np.any(dis > spec.power_kw + tol):
        out.append(f"battery {spec.id}: power above {spec.power_kw} kW")
    both = np.minimum(ch, dis)
    if not relaxed and np.any(both > tol):
        t = int(np.argmax(both))
        out.append(f"battery {spec.id}: charges and discharges at once at step {t}")
    if data.max_discharge_kwh is not None and dis.sum() * dt_h > data.max_discharge_kwh + tol:
        out.append(f"battery {spec.id}: exceeds max_cycles_per_day")
    return out


def net_range(
    spec: BatterySpec, data: BatteryData, grid: TimeGrid
) -> tuple[np.ndarray, np.ndarray]:
    return np.full(grid.steps, -spec.power_kw), np.full(grid.steps, spec.power_kw)


def restrict(
    spec: BatterySpec,
    data: BatteryData,
    grid: TimeGrid,
    k: int,
    state: MeasuredState,
    problems: list[InputProblem],
) -> tuple[BatterySpec, BatteryData] | None:
    """From step k on, starting at the measured ``soc_kwh``; ``discharged_kwh`` (so far in
    the horizon) comes off the cycle limit's discharge budget."""
    e = spec.energy_kwh
    if "soc_kwh" not in state:
        problems.append(
            InputProblem("soc_kwh", "the measured state of charge is required", spec.id)
        )
        return None
    soc = float(state["soc_kwh"])
    lo, hi = spec.soc_min_frac * e, spec.soc_max_frac * e
    if not lo - TOL * e <= soc <= hi + TOL * e:
        problems.append(
            InputProblem("soc_kwh", f"{soc:g} kWh is outside [{lo:g}, {hi:g}] kWh", spec.id)
        )
        return None
    done = float(state.get("discharged_kwh", 0.0))
    if done < 0:
        problems.append(InputProblem("discharged_kwh", f"must be ≥ 0, got {done}", spec.id))
    budget = data.max_discharge_kwh
    new_spec = spec.model_copy(update={"soc_initial_frac": min(max(soc, lo), hi) / e})
    return new_spec, BatteryData(
        subsidy_rate_yuan_per_kwh=data.subsidy_rate_yuan_per_kwh[k:].copy(),
        max_discharge_kwh=None if budget is None else max(0.0, budget - done),
    )


def measured_at(
    res: AssetResult, spec: BatterySpec, data: BatteryData, grid: TimeGrid, k: int
) -> dict[str, Any]:
    """State of charge at the start of step k and discharge so far, if this schedule ran."""
    soc = res.columns["soc_kwh"]
    soc_k = spec.soc_initial_frac * spec.energy_kwh if k == 0 else float(soc[k - 1])
    return {
        "soc_kwh": soc_k,
        "discharged_kwh": float(res.columns["discharge_kw"][:k].sum() * grid.dt_h),
    }


HANDLER: AssetHandler[BatterySpec, BatteryData] = AssetHandler(
    type_name="battery",
    spec_class=BatterySpec,
    resolve=resolve,
    build=build,
    extract=extract,
    costs=costs,
    verify=verify,
    net_range=net_range,
    restrict=restrict,
    measured_at=measured_at,
)


# --- Planning: storage whose power and energy are decisions (docs/model.md §Sizing) ---------


@dataclass(frozen=True)
class BatterySizing:
    """Storage to size (or, with equal bounds, an existing station) for planning models.

    Parameters
    ----------
    power_kw_min, power_kw_max : float
        Bounds on the power rating [kW].
    energy_kwh_min, energy_kwh_max : float
        Bounds on the nameplate energy [kWh].
    duration_h_min, duration_h_max : float
        Bounds on energy / power [h] (a 2–4 h LFP system: 2 and 4).
    soc_min_frac, soc_max_frac : float
        Usable state-of-charge window [-].
    charge_efficiency_frac, discharge_efficiency_frac : float
        One-way efficiencies [-].
    degradation_cost_yuan_per_kwh : float
        Wear cost per kWh discharged [yuan/kWh].
    max_cycles_per_day : float, optional
        Equivalent full cycles per day (discharged kWh ≤ cycles × energy per day of weight).
    products : tuple of (power_kw, energy_kwh, max_units)
        Discrete products: when given, power and energy are integer counts of them (SB6).
    """

    power_kw_min: float
    power_kw_max: float
    energy_kwh_min: float
    energy_kwh_max: float
    duration_h_min: float = 0.0
    duration_h_max: float = 1e9
    soc_min_frac: float = 0.1
    soc_max_frac: float = 0.9
    charge_efficiency_frac: float = 0.95
    discharge_efficiency_frac: float = 0.95
    degradation_cost_yuan_per_kwh: float = 0.0
    max_cycles_per_day: float | None = None
    products: tuple[tuple[float, float, int], ...] = ()


@dataclass(frozen=True)
class SizedStorageTerms:
    """What a sized storage block gives the planning model."""

    net_kw: Any
    power_kw: Any
    energy_kwh: Any
    discharge_kw: Any
    costs_yuan: dict[str, Any]


def build_sized(
    b: pyo.Block,
    sizing: BatterySizing,
    lengths: tuple[int, ...],
    weights: np.ndarray,
    previous: np.ndarray,
    dt_h: float,
    exclusive_steps: np.ndarray,
) -> SizedStorageTerms:
    """Storage with power ``P`` and energy ``E`` as variables over weighted segments.

    ``previous[k]`` is the step before ``k``, cyclic within each segment (SoC returns to its
    start at the end of every segment); ``weights[k]`` how often step ``k`` counts in a year.
    Binaries (SB5) are only created on ``exclusive_steps``: the planning model adds them where
    the relaxation charged and discharged at once (models/sizing.py).
    """
    s = sizing
    K = range(int(sum(lengths)))
    b.power_kw = pyo.Var(bounds=(s.power_kw_min, s.power_kw_max))
    b.energy_kwh = pyo.Var(bounds=(s.energy_kwh_min, s.energy_kwh_max))
    fixed_p = s.power_kw_min == s.power_kw_max
    fixed_e = s.energy_kwh_min == s.energy_kwh_max
    # A fixed rating (an existing station) is a variable bound, not 4 rows per step.
    b.charge_kw = pyo.Var(K, bounds=(0.0, s.power_kw_max))
    b.discharge_kw = pyo.Var(K, bounds=(0.0, s.power_kw_max))
    soc_lo = s.soc_min_frac * s.energy_kwh_min if fixed_e else 0.0
    b.soc_kwh = pyo.Var(K, bounds=(soc_lo, s.soc_max_frac * s.energy_kwh_max))
    if not fixed_p:
        b.charge_rating = pyo.Constraint(
            K,
            rule=lambda b, k: b.charge_kw[k] <= b.power_kw,
            doc=family("SB1", "charge ≤ rating"),
        )
        b.discharge_rating = pyo.Constraint(
            K,
            rule=lambda b, k: b.discharge_kw[k] <= b.power_kw,
            doc=family("SB1", "discharge ≤ rating"),
        )
    if not fixed_e:
        b.soc_floor = pyo.Constraint(
            K,
            rule=lambda b, k: b.soc_kwh[k] >= s.soc_min_frac * b.energy_kwh,
            doc=family("SB2", "state of charge above its floor"),
        )
        b.soc_ceiling = pyo.Constraint(
            K,
            rule=lambda b, k: b.soc_kwh[k] <= s.soc_max_frac * b.energy_kwh,
            doc=family("SB2", "state of charge below its ceiling"),
        )
    eta_c, eta_d = s.charge_efficiency_frac, s.discharge_efficiency_frac
    prev = [int(p) for p in previous]
    b.soc_dynamics = pyo.Constraint(
        K,
        rule=lambda b, k: (
            b.soc_kwh[k]
            == b.soc_kwh[prev[k]] + dt_h * (eta_c * b.charge_kw[k] - b.discharge_kw[k] / eta_d)
        ),
        doc=family("SB3", "state-of-charge dynamics, cyclic per segment"),
    )
    if s.duration_h_min > 0:
        b.duration_min = pyo.Constraint(
            expr=b.energy_kwh >= s.duration_h_min * b.power_kw,
            doc=family("SB4", "minimum duration"),
        )
    if s.duration_h_max < 1e8:
        b.duration_max = pyo.Constraint(
            expr=b.energy_kwh <= s.duration_h_max * b.power_kw,
            doc=family("SB4", "maximum duration"),
        )
    X = [int(k) for k in exclusive_steps]
    if X:
        b.X = pyo.Set(initialize=X, ordered=True)
        b.charging = pyo.Var(b.X, domain=pyo.Binary)
        big_m = s.power_kw_max
        b.exclusive_charge = pyo.Constraint(
            b.X,
            rule=lambda b, k: b.charge_kw[k] <= big_m * b.charging[k],
            doc=family("SB5", "charge only in charge mode"),
        )
        b.exclusive_discharge = pyo.Constraint(
            b.X,
            rule=lambda b, k: b.discharge_kw[k] <= big_m * (1 - b.charging[k]),
            doc=family("SB5", "discharge only in discharge mode"),
        )
    if s.products:
        J = range(len(s.products))
        b.units = pyo.Var(
            J, domain=pyo.NonNegativeIntegers, bounds=lambda b, j: (0, s.products[j][2])
        )
        b.product_power = pyo.Constraint(
            expr=b.power_kw == sum(s.products[j][0] * b.units[j] for j in J),
            doc=family("SB6", "power from discrete products"),
        )
        b.product_energy = pyo.Constraint(
            expr=b.energy_kwh == sum(s.products[j][1] * b.units[j] for j in J),
            doc=family("SB6", "energy from discrete products"),
        )
    w = [float(x) for x in weights]
    discharged_kwh_year = dt_h * sum(w[k] * b.discharge_kw[k] for k in K)
    if s.max_cycles_per_day is not None:
        # A year of weighted steps covers Σ w·dt / 24 days.
        days = float(np.dot(weights, np.ones(len(w)))) * dt_h / 24.0
        b.cycle_limit = pyo.Constraint(
            expr=discharged_kwh_year <= s.max_cycles_per_day * days * b.energy_kwh,
            doc=family("SB7", "cycle limit"),
        )
    b.degradation = pyo.Expression(expr=s.degradation_cost_yuan_per_kwh * discharged_kwh_year)
    return SizedStorageTerms(
        net_kw=[b.discharge_kw[k] - b.charge_kw[k] for k in K],
        power_kw=b.power_kw,
        energy_kwh=b.energy_kwh,
        discharge_kw=b.discharge_kw,
        costs_yuan={"storage_degradation": b.degradation},
    )

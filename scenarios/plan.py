"""Run a planning scenario: the year, the periods, the sizing model, the economics, the scorecard.

``run_scenario`` solves two models on the same periods: the plan (PV and storage sized, targets
as constraints) and the do-nothing reference (the park's existing assets only, no targets). The
difference in operating cost is what the investment saves; NPV, IRR and payback follow
(scenarios/economics.py).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.assets.battery import BatterySizing
from models.assets.pv import PvSizing
from models.errors import InputProblem, ParkInputError
from models.periods import Periods
from models.sizing import (
    KGCE_PER_KWH,
    SizingInputs,
    SizingResult,
    SizingTargets,
    solve_sizing,
)
from models.solve import SolverOptions
from models.spec import ParkSpec
from scenarios.economics import CashFlows, Investment, cash_flows, crf, subsidy_share
from scenarios.periods import (
    PeriodData,
    YearData,
    full_year,
    history_path,
    representative_days,
    year_data,
)
from scenarios.scorecard import INDICATORS, EnergyYear, Scorecard, carrier_totals, scorecard
from scenarios.spec import ScenarioSpec, load_scenario, scenario_park

# Operating cost components: what changes between doing nothing and the plan (capital aside).
_OPERATING = (
    "energy",
    "export_revenue",
    "demand_charge",
    "storage_degradation_new",
    "storage_degradation_existing",
    "dr_revenue",
    "green_certificates",
)


@dataclass(frozen=True)
class Prepared:
    """A scenario with its park and year loaded (shared by every case of a sweep)."""

    spec: ScenarioSpec
    source: str
    park: ParkSpec
    year: YearData


def prepare(spec: ScenarioSpec, base_dir: Path, source: str = "<scenario>") -> Prepared:
    """Load the park and the year of data a scenario needs.

    Raises
    ------
    ParkInputError
        The park, the history or the prices cannot serve a year (names the field).
    """
    park, park_dir = scenario_park(spec, base_dir)
    pv = spec.technologies.pv
    econ = spec.economics
    path = history_path(park, spec.history, park_dir, base_dir)
    yd = year_data(
        park,
        history=path,
        year=spec.year,
        resolution_min=spec.method.resolution_min,
        tariff=econ.tariff,
        export_price_yuan_per_kwh=econ.export_price_yuan_per_kwh,
        pv_yield_source=pv.yield_source if pv else "auto",
        pv_tilt_deg=pv.tilt_deg if pv else 20.0,
        pv_azimuth_deg=pv.azimuth_deg if pv else 180.0,
        source=source,
    )
    _check_ranges(spec, park, source)
    return Prepared(spec, source, park, yd)


def prepare_file(path: Path | str) -> Prepared:
    path = Path(path)
    return prepare(load_scenario(path), path.parent, str(path))


def existing_pv_kwp(park: ParkSpec) -> float:
    return float(sum(a.capacity_kwp for a in park.assets if a.type == "pv"))


def existing_storage(park: ParkSpec) -> BatterySizing | None:
    """The park's batteries pooled into one fixed station (energy-weighted parameters)."""
    bats = [a for a in park.assets if a.type == "battery"]
    if not bats:
        return None
    p = sum(b.power_kw for b in bats)
    e = sum(b.energy_kwh for b in bats)

    def avg(name: str) -> float:
        return float(sum(getattr(b, name) * b.energy_kwh for b in bats) / e)

    cycles = [b.max_cycles_per_day for b in bats]
    return BatterySizing(
        power_kw_min=p,
        power_kw_max=p,
        energy_kwh_min=e,
        energy_kwh_max=e,
        soc_min_frac=avg("soc_min_frac"),
        soc_max_frac=avg("soc_max_frac"),
        charge_efficiency_frac=avg("charge_efficiency_frac"),
        discharge_efficiency_frac=avg("discharge_efficiency_frac"),
        degradation_cost_yuan_per_kwh=avg("degradation_cost_yuan_per_kwh"),
        max_cycles_per_day=None if any(c is None for c in cycles) else avg("max_cycles_per_day"),
    )


def _check_ranges(spec: ScenarioSpec, park: ParkSpec, source: str) -> None:
    problems: list[InputProblem] = []
    pv = spec.technologies.pv
    if pv is not None:
        lo = pv.min_kwp if pv.min_kwp is not None else existing_pv_kwp(park)
        hi = pv.max_kwp if pv.max_kwp is not None else pv.roof_potential_kwp
        if lo > hi:
            problems.append(
                InputProblem(
                    "technologies.pv",
                    f"minimum {lo:g} kWp (default: the park's existing PV) is above the maximum "
                    f"{hi:g} kWp (default: roof_potential_kwp)",
                )
            )
    st = spec.technologies.storage
    if (
        st is not None
        and st.products
        and any(
            p.power_kw > st.max_power_kw or p.energy_kwh > st.max_energy_kwh for p in st.products
        )
    ):
        problems.append(
            InputProblem(
                "technologies.storage.products",
                "a product is larger than max_power_kw / max_energy_kwh",
            )
        )
    for key in spec.targets.thresholds:
        if key not in INDICATORS:
            problems.append(
                InputProblem(
                    f"targets.thresholds.{key}", f"unknown indicator (one of {list(INDICATORS)})"
                )
            )
    if problems:
        raise ParkInputError(problems, source)


@dataclass(frozen=True)
class AnnualBasis:
    """Year totals the targets are read against."""

    load_kwh: float
    daily_kwh: float
    peak_kw: float
    energy_tce: float
    other_co2_t: float
    other_non_fossil_tce: float


def annual_basis(prep: Prepared) -> AnnualBasis:
    yd = prep.year
    a = prep.spec.annual
    load_kwh = float(yd.load_kw.sum() * yd.dt_h)
    fossil, nonfossil, co2 = carrier_totals(a.carriers.model_dump(), a.carrier_factors)
    return AnnualBasis(
        load_kwh=load_kwh,
        daily_kwh=load_kwh / len(yd.days),
        peak_kw=float(yd.load_kw.max()),
        energy_tce=load_kwh * KGCE_PER_KWH / 1000.0 + fossil + nonfossil,
        other_co2_t=co2,
        other_non_fossil_tce=nonfossil,
    )


def threshold(spec: ScenarioSpec, ind: str) -> float:
    """The value an indicator target uses: the override, else the term's default."""
    if ind in spec.targets.thresholds:
        return spec.targets.thresholds[ind]
    d = INDICATORS[ind]
    return d.near if spec.targets.term == "near" else d.long


def sizing_targets(prep: Prepared, basis: AnnualBasis) -> SizingTargets:
    """The chosen indicators as model constraints (docs/model.md S6)."""
    spec = prep.spec
    a = spec.annual
    chosen = set(spec.targets.indicators)
    kw: dict[str, float | None] = {}
    near = spec.targets.term == "near"
    if "T2" in chosen:
        thr = threshold(spec, "T2")
        kw["dr_kw_min"] = thr * basis.daily_kwh / 24.0 if near else thr * basis.peak_kw
    if "T3" in chosen:
        kw["storage_kwh_min"] = threshold(spec, "T3") * basis.daily_kwh
    if "T4" in chosen:
        if spec.technologies.pv is None:
            raise ParkInputError(
                [InputProblem("targets.indicators", "T4 needs technologies.pv (roof potential)")],
                prep.source,
            )
        kw["pv_kwp_min"] = threshold(spec, "T4") * spec.technologies.pv.roof_potential_kwp
    held_kwh = 1000.0 * a.green_certificates_mwh + a.green_power_purchase_kwh
    renewable: list[float] = []
    if "T5" in chosen:
        renewable.append(threshold(spec, "T5") * basis.load_kwh - held_kwh)
    if "T7" in chosen:
        need_tce = threshold(spec, "T7") * basis.energy_tce - basis.other_non_fossil_tce
        renewable.append(need_tce * 1000.0 / KGCE_PER_KWH - held_kwh)
    if renewable:
        kw["renewable_kwh_min"] = max(renewable)
    co2: list[float] = []
    if "T8" in chosen:
        thr = threshold(spec, "T8")
        if not near and "T8" not in spec.targets.thresholds:
            thr = 0.3 if basis.energy_tce >= 1e6 else 0.2
        co2.append(thr * basis.energy_tce)
    if "T10" in chosen:
        if a.value_added_10k_yuan is None:
            raise ParkInputError(
                [InputProblem("annual.value_added_10k_yuan", "T10 needs the value added")],
                prep.source,
            )
        co2.append(threshold(spec, "T10") * a.value_added_10k_yuan)
    if co2:
        kw["co2_t_max"] = min(co2)
    return SizingTargets(**kw)


def sizing_inputs(
    prep: Prepared, pdata: PeriodData, *, reference: bool = False
) -> tuple[SizingInputs, dict[str, Any]]:
    """The model's inputs for the plan (or, ``reference``, for doing nothing), and the
    economics the annual costs came from."""
    spec, park = prep.spec, prep.park
    econ = spec.economics
    r = econ.discount_rate_frac
    pv_tech = None if reference else spec.technologies.pv
    st = None if reference else spec.technologies.storage
    pv_existing = existing_pv_kwp(park)
    basis = annual_basis(prep)
    pv: PvSizing | None = None
    pv_cost = 0.0
    if pv_tech is not None:
        assert pdata.pv_yield_kw_per_kwp is not None
        lo = pv_tech.min_kwp if pv_tech.min_kwp is not None else pv_existing
        hi = pv_tech.max_kwp if pv_tech.max_kwp is not None else pv_tech.roof_potential_kwp
        pv = PvSizing(lo, hi, pdata.pv_yield_kw_per_kwp)
        pv_cost = (
            pv_tech.capex_yuan_per_kwp * crf(r, pv_tech.lifetime_years)
            + pv_tech.om_yuan_per_kwp_year
        )
    elif pv_existing > 0:
        assert pdata.pv_yield_kw_per_kwp is not None
        pv = PvSizing(pv_existing, pv_existing, pdata.pv_yield_kw_per_kwp)
    storage: BatterySizing | None = None
    kw_cost = kwh_cost = 0.0
    unit_costs: tuple[float, ...] = ()
    if st is not None:
        storage = BatterySizing(
            power_kw_min=st.min_power_kw,
            power_kw_max=st.max_power_kw,
            energy_kwh_min=st.min_energy_kwh,
            energy_kwh_max=st.max_energy_kwh,
            duration_h_min=st.duration_h_min,
            duration_h_max=st.duration_h_max,
            soc_min_frac=st.soc_min_frac,
            soc_max_frac=st.soc_max_frac,
            charge_efficiency_frac=st.charge_efficiency_frac,
            discharge_efficiency_frac=st.discharge_efficiency_frac,
            degradation_cost_yuan_per_kwh=st.degradation_cost_yuan_per_kwh,
            max_cycles_per_day=st.max_cycles_per_day,
            products=tuple((p.power_kw, p.energy_kwh, p.max_units) for p in st.products),
        )
        f = crf(r, st.lifetime_years)
        kw_cost = st.capex_yuan_per_kw * f + st.om_yuan_per_kw_year
        kwh_cost = st.capex_yuan_per_kwh * f + st.om_yuan_per_kwh_year
        unit_costs = tuple(p.capex_yuan_per_unit * f for p in st.products)
    subsidy = econ.storage_subsidy or park.subsidy
    share = subsidy_share(r, econ.horizon_years, subsidy.months)
    sub_rate = subsidy.rate_yuan_per_kwh * share if econ.storage_subsidy_enabled else 0.0
    dr = econ.dr
    demand = (
        econ.demand_charge_yuan_per_kw_month
        if econ.demand_charge_yuan_per_kw_month is not None
        else park.grid.demand_charge_yuan_per_kw_month
    )
    targets = SizingTargets() if reference else sizing_targets(prep, basis)
    inputs = SizingInputs(
        name=spec.id + ("-reference" if reference else ""),
        periods=pdata.periods,
        load_kw=pdata.load_kw,
        import_price_yuan_per_kwh=pdata.import_price_yuan_per_kwh,
        export_price_yuan_per_kwh=pdata.export_price_yuan_per_kwh,
        import_limit_kw=park.grid.import_limit_kw,
        export_limit_kw=park.grid.export_limit_kw,
        demand_charge_yuan_per_kw_month=demand,
        emission_factor_kg_per_kwh=park.grid.emission_factor_kg_per_kwh,
        carbon_price_yuan_per_t=econ.carbon_price_yuan_per_t,
        pv=pv,
        pv_existing_kwp=pv_existing,
        pv_cost_yuan_per_kwp_year=pv_cost,
        storage=storage,
        storage_cost_yuan_per_kw_year=kw_cost,
        storage_cost_yuan_per_kwh_year=kwh_cost,
        storage_unit_cost_yuan_per_year=unit_costs,
        existing_storage=existing_storage(park),
        subsidy_yuan_per_kwh=sub_rate,
        subsidy_min_power_kw=subsidy.min_power_kw,
        dr_value_yuan_per_kw_year=0.0
        if reference
        else dr.price_yuan_per_kw_event * dr.events_per_year,
        dr_duration_h=dr.duration_h,
        other_dr_kw=dr.other_capability_kw,
        dr_max_kw=dr_ceiling_kw(prep),
        green_certificate_price_yuan_per_mwh=None
        if reference
        else econ.green_certificate_price_yuan_per_mwh,
        other_co2_t=basis.other_co2_t,
        targets=targets,
    )
    money = {
        "subsidy_share_frac": share,
        "subsidy_rate_yuan_per_kwh": subsidy.rate_yuan_per_kwh
        if econ.storage_subsidy_enabled
        else 0.0,
        "subsidy_months": subsidy.months,
        "subsidy_annualised_yuan_per_kwh": sub_rate,
    }
    return inputs, money


def dr_ceiling_kw(prep: Prepared) -> float:
    """The most a peak-shaving event can take off the park's import [kW]: its mean load in the
    tariff's peak steps (where events are called) plus its export limit."""
    yd = prep.year
    price = yd.import_price_yuan_per_kwh
    peak = price >= price.max() - 1e-9
    return float(yd.load_kw[peak].mean()) + prep.park.grid.export_limit_kw


def periods_for(prep: Prepared, kind: str | None = None, days: int | None = None) -> PeriodData:
    m = prep.spec.method
    kind = kind or m.kind
    if kind == "full-year":
        return full_year(prep.year)
    return representative_days(prep.year, days or m.days, m.seed)


@dataclass
class Plan:
    """A solved scenario."""

    spec: ScenarioSpec
    method: str
    periods: Periods
    period_data: PeriodData
    result: SizingResult
    reference: SizingResult
    capex_yuan: dict[str, float]
    annual: dict[str, float]
    cash: CashFlows
    scorecard: Scorecard
    reference_scorecard: Scorecard
    money: dict[str, Any]
    wall_s: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "format": "parkvpp-plan/1",
            "scenario": self.spec.id,
            "name": self.spec.name,
            "method": self.method,
            "periods": {
                "segments": len(self.periods.lengths),
                "steps": self.periods.steps,
                "dt_h": self.periods.dt_h,
                "labels": list(self.periods.labels),
                "weights": list(self.periods.weights),
            },
            "sizes": r.sizes,
            "capex_yuan": self.capex_yuan,
            "annual_cost_yuan": r.costs_yuan_per_year,
            "reference_annual_cost_yuan": self.reference.costs_yuan_per_year,
            "annual": self.annual,
            "economics": {**self.cash.as_dict(), **self.money},
            "flows_kwh_per_year": r.flows_kwh_per_year,
            "reference_flows_kwh_per_year": self.reference.flows_kwh_per_year,
            "monthly_peak_kw": r.monthly_peak_kw,
            "reference_monthly_peak_kw": self.reference.monthly_peak_kw,
            "dr_capability_kw": r.dr_kw,
            "green_certificates_mwh": r.green_certificates_mwh,
            "subsidy_eligible": r.subsidy_eligible,
            "scorecard": self.scorecard.as_dict(),
            "reference_scorecard": self.reference_scorecard.as_dict(),
            "solver": {
                "plan": {**r.solve.as_dict(), "binary_rounds": r.binary_rounds, "wall_s": r.wall_s},
                "reference": {
                    **self.reference.solve.as_dict(),
                    "binary_rounds": self.reference.binary_rounds,
                    "wall_s": self.reference.wall_s,
                },
            },
            "wall_s": self.wall_s,
            "notes": self.notes,
        }


def plan_scorecard(prep: Prepared, res: SizingResult, pdata: PeriodData) -> Scorecard:
    """The scorecard of a plan's year (flows from the periods, weighted)."""
    a = prep.spec.annual
    pv = prep.spec.technologies.pv
    f = res.flows_kwh_per_year
    storage_kwh = res.sizes.get("storage_energy_kwh", 0.0) + res.sizes.get(
        "existing_storage_energy_kwh", 0.0
    )
    roof = pv.roof_potential_kwp if pv is not None else a.roof_potential_kwp
    return scorecard(
        EnergyYear(
            electricity_use_kwh=f["load"],
            grid_import_kwh=f["import"],
            grid_export_kwh=f["export"],
            pv_generation_kwh=f.get("pv_generation", 0.0),
            peak_load_kw=float(prep.year.load_kw.max()),
            days=len(prep.year.days),
            storage_kwh=storage_kwh,
            pv_kwp=res.sizes.get("pv_kwp", existing_pv_kwp(prep.park)),
            roof_potential_kwp=roof,
            dr_capability_kw=res.dr_kw
            if a.dr_capability_kw is None
            else a.dr_capability_kw + res.dr_kw,
            green_certificates_mwh=a.green_certificates_mwh + res.green_certificates_mwh,
            green_power_purchase_kwh=a.green_power_purchase_kwh,
            carriers=a.carriers.model_dump(),
            value_added_10k_yuan=a.value_added_10k_yuan,
            emission_factor_kg_per_kwh=prep.park.grid.emission_factor_kg_per_kwh,
            carrier_factors=dict(a.carrier_factors),
            green_certificates_reduce_co2=a.green_certificates_reduce_co2,
        )
    )


def run_scenario(
    prep: Prepared,
    *,
    kind: str | None = None,
    days: int | None = None,
    options: SolverOptions | None = None,
    reference: SizingResult | None = None,
) -> Plan:
    """Size the plan and its do-nothing reference on the same periods.

    Raises
    ------
    models.sizing.SizingInfeasibleError
        The targets cannot be met within the ranges.
    """
    t0 = time.perf_counter()
    spec = prep.spec
    m = spec.method
    options = options or SolverOptions(mip_rel_gap=m.mip_rel_gap, time_limit_s=m.time_limit_s)
    pdata = periods_for(prep, kind, days)
    inputs, money = sizing_inputs(prep, pdata)
    result = solve_sizing(inputs, options)
    if reference is None:
        ref_inputs, _ = sizing_inputs(prep, pdata, reference=True)
        reference = solve_sizing(ref_inputs, options)
    capex = _capex(spec, result)
    ops_plan = sum(result.costs_yuan_per_year.get(k, 0.0) for k in _OPERATING)
    ops_ref = sum(reference.costs_yuan_per_year.get(k, 0.0) for k in _OPERATING)
    om = _om(spec, result)
    savings = ops_ref - ops_plan - om
    discharge = result.flows_kwh_per_year.get("storage_new_discharge", 0.0)
    subsidy_year = (
        money["subsidy_rate_yuan_per_kwh"] * discharge if result.subsidy_eligible else 0.0
    )
    investments = []
    if spec.technologies.pv is not None:
        investments.append(Investment("pv", capex["pv"], spec.technologies.pv.lifetime_years))
    if spec.technologies.storage is not None:
        life = spec.technologies.storage.lifetime_years
        investments.append(Investment("storage", capex["storage"], life))
    cash = cash_flows(
        investments,
        annual_savings_yuan=savings,
        subsidy_yuan_per_year=subsidy_year,
        subsidy_months=int(money["subsidy_months"]),
        rate=spec.economics.discount_rate_frac,
        horizon_years=spec.economics.horizon_years,
    )
    annual = {
        "operating_cost_reference_yuan": ops_ref,
        "operating_cost_plan_yuan": ops_plan,
        "om_yuan": om,
        "savings_yuan": savings,
        "subsidy_paid_year_yuan": subsidy_year,
        "capex_total_yuan": sum(capex.values()),
    }
    notes = []
    if prep.year.yield_source == "clearsky":
        notes.append("PV yield is the pvlib clear-sky estimate (no clouds): optimistic")
    if prep.year.filled_steps:
        notes.append(f"{prep.year.filled_steps} steps of the history were interpolated")
    for r, label in ((result, "plan"), (reference, "reference")):
        if r.solve.status.value != "ok":
            notes.append(f"{label}: solver status {r.solve.status.value}: {r.solve.message}")
    return Plan(
        spec=spec,
        method=kind or m.kind,
        periods=pdata.periods,
        period_data=pdata,
        result=result,
        reference=reference,
        capex_yuan=capex,
        annual=annual,
        cash=cash,
        scorecard=plan_scorecard(prep, result, pdata),
        reference_scorecard=plan_scorecard(prep, reference, pdata),
        money=money,
        wall_s=time.perf_counter() - t0,
        notes=notes,
    )


def _capex(spec: ScenarioSpec, res: SizingResult) -> dict[str, float]:
    out: dict[str, float] = {}
    pv = spec.technologies.pv
    if pv is not None:
        out["pv"] = pv.capex_yuan_per_kwp * res.sizes.get("pv_new_kwp", 0.0)
    st = spec.technologies.storage
    if st is not None:
        cost = st.capex_yuan_per_kw * res.sizes.get(
            "storage_power_kw", 0.0
        ) + st.capex_yuan_per_kwh * res.sizes.get("storage_energy_kwh", 0.0)
        units = res.sizes.get("storage_units") or []
        cost += sum(n * p.capex_yuan_per_unit for n, p in zip(units, st.products, strict=False))
        out["storage"] = cost
    return out


def _om(spec: ScenarioSpec, res: SizingResult) -> float:
    om = 0.0
    pv = spec.technologies.pv
    if pv is not None:
        om += pv.om_yuan_per_kwp_year * res.sizes.get("pv_new_kwp", 0.0)
    st = spec.technologies.storage
    if st is not None:
        om += st.om_yuan_per_kw_year * res.sizes.get("storage_power_kw", 0.0)
        om += st.om_yuan_per_kwh_year * res.sizes.get("storage_energy_kwh", 0.0)
    return om


def with_overrides(spec: ScenarioSpec, updates: dict[str, Any]) -> ScenarioSpec:
    """A copy of the scenario with dotted-path fields replaced (validated again)."""
    raw = spec.model_dump(mode="python")
    for path, value in updates.items():
        node = raw
        keys = path.split(".")
        for k in keys[:-1]:
            if not isinstance(node.get(k), dict):
                node[k] = {} if node.get(k) is None else node[k]
            node = node[k]
        node[keys[-1]] = value
    return ScenarioSpec.model_validate(raw)


def replace_prepared(prep: Prepared, spec: ScenarioSpec) -> Prepared:
    """The same park and year under another scenario spec (sweeps)."""
    return dataclasses.replace(prep, spec=spec)


def fixed_sizes(inputs: SizingInputs, sizes: dict[str, Any]) -> SizingInputs:
    """The same inputs with PV and new storage fixed at ``sizes`` (to price a plan on other
    periods, e.g. representative-day sizes on the full year)."""
    pv = inputs.pv
    if pv is not None and "pv_kwp" in sizes:
        pv = PvSizing(sizes["pv_kwp"], sizes["pv_kwp"], pv.yield_kw_per_kwp)
    st = inputs.storage
    if st is not None and "storage_power_kw" in sizes:
        p, e = sizes["storage_power_kw"], sizes["storage_energy_kwh"]
        st = dataclasses.replace(
            st,
            power_kw_min=p,
            power_kw_max=p,
            energy_kwh_min=e,
            energy_kwh_max=e,
            duration_h_min=0.0,
            duration_h_max=1e9,
            products=(),
        )
    return dataclasses.replace(
        inputs, pv=pv, storage=st, storage_unit_cost_yuan_per_year=(), name=inputs.name + "-fixed"
    )

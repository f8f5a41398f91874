"""The planning model: size PV and storage over weighted periods (docs/model.md §Sizing).

The same asset formulations as dispatch, with capacities as variables: PV output bounded by the
sized array's availability (SV1, models/assets/pv.py) and storage with a power and an energy
rating (SB1–SB7, models/assets/battery.py). The park power balance (S1), the grid limits (S2),
the monthly peaks (S3), the subsidy's eligibility (S4), the DR capability (S5) and the targets
(S6) are written here once. Everything is annual: weights turn representative days into a year,
and the scenario layer (scenarios/) turns capital costs into annual costs before they get here.

Binaries that keep storage from charging and discharging in the same step (SB5) are added
lazily: the model is solved without them, and steps where a relaxation charged and discharged
at once get their binary, until no step does. The last answer is then feasible for the model
with every binary, and optimal for a relaxation of it, hence optimal for it. On a year of hourly
steps this avoids thousands of binaries the answer never needed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from models.assets.base import family, values
from models.assets.battery import BatterySizing, SizedStorageTerms, build_sized
from models.assets.pv import PvSizing
from models.assets.pv import build_sized as build_sized_pv
from models.errors import InfeasibleError, ParkVppError
from models.periods import Periods
from models.solve import SolveResult, SolverOptions, diagnose_infeasibility, solve_model

# kgce per kWh, equivalent value (当量值), GB/T 2589-2020 (shared/reference/jiangsu-facts.md).
KGCE_PER_KWH = 0.1229
# Rounds of lazily added exclusivity binaries before every step gets one.
MAX_BINARY_ROUNDS = 6


@dataclass(frozen=True)
class SizingTargets:
    """Targets as constraints (S6); ``None`` leaves one out.

    Parameters
    ----------
    pv_kwp_min : float, optional
        T4: installed PV ≥ this [kWp] (share × usable roof potential).
    storage_kwh_min : float, optional
        T3: storage energy, existing and new, ≥ this [kWh].
    dr_kw_min : float, optional
        T2: DR capability ≥ this [kW].
    renewable_kwh_min : float, optional
        T5: renewable electricity used on site plus green certificates ≥ this [kWh/yr].
    co2_t_max : float, optional
        T8 / T10: CO2 of imports plus other carriers ≤ this [t/yr].
    """

    pv_kwp_min: float | None = None
    storage_kwh_min: float | None = None
    dr_kw_min: float | None = None
    renewable_kwh_min: float | None = None
    co2_t_max: float | None = None


@dataclass(frozen=True)
class SizingInputs:
    """Everything the planning model needs, as numbers on its periods.

    Parameters
    ----------
    name : str
        For messages.
    periods : Periods
        Weighted segments.
    load_kw, import_price_yuan_per_kwh, export_price_yuan_per_kwh : numpy.ndarray
        Per step [kW], [yuan/kWh].
    import_limit_kw, export_limit_kw : float
        Connection limits [kW].
    demand_charge_yuan_per_kw_month : float
        On each month's peak import [yuan/kW-month].
    emission_factor_kg_per_kwh : float
        Grid CO2 intensity [kg/kWh].
    carbon_price_yuan_per_t : float
        Internal carbon price on imports [yuan/tCO2].
    pv : PvSizing, optional
        PV to size (its minimum includes the existing arrays).
    pv_existing_kwp : float
        Installed PV that costs no capital [kWp].
    pv_cost_yuan_per_kwp_year : float
        Annualised capital plus O&M per new kWp [yuan/kWp-yr].
    storage : BatterySizing, optional
        New storage to size.
    storage_cost_yuan_per_kw_year, storage_cost_yuan_per_kwh_year : float
        Annualised capital plus O&M of new storage [yuan/kW-yr], [yuan/kWh-yr].
    storage_unit_cost_yuan_per_year : tuple of float
        Per discrete product unit, on top of the per-kW and per-kWh costs [yuan/yr].
    existing_storage : BatterySizing, optional
        The park's existing stations, pooled (fixed sizes, no capital cost, no subsidy).
    subsidy_yuan_per_kwh : float
        Discharge reward of new storage, annualised over the horizon [yuan/kWh].
    subsidy_min_power_kw : float
        New storage earns the reward only at this power or more [kW] (S4).
    dr_value_yuan_per_kw_year : float
        DR revenue per kW of capability [yuan/kW-yr].
    dr_duration_h : float
        A DR event's duration: storage's capability is what it sustains that long [h].
    other_dr_kw : float
        DR capability of other resources (flexible loads, EVs) [kW].
    dr_max_kw : float, optional
        The most an event can take off the park's import (its load in the hours events come,
        plus what it may export) [kW]: storage beyond it earns no DR revenue (S5).
    green_certificate_price_yuan_per_mwh : float, optional
        Price of a green certificate (1 MWh); ``None``: none can be bought.
    other_co2_t : float
        CO2 of the other energy carriers [t/yr].
    targets : SizingTargets
        Targets as constraints.
    """

    name: str
    periods: Periods
    load_kw: np.ndarray
    import_price_yuan_per_kwh: np.ndarray
    export_price_yuan_per_kwh: np.ndarray
    import_limit_kw: float
    export_limit_kw: float
    demand_charge_yuan_per_kw_month: float
    emission_factor_kg_per_kwh: float
    carbon_price_yuan_per_t: float = 0.0
    pv: PvSizing | None = None
    pv_existing_kwp: float = 0.0
    pv_cost_yuan_per_kwp_year: float = 0.0
    storage: BatterySizing | None = None
    storage_cost_yuan_per_kw_year: float = 0.0
    storage_cost_yuan_per_kwh_year: float = 0.0
    storage_unit_cost_yuan_per_year: tuple[float, ...] = ()
    existing_storage: BatterySizing | None = None
    subsidy_yuan_per_kwh: float = 0.0
    subsidy_min_power_kw: float = 0.0
    dr_value_yuan_per_kw_year: float = 0.0
    dr_duration_h: float = 2.0
    other_dr_kw: float = 0.0
    dr_max_kw: float | None = None
    green_certificate_price_yuan_per_mwh: float | None = None
    other_co2_t: float = 0.0
    targets: SizingTargets = field(default_factory=SizingTargets)

    def __post_init__(self) -> None:
        n = self.periods.steps
        for name in ("load_kw", "import_price_yuan_per_kwh", "export_price_yuan_per_kwh"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {n} steps")
        if self.pv is not None and len(self.pv.yield_kw_per_kwp) != n:
            raise ValueError(f"pv yield has {len(self.pv.yield_kw_per_kwp)} values for {n} steps")


@dataclass
class SizingModel:
    """A built planning model and its handles."""

    model: pyo.ConcreteModel
    storages: dict[str, SizedStorageTerms]


@dataclass
class SizingResult:
    """The optimal plan.

    Attributes
    ----------
    sizes : dict
        ``pv_kwp`` (total installed), ``pv_new_kwp``, ``storage_power_kw``,
        ``storage_energy_kwh`` (new), ``storage_units`` (per product, if discrete).
    costs_yuan_per_year : dict
        Annual cost components [yuan/yr]; negative for revenues. ``total`` is the objective.
    flows_kwh_per_year : dict
        Annual energy flows [kWh/yr].
    monthly_peak_kw : dict of int to float
        Peak import per month [kW].
    series : dict of str to numpy.ndarray
        Per-step values over the periods (import, export, PV, storage).
    dr_kw : float
        DR capability (storage sustained over the event duration plus other resources) [kW].
    green_certificates_mwh : float
        Certificates bought [MWh/yr].
    subsidy_eligible : bool
        Whether new storage is large enough for the discharge reward.
    solve : SolveResult
        The last solve.
    binary_rounds : list of int
        Exclusivity binaries in each round (lazy SB5).
    """

    sizes: dict[str, Any]
    costs_yuan_per_year: dict[str, float]
    flows_kwh_per_year: dict[str, float]
    monthly_peak_kw: dict[int, float]
    series: dict[str, np.ndarray]
    dr_kw: float
    green_certificates_mwh: float
    subsidy_eligible: bool
    solve: SolveResult
    binary_rounds: list[int]
    wall_s: float = 0.0


class SizingInfeasibleError(ParkVppError):
    """The targets cannot be met within the size ranges; names the conflicting families."""

    def __init__(self, name: str, conflicts: list[tuple[str | None, str, str]]) -> None:
        self.name = name
        self.conflicts = conflicts
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{'plan' if a is None else a}: {fam} (eq. {eq})" for a, fam, eq in self.conflicts]
        return (
            f"scenario {self.name!r}: no plan meets every target within the size ranges; "
            "these constraint families conflict: " + ("; ".join(parts) or "(not isolated)")
        )


def _storage_blocks(
    m: pyo.ConcreteModel, inp: SizingInputs, exclusive: dict[str, np.ndarray]
) -> dict[str, SizedStorageTerms]:
    p = inp.periods
    sizings = _storage_sizings(inp)
    out: dict[str, SizedStorageTerms] = {}
    w, prev = p.step_weight, p.previous

    def _block(b: pyo.Block, key: str) -> None:
        out[key] = build_sized(
            b, sizings[key], p.lengths, w, prev, p.dt_h, exclusive.get(key, np.array([], int))
        )

    m.storage = pyo.Block(list(sizings), rule=_block)
    return out


def _storage_sizings(inp: SizingInputs) -> dict[str, BatterySizing]:
    """``new`` (to size) and ``existing`` (fixed), where present."""
    pairs = (("new", inp.storage), ("existing", inp.existing_storage))
    return {key: s for key, s in pairs if s is not None}


def build_sizing_model(
    inp: SizingInputs, exclusive: dict[str, np.ndarray] | None = None
) -> SizingModel:
    """Build the planning MILP (minimise annual cost [yuan/yr]).

    Parameters
    ----------
    inp : SizingInputs
        The plan's data.
    exclusive : dict of {"new", "existing"} to step indices
        Where storage gets its charge-or-discharge binary (SB5).
    """
    with PauseGC():
        return _build(inp, exclusive or {})


def _build(inp: SizingInputs, exclusive: dict[str, np.ndarray]) -> SizingModel:
    p = inp.periods
    K = range(p.steps)
    w = p.step_weight
    dt_h = p.dt_h
    m = pyo.ConcreteModel(name=f"sizing-{inp.name}")
    m.K = pyo.RangeSet(0, p.steps - 1)
    # S2 as bounds: they are data and conflict with nothing but the balance.
    m.import_kw = pyo.Var(K, bounds=(0.0, inp.import_limit_kw))
    m.export_kw = pyo.Var(K, bounds=(0.0, inp.export_limit_kw))

    nets: list[Any] = []
    if inp.pv is not None:
        m.pv = pyo.Block()
        pv_kw = build_sized_pv(m.pv, inp.pv)
        nets.append(pv_kw)
    storages = _storage_blocks(m, inp, exclusive)
    nets += [s.net_kw for s in storages.values()]
    load = [float(x) for x in inp.load_kw]
    m.power_balance = pyo.Constraint(
        K,
        rule=lambda m, k: m.import_kw[k] - m.export_kw[k] + sum(n[k] for n in nets) == load[k],
        doc=family("S1", "power balance"),
    )

    months = p.month_steps()
    m.M = pyo.Set(initialize=list(months), ordered=True)
    m.peak_kw = pyo.Var(m.M, bounds=(0.0, inp.import_limit_kw))
    pairs = [(mo, int(k)) for mo, ks in months.items() for k in ks]
    m.monthly_peak = pyo.Constraint(
        pairs,
        rule=lambda m, mo, k: m.peak_kw[mo] >= m.import_kw[k],
        doc=family("S3", "monthly peak import"),
    )

    ww = [float(x) for x in w]
    pi_imp = inp.import_price_yuan_per_kwh + (
        inp.carbon_price_yuan_per_t * inp.emission_factor_kg_per_kwh / 1000.0
    )
    pi_exp = effective_export_price(inp)
    m.energy_cost = pyo.Expression(
        expr=dt_h * sum(ww[k] * float(pi_imp[k]) * m.import_kw[k] for k in K)
    )
    m.export_revenue = pyo.Expression(
        expr=dt_h * sum(ww[k] * float(pi_exp[k]) * m.export_kw[k] for k in K if pi_exp[k] != 0)
    )
    m.demand_charge = pyo.Expression(
        expr=inp.demand_charge_yuan_per_kw_month * sum(m.peak_kw[mo] for mo in m.M)
    )
    terms: dict[str, Any] = {
        "energy": m.energy_cost,
        "export_revenue": -m.export_revenue,
        "demand_charge": m.demand_charge,
    }

    if inp.pv is not None:
        terms["pv_capital_and_om"] = inp.pv_cost_yuan_per_kwp_year * (
            m.pv.capacity_kwp - inp.pv_existing_kwp
        )
    new = storages.get("new")
    if new is not None:
        cost = (
            inp.storage_cost_yuan_per_kw_year * new.power_kw
            + inp.storage_cost_yuan_per_kwh_year * new.energy_kwh
        )
        if inp.storage_unit_cost_yuan_per_year:
            units = m.storage["new"].units
            cost += sum(c * units[j] for j, c in enumerate(inp.storage_unit_cost_yuan_per_year))
        terms["storage_capital_and_om"] = cost
        if inp.subsidy_yuan_per_kwh > 0:
            _subsidy(m, inp, new)
            terms["storage_subsidy"] = -m.subsidy_yuan
    for key, s in storages.items():
        terms[f"storage_degradation_{key}"] = s.costs_yuan["storage_degradation"]

    _dr_capability(m, inp, storages)
    if inp.dr_value_yuan_per_kw_year > 0:
        terms["dr_revenue"] = -inp.dr_value_yuan_per_kw_year * m.dr_storage_kw

    pv_used = _pv_used_kwh(m, inp)
    # initialize: a variable no row or cost uses never reaches the solver.
    m.green_certificates_mwh = pyo.Var(
        initialize=0.0,
        bounds=(0.0, None if inp.green_certificate_price_yuan_per_mwh is not None else 0.0),
    )
    if inp.green_certificate_price_yuan_per_mwh:
        terms["green_certificates"] = (
            inp.green_certificate_price_yuan_per_mwh * m.green_certificates_mwh
        )
    _targets(m, inp, storages, pv_used)

    m.cost_terms = pyo.Expression(list(terms), rule=lambda m, name: terms[name])
    m.objective = pyo.Objective(expr=sum(m.cost_terms[n] for n in terms), sense=pyo.minimize)
    return SizingModel(model=m, storages=storages)


def effective_export_price(inp: SizingInputs) -> np.ndarray:
    """S2b: export valued at ``min(π_exp, π_imp)`` [yuan/kWh].

    One meter cannot import and export at once. Where export pays more than import (the
    valley of the 2025 Jiangsu tariff against a 0.391 yuan/kWh export price), a model without
    that rule would import to export; the day-ahead model forbids it with binaries (P4), which
    on a year of hourly steps are thousands of binaries (measured: no answer within 7 minutes
    on the large example park). Valuing export at the import price there makes importing to
    export worthless, so the LP stays exact for that price. What it under-counts, export
    actually sold in those steps at the higher price, is added back to the reported costs
    (``export_revenue``) from the solution; the plan is valid, and only plans that would export
    more in those steps are judged slightly too harshly (docs/model.md §Sizing).
    """
    imp = inp.import_price_yuan_per_kwh + (
        inp.carbon_price_yuan_per_t * inp.emission_factor_kg_per_kwh / 1000.0
    )
    return np.minimum(inp.export_price_yuan_per_kwh, imp)


def _subsidy(m: pyo.ConcreteModel, inp: SizingInputs, new: SizedStorageTerms) -> None:
    """S4: the reward needs new storage of at least the minimum power."""
    p = inp.periods
    assert inp.storage is not None
    w = p.step_weight
    m.subsidy_eligible = pyo.Var(domain=pyo.Binary)
    m.subsidy_yuan = pyo.Var(bounds=(0.0, None))
    rate = inp.subsidy_yuan_per_kwh
    # The largest reward any admissible station could earn: the big-M of S4b.
    cap = rate * p.dt_h * float(w.sum()) * inp.storage.power_kw_max
    m.subsidy_on_discharge = pyo.Constraint(
        expr=m.subsidy_yuan
        <= rate * p.dt_h * sum(float(w[k]) * new.discharge_kw[k] for k in range(p.steps)),
        doc=family("S4", "reward on discharged energy"),
    )
    m.subsidy_only_if_eligible = pyo.Constraint(
        expr=m.subsidy_yuan <= cap * m.subsidy_eligible,
        doc=family("S4", "reward only for eligible stations"),
    )
    m.subsidy_min_power = pyo.Constraint(
        expr=new.power_kw >= inp.subsidy_min_power_kw * m.subsidy_eligible,
        doc=family("S4", "eligible stations have the minimum power"),
    )


def _dr_capability(
    m: pyo.ConcreteModel, inp: SizingInputs, storages: dict[str, SizedStorageTerms]
) -> None:
    """S5: storage's DR capability is what it sustains for the event's duration."""
    cap = None if inp.dr_max_kw is None else max(0.0, inp.dr_max_kw - inp.other_dr_kw)
    m.dr_storage_kw = pyo.Var(bounds=(0.0, cap), initialize=0.0)
    if not storages:
        m.dr_storage_kw.fix(0.0)
        return
    p_total = sum(s.power_kw for s in storages.values())
    usable: Any = 0.0
    sizings = _storage_sizings(inp)
    for key, s in storages.items():
        sz = sizings[key]
        usable += (sz.soc_max_frac - sz.soc_min_frac) * sz.discharge_efficiency_frac * s.energy_kwh
    m.dr_power = pyo.Constraint(
        expr=m.dr_storage_kw <= p_total, doc=family("S5", "DR capability within storage power")
    )
    m.dr_energy = pyo.Constraint(
        expr=inp.dr_duration_h * m.dr_storage_kw <= usable,
        doc=family("S5", "DR capability sustained for the event duration"),
    )


def _pv_used_kwh(m: pyo.ConcreteModel, inp: SizingInputs) -> Any:
    """PV energy used on site in a year: generation minus export (export is counted as PV
    first, the conservative reading) [kWh/yr]."""
    p = inp.periods
    if inp.pv is None:
        return 0.0
    w = p.step_weight
    return p.dt_h * sum(float(w[k]) * (m.pv.power_kw[k] - m.export_kw[k]) for k in range(p.steps))


def _targets(
    m: pyo.ConcreteModel,
    inp: SizingInputs,
    storages: dict[str, SizedStorageTerms],
    pv_used: Any,
) -> None:
    t = inp.targets
    p = inp.periods
    if t.pv_kwp_min is not None:
        if inp.pv is None:
            raise SizingInfeasibleError(inp.name, [(None, "T4 PV target without PV to size", "S6")])
        m.target_pv = pyo.Constraint(
            expr=m.pv.capacity_kwp >= t.pv_kwp_min, doc=family("S6", "T4 rooftop PV target")
        )
    if t.storage_kwh_min is not None:
        if not storages:
            raise SizingInfeasibleError(
                inp.name, [(None, "T3 storage target without storage to size", "S6")]
            )
        m.target_storage = pyo.Constraint(
            expr=sum(s.energy_kwh for s in storages.values()) >= t.storage_kwh_min,
            doc=family("S6", "T3 storage target"),
        )
    if t.dr_kw_min is not None:
        m.target_dr = pyo.Constraint(
            expr=m.dr_storage_kw + inp.other_dr_kw >= t.dr_kw_min,
            doc=family("S6", "T2 demand-response target"),
        )
    if t.renewable_kwh_min is not None:
        m.target_renewable = pyo.Constraint(
            expr=pv_used + 1000.0 * m.green_certificates_mwh >= t.renewable_kwh_min,
            doc=family("S6", "T5 renewable share target"),
        )
    if t.co2_t_max is not None:
        w = p.step_weight
        co2 = (
            inp.emission_factor_kg_per_kwh
            / 1000.0
            * p.dt_h
            * sum(float(w[k]) * m.import_kw[k] for k in range(p.steps))
        )
        m.target_co2 = pyo.Constraint(
            expr=co2 + inp.other_co2_t <= t.co2_t_max,
            doc=family("S6", "T8/T10 carbon target"),
        )


def _simultaneous(sm: SizingModel, tol_kw: float) -> dict[str, np.ndarray]:
    """Steps where a storage charges and discharges at once."""
    out = {}
    for key, s in sm.storages.items():
        idx = range(len(s.net_kw))
        blk = sm.model.storage[key]
        both = np.minimum(values(blk.charge_kw, idx), values(blk.discharge_kw, idx))
        out[key] = np.flatnonzero(both > tol_kw)
    return out


def _has_products(inp: SizingInputs) -> bool:
    return inp.storage is not None and bool(inp.storage.products)


# At most this many floor/ceil combinations of product counts are tried before branch and bound.
MAX_ROUNDINGS = 8


def _solve_products_by_rounding(
    sm: SizingModel, inp: SizingInputs, options: SolverOptions, build_s: float
) -> SolveResult:
    """Discrete products (SB6) by relax and round, proven against the relaxation's bound.

    The LP relaxation (interior point) bounds the optimum from below; each floor/ceil
    combination of its product counts, fixed, is solved as LPs (eligibility as in
    :func:`_solve_lp_with_eligibility`); the best is the answer when it is within
    ``mip_rel_gap`` of the bound. Otherwise HiGHS branch and bound solves the model. On a year
    of hourly steps branch and bound took 148 s for one product (its root LP is dual simplex).
    """
    m = sm.model
    name = f"sizing-{inp.name}"
    units = m.storage["new"].units
    lp = dataclasses.replace(options, relax=True, lp_solver="ipm", lp_presolve=True)
    relaxed = solve_model(m, lp, name=name, build_s=build_s)
    assert relaxed.objective is not None
    bound = relaxed.objective
    counts = [float(pyo.value(units[j])) for j in units]
    choices = [sorted({math.floor(c + 1e-6), math.ceil(c - 1e-6)}) for c in counts]
    combos = list(itertools.product(*choices))
    if len(combos) > MAX_ROUNDINGS:
        return solve_model(m, options, name=name, build_s=build_s)
    best: tuple[float, list[tuple[Any, Any]], SolveResult] | None = None
    try:
        for combo in combos:
            for j, n in zip(units, combo, strict=True):
                units[j].fix(n)
            try:
                r = _solve_lp_with_eligibility(sm, inp, options, build_s)
            except InfeasibleError:
                continue
            assert r.objective is not None
            if best is None or r.objective < best[0]:
                best = (r.objective, _snapshot(m), r)
    finally:
        for j in units:
            units[j].unfix()
    if best is None or (best[0] - bound) > options.mip_rel_gap * max(abs(best[0]), 1.0):
        return solve_model(m, options, name=name, build_s=build_s)
    for var, val in best[1]:
        var.set_value(val, skip_validation=True)
    gap = (best[0] - bound) / max(abs(best[0]), 1.0)
    return dataclasses.replace(
        best[2], bound=bound, gap=gap, method=f"relax-and-round×{len(combos)}"
    )


def _integers_beyond_eligibility(inp: SizingInputs, exclusive: dict[str, np.ndarray]) -> bool:
    products = inp.storage is not None and bool(inp.storage.products)
    return products or any(len(v) for v in exclusive.values())


def _snapshot(m: pyo.ConcreteModel) -> list[tuple[Any, Any]]:
    return [(v, v.value) for v in m.component_data_objects(pyo.Var)]


def _solve_lp_with_eligibility(
    sm: SizingModel, inp: SizingInputs, options: SolverOptions, build_s: float
) -> SolveResult:
    """Solve a model whose only integer is the subsidy's eligibility (S4) as LPs.

    The relaxation is exact when its eligibility is integral, or when the station it sizes is
    already large enough (eligibility 1 is then feasible at the same cost). Otherwise both
    values are solved and the cheaper kept: the MILP's optimum, from at most three LPs that
    interior point solves several times faster than branch and bound's simplex.
    """
    m = sm.model
    name = f"sizing-{inp.name}"
    lp = dataclasses.replace(options, relax=True, lp_solver="ipm", lp_presolve=True)
    res = solve_model(m, lp, name=name, build_s=build_s)
    solves = 1
    if "storage_subsidy" in m.cost_terms:
        y = float(pyo.value(m.subsidy_eligible))
        power = float(pyo.value(sm.storages["new"].power_kw))
        if min(y, 1.0 - y) <= 1e-6:
            m.subsidy_eligible.set_value(round(y))
        elif power >= inp.subsidy_min_power_kw - 1e-6:
            m.subsidy_eligible.set_value(1)
        else:
            best: tuple[float, list[tuple[Any, Any]], SolveResult] | None = None
            for value in (0, 1):
                m.subsidy_eligible.fix(value)
                try:
                    r = solve_model(m, lp, name=name, build_s=build_s)
                except InfeasibleError:
                    continue
                finally:
                    solves += 1
                assert r.objective is not None
                if best is None or r.objective < best[0]:
                    best = (r.objective, _snapshot(m), r)
            m.subsidy_eligible.unfix()
            if best is None:
                raise InfeasibleError(name, [], "infeasible with and without the subsidy")
            for var, val in best[1]:
                var.set_value(val, skip_validation=True)
            res = best[2]
    return dataclasses.replace(
        res,
        relaxed=False,
        method=f"highs_lp×{solves}",
        bound=res.objective,
        gap=0.0,
    )


def solve_sizing(inp: SizingInputs, options: SolverOptions | None = None) -> SizingResult:
    """Solve the planning model, adding exclusivity binaries lazily (SB5).

    Raises
    ------
    SizingInfeasibleError
        No plan meets the targets within the ranges (with the conflicting families).
    models.errors.SolverError
        No usable solution.
    """
    options = options or SolverOptions()
    t0 = time.perf_counter()
    exclusive: dict[str, np.ndarray] = {}
    rounds: list[int] = []
    scale = max(
        [1.0, inp.import_limit_kw]
        + [s.power_kw_max for s in (inp.storage, inp.existing_storage) if s is not None]
    )
    tol_kw = 1e-6 * scale
    for round_no in range(MAX_BINARY_ROUNDS + 1):
        if round_no == MAX_BINARY_ROUNDS:
            # Give up on laziness: every step of every storage gets its binary.
            exclusive = {k: np.arange(inp.periods.steps) for k in ("new", "existing")}
        tb = time.perf_counter()
        sm = build_sizing_model(inp, exclusive)
        build_s = time.perf_counter() - tb
        try:
            if options.relax:
                lp = dataclasses.replace(options, lp_solver="ipm", lp_presolve=True)
                res = solve_model(sm.model, lp, name=f"sizing-{inp.name}", build_s=build_s)
            elif _has_products(inp) and not any(len(v) for v in exclusive.values()):
                res = _solve_products_by_rounding(sm, inp, options, build_s)
            elif _integers_beyond_eligibility(inp, exclusive):
                res = solve_model(sm.model, options, name=f"sizing-{inp.name}", build_s=build_s)
            else:
                res = _solve_lp_with_eligibility(sm, inp, options, build_s)
        except InfeasibleError as exc:
            raise SizingInfeasibleError(inp.name, diagnose_infeasibility(sm.model)) from exc
        rounds.append(sum(len(v) for v in exclusive.values()))
        if options.relax:
            break
        both = _simultaneous(sm, tol_kw)
        if not any(len(v) for v in both.values()):
            break
        exclusive = {k: np.union1d(exclusive.get(k, np.array([], int)), v) for k, v in both.items()}
    return _extract(inp, sm, res, rounds, time.perf_counter() - t0)


def _extract(
    inp: SizingInputs, sm: SizingModel, res: SolveResult, rounds: list[int], wall_s: float
) -> SizingResult:
    m = sm.model
    p = inp.periods
    K = range(p.steps)
    # Net the meter: where export is valued at the import price (S2b), importing and exporting
    # at once costs nothing in the model and the LP may return it; one meter records the net.
    net = values(m.import_kw, K) - values(m.export_kw, K)
    imp = np.clip(net, 0.0, None)
    exp = np.clip(-net, 0.0, None)
    series: dict[str, np.ndarray] = {
        "load_kw": inp.load_kw.copy(),
        "import_kw": imp,
        "export_kw": exp,
    }
    sizes: dict[str, Any] = {}
    if inp.pv is not None:
        cap = float(pyo.value(m.pv.capacity_kwp))
        pv = np.clip(values(m.pv.power_kw, K), 0.0, None)
        series["pv_kw"] = pv
        series["pv_curtailed_kw"] = np.clip(cap * inp.pv.yield_kw_per_kwp - pv, 0.0, None)
        sizes["pv_kwp"] = cap
        sizes["pv_new_kwp"] = max(0.0, cap - inp.pv_existing_kwp)
    for key, s in sm.storages.items():
        blk = m.storage[key]
        series[f"storage_{key}_charge_kw"] = np.clip(values(blk.charge_kw, K), 0.0, None)
        series[f"storage_{key}_discharge_kw"] = np.clip(values(blk.discharge_kw, K), 0.0, None)
        series[f"storage_{key}_soc_kwh"] = values(blk.soc_kwh, K)
        if key == "new":
            sizes["storage_power_kw"] = float(pyo.value(s.power_kw))
            sizes["storage_energy_kwh"] = float(pyo.value(s.energy_kwh))
            if inp.storage is not None and inp.storage.products:
                sizes["storage_units"] = [round(pyo.value(blk.units[j])) for j in blk.units]
        else:
            sizes["existing_storage_power_kw"] = float(pyo.value(s.power_kw))
            sizes["existing_storage_energy_kwh"] = float(pyo.value(s.energy_kwh))
    costs = {str(n): float(pyo.value(m.cost_terms[n])) for n in m.cost_terms}
    # The netted meter, export at its real price (S2b).
    pi_imp = inp.import_price_yuan_per_kwh + (
        inp.carbon_price_yuan_per_t * inp.emission_factor_kg_per_kwh / 1000.0
    )
    costs["energy"] = p.year_sum(pi_imp * imp)
    costs["export_revenue"] = -p.year_sum(inp.export_price_yuan_per_kwh * exp)
    costs["total"] = sum(costs.values())
    flows = {
        "export_above_import_price": p.year_sum(
            np.where(inp.export_price_yuan_per_kwh > effective_export_price(inp), exp, 0.0)
        ),
        "load": p.year_sum(inp.load_kw),
        "import": p.year_sum(imp),
        "export": p.year_sum(exp),
    }
    if "pv_kw" in series:
        flows["pv_generation"] = p.year_sum(series["pv_kw"])
        flows["pv_curtailed"] = p.year_sum(series["pv_curtailed_kw"])
        flows["pv_used_on_site"] = max(0.0, flows["pv_generation"] - flows["export"])
    for key in sm.storages:
        flows[f"storage_{key}_charge"] = p.year_sum(series[f"storage_{key}_charge_kw"])
        flows[f"storage_{key}_discharge"] = p.year_sum(series[f"storage_{key}_discharge_kw"])
    eligible = "storage_subsidy" in costs and pyo.value(m.subsidy_eligible) > 0.5
    dr = float(pyo.value(m.dr_storage_kw)) + inp.other_dr_kw
    return SizingResult(
        sizes=sizes,
        costs_yuan_per_year=costs,
        flows_kwh_per_year=flows,
        monthly_peak_kw={int(mo): float(pyo.value(m.peak_kw[mo])) for mo in m.M},
        series=series,
        dr_kw=dr,
        green_certificates_mwh=float(pyo.value(m.green_certificates_mwh)),
        subsidy_eligible=eligible,
        solve=res,
        binary_rounds=rounds,
        wall_s=wall_s,
    )

"""The park model: one pyomo block per asset, the power balance written once, the objective.

Equations (docs/model.md §Park): P1 power balance, P2 import limit, P3 export limit, P4 no
simultaneous import and export (only when some step pays export ≥ import), P5 demand-charge
excess over the month's recorded peak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from models.assets import handler_for
from models.assets.base import AssetTerms, family
from models.spec import ResolvedPark


@dataclass
class ParkModel:
    """A built park model and what is needed to read it back."""

    park: ResolvedPark
    model: pyo.ConcreteModel
    terms: dict[str, AssetTerms]


def _import_limit(m: pyo.ConcreteModel, park: ResolvedPark) -> None:
    limit = park.spec.grid.import_limit_kw
    m.import_limit = pyo.Constraint(
        m.T, rule=lambda m, t: m.import_kw[t] <= limit, doc=family("P2", "grid import limit")
    )


def _export_limit(m: pyo.ConcreteModel, park: ResolvedPark) -> None:
    limit = park.spec.grid.export_limit_kw
    m.export_limit = pyo.Constraint(
        m.T, rule=lambda m, t: m.export_kw[t] <= limit, doc=family("P3", "grid export limit")
    )


def _no_simultaneous_import_export(m: pyo.ConcreteModel, park: ResolvedPark) -> None:
    # Only steps that pay export ≥ import need it: elsewhere importing to export never pays.
    need = np.flatnonzero(park.export_price_yuan_per_kwh >= park.import_price_yuan_per_kwh)
    if len(need) == 0 or park.spec.grid.export_limit_kw == 0:
        return
    g = park.spec.grid
    m.TX = pyo.Set(initialize=need.tolist(), ordered=True)
    m.importing = pyo.Var(m.TX, domain=pyo.Binary)
    m.import_mode = pyo.Constraint(
        m.TX,
        rule=lambda m, t: m.import_kw[t] <= g.import_limit_kw * m.importing[t],
        doc=family("P4", "import only in import mode"),
    )
    m.export_mode = pyo.Constraint(
        m.TX,
        rule=lambda m, t: m.export_kw[t] <= g.export_limit_kw * (1 - m.importing[t]),
        doc=family("P4", "export only in export mode"),
    )


def _power_balance(m: pyo.ConcreteModel, park: ResolvedPark, terms: dict[str, AssetTerms]) -> None:
    load = park.load_kw
    nets = [t.net_kw for t in terms.values()]
    m.power_balance = pyo.Constraint(
        m.T,
        rule=lambda m, t: (
            m.import_kw[t] - m.export_kw[t] + sum(n[t] for n in nets) == float(load[t])
        ),
        doc=family("P1", "power balance"),
    )


def _demand_excess(m: pyo.ConcreteModel, park: ResolvedPark) -> None:
    peak0 = park.spec.grid.month_peak_so_far_kw
    m.demand_excess_kw = pyo.Var(domain=pyo.NonNegativeReals)
    m.demand_excess = pyo.Constraint(
        m.T,
        rule=lambda m, t: m.demand_excess_kw >= m.import_kw[t] - peak0,
        doc=family("P5", "import peak above the month's recorded peak"),
    )


def build_park_model(park: ResolvedPark) -> ParkModel:
    """Build the day-ahead MILP of one park.

    Returns
    -------
    ParkModel
        The pyomo model (minimise ``m.objective`` [yuan]) and the terms each asset contributed.
    """
    grid = park.grid
    g = park.spec.grid
    m = pyo.ConcreteModel(name=park.spec.id)
    m.T = pyo.RangeSet(0, grid.steps - 1)
    m.import_kw = pyo.Var(m.T, domain=pyo.NonNegativeReals)
    m.export_kw = pyo.Var(m.T, domain=pyo.NonNegativeReals)

    specs = {a.id: a for a in park.assets}
    terms: dict[str, AssetTerms] = {}

    def _asset_block(b: pyo.Block, aid: str) -> None:
        spec = specs[aid]
        terms[aid] = handler_for(spec).build(b, spec, park.asset_data[aid], grid)

    m.asset = pyo.Block(list(specs), rule=_asset_block)
    _power_balance(m, park, terms)
    _import_limit(m, park)
    _export_limit(m, park)
    _no_simultaneous_import_export(m, park)
    _demand_excess(m, park)

    dt_h = grid.dt_h
    pi_imp, pi_exp = park.import_price_yuan_per_kwh, park.export_price_yuan_per_kwh
    carbon_yuan_per_kwh = g.carbon_price_yuan_per_t * g.emission_factor_kg_per_kwh / 1000.0
    m.energy_cost = pyo.Expression(
        expr=dt_h * sum((float(pi_imp[t]) + carbon_yuan_per_kwh) * m.import_kw[t] for t in m.T)
    )
    m.export_revenue = pyo.Expression(
        expr=dt_h * sum(float(pi_exp[t]) * m.export_kw[t] for t in m.T)
    )
    m.demand_charge = pyo.Expression(expr=g.demand_charge_yuan_per_kw_month * m.demand_excess_kw)
    asset_costs: list[Any] = [c for t in terms.values() for c in t.costs_yuan.values()]
    m.objective = pyo.Objective(
        expr=m.energy_cost - m.export_revenue + m.demand_charge + sum(asset_costs),
        sense=pyo.minimize,
    )
    return ParkModel(park=park, model=m, terms=terms)

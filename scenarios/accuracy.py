"""How far representative days are from the full year (``vpp size --accuracy``).

Three solves on the same scenario: the full-year plan (the reference answer), the
representative-day plan, and the representative-day *sizes* priced on the full year (what the
park would really pay had it built them). Reported: the error of the representative-day
objective against the full year's, the error of its sizes, and the regret, the extra annual
cost of building the representative-day sizes instead of the full-year ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from models.sizing import SizingResult, solve_sizing
from models.solve import SolverOptions
from scenarios.plan import Prepared, fixed_sizes, periods_for, sizing_inputs

SIZE_KEYS = ("pv_kwp", "storage_power_kw", "storage_energy_kwh")


@dataclass(frozen=True)
class Accuracy:
    """Representative days against the full year."""

    days: int
    full_year: SizingResult
    representative: SizingResult
    representative_on_year: SizingResult
    seconds: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        fy = self.full_year.costs_yuan_per_year["total"]
        rd = self.representative.costs_yuan_per_year["total"]
        on_year = self.representative_on_year.costs_yuan_per_year["total"]
        sizes = {}
        for k in SIZE_KEYS:
            if k in self.full_year.sizes:
                a, b = self.full_year.sizes[k], self.representative.sizes[k]
                sizes[k] = {
                    "full_year": a,
                    "representative_days": b,
                    "error_frac": (b - a) / a if a else (0.0 if b == 0 else None),
                }
        comps = {}
        for k, v in self.full_year.costs_yuan_per_year.items():
            r = self.representative.costs_yuan_per_year.get(k, 0.0)
            comps[k] = {"full_year": v, "representative_days": r, "error_yuan": r - v}
        return {
            "representative_days": self.days,
            "objective_full_year_yuan": fy,
            "objective_representative_days_yuan": rd,
            "objective_error_frac": (rd - fy) / fy,
            "representative_sizes_on_full_year_yuan": on_year,
            "regret_yuan": on_year - fy,
            "regret_frac": (on_year - fy) / fy,
            "sizes": sizes,
            "cost_components": comps,
            "seconds": self.seconds,
        }

    def markdown(self) -> str:
        d = self.as_dict()
        lines = [
            f"| quantity | full year | {self.days} representative days | error |",
            "|---|---|---|---|",
            f"| annual cost [yuan] | {d['objective_full_year_yuan']:,.0f} | "
            f"{d['objective_representative_days_yuan']:,.0f} | {d['objective_error_frac']:+.2%} |",
        ]
        for k, v in d["sizes"].items():
            err = "n/a" if v["error_frac"] is None else f"{v['error_frac']:+.2%}"
            lines.append(
                f"| {k} | {v['full_year']:,.0f} | {v['representative_days']:,.0f} | {err} |"
            )
        lines.append(
            f"| rep.-day sizes priced on the full year [yuan] | "
            f"{d['representative_sizes_on_full_year_yuan']:,.0f} | | regret "
            f"{d['regret_frac']:+.3%} |"
        )
        return "\n".join(lines)


def accuracy(
    prep: Prepared, days: int | None = None, options: SolverOptions | None = None
) -> Accuracy:
    """Solve the scenario on the full year and on representative days and compare."""
    m = prep.spec.method
    days = days or m.days
    options = options or SolverOptions(mip_rel_gap=m.mip_rel_gap, time_limit_s=m.time_limit_s)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    year = periods_for(prep, "full-year")
    year_inputs, _ = sizing_inputs(prep, year)
    full = solve_sizing(year_inputs, options)
    seconds["full_year"] = time.perf_counter() - t
    t = time.perf_counter()
    rep_inputs, _ = sizing_inputs(prep, periods_for(prep, "representative-days", days))
    rep = solve_sizing(rep_inputs, options)
    seconds["representative_days"] = time.perf_counter() - t
    t = time.perf_counter()
    on_year = solve_sizing(fixed_sizes(year_inputs, rep.sizes), options)
    seconds["representative_sizes_on_full_year"] = time.perf_counter() - t
    return Accuracy(days, full, rep, on_year, seconds)

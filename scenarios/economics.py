"""Annualised costs, NPV and payback (docs/model.md §Sizing, economics).

The sizing objective charges capital as an equivalent annual cost: capex × CRF(r, lifetime),
which is what repeated like-for-like replacement costs per year. NPV and payback are computed
afterwards over the scenario's horizon from explicit cash flows: capex in year 0, replacements
when a lifetime ends inside the horizon, a linear salvage value at its end, the operating
savings against the do-nothing plan every year, and the storage reward only in the years it is
paid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def crf(rate: float, years: int) -> float:
    """Capital recovery factor ``r(1+r)^n / ((1+r)^n − 1)`` [1/yr] (1/n at r = 0)."""
    if years <= 0:
        raise ValueError("years must be ≥ 1")
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


def annuity(rate: float, years: float) -> float:
    """Present value of 1 yuan a year for ``years`` years, paid at year ends (fractional last
    year pro rata) [yr]."""
    full = int(np.floor(years))
    pv = sum((1.0 + rate) ** -y for y in range(1, full + 1))
    rest = years - full
    if rest > 0:
        pv += rest * (1.0 + rate) ** -(full + 1)
    return pv


def subsidy_share(rate: float, horizon_years: int, paid_months: int) -> float:
    """How much of a per-year reward paid only for the first ``paid_months`` is worth when
    spread evenly over the horizon [-] (present-value weighted)."""
    paid = min(paid_months / 12.0, float(horizon_years))
    return annuity(rate, paid) / annuity(rate, float(horizon_years))


@dataclass(frozen=True)
class Investment:
    """One technology's capital: cost now and its life [yuan], [yr]."""

    name: str
    capex_yuan: float
    lifetime_years: int


@dataclass(frozen=True)
class CashFlows:
    """Yearly cash flows of a plan against doing nothing [yuan], year 0 first."""

    years: np.ndarray
    flows_yuan: np.ndarray
    npv_yuan: float
    irr_frac: float | None
    simple_payback_years: float | None
    discounted_payback_years: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "npv_yuan": self.npv_yuan,
            "irr_frac": self.irr_frac,
            "simple_payback_years": self.simple_payback_years,
            "discounted_payback_years": self.discounted_payback_years,
            "cash_flows_yuan": [round(float(x), 2) for x in self.flows_yuan],
        }


def _payback(cumulative: np.ndarray) -> float | None:
    """First (fractional) year at which the cumulative flow turns non-negative."""
    if cumulative[0] >= 0:
        return 0.0
    for y in range(1, len(cumulative)):
        if cumulative[y] >= 0:
            prev = cumulative[y - 1]
            step = cumulative[y] - prev
            return float(y - 1 + (-prev / step if step > 0 else 1.0))
    return None


def _irr(flows: np.ndarray) -> float | None:
    """Internal rate of return by bisection on [−0.99, 1] (None without a sign change)."""
    if not (np.any(flows < 0) and np.any(flows > 0)):
        return None

    def npv(r: float) -> float:
        return float(sum(f / (1.0 + r) ** y for y, f in enumerate(flows)))

    lo, hi = -0.99, 1.0
    f_lo, f_hi = npv(lo), npv(hi)
    if f_lo * f_hi > 0:
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f_mid = npv(mid)
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
    return 0.5 * (lo + hi)


def cash_flows(
    investments: list[Investment],
    *,
    annual_savings_yuan: float,
    subsidy_yuan_per_year: float,
    subsidy_months: int,
    rate: float,
    horizon_years: int,
) -> CashFlows:
    """Cash flows, NPV, IRR and paybacks of a plan.

    Parameters
    ----------
    investments : list of Investment
        Capital of each new technology (replaced at the end of each lifetime inside the
        horizon, with linear salvage value at the horizon's end).
    annual_savings_yuan : float
        Operating cost of doing nothing minus that of the plan, reward excluded [yuan/yr].
    subsidy_yuan_per_year : float
        The storage reward in a year it is paid in full [yuan/yr].
    subsidy_months : int
        Months it is paid from the first year.
    rate : float
        Discount rate [-].
    horizon_years : int
        Horizon [yr].
    """
    n = horizon_years
    flows = np.zeros(n + 1)
    for inv in investments:
        if inv.capex_yuan == 0:
            continue
        life = inv.lifetime_years
        for y in range(0, n, life):
            flows[y] -= inv.capex_yuan
        used = n % life
        if used:
            flows[n] += inv.capex_yuan * (life - used) / life
    flows[1:] += annual_savings_yuan
    months_left = subsidy_months
    for y in range(1, n + 1):
        share = min(12, max(0, months_left)) / 12.0
        flows[y] += subsidy_yuan_per_year * share
        months_left -= 12
    disc = (1.0 + rate) ** -np.arange(n + 1)
    return CashFlows(
        years=np.arange(n + 1),
        flows_yuan=flows,
        npv_yuan=float(np.dot(flows, disc)),
        irr_frac=_irr(flows),
        simple_payback_years=_payback(np.cumsum(flows)),
        discounted_payback_years=_payback(np.cumsum(flows * disc)),
    )

"""The KPI scorecard: indicators T2–T10 of shared/reference/policy-targets.md.

Each indicator is computed from a year's energy balance (a sizing plan's, or a park's metered
year), marked pass or fail against its near- and long-term values, with its class in the Wuxi
indicator system (1–5 binding, 6–21 important reference, 22–31 incentive).

Accounting conventions (each a reading, stated so it can be argued with):

- Energy is counted at equivalent value (当量值): electricity 0.1229 kgce/kWh (GB/T 2589-2020,
  jiangsu-facts.md), on everything the park uses (grid and on-site PV alike).
- CO2 is location-based by default: grid imports × the grid emission factor (Jiangsu 2022
  0.5978 kg/kWh); green certificates and green power offset it only when
  ``green_certificates_reduce_co2`` is set.
- Renewable electricity (T5, T7) is PV used on site (generation − export) plus green power
  bought plus green certificates (1 MWh each).
- T2 near term, "8 % of daily average electricity use", is read as a power: 0.08 × (daily kWh ÷
  24 h), the reading the VPP programme uses (vpp/spec.py); long term 10 % of the peak load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from models.sizing import KGCE_PER_KWH

Class = Literal["binding", "reference", "incentive"]

# Per unit of each carrier: (kgce equivalent value, kgCO2). Standard reference values of
# GB/T 2589-2020 (energy) and the national enterprise GHG accounting guidelines (CO2): common
# defaults, not in the shared fact sheet; override with ``annual.carrier_factors``.
CARRIER_FACTORS: dict[str, tuple[float, float]] = {
    "natural_gas_m3": (1.2143, 2.1622),
    "raw_coal_t": (714.3, 1900.3),
    "diesel_t": (1457.1, 3145.9),
    "gasoline_t": (1471.4, 2925.1),
    "lpg_t": (1714.3, 3101.3),
    "heat_gj": (34.12, 110.0),
}


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator: what it measures, its class and thresholds."""

    id: str
    name: str
    unit: str
    cls: Class
    source: str
    near: float
    long: float
    at_least: bool  # pass when value ≥ threshold (else ≤)


# policy-targets.md; T8 long term is 0.2 t/tce for parks under 1 Mtce/yr (0.3 above).
INDICATORS: dict[str, IndicatorDef] = {
    d.id: d
    for d in (
        IndicatorDef(
            "T2", "DR capability", "kW", "incentive", "Wuxi indicator 23", 0.08, 0.10, True
        ),
        IndicatorDef(
            "T3", "storage capacity", "kWh", "incentive", "Wuxi indicator 24", 0.08, 0.10, True
        ),
        IndicatorDef(
            "T4", "rooftop PV coverage", "frac", "incentive", "Wuxi indicator 25", 0.50, 0.75, True
        ),
        IndicatorDef(
            "T5",
            "renewable electricity share (green certificates included)",
            "frac",
            "reference",
            "Changzhou §二(三), Wuxi indicator 19",
            0.30,
            0.70,
            True,
        ),
        IndicatorDef(
            "T6",
            "terminal electrification rate",
            "frac",
            "reference",
            "Changzhou §二(三), Wuxi indicator 20",
            0.50,
            0.70,
            True,
        ),
        IndicatorDef(
            "T7", "non-fossil energy share", "frac", "binding", "Wuxi indicator 5", 0.20, 0.80, True
        ),
        IndicatorDef(
            "T8",
            "CO2 per energy consumed",
            "tCO2/tce",
            "binding",
            "Wuxi indicator 2",
            1.0,
            0.2,
            False,
        ),
        IndicatorDef(
            "T9",
            "energy per industrial value added",
            "tce/10k yuan",
            "binding",
            "Changzhou §二(一), Wuxi indicator 3",
            0.35,
            0.25,
            False,
        ),
        IndicatorDef(
            "T10",
            "CO2 per industrial value added",
            "tCO2/10k yuan",
            "binding",
            "Wuxi indicator 4",
            0.6,
            0.1,
            False,
        ),
    )
}


def t8_long_threshold(energy_tce: float) -> float:
    """T8 long term: 0.2 t/tce below 1 Mtce a year, 0.3 at or above."""
    return 0.3 if energy_tce >= 1e6 else 0.2


@dataclass(frozen=True)
class EnergyYear:
    """A park's year, as the scorecard needs it.

    Parameters
    ----------
    electricity_use_kwh : float
        Electricity used on site (load) [kWh].
    grid_import_kwh, grid_export_kwh : float
        Metered at the connection [kWh].
    pv_generation_kwh : float
        On-site PV [kWh].
    peak_load_kw : float
        Maximum load [kW].
    days : int
        Days in the year.
    storage_kwh : float
        Installed storage [kWh].
    pv_kwp : float
        Installed PV [kWp].
    roof_potential_kwp : float, optional
        Usable roof potential [kWp].
    dr_capability_kw : float, optional
        DR capability [kW].
    green_certificates_mwh, green_power_purchase_kwh : float
        Held or bought [MWh], [kWh].
    carriers : dict of str to float
        Other energy carriers (keys of :data:`CARRIER_FACTORS`) and ``non_fossil_tce``.
    value_added_10k_yuan : float, optional
        Industrial value added [10⁴ yuan].
    emission_factor_kg_per_kwh : float
        Grid CO2 [kg/kWh].
    """

    electricity_use_kwh: float
    grid_import_kwh: float
    grid_export_kwh: float
    pv_generation_kwh: float
    peak_load_kw: float
    days: int
    storage_kwh: float
    pv_kwp: float
    roof_potential_kwp: float | None
    dr_capability_kw: float | None
    green_certificates_mwh: float
    green_power_purchase_kwh: float
    carriers: dict[str, float]
    value_added_10k_yuan: float | None
    emission_factor_kg_per_kwh: float
    carrier_factors: dict[str, tuple[float, float]] = field(default_factory=dict)
    green_certificates_reduce_co2: bool = False


@dataclass(frozen=True)
class IndicatorResult:
    id: str
    name: str
    cls: Class
    source: str
    unit: str
    value: float | None
    near_threshold: float | None
    long_threshold: float | None
    near_pass: bool | None
    long_pass: bool | None
    note: str = ""


@dataclass(frozen=True)
class Scorecard:
    """Indicator results plus the totals they came from."""

    indicators: list[IndicatorResult]
    totals: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return {"indicators": [asdict(i) for i in self.indicators], "totals": self.totals}

    def rows(self) -> list[dict[str, object]]:
        return [asdict(i) for i in self.indicators]

    def markdown(self) -> str:
        head = "| # | indicator | class | value | near | long |\n|---|---|---|---|---|---|"
        lines = [head]

        def mark(passed: bool | None, thr: float | None) -> str:
            if passed is None or thr is None:
                return "n/a"
            return f"{'pass' if passed else 'FAIL'} ({fmt(thr)})"

        for i in self.indicators:
            value = "n/a" if i.value is None else f"{fmt(i.value)} {i.unit}"
            lines.append(
                f"| {i.id} | {i.name} | {i.cls} | {value} | {mark(i.near_pass, i.near_threshold)} "
                f"| {mark(i.long_pass, i.long_threshold)} |"
            )
        return "\n".join(lines)


def fmt(x: float) -> str:
    """Four significant digits, thousands separated."""
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def carrier_totals(
    carriers: dict[str, float], overrides: dict[str, tuple[float, float]]
) -> tuple[float, float, float]:
    """Other carriers' fossil energy [tce], non-fossil energy [tce] and CO2 [t]."""
    factors = {**CARRIER_FACTORS, **overrides}
    fossil_tce = co2_t = 0.0
    for name, qty in carriers.items():
        if name == "non_fossil_tce" or qty == 0:
            continue
        if name not in factors:
            raise ValueError(f"annual.carriers.{name}: no conversion factor (add carrier_factors)")
        kgce, kgco2 = factors[name]
        fossil_tce += qty * kgce / 1000.0
        co2_t += qty * kgco2 / 1000.0
    return fossil_tce, float(carriers.get("non_fossil_tce", 0.0)), co2_t


def totals_of(y: EnergyYear) -> dict[str, float]:
    """The year's energy and CO2 totals (the scorecard's inputs, reported with it)."""
    fossil_tce, non_fossil_tce, fuel_co2_t = carrier_totals(y.carriers, y.carrier_factors)
    elec_tce = y.electricity_use_kwh * KGCE_PER_KWH / 1000.0
    pv_used = max(0.0, y.pv_generation_kwh - y.grid_export_kwh)
    green_kwh = 1000.0 * y.green_certificates_mwh + y.green_power_purchase_kwh
    renewable_kwh = min(y.electricity_use_kwh, pv_used + green_kwh)
    grid_co2_kwh = y.grid_import_kwh
    if y.green_certificates_reduce_co2:
        grid_co2_kwh = max(0.0, grid_co2_kwh - green_kwh)
    co2_t = grid_co2_kwh * y.emission_factor_kg_per_kwh / 1000.0 + fuel_co2_t
    return {
        "electricity_use_kwh": y.electricity_use_kwh,
        "grid_import_kwh": y.grid_import_kwh,
        "grid_export_kwh": y.grid_export_kwh,
        "pv_generation_kwh": y.pv_generation_kwh,
        "pv_used_on_site_kwh": pv_used,
        "renewable_electricity_kwh": renewable_kwh,
        "electricity_tce": elec_tce,
        "other_fossil_tce": fossil_tce,
        "other_non_fossil_tce": non_fossil_tce,
        "energy_tce": elec_tce + fossil_tce + non_fossil_tce,
        "co2_t": co2_t,
        "daily_average_use_kwh": y.electricity_use_kwh / y.days,
        "peak_load_kw": y.peak_load_kw,
    }


def scorecard(y: EnergyYear) -> Scorecard:
    """Every indicator T2–T10 for the year (``None`` where an input is missing)."""
    t = totals_of(y)
    energy = t["energy_tce"]
    daily = t["daily_average_use_kwh"]
    out: list[IndicatorResult] = []

    def add(
        ind: str,
        value: float | None,
        near: float | None,
        long: float | None,
        note: str = "",
    ) -> None:
        d = INDICATORS[ind]

        def ok(thr: float | None) -> bool | None:
            if value is None or thr is None:
                return None
            return value >= thr - 1e-9 if d.at_least else value <= thr + 1e-9

        out.append(
            IndicatorResult(
                d.id, d.name, d.cls, d.source, d.unit, value, near, long, ok(near), ok(long), note
            )
        )

    i = INDICATORS
    add(
        "T2",
        y.dr_capability_kw,
        i["T2"].near * daily / 24.0,
        i["T2"].long * y.peak_load_kw,
        "near: 8 % × daily kWh ÷ 24 h; long: 10 % of peak load"
        + ("" if y.dr_capability_kw is not None else "; capability not assessed"),
    )
    add("T3", y.storage_kwh, i["T3"].near * daily, i["T3"].long * daily, "share of daily kWh")
    roof = y.roof_potential_kwp
    add(
        "T4",
        None if roof is None else y.pv_kwp / roof,
        i["T4"].near,
        i["T4"].long,
        "" if roof is not None else "roof potential not given",
    )
    use = y.electricity_use_kwh
    add("T5", t["renewable_electricity_kwh"] / use if use else None, i["T5"].near, i["T5"].long)
    add("T6", t["electricity_tce"] / energy if energy else None, i["T6"].near, i["T6"].long)
    nonfossil = t["renewable_electricity_kwh"] * KGCE_PER_KWH / 1000.0 + t["other_non_fossil_tce"]
    add("T7", nonfossil / energy if energy else None, i["T7"].near, i["T7"].long)
    add(
        "T8",
        t["co2_t"] / energy if energy else None,
        i["T8"].near,
        t8_long_threshold(energy),
        "long term 0.2 below 1 Mtce/yr, 0.3 above",
    )
    va = y.value_added_10k_yuan
    missing = "" if va is not None else "value added not given"
    add("T9", energy / va if va else None, i["T9"].near, i["T9"].long, missing)
    add("T10", t["co2_t"] / va if va else None, i["T10"].near, i["T10"].long, missing)
    return Scorecard(out, t)

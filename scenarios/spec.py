"""The scenario file: a park, a year of load, candidate technologies, economics and targets.

YAML (JSON accepted), validated strictly like the park file (unknown keys are errors, units in
the names); ``vpp schema scenario`` prints its JSON Schema. Every default below is an assumption
or a rule-derived number with its source; all of them can be overridden in the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.errors import InputProblem, ParkInputError
from models.spec import ParkSpec, ParkYamlLoader, SubsidySpec, TariffSpec, problems_from_validation

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)

Indicator = Literal["T2", "T3", "T4", "T5", "T7", "T8", "T10"]


class PvTechnology(BaseModel):
    """Rooftop PV to size.

    Parameters
    ----------
    roof_potential_kwp : float
        PV that the park's usable roofs can hold [kWp]: the T4 base and the default maximum.
    min_kwp, max_kwp : float, optional
        Bounds on total installed PV [kWp] (default: the park's existing PV and the roof
        potential).
    capex_yuan_per_kwp : float
        Installed cost of new PV [yuan/kWp] (assumption: C&I rooftop PV in China ~3.0–3.5
        yuan/W in 2024–2025; not in the shared fact sheet).
    om_yuan_per_kwp_year : float
        Operation and maintenance [yuan/kWp-yr] (assumption, ~1 % of capex).
    lifetime_years : int
        Economic life [yr].
    tilt_deg, azimuth_deg : float
        Orientation of new arrays, for the pvlib yield when the history has no PV [°].
    yield_source : {"auto", "history", "clearsky"}
        Per-kWp output: the history's ``pv_kw`` over the park's installed kWp (``auto`` when
        both exist), or the pvlib clear-sky estimate (optimistic: no clouds).
    """

    model_config = _STRICT
    roof_potential_kwp: float = Field(gt=0)
    min_kwp: float | None = Field(None, ge=0)
    max_kwp: float | None = Field(None, ge=0)
    capex_yuan_per_kwp: float = Field(3200.0, ge=0)
    om_yuan_per_kwp_year: float = Field(35.0, ge=0)
    lifetime_years: int = Field(25, ge=1, le=60)
    tilt_deg: float = Field(20.0, ge=0, le=90)
    azimuth_deg: float = Field(180.0, ge=0, lt=360)
    yield_source: Literal["auto", "history", "clearsky"] = "auto"


class StorageProduct(BaseModel):
    """A discrete storage product (a container of given power and energy)."""

    model_config = _STRICT
    name: str
    power_kw: float = Field(gt=0)
    energy_kwh: float = Field(gt=0)
    max_units: int = Field(ge=0, le=10_000)
    capex_yuan_per_unit: float = Field(0.0, ge=0)


class StorageTechnology(BaseModel):
    """Battery storage to size (power and energy separately, or discrete products).

    Parameters
    ----------
    min_power_kw, max_power_kw, min_energy_kwh, max_energy_kwh : float
        Bounds on new storage [kW], [kWh].
    duration_h_min, duration_h_max : float
        Bounds on energy / power [h] (2–4 h systems, jiangsu-facts.md §Equipment).
    capex_yuan_per_kw, capex_yuan_per_kwh : float
        Installed cost [yuan/kW], [yuan/kWh] (EPC about 950 yuan/kWh in 2025, jiangsu-facts.md
        [media]; the power-side cost is folded into it by default).
    om_yuan_per_kw_year, om_yuan_per_kwh_year : float
        O&M [yuan/kW-yr], [yuan/kWh-yr] (assumption, ~1.5 % of capex).
    lifetime_years : int
        Economic life [yr] (assumption: ~6,000 LFP cycles at ~1.5 cycles a day).
    charge_efficiency_frac, discharge_efficiency_frac : float
        One-way efficiencies [-] (0.9 × 0.9 = 0.81, the CEC 2022 field conversion efficiency).
    soc_min_frac, soc_max_frac : float
        Usable window [-].
    degradation_cost_yuan_per_kwh : float
        Wear cost per kWh discharged beyond what the lifetime covers [yuan/kWh].
    max_cycles_per_day : float, optional
        Equivalent full cycles a day (warranty limit).
    products : list of StorageProduct
        If given, new storage is a whole number of these products.
    """

    model_config = _STRICT
    min_power_kw: float = Field(0.0, ge=0)
    max_power_kw: float = Field(gt=0)
    min_energy_kwh: float = Field(0.0, ge=0)
    max_energy_kwh: float = Field(gt=0)
    duration_h_min: float = Field(1.0, ge=0)
    duration_h_max: float = Field(4.0, gt=0)
    capex_yuan_per_kw: float = Field(0.0, ge=0)
    capex_yuan_per_kwh: float = Field(950.0, ge=0)
    om_yuan_per_kw_year: float = Field(0.0, ge=0)
    om_yuan_per_kwh_year: float = Field(14.0, ge=0)
    lifetime_years: int = Field(12, ge=1, le=40)
    charge_efficiency_frac: float = Field(0.9, gt=0, le=1)
    discharge_efficiency_frac: float = Field(0.9, gt=0, le=1)
    soc_min_frac: float = Field(0.1, ge=0, lt=1)
    soc_max_frac: float = Field(0.9, gt=0, le=1)
    degradation_cost_yuan_per_kwh: float = Field(0.0, ge=0)
    max_cycles_per_day: float | None = Field(2.0, gt=0)
    products: list[StorageProduct] = Field(default_factory=list)

    @model_validator(mode="after")
    def _order(self) -> StorageTechnology:
        for lo, hi in (
            ("min_power_kw", "max_power_kw"),
            ("min_energy_kwh", "max_energy_kwh"),
            ("duration_h_min", "duration_h_max"),
            ("soc_min_frac", "soc_max_frac"),
        ):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo} {getattr(self, lo)} is above {hi} {getattr(self, hi)}")
        return self


class Technologies(BaseModel):
    """The candidates; leave one out to keep the park's existing assets only."""

    model_config = _STRICT
    pv: PvTechnology | None = None
    storage: StorageTechnology | None = None


class DrAssumptions(BaseModel):
    """Demand-response revenue and capability.

    Parameters
    ----------
    price_yuan_per_kw_event : float
        Paid per kW delivered per event [yuan/kW] (Jiangsu 2018: 15 yuan/kW for real-time
        response with control > 2 h, jiangsu-facts.md [media]).
    events_per_year : float
        Events the park expects to be called for [1/yr] (0: no DR revenue assumed).
    duration_h : float
        An event's duration: storage counts for what it sustains that long [h].
    other_capability_kw : float
        Capability of other resources (flexible loads, EV charging, e.g. from ``vpp capacity``)
        [kW].
    """

    model_config = _STRICT
    price_yuan_per_kw_event: float = Field(15.0, ge=0)
    events_per_year: float = Field(0.0, ge=0)
    duration_h: float = Field(2.0, gt=0)
    other_capability_kw: float = Field(0.0, ge=0)


class Economics(BaseModel):
    """Money over the planning horizon.

    Parameters
    ----------
    discount_rate_frac : float
        Real discount rate [-] (assumption).
    horizon_years : int
        Analysis horizon [yr].
    tariff : str or TariffSpec, optional
        Overrides the park's tariff (a built-in TOU tariff for the whole year).
    export_price_yuan_per_kwh, demand_charge_yuan_per_kw_month : float, optional
        Override the park's values.
    storage_subsidy : SubsidySpec, optional
        Overrides the park's discharge reward (Changzhou 0.3 yuan/kWh, ≥ 0.5 MW, 24 months).
    storage_subsidy_enabled : bool
        False: no reward at all (to see what storage earns without it).
    dr : DrAssumptions
        DR revenue and capability assumptions.
    green_certificate_price_yuan_per_mwh : float, optional
        Price of one green certificate (1 MWh); absent: certificates cannot be bought.
    carbon_price_yuan_per_t : float
        Internal carbon price on imports [yuan/tCO2].
    """

    model_config = _STRICT
    discount_rate_frac: float = Field(0.06, ge=0, lt=1)
    horizon_years: int = Field(20, ge=1, le=50)
    tariff: (
        Literal["jiangsu-2025-two-part-1-10kv", "jiangsu-2022-two-part-1-10kv"] | TariffSpec | None
    ) = None
    export_price_yuan_per_kwh: float | None = Field(None, ge=0)
    demand_charge_yuan_per_kw_month: float | None = Field(None, ge=0)
    storage_subsidy: SubsidySpec | None = None
    storage_subsidy_enabled: bool = True
    dr: DrAssumptions = Field(default_factory=DrAssumptions)
    green_certificate_price_yuan_per_mwh: float | None = Field(None, ge=0)
    carbon_price_yuan_per_t: float = Field(0.0, ge=0)


class Targets(BaseModel):
    """Which indicators the plan must meet (as constraints), and for which term.

    ``thresholds`` overrides an indicator's value for the chosen term (e.g. ``{T3: 0.12}``);
    defaults are in :data:`scenarios.scorecard.INDICATORS` (policy-targets.md).
    """

    model_config = _STRICT
    term: Literal["near", "long"] = "near"
    indicators: list[Indicator] = Field(default_factory=list)
    thresholds: dict[str, float] = Field(default_factory=dict)


class Carriers(BaseModel):
    """The park's other energy use in the year, by carrier."""

    model_config = _STRICT
    natural_gas_m3: float = Field(0.0, ge=0)
    raw_coal_t: float = Field(0.0, ge=0)
    diesel_t: float = Field(0.0, ge=0)
    gasoline_t: float = Field(0.0, ge=0)
    lpg_t: float = Field(0.0, ge=0)
    heat_gj: float = Field(0.0, ge=0)
    non_fossil_tce: float = Field(0.0, ge=0, description="biomass, green heat … [tce]")


class AnnualData(BaseModel):
    """The park's annual energy and output data for the KPI scorecard.

    Parameters
    ----------
    value_added_10k_yuan : float, optional
        Industrial value added [10⁴ yuan].
    carriers : Carriers
        Other energy carriers used.
    green_certificates_mwh : float
        Green certificates already held for the year [MWh].
    green_power_purchase_kwh : float
        Green electricity bought through green power trading [kWh].
    roof_potential_kwp : float, optional
        Usable roof potential [kWp] (for ``vpp scorecard``; the scenario's PV technology gives
        it otherwise).
    dr_capability_kw : float, optional
        Proven DR capability [kW] (e.g. from ``vpp capacity``); absent: not assessed.
    carrier_factors : dict, optional
        Overrides of :data:`scenarios.scorecard.CARRIER_FACTORS` (kgce and kgCO2 per unit).
    green_certificates_reduce_co2 : bool
        Whether certificates and green power offset the grid emission factor (market-based
        accounting); default location-based (False).
    """

    model_config = _STRICT
    value_added_10k_yuan: float | None = Field(None, gt=0)
    carriers: Carriers = Field(default_factory=Carriers)
    green_certificates_mwh: float = Field(0.0, ge=0)
    green_power_purchase_kwh: float = Field(0.0, ge=0)
    roof_potential_kwp: float | None = Field(None, gt=0)
    dr_capability_kw: float | None = Field(None, ge=0)
    carrier_factors: dict[str, tuple[float, float]] = Field(default_factory=dict)
    green_certificates_reduce_co2: bool = False


class Method(BaseModel):
    """How the year is represented.

    ``full-year``: every step of the year at ``resolution_min``. ``representative-days``:
    ``days`` days chosen by k-means clustering of the daily profiles (load, PV yield and price),
    each the real day nearest to its cluster's centre, weighted by its cluster's size
    (scenarios/periods.py).
    """

    model_config = _STRICT
    kind: Literal["full-year", "representative-days"] = "representative-days"
    days: int = Field(12, ge=1, le=366)
    resolution_min: Literal[15, 30, 60] = 60
    seed: int = 0
    mip_rel_gap: float = Field(0.001, gt=0, lt=1)
    time_limit_s: float = Field(600.0, gt=0)


class ScenarioSpec(BaseModel):
    """A planning scenario."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=64)
    name: str
    park: str | dict[str, Any] = Field(description="park file path (relative) or inline park")
    history: str | None = Field(
        None, description="a year of metered load (and PV): default the park's load file"
    )
    year: int | None = Field(None, ge=2000, le=2100)
    technologies: Technologies = Field(default_factory=Technologies)
    economics: Economics = Field(default_factory=Economics)
    targets: Targets = Field(default_factory=Targets)
    annual: AnnualData = Field(default_factory=AnnualData)
    method: Method = Field(default_factory=Method)


def parse_scenario(text: str, *, source: str = "<scenario>", fmt: str = "yaml") -> ScenarioSpec:
    """Validate scenario text; errors name the field."""
    raw: Any = None
    try:
        raw = json.loads(text) if fmt == "json" else yaml.load(text, Loader=ParkYamlLoader)
        if not isinstance(raw, dict):
            raise ParkInputError([InputProblem("<root>", "the scenario is not a mapping")], source)
        return ScenarioSpec.model_validate(raw)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ParkInputError(
            [InputProblem("<syntax>", str(exc).replace("\n", " "))], source
        ) from exc
    except ValidationError as exc:
        problems = problems_from_validation(exc, raw)
        msg = [p for p in problems if p.reason.startswith("unknown key")]
        for p in msg:
            p.reason = "unknown key (not part of the scenario file format)"
        raise ParkInputError(problems, source) from exc


def load_scenario(path: Path | str) -> ScenarioSpec:
    """Read and validate a scenario file."""
    path = Path(path)
    if not path.exists():
        raise ParkInputError([InputProblem("<file>", "file does not exist")], str(path))
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_scenario(path.read_text(encoding="utf-8"), source=str(path), fmt=fmt)


def scenario_park(spec: ScenarioSpec, base_dir: Path) -> tuple[ParkSpec, Path]:
    """The scenario's park spec and the directory its relative paths start from."""
    from models.spec import load_park, validate_park

    if isinstance(spec.park, str):
        path = (base_dir / spec.park).resolve()
        return load_park(path), path.parent
    return validate_park(spec.park, source=f"{spec.id}: park"), base_dir

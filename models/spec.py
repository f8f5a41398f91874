"""The park file: a public contract (YAML or JSON), validated strictly by pydantic v2.

``vpp schema park`` prints its JSON Schema. Unknown keys are errors; units are in the names.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.assets import AssetSpec, handler_for
from models.assets.base import ResolveContext, SubsidyRule
from models.errors import InputProblem, ParkInputError
from models.series import resolve_series
from models.tariff import TariffSpec, builtin_tariff
from models.timegrid import DEFAULT_TIMEZONE, TimeGrid, TimeGridError

# Jiangsu grid emission factor for 2022, MEE & NBS announcement 2024 No. 33 [media]
# (shared/reference/jiangsu-facts.md).
JIANGSU_EMISSION_FACTOR_KG_PER_KWH = 0.5978

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class Location(BaseModel):
    """Site coordinates [°] (Changzhou 31.81 N 119.97 E, Wuxi 31.49 N 120.31 E)."""

    model_config = _STRICT
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Horizon(BaseModel):
    """The optimisation horizon: ``start`` (tz-aware), ``steps``, ``resolution_min``."""

    model_config = _STRICT
    start: dt.datetime | str
    steps: int = Field(96, ge=1)
    resolution_min: Literal[5, 15, 30, 60] = 15


class GridSpec(BaseModel):
    """The park's grid connection and its bill.

    Parameters
    ----------
    import_limit_kw, export_limit_kw : float
        Connection limits [kW] (export 0: no export).
    tariff : str or TariffSpec, optional
        A built-in TOU tariff; exclusive with ``import_price_yuan_per_kwh``.
    import_price_yuan_per_kwh : list, scalar or CSV path, optional
        Energy price per step [yuan/kWh].
    export_price_yuan_per_kwh : list, scalar or CSV path
        Price paid for exported kWh [yuan/kWh] (user-supplied; jiangsu-facts.md).
    demand_charge_yuan_per_kw_month : float
        Demand charge [yuan/kW-month] (Jiangsu value unconfirmed; ~40 is common, assumption).
    month_peak_so_far_kw : float
        The month's maximum demand already recorded [kW]; only kW above it cost extra.
    emission_factor_kg_per_kwh : float
        Grid CO2 intensity [kg/kWh] (default Jiangsu 2022: 0.5978).
    carbon_price_yuan_per_t : float
        Optional internal carbon price on imported energy [yuan/tCO2].
    """

    model_config = _STRICT
    import_limit_kw: float = Field(gt=0)
    export_limit_kw: float = Field(0.0, ge=0)
    tariff: (
        Literal["jiangsu-2025-two-part-1-10kv", "jiangsu-2022-two-part-1-10kv"] | TariffSpec | None
    ) = None
    import_price_yuan_per_kwh: float | list[float] | str | None = None
    export_price_yuan_per_kwh: float | list[float] | str = 0.0
    demand_charge_yuan_per_kw_month: float = Field(0.0, ge=0)
    month_peak_so_far_kw: float = Field(0.0, ge=0)
    emission_factor_kg_per_kwh: float = Field(JIANGSU_EMISSION_FACTOR_KG_PER_KWH, ge=0)
    carbon_price_yuan_per_t: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _one_price(self) -> GridSpec:
        if (self.tariff is None) == (self.import_price_yuan_per_kwh is None):
            raise ValueError("give exactly one of 'tariff' and 'import_price_yuan_per_kwh'")
        return self


class SubsidySpec(BaseModel):
    """Storage discharge reward, Changzhou 常政办发〔2024〕32号 §三(二): ≤ 0.3 yuan/kWh discharged,
    stations ≥ 0.5 MW, from the month after grid connection, at most 2 years."""

    model_config = _STRICT
    rate_yuan_per_kwh: float = Field(0.3, ge=0)
    min_power_kw: float = Field(500.0, ge=0)
    months: int = Field(24, ge=0)


class ForecastSpec(BaseModel):
    """Where a park's forecasts come from when the park file asks for them.

    Parameters
    ----------
    history : str, optional
        Metered history (``timestamp, load_kw[, pv_kw, temperature_c]``), relative to the park
        file; default the file of ``load`` (its ``#column`` dropped).
    load_method : {"gradient-boosting", "similar-day", "auto"}
        Load forecast method (``vpp forecast backtest`` compares them; ``auto`` picks the
        better on a 7-day backtest before each forecast, ~25 s more per park).
    load_quantile : {"p10", "p50", "p90"}
        Which load quantile the schedule uses.
    ev_session_history : dict
        EV asset id → its session history file (``arrival, departure, energy_kwh[,
        max_power_kw]``); those assets take the forecast sessions of the day.
    """

    model_config = _STRICT
    history: str | None = None
    load_method: Literal["gradient-boosting", "similar-day", "auto"] = "gradient-boosting"
    load_quantile: Literal["p10", "p50", "p90"] = "p50"
    ev_session_history: dict[str, str] = Field(default_factory=dict)


class ParkSpec(BaseModel):
    """One industrial park: its grid connection, load and assets."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=64)
    name: str
    timezone: str = DEFAULT_TIMEZONE
    location: Location
    horizon: Horizon
    grid: GridSpec
    load: float | list[float] | str = Field(description="Park load per step [kW]: list or CSV path")
    assets: list[AssetSpec] = Field(default_factory=list)
    subsidy: SubsidySpec = Field(default_factory=SubsidySpec)
    forecast: Literal["auto"] | ForecastSpec | None = Field(
        None,
        description="auto (or a forecast block): load, PV and EV sessions of the day come from "
        "the forecasts (forecasts/) instead of the fixed series",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> ParkSpec:
        seen: set[str] = set()
        for a in self.assets:
            if a.id in seen:
                raise ValueError(f"asset id {a.id!r} is used more than once")
            seen.add(a.id)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone {self.timezone!r} is not a known IANA zone") from exc
        return self


class ParkYamlLoader(yaml.SafeLoader):
    """YAML 1.1 reads ``14:00`` as the integer 840 (base 60); park files mean a time of day."""


ParkYamlLoader.yaml_implicit_resolvers = {
    key: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ParkYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
ParkYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def problems_from_validation(exc: ValidationError, raw: Any) -> list[InputProblem]:
    """Pydantic errors as input problems: field path, reason, and the asset id when the path
    runs through ``assets[i]`` (used by every file format: parks, VPPs, events)."""
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        asset_id = None
        if len(loc) >= 2 and loc[0] == "assets" and isinstance(loc[1], int):
            try:
                asset_id = str(raw["assets"][loc[1]].get("id"))
            except (KeyError, IndexError, TypeError, AttributeError):
                asset_id = None
            # Drop the union tag pydantic inserts after the index.
            if (
                len(loc) >= 3
                and isinstance(loc[2], str)
                and loc[2] in {"pv", "battery", "ev_charging", "shiftable_load", "curtailable_load"}
            ):
                loc = loc[:2] + loc[3:]
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(
            ".[", "["
        )
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the park file format)"
        problems.append(InputProblem(field or "<root>", msg, asset_id))
    return problems


def validate_park(raw: Any, *, source: str = "<park>") -> ParkSpec:
    """Validate an already-parsed park mapping; errors name field and asset."""
    if not isinstance(raw, dict):
        raise ParkInputError([InputProblem("<root>", "the park is not a mapping")], source)
    try:
        return ParkSpec.model_validate(raw)
    except ValidationError as exc:
        raise ParkInputError(problems_from_validation(exc, raw), source) from exc


def parse_park(text: str, *, source: str = "<park>", fmt: str = "yaml") -> ParkSpec:
    """Validate park file text (YAML or JSON) into a :class:`ParkSpec`."""
    try:
        if fmt == "json":
            raw = json.loads(text)
            return ParkSpec.model_validate_json(text)
        raw = yaml.load(text, Loader=ParkYamlLoader)
        return validate_park(raw, source=source)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ParkInputError(
            [InputProblem("<syntax>", str(exc).replace("\n", " "))], source
        ) from exc
    except ValidationError as exc:
        raise ParkInputError(problems_from_validation(exc, raw), source) from exc


def load_park(path: Path | str) -> ParkSpec:
    """Read and validate a park file (``.yaml``/``.yml``/``.json``)."""
    path = Path(path)
    if not path.exists():
        raise ParkInputError([InputProblem("<file>", "file does not exist")], str(path))
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_park(path.read_text(encoding="utf-8"), source=str(path), fmt=fmt)


@dataclass(frozen=True)
class ResolvedPark:
    """A park file turned into numbers on its time grid, ready to build."""

    spec: ParkSpec
    grid: TimeGrid
    load_kw: np.ndarray
    import_price_yuan_per_kwh: np.ndarray
    export_price_yuan_per_kwh: np.ndarray
    asset_data: dict[str, Any]
    source: str

    @property
    def assets(self) -> list[Any]:
        return list(self.spec.assets)


def horizon_grid(spec: ParkSpec, date: dt.date | None = None) -> TimeGrid:
    """The park's time grid; ``date`` replaces it with that day at 96 × 15 min."""
    if date is not None:
        return TimeGrid.day(date, resolution_min=15, timezone=spec.timezone)
    start = spec.horizon.start
    if isinstance(start, str):
        start = dt.datetime.fromisoformat(start)
    if start.tzinfo is None:
        raise TimeGridError("horizon.start must carry a UTC offset (e.g. 2026-07-15T00:00+08:00)")
    start = start.astimezone(ZoneInfo(spec.timezone))
    return TimeGrid(
        start=start, steps=spec.horizon.steps, resolution_min=spec.horizon.resolution_min
    )


def resolve_park(
    spec: ParkSpec,
    *,
    base_dir: Path | str = ".",
    source: str = "<park>",
    date: dt.date | None = None,
) -> ResolvedPark:
    """Turn a validated spec into arrays on its grid; every impossibility is collected and raised.

    Raises
    ------
    ParkInputError
        Lists each problem with its field and asset.
    """
    base = Path(base_dir)
    problems: list[InputProblem] = []
    try:
        grid = horizon_grid(spec, date)
    except (TimeGridError, ValueError) as exc:
        raise ParkInputError([InputProblem("horizon", str(exc))], source) from exc
    if spec.forecast is not None:
        # forecasts/ builds on models/: imported here, where it is needed, to keep models/
        # importable without it
        from forecasts.apply import apply_forecasts

        spec = apply_forecasts(spec, base, grid, source)
    load = resolve_series(spec.load, grid, base, field="load", asset_id=None, problems=problems)
    if spec.grid.tariff is not None:
        tariff = (
            builtin_tariff(spec.grid.tariff)
            if isinstance(spec.grid.tariff, str)
            else spec.grid.tariff
        )
        imp = tariff.import_price(grid)
    else:
        assert spec.grid.import_price_yuan_per_kwh is not None
        imp = resolve_series(
            spec.grid.import_price_yuan_per_kwh,
            grid,
            base,
            field="grid.import_price_yuan_per_kwh",
            asset_id=None,
            problems=problems,
        )
    exp = resolve_series(
        spec.grid.export_price_yuan_per_kwh,
        grid,
        base,
        field="grid.export_price_yuan_per_kwh",
        asset_id=None,
        problems=problems,
    )
    if np.any(load < 0):
        problems.append(InputProblem("load", "park load cannot be negative (PV is an asset)"))
    ctx = ResolveContext(
        grid=grid,
        base_dir=base,
        latitude_deg=spec.location.latitude,
        longitude_deg=spec.location.longitude,
        load_kw=load,
        subsidy=SubsidyRule(
            spec.subsidy.rate_yuan_per_kwh, spec.subsidy.min_power_kw, spec.subsidy.months
        ),
    )
    data = {a.id: handler_for(a).resolve(a, ctx, problems) for a in spec.assets}
    if problems:
        raise ParkInputError(problems, source)
    return ResolvedPark(spec, grid, load, imp, exp, data, source)


def park_json_schema() -> dict[str, Any]:
    """The JSON Schema of the park file."""
    return ParkSpec.model_json_schema()

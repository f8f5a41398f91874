"""The VPP file: the parks a virtual power plant aggregates and its programme's rules.

Every default below comes from ``shared/reference/`` and stays configurable; where the Jiangsu
or Wuxi value is unconfirmed the fact sheet's comparable rule is used and named.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.errors import InputProblem, ParkInputError
from models.spec import (
    ParkSpec,
    ResolvedPark,
    load_park,
    problems_from_validation,
    resolve_park,
    validate_park,
)

_STRICT = ConfigDict(extra="forbid")


MAX_BID_SEGMENTS = 10  # Jiangsu spot market rules V1.0 (jiangsu-facts.md "Virtual power plants")


def bid_price_problem(prices: list[float]) -> str | None:
    """What is wrong with a list of bid price levels, or None."""
    if not prices or len(prices) > MAX_BID_SEGMENTS:
        return f"bid prices: 1 to {MAX_BID_SEGMENTS} prices, got {len(prices)}"
    if any(p <= 0 for p in prices) or any(b <= a for a, b in itertools.pairwise(prices)):
        return f"bid prices must be positive and strictly increasing: {prices}"
    return None


class Programme(BaseModel):
    """Programme parameters.

    Parameters
    ----------
    registration_min_kw : float
        Smallest adjustable capacity a VPP may register [kW]: ≥ 1 MW per trading unit
        (Guangdong; the Jiangsu/Wuxi value is unconfirmed, jiangsu-facts.md "Virtual power
        plants").
    registration_min_duration_h : float
        Response duration the registration requires [h] (≥ 1 h, same source).
    capacity_target_kw : float
        Adjustable capacity target of Wuxi's park VPPs [kW]: 200 MW by end 2027
        (policy-targets.md T1).
    dr_target_daily_use_frac : float
        Park DR capability ≥ 8 % of daily average use, near term (T2), read as kW ≥ 0.08 ×
        (daily kWh ÷ 24 h).
    dr_target_peak_frac : float
        Park DR capability ≥ 10 % of maximum load, long term (T2).
    storage_target_daily_use_frac_near, storage_target_daily_use_frac_long : float
        Park storage energy ≥ 8 % / 10 % of daily average use [kWh per kWh] (T3).
    peak_shaving_price_yuan_per_kw : float
        Real-time response with control > 2 h: 15 yuan/kW (Jiangsu 2018 revision).
    valley_filling_price_yuan_per_kw : float
        Agreed valley-filling response in the valley period: 5 yuan/kW (Jiangsu 2018).
    settlement_full_pay_band : tuple
        Delivered ÷ cleared within this band is paid in full (0.9–1.1, Sichuan example).
    over_delivery_pay_frac : float
        Pay fraction above the band (50 %, same source).
    shortfall_penalty_price_factor : float
        Below the band, a penalty of this × the price per kW short (1.1, same source).
    bid_prices_yuan_per_kwh : list of float
        The price levels of day-ahead offers [yuan/kWh], at most 10 (Jiangsu spot market rules
        V1.0: ≤ 10 non-decreasing price–quantity segments). The levels themselves are ours: no
        Jiangsu DR energy price cap is confirmed (jiangsu-facts.md); set the market's.
    """

    model_config = _STRICT
    registration_min_kw: float = Field(1000.0, ge=0)
    registration_min_duration_h: float = Field(1.0, gt=0)
    capacity_target_kw: float = Field(200_000.0, ge=0)
    dr_target_daily_use_frac: float = Field(0.08, ge=0, le=1)
    dr_target_peak_frac: float = Field(0.10, ge=0, le=1)
    storage_target_daily_use_frac_near: float = Field(0.08, ge=0, le=1)
    storage_target_daily_use_frac_long: float = Field(0.10, ge=0, le=1)
    peak_shaving_price_yuan_per_kw: float = Field(15.0, ge=0)
    valley_filling_price_yuan_per_kw: float = Field(5.0, ge=0)
    settlement_full_pay_band: tuple[float, float] = (0.9, 1.1)
    over_delivery_pay_frac: float = Field(0.5, ge=0, le=1)
    shortfall_penalty_price_factor: float = Field(1.1, ge=0)
    bid_prices_yuan_per_kwh: list[float] = Field(
        default_factory=lambda: [0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0],
    )

    @field_validator("bid_prices_yuan_per_kwh")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        problem = bid_price_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class VppSpec(BaseModel):
    """A VPP: ``parks`` are park-file paths (relative to the VPP file) or inline park specs."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=64)
    name: str
    parks: list[str | dict[str, Any]] = Field(min_length=1)
    programme: Programme = Field(default_factory=Programme)


def load_vpp(path: Path | str) -> tuple[VppSpec, list[tuple[ParkSpec, Path]]]:
    """Read a VPP file and its parks (each with the folder its relative paths start from).

    Raises
    ------
    ParkInputError
        The VPP file or a park is invalid; problems name the field and the park.
    """
    p = Path(path)
    if not p.exists():
        raise ParkInputError([InputProblem("<file>", "file does not exist")], str(p))
    raw: object = None
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        spec = VppSpec.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ParkInputError([InputProblem("<syntax>", str(exc))], str(p)) from exc
    except ValidationError as exc:
        raise ParkInputError(problems_from_validation(exc, raw), str(p)) from exc
    parks: list[tuple[ParkSpec, Path]] = []
    for i, item in enumerate(spec.parks):
        if isinstance(item, str):
            park_path = (p.parent / item).resolve()
            parks.append((load_park(park_path), park_path.parent))
        else:
            parks.append((validate_park(item, source=f"{p}:parks[{i}]"), p.parent))
    ids = [s.id for s, _ in parks]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ParkInputError([InputProblem("parks", f"park ids used twice: {dup}")], str(p))
    return spec, parks


def resolve_parks(parks: list[tuple[ParkSpec, Path]], date: dt.date | None) -> list[ResolvedPark]:
    """Each park on ``date`` (96 × 15 min), as its own file would resolve."""
    return [resolve_park(s, base_dir=base, source=s.id, date=date) for s, base in parks]

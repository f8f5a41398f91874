"""Time-of-use tariffs: built-in Jiangsu tariffs and the per-step price they give.

Source for periods and floats: Jiangsu DRC notice 苏发改价格发〔2025〕426号 (2025-04-30),
``shared/reference/jiangsu-facts.md`` [official]. Two-part users: peak = +80 % (×1.8), valley =
−65 % (×0.35) on the purchase-price component; transmission/distribution, funds and line loss
are assumed additive and not floated (unconfirmed, see the fact sheet).

The default price levels are an assumption calibrated on public samples [lead]: a purchase
component of 0.5912 yuan/kWh and an unfloated part of 0.0645 yuan/kWh give a flat price of 0.6557
(Jan-2023 agency-purchase sample), a valley price of 0.2714 (early-2025 two-part 1–10 kV sample)
and a peak price of 1.1287 (Jan-2023 sample peak: 1.1275). Every number is a field of
:class:`TariffSpec` and can be overridden in the park file.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.timegrid import TimeGrid

Period = Literal["valley", "flat", "peak", "critical_peak", "deep_valley"]
# (start_hour, end_hour, period); end may be < start for windows over midnight.
Window = tuple[float, float, Period]

# 苏发改价格发〔2025〕426号: summer/winter = Jun–Aug and Dec–Feb.
_SUMMER_WINTER_MONTHS = frozenset({6, 7, 8, 12, 1, 2})
_JIANGSU_2025_SUMMER_WINTER: tuple[Window, ...] = (
    (0, 6, "valley"),
    (6, 11, "flat"),
    (11, 13, "valley"),
    (13, 14, "flat"),
    (14, 22, "peak"),
    (22, 24, "flat"),
)
_JIANGSU_2025_SPRING_AUTUMN: tuple[Window, ...] = (
    (0, 2, "flat"),
    (2, 6, "valley"),
    (6, 10, "flat"),
    (10, 14, "valley"),
    (14, 15, "flat"),
    (15, 22, "peak"),
    (22, 24, "flat"),
)
# 2022 rules (for back-tests): peak 08–11 and 17–22, flat 11–17 and 22–24, valley 00–08.
_JIANGSU_2022_ALL_YEAR: tuple[Window, ...] = (
    (0, 8, "valley"),
    (8, 11, "peak"),
    (11, 17, "flat"),
    (17, 22, "peak"),
    (22, 24, "flat"),
)

BUILTIN_TARIFFS = ("jiangsu-2025-two-part-1-10kv", "jiangsu-2022-two-part-1-10kv")


class TariffError(ValueError):
    """A tariff that is unknown or inconsistent."""


class TariffSpec(BaseModel):
    """A built-in TOU tariff with overridable levels.

    Parameters
    ----------
    name : str
        One of :data:`BUILTIN_TARIFFS`.
    purchase_price_yuan_per_kwh : float
        The floated purchase-price component at the flat period [yuan/kWh].
    non_floated_yuan_per_kwh : float
        Transmission/distribution, funds and line loss, added unfloated [yuan/kWh].
    peak_multiplier, valley_multiplier : float
        Floats on the purchase component [-] (two-part: 1.8 and 0.35).
    critical_peak_multiplier, deep_valley_multiplier : float
        Optional 2022/2023-rule periods: ×1.2 on the peak, ×0.8 on the valley [-].
    critical_peak_hours, deep_valley_hours : list of [start_h, end_h]
        Local-hour windows where those periods apply (empty: none; unconfirmed for 2025).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Literal["jiangsu-2025-two-part-1-10kv", "jiangsu-2022-two-part-1-10kv"]
    purchase_price_yuan_per_kwh: float = Field(0.5912, ge=0)
    non_floated_yuan_per_kwh: float = Field(0.0645, ge=0)
    peak_multiplier: float = Field(1.8, gt=0)
    valley_multiplier: float = Field(0.35, gt=0)
    critical_peak_multiplier: float = Field(1.2, gt=0)
    deep_valley_multiplier: float = Field(0.8, gt=0)
    critical_peak_hours: list[tuple[float, float]] = Field(default_factory=list)
    deep_valley_hours: list[tuple[float, float]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_hours(self) -> TariffSpec:
        for field in ("critical_peak_hours", "deep_valley_hours"):
            for start, end in getattr(self, field):
                if not (0 <= start < 24 and 0 < end <= 24 and start < end):
                    raise ValueError(
                        f"{field}: window [{start}, {end}] must satisfy 0 ≤ start < end ≤ 24"
                    )
        return self

    def windows(self, month: int) -> tuple[Window, ...]:
        """The period windows in force in ``month`` (1–12)."""
        if self.name == "jiangsu-2022-two-part-1-10kv":
            return _JIANGSU_2022_ALL_YEAR
        if month in _SUMMER_WINTER_MONTHS:
            return _JIANGSU_2025_SUMMER_WINTER
        return _JIANGSU_2025_SPRING_AUTUMN

    def periods(self, grid: TimeGrid) -> list[Period]:
        """The tariff period of each step (at the step's start)."""
        out: list[Period] = []
        for ts, hour in zip(grid.index, grid.hours, strict=True):
            period: Period = "flat"
            for start, end, name in self.windows(ts.month):
                if start <= hour < end:
                    period = name
                    break
            if period == "peak" and any(s <= hour < e for s, e in self.critical_peak_hours):
                period = "critical_peak"
            if period == "valley" and any(s <= hour < e for s, e in self.deep_valley_hours):
                period = "deep_valley"
            out.append(period)
        return out

    def import_price(self, grid: TimeGrid) -> np.ndarray:
        """Import price per step [yuan/kWh]."""
        base = self.purchase_price_yuan_per_kwh
        mult = {
            "flat": 1.0,
            "peak": self.peak_multiplier,
            "valley": self.valley_multiplier,
            "critical_peak": self.peak_multiplier * self.critical_peak_multiplier,
            "deep_valley": self.valley_multiplier * self.deep_valley_multiplier,
        }
        return np.array(
            [base * mult[p] + self.non_floated_yuan_per_kwh for p in self.periods(grid)]
        )


def builtin_tariff(name: str) -> TariffSpec:
    """The built-in tariff ``name`` with its default levels."""
    if name not in BUILTIN_TARIFFS:
        raise TariffError(
            f"unknown tariff {name!r}; built-in tariffs: {', '.join(BUILTIN_TARIFFS)}"
        )
    return TariffSpec.model_validate({"name": name})

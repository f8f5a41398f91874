"""What every asset type provides, and the typed handler the registry holds.

An asset type is one module with:

- a pydantic spec (its part of the park file),
- ``resolve``: validate the spec against the horizon and turn it into numeric data,
- ``build``: add its variable groups and constraint families to its own block of the park's
  :class:`models.linear.LinearModel` (vectorised rows, one call per family) and return the
  terms it contributes to the park (net power into the park bus, cost components); it never
  touches the park power balance,
- ``extract``: its schedule columns from the solved values of its variable groups,
- ``costs``: its cost components recomputed from those columns (independently of pyomo),
- ``verify``: physical checks of those columns,
- ``net_range``: the smallest and largest net power it can have in each step,
- ``restrict``: the asset from "now" on, given its measured state (intraday re-dispatch).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict, Field

from models.errors import InputProblem
from models.linear import BlockBuilder, Cost, Terms
from models.timegrid import TimeGrid

# '.' separates asset id and quantity in schedule columns, so ids may not contain it.
ASSET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"

Columns = dict[str, np.ndarray]
# An asset's measured state at "now" (intraday): its quantities by name, units in the names.
MeasuredState = Mapping[str, Any]
Timestamp = str | dt.datetime


class AssetSpecBase(BaseModel):
    """Fields common to every asset."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(pattern=ASSET_ID_PATTERN, max_length=64)
    name: str | None = None


@dataclass(frozen=True)
class SubsidyRule:
    """The storage discharge reward (Changzhou 常政办发〔2024〕32号 §三(二)).

    Parameters
    ----------
    rate_yuan_per_kwh : float
        Reward per kWh discharged [yuan/kWh].
    min_power_kw : float
        Minimum station power to qualify [kW].
    months : int
        Number of months the reward is paid, starting the month after grid connection.
    """

    rate_yuan_per_kwh: float
    min_power_kw: float
    months: int


@dataclass(frozen=True)
class ResolveContext:
    """Everything an asset needs to turn its spec into numbers."""

    grid: TimeGrid
    base_dir: Path
    latitude_deg: float
    longitude_deg: float
    load_kw: np.ndarray
    subsidy: SubsidyRule


@dataclass
class AssetResult:
    """An asset's part of a solved schedule.

    Parameters
    ----------
    columns : dict of quantity name to array
        One value per step, units in the name (``charge_kw``, ``soc_kwh``).
    net_kw : numpy.ndarray
        Net power into the park bus per step [kW], as in the power balance.
    records : list of dict
        Per-item detail that is not a time series (EV sessions, job starts).
    """

    columns: Columns
    net_kw: np.ndarray
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AssetTerms:
    """What an asset block contributes to the park model.

    Parameters
    ----------
    net_kw : Terms
        Net power into the park bus per step [kW] (generation and discharge positive,
        consumption negative); element ``t`` is step ``t``.
    costs_yuan : mapping of category to Cost
        Cost components over the horizon [yuan]; negative for rewards.
    """

    net_kw: Terms
    costs_yuan: Mapping[str, Cost]


# The solved values of an asset's variable groups, by group name (models.linear.LinearModel).
Solved = Mapping[str, np.ndarray]


S = TypeVar("S", bound=AssetSpecBase)
D = TypeVar("D")


@dataclass(frozen=True)
class AssetHandler(Generic[S, D]):
    """The registry entry of one asset type."""

    type_name: str
    spec_class: type[S]
    resolve: Callable[[S, ResolveContext, list[InputProblem]], D]
    build: Callable[[BlockBuilder, S, D, TimeGrid], AssetTerms]
    extract: Callable[[Solved, S, D, TimeGrid], AssetResult]
    costs: Callable[[AssetResult, S, D, TimeGrid], dict[str, float]]
    verify: Callable[[AssetResult, S, D, TimeGrid, bool], list[str]]
    # Smallest and largest net power the asset can have in each step [kW]: the park uses them
    # for implied bounds on grid flows (and the VPP layer for adjustable capacity).
    net_range: Callable[[S, D, TimeGrid], tuple[np.ndarray, np.ndarray]]
    # Intraday: the asset from step k on, with its measured state (models/intraday.py);
    # None when nothing of it is left to schedule.
    restrict: Callable[[S, D, TimeGrid, int, MeasuredState, list[InputProblem]], tuple[S, D] | None]
    # Intraday: what the asset's meters would read at the start of step k if a schedule ran
    # (the state the next run starts from, when nothing was measured).
    measured_at: Callable[[AssetResult, S, D, TimeGrid, int], dict[str, Any]]


def family(eq: str, name: str) -> str:
    """The ``doc`` tag of a constraint family: its equation number in docs/model.md and name."""
    return f"{eq}|{name}"


def parse_family(doc: str | None) -> tuple[str, str]:
    """Inverse of :func:`family`; ``("?", doc)`` for untagged components."""
    if doc and "|" in doc:
        eq, name = doc.split("|", 1)
        return eq, name
    return "?", doc or "untagged"


def values(component: Any, index: Any) -> np.ndarray:
    """Values of an indexed variable or expression over ``index``, as floats."""
    return np.array([pyo.value(component[i]) for i in index], dtype=float)


def to_time(text: Timestamp, grid: TimeGrid) -> dt.datetime:
    """A spec timestamp (ISO with offset, or HH:MM on the first day) as an aware datetime."""
    if isinstance(text, dt.datetime):
        if text.tzinfo is None:
            raise ValueError(f"timestamp {text.isoformat()} must carry a UTC offset (e.g. +08:00)")
        return text.astimezone(grid.tz)
    return grid.parse_time(text)


TOL = 1e-5

"""The DR event file (a public contract: the grid company's events come in this shape)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.errors import InputProblem, ParkInputError
from models.spec import problems_from_validation
from models.timegrid import TimeGrid


class DrEvent(BaseModel):
    """A demand-response event.

    Parameters
    ----------
    id : str
        The grid company's event id.
    type : {"peak_shaving", "valley_filling"}
        Reduce import (peak shaving) or increase it (valley filling).
    notice : {"day_ahead", "real_time"}
    start, end : datetime
        The window ``[start, end)``, tz-aware.
    requested_kw : float or list of float
        Requested change of the VPP's net import [kW], per step of the window or one value.
    price_yuan_per_kwh : float
        Paid per kWh delivered (up to the request).
    price_yuan_per_kw : float
        Paid per kW of average delivered response (capacity price).
    shortfall_penalty_yuan_per_kwh : float
        Charged per kWh not delivered.
    """

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128)
    type: Literal["peak_shaving", "valley_filling"]
    notice: Literal["day_ahead", "real_time"] = "day_ahead"
    start: dt.datetime
    end: dt.datetime
    requested_kw: float | list[float]
    price_yuan_per_kwh: float = Field(0.0, ge=0)
    price_yuan_per_kw: float = Field(0.0, ge=0)
    shortfall_penalty_yuan_per_kwh: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _window(self) -> DrEvent:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must carry a UTC offset (e.g. +08:00)")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        values = self.requested_kw if isinstance(self.requested_kw, list) else [self.requested_kw]
        if any(v < 0 for v in values):
            raise ValueError("requested_kw must be ≥ 0 (the type says the direction)")
        return self

    def steps_on(self, grid: TimeGrid) -> list[int]:
        """The grid steps of the window.

        Raises
        ------
        ValueError
            The window is not on the grid or not inside the horizon.
        """
        first = grid.step_of(self.start)
        last = grid.step_of(self.end)
        on_grid = first == grid.step_of(self.start, rounding="ceil") and last == grid.step_of(
            self.end, rounding="ceil"
        )
        if not on_grid or first < 0 or last > grid.steps or last <= first:
            raise ValueError(
                f"event {self.id}: window {self.start.isoformat()}–{self.end.isoformat()} is not "
                f"on the {grid.resolution_min}-minute grid inside the horizon"
            )
        return list(range(first, last))

    def requested_on(self, grid: TimeGrid) -> np.ndarray:
        steps = self.steps_on(grid)
        if isinstance(self.requested_kw, list):
            if len(self.requested_kw) != len(steps):
                raise ValueError(
                    f"event {self.id}: requested_kw has {len(self.requested_kw)} values for "
                    f"{len(steps)} steps"
                )
            return np.asarray(self.requested_kw, dtype=float)
        return np.full(len(steps), float(self.requested_kw))


def load_event(path: Path | str) -> DrEvent:
    """Read an event file (YAML or JSON).

    Raises
    ------
    ParkInputError
        Missing file, syntax, or a field that breaks the contract (named).
    """
    p = Path(path)
    if not p.exists():
        raise ParkInputError([InputProblem("<file>", "file does not exist")], str(p))
    raw: object = None
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        return DrEvent.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ParkInputError([InputProblem("<syntax>", str(exc))], str(p)) from exc
    except ValidationError as exc:
        raise ParkInputError(problems_from_validation(exc, raw), str(p)) from exc

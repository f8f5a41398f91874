"""Asset types and their explicit, typed registry.

Adding an asset type means: one module with spec, resolve, build, extract, costs and verify; one
line in :data:`REGISTRY`; one member in :data:`AssetSpec`; its equations in docs/model.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from models.assets import battery, curtailable, ev, pv, shiftable
from models.assets.base import AssetHandler, AssetSpecBase

AssetSpec = Annotated[
    pv.PvSpec
    | battery.BatterySpec
    | ev.EvChargingSpec
    | shiftable.ShiftableLoadSpec
    | curtailable.CurtailableLoadSpec,
    Field(discriminator="type"),
]

REGISTRY: dict[str, AssetHandler[Any, Any]] = {
    "pv": pv.HANDLER,
    "battery": battery.HANDLER,
    "ev_charging": ev.HANDLER,
    "shiftable_load": shiftable.HANDLER,
    "curtailable_load": curtailable.HANDLER,
}


def handler_for(spec: AssetSpecBase) -> AssetHandler[Any, Any]:
    """The registry entry for a spec (its ``type`` field)."""
    return REGISTRY[spec.type]  # type: ignore[attr-defined]

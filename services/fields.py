"""Field types shared by the request bodies of the service."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator


def _refuse_bool(v: Any) -> Any:
    # JSON true would otherwise be read as the number 1 (bool is an int in Python)
    if isinstance(v, bool):
        raise ValueError("a boolean is not a number")
    return v


Amount = Annotated[Decimal, BeforeValidator(_refuse_bool)]
"""A decimal quantity (kWh, kW, yuan) that refuses JSON booleans."""

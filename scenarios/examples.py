"""The bundled example parks (``scenarios/examples/*.yaml``) and the days ``make run`` schedules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

# A summer and a winter weekday of 2026 (the bundled load series cover 2026).
EXAMPLE_DAYS: dict[str, dt.date] = {
    "summer": dt.date(2026, 7, 15),
    "winter": dt.date(2026, 12, 16),
}


def example_parks() -> list[Path]:
    """Paths of the bundled park files, sorted."""
    return sorted(EXAMPLES_DIR.glob("*.yaml"))

"""Command-line options shared by the VPP commands that run park solves in parallel."""

from __future__ import annotations

from typing import Annotated

import typer

SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="Where park solves run: processes (default), serial, dask-local or a Dask "
        "address tcp://host:port (or env VPP_SCHEDULER)."
    ),
]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Local processes (default: cores).")]

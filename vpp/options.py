"""Command-line options and progress display shared by the VPP commands that run park solves
in parallel."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="Where park solves run: processes (default), serial, dask-local or a Dask "
        "address tcp://host:port (or env VPP_SCHEDULER)."
    ),
]
WorkersOpt = Annotated[int | None, typer.Option(min=1, help="Local processes (default: cores).")]


def park_progress(console: Console) -> Progress:
    """A transient bar per stage: "stage ━━━━ 12/20 parks 0:00:31"."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} parks"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )

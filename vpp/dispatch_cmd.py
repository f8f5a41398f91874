"""``vpp dispatch VPP.yaml --event EVENT.yaml --out DIR``: allocate a DR event across the parks.

Writes ``allocation.json`` (per park kW per step, expected delivery, shortfall, cost, revenue,
and how the method went), ``<park>-target.csv`` (baseline and target net import) and
``<park>/schedule.csv`` (the park's full new schedule, asset by asset).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from models.errors import ParkVppError
from models.solve import SolverOptions
from vpp.allocation import Allocation, allocate_monolithic
from vpp.decomposition import allocate_decomposed
from vpp.event import load_event
from vpp.options import SchedulerOpt, WorkersOpt, park_progress
from vpp.spec import load_vpp, resolve_parks

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)

# Up to this many parks, ``auto`` solves the monolithic MILP (the exact reference); above it,
# the decomposition (a monolithic model of 20 large parks does not close in minutes).
MONOLITHIC_MAX_PARKS = 3


class Method(StrEnum):
    auto = "auto"
    monolithic = "monolithic"
    decomposition = "decomposition"


def write_allocation(alloc: Allocation, vpp_id: str, out: Path) -> dict[str, object]:
    """Write allocation.json, one ``<park>-target.csv`` and one ``<park>/schedule.csv`` per
    park; returns the allocation document."""
    if alloc.grid is None:
        raise ValueError("allocation carries no time grid")
    grid = alloc.grid
    out.mkdir(parents=True, exist_ok=True)
    doc = alloc.as_dict(grid.dt_h)
    doc["vpp"] = vpp_id
    (out / "allocation.json").write_text(json.dumps(doc, indent=2) + "\n")
    for p in alloc.parks:
        sched = alloc.schedules.get(p.park_id)
        pd.DataFrame(
            {
                "timestamp": [t.isoformat() for t in grid.index],
                "baseline_net_import_kw": p.baseline_import_kw.round(3),
                "target_net_import_kw": p.target_import_kw.round(3),
            }
        ).to_csv(out / f"{p.park_id}-target.csv", index=False)
        if sched is not None:
            (out / p.park_id).mkdir(exist_ok=True)
            sched.frame.to_csv(out / p.park_id / "schedule.csv", index=False, float_format="%.6g")
    return doc


def dispatch(
    vpp_file: Annotated[Path, typer.Argument(help="VPP file (YAML).")],
    event_file: Annotated[Path, typer.Option("--event", help="DR event file (YAML/JSON).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/dispatch"),
    method: Annotated[
        Method,
        typer.Option(
            help=f"monolithic MILP, decomposition, or auto (monolithic up to "
            f"{MONOLITHIC_MAX_PARKS} parks)."
        ),
    ] = Method.auto,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    time_limit_s: Annotated[float, typer.Option("--time-limit", min=1.0)] = 300.0,
    mip_gap: Annotated[float, typer.Option("--mip-gap", min=0.0, max=0.5)] = 1e-3,
    as_json: Annotated[bool, typer.Option("--json", help="Print allocation.json.")] = False,
) -> None:
    """Allocate a DR event across the VPP's parks at least total cost (re-dispatch cost −
    revenue + shortfall penalty) and write each park's target and new schedule."""
    options = SolverOptions(time_limit_s=time_limit_s, mip_rel_gap=mip_gap)
    try:
        spec, parks = load_vpp(vpp_file)
        event = load_event(event_file)
        resolved = resolve_parks(parks, event.start.date())
        chosen = method
        if chosen is Method.auto:
            chosen = (
                Method.monolithic if len(resolved) <= MONOLITHIC_MAX_PARKS else Method.decomposition
            )
        if chosen is Method.monolithic:
            with console.status(f"Allocating {event.id}: one MILP over {len(resolved)} parks"):
                alloc = allocate_monolithic(resolved, event, options)
        else:
            with park_progress(err_console) as bar:
                tasks: dict[str, TaskID] = {}

                def _progress(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total)
                    bar.update(tasks[stage], completed=done)

                alloc = allocate_decomposed(
                    resolved,
                    event,
                    options,
                    scheduler=scheduler,
                    workers=workers,
                    progress=_progress,
                )
    except (ParkVppError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    doc = write_allocation(alloc, spec.id, out)
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    grid = resolved[0].grid
    table = Table(
        title=f"event {event.id} ({event.type}) on {spec.name}: {alloc.method}, {alloc.status}"
    )
    table.add_column("step")
    for p in alloc.parks:
        table.add_column(p.park_id[:18], justify="right")
    table.add_column("requested", justify="right")
    table.add_column("shortfall", justify="right")
    for k, t in enumerate(alloc.steps):
        table.add_row(
            grid.index[t].strftime("%H:%M"),
            *[f"{p.delivered_kw[k]:,.0f}" for p in alloc.parks],
            f"{alloc.requested_kw[k]:,.0f}",
            f"{alloc.shortfall_kw[k]:,.0f}",
        )
    console.print(table)
    gap = "" if alloc.gap is None else f", proven gap {alloc.gap:.3%}"
    console.print(
        f"re-dispatch cost {doc['redispatch_cost_yuan']:,.2f} yuan, revenue "
        f"{doc['revenue_yuan']:,.2f} yuan, penalty {doc['penalty_yuan']:,.2f} yuan{gap}; "
        f"{alloc.seconds:.1f} s; wrote {out}/allocation.json, <park>-target.csv and "
        "<park>/schedule.csv",
        highlight=False,
    )
    for note in alloc.notes:
        console.print(f"[yellow]note:[/yellow] {note}")

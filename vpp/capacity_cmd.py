"""``vpp capacity VPP.yaml --date D --duration-h H --out DIR``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.errors import ParkVppError
from vpp.capacity import CAPACITY_MIP_REL_GAP, capacity_report, write_report
from vpp.spec import load_vpp, resolve_parks

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def capacity(
    vpp_file: Annotated[Path, typer.Argument(help="VPP file (YAML).")],
    date: Annotated[str, typer.Option("--date", help="Day, YYYY-MM-DD.")],
    duration_h: Annotated[
        float, typer.Option("--duration-h", min=0.25, help="Response duration to sustain [h].")
    ] = 2.0,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/capacity"),
    workers: Annotated[int, typer.Option(min=1, help="Parallel park processes.")] = 2,
    gap: Annotated[
        float,
        typer.Option(
            "--gap",
            min=0.0,
            max=0.5,
            help="Relative MIP gap of each window's answer: its level is deliverable and "
            "within this of the proven largest (reported as *_bound_kw).",
        ),
    ] = CAPACITY_MIP_REL_GAP,
    as_json: Annotated[bool, typer.Option("--json", help="Print capacity.json.")] = False,
) -> None:
    """Proven adjustable capacity of a VPP: per park and hour, the import reduction (and
    increase) it sustains for the duration, against the programme's targets."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise typer.BadParameter(f"--date {date!r} is not YYYY-MM-DD") from exc
    try:
        spec, parks = load_vpp(vpp_file)
        report = capacity_report(
            resolve_parks(parks, day), duration_h, spec.programme, workers, mip_rel_gap=gap
        )
    except (ParkVppError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    paths = write_report(report, out)
    doc = report.as_dict()
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    table = Table(title=f"{spec.name}: sustained {duration_h:g} h response on {day} [kW]")
    table.add_column("hour")
    for p in report.parks:
        table.add_column(p.park_id[:18], justify="right")
    table.add_column("VPP down", justify="right")
    table.add_column("VPP up", justify="right")
    down, up = report.total_kw("down"), report.total_kw("up")
    for i, h in enumerate(report.hours):
        table.add_row(
            f"{h:02d}:00",
            *[f"{p.down_kw[i]:,.0f}" for p in report.parks],
            f"{down[i]:,.0f}",
            f"{up[i]:,.0f}",
        )
    console.print(table)
    t = doc["targets"]
    console.print(
        f"best window {t['vpp_best_window_hour']:02d}:00: {t['vpp_best_window_kw']:,.0f} kW = "
        f"{t['capacity_target_share']:.1%} of the {t['capacity_target_kw'] / 1000:,.0f} MW target; "
        f"registrable: {t['registrable']}",
        highlight=False,
    )
    for pid, v in t["parks"].items():
        console.print(
            f"{pid}: DR {v['dr_capability_kw']:,.0f} kW vs {v['dr_target_near_kw']:,.0f} (near, "
            f"{'met' if v['dr_near_met'] else 'NOT met'}) / {v['dr_target_long_kw']:,.0f} (long, "
            f"{'met' if v['dr_long_met'] else 'NOT met'}); storage {v['storage_kwh']:,.0f} kWh vs "
            f"{v['storage_target_near_kwh']:,.0f} (near, {'met' if v['storage_near_met'] else 'NOT met'})",
            highlight=False,
        )
    for n in report.notes:
        console.print(f"[yellow]note:[/yellow] {n}")
    console.print(f"{report.seconds:.1f} s; wrote " + ", ".join(str(p) for p in paths))

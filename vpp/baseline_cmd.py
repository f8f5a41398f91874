"""``vpp baseline``: the DR baseline of one event from a metered history."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from forecasts.baselines import RULES, Baseline, compute_baseline, rule
from forecasts.history import read_history
from models.errors import ParkVppError

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)
EXIT_INPUT = 2


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} {text!r} is not YYYY-MM-DD") from exc


def _report(b: Baseline, metered: np.ndarray) -> dict[str, Any]:
    out = b.as_dict()
    if np.isfinite(metered).all():
        out["metered_kw"] = [round(float(x), 6) for x in metered]
        out["delivered_kw"] = round(b.delivered_kw(metered), 6)
    else:
        out["metered_kw"] = None
        out["delivered_kw"] = None  # the history does not cover the whole event
    return out


def baseline(
    history: Annotated[
        Path, typer.Argument(help="Metered history CSV/Parquet: timestamp, load_kw.")
    ],
    event_start: Annotated[
        str, typer.Option("--event-start", help="Event start, ISO (naive = Asia/Shanghai).")
    ],
    event_end: Annotated[str, typer.Option("--event-end", help="Event end (exclusive), ISO.")],
    rule_name: Annotated[
        str, typer.Option("--rule", help=f"One of: {', '.join(RULES)}.")
    ] = "jiangsu-agreed",
    invitation_day: Annotated[
        str | None,
        typer.Option("--invitation-day", help="YYYY-MM-DD; default the day before the event."),
    ] = None,
    event_day: Annotated[
        list[str] | None,
        typer.Option("--event-day", help="An earlier event day to exclude (repeatable)."),
    ] = None,
    abnormal_day: Annotated[
        list[str] | None,
        typer.Option("--abnormal-day", help="A day flagged abnormal, excluded (repeatable)."),
    ] = None,
    days: Annotated[int | None, typer.Option(help="Days averaged (N).")] = None,
    candidates: Annotated[int | None, typer.Option(help="Most recent days looked at (M).")] = None,
    trim: Annotated[int | None, typer.Option(help="Highest and lowest days dropped.")] = None,
    adjustment: Annotated[
        str | None, typer.Option(help="Same-day adjustment: none, additive, multiplicative.")
    ] = None,
    resolution_min: Annotated[int, typer.Option(help="History step [min].")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Baseline kW per step of a DR event by a named rule, the days it used, and the delivered
    reduction when the history covers the event."""
    overrides: dict[str, object] = {
        k: v
        for k, v in {
            "days": days,
            "candidates": candidates,
            "trim": trim,
            "adjustment": adjustment,
        }.items()
        if v is not None
    }
    try:
        r = rule(rule_name, **overrides)
        hist = read_history(history, resolution_min=resolution_min)
        b = compute_baseline(
            hist,
            r,
            event_start,
            event_end,
            invitation_day=_date(invitation_day, "--invitation-day") if invitation_day else None,
            event_days=[_date(d, "--event-day") for d in event_day or []],
            abnormal_days=[_date(d, "--abnormal-day") for d in abnormal_day or []],
        )
    except (ParkVppError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_INPUT) from exc
    metered = hist.frame["load_kw"].reindex(b.timestamps).to_numpy(dtype=float)
    out = _report(b, metered)
    if as_json:
        print(json.dumps(out, indent=2))
        return
    table = Table(title=f"baseline {r.name} ({r.source})")
    table.add_column("step")
    table.add_column("baseline kW", justify="right")
    table.add_column("metered kW", justify="right")
    for i, t in enumerate(b.timestamps):
        m = "–" if not np.isfinite(metered[i]) else f"{metered[i]:,.1f}"
        table.add_row(t.strftime("%Y-%m-%d %H:%M"), f"{b.baseline_kw[i]:,.1f}", m)
    console.print(table)
    if b.days_used:
        console.print("days used: " + ", ".join(d.isoformat() for d in b.days_used))
    if b.skipped:
        console.print(
            "skipped: " + "; ".join(f"{s.day} ({s.reason})" for s in b.skipped), highlight=False
        )
    if out["delivered_kw"] is not None:
        console.print(f"delivered reduction: {out['delivered_kw']:,.1f} kW")

"""``vpp bid VPP.yaml --date D --out DIR``: the day-ahead offers of a VPP.

Writes ``bids.json`` and ``bids.csv`` (format in README.md, "Day-ahead bids") and ``bids.png``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from models.errors import ParkVppError
from vpp.bids import (
    BID_QUESTION_BRANCH_AND_BOUND,
    BID_QUESTION_STALL_S,
    BID_QUESTION_TIME_LIMIT_S,
    DIRECTIONS,
    Bids,
    bid_options,
    build_bids,
    standard_checks,
)
from vpp.options import SchedulerOpt, WorkersOpt, park_progress
from vpp.spec import load_vpp, resolve_parks

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def write_bids(bids: Bids, vpp_id: str, out: Path) -> list[Path]:
    """bids.json, bids.csv and bids.png."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "bids.json", out / "bids.csv", out / "bids.png"]
    paths[0].write_text(json.dumps(bids.as_dict(vpp_id), indent=2) + "\n")
    pd.DataFrame(
        bids.rows(),
        columns=[
            "interval_start",
            "interval_end",
            "direction",
            "segment",
            "price_yuan_per_kwh",
            "quantity_kw",
        ],
    ).to_csv(paths[1], index=False)
    _plot(bids, vpp_id, paths[2])
    return paths


def _plot(bids: Bids, vpp_id: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    hours = np.arange(bids.grid.steps) * bids.grid.dt_h
    for ax, d in zip(axes, DIRECTIONS, strict=True):
        q = bids.quantity_kw(d) / 1000.0
        for j in reversed(range(len(bids.prices_yuan_per_kwh))):
            ax.step(hours, q[j], where="post", label=f"≤ {bids.prices_yuan_per_kwh[j]:g} yuan/kWh")
        ax.set_ylabel("offered [MW]")
        ax.set_title(f"{vpp_id}: load {'reduction' if d == 'down' else 'increase'} offers")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].set_xlabel(f"hour of {bids.grid.index[0].date()}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bid(
    vpp_file: Annotated[Path, typer.Argument(help="VPP file (YAML).")],
    date: Annotated[str, typer.Option("--date", help="Delivery day D, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/bids"),
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    check: Annotated[
        bool, typer.Option(help="Re-solve the parks at cleared quantities (deliverability).")
    ] = True,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit", min=1.0, help="Per park question [s].")
    ] = BID_QUESTION_TIME_LIMIT_S,
    stall_s: Annotated[
        float,
        typer.Option(
            "--stall",
            min=0.0,
            help="With --branch-and-bound (or where a question has no start): stop its branch "
            "and bound once neither incumbent nor bound has improved for this long [s] (0: "
            "never); the answer is then a warning with its gap.",
        ),
    ] = BID_QUESTION_STALL_S,
    branch_and_bound: Annotated[
        bool,
        typer.Option(
            "--branch-and-bound/--no-branch-and-bound",
            help="Run branch and bound after a question's start from the LP relaxation (off: "
            "the start is the answer, a warning with its gap; measured, the same answers in "
            "about 60 % of the time).",
        ),
    ] = BID_QUESTION_BRANCH_AND_BOUND,
    as_json: Annotated[bool, typer.Option("--json", help="Print bids.json.")] = False,
) -> None:
    """Day-ahead offers for each interval of D: up to 10 price–quantity segments for load
    reduction and for load increase, each point deliverable (checked by re-solving)."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise typer.BadParameter(f"--date {date!r} is not YYYY-MM-DD") from exc
    options = bid_options(time_limit_s, stall_s, branch_and_bound)
    try:
        spec, parks = load_vpp(vpp_file)
        resolved = resolve_parks(parks, day)
        with park_progress(err_console) as bar:
            task = bar.add_task("offers", total=len(resolved))
            bids = build_bids(
                resolved,
                spec.programme.bid_prices_yuan_per_kwh,
                options,
                scheduler=scheduler,
                workers=workers,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        if check:
            with console.status("Checking deliverability at cleared quantities ..."):
                standard_checks(bids, scheduler=scheduler, workers=workers)
    except (ParkVppError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    paths = write_bids(bids, spec.id, out)
    if as_json:
        print(paths[0].read_text())
        return
    table = Table(title=f"{spec.name}: offers for {day} [MW at each price, yuan/kWh]")
    table.add_column("hour")
    prices = bids.prices_yuan_per_kwh
    for d in DIRECTIONS:
        for j in (0, len(prices) // 2, len(prices) - 1):
            table.add_column(f"{d} ≤{prices[j]:g}", justify="right")
    per_hour = 60 // bids.grid.resolution_min
    q = {d: bids.quantity_kw(d) for d in DIRECTIONS}
    for h in range(0, bids.grid.steps, per_hour):
        table.add_row(
            bids.grid.index[h].strftime("%H:%M"),
            *[
                f"{q[d][j, h] / 1000:,.2f}"
                for d in DIRECTIONS
                for j in (0, len(prices) // 2, len(prices) - 1)
            ],
        )
    console.print(table)
    for c in bids.checks:
        mark = "[green]deliverable[/green]" if c["deliverable"] else "[red]NOT deliverable[/red]"
        console.print(
            f"{c['scenario']}: {c['cleared_kwh']:,.0f} kWh cleared, max shortfall "
            f"{c['max_shortfall_kw']:.3f} kW: {mark}"
        )
    bad = [s for s in bids.statuses if s != "ok"]
    if bad:
        console.print(f"[yellow]note:[/yellow] {len(bad)} park answers not proven optimal")
    console.print(f"{bids.seconds:.1f} s; wrote " + ", ".join(str(p) for p in paths))

"""``vpp settle VPP.yaml --event EVENT.yaml --metered DIR_OR_CSV --out DIR``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from models.errors import ParkVppError
from vpp.event import load_event
from vpp.settlement import cleared_from_allocation, read_metered, settle
from vpp.spec import load_vpp

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def settle_command(
    vpp_file: Annotated[Path, typer.Argument(help="VPP file (YAML).")],
    event_file: Annotated[Path, typer.Option("--event", help="DR event file.")],
    metered: Annotated[
        Path,
        typer.Option(
            "--metered", help="Folder of <park_id>.csv, or one CSV with timestamp,park_id,load_kw."
        ),
    ],
    allocation: Annotated[
        Path | None, typer.Option("--allocation", help="allocation.json of `vpp dispatch`.")
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", help="Baseline rule (default by the event's notice).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/settle"),
    as_json: Annotated[bool, typer.Option("--json", help="Print settlement.json.")] = False,
) -> None:
    """Settle a DR event: baseline, delivered response, performance ratio, payment and penalty
    per park and for the VPP."""
    try:
        spec, parks = load_vpp(vpp_file)
        event = load_event(event_file)
        ids = [p.id for p, _ in parks]
        cleared = cleared_from_allocation(allocation) if allocation else None
        result = settle(
            event, read_metered(metered, ids), spec.programme, cleared_kw=cleared, rule_name=rule
        )
    except (ParkVppError, ValueError, OSError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    out.mkdir(parents=True, exist_ok=True)
    doc = result.as_dict()
    (out / "settlement.json").write_text(json.dumps(doc, indent=2) + "\n")
    pd.DataFrame(
        [{k: v for k, v in p.items() if not isinstance(v, list)} for p in doc["parks"]]
    ).to_csv(out / "settlement.csv", index=False)
    _plot(result, out / "settlement.png")
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    table = Table(title=f"settlement of {event.id} ({event.type})")
    for col in ("park", "rule", "delivered kW", "cleared kW", "ratio", "payment", "penalty"):
        table.add_column(col, justify="left" if col in ("park", "rule") else "right")
    for p in doc["parks"]:
        r = p["performance_ratio"]
        table.add_row(
            p["park_id"],
            p["rule"],
            f"{p['delivered_kw']:,.1f}",
            f"{p['cleared_kw']:,.1f}",
            "–" if r is None else f"{r:.2f}",
            f"{p['payment_yuan']:,.2f}",
            f"{p['penalty_yuan']:,.2f}",
        )
    console.print(table)
    t = doc["total"]
    console.print(
        f"VPP: delivered {t['delivered_kw']:,.1f} kW of {t['cleared_kw']:,.1f} cleared, net "
        f"{t['net_yuan']:,.2f} yuan; wrote {out}/settlement.json, settlement.csv, settlement.png",
        highlight=False,
    )


def _plot(result, path: Path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(result.parks)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.5), squeeze=False)
    for ax, p in zip(axes[0], result.parks, strict=True):
        ts = p.baseline.timestamps
        ax.plot(ts, p.baseline.baseline_kw, label=f"baseline ({p.baseline.rule.name})")
        ax.plot(ts, p.metered_kw, label="metered")
        ax.fill_between(ts, p.metered_kw, p.baseline.baseline_kw, alpha=0.2)
        ax.set_title(f"{p.park_id}: {p.delivered_kw:,.0f} kW delivered", fontsize=9)
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""Writing a park schedule: schedule.csv, summary.json and a self-contained schedule.html."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.assets.battery import BatterySpec
from models.assets.curtailable import CurtailableLoadSpec
from models.assets.ev import EvChargingSpec
from models.assets.shiftable import ShiftableLoadSpec
from models.results import ParkSchedule


def write_outputs(schedule: ParkSchedule, out_dir: Path) -> dict[str, Path]:
    """Write the three output files; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out_dir / "schedule.csv",
        "json": out_dir / "summary.json",
        "html": out_dir / "schedule.html",
    }
    schedule.frame.to_csv(paths["csv"], index=False, float_format="%.6g")
    paths["json"].write_text(
        json.dumps(schedule.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    figure(schedule).write_html(paths["html"], include_plotlyjs=True, full_html=True)
    return paths


def figure(schedule: ParkSchedule) -> go.Figure:
    """Stacked supply and demand per step, state of charge, prices and the peak."""
    f = schedule.frame
    park = schedule.park
    x = f["timestamp"]
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.55, 0.2, 0.25],
        vertical_spacing=0.05,
        subplot_titles=(
            "Supply (up) and demand (down) [kW]",
            "Battery state of charge [kWh]",
            "Price [yuan/kWh]",
        ),
    )
    supply: list[tuple[str, np.ndarray]] = [
        ("grid import", f["import_kw"].to_numpy()),
        ("PV", f["pv_kw"].to_numpy()),
    ]
    demand: list[tuple[str, np.ndarray]] = [
        ("load", f["load_kw"].to_numpy()),
        ("export", f["export_kw"].to_numpy()),
    ]
    for spec in park.assets:
        c = schedule.assets[spec.id].columns
        if isinstance(spec, BatterySpec):
            supply.append((f"{spec.id} discharge", c["discharge_kw"]))
            demand.append((f"{spec.id} charge", c["charge_kw"]))
            fig.add_trace(
                go.Scatter(x=x, y=c["soc_kwh"], name=f"{spec.id} SoC", mode="lines"), row=2, col=1
            )
        elif isinstance(spec, EvChargingSpec):
            demand.append((f"{spec.id} charging", np.clip(c["charge_kw"], 0, None)))
            supply.append((f"{spec.id} V2G", np.clip(-c["charge_kw"], 0, None)))
        elif isinstance(spec, ShiftableLoadSpec):
            demand.append((spec.id, c["power_kw"]))
        elif isinstance(spec, CurtailableLoadSpec):
            supply.append((f"{spec.id} curtailed", c["curtail_kw"]))
    for name, y in supply:
        if np.any(np.abs(y) > 1e-6):
            fig.add_trace(go.Bar(x=x, y=y, name=name), row=1, col=1)
    for name, y in demand:
        if np.any(np.abs(y) > 1e-6):
            fig.add_trace(go.Bar(x=x, y=-y, name=name), row=1, col=1)
    peak = float(f["import_kw"].max())
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[peak] * len(x),
            name=f"peak import {peak:,.0f} kW",
            mode="lines",
            line={"dash": "dash", "color": "black"},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=f["import_price_yuan_per_kwh"], name="import price", line={"shape": "hv"}
        ),
        row=3,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=f["export_price_yuan_per_kwh"], name="export price", line={"shape": "hv"}
        ),
        row=3,
        col=1,
    )
    s = schedule.summary
    status = s["solver"]["termination"] + (" (LP relaxation)" if s["relaxed"] else "")
    fig.update_layout(
        barmode="relative",
        bargap=0.0,
        height=900,
        title=(
            f"{park.spec.name} ({park.spec.id}), {park.grid.start:%Y-%m-%d}: total cost "
            f"{s['costs_yuan']['total_yuan']:,.0f} yuan, solver {status}"
        ),
        legend={"orientation": "v"},
    )
    return fig

"""``vpp day-ahead VPP.yaml --date D --out DIR``: the VPP operator's day-ahead job.

For delivery day D: every park's forecasts (load, PV, EV sessions from its history, as its park
file asks) and optimal schedule, the VPP's proven capacity report, and its bids with their
deliverability checks. Writes

- ``schedules/<park>/`` (schedule.csv, summary.json, schedule.html),
- ``capacity/`` (capacity.json, capacity.csv, capacity.png),
- ``bids/`` (bids.json, bids.csv, bids.png),
- ``day-ahead.json`` (what ran, how long, the headline figures).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from models.assets.ev import EvChargingSpec
from models.errors import ParkVppError
from models.results import ParkSchedule, schedule_park
from models.solve import SolverOptions
from models.spec import ForecastSpec, ParkSpec, ResolvedPark
from vpp.bid_cmd import write_bids
from vpp.bids import bid_options, build_bids, standard_checks
from vpp.capacity import capacity_report, write_report
from vpp.executor import map_ordered, park_executor
from vpp.options import SchedulerOpt, WorkersOpt
from vpp.report import write_outputs
from vpp.spec import load_vpp, resolve_parks

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def _schedule(park: ResolvedPark) -> ParkSchedule:
    return schedule_park(park, SolverOptions())


def with_forecasts(
    parks: list[tuple[ParkSpec, Path]],
) -> tuple[list[tuple[ParkSpec, Path]], list[str]]:
    """Parks whose file asks for no forecasts but whose load is a metered history get
    ``forecast`` with that history, so the day's load and PV are forecast (cutoff 10:30 on
    D−1), not read from the meter. An EV asset whose ``sessions`` file is ``X-sessions.csv``
    takes the forecast sessions of the day when ``X-history.csv.gz`` lies next to it (the
    layout of scenarios/examples). Returns the parks and what was done, park by park."""
    out, notes = [], []
    for spec, base in parks:
        if spec.forecast is not None or not isinstance(spec.load, str):
            why = "its own forecast block" if spec.forecast is not None else "a fixed load"
            notes.append(f"{spec.id}: as written ({why})")
            out.append((spec, base))
            continue
        ev: dict[str, str] = {}
        for a in spec.assets:
            if not isinstance(a, EvChargingSpec) or not isinstance(a.sessions, str):
                continue
            if a.sessions.endswith("-sessions.csv"):
                hist = a.sessions.removesuffix("-sessions.csv") + "-history.csv.gz"
                if (base / hist).exists():
                    ev[a.id] = hist
        out.append(
            (spec.model_copy(update={"forecast": ForecastSpec(ev_session_history=ev)}), base)
        )
        notes.append(
            f"{spec.id}: load and PV forecast from its history"
            + (f", EV sessions of {', '.join(ev)} forecast" if ev else "")
        )
    return out, notes


def day_ahead(
    vpp_file: Annotated[Path, typer.Argument(help="VPP file (YAML).")],
    date: Annotated[str, typer.Option("--date", help="Delivery day D, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/day-ahead"),
    duration_h: Annotated[
        float, typer.Option("--duration-h", min=0.25, help="Capacity: response to sustain [h].")
    ] = 2.0,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    forecast: Annotated[
        bool,
        typer.Option(
            "--forecast/--as-written",
            help="Forecast each park's day from its metered history (default), or use the "
            "park files' series as written.",
        ),
    ] = True,
) -> None:
    """Forecasts, park schedules, capacity report and bids for day D (``make run``)."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise typer.BadParameter(f"--date {date!r} is not YYYY-MM-DD") from exc
    stages: dict[str, float] = {}
    try:
        spec, parks = load_vpp(vpp_file)
        notes: list[str] = []
        if forecast:
            parks, notes = with_forecasts(parks)
        t = time.perf_counter()
        with console.status(f"Forecasting {len(parks)} parks for {day} ..."):
            resolved = resolve_parks(parks, day)
        stages["forecasts_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with (
            console.status("Scheduling the parks ..."),
            park_executor(scheduler, workers, tasks=len(resolved)) as ex,
        ):
            schedules = map_ordered(ex, _schedule, resolved)
        for s in schedules:
            write_outputs(s, out / "schedules" / s.park.spec.id)
        stages["schedules_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with console.status(f"Capacity report ({duration_h:g} h windows) ..."):
            report = capacity_report(resolved, duration_h, spec.programme, workers or 2)
        write_report(report, out / "capacity")
        stages["capacity_s"] = time.perf_counter() - t
        t = time.perf_counter()
        options = bid_options()
        with console.status("Bids and their deliverability checks ..."):
            bids = build_bids(
                resolved,
                spec.programme.bid_prices_yuan_per_kwh,
                options,
                scheduler=scheduler,
                workers=workers,
            )
            standard_checks(bids, scheduler=scheduler, workers=workers)
        write_bids(bids, spec.id, out / "bids")
        stages["bids_s"] = time.perf_counter() - t
    except (ParkVppError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    targets = report.targets()
    doc: dict[str, Any] = {
        "vpp": spec.id,
        "date": day.isoformat(),
        "parks": [
            {
                "park_id": s.park.spec.id,
                "cost_yuan": round(float(s.costs["total_yuan"]), 2),
                "status": s.solve.status.value,
                "gap": s.solve.gap,
            }
            for s in schedules
        ],
        "capacity_best_window_kw": targets["vpp_best_window_kw"],
        "capacity_best_window_hour": targets["vpp_best_window_hour"],
        "capacity_target_share": targets["capacity_target_share"],
        "bids_deliverable": all(c["deliverable"] for c in bids.checks),
        "bid_answers_not_proven_optimal": sum(s != "ok" for s in bids.statuses),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "forecasts": notes,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "day-ahead.json").write_text(json.dumps(doc, indent=2) + "\n")
    for n in notes:
        console.print(f"forecast: {n}", highlight=False)
    for p in doc["parks"]:
        console.print(
            f"{p['park_id']}: day-ahead cost {p['cost_yuan']:,.0f} yuan ({p['status']})",
            highlight=False,
        )
    console.print(
        f"capacity: best {duration_h:g} h window at {doc['capacity_best_window_hour']:02d}:00, "
        f"{doc['capacity_best_window_kw']:,.0f} kW = {doc['capacity_target_share']:.1%} of the "
        f"target; bids deliverable: {doc['bids_deliverable']} "
        f"({doc['bid_answers_not_proven_optimal']} answers not proven optimal)",
        highlight=False,
    )
    console.print(
        "stages: " + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in stages.items())
    )
    console.print(f"wrote {out}/day-ahead.json, schedules/, capacity/ and bids/")

"""The ``vpp`` command: the single entry point (typer + rich)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.cli import app as bench_app
from models.errors import (
    InfeasibleError,
    ParkInputError,
    ParkVppError,
    VerificationError,
)
from models.results import ParkSchedule, schedule_park
from models.solve import SolverOptions
from models.spec import load_park, park_json_schema, resolve_park
from scenarios.examples import EXAMPLE_DAYS, example_parks
from services.cli import credentials_app, db_app, serve
from vpp.baseline_cmd import baseline as baseline_command
from vpp.bid_cmd import bid as bid_command
from vpp.capacity_cmd import capacity as capacity_command
from vpp.day_ahead_cmd import day_ahead as day_ahead_command
from vpp.dispatch_cmd import dispatch as dispatch_command
from vpp.forecast_cmd import forecast as forecast_command
from vpp.intraday_cmd import intraday as intraday_command
from vpp.report import write_outputs
from vpp.settle_cmd import settle_command
from vpp.size_cmd import scorecard_command, size
from vpp.ven_cmd import ven_app

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Park microgrid and VPP dispatch optimizer."
)
schema_app = typer.Typer(no_args_is_help=True, help="Print JSON Schemas of the file formats.")
app.add_typer(schema_app, name="schema")
app.add_typer(bench_app, name="bench")
app.command("baseline")(baseline_command)
app.command("forecast")(forecast_command)
app.command("capacity")(capacity_command)
app.command("dispatch")(dispatch_command)
app.command("bid")(bid_command)
app.command("day-ahead")(day_ahead_command)
app.command("intraday")(intraday_command)
app.command("settle")(settle_command)
app.command("size")(size)
app.command("scorecard")(scorecard_command)
app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(credentials_app, name="credentials")
app.add_typer(ven_app, name="ven")
console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)

EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER, EXIT_VERIFY = 2, 3, 4, 5


def _exit_code(exc: ParkVppError) -> int:
    if isinstance(exc, ParkInputError):
        return EXIT_INPUT
    if isinstance(exc, InfeasibleError):
        return EXIT_INFEASIBLE
    if isinstance(exc, VerificationError):
        return EXIT_VERIFY
    return EXIT_SOLVER


def _parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"--date {text!r} is not YYYY-MM-DD") from exc


@dataclass(frozen=True)
class Job:
    park_file: Path
    date: dt.date | None
    out_dir: Path
    options: SolverOptions


def _run_job(job: Job) -> tuple[dict[str, Any], dict[str, str]]:
    spec = load_park(job.park_file)
    park = resolve_park(
        spec, base_dir=job.park_file.parent, source=str(job.park_file), date=job.date
    )
    schedule = schedule_park(park, job.options)
    paths = write_outputs(schedule, job.out_dir)
    return schedule.summary, {k: str(v) for k, v in paths.items()}


def _summary_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col, justify in [
        ("park", "left"),
        ("day", "left"),
        ("total yuan", "right"),
        ("energy", "right"),
        ("demand", "right"),
        ("subsidy", "right"),
        ("peak kW", "right"),
        ("PV self %", "right"),
        ("RE share %", "right"),
        ("CO2 t", "right"),
        ("status", "left"),
        ("gap", "right"),
        ("solve s", "right"),
    ]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for s in rows:
        c, sol = s["costs_yuan"], s["solver"]
        status = sol["termination"] + (" (relaxed)" if s["relaxed"] else "")
        style = "green" if sol["status"] == "ok" else "yellow"
        table.add_row(
            s["park_id"],
            s["horizon"]["start"][:10],
            f"{c['total_yuan']:,.0f}",
            f"{c['energy_yuan']:,.0f}",
            f"{c['demand_charge_yuan']:,.0f}",
            f"{c['subsidy_yuan']:,.0f}",
            f"{s['peak_import_kw']:,.0f}",
            f"{100 * (s['pv_self_consumption_frac'] or 0):.1f}",
            f"{100 * (s['renewable_share_frac'] or 0):.1f}",
            f"{s['co2_kg'] / 1000:,.1f}",
            f"[{style}]{status}[/{style}]",
            f"{sol['gap']:.3%}",
            f"{sol['solve_s']:.2f}",
        )
    return table


def _options(
    time_limit: float, mip_gap: float, threads: int | None, seed: int | None, relax: bool, log: bool
) -> SolverOptions:
    return SolverOptions(
        time_limit_s=time_limit,
        mip_rel_gap=mip_gap,
        threads=threads,
        random_seed=seed,
        relax=relax,
        log=log,
    )


TimeLimit = Annotated[float, typer.Option("--time-limit", help="Solver time limit [s].")]
MipGap = Annotated[float, typer.Option("--mip-gap", help="Relative MIP gap to stop at.")]
Threads = Annotated[int | None, typer.Option("--threads", help="HiGHS threads.")]
Seed = Annotated[int | None, typer.Option("--seed", help="HiGHS random seed.")]
Relax = Annotated[bool, typer.Option("--relax", help="Solve the LP relaxation (labelled as such).")]


@app.command()
def schedule(
    park_file: Annotated[Path, typer.Argument(help="Park file (YAML or JSON).")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("out/schedule"),
    date: Annotated[
        str | None, typer.Option("--date", help="Schedule this day (96 × 15 min), YYYY-MM-DD.")
    ] = None,
    relax: Relax = False,
    time_limit: TimeLimit = 300.0,
    mip_gap: MipGap = 1e-3,
    threads: Threads = None,
    seed: Seed = None,
    solver_log: Annotated[bool, typer.Option("--solver-log", help="Show HiGHS's log.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout.")] = False,
) -> None:
    """Schedule one park day-ahead: writes schedule.csv, summary.json and schedule.html."""
    day = _parse_date(date)
    try:
        spec = load_park(park_file)
        park = resolve_park(spec, base_dir=park_file.parent, source=str(park_file), date=day)
        with console.status(f"Scheduling {spec.id} ...", spinner="dots") as status:

            def on_improve(elapsed: float, obj: float, bound: float, gap: float) -> None:
                status.update(
                    f"Scheduling {spec.id}: {elapsed:6.1f} s  best {obj:,.1f} yuan  "
                    f"bound {bound:,.1f}  gap {gap:.3%}"
                )

            options = SolverOptions(
                time_limit_s=time_limit,
                mip_rel_gap=mip_gap,
                threads=threads,
                random_seed=seed,
                relax=relax,
                log=solver_log,
                progress=on_improve,
            )
            t0 = time.perf_counter()
            result: ParkSchedule = schedule_park(park, options)
            wall = time.perf_counter() - t0
        paths = write_outputs(result, out)
    except ParkVppError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(_exit_code(exc)) from exc
    if as_json:
        typer.echo(json.dumps(result.summary, indent=2, ensure_ascii=False))
        return
    console.print(_summary_table([result.summary], f"Day-ahead schedule ({wall:.1f} s)"))
    if result.solve.message:
        console.print(f"[yellow]warning:[/yellow] {result.solve.message}")
    if result.solve.relaxed:
        console.print(
            "[yellow]note:[/yellow] LP relaxation: binaries relaxed, the schedule may not be executable"
        )
    for slack in result.summary["slacks"]:
        console.print(
            f"[yellow]slack:[/yellow] {slack['asset_id']}: {slack['total_kwh']:.1f} kWh not delivered ({len(slack['sessions'])} sessions)"
        )
    console.print(f"wrote {paths['csv']}, {paths['json']}, {paths['html']}")


@app.command()
def validate(
    park_file: Annotated[Path, typer.Argument(help="Park file (YAML or JSON).")],
    date: Annotated[
        str | None, typer.Option("--date", help="Check for this day, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Check a park file and its data without solving."""
    try:
        spec = load_park(park_file)
        park = resolve_park(
            spec, base_dir=park_file.parent, source=str(park_file), date=_parse_date(date)
        )
    except ParkVppError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(_exit_code(exc)) from exc
    console.print(
        f"[green]ok[/green] {spec.id}: {len(spec.assets)} assets, {park.grid.steps} steps of {park.grid.resolution_min} min from {park.grid.start.isoformat()}"
    )


@app.command()
def examples(
    out: Annotated[Path, typer.Option("--out", help="Output root.")] = Path("out"),
    jobs: Annotated[int, typer.Option("--jobs", help="Parallel solver processes.")] = 2,
    relax: Relax = False,
    time_limit: TimeLimit = 300.0,
    mip_gap: MipGap = 1e-3,
) -> None:
    """Schedule every bundled example park for a summer and a winter day (``make run``)."""
    options = _options(time_limit, mip_gap, None, None, relax, False)
    todo = [
        Job(p, day, out / p.stem / label, options)
        for p in example_parks()
        for label, day in EXAMPLE_DAYS.items()
    ]
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    t0 = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("scheduling example parks", total=len(todo))
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(_run_job, j): j for j in todo}
            for fut in as_completed(futures):
                j = futures[fut]
                try:
                    summary, _ = fut.result()
                    rows.append(summary)
                except ParkVppError as exc:
                    failures.append(f"{j.park_file.name} {j.date}: {exc}")
                progress.advance(task)
    rows.sort(key=lambda s: (s["park_id"], s["horizon"]["start"]))
    console.print(_summary_table(rows, f"Bundled example parks ({time.perf_counter() - t0:.1f} s)"))
    (out / "summary.json").write_text(
        json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    console.print(f"outputs under {out}/<park>/<day>/ (schedule.csv, summary.json, schedule.html)")
    for f in failures:
        err_console.print(f"[red]failed:[/red] {f}")
    if failures:
        raise typer.Exit(1)


@schema_app.command("park")
def schema_park() -> None:
    """Print the park file's JSON Schema."""
    typer.echo(json.dumps(park_json_schema(), indent=2, ensure_ascii=False))


@schema_app.command("scenario")
def schema_scenario() -> None:
    """Print the planning scenario file's JSON Schema."""
    from scenarios.spec import ScenarioSpec

    typer.echo(json.dumps(ScenarioSpec.model_json_schema(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    app()

"""``vpp size SCENARIO`` (planner sizing, accuracy, sweeps) and ``vpp scorecard PARK``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models.errors import ParkVppError
from scenarios.accuracy import accuracy
from scenarios.metered import load_annual, metered_scorecard
from scenarios.plan import Plan, prepare_file, run_scenario
from scenarios.report import write_plan
from scenarios.scorecard import Scorecard, fmt
from scenarios.spec import load_scenario
from scenarios.sweep import CaseTask, SweepError, cases, markdown, plot, run_case, table
from vpp.executor import map_ordered, park_executor
from vpp.options import SchedulerOpt, WorkersOpt

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


def _scorecard_table(card: Scorecard, title: str) -> Table:
    t = Table(title=title)
    for col in ("#", "indicator", "class", "value", "near", "long"):
        t.add_column(col, justify="right" if col in ("value",) else "left")

    def mark(passed: bool | None, thr: float | None) -> str:
        if passed is None or thr is None:
            return "n/a"
        return f"{'[green]pass[/green]' if passed else '[red]FAIL[/red]'} ({fmt(thr)})"

    for i in card.indicators:
        value = "n/a" if i.value is None else f"{fmt(i.value)} {i.unit}"
        t.add_row(
            i.id,
            i.name,
            i.cls,
            value,
            mark(i.near_pass, i.near_threshold),
            mark(i.long_pass, i.long_threshold),
        )
    return t


def _print_plan(plan: Plan) -> None:
    r = plan.result
    s = r.sizes
    rows: list[tuple[str, str]] = []
    if "pv_kwp" in s:
        rows.append(("PV installed [kWp]", f"{s['pv_kwp']:,.0f} (+{s['pv_new_kwp']:,.0f} new)"))
    if "storage_power_kw" in s:
        units = f" (units {s['storage_units']})" if "storage_units" in s else ""
        rows.append(
            (
                "new storage [kW / kWh]",
                f"{s['storage_power_kw']:,.0f} / {s['storage_energy_kwh']:,.0f}{units}",
            )
        )
    irr, pb = plan.cash.irr_frac, plan.cash.simple_payback_years
    rows += [
        ("capital [yuan]", f"{sum(plan.capex_yuan.values()):,.0f}"),
        ("annual cost, plan [yuan/yr]", f"{r.costs_yuan_per_year['total']:,.0f}"),
        (
            "annual cost, existing assets [yuan/yr]",
            f"{plan.reference.costs_yuan_per_year['total']:,.0f}",
        ),
        ("operating savings [yuan/yr]", f"{plan.annual['savings_yuan']:,.0f}"),
        ("NPV [yuan]", f"{plan.cash.npv_yuan:,.0f}"),
        ("IRR", "n/a" if irr is None else f"{irr:.1%}"),
        ("simple payback [yr]", "never" if pb is None else f"{pb:.1f}"),
        ("storage reward eligible", str(r.subsidy_eligible)),
        ("green certificates [MWh/yr]", f"{r.green_certificates_mwh:,.0f}"),
        (
            "solver",
            f"{r.solve.status.value} ({r.solve.method}, {r.solve.size.variables:,} variables, "
            f"binary rounds {r.binary_rounds}), {r.wall_s:.1f} s",
        ),
    ]
    t = Table(title=f"{plan.spec.name}: {plan.method} plan")
    t.add_column("")
    t.add_column("value", justify="right")
    for label, value in rows:
        # Units sit in brackets, which rich would read as markup.
        t.add_row(escape(label), value)
    console.print(t)
    console.print(_scorecard_table(plan.scorecard, "Scorecard (plan)"))
    for n in plan.notes:
        console.print(f"[yellow]note:[/yellow] {n}")


def size(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/size"),
    method: Annotated[
        str | None,
        typer.Option(help="full-year or representative-days (default: the scenario's)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Representative days (default: the scenario's).")
    ] = None,
    check_accuracy: Annotated[
        bool,
        typer.Option("--accuracy", help="Also compare representative days against the full year."),
    ] = False,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            help="key=start:stop:step or key=v1,v2 (repeat for a product of parameters).",
        ),
    ] = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print plan.json.")] = False,
) -> None:
    """Size PV and storage against the targets at least annual cost, with its economics and
    scorecard (or run a sweep of cases)."""
    if method not in (None, "full-year", "representative-days"):
        raise typer.BadParameter("--method is full-year or representative-days")
    kind: Literal["full-year", "representative-days"] | None = method  # type: ignore[assignment]
    if sweep:
        _sweep(scenario, sweep, out, kind, days, scheduler, workers)
        return
    try:
        with console.status("loading the year and solving…"):
            prep = prepare_file(scenario)
            plan = run_scenario(prep, kind=kind, days=days)
        paths = write_plan(plan, out)
        if check_accuracy:
            with console.status("full year, representative days, and the regret…"):
                acc = accuracy(prep, days)
            (out / "accuracy.json").write_text(json.dumps(acc.as_dict(), indent=2) + "\n")
            (out / "accuracy.md").write_text(acc.markdown() + "\n")
            paths += [out / "accuracy.json", out / "accuracy.md"]
    except (ParkVppError, ValueError) as exc:
        raise _fail(exc) from exc
    if as_json:
        print((out / "plan.json").read_text())
        return
    _print_plan(plan)
    if check_accuracy:
        console.print(acc.markdown(), highlight=False)
    console.print("wrote " + ", ".join(str(p) for p in paths))


def _sweep(
    scenario: Path,
    sweep: list[str],
    out: Path,
    kind: str | None,
    days: int | None,
    scheduler: str | None,
    workers: int | None,
) -> None:
    try:
        spec = load_scenario(scenario)
        extra: dict[str, Any] = {}
        if kind is not None:
            extra["method.kind"] = kind
        if days is not None:
            extra["method.days"] = days
        todo = cases(spec, sweep)
    except (ParkVppError, SweepError, ValueError) as exc:
        raise _fail(exc) from exc
    for c in todo:
        c.overrides.update(extra)
    tasks = [CaseTask(spec, scenario.parent, str(scenario), c) for c in todo]
    t0 = time.perf_counter()
    from vpp.options import park_progress

    with park_progress(console) as bar:
        task = bar.add_task("sweep", total=len(tasks))
        try:
            with park_executor(scheduler, workers, len(tasks)) as ex:
                rows = map_ordered(ex, run_case, tasks, lambda k, n: bar.update(task, completed=k))
        except ValueError as exc:
            raise _fail(exc) from exc
    wall = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    frame = table(rows)
    params = [p for p in todo[0].overrides if p not in extra] if todo else []
    frame.to_csv(out / "sweep.csv", index=False)
    (out / "sweep.md").write_text(markdown(frame) + "\n")
    paths = [out / "sweep.csv", out / "sweep.md"]
    ok = frame[frame["status"] != "failed"] if "status" in frame else frame
    if params and len(ok) and "pv_kwp" in ok:
        paths.append(plot(ok, params, out / "sweep.png"))
    meta = {"cases": len(rows), "wall_s": wall, "workers": workers, "scheduler": scheduler}
    (out / "sweep.json").write_text(json.dumps({**meta, "rows": rows}, indent=2, default=str))
    paths.append(out / "sweep.json")
    t = Table(title=f"sweep: {len(rows)} cases in {wall:.1f} s")
    show = [c for c in frame.columns if c not in ("message",)][:12]
    for col in show:
        t.add_column(str(col).rsplit(".", 1)[-1][:18], justify="right")
    for _, r in frame.iterrows():
        t.add_row(*[fmt(r[c]) if isinstance(r[c], float) else str(r[c]) for c in show])
    console.print(t)
    failed = frame[frame["status"] == "failed"] if "status" in frame else frame.iloc[0:0]
    for _, r in failed.iterrows():
        console.print(f"[red]case {r['case']} failed:[/red] {r['message']}")
    console.print("wrote " + ", ".join(str(p) for p in paths))


def scorecard_command(
    park: Annotated[Path, typer.Argument(help="Park file (its history is the metered year).")],
    annual: Annotated[
        Path, typer.Option("--annual", help="Annual data: value added, carriers, roof potential…")
    ],
    history: Annotated[
        Path | None, typer.Option(help="Metered history (default: the park's load file).")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Calendar year (default: the fullest).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write scorecard.json/.csv/.md.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
) -> None:
    """The KPI scorecard (T2–T10) of a park's metered year."""
    try:
        card, info = metered_scorecard(park, load_annual(annual), history=history, year=year)
    except (ParkVppError, ValueError) as exc:
        raise _fail(exc) from exc
    doc = {**info, **card.as_dict()}
    if out is not None:
        import pandas as pd

        out.mkdir(parents=True, exist_ok=True)
        (out / "scorecard.json").write_text(json.dumps(doc, indent=2) + "\n")
        pd.DataFrame(card.rows()).to_csv(out / "scorecard.csv", index=False)
        (out / "scorecard.md").write_text(card.markdown() + "\n")
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    console.print(_scorecard_table(card, f"Scorecard: {info['park']} {info['year']} (metered)"))
    console.print(f"[yellow]note:[/yellow] {info['note']}")

"""``vpp bench``: run the benchmark suite, gate it against the baseline, compare with peers,
profile a case."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from benchmarks import check as gate
from benchmarks.registry import all_cases, select

app = typer.Typer(no_args_is_help=True, help="Benchmarks that gate solver performance.")
console = Console(width=None if sys.stdout.isatty() else 150)

CasesArg = Annotated[
    list[str] | None, typer.Argument(help="Run only cases whose name contains one of these.")
]
FastOpt = Annotated[bool, typer.Option("--fast", help="Only the CI subset of cases.")]
RepeatsOpt = Annotated[
    int | None, typer.Option("--repeats", min=1, help="Runs per case (default: the case's own).")
]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder for results, table and plots.")]


def _cases(patterns: list[str] | None, fast: bool) -> list[Any]:
    try:
        return select(patterns, fast)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from exc


def _run(cases: list[Any], repeats: int | None) -> dict[str, Any]:
    from benchmarks.runner import Progress, run_suite

    def start(name: str, i: int, n: int) -> None:
        console.print(f"[dim]\\[{i}/{n}][/dim] {name} …", highlight=False)

    def end(name: str, res: dict[str, Any]) -> None:
        if "error" in res:
            console.print(f"      [red]failed:[/red] {res['error']}", highlight=False)
            return
        t = res["median"]
        console.print(
            f"      {res['status']}: total {t['total_s']:.3f} s (build {t['build_s']:.3f}, "
            f"hand-off {t['handoff_s']:.3f}, solve {t['solve_s']:.3f}), wall {t['wall_s']:.3f} s, "
            f"peak {res['peak_rss_mb']:.0f} MB",
            highlight=False,
        )

    return run_suite(cases, repeats, Progress(start, end))


def _table(doc: dict[str, Any], verdicts: list[gate.CaseVerdict] | None) -> Table:
    table = Table(title=f"benchmarks (calibration {doc['calibration_s']:.3f} s)")
    for col in ("case", "status", "total s", "norm", "objective"):
        table.add_column(col, justify="left" if col in ("case", "status") else "right")
    if verdicts is not None:
        table.add_column("ratio vs baseline", justify="right")
        table.add_column("verdict")
    by_name = {v.name: v for v in verdicts or []}
    for name, r in doc["cases"].items():
        obj = "–" if r["objective"] is None else f"{r['objective']:,.2f}"
        row = [
            name,
            r["status"],
            f"{r['median']['total_s']:.3f}",
            f"{r['normalised']['total_s']:.2f}",
            obj,
        ]
        if verdicts is not None:
            v = by_name[name]
            row.append(", ".join(f"×{x:.2f}" for x in v.ratios.values()) or "–")
            row.append(
                "[green]ok[/green]" + (f" ({v.note})" if v.note else "")
                if v.ok
                else "[red]FAIL[/red] " + "; ".join(v.problems)
            )
        table.add_row(*row)
    return table


@app.command("list")
def list_cases() -> None:
    """List the registered cases."""
    table = Table(title="benchmark cases")
    for col in ("case", "group", "fast", "repeats", "gate", "description"):
        table.add_column(col)
    for c in all_cases().values():
        table.add_row(
            c.name,
            c.group,
            "yes" if c.fast else "",
            str(c.repeats),
            ",".join(c.gate),
            c.description,
        )
    console.print(table)


@app.command()
def run(
    cases: CasesArg = None,
    fast: FastOpt = False,
    repeats: RepeatsOpt = None,
    out: OutOpt = Path("out/bench"),
) -> None:
    """Run the suite (or the named cases) and write results.json, results.md and plots."""
    from benchmarks.report import write

    doc = _run(_cases(cases, fast), repeats)
    paths = write(doc, out)
    console.print(_table(doc, None))
    for p in paths:
        console.print(f"wrote {p}")
    failed = [
        n for n, r in doc["cases"].items() if r["status"] not in r.get("accepted_statuses", ["ok"])
    ]
    if failed:
        console.print(f"[red]not optimal:[/red] {', '.join(failed)}")
        raise typer.Exit(1)


@app.command("check")
def check_cmd(
    cases: CasesArg = None,
    fast: FastOpt = False,
    repeats: RepeatsOpt = None,
    baseline: Annotated[Path, typer.Option(help="Baseline results.")] = gate.BASELINE,
    results: Annotated[
        Path | None, typer.Option(help="Check this results.json instead of running.")
    ] = None,
    max_slowdown: Annotated[
        float, typer.Option(help="Allowed slowdown in calibration units [-].")
    ] = gate.MAX_SLOWDOWN,
    out: OutOpt = Path("out/bench"),
) -> None:
    """Run and compare against the baseline; fail when a case is slower or worse.

    A case that looks slower is measured once more (with a new calibration) and the faster of
    the two runs is judged, so that one busy minute on a shared machine does not fail the gate.
    """
    from benchmarks.report import write

    try:
        base = gate.load(baseline)
        doc = gate.load(results) if results else _run(_cases(cases, fast), repeats)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    verdicts = gate.check(doc, base, max_slowdown)
    slow = [v.name for v in verdicts if v.slow]
    if slow and results is None:
        console.print(f"[yellow]slower than baseline, measuring again:[/yellow] {', '.join(slow)}")
        retry = _run([all_cases()[n] for n in slow], repeats)
        retry["cases"] = {k: v for k, v in retry["cases"].items() if k in slow}
        doc = gate.merge_retry(doc, retry)
        verdicts = gate.check(doc, base, max_slowdown)
    write(doc, out, verdicts)
    console.print(_table(doc, verdicts))
    console.print(
        f"baseline: {baseline} (calibration {base['calibration_s']:.3f} s on {base['machine']['cpu']}); "
        f"this run: calibration {doc['calibration_s']:.3f} s"
    )
    failed = [v for v in verdicts if not v.ok]
    if failed:
        console.print(f"[red]gate failed:[/red] {', '.join(v.name for v in failed)}")
        raise typer.Exit(1)
    console.print(f"[green]gate passed[/green] ({len(verdicts)} cases)")


@app.command()
def baseline(
    cases: CasesArg = None,
    repeats: RepeatsOpt = None,
    path: Annotated[Path, typer.Option(help="Where to write the baseline.")] = gate.BASELINE,
    out: OutOpt = Path("out/bench"),
    merge: Annotated[
        bool, typer.Option(help="Keep the baseline's other cases; replace only these.")
    ] = False,
    results: Annotated[
        Path | None,
        typer.Option(help="Take the cases from this results.json instead of running them."),
    ] = None,
) -> None:
    """Run the suite and write it as the new baseline (commit it with the change that earned it)."""
    from benchmarks.report import write

    if results is not None:
        doc = gate.load(results)
        if cases:
            keep = {c.name for c in _cases(cases, False)}
            doc["cases"] = {n: r for n, r in doc["cases"].items() if n in keep}
    else:
        doc = _run(_cases(cases, False), repeats)
    failed = [
        n for n, r in doc["cases"].items() if r["status"] not in r.get("accepted_statuses", ["ok"])
    ]
    if failed:
        console.print(f"[red]not optimal, baseline not written:[/red] {', '.join(failed)}")
        raise typer.Exit(1)
    for res in doc["cases"].values():
        res.pop("samples", None)  # the baseline keeps medians; results.json keeps samples
    if merge and path.exists():
        # Normalised times are in each run's own calibration units, so cases from different
        # runs can sit side by side.
        old = gate.load(path)
        old["cases"].update(doc["cases"])
        doc = old
    path.write_text(json.dumps(doc, indent=2) + "\n")
    write(doc, out)
    console.print(_table(doc, None))
    console.print(f"wrote {path}")


@app.command("count")
def count_cmd(
    cases: CasesArg = None,
    fast: Annotated[
        bool, typer.Option("--fast/--all", help="The CI subset (default) or every case.")
    ] = True,
    baseline: Annotated[Path, typer.Option(help="Instruction-count baseline.")] = Path(
        "benchmarks/counts_baseline.json"
    ),
    max_increase: Annotated[
        float, typer.Option(help="Allowed growth of a case's instruction count [-].")
    ] = 0.03,
    write: Annotated[
        bool,
        typer.Option("--write", help="Write the counts as the new baseline instead of checking."),
    ] = False,
    out: OutOpt = Path("out/bench"),
) -> None:
    """Count the instructions of one run of each case under callgrind and gate them.

    Repeatable on a busy machine (the same count within 0.2 %), unlike wall-clock time; about
    30 s to 3 min per case. Needs valgrind.
    """
    from benchmarks import counts as cg

    chosen = [c for c in _cases(cases, fast) if c.counted or cases]
    results: list[cg.Count] = []
    for i, case in enumerate(chosen, 1):
        console.print(f"[dim]\\[{i}/{len(chosen)}][/dim] {case.name} …", highlight=False)
        try:
            c = cg.count_case(case.name)
        except cg.CountError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        console.print(
            f"      {c.status}: {c.instructions:,} instructions "
            f"(objective {c.objective}, {c.wall_s:.0f} s under valgrind)",
            highlight=False,
        )
        results.append(c)
    doc = cg.document(results, {c.name: c.accepted_statuses for c in chosen})
    out.mkdir(parents=True, exist_ok=True)
    (out / "counts.json").write_text(json.dumps(doc, indent=2) + "\n")
    if write:
        failed = [n for n, r in doc["cases"].items() if r["status"] not in r["accepted_statuses"]]
        if failed:
            console.print(f"[red]not optimal, baseline not written:[/red] {', '.join(failed)}")
            raise typer.Exit(1)
        if baseline.exists():
            old = cg.load(baseline)
            if cg.fingerprint_changes(doc["fingerprint"], old["fingerprint"]):
                old = {"cases": {}}  # counts from another environment do not mix
            doc["cases"] = {**old["cases"], **doc["cases"]}
        baseline.write_text(json.dumps(doc, indent=2) + "\n")
        console.print(f"wrote {baseline}")
        return
    try:
        base = cg.load(baseline)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    verdicts = cg.check(doc, base, max_increase, {c.name: c.objective_rtol for c in chosen})
    table = Table(title="instruction counts (callgrind, one run after a warm-up)")
    for col in ("case", "status", "instructions", "baseline", "ratio", "verdict"):
        table.add_column(col, justify="left" if col in ("case", "status", "verdict") else "right")
    for v in verdicts:
        now = doc["cases"][v.name]
        ref = base["cases"].get(v.name, {}).get("instructions")
        table.add_row(
            v.name,
            now["status"],
            f"{now['instructions']:,}",
            "–" if ref is None else f"{ref:,}",
            "–" if v.ratio is None else f"×{v.ratio:.3f}",
            "; ".join(v.problems) if v.problems else (v.note or "ok"),
        )
    console.print(table)
    changes = cg.fingerprint_changes(doc["fingerprint"], base["fingerprint"])
    if changes:
        console.print(
            f"[yellow]environment differs from the baseline's:[/yellow] {', '.join(changes)}"
        )
    failed = [v.name for v in verdicts if not v.ok]
    if failed:
        console.print(f"[red]count gate failed:[/red] {', '.join(failed)}")
        raise typer.Exit(1)
    console.print(
        f"[green]count gate passed[/green] ({len(verdicts)} cases, ≤ ×{1 + max_increase:.2f})"
    )


@app.command("service")
def service_cmd(
    backend: Annotated[
        list[str] | None,
        typer.Option("--backend", help="sqlite and/or postgresql (default: both)."),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Client threads.")] = 8,
    seconds: Annotated[
        float, typer.Option(min=1.0, help="Duration of each read phase [s].")
    ] = 10.0,
    out: Annotated[Path, typer.Option("--out", help="Folder for service-load.json.")] = Path(
        "out/bench"
    ),
) -> None:
    """A bounded load run of `vpp serve` on loopback: DR event POST → allocation time for the
    bundled VPP, then requests per second with p50/p99 for event and schedule reads."""
    from benchmarks import service_load as sl
    from benchmarks.pgcluster import PostgresUnavailableError

    backends = backend or ["sqlite", "postgresql"]
    try:
        results = sl.run(backends, threads, seconds, lambda m: console.print(m, highlight=False))
    except (sl.LoadRunError, PostgresUnavailableError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table(title=f"service on loopback ({threads} client threads, keep-alive)")
    for col in (
        "backend",
        "event POST ms",
        "→ allocated s",
        "GET",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
    ):
        table.add_column(col, justify="left" if col in ("backend", "GET") else "right")
    for r in results:
        for ph in r.phases:
            table.add_row(
                r.backend,
                f"{r.event_post_ms:.0f}",
                f"{r.allocation_s:.2f}",
                ph.path,
                f"{ph.requests_per_s:.0f}",
                f"{ph.p50_ms:.1f}",
                f"{ph.p99_ms:.1f}",
                str(ph.errors),
            )
    console.print(table)
    for r in results:
        g = r.ingest
        console.print(
            f"{r.backend}: readings ingested {g.readings_per_s:,.0f}/s ({g.threads} station "
            f"threads, 96 a batch, {g.batches} batches, batch p50 {g.p50_batch_ms:.0f} ms, "
            f"p99 {g.p99_batch_ms:.0f} ms, {g.errors} errors)",
            highlight=False,
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "service-load.json").write_text(
        json.dumps([r.as_dict() for r in results], indent=2) + "\n"
    )
    console.print(f"wrote {out / 'service-load.json'}")
    if any(ph.errors for r in results for ph in r.phases) or any(r.ingest.errors for r in results):
        console.print("[red]some reads did not answer 200[/red]")
        raise typer.Exit(1)


@app.command()
def profile(
    case: Annotated[str, typer.Argument(help="Case name (see `vpp bench list`).")],
    top: Annotated[int, typer.Option(help="Functions to print.")] = 30,
    out: OutOpt = Path("out/bench"),
) -> None:
    """Profile one run of a case in this process (cProfile; open the .prof with snakeviz)."""
    cases = all_cases()
    if case not in cases:
        raise typer.BadParameter(f"unknown case {case!r}; known: {', '.join(cases)}")
    c = cases[case]
    c.run(0)  # warm caches, as the suite does
    prof = cProfile.Profile()
    prof.enable()
    sample = c.run(0)
    prof.disable()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"profile-{case}.prof"
    prof.dump_stats(path)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    text = buf.getvalue()
    (out / f"profile-{case}.txt").write_text(text)
    console.print(text, highlight=False, markup=False)
    console.print(
        f"stage times under the profiler (inflated): {json.dumps(sample.times_s)}", markup=False
    )
    console.print(f"wrote {path}")


@app.command()
def peers(
    only: Annotated[
        list[str] | None, typer.Argument(help="Peers to run (energypylinear, pypsa, emhass).")
    ] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Runs per tool and problem.")] = 3,
    envs: Annotated[Path, typer.Option(help="Folder of the peers' own environments.")] = Path(
        ".venv-peers"
    ),
    out: OutOpt = Path("out/bench"),
) -> None:
    """Solve the shared problems with ours and with each peer tool, in one run.

    Fails when an equivalent formulation's objectives differ by more than 1e-6 relative, when
    a peer that installed fails, or when ours is not at least twice as fast as the fastest
    peer; a peer that does not install is reported with its error and does not fail the run.
    """
    from benchmarks.peers.compare import PEERS, compare, markdown, plot, problems_found

    unknown = [p for p in only or [] if p not in PEERS]
    if unknown:
        raise typer.BadParameter(f"unknown peers {unknown}; known: {', '.join(PEERS)}")
    doc = compare(repeats, envs, only, say=lambda s: console.print(s, highlight=False))
    out.mkdir(parents=True, exist_ok=True)
    (out / "peers.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (out / "peers.md").write_text(md)
    plot(doc, out / "peers.png")
    console.print(md, markup=False, highlight=False)
    console.print(f"wrote {out / 'peers.json'}, {out / 'peers.md'}, {out / 'peers.png'}")
    found = problems_found(doc)
    if found:
        for f in found:
            console.print(f"[red]FAIL[/red] {f}", highlight=False)
        raise typer.Exit(1)
    console.print("[green]peers check passed[/green]")

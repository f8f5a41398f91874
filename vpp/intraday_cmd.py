"""``vpp intraday VPP.yaml --date D --now HH:MM --out DIR``: re-dispatch every park from now.

Each park starts from its measured state (``--state``: a folder of ``<park>.json`` state files
or one JSON object by park id; models/intraday.py documents the fields) or, for a park with
none, from the state the day's plan with its commitments predicts now (said so in the output). Accepted DR
commitments come from a ``vpp dispatch`` ``allocation.json`` (``--allocation``): each park keeps
its target import over the event steps still ahead. Writes per park ``<park>/schedule.csv``
(and summary.json, schedule.html) and ``<park>/state-next.json`` (the state the new schedule
predicts one step later: the next run's starting point when nothing is measured), and
``intraday.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from pydantic import ValidationError
from rich.console import Console

from models.errors import InputProblem, ParkInputError, ParkVppError
from models.intraday import Commitment, ParkState, Redispatch, committed_plan, redispatch
from models.solve import SolverOptions
from models.spec import ResolvedPark, problems_from_validation
from vpp.executor import map_ordered, park_executor
from vpp.options import SchedulerOpt, WorkersOpt
from vpp.report import write_outputs
from vpp.spec import load_vpp, resolve_parks

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def _read_states(path: Path | None, park_ids: list[str]) -> dict[str, ParkState]:
    """States by park id from a folder of <park>.json or one JSON object; errors named."""
    if path is None:
        return {}
    raw: dict[str, Any] = {}
    if path.is_dir():
        for pid in park_ids:
            f = path / f"{pid}.json"
            if f.exists():
                raw[pid] = json.loads(f.read_text())
    elif path.exists():
        raw = json.loads(path.read_text())
    else:
        raise ParkInputError([InputProblem("<file>", "file does not exist")], str(path))
    out = {}
    for pid, doc in raw.items():
        if pid not in park_ids:
            raise ParkInputError([InputProblem(pid, "no such park in the VPP")], str(path))
        try:
            out[pid] = ParkState.model_validate(doc)
        except ValidationError as exc:
            raise ParkInputError(problems_from_validation(exc, doc), f"{path} ({pid})") from exc
    return out


def _commitments(path: Path | None, park: ResolvedPark) -> list[Commitment]:
    if path is None:
        return []
    doc = json.loads(path.read_text())
    steps = [int(t) for t in doc["steps"]]
    for p in doc["parks"]:
        if p["park_id"] == park.spec.id:
            target = np.asarray(p["target_import_kw"], dtype=float)
            return [Commitment(doc["event_type"], steps, target[steps])]
    return []


def _job(args: tuple[ResolvedPark, ParkState | None, dt.datetime, list[Commitment]]) -> Redispatch:
    park, state, now, commitments = args
    if state is None:
        # no measurement: start where the day's plan with its commitments says the park is now
        state = committed_plan(park, commitments).state_at(now)
    return redispatch(park, state, commitments, SolverOptions())


def intraday(
    vpp_file: Annotated[Path, typer.Argument(help="VPP file (YAML).")],
    date: Annotated[str, typer.Option("--date", help="Day D, YYYY-MM-DD.")],
    now: Annotated[str, typer.Option("--now", help="Now, HH:MM on day D (a step boundary).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/intraday"),
    state: Annotated[
        Path | None,
        typer.Option(help="Measured state: folder of <park>.json, or one JSON by park id."),
    ] = None,
    allocation: Annotated[
        Path | None, typer.Option(help="allocation.json of accepted DR commitments.")
    ] = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Re-optimise every park from now with its measured state and the rest of the day,
    keeping accepted DR commitments."""
    try:
        day = dt.date.fromisoformat(date)
        hh, mm = (int(x) for x in now.split(":"))
    except ValueError as exc:
        raise typer.BadParameter(f"--date {date!r} / --now {now!r}: YYYY-MM-DD and HH:MM") from exc
    try:
        spec, parks = load_vpp(vpp_file)
        resolved = resolve_parks(parks, day)
        when = dt.datetime.combine(day, dt.time(hh, mm), tzinfo=resolved[0].grid.tz)
        states = _read_states(state, [p.spec.id for p in resolved])
        jobs = [(p, states.get(p.spec.id), when, _commitments(allocation, p)) for p in resolved]
        with park_executor(scheduler, workers, tasks=len(jobs)) as ex:
            runs = map_ordered(ex, _job, jobs)
    except (ParkVppError, ValueError, KeyError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    doc: dict[str, Any] = {"vpp": spec.id, "now": when.isoformat(), "parks": []}
    for p, run in zip(resolved, runs, strict=True):
        folder = out / p.spec.id
        write_outputs(run.schedule, folder)
        nxt = (
            run.park.grid.index[1].to_pydatetime() if run.park.grid.steps > 1 else run.park.grid.end
        )
        (folder / "state-next.json").write_text(run.state_at(nxt).model_dump_json(indent=2) + "\n")
        entry = {
            "park_id": p.spec.id,
            "state": "measured" if p.spec.id in states else "from the day's committed plan",
            "cost_yuan": round(float(run.schedule.costs["total_yuan"]), 2),
            "status": run.schedule.solve.status.value,
            "committed_steps_ahead": len(run.committed_steps),
            "missed_commitment_kwh": round(float(run.missed_kw.sum() * run.park.grid.dt_h), 3),
        }
        doc["parks"].append(entry)
        console.print(
            f"{p.spec.id}: {run.park.grid.steps} steps from {when:%H:%M} ({entry['state']}), "
            f"cost {entry['cost_yuan']:,.0f} yuan, {entry['committed_steps_ahead']} committed "
            f"steps, missed {entry['missed_commitment_kwh']:,.1f} kWh",
            highlight=False,
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "intraday.json").write_text(json.dumps(doc, indent=2) + "\n")
    console.print(f"wrote {out}/intraday.json and <park>/schedule.csv, <park>/state-next.json")

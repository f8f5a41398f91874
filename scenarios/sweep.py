"""Parameter sweeps: ``vpp size SCENARIO --sweep storage_capex_yuan_per_kwh=400:800:100 …``.

A sweep is the cartesian product of its parameters. A parameter is a scenario field, named by
its dotted path (``technologies.storage.capex_yuan_per_kwh``), by its field name when that is
unique (``events_per_year``), or by its section and field name joined with ``_``
(``storage_capex_yuan_per_kwh``, ``dr_price_yuan_per_kw_event``). Values are ``start:stop:step``
(stop included) or a comma list (``true,false`` for switches).

Cases are independent solves, run on the same executors as the VPP's park solves
(vpp/executor.py: a process pool, or Dask). A case that fails (targets unreachable, say) is
reported in its row; the others still run.
"""

from __future__ import annotations

import itertools
import time
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from models.errors import ParkVppError
from scenarios.plan import prepare, run_scenario, with_overrides
from scenarios.spec import ScenarioSpec

MAX_CASES = 10_000


class SweepError(ValueError):
    """A sweep parameter that names no field, or values that cannot be read."""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType, typing.Annotated):
        return [m for a in get_args(annotation) for m in _models_in(a)]
    return []


def field_paths(model: type[BaseModel] = ScenarioSpec, prefix: str = "") -> list[str]:
    """Every leaf field of the scenario format, as dotted paths."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        subs = _models_in(info.annotation)
        if subs:
            for sub in subs:
                out += field_paths(sub, path + ".")
        else:
            out.append(path)
    return sorted(set(out))


def resolve_key(key: str) -> str:
    """The dotted path a sweep key names (module docstring)."""
    paths = field_paths()
    if "." in key:
        if key in paths:
            return key
        raise SweepError(f"--sweep {key}: no such scenario field")
    exact = [p for p in paths if p.rsplit(".", 1)[-1] == key]
    if len(exact) == 1:
        return exact[0]
    joined = [p for p in paths if "_".join(p.split(".")[-2:]) == key]
    found = exact or joined
    if len(found) == 1:
        return found[0]
    if not found:
        raise SweepError(
            f"--sweep {key}: names no scenario field (use a dotted path such as "
            "technologies.storage.capex_yuan_per_kwh)"
        )
    raise SweepError(f"--sweep {key}: ambiguous, it could be {', '.join(found)}")


def _scalar(text: str) -> Any:
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def parse_values(key: str, text: str) -> list[Any]:
    """``a:b:step`` (b included) or ``v1,v2,…``."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise SweepError(f"--sweep {key}={text}: a range is start:stop:step")
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError as exc:
            raise SweepError(f"--sweep {key}={text}: range bounds must be numbers") from exc
        if step <= 0 or stop < start:
            raise SweepError(f"--sweep {key}={text}: need step > 0 and stop ≥ start")
        n = int(np.floor((stop - start) / step + 1e-9)) + 1
        values = [start + i * step for i in range(n)]
        if all(float(v).is_integer() for v in (start, step)):
            return [round(v) for v in values]
        return [round(v, 10) for v in values]
    return [_scalar(v) for v in text.split(",") if v.strip()]


@dataclass(frozen=True)
class SweepCase:
    index: int
    overrides: dict[str, Any]


def cases(spec: ScenarioSpec, sweeps: list[str]) -> list[SweepCase]:
    """The cartesian product of the ``key=values`` arguments, each case validated."""
    axes: list[tuple[str, list[Any]]] = []
    for arg in sweeps:
        if "=" not in arg:
            raise SweepError(f"--sweep {arg}: expected key=values")
        key, text = arg.split("=", 1)
        path = resolve_key(key.strip())
        values = parse_values(key, text)
        if not values:
            raise SweepError(f"--sweep {arg}: no values")
        axes.append((path, values))
    total = int(np.prod([len(v) for _, v in axes])) if axes else 1
    if total > MAX_CASES:
        raise SweepError(f"{total} cases: more than {MAX_CASES}")
    out = []
    for i, combo in enumerate(itertools.product(*[v for _, v in axes])):
        overrides = {p: v for (p, _), v in zip(axes, combo, strict=True)}
        try:
            with_overrides(spec, overrides)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise SweepError(f"case {overrides}: {where}: {first['msg']}") from exc
        out.append(SweepCase(i, overrides))
    return out


@dataclass(frozen=True)
class CaseTask:
    spec: ScenarioSpec
    base_dir: Path
    source: str
    case: SweepCase


def run_case(task: CaseTask) -> dict[str, Any]:
    """One sweep case as a table row (picklable: runs on any executor)."""
    t0 = time.perf_counter()
    row: dict[str, Any] = {"case": task.case.index, **task.case.overrides}
    try:
        spec = with_overrides(task.spec, task.case.overrides)
        plan = run_scenario(prepare(spec, task.base_dir, task.source))
    except ParkVppError as exc:
        row.update({"status": "failed", "message": str(exc).splitlines()[0][:300]})
        row["wall_s"] = time.perf_counter() - t0
        return row
    r = plan.result
    d = plan.as_dict()
    row.update(
        {
            "status": r.solve.status.value,
            "message": "",
            "pv_kwp": r.sizes.get("pv_kwp"),
            "storage_power_kw": r.sizes.get("storage_power_kw"),
            "storage_energy_kwh": r.sizes.get("storage_energy_kwh"),
            "annual_cost_yuan": r.costs_yuan_per_year["total"],
            "capex_yuan": sum(plan.capex_yuan.values()),
            "npv_yuan": plan.cash.npv_yuan,
            "irr_frac": plan.cash.irr_frac,
            "simple_payback_years": plan.cash.simple_payback_years,
            "subsidy_eligible": r.subsidy_eligible,
            "green_certificates_mwh": r.green_certificates_mwh,
            "indicators_near_passed": sum(
                1 for i in d["scorecard"]["indicators"] if i["near_pass"] is True
            ),
            "wall_s": time.perf_counter() - t0,
        }
    )
    return row


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows).sort_values("case").reset_index(drop=True)


def markdown(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append("" if np.isnan(v) else f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(frame: pd.DataFrame, params: list[str], path: Path) -> Path:
    """Sizes and NPV against the first swept parameter (one line per other combination)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = params[0]
    others = params[1:]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    groups = frame.groupby(others) if others else [((), frame)]
    for key, g in groups:
        keys = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{o.rsplit('.', 1)[-1]}={v}" for o, v in zip(others, keys, strict=False))
        g = g.sort_values(x)
        axes[0].plot(g[x], g["pv_kwp"] / 1000, "o-", label=label or None)
        axes[1].plot(
            g[x], g["storage_power_kw"] / 1000, "o-", label=(label + " MW") if label else "MW"
        )
        axes[1].plot(
            g[x], g["storage_energy_kwh"] / 1000, "s--", label=(label + " MWh") if label else "MWh"
        )
        axes[2].plot(g[x], g["npv_yuan"] / 1e6, "o-", label=label or None)
    axes[0].set_ylabel("PV [MWp]")
    axes[1].set_ylabel("new storage [MW, MWh]")
    axes[2].set_ylabel("NPV [million yuan]")
    for ax in axes:
        ax.set_xlabel(x.rsplit(".", 1)[-1])
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

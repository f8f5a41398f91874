"""Write a plan: plan.json, the scorecard, the per-step series and the plots.

Plots (PNG, matplotlib): the load duration curve with the grid import of doing nothing and of
the plan; the typical (representative) days; the cost waterfall from doing nothing to the plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.plan import Plan


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_plan(plan: Plan, out: Path) -> list[Path]:
    """Write every output of a plan under ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "plan.json", out / "scorecard.csv", out / "scorecard.md", out / "series.csv"]
    doc = plan.as_dict()
    paths[0].write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    pd.DataFrame(plan.scorecard.rows()).to_csv(paths[1], index=False)
    paths[2].write_text(
        f"# Scorecard: {plan.spec.name} ({plan.method})\n\n" + plan.scorecard.markdown() + "\n"
    )
    series_frame(plan).to_csv(paths[3], index=False, float_format="%.3f")
    paths += [
        plot_load_duration(plan, out / "load_duration.png"),
        plot_typical_days(plan, out / "typical_days.png"),
        plot_waterfall(plan, out / "cost_waterfall.png"),
    ]
    return paths


def series_frame(plan: Plan) -> pd.DataFrame:
    """Per-step plan values with their segment and weight."""
    p = plan.periods
    seg = np.repeat(np.arange(len(p.lengths)), p.lengths)
    labels = np.asarray(p.labels or ["year"])[seg]
    frame = pd.DataFrame(
        {
            "segment": labels,
            "step": np.concatenate([np.arange(n) for n in p.lengths]),
            "weight": p.step_weight,
            "import_price_yuan_per_kwh": plan.period_data.import_price_yuan_per_kwh,
        }
    )
    for name, values in plan.result.series.items():
        frame[name] = values
    frame["reference_import_kw"] = plan.reference.series["import_kw"]
    return frame


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _duration(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values against the share of the year they are exceeded [%]."""
    order = np.argsort(values)[::-1]
    share = np.cumsum(weights[order]) / weights.sum() * 100.0
    return share, values[order]


def plot_load_duration(plan: Plan, path: Path) -> Path:
    plt = _plt()
    w = plan.periods.step_weight
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for values, label, style in (
        (plan.result.series["load_kw"], "load", "-"),
        (plan.reference.series["import_kw"], "grid import, existing assets", "--"),
        (plan.result.series["import_kw"], "grid import, plan", "-"),
    ):
        x, y = _duration(values, w)
        ax.plot(x, y / 1000.0, style, label=label)
    ax.set_xlabel("share of the year exceeded [%]")
    ax.set_ylabel("MW")
    ax.set_title(f"Load duration: {plan.spec.name} ({plan.method})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_typical_days(plan: Plan, path: Path) -> Path:
    """Each representative day (or, for the full year, each month's mean day)."""
    plt = _plt()
    s = plan.result.series
    p = plan.periods
    if len(p.lengths) > 1:
        groups = [
            (f"{label} (×{w:g})", slice(int(a), int(a) + n))
            for label, w, a, n in zip(p.labels, p.weights, p.starts, p.lengths, strict=True)
        ]
        per_day = p.lengths[0]
        frames = {key: np.stack([s[key][g] for _, g in groups]) for key in s if key.endswith("_kw")}
        titles = [g[0] for g in groups]
    else:
        spd = round(24 / p.dt_h)
        per_day = spd
        months = np.array([min(ms) for ms in p.months])
        days = len(months) // spd
        month_of_day = months[::spd][:days]
        frames = {}
        for key, values in s.items():
            if not key.endswith("_kw"):
                continue
            daily = values[: days * spd].reshape(days, spd)
            frames[key] = np.stack([daily[month_of_day == m].mean(axis=0) for m in range(1, 13)])
        titles = [f"month {m} (mean day)" for m in range(1, 13)]
    n = len(titles)
    cols = 4
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(14, 2.6 * rows), sharey=True, squeeze=False)
    hours = np.arange(per_day) * p.dt_h
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        ax.plot(hours, frames["load_kw"][i] / 1000, label="load", color="black")
        if "pv_kw" in frames:
            ax.fill_between(
                hours, 0, frames["pv_kw"][i] / 1000, alpha=0.3, color="gold", label="PV"
            )
        ax.plot(hours, frames["import_kw"][i] / 1000, label="grid import", color="tab:blue")
        if "storage_new_discharge_kw" in frames:
            net = frames["storage_new_discharge_kw"][i] - frames["storage_new_charge_kw"][i]
            ax.plot(hours, net / 1000, label="new storage (+ discharge)", color="tab:green")
        ax.set_title(titles[i], fontsize=8)
        ax.grid(alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel("MW")
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"Typical days: {plan.spec.name}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def waterfall_steps(plan: Plan) -> list[tuple[str, float]]:
    """From the do-nothing annual cost to the plan's, component by component [yuan/yr]."""
    ref = plan.reference.costs_yuan_per_year
    new = plan.result.costs_yuan_per_year
    steps = [("existing assets", ref["total"])]
    for key in sorted(set(ref) | set(new)):
        if key == "total":
            continue
        delta = new.get(key, 0.0) - ref.get(key, 0.0)
        if abs(delta) > 1e-6:
            steps.append((key.replace("_", " "), delta))
    steps.append(("plan", new["total"]))
    return steps


def plot_waterfall(plan: Plan, path: Path) -> Path:
    plt = _plt()
    steps = waterfall_steps(plan)
    fig, ax = plt.subplots(figsize=(10, 4.8))
    level = 0.0
    for i, (_label, value) in enumerate(steps):
        if i == 0 or i == len(steps) - 1:
            ax.bar(i, value / 1e6, color="tab:gray")
            level = value
            continue
        color = "tab:red" if value > 0 else "tab:green"
        ax.bar(i, value / 1e6, bottom=level / 1e6, color=color)
        level += value
    ax.set_xticks(range(len(steps)), [s[0] for s in steps], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("million yuan per year")
    ax.set_title("Annual cost: existing assets → plan (annualised capital included)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

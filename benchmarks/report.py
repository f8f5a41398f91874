"""Benchmark outputs: ``results.json``, a Markdown table and PNG plots (time vs number of parks,
time vs horizon length)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt

from benchmarks.check import CaseVerdict


def _num(x: float | None, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def markdown(doc: dict[str, Any], verdicts: list[CaseVerdict] | None = None) -> str:
    """The results as Markdown: one row per case, then the derived targets."""
    m = doc["machine"]
    lines = [
        f"# Benchmark results ({doc['created']}, commit {doc.get('commit') or 'unknown'})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, pyomo {m['pyomo']}, "
        f"highspy {m['highspy']}. Calibration problem: {doc['calibration_s']:.3f} s (median of "
        f"{len(doc['calibration_samples_s'])}); `norm` is the total in calibration units. "
        "Times are medians over the repeats [s]; MILP repeats vary HiGHS's random seed.",
        "",
        "| case | status | vars | bins | rows | nnz | build | hand-off | solve | extract "
        "| total | wall | norm | peak MB | objective [yuan] | gap |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in doc["cases"].items():
        t, s = r["median"], r["size"]
        lines.append(
            f"| {name} | {r['status']} | {s['variables']:,} | {s['binaries']:,} | "
            f"{s['constraints']:,} | {s['nonzeros']:,} | {t['build_s']:.3f} | "
            f"{t['handoff_s']:.3f} | {t['solve_s']:.3f} | {t['extract_s']:.3f} | "
            f"{t['total_s']:.3f} | {t['wall_s']:.3f} | {r['normalised']['total_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {_num(r['objective'], ',.2f')} | "
            f"{_num(r['gap'], '.2e')} |"
        )
    if doc.get("derived"):
        lines += [
            "",
            "## MILP against its LP relaxation",
            "",
            "Targets (benchmark issue): total ≤ 2.5 × the LP relaxation's solve time; "
            "build + hand-off ≤ 20 % of the total.",
            "",
            "| MILP case | MILP total [s] | LP solve [s] | LP whole path [s] | total / LP solve "
            "| total / LP path | build + hand-off share |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, d in doc["derived"].items():
            lines.append(
                f"| {name} | {d['milp_total_s']:.3f} | {d['lp_solve_s']:.3f} | "
                f"{d['lp_total_s']:.3f} | {_num(d['total_over_lp_solve'], '.2f')} | "
                f"{_num(d['total_over_lp_total'], '.2f')} | "
                f"{_num(d['build_handoff_share'], '.0%')} |"
            )
    if verdicts is not None:
        lines += [
            "",
            "## Gate (against benchmarks/baseline.json)",
            "",
            "| case | verdict | ratio now / baseline | notes |",
            "|---|---|---|---|",
        ]
        for v in verdicts:
            ratios = ", ".join(f"{k} ×{x:.2f}" for k, x in v.ratios.items()) or "–"
            lines.append(
                f"| {v.name} | {'ok' if v.ok else 'FAIL'} | {ratios} | "
                f"{'; '.join(v.problems) or v.note} |"
            )
    return "\n".join(lines) + "\n"


def _scaling_plot(
    doc: dict[str, Any], group: str, param: str, xlabel: str, path: Path, metric_names: list[str]
) -> Path | None:
    rows = [
        (r["params"][param], name, r)
        for name, r in doc["cases"].items()
        if r["group"] == group and param in r["params"]
    ]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for lp in (False, True):
        series = sorted((x, r) for x, _, r in rows if (r["lp_of"] is not None) == lp)
        if not series:
            continue
        xs = [x for x, _ in series]
        for metric in metric_names:
            ys = [r["median"][metric] for _, r in series]
            label = f"{'LP relaxation' if lp else 'MILP'} {metric.removesuffix('_s')}"
            ax.plot(xs, ys, marker="o", linestyle="--" if lp else "-", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("seconds (median)")
    ax.set_xticks(sorted({x for x, _, _ in rows}))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{group}: time vs {xlabel}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _vpp_cost_plot(doc: dict[str, Any], path: Path) -> Path | None:
    """DR cases: realised objective and the proven lower bound vs the number of parks."""
    rows = sorted(
        (r["params"]["parks"], r)
        for r in doc["cases"].values()
        if r["group"] == "vpp" and "parks" in r["params"]
    )
    if not rows:
        return None
    xs = [x for x, _ in rows]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(xs, [r["objective"] for _, r in rows], marker="o", label="realised objective")
    ax.plot(
        xs,
        [r["bound"] for _, r in rows],
        marker="v",
        linestyle="--",
        label="proven lower bound (V5)",
    )
    ax.set_xlabel("number of large parks")
    ax.set_ylabel("re-dispatch cost + shortfall [yuan]")
    ax.set_xticks(xs)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("vpp: DR event cost vs number of parks (decomposition)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _stages_plot(doc: dict[str, Any], path: Path) -> Path:
    names = list(doc["cases"])
    totals = [doc["cases"][n]["median"]["total_s"] or 1e-12 for n in names]
    labels = [f"{n} ({t:.3f} s)" for n, t in zip(names, totals, strict=True)]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.5))
    left = [0.0] * len(names)
    for metric in ("build_s", "handoff_s", "solve_s", "extract_s"):
        shares = [doc["cases"][n]["median"][metric] / t for n, t in zip(names, totals, strict=True)]
        ax.barh(labels, shares, left=left, label=metric.removesuffix("_s"))
        left = [a + b for a, b in zip(left, shares, strict=True)]
    ax.axvline(0.2, color="black", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_xlabel(
        "share of the case's total time (median); dotted: the 20 % build + hand-off target"
    )
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("where each case's time goes")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(doc: dict[str, Any], out: Path, verdicts: list[CaseVerdict] | None = None) -> list[Path]:
    """Write ``results.json``, ``results.md`` and the plots under ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "results.md"]
    paths[0].write_text(json.dumps(doc, indent=2) + "\n")
    paths[1].write_text(markdown(doc, verdicts))
    if doc["cases"]:
        paths.append(_stages_plot(doc, out / "stages.png"))
    for p in (
        _vpp_cost_plot(doc, out / "vpp_cost_vs_parks.png"),
        _scaling_plot(
            doc, "parks", "parks", "number of parks", out / "time_vs_parks.png", ["wall_s"]
        ),
        _scaling_plot(
            doc,
            "vpp",
            "parks",
            "number of large parks (DR event, decomposition)",
            out / "vpp_time_vs_parks.png",
            ["solve_s", "extract_s", "wall_s"],
        ),
        _scaling_plot(
            doc,
            "horizon",
            "steps",
            "horizon steps (15 min)",
            out / "time_vs_horizon.png",
            ["build_s", "handoff_s", "solve_s", "total_s"],
        ),
    ):
        if p is not None:
            paths.append(p)
    return paths

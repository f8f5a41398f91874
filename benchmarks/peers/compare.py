"""Side by side with peer tools: the same problems solved by ours and by each peer in one run.

Each peer lives in its own virtual environment under ``.venv-peers/<peer>`` (their pins
conflict, see :mod:`benchmarks.peers.problems`), installed from the ``peers-<peer>`` extra of
``pyproject.toml``; a peer that does not install is reported with pip's error. Peers run as
subprocesses (:mod:`benchmarks.peers.run_peer`); ours runs in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.peers import ours
from benchmarks.peers.problems import problems

ROOT = Path(__file__).resolve().parents[2]
PEERS = ("energypylinear", "pypsa", "emhass")
AGREEMENT_RTOL = 1e-6
TARGET_SPEEDUP = 2.0  # ours build + solve at most half the fastest peer's

Say = Callable[[str], None]


def peer_requirements(peer: str) -> list[str]:
    """The pinned requirements of ``peer`` from the ``peers-<peer>`` extra of pyproject.toml."""
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = doc["project"]["optional-dependencies"]
    key = f"peers-{peer}"
    if key not in extras:
        raise KeyError(f"pyproject.toml has no optional dependency group {key!r}")
    return list(extras[key])


def ensure_env(peer: str, envs: Path, say: Say) -> tuple[Path | None, str]:
    """The Python of the peer's environment, creating and installing it if needed.

    Returns
    -------
    (python, error)
        ``python`` is None when the peer does not install here; ``error`` says why.
    """
    env = envs / peer
    python = env / "bin" / "python"
    stamp = env / ".installed"
    reqs = peer_requirements(peer)
    if stamp.exists() and stamp.read_text() == json.dumps(reqs):
        return python, ""
    say(f"installing {peer} into {env} ({', '.join(reqs)}) …")
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(env)],
        [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(python), "-m", "pip", "install", "--quiet", *reqs],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            lines = [
                ln for ln in proc.stderr.splitlines() if not ln.startswith("WARNING: Location")
            ]
            return None, f"`{' '.join(cmd[-len(reqs) :])}` failed: " + " | ".join(lines[-5:])
    stamp.write_text(json.dumps(reqs))
    return python, ""


def run_peer(python: Path, peer: str, problem: str, repeats: int) -> dict[str, Any]:
    proc = subprocess.run(
        [str(python), "-m", "benchmarks.peers.run_peer", peer, problem, str(repeats)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            out: dict[str, Any] = json.loads(line)
            return out
    return {
        "peer": peer,
        "problem": problem,
        "status": "error",
        "error": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-3:]}",
    }


def compare(
    repeats: int = 3,
    envs: Path = ROOT / ".venv-peers",
    only: list[str] | None = None,
    say: Say = print,
) -> dict[str, Any]:
    """Solve every shared problem with ours and its peers; objectives and time ratios.

    Returns
    -------
    dict
        ``problems``: per problem, ours, each peer's result, objective difference and the time
        ratios peer / ours for build, solve and build + solve; ``peers``: install status.
    """
    installs: dict[str, dict[str, Any]] = {}
    out: dict[str, Any] = {"repeats": repeats, "problems": {}, "peers": installs}
    for name, problem in problems().items():
        peers = [p for p in problem.peers if not only or p in only]
        if not peers:
            continue
        say(f"{name}: ours …")
        mine = ours.solve(problem, repeats)
        mine_total = mine["build_s"] + mine["solve_s"]
        entry: dict[str, Any] = {
            "description": problem.description,
            "equivalent": problem.equivalent,
            "ours": mine,
            "peers": {},
        }
        for peer in peers:
            if peer not in installs:
                python, error = ensure_env(peer, envs, say)
                installs[peer] = {"python": str(python) if python else None, "error": error}
            python_s = installs[peer]["python"]
            if python_s is None:
                entry["peers"][peer] = {
                    "status": "not installed",
                    "error": installs[peer]["error"],
                }
                continue
            say(f"{name}: {peer} …")
            res = run_peer(Path(python_s), peer, name, repeats)
            if res.get("objective") is not None and mine["objective"] is not None:
                diff = res["objective"] - mine["objective"]
                res["objective_diff"] = diff
                res["objective_rel_diff"] = abs(diff) / max(abs(mine["objective"]), 1e-9)
                res["agrees"] = res["objective_rel_diff"] <= AGREEMENT_RTOL
            if "build_s" in res:
                total = res["build_s"] + res["solve_s"]
                res["ratio_build"] = res["build_s"] / mine["build_s"]
                res["ratio_solve"] = res["solve_s"] / mine["solve_s"]
                res["ratio_total"] = total / mine_total
            entry["peers"][peer] = res
        ratios = [r["ratio_total"] for r in entry["peers"].values() if "ratio_total" in r]
        entry["fastest_peer_ratio"] = min(ratios) if ratios else None
        entry["target_met"] = min(ratios) >= TARGET_SPEEDUP if ratios else None
        out["problems"][name] = entry
    return out


def problems_found(doc: dict[str, Any]) -> list[str]:
    """What fails the peers check: disagreeing objectives on equivalent formulations, a peer
    that ran but failed, ours not optimal, or the speed target missed."""
    found = []
    for name, e in doc["problems"].items():
        if e["ours"]["status"] != "ok":
            found.append(f"{name}: ours ended {e['ours']['status']}")
        for peer, r in e["peers"].items():
            if r.get("status") == "not installed":
                continue  # reported as such, not a failure of ours
            if r.get("status") != "ok":
                found.append(f"{name}: {peer} {r.get('status')}: {r.get('error', '')}")
            elif e["equivalent"] and not r.get("agrees"):
                found.append(
                    f"{name}: {peer} objective {r['objective']:.6f} vs ours "
                    f"{e['ours']['objective']:.6f} (rel. {r['objective_rel_diff']:.2e})"
                )
        if e["target_met"] is False:
            found.append(
                f"{name}: fastest peer only ×{e['fastest_peer_ratio']:.2f} slower than ours "
                f"(target ×{TARGET_SPEEDUP:.0f})"
            )
    return found


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# Peers side by side",
        "",
        f"Medians over {doc['repeats']} runs after a warm-up. build = from the problem's numbers "
        "to a model ready for the solver; solve = hand-off + solver (+ the peer's file I/O). "
        "Ratios are peer / ours (above 1: ours is faster).",
        "",
        "| problem | tool | version | solver | status | objective [yuan] | rel. diff | build s "
        "| solve s | build ratio | solve ratio | total ratio |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in doc["problems"].items():
        m = e["ours"]
        lines.append(
            f"| {name} | ours | – | HiGHS ({m['method']}) | {m['status']} | "
            f"{m['objective']:,.6f} | – | {m['build_s']:.4f} | {m['solve_s']:.4f} | – | – | – |"
        )
        for peer, r in e["peers"].items():
            if "ratio_total" not in r:
                lines.append(
                    f"| {name} | {peer} | {r.get('version', '–')} | – | {r.get('status')} | – | "
                    f"– | – | – | – | – | – |"
                )
                continue
            lines.append(
                f"| {name} | {peer} | {r['version']} | {r['solver']} | {r['status']} | "
                f"{r['objective']:,.6f} | {r['objective_rel_diff']:.1e} | {r['build_s']:.4f} | "
                f"{r['solve_s']:.4f} | ×{r['ratio_build']:.1f} | ×{r['ratio_solve']:.1f} | "
                f"×{r['ratio_total']:.1f} |"
            )
    errors = [(peer, info["error"]) for peer, info in doc["peers"].items() if info.get("error")]
    if errors:
        lines += ["", "## Peers that did not install", ""]
        lines += [f"- {peer}: {err}" for peer, err in errors]
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, builds, solves = [], [], []
    for name, e in doc["problems"].items():
        rows = [("ours", e["ours"])] + [
            (peer, r) for peer, r in e["peers"].items() if "build_s" in r
        ]
        for tool, r in rows:
            labels.append(f"{name}\n{tool}")
            builds.append(r["build_s"])
            solves.append(r["solve_s"])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.5))
    ax.barh(labels, builds, label="build")
    ax.barh(labels, solves, left=builds, label="solve")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median, log scale)")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=8)
    ax.set_title("shared problems: ours vs peers")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""Run one peer tool on one shared problem, inside the peer's own environment.

``python -m benchmarks.peers.run_peer PEER PROBLEM REPEATS`` (from the repository root, with the
peer's Python) prints one JSON line: the peer's version, status, objective [yuan] and the
median build and solve seconds over the repeats. Only the standard library, the peer and this
folder are imported, so our package need not be installed there.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from benchmarks.peers.problems import Problem, problems

PeerFn = Callable[[Problem], dict[str, Any]]


def _solver(peer: str) -> PeerFn:
    # An explicit table: each peer module imports its tool at import time.
    if peer == "energypylinear":
        from benchmarks.peers import epl_peer

        return epl_peer.solve
    if peer == "pypsa":
        from benchmarks.peers import pypsa_peer

        return pypsa_peer.solve
    if peer == "emhass":
        from benchmarks.peers import emhass_peer

        return emhass_peer.solve
    raise SystemExit(f"unknown peer {peer!r}")


def main(argv: list[str]) -> int:
    peer, name, repeats = argv[0], argv[1], int(argv[2])
    out: dict[str, Any] = {"peer": peer, "problem": name}
    try:
        out["version"] = version(peer)
        solve = _solver(peer)
        problem = problems()[name]
        solve(problem)  # warm-up: imports and first-call caches are not measured
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = solve(problem)
            r["wall_s"] = time.perf_counter() - t0
            runs.append(r)
        out.update(runs[-1])
        for key in ("build_s", "solve_s", "wall_s"):
            out[key] = statistics.median(r[key] for r in runs)
        out["repeats"] = repeats
    except Exception as exc:  # reported, never hidden: the orchestrator shows the error
        out["status"] = "error"
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc(limit=5)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The repeatable gate: instructions executed by one run of a case, counted by callgrind.

Wall-clock times on this shared 2-core machine drift by tens of percent within an hour, even
normalised by a calibration problem measured around every sample (benchmarks/README.md, "The
gate"): the time gate has to allow so much that it catches only gross regressions. An
instruction count does not depend on what else the machine is doing: ``valgrind --tool=callgrind``
gave the same count within 0.2 % for the same case twice here, once with the other core loaded.
So CI gates the count at a few percent, on the same cases as the fast time gate.

What is counted: one run of the case, after an unmeasured warm-up run in the same process (so
imports and caches are not counted). Valgrind starts with instrumentation off
(``--instr-atstart=no``), which keeps the interpreter start and the warm-up fast; the child
switches it on and off around the measured run with ``callgrind_control -i on|off <pid>``. The
count includes the few thousand instructions of that hand-shake, not the child
``callgrind_control`` process (valgrind does not follow children unless asked).

Counts are comparable only for the same interpreter, packages and CPU family: the baseline
records them (:func:`fingerprint`), and :func:`check` names any difference next to a failure.
The package versions are pinned by ``constraints.txt``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

BASELINE = Path(__file__).resolve().parent / "counts_baseline.json"
SCHEMA_VERSION = 1
# Allowed growth of a case's instruction count [-]. The same case counted twice differed by at
# most 0.2 % here (HiGHS's MIP is deterministic for a fixed seed), so 3 % is a real change in
# the work done, not noise.
MAX_INCREASE = 0.03
# Packages whose code runs in the measured region: a different version is different work.
FINGERPRINT_PACKAGES = ("pyomo", "highspy", "numpy", "pandas", "pydantic", "pvlib", "scipy")
# The ``totals:`` line at the end; the ``summary:`` line in the header reads 0 when
# instrumentation starts off (seen with valgrind 3.19).
# Solver time limits are multiplied by this under callgrind (models/solve.py TIME_LIMIT_SCALE):
# ~50× slower, a case must still end by its gap, not by a limit, or its count would depend on
# the machine's speed.
TIME_LIMIT_SCALE = 1000.0
_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


class CountError(RuntimeError):
    """A count could not be taken (no valgrind, the case failed, no totals in the output)."""


def valgrind_version() -> str | None:
    """``valgrind --version`` or None when valgrind is not installed."""
    exe = shutil.which("valgrind")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fingerprint() -> dict[str, str | None]:
    """What a count depends on besides our code: interpreter, packages, CPU, valgrind."""
    fp: dict[str, str | None] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": _cpu(),
        "valgrind": valgrind_version(),
    }
    for pkg in FINGERPRINT_PACKAGES:
        try:
            fp[pkg] = version(pkg)
        except PackageNotFoundError:
            fp[pkg] = None
    return fp


def parse_totals(text: str) -> int:
    """The total instruction count (``Ir``) of a callgrind output file.

    Raises
    ------
    CountError
        The text has no ``totals:`` line.
    """
    m = _TOTALS.search(text)
    if m is None:
        raise CountError("callgrind output has no 'totals:' line")
    return int(m.group(1))


def _callgrind_control(flag: str) -> None:
    # The valgrind'd process answers a callgrind_control command only while it runs guest
    # code, so it polls instead of blocking in wait().
    proc = subprocess.Popen(
        ["callgrind_control", "-i", flag, str(os.getpid())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while proc.poll() is None:
        time.sleep(0.005)
    if proc.returncode != 0:
        raise CountError(f"callgrind_control -i {flag} exited with {proc.returncode}")


def _child(name: str, out: Path) -> None:
    """Inside valgrind: warm up, count one run, write its outcome as JSON to ``out``."""
    from benchmarks.registry import all_cases
    from models import solve

    solve.TIME_LIMIT_SCALE = TIME_LIMIT_SCALE
    case = all_cases()[name]
    case.run(0)
    # The heap left by imports and the warm-up decides when the collector runs in the measured
    # run: moving it out of the collector's sight makes the count depend on the case's own
    # work, not on import order (an import moved into a function changed the sizing case's
    # count by 2 % before this).
    gc.collect()
    gc.freeze()
    _callgrind_control("on")
    sample = case.run(0)
    _callgrind_control("off")
    out.write_text(json.dumps(sample.as_dict()))


@dataclass
class Count:
    """The count of one case."""

    name: str
    instructions: int
    objective: float | None
    status: str
    termination: str
    wall_s: float  # of the whole valgrind run [s]
    sample: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instructions": self.instructions,
            "objective": self.objective,
            "status": self.status,
            "termination": self.termination,
            "valgrind_wall_s": round(self.wall_s, 1),
        }


def count_case(name: str, timeout_s: float = 1800.0) -> Count:
    """Count the instructions of one run of case ``name`` under callgrind.

    Raises
    ------
    CountError
        valgrind is not installed, the run failed or timed out (with the tail of its output).
    """
    if valgrind_version() is None or shutil.which("callgrind_control") is None:
        raise CountError(
            "valgrind is not installed (Debian: apt install valgrind); "
            "the time gate `make bench-check-fast` runs without it"
        )
    with tempfile.TemporaryDirectory(prefix="vpp-count-") as tmp:
        cg_out, result = Path(tmp) / "callgrind.out", Path(tmp) / "sample.json"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={cg_out}",
            sys.executable,
            "-m",
            "benchmarks.counts",
            name,
            str(result),
        ]
        # A fixed hash seed: set and dict orders of strings, hence the work done, repeat.
        # One BLAS thread: numpy's OpenBLAS runs a dot product over more than 10,000 entries
        # (a park's objective) on two threads, and both spin while they wait for each other.
        # Under valgrind's serialised threads that spinning was counted and depended on
        # scheduling: the Wujin summer day counted 2.51 G, 2.74 G and 3.81 G instructions in
        # three runs of the same code (100 M of it in the BLAS worker).
        env = {
            **os.environ,
            "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env=env, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise CountError(f"{name}: no count within {timeout_s:.0f} s") from exc
        wall_s = time.perf_counter() - t0
        if proc.returncode != 0 or not result.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise CountError(f"{name}: counted run failed (exit {proc.returncode}):\n{tail}")
        sample = json.loads(result.read_text())
        instructions = parse_totals(cg_out.read_text())
    return Count(
        name,
        instructions,
        sample.get("objective"),
        sample["status"],
        sample["termination"],
        wall_s,
        sample,
    )


@dataclass
class CountVerdict:
    """The check of one case's count against the baseline."""

    name: str
    ratio: float | None
    problems: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def document(counts: list[Count], accepted: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """A counts document (what ``counts_baseline.json`` and ``counts.json`` hold)."""
    return {
        "schema": SCHEMA_VERSION,
        "fingerprint": fingerprint(),
        "cases": {
            c.name: {**c.as_dict(), "accepted_statuses": list(accepted.get(c.name, ("ok",)))}
            for c in counts
        },
    }


def load(path: Path) -> dict[str, Any]:
    """Read a counts document.

    Raises
    ------
    ValueError
        Not a counts document of this schema (names the file).
    """
    from benchmarks.check import load_document

    return load_document(path, "instruction counts", SCHEMA_VERSION)


def fingerprint_changes(now: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """Differences of what the counts depend on, as ``key base → now``."""
    keys = sorted(set(now) | set(base))
    return [f"{k} {base.get(k)} → {now.get(k)}" for k in keys if now.get(k) != base.get(k)]


def check(
    doc: dict[str, Any],
    baseline: dict[str, Any],
    max_increase: float = MAX_INCREASE,
    objective_rtol: dict[str, float] | None = None,
) -> list[CountVerdict]:
    """Verdicts for every case of ``doc``: more instructions than the baseline by more than
    ``max_increase``, a status the case does not accept, or a worse objective, fail."""
    changes = fingerprint_changes(doc.get("fingerprint", {}), baseline.get("fingerprint", {}))
    verdicts = []
    for name, now in doc["cases"].items():
        base = baseline["cases"].get(name)
        v = CountVerdict(name, None)
        if now["status"] not in now.get("accepted_statuses", ["ok"]):
            v.problems.append(f"status {now['status']} ({now['termination']})")
        if base is None:
            v.note = "new case: no baseline"
            verdicts.append(v)
            continue
        v.ratio = now["instructions"] / base["instructions"]
        if v.ratio > 1 + max_increase:
            msg = (
                f"more work: {now['instructions']:,} vs {base['instructions']:,} instructions "
                f"(×{v.ratio:.3f}, allowed ×{1 + max_increase:.3f})"
            )
            if changes:
                msg += "; environment differs from the baseline's: " + ", ".join(changes)
            v.problems.append(msg)
        elif v.ratio < 1 - max_increase:
            v.note = "less work than the baseline: refresh it with `vpp bench count --write`"
        rtol = (objective_rtol or {}).get(name, 1e-6)
        ref, obj = base.get("objective"), now.get("objective")
        if ref is not None and obj is not None and obj > ref + rtol * max(abs(ref), 1.0):
            v.problems.append(f"objective worse: {obj:.6f} vs baseline {ref:.6f}")
        elif ref is not None and obj is None:
            v.problems.append("no objective (baseline had one)")
        verdicts.append(v)
    return verdicts


if __name__ == "__main__":
    _child(sys.argv[1], Path(sys.argv[2]))

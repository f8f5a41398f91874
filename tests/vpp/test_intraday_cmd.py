"""``vpp intraday``: commitments from ``vpp dispatch`` kept, state handed from run to run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from tests.vpp.test_allocation import run_dispatch
from vpp.cli import app


def _intraday(tmp_path: Path, now: str, out: str, *extra: str) -> dict:  # type: ignore[type-arg]
    args = ["intraday", str(tmp_path / "vpp.yaml"), "--date", "2026-07-15", "--now", now]
    res = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / out), "--scheduler", "serial", *extra]
    )
    assert res.exit_code == 0, res.output
    return json.loads((tmp_path / out / "intraday.json").read_text())


def test_commitments_kept_and_state_handed_over(tmp_path: Path) -> None:
    assert run_dispatch(tmp_path).exit_code == 0  # 600 kW at 02:00–04:00, cheap + dear parks
    alloc = tmp_path / "out" / "allocation.json"
    first = _intraday(tmp_path, "01:00", "run1", "--allocation", str(alloc))
    for p in first["parks"]:
        assert p["state"] == "from the day's committed plan"
        assert p["committed_steps_ahead"] == 8 and p["missed_commitment_kwh"] == 0.0
    doc = json.loads(alloc.read_text())
    for p in doc["parks"]:
        sched = pd.read_csv(tmp_path / "run1" / p["park_id"] / "schedule.csv")
        net = (sched["import_kw"] - sched["export_kw"]).to_numpy()
        # the run starts at 01:00 (step 4 of the day): event steps 8–15 are rows 4–11
        target = np.asarray(p["target_import_kw"])[8:16]
        assert np.all(net[4:12] <= target + 1e-6)
    # the next run (01:15) starts from the first run's predicted state, as measured state
    states = tmp_path / "states"
    states.mkdir()
    for p in first["parks"]:
        shutil.copy(
            tmp_path / "run1" / p["park_id"] / "state-next.json", states / f"{p['park_id']}.json"
        )
    second = _intraday(
        tmp_path, "01:15", "run2", "--allocation", str(alloc), "--state", str(states)
    )
    for a, b in zip(first["parks"], second["parks"], strict=True):
        assert b["state"] == "measured" and b["missed_commitment_kwh"] == 0.0
        s1 = pd.read_csv(tmp_path / "run1" / a["park_id"] / "schedule.csv")
        s2 = pd.read_csv(tmp_path / "run2" / b["park_id"] / "schedule.csv")
        # the battery continues from where run 1 left it after its first step
        soc1, soc2 = s1["bess.soc_kwh"].to_numpy(), s2["bess.soc_kwh"].to_numpy()
        handed = json.loads((states / f"{a['park_id']}.json").read_text())
        assert handed["assets"]["bess"]["soc_kwh"] == soc1[0]
        assert len(soc2) == len(soc1) - 1


def test_a_state_for_an_unknown_park_is_named(tmp_path: Path) -> None:
    assert run_dispatch(tmp_path).exit_code == 0
    (tmp_path / "state.json").write_text(
        json.dumps({"ghost": {"time": "2026-07-15T01:00:00+08:00"}})
    )
    args = ["intraday", str(tmp_path / "vpp.yaml"), "--date", "2026-07-15", "--now", "01:00"]
    res = CliRunner().invoke(
        app, [*args, "--state", str(tmp_path / "state.json"), "--scheduler", "serial"]
    )
    assert res.exit_code == 2 and "ghost: no such park" in res.output.replace("\n", " ")

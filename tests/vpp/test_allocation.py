"""DR event allocation, monolithic MILP: allocations derived by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from models.solve import SolverOptions
from models.spec import resolve_park, validate_park
from tests.vpp.test_capacity import _park
from vpp.allocation import allocate_monolithic
from vpp.cli import app
from vpp.event import DrEvent

TZ = dt.timezone(dt.timedelta(hours=8))
EXACT = SolverOptions(mip_rel_gap=1e-9)


def _parks(cheap: float = 0.01, dear: float = 0.05):  # type: ignore[no-untyped-def]
    out = []
    for pid, cost in (("cheap", cheap), ("dear", dear)):
        raw: dict[str, Any] = _park(pid)
        raw["assets"][0]["degradation_cost_yuan_per_kwh"] = cost
        out.append(resolve_park(validate_park(raw, source="test")))
    return out


def _event(kw: float, **kwargs: Any) -> DrEvent:
    return DrEvent(
        id="ev-1",
        type="peak_shaving",
        start=dt.datetime(2026, 7, 15, 2, tzinfo=TZ),
        end=dt.datetime(2026, 7, 15, 4, tzinfo=TZ),
        requested_kw=kw,
        price_yuan_per_kwh=1.0,
        shortfall_penalty_yuan_per_kwh=2.0,
        **kwargs,
    )


def test_cheaper_park_delivers_first_up_to_its_sustainable_limit() -> None:
    alloc = allocate_monolithic(_parks(), _event(600.0), EXACT)
    cheap, dear = alloc.parks
    # the cheap battery pre-charges and holds 500 kW for 2 h; the dear one covers the rest
    np.testing.assert_allclose(cheap.delivered_kw, [500.0, 500.0], atol=1e-6)
    np.testing.assert_allclose(dear.delivered_kw, [100.0, 100.0], atol=1e-6)
    np.testing.assert_allclose(alloc.shortfall_kw, [0.0, 0.0], atol=1e-6)
    # lossless batteries at a flat price: the only extra cost is degradation of the discharge
    assert cheap.redispatch_cost_yuan == pytest.approx(0.01 * 1000.0, abs=1e-6)
    assert dear.redispatch_cost_yuan == pytest.approx(0.05 * 200.0, abs=1e-6)
    assert alloc.revenue_yuan(1.0) == pytest.approx(1.0 * 1200.0)
    # the target import profile is the baseline minus the delivery in the window
    np.testing.assert_allclose(cheap.target_import_kw[2:4], [500.0, 500.0], atol=1e-6)


def test_beyond_capability_gives_the_shortfall_not_a_crash() -> None:
    alloc = allocate_monolithic(_parks(), _event(1200.0), EXACT)
    np.testing.assert_allclose(alloc.delivered_kw, [1000.0, 1000.0], atol=1e-6)
    np.testing.assert_allclose(alloc.shortfall_kw, [200.0, 200.0], atol=1e-6)
    assert alloc.penalty_yuan(1.0) == pytest.approx(2.0 * 400.0)
    assert alloc.status == "ok"


def test_event_contract_errors() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        DrEvent(
            id="x",
            type="peak_shaving",
            start=dt.datetime(2026, 7, 15, 2),
            end=dt.datetime(2026, 7, 15, 4),
            requested_kw=1.0,
        )
    bad = _event(600.0).model_copy(update={"start": dt.datetime(2026, 7, 15, 2, 30, tzinfo=TZ)})
    with pytest.raises(ValueError, match="not on the 60-minute grid"):
        allocate_monolithic(_parks(), bad, EXACT)


def run_dispatch(tmp_path: Path, *extra: str) -> Any:
    """``vpp dispatch`` on the cheap/dear pair and a 600 kW event (files under ``tmp_path``)."""
    parks = []
    for pid, cost in (("cheap", 0.01), ("dear", 0.05)):
        raw = _park(pid)
        raw["assets"][0]["degradation_cost_yuan_per_kwh"] = cost
        parks.append(raw)
    (tmp_path / "vpp.yaml").write_text(yaml.safe_dump({"id": "v", "name": "two", "parks": parks}))
    (tmp_path / "event.yaml").write_text(yaml.safe_dump(_event(600.0).model_dump(mode="json")))
    args = ["dispatch", str(tmp_path / "vpp.yaml"), "--event", str(tmp_path / "event.yaml")]
    return CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--json", *extra])


def test_cli_dispatch(tmp_path: Path) -> None:
    res = run_dispatch(tmp_path)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # the CLI schedules the event's day (96 × 15 min): 2 h = 8 steps
    assert doc["event"] == "ev-1" and doc["shortfall_kw"] == [0.0] * 8
    assert sum(p["delivered_kw"][0] for p in doc["parks"]) == pytest.approx(600.0, abs=1e-3)
    assert (tmp_path / "out" / "cheap-target.csv").read_text().startswith("timestamp,")


def test_event_file_errors_name_the_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models.errors import ParkInputError
    from vpp.event import load_event

    (tmp_path / "e.yaml").write_text(
        "id: x\ntype: peak_shaving\nstart: 2026-07-15T14:00:00+08:00\n"
        "end: 2026-07-15T16:00:00+08:00\nrequested_kw: 10\nprice_yuan: 3\n"
    )
    with pytest.raises(ParkInputError, match="price_yuan: unknown key"):
        load_event(tmp_path / "e.yaml")

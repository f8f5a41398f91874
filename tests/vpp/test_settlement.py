"""Settlement arithmetic by hand: baselines, delivered response, bands, payment and penalty."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from forecasts.history import history_from_frame
from tests.forecasts.test_baselines import level, synthetic
from vpp.cli import app
from vpp.event import DrEvent
from vpp.settlement import money, settle
from vpp.spec import Programme

TZ = dt.timezone(dt.timedelta(hours=8))
EVENT = DrEvent(
    id="ev-settle",
    type="peak_shaving",
    notice="day_ahead",
    start=dt.datetime(2026, 3, 3, 14, tzinfo=TZ),
    end=dt.datetime(2026, 3, 3, 16, tzinfo=TZ),
    requested_kw=600.0,
    price_yuan_per_kw=15.0,
    price_yuan_per_kwh=0.0,
)
# jiangsu-agreed for 3 March 2026: 28, 27, 26, 25, 24 February (test_baselines.py)
BASE_LEVEL = np.mean([level(dt.date(2026, 2, d)) for d in (28, 27, 26, 25, 24)])


def _metered(reduction_kw: float) -> pd.DataFrame:
    """The synthetic history with the event day's load = baseline − ``reduction_kw`` in the
    event window (the baseline shape is level + 2 kW per step)."""
    frame = synthetic(event_day_level=BASE_LEVEL - reduction_kw)
    return frame


def test_money_bands_by_hand() -> None:
    pr = Programme()  # 0.9–1.1 band, 50 % above, 1.1 × price below
    # 300 delivered of 250 cleared: 275 paid in full, 25 at half
    assert money(300, 250, 15.0, 0.0, 2.0, pr) == pytest.approx((15.0 * 287.5, 0.0))
    # 200 of 250: paid 200; penalty 1.1 × 15 × (225 − 200)
    assert money(200, 250, 15.0, 0.0, 2.0, pr) == pytest.approx((3000.0, 1.1 * 15.0 * 25.0))
    # energy price on delivery up to the cleared kW: 0.5 yuan/kWh × 250 kW × 2 h
    assert money(300, 250, 0.0, 0.5, 2.0, pr) == pytest.approx((250.0, 0.0))


def test_settle_two_parks_by_hand() -> None:
    metered = {
        "a": history_from_frame(_metered(300.0), source="a"),
        "b": history_from_frame(_metered(200.0), source="b"),
    }
    s = settle(EVENT, metered, Programme(), cleared_kw={"a": 250.0, "b": 250.0})
    a, b = s.parks
    assert a.delivered_kw == pytest.approx(300.0)
    assert b.delivered_kw == pytest.approx(200.0)
    assert a.performance_ratio == pytest.approx(1.2)
    assert a.payment_yuan == pytest.approx(15.0 * 287.5)
    assert b.penalty_yuan == pytest.approx(1.1 * 15.0 * 25.0)
    assert a.baseline.days_used[0] == dt.date(2026, 2, 28)
    t = s.totals()
    assert t["delivered_kw"] == pytest.approx(500.0)
    # real-time notice: the baseline is the quarter-hour before control
    rt = settle(EVENT.model_copy(update={"notice": "real_time"}), metered, Programme())
    assert rt.parks[0].baseline.rule.name == "jiangsu-real-time"


def test_cli_settle(tmp_path: Path) -> None:
    folder = tmp_path / "metered"
    folder.mkdir()
    _metered(300.0).to_csv(folder / "a.csv", index=False)
    park = {
        "id": "a",
        "name": "a",
        "location": {"latitude": 31.8, "longitude": 120.0},
        "horizon": {"start": "2026-03-03T00:00:00+08:00", "steps": 96, "resolution_min": 15},
        "grid": {"import_limit_kw": 5000.0, "import_price_yuan_per_kwh": 0.6},
        "load": 1000.0,
    }
    (tmp_path / "vpp.yaml").write_text(yaml.safe_dump({"id": "v", "name": "v", "parks": [park]}))
    (tmp_path / "event.yaml").write_text(yaml.safe_dump(EVENT.model_dump(mode="json")))

    def run(metered: Path, *extra: str) -> Any:
        args = ["settle", str(tmp_path / "vpp.yaml"), "--event", str(tmp_path / "event.yaml")]
        return CliRunner().invoke(app, [*args, "--metered", str(metered), *extra])

    res = run(folder, "--out", str(tmp_path / "out"), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["parks"][0]["delivered_kw"] == pytest.approx(300.0)
    assert (tmp_path / "out" / "settlement.png").stat().st_size > 1000
    missing = run(tmp_path)
    assert missing.exit_code == 2 and "no metered file" in missing.output

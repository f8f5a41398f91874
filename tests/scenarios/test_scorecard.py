"""The KPI scorecard's arithmetic, by hand."""

from __future__ import annotations

import pytest

from scenarios.scorecard import EnergyYear, scorecard


def year(**kw: object) -> EnergyYear:
    base: dict[str, object] = {
        "electricity_use_kwh": 10_000_000.0,
        "grid_import_kwh": 8_000_000.0,
        "grid_export_kwh": 500_000.0,
        "pv_generation_kwh": 2_500_000.0,
        "peak_load_kw": 3000.0,
        "days": 365,
        "storage_kwh": 2000.0,
        "pv_kwp": 1000.0,
        "roof_potential_kwp": 2000.0,
        "dr_capability_kw": 300.0,
        "green_certificates_mwh": 1000.0,
        "green_power_purchase_kwh": 0.0,
        "carriers": {"natural_gas_m3": 1_000_000.0},
        "value_added_10k_yuan": 10_000.0,
        "emission_factor_kg_per_kwh": 0.5978,
    }
    base.update(kw)
    return EnergyYear(**base)  # type: ignore[arg-type]


def test_every_indicator_by_hand() -> None:
    card = scorecard(year())
    got = {i.id: i for i in card.indicators}
    daily = 10_000_000 / 365
    elec_tce = 10_000_000 * 0.1229 / 1000  # 1,229 tce
    gas_tce = 1_000_000 * 1.2143 / 1000  # 1,214.3 tce
    energy = elec_tce + gas_tce
    co2 = 8_000_000 * 0.5978 / 1000 + 1_000_000 * 2.1622 / 1000
    renewable = 2_500_000 - 500_000 + 1_000 * 1000  # PV used on site + certificates

    assert got["T2"].value == 300.0
    assert got["T2"].near_threshold == pytest.approx(0.08 * daily / 24)
    assert got["T2"].long_threshold == pytest.approx(300.0)
    assert got["T2"].near_pass and got["T2"].long_pass  # long: exactly at 10 % of the peak
    assert got["T3"].near_threshold == pytest.approx(0.08 * daily)
    assert got["T3"].near_pass is False
    assert got["T4"].value == pytest.approx(0.5) and got["T4"].near_pass and not got["T4"].long_pass
    assert got["T5"].value == pytest.approx(renewable / 10_000_000)  # 0.30: exactly the target
    assert got["T5"].near_pass and not got["T5"].long_pass
    assert got["T6"].value == pytest.approx(elec_tce / energy)
    assert got["T6"].near_pass and not got["T6"].long_pass
    assert got["T7"].value == pytest.approx(renewable * 0.1229 / 1000 / energy)
    assert got["T7"].near_pass is False
    assert got["T8"].value == pytest.approx(co2 / energy)
    assert got["T8"].near_pass is False and got["T8"].long_threshold == 0.2
    assert got["T9"].value == pytest.approx(energy / 10_000)
    assert got["T9"].near_pass and got["T9"].long_pass
    assert got["T10"].value == pytest.approx(co2 / 10_000)
    assert got["T10"].near_pass is False
    assert [i.cls for i in card.indicators] == [
        "incentive",
        "incentive",
        "incentive",
        "reference",
        "reference",
        "binding",
        "binding",
        "binding",
        "binding",
    ]
    assert card.totals["co2_t"] == pytest.approx(co2)


def test_missing_inputs_are_not_assessed_and_market_based_co2_is_optional() -> None:
    card = scorecard(
        year(dr_capability_kw=None, value_added_10k_yuan=None, roof_potential_kwp=None)
    )
    got = {i.id: i for i in card.indicators}
    for ind in ("T2", "T4", "T9", "T10"):
        assert got[ind].value is None and got[ind].near_pass is None
    market = scorecard(year(green_certificates_reduce_co2=True))
    assert market.totals["co2_t"] == pytest.approx(
        (8_000_000 - 1_000_000) * 0.5978 / 1000 + 1_000_000 * 2.1622 / 1000
    )
    with pytest.raises(ValueError, match=r"annual\.carriers\.biogas_m3"):
        scorecard(year(carriers={"biogas_m3": 5.0}))


def test_t8_long_term_threshold_depends_on_park_size() -> None:
    big = scorecard(year(carriers={"raw_coal_t": 1_500_000.0}))
    assert next(i for i in big.indicators if i.id == "T8").long_threshold == 0.3

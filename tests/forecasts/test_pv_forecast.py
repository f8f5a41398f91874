"""PV: clear-day energy against an independent pvlib ModelChain, the weather path, and the
quantile forecast (ordering, no look-ahead, no history)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pvlib
import pytest

from forecasts.history import History, history_from_frame
from forecasts.load import cutoff_for
from forecasts.pv import PvSystemParams, Weather, clearsky_pv_kw, weather_pv_kw
from forecasts.pv_forecast import forecast_pv, pv_backtest
from models.spec import validate_park
from models.timegrid import TimeGrid

LAT, LON = 31.81, 119.97
DAY = dt.date(2026, 7, 15)


def _reference_kwh(day: dt.date, kwp: float, tilt: float, azimuth: float) -> float:
    """Daily AC energy of the same array from pvlib's ModelChain at 1-minute resolution:
    Ineichen clear sky, Hay-Davies, SAPM cell temperature, PVWatts DC with 14 % losses and the
    PVWatts inverter model (whose part-load efficiency curve differs from our flat 96 %)."""
    p = PvSystemParams()
    loc = pvlib.location.Location(LAT, LON, tz="Asia/Shanghai")
    times = pd.date_range(pd.Timestamp(day, tz="Asia/Shanghai"), periods=1440, freq="1min")
    weather = loc.get_clearsky(times, model="ineichen")
    weather["temp_air"] = p.air_temp_c
    weather["wind_speed"] = p.wind_speed_m_per_s
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=tilt,
        surface_azimuth=azimuth,
        module_parameters={"pdc0": kwp * 1000, "gamma_pdc": p.gamma_pdc_per_c},
        inverter_parameters={"pdc0": kwp * 1000 / p.dc_ac_ratio / p.inverter_efficiency_frac},
        temperature_model_parameters=pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][
            "open_rack_glass_polymer"
        ],
        losses_parameters={},
    )
    mc = pvlib.modelchain.ModelChain(
        system,
        loc,
        transposition_model="haydavies",
        aoi_model="no_loss",
        spectral_model="no_loss",
        dc_model="pvwatts",
        ac_model="pvwatts",
        losses_model="no_loss",
    )
    mc.run_model(weather)
    dc_w = mc.results.dc.clip(lower=0) * (1 - p.system_losses_frac)
    ac_w = pvlib.inverter.pvwatts(dc_w, kwp * 1000 / p.dc_ac_ratio / p.inverter_efficiency_frac)
    return float(ac_w.clip(lower=0).sum() / 60 / 1000)


@pytest.mark.parametrize(("tilt", "azimuth"), [(20.0, 180.0), (10.0, 135.0)])
def test_clear_day_energy_matches_an_independent_pvlib_reference(
    tilt: float, azimuth: float
) -> None:
    grid = TimeGrid.day(DAY)
    ours = clearsky_pv_kw(
        grid,
        latitude_deg=LAT,
        longitude_deg=LON,
        capacity_kwp=1000.0,
        tilt_deg=tilt,
        azimuth_deg=azimuth,
    )
    ours_kwh = float(ours.sum() * grid.dt_h)
    ref_kwh = _reference_kwh(DAY, 1000.0, tilt, azimuth)
    # documented tolerance: 2 % (flat 96 % inverter vs PVWatts part-load curve, 5-minute
    # sub-steps vs 1-minute reference)
    assert ours_kwh == pytest.approx(ref_kwh, rel=0.02)


def _clear_weather(grid: TimeGrid) -> Weather:
    loc = pvlib.location.Location(LAT, LON, tz="Asia/Shanghai")
    times = pd.date_range(pd.Timestamp(grid.start), periods=grid.steps * 15, freq="1min")
    cs = (
        loc.get_clearsky(times + pd.Timedelta(seconds=30))
        .to_numpy()
        .reshape(grid.steps, 15, 3)
        .mean(axis=1)
    )
    ghi, dni, dhi = cs[:, 0], cs[:, 1], cs[:, 2]
    return Weather(ghi, dni, dhi, np.full(grid.steps, 25.0), np.full(grid.steps, 1.0))


def test_weather_path_reproduces_clear_sky_when_fed_clear_sky() -> None:
    grid = TimeGrid.day(DAY)
    args = {
        "latitude_deg": LAT,
        "longitude_deg": LON,
        "capacity_kwp": 1000.0,
        "tilt_deg": 20.0,
        "azimuth_deg": 180.0,
    }
    clear = clearsky_pv_kw(grid, **args)
    w = _clear_weather(grid)
    full = weather_pv_kw(grid, w, **args)
    assert full.sum() == pytest.approx(clear.sum(), rel=0.005)
    ghi_only = weather_pv_kw(grid, Weather(w.ghi_w_per_m2), **args)
    # Erbs splits clear-sky GHI into DNI/DHI differently from Ineichen: documented 5 %
    assert ghi_only.sum() == pytest.approx(clear.sum(), rel=0.05)
    half = weather_pv_kw(grid, Weather(w.ghi_w_per_m2 * 0.5), **args)
    assert half.sum() < 0.6 * clear.sum()
    with pytest.raises(ValueError, match="both dni_w_per_m2 and dhi_w_per_m2"):
        weather_pv_kw(grid, Weather(w.ghi_w_per_m2, dni_w_per_m2=w.dni_w_per_m2), **args)
    with pytest.raises(ValueError, match="has 3 values for 96 steps"):
        weather_pv_kw(grid, Weather(np.zeros(3)), **args)


def _spec():  # type: ignore[no-untyped-def]
    return validate_park(
        {
            "id": "pv-test",
            "name": "pv test",
            "location": {"latitude": LAT, "longitude": LON},
            "horizon": {"start": "2026-07-15T00:00:00+08:00", "steps": 96, "resolution_min": 15},
            "grid": {"import_limit_kw": 5000.0, "tariff": "jiangsu-2025-two-part-1-10kv"},
            "load": 100.0,
            "assets": [{"id": "pv", "type": "pv", "capacity_kwp": 1000.0}],
        },
        source="test",
    )


def _history(spec, days: int = 40, seed: int = 1) -> History:  # type: ignore[no-untyped-def]
    """Metered PV = clear sky × a random clearness per day."""
    first = DAY - dt.timedelta(days=days)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(days + 2):
        d = first + dt.timedelta(days=i)
        grid = TimeGrid.day(d)
        pv = clearsky_pv_kw(
            grid,
            latitude_deg=LAT,
            longitude_deg=LON,
            capacity_kwp=1000.0,
            tilt_deg=20.0,
            azimuth_deg=180.0,
        )
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": grid.index.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "pv_kw": pv * rng.uniform(0.3, 1.0),
                    "load_kw": 100.0,
                }
            )
        )
    return history_from_frame(pd.concat(rows), source="pv-history")


def test_quantile_forecast_ordered_and_without_look_ahead() -> None:
    spec = _spec()
    hist = _history(spec)
    f = forecast_pv(spec, DAY, history=hist)
    assert (f.p10_kw <= f.p50_kw + 1e-9).all() and (f.p50_kw <= f.p90_kw + 1e-9).all()
    assert f.p10_kw.sum() < 0.6 * f.p90_kw.sum()  # clearness 0.3–1.0 gives a wide band
    poisoned = hist.frame.copy()
    poisoned.loc[poisoned.index >= cutoff_for(DAY), "pv_kw"] = 1e6
    g = forecast_pv(spec, DAY, history=History(poisoned, 15, source="poisoned"))
    np.testing.assert_array_equal(f.p50_kw, g.p50_kw)
    bare = forecast_pv(spec, DAY)
    np.testing.assert_array_equal(bare.p10_kw, bare.p90_kw)
    assert "no PV history" in bare.notes[0]
    bt = pv_backtest(spec, hist, [DAY, DAY + dt.timedelta(days=1)])
    assert bt["days"] == 2 and bt["mae_kw"] is not None and 0.0 <= bt["coverage_frac"] <= 1.0  # type: ignore[operator]


def test_weather_file_drives_the_forecast(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from forecasts.pv_forecast import read_weather

    grid = TimeGrid.day(DAY)
    w = _clear_weather(grid)
    # a 5-minute file (finer than the grid) of half the clear-sky irradiance, naive timestamps
    times = pd.date_range(pd.Timestamp(DAY), periods=96 * 3, freq="5min")
    pd.DataFrame(
        {
            "timestamp": times.strftime("%Y-%m-%dT%H:%M"),
            "ghi_w_per_m2": np.repeat(w.ghi_w_per_m2 * 0.5, 3),
            "temp_air_c": 30.0,
        }
    ).to_csv(tmp_path / "w.csv", index=False)
    weather = read_weather(tmp_path / "w.csv", DAY)
    np.testing.assert_allclose(weather.ghi_w_per_m2, w.ghi_w_per_m2 * 0.5)
    f = forecast_pv(_spec(), DAY, weather=weather)
    clear = forecast_pv(_spec(), DAY)
    assert f.method == "weather" and 0.3 < f.p50_kw.sum() / clear.p50_kw.sum() < 0.6
    pd.DataFrame({"timestamp": ["2026-07-15T00:00"], "ghi_w_per_m2": [0.0]}).to_csv(
        tmp_path / "short.csv", index=False
    )
    from forecasts.load import ForecastError

    with pytest.raises(ForecastError, match="does not cover 2026-07-15T01:00"):
        read_weather(tmp_path / "short.csv", DAY)

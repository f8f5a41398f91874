"""PV output estimates with pvlib.

The clear-sky estimate is the fallback when a park file gives no ``forecast_kw`` for a PV asset:
Ineichen clear sky (Linke turbidity from pvlib's climatology) at the park's coordinates,
Hay-Davies transposition onto the array plane, SAPM open-rack cell temperature and a PVWatts
DC model, then system losses and an inverter AC limit. It is evaluated every 5 minutes and
averaged over each step so that it is the same energy at any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.timegrid import TimeGrid

_PVLIB: Any = None


def _pvlib() -> Any:
    """pvlib, imported on first use: with scipy it costs ~1.5 s at every `vpp serve` start,
    which parses park files but computes no PV."""
    global _PVLIB
    if _PVLIB is None:
        import pvlib

        _PVLIB = pvlib
    return _PVLIB


_SUBSTEP_MIN = 5


@dataclass(frozen=True)
class PvSystemParams:
    """PVWatts-style system parameters.

    Parameters
    ----------
    gamma_pdc_per_c : float
        Power temperature coefficient [1/°C] (crystalline silicon, pvlib PVWatts default).
    system_losses_frac : float
        Soiling, wiring, mismatch and availability losses [-] (PVWatts default 14 %).
    dc_ac_ratio : float
        DC nameplate over inverter AC rating [-].
    inverter_efficiency_frac : float
        Nominal inverter efficiency [-].
    air_temp_c : float
        Ambient temperature assumed when no weather is given [°C].
    wind_speed_m_per_s : float
        Wind speed assumed when no weather is given [m/s].
    """

    gamma_pdc_per_c: float = -0.0037
    system_losses_frac: float = 0.14
    dc_ac_ratio: float = 1.1
    inverter_efficiency_frac: float = 0.96
    air_temp_c: float = 25.0
    wind_speed_m_per_s: float = 1.0


def clearsky_pv_kw(
    grid: TimeGrid,
    *,
    latitude_deg: float,
    longitude_deg: float,
    capacity_kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    params: PvSystemParams | None = None,
) -> np.ndarray:
    """Clear-sky AC output of one PV array, averaged per step [kW].

    Parameters
    ----------
    grid : TimeGrid
        Steps to estimate.
    latitude_deg, longitude_deg : float
        Site [°].
    capacity_kwp : float
        DC nameplate [kWp].
    tilt_deg, azimuth_deg : float
        Array orientation [°]; azimuth 180 = south.

    Returns
    -------
    numpy.ndarray
        Mean AC power of each step [kW], ≥ 0.
    """
    p = params or PvSystemParams()
    times, location, solpos = _substeps(grid, latitude_deg, longitude_deg)
    clear = location.get_clearsky(times, model="ineichen", solar_position=solpos)
    n_sub = grid.resolution_min // _SUBSTEP_MIN
    air = np.full(len(times), p.air_temp_c)
    wind = np.full(len(times), p.wind_speed_m_per_s)
    ac = _ac_kw(
        times,
        solpos,
        clear["ghi"],
        clear["dni"],
        clear["dhi"],
        air,
        wind,
        capacity_kwp,
        tilt_deg,
        azimuth_deg,
        p,
    )
    return np.asarray(ac.reshape(grid.steps, n_sub).mean(axis=1), dtype=float)


def _substeps(
    grid: TimeGrid, latitude_deg: float, longitude_deg: float
) -> tuple[pd.DatetimeIndex, Any, pd.DataFrame]:
    n_sub = grid.resolution_min // _SUBSTEP_MIN
    # Sample at sub-step midpoints so each step's mean is its energy / dt.
    times = pd.date_range(
        start=pd.Timestamp(grid.start) + pd.Timedelta(minutes=_SUBSTEP_MIN / 2),
        periods=grid.steps * n_sub,
        freq=pd.Timedelta(minutes=_SUBSTEP_MIN),
    )
    pvlib = _pvlib()
    location = pvlib.location.Location(latitude_deg, longitude_deg, tz=str(grid.tz))
    return times, location, location.get_solarposition(times)


def _ac_kw(
    times: pd.DatetimeIndex,
    solpos: pd.DataFrame,
    ghi: Any,
    dni: Any,
    dhi: Any,
    air_temp_c: np.ndarray,
    wind_m_per_s: np.ndarray,
    capacity_kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    p: PvSystemParams,
) -> np.ndarray:
    """AC power at each sub-step [kW] from irradiance [W/m²] and weather."""
    pvlib = _pvlib()
    dni_extra = pvlib.irradiance.get_extra_radiation(times)
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=tilt_deg,
        surface_azimuth=azimuth_deg,
        solar_zenith=solpos["apparent_zenith"],
        solar_azimuth=solpos["azimuth"],
        dni=dni,
        ghi=ghi,
        dhi=dhi,
        dni_extra=dni_extra,
        model="haydavies",
    )
    poa_global = poa["poa_global"].fillna(0.0).clip(lower=0.0)
    temp_params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    cell_temp = pvlib.temperature.sapm_cell(poa_global, air_temp_c, wind_m_per_s, **temp_params)
    dc_kw = pvlib.pvsystem.pvwatts_dc(poa_global, cell_temp, capacity_kwp, p.gamma_pdc_per_c)
    ac_limit_kw = capacity_kwp / p.dc_ac_ratio
    ac_kw = np.minimum(
        np.asarray(dc_kw, dtype=float) * (1 - p.system_losses_frac) * p.inverter_efficiency_frac,
        ac_limit_kw,
    )
    return np.clip(np.nan_to_num(ac_kw), 0.0, None)


@dataclass(frozen=True)
class Weather:
    """A weather forecast on a park's grid, one value per step (the step's mean).

    Parameters
    ----------
    ghi_w_per_m2 : ndarray
        Global horizontal irradiance [W/m²].
    dni_w_per_m2, dhi_w_per_m2 : ndarray, optional
        Direct normal and diffuse horizontal irradiance [W/m²]; both or neither. Without them
        GHI is split with the Erbs model.
    temp_air_c : ndarray, optional
        Air temperature [°C].
    wind_m_per_s : ndarray, optional
        Wind speed [m/s].
    """

    ghi_w_per_m2: np.ndarray
    dni_w_per_m2: np.ndarray | None = None
    dhi_w_per_m2: np.ndarray | None = None
    temp_air_c: np.ndarray | None = None
    wind_m_per_s: np.ndarray | None = None


def _spread(step_values: np.ndarray, shape: np.ndarray, n_sub: int) -> np.ndarray:
    """Sub-step values whose step means are ``step_values``, following ``shape`` within each
    step (the sun moves inside a 15-minute step; a flat hold would misplace the energy)."""
    sh = shape.reshape(-1, n_sub)
    mean = sh.mean(axis=1, keepdims=True)
    ratio = np.divide(sh, mean, out=np.ones_like(sh), where=mean > 1e-9)
    return np.asarray((step_values[:, None] * ratio).ravel(), dtype=float)


def weather_pv_kw(
    grid: TimeGrid,
    weather: Weather,
    *,
    latitude_deg: float,
    longitude_deg: float,
    capacity_kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    params: PvSystemParams | None = None,
) -> np.ndarray:
    """AC output of one PV array from a weather forecast, averaged per step [kW].

    The same chain as :func:`clearsky_pv_kw` (Hay-Davies, SAPM cell temperature, PVWatts),
    fed with the forecast irradiance, air temperature and wind.

    Raises
    ------
    ValueError
        A weather series of the wrong length, or only one of DNI and DHI.
    """
    p = params or PvSystemParams()
    for name in ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2", "temp_air_c", "wind_m_per_s"):
        v = getattr(weather, name)
        if v is not None and len(v) != grid.steps:
            raise ValueError(f"weather {name} has {len(v)} values for {grid.steps} steps")
    if (weather.dni_w_per_m2 is None) != (weather.dhi_w_per_m2 is None):
        raise ValueError("weather needs both dni_w_per_m2 and dhi_w_per_m2, or neither")
    times, location, solpos = _substeps(grid, latitude_deg, longitude_deg)
    n_sub = grid.resolution_min // _SUBSTEP_MIN
    clear = location.get_clearsky(times, model="ineichen", solar_position=solpos)
    ghi = _spread(np.asarray(weather.ghi_w_per_m2, dtype=float), clear["ghi"].to_numpy(), n_sub)
    if weather.dni_w_per_m2 is not None and weather.dhi_w_per_m2 is not None:
        dni = _spread(np.asarray(weather.dni_w_per_m2, float), clear["dni"].to_numpy(), n_sub)
        dhi = _spread(np.asarray(weather.dhi_w_per_m2, float), clear["dhi"].to_numpy(), n_sub)
    else:
        split = _pvlib().irradiance.erbs(ghi, solpos["zenith"], times)
        dni, dhi = split["dni"].to_numpy(), split["dhi"].to_numpy()
    air = (
        np.repeat(np.asarray(weather.temp_air_c, float), n_sub)
        if weather.temp_air_c is not None
        else np.full(len(times), p.air_temp_c)
    )
    wind = (
        np.repeat(np.asarray(weather.wind_m_per_s, float), n_sub)
        if weather.wind_m_per_s is not None
        else np.full(len(times), p.wind_speed_m_per_s)
    )
    ac = _ac_kw(
        times,
        solpos,
        pd.Series(ghi, index=times),
        pd.Series(dni, index=times),
        pd.Series(dhi, index=times),
        air,
        wind,
        capacity_kwp,
        tilt_deg,
        azimuth_deg,
        p,
    )
    return np.asarray(ac.reshape(grid.steps, n_sub).mean(axis=1), dtype=float)

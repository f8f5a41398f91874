"""PV output estimates with pvlib.

The clear-sky estimate is the fallback when a park file gives no ``forecast_kw`` for a PV asset:
Ineichen clear sky (Linke turbidity from pvlib's climatology) at the park's coordinates,
Hay-Davies transposition onto the array plane, SAPM open-rack cell temperature and a PVWatts
DC model, then system losses and an inverter AC limit. It is evaluated every 5 minutes and
averaged over each step so that it is the same energy at any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib

from models.timegrid import TimeGrid

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
    n_sub = grid.resolution_min // _SUBSTEP_MIN
    # Sample at sub-step midpoints so each step's mean is its energy / dt.
    times = pd.date_range(
        start=pd.Timestamp(grid.start) + pd.Timedelta(minutes=_SUBSTEP_MIN / 2),
        periods=grid.steps * n_sub,
        freq=pd.Timedelta(minutes=_SUBSTEP_MIN),
    )
    location = pvlib.location.Location(latitude_deg, longitude_deg, tz=str(grid.tz))
    solpos = location.get_solarposition(times)
    clear = location.get_clearsky(times, model="ineichen", solar_position=solpos)
    dni_extra = pvlib.irradiance.get_extra_radiation(times)
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=tilt_deg,
        surface_azimuth=azimuth_deg,
        solar_zenith=solpos["apparent_zenith"],
        solar_azimuth=solpos["azimuth"],
        dni=clear["dni"],
        ghi=clear["ghi"],
        dhi=clear["dhi"],
        dni_extra=dni_extra,
        model="haydavies",
    )
    poa_global = poa["poa_global"].fillna(0.0).clip(lower=0.0)
    temp_params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
    cell_temp = pvlib.temperature.sapm_cell(
        poa_global, p.air_temp_c, p.wind_speed_m_per_s, **temp_params
    )
    dc_kw = pvlib.pvsystem.pvwatts_dc(poa_global, cell_temp, capacity_kwp, p.gamma_pdc_per_c)
    ac_limit_kw = capacity_kwp / p.dc_ac_ratio
    ac_kw = np.minimum(
        np.asarray(dc_kw, dtype=float) * (1 - p.system_losses_frac) * p.inverter_efficiency_frac,
        ac_limit_kw,
    )
    ac_kw = np.clip(np.nan_to_num(ac_kw), 0.0, None)
    return np.asarray(ac_kw.reshape(grid.steps, n_sub).mean(axis=1), dtype=float)

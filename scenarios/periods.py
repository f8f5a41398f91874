"""A year of load, PV yield and prices, and the periods a sizing model runs over.

Representative days (the documented method)
-------------------------------------------
1. Every day of the year is a vector of its hourly load (÷ the year's peak), PV yield per kWp
   (÷ its peak) and import price (÷ its peak): 72 features, so that seasons with different
   tariff windows, workdays and weekends, clear and cloudy days separate.
2. k-means (scikit-learn, k-means++ initialisation, ``n_init=10``, a fixed seed) groups the days
   into ``k`` clusters.
3. Each cluster is represented by its *medoid*, the real day nearest to the cluster's centre (a
   real day keeps the correlation of load, sun and price that an averaged centre smooths away),
   weighted by the number of days in the cluster, so the weights add up to the days of the year.
   Its load and PV yield are scaled to the cluster's mean daily energy, so the weighted year has
   exactly the metered year's energy (the shape, and so the peak, stays the medoid's).
4. A representative day's steps can set the peak of every month that has a day in its cluster
   (docs/model.md S3), so monthly demand charges are charged where the days fall.

Storage is cyclic within each representative day (no energy carried from one day to another).
``vpp size --accuracy`` measures what this costs against the full year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasts.history import HistoryError, read_history
from forecasts.pv import clearsky_pv_kw
from models.errors import InputProblem, ParkInputError
from models.periods import Periods
from models.spec import ParkSpec
from models.tariff import TariffSpec, builtin_tariff
from models.timegrid import MAX_PLANNING_HORIZON_H, TimeGrid

# Short gaps in a metered year are interpolated; longer ones are an error (never invented).
MAX_FILLED_GAP_H = 1.0


@dataclass(frozen=True)
class YearData:
    """One year on a regular grid.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Step starts, tz-aware.
    resolution_min : int
        Step [min].
    load_kw : numpy.ndarray
        Park load [kW].
    pv_kw : numpy.ndarray, optional
        Metered PV output of the existing arrays [kW].
    pv_yield_kw_per_kwp : numpy.ndarray, optional
        AC output per kWp installed [kW/kWp].
    yield_source : str
        Where the yield came from (``history`` or ``clearsky``).
    import_price_yuan_per_kwh, export_price_yuan_per_kwh : numpy.ndarray
        Prices [yuan/kWh].
    filled_steps : int
        Steps interpolated over short gaps.
    """

    index: pd.DatetimeIndex
    resolution_min: int
    load_kw: np.ndarray
    pv_kw: np.ndarray | None
    pv_yield_kw_per_kwp: np.ndarray | None
    yield_source: str
    import_price_yuan_per_kwh: np.ndarray
    export_price_yuan_per_kwh: np.ndarray
    filled_steps: int = 0

    @property
    def dt_h(self) -> float:
        return self.resolution_min / 60.0

    @property
    def steps_per_day(self) -> int:
        return 24 * 60 // self.resolution_min

    @property
    def days(self) -> list[dt.date]:
        return [ts.date() for ts in self.index[:: self.steps_per_day]]


def history_path(park: ParkSpec, override: str | None, park_dir: Path, scenario_dir: Path) -> Path:
    """The metered year: the scenario's ``history``, else the park's forecast history or load
    file (its ``#column`` dropped)."""
    if override is not None:
        return scenario_dir / override
    fc = park.forecast
    if fc is not None and not isinstance(fc, str) and fc.history is not None:
        return park_dir / fc.history
    if isinstance(park.load, str):
        return park_dir / park.load.partition("#")[0]
    raise ParkInputError(
        [InputProblem("history", "give a year of metered load: the park's load is not a file")],
        park.id,
    )


def year_frame(path: Path, year: int | None, resolution_min: int, source: str) -> pd.DataFrame:
    try:
        hist = read_history(path)
        present = hist.frame.index[hist.frame.notna().any(axis=1)]
        # An hourly (or half-hourly) file read on the 15-minute grid is mostly "gaps": read it
        # again at its own resolution.
        if len(present) > 1:
            steps_ns = np.diff(np.asarray(present, dtype="datetime64[ns]")).astype("int64")
            spacing = int(np.median(steps_ns) // 60_000_000_000)
            if spacing in (30, 60) and spacing != hist.resolution_min:
                hist = read_history(path, resolution_min=spacing)
    except HistoryError as exc:
        raise ParkInputError([InputProblem("history", str(exc))], source) from exc
    frame = hist.frame
    index = pd.DatetimeIndex(frame.index)
    if "load_kw" not in frame.columns:
        raise ParkInputError([InputProblem("history", f"{path}: no load_kw column")], source)
    if year is None:
        counts = frame["load_kw"].notna().groupby(index.year).sum()
        year = int(np.asarray(counts.index)[int(np.argmax(counts.to_numpy()))])
    tz = index.tz
    start = pd.Timestamp(dt.datetime(year, 1, 1), tz=tz)
    end = pd.Timestamp(dt.datetime(year + 1, 1, 1), tz=tz)
    step = pd.Timedelta(minutes=hist.resolution_min)
    full = pd.date_range(start, end - step, freq=step)
    in_year = frame.reindex(full)
    missing = int(in_year["load_kw"].isna().sum())
    if missing == len(full):
        raise ParkInputError([InputProblem("year", f"{path} has no load in {year}")], source)
    limit = int(MAX_FILLED_GAP_H * 60 / hist.resolution_min)
    filled = in_year.interpolate(limit_area="inside")
    # Only runs of at most ``limit`` missing steps are filled; longer runs stay missing whole.
    for col in in_year.columns:
        gap = in_year[col].isna().to_numpy()
        run_id = np.cumsum(~gap)
        run_len = pd.Series(gap).groupby(run_id).transform("sum").to_numpy()
        filled.loc[gap & (run_len > limit), col] = np.nan
    still = int(filled["load_kw"].isna().sum())
    if still:
        first = filled.index[filled["load_kw"].isna()][0]
        raise ParkInputError(
            [
                InputProblem(
                    "history",
                    f"{path}: {still} step(s) of {year} have no load after filling gaps up to "
                    f"{MAX_FILLED_GAP_H:g} h (first at {first.isoformat()}); sizing needs the "
                    "whole year",
                )
            ],
            source,
        )
    filled.attrs["filled_steps"] = missing
    if resolution_min != hist.resolution_min:
        filled = filled.resample(f"{resolution_min}min").mean()
        filled.attrs["filled_steps"] = missing
    return filled


def year_data(
    park: ParkSpec,
    *,
    history: Path,
    year: int | None,
    resolution_min: int,
    tariff: TariffSpec | str | None,
    export_price_yuan_per_kwh: float | None,
    pv_yield_source: str,
    pv_tilt_deg: float,
    pv_azimuth_deg: float,
    source: str,
) -> YearData:
    """Load, PV yield and prices for every step of one year.

    Raises
    ------
    ParkInputError
        The history does not cover the year, or the price cannot be extended to a year.
    """
    frame = year_frame(history, year, resolution_min, source)
    index = pd.DatetimeIndex(frame.index)
    grid = TimeGrid(
        start=index[0].to_pydatetime(),
        steps=len(index),
        resolution_min=resolution_min,
        max_horizon_h=MAX_PLANNING_HORIZON_H,
    )
    tariff = tariff if tariff is not None else park.grid.tariff
    if tariff is None:
        raise ParkInputError(
            [
                InputProblem(
                    "economics.tariff",
                    "the park prices energy with a price series, which does not extend to a "
                    "year: give a built-in tariff here or as grid.tariff",
                )
            ],
            source,
        )
    spec = builtin_tariff(tariff) if isinstance(tariff, str) else tariff
    imp = spec.import_price(grid)
    exp_price = (
        export_price_yuan_per_kwh
        if export_price_yuan_per_kwh is not None
        else park.grid.export_price_yuan_per_kwh
    )
    if not isinstance(exp_price, float | int):
        raise ParkInputError(
            [
                InputProblem(
                    "economics.export_price_yuan_per_kwh",
                    "the park's export price is a series; give one price for the year",
                )
            ],
            source,
        )
    exp = np.full(grid.steps, float(exp_price))
    load = frame["load_kw"].to_numpy(dtype=float)
    pv_kw = frame["pv_kw"].to_numpy(dtype=float) if "pv_kw" in frame.columns else None
    installed = sum(a.capacity_kwp for a in park.assets if a.type == "pv")
    yld: np.ndarray | None
    use_history = pv_yield_source == "history" or (
        pv_yield_source == "auto" and pv_kw is not None and installed > 0
    )
    if use_history:
        if pv_kw is None or installed <= 0 or not np.isfinite(pv_kw).all():
            raise ParkInputError(
                [
                    InputProblem(
                        "technologies.pv.yield_source",
                        "'history' needs a complete pv_kw column and PV assets in the park",
                    )
                ],
                source,
            )
        yld = np.clip(pv_kw, 0.0, None) / installed
        yield_source = "history"
    else:
        yld = clearsky_pv_kw(
            grid,
            latitude_deg=park.location.latitude,
            longitude_deg=park.location.longitude,
            capacity_kwp=1.0,
            tilt_deg=pv_tilt_deg,
            azimuth_deg=pv_azimuth_deg,
        )
        yield_source = "clearsky"
    return YearData(
        index=index,
        resolution_min=resolution_min,
        load_kw=load,
        pv_kw=pv_kw,
        pv_yield_kw_per_kwp=yld,
        yield_source=yield_source,
        import_price_yuan_per_kwh=imp,
        export_price_yuan_per_kwh=exp,
        filled_steps=int(frame.attrs.get("filled_steps", 0)),
    )


@dataclass(frozen=True)
class PeriodData:
    """The periods and the per-step data on them."""

    periods: Periods
    load_kw: np.ndarray
    pv_yield_kw_per_kwp: np.ndarray | None
    import_price_yuan_per_kwh: np.ndarray
    export_price_yuan_per_kwh: np.ndarray
    representative_days: list[dt.date]
    cluster_of_day: dict[dt.date, int]


def full_year(yd: YearData) -> PeriodData:
    """The whole year as one cyclic segment."""
    months = tuple(frozenset({ts.month}) for ts in yd.index)
    periods = Periods(
        lengths=(len(yd.index),), weights=(1.0,), dt_h=yd.dt_h, months=months, labels=("year",)
    )
    return PeriodData(
        periods,
        yd.load_kw,
        yd.pv_yield_kw_per_kwp,
        yd.import_price_yuan_per_kwh,
        yd.export_price_yuan_per_kwh,
        [],
        {},
    )


def _daily(values: np.ndarray, spd: int) -> np.ndarray:
    return values.reshape(-1, spd)


def representative_days(yd: YearData, k: int, seed: int = 0) -> PeriodData:
    """``k`` representative days by k-means on daily profiles (module docstring)."""
    from sklearn.cluster import KMeans

    spd = yd.steps_per_day
    days = yd.days
    if k > len(days):
        raise ParkInputError(
            [InputProblem("method.days", f"{k} representative days from a {len(days)}-day year")],
            "<scenario>",
        )
    parts = [_daily(yd.load_kw, spd) / max(float(yd.load_kw.max()), 1e-9)]
    if yd.pv_yield_kw_per_kwp is not None:
        y = yd.pv_yield_kw_per_kwp
        parts.append(_daily(y, spd) / max(float(y.max()), 1e-9))
    price = yd.import_price_yuan_per_kwh
    parts.append(_daily(price, spd) / max(float(price.max()), 1e-9))
    features = np.hstack(parts)
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(features)
    labels = km.labels_
    medoids: list[int] = []
    weights: list[float] = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        dist = np.linalg.norm(features[members] - km.cluster_centers_[c], axis=1)
        medoids.append(int(members[np.argmin(dist)]))
        weights.append(float(len(members)))
    order = np.argsort(medoids)
    medoids = [medoids[i] for i in order]
    weights = [weights[i] for i in order]
    clusters = [int(c) for c in order]
    months: list[frozenset[int]] = []
    for c in clusters:
        ms = frozenset(days[d].month for d in np.flatnonzero(labels == c))
        months += [ms] * spd
    sel = np.concatenate([np.arange(d * spd, (d + 1) * spd) for d in medoids])
    load = yd.load_kw[sel].copy()
    yld = None if yd.pv_yield_kw_per_kwp is None else yd.pv_yield_kw_per_kwp[sel].copy()
    daily_load = _daily(yd.load_kw, spd).sum(axis=1)
    daily_yield = (
        None if yd.pv_yield_kw_per_kwp is None else _daily(yd.pv_yield_kw_per_kwp, spd).sum(axis=1)
    )
    for i, (c, d) in enumerate(zip(clusters, medoids, strict=True)):
        members = labels == c
        part = slice(i * spd, (i + 1) * spd)
        # Step 3b: scale the medoid to its cluster's mean daily energy, so weighted sums give
        # the year's energy exactly.
        if daily_load[d] > 0:
            load[part] *= daily_load[members].mean() / daily_load[d]
        if yld is not None and daily_yield is not None and daily_yield[d] > 0:
            yld[part] *= daily_yield[members].mean() / daily_yield[d]
    periods = Periods(
        lengths=(spd,) * k,
        weights=tuple(weights),
        dt_h=yd.dt_h,
        months=tuple(months),
        labels=tuple(days[d].isoformat() for d in medoids),
    )
    rank = {c: i for i, c in enumerate(clusters)}
    return PeriodData(
        periods,
        load,
        yld,
        yd.import_price_yuan_per_kwh[sel],
        yd.export_price_yuan_per_kwh[sel],
        [days[d] for d in medoids],
        {day: rank[int(labels[i])] for i, day in enumerate(days)},
    )

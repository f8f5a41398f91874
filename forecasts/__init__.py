"""Forecasts: PV (pvlib), load, EV sessions and demand-response baselines."""

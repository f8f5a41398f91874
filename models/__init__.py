"""Pyomo optimisation: one file per asset type, the park model, solving and results."""

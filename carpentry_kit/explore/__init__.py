"""Stage 4 — explore stored results: sweeps, comparisons with confidence intervals, plots, reports."""

"""Stage 3 — records: the run record, the JSON Lines store, DataFrames, summaries and MLLOG files."""

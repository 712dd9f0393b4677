"""Data sources for workloads: built-in datasets, files and URLs (sha256-verified), the heat simulation."""

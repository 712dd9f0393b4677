"""Stage 2 — Spec to record: orchestration, preflight checks, the timing harness, metrics, validity, memory."""

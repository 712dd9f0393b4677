"""Stage 1 — text to Spec: the model, YAML with positions, plain-English messages, overrides, registry checks,
rating, MLCommons export/import and the JSON Schema."""

"""Human-readable summaries of a record: the terminal table and the notebook's HTML."""

from __future__ import annotations

import json
from typing import Any

from carpentry_kit.results.units import format_mass_kg, format_quantity, si_scale
from carpentry_kit.stats import UNSTABLE_SPREAD, format_level

SUMMARY_HEADER = ("metric", "value", "median", "IQR", "unit", "n", "CI of median (level)", "note")


UNSTABLE_NOTE = (
    f"unstable: the repeats spread by more than {UNSTABLE_SPREAD:.0%} of the median (IQR) or mean (stdev) — "
    "a busy machine or too short a repeat; run more repeats before trusting a difference"
)
UNSTABLE_GLOSSARY = "'unstable run' in the glossary, book/glossary.md"
# What each energy metric of a record is a figure of (the record's energy line gives the total).
ENERGY_PER = {
    "energy_j": "per repeat",
    "energy_per_sample_j": "per sample",
    "avg_power_w": "average power of a repeat",
}


def summary_rows(record: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per metric: name, headline, median, IQR, unit, n, CI and a note (ESTIMATED, per what, unstable)."""
    estimated = not (record.get("energy") or {}).get("measured", False)
    rows = []
    for name, metric in record.get("metrics", {}).items():
        stats = metric.get("stats") or {}
        divisor, unit = si_scale(stats.get("median", metric.get("value")), metric.get("unit", ""))
        notes = []
        if metric.get("kind") == "energy" and estimated:
            notes.append("ESTIMATED")
        if name in ENERGY_PER:
            notes.append(ENERGY_PER[name])
        if stats.get("unstable"):
            notes.append("unstable")
        ci = _ci_text(stats, divisor) if stats else "-"
        rows.append(
            (
                name,
                _number(metric.get("value"), divisor),
                _number(stats.get("median"), divisor),
                _number(stats.get("iqr"), divisor),
                unit,
                str(stats.get("n", 0)),
                ci,
                ", ".join(notes),
            )
        )
    return rows


def _ci_text(stats: dict[str, Any], divisor: float = 1.0) -> str:
    """``[1.2, 1.5] 87.5 %``: the interval with the coverage it has (never a bare "95%")."""
    n, level = stats.get("n", 0), stats.get("ci_level")
    if n < 2:
        return "- (n = 1)"
    label = format_level(level) if level is not None else "level not recorded"
    return f"[{_number(stats.get('ci_low'), divisor)}, {_number(stats.get('ci_high'), divisor)}] {label}"


def _figure(value: Any, spec: str) -> str:
    """A number formatted with ``spec``; ``-`` when there is none (e.g. a reading that was not finite)."""
    return format(value, spec) if isinstance(value, (int, float)) else "-"


def unstable_lines(record: dict[str, Any]) -> list[str]:
    """The note that explains ``unstable``, when a metric of the record is flagged so (else nothing)."""
    flagged = any(
        (metric.get("stats") or {}).get("unstable") for metric in record.get("metrics", {}).values()
    )
    return [f"{UNSTABLE_NOTE} (see {UNSTABLE_GLOSSARY})"] if flagged else []


def energy_lines(record: dict[str, Any]) -> list[str]:
    """The energy total and what it totals, per repeat and per sample, how it was obtained, and the carbon."""
    energy = record.get("energy")
    if not energy:
        return ["energy: not measured"]
    kind = "measured" if energy.get("measured") else "ESTIMATED"
    power = energy.get("avg_power_w")
    power_text = f", {format_quantity(power, 'W')} on average" if power is not None else ""
    lines = [
        f"energy: {format_quantity(energy.get('total_j'), 'J')} in total over {repeats_text(energy)} "
        f"({format_quantity(energy.get('duration_s'), 's')}){power_text} — {kind} (method: {energy['method']})"
    ]
    shares = [
        f"{format_quantity(energy[key], 'J')} {per}"
        for key, per in (("per_repeat_j", "per repeat"), ("per_sample_j", "per sample"))
        if energy.get(key) is not None
    ]
    if shares:
        lines.append(f"  that is {' and '.join(shares)} on average; the table shows the medians")
    if energy.get("notes"):
        lines.append(f"  how: {energy['notes']}")
    if energy.get("carbon_kg") is not None:
        method = (energy.get("carbon_method") or "").removeprefix("estimate: ")
        lines.append(
            f"carbon: {format_mass_kg(energy['carbon_kg'])} CO2e — ESTIMATED from the {kind.lower()} energy: {method}"
        )
    elif energy.get("carbon_method"):
        lines.append(f"carbon: {energy['carbon_method']}")
    return lines


def repeats_text(energy: dict[str, Any]) -> str:
    """``3 timed repeats``: the total divided by the mean per repeat (the record keeps both)."""
    if not energy.get("per_repeat_j") or not energy.get("total_j"):
        return "the timed repeats"
    n = round(energy["total_j"] / energy["per_repeat_j"])
    return f"{n} timed repeat{'' if n == 1 else 's'}"


def _heading(record: dict[str, Any]) -> str:
    """Benchmark, scenario, device, run id and the outcome: VALID or INVALID when it completed, else its status."""
    outcome = record["validity"] if record["status"] == "completed" else record["status"]
    return (
        f"{record['benchmark']} — {record['scenario']} on {record['device']}, run {record['run_id'][:12]}"
        f" ({outcome})"
    )


def division_lines(record: dict[str, Any]) -> list[str]:
    """The division and the overrides applied (in closed: checked against protocol.tunable), and a sweep's
    tuning budget: ``division: closed — 1 override, all in protocol.tunable: task.params.size=64``."""
    overrides = record.get("overrides") or {}
    division = record.get("division", "open")
    shown = ", ".join(f"{path}={_clip(json.dumps(value, default=str))}" for path, value in overrides.items())
    count = f"{len(overrides)} override{'' if len(overrides) == 1 else 's'}"
    if not overrides:
        text = "no overrides"
    elif division == "closed" and record.get("overrides_tunable"):
        text = f"{count}, all in protocol.tunable: {shown}"
    else:
        text = f"{count}: {shown}"
    lines = [f"division: {division} — {text}"]
    tuning = record.get("tuning")
    if tuning:
        lines.append(
            f"tuning: one of {tuning_text(tuning)} tried in sweep {tuning.get('sweep_id', '?')}"
            " (a best result is the best of them all)"
        )
    return lines


def fresh_lines(record: dict[str, Any]) -> list[str]:
    """Quality on the public test split against fresh data, each gap with its interval, and the flag:
    ``fresh data: test_accuracy 0.985 public, 0.981 fresh, gap -0.0038 (95% CI [-0.026, 0.018]; 270 and 268
    samples)``."""
    fresh = record.get("fresh")
    if not fresh:
        return []
    lines = [
        f"fresh data: {name} {gap['public']:.4g} public, {gap['fresh']:.4g} fresh, gap {gap['gap']:+.2g}"
        f" ({gap['confidence']:.0%} CI [{gap['gap_ci'][0]:+.2g}, {gap['gap_ci'][1]:+.2g}];"
        f" {gap['n_public']} and {gap['n_fresh']} samples)"
        for name, gap in fresh["metrics"].items()
    ]
    if fresh.get("flagged"):
        lines.append(f"FLAGGED: {fresh['reason']}")
    return lines


def tuning_text(tuning: dict[str, Any]) -> str:
    """``12 configurations``: a tuning budget's size."""
    n = tuning.get("configurations", 0)
    return f"{n} configuration{'' if n == 1 else 's'}"


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _footer(record: dict[str, Any]) -> list[str]:
    """Division, overrides, peak memory and the error, if any: the lines between the energy and the verdict."""
    peak = record.get("peak_memory_mib")
    lines = [*fresh_lines(record), *division_lines(record)]
    lines.append(f"peak memory: {peak:.0f} MiB" if peak is not None else "peak memory: not measured")
    if record.get("error"):
        lines.append(f"error: {record['error']}")
    return lines


def format_record(record: dict[str, Any]) -> str:
    """A record as a plain-text summary table, ending with LoadGen's 'Result is: VALID/INVALID' line."""
    rows = [SUMMARY_HEADER, *summary_rows(record)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(SUMMARY_HEADER))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines = [_heading(record), *table, *unstable_lines(record), *energy_lines(record), *_footer(record)]
    lines.append(f"Result is: {record['validity']}")
    lines += [f"  - {reason}" for reason in record.get("reasons", [])]
    return "\n".join(lines)


def record_html(record: dict[str, Any]) -> str:
    """The same summary as an HTML table, for notebooks."""
    from html import escape

    head = "".join(f"<th>{escape(cell)}</th>" for cell in SUMMARY_HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in summary_rows(record)
    )
    colour = "green" if record["validity"] == "VALID" else "firebrick"
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in record.get("reasons", []))
    notes = "<br>".join(escape(line.strip()) for line in [*energy_lines(record), *_footer(record)])
    return (
        f"<div><b>{escape(_heading(record))}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f"</table>{unstable_note_html() if unstable_lines(record) else ''}<p>{notes}</p>"
        f"<p>Result is: <b style='color:{colour}'>{record['validity']}</b></p><ul>{reasons}</ul></div>"
    )


def unstable_note_html() -> str:
    """The ``unstable`` note as an HTML paragraph (``id='unstable'``: an ``unstable`` flag links to it)."""
    from html import escape

    return f"<p id='unstable' class='note'>{escape(UNSTABLE_NOTE)} (see {escape(UNSTABLE_GLOSSARY)}).</p>"


def _number(value: Any, divisor: float = 1.0) -> str:
    """A table cell: 4 significant digits of ``value / divisor`` (the row's SI prefix), ``-`` when missing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value / divisor:.4g}"
    return str(value)

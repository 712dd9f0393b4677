"""Human-readable summaries of a record: the terminal table and the notebook's HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from carpentry_kit.stats import format_level

if TYPE_CHECKING:
    pass


SUMMARY_HEADER = ("metric", "value", "median", "IQR", "unit", "n", "CI of median (level)", "note")


def summary_rows(record: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per metric: name, headline, median, IQR, unit, n, CI and a note (ESTIMATED, unstable)."""
    estimated = not (record.get("energy") or {}).get("measured", False)
    rows = []
    for name, metric in record.get("metrics", {}).items():
        stats = metric.get("stats") or {}
        notes = []
        if metric.get("kind") == "energy" and estimated:
            notes.append("ESTIMATED")
        if stats.get("unstable"):
            notes.append("unstable")
        ci = _ci_text(stats) if stats else "-"
        rows.append(
            (
                name,
                _number(metric.get("value")),
                _number(stats.get("median")),
                _number(stats.get("iqr")),
                metric.get("unit", ""),
                str(stats.get("n", 0)),
                ci,
                ", ".join(notes),
            )
        )
    return rows


def _ci_text(stats: dict[str, Any]) -> str:
    """``[1.2, 1.5] 87.5 %``: the interval with the coverage it has (never a bare "95%")."""
    n, level = stats.get("n", 0), stats.get("ci_level")
    if n < 2:
        return "- (n = 1)"
    label = format_level(level) if level is not None else "level not recorded"
    return f"[{_number(stats.get('ci_low'))}, {_number(stats.get('ci_high'))}] {label}"


def _figure(value: Any, spec: str) -> str:
    """A number formatted with ``spec``; ``-`` when there is none (e.g. a reading that was not finite)."""
    return format(value, spec) if isinstance(value, (int, float)) else "-"


def energy_lines(record: dict[str, Any]) -> list[str]:
    """How much energy, over how long, by which method, measured or ESTIMATED; how; and the carbon estimate."""
    energy = record.get("energy")
    if not energy:
        return ["energy: not measured"]
    kind = "measured" if energy.get("measured") else "ESTIMATED"
    power = energy.get("avg_power_w")
    power_text = f", {power:.3g} W average" if power is not None else ""
    total, duration = _figure(energy.get("total_j"), ".4g"), _figure(energy.get("duration_s"), ".3g")
    lines = [f"energy: {total} J over {duration} s timed{power_text} — {kind}, method {energy.get('method')}"]
    if energy.get("notes"):
        lines.append(f"  how: {energy['notes']}")
    if energy.get("carbon_kg") is not None:
        method = (energy.get("carbon_method") or "").removeprefix("estimate: ")
        lines.append(f"carbon: {_grams(energy['carbon_kg'])} CO2e — ESTIMATED ({kind.lower()} {method})")
    elif energy.get("carbon_method"):
        lines.append(f"carbon: {energy['carbon_method']}")
    return lines


def _grams(kilograms: float) -> str:
    grams = kilograms * 1000.0
    return f"{grams * 1000:.3g} mg" if grams < 1 else f"{grams:.3g} g"


def _heading(record: dict[str, Any]) -> str:
    return (
        f"{record['benchmark']} — {record['scenario']} on {record['device']}, run {record['run_id'][:12]}"
        f" ({record['status']})"
    )


def _footer(record: dict[str, Any]) -> list[str]:
    """Peak memory and the error, if any: the lines between the energy and the verdict."""
    peak = record.get("peak_memory_mib")
    lines = [f"peak memory: {peak:.0f} MiB" if peak is not None else "peak memory: not measured"]
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
    lines = [_heading(record), *table, *energy_lines(record), *_footer(record)]
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
        f"</table><p>{notes}</p>"
        f"<p>Result is: <b style='color:{colour}'>{record['validity']}</b></p><ul>{reasons}</ul></div>"
    )


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

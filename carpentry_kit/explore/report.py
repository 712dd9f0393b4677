"""Reports of a results directory: one self-contained HTML file and a Markdown results table.

``write_report(results_dir, "report.html", markdown="results.md")`` reads the stored records (nothing is
re-run) and writes:

* **HTML** — one file with no external resources (inline CSS, plots embedded as base64 PNG): the runs at a
  glance, the system description, the spec(s), a results table, comparisons against a baseline with
  confidence intervals (each labelled with the level it has), plots, and a methods note saying how every energy figure was obtained (method,
  measured or estimated, notes).
* **Markdown** — the MLCommons Science results layout, one table per benchmark and configuration:
  ``| Measurement name | Reference model value | Submitted model value |``; the reference comes from the
  spec's ``results.reference`` (``unknown`` when the spec gives none).
"""

from __future__ import annotations

import base64
import html
import io
import json
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import UsageError
from carpentry_kit.explore.compare import (
    CONFIDENCE,
    compare,
    completed,
    configuration_key,
    configuration_label,
    count_noun,
    override_columns,
    ratio_interval_text,
    short_value,
    significance_note,
    tuning_notes,
    varying_keys,
    varying_overrides,
    with_configurations,
)
from carpentry_kit.results.frame import SUMMARY_POINTS
from carpentry_kit.results.summary import ENERGY_PER, repeats_text, unstable_lines, unstable_note_html
from carpentry_kit.results.units import SI_UNITS, format_quantity
from carpentry_kit.stats import ci_label

if TYPE_CHECKING:
    import pandas as pd

MAX_BOX_CONFIGURATIONS = 12  # beyond this a box or bar per configuration is unreadable
MAX_PARAM_PLOTS = 4  # swept parameters plotted against each metric
MAX_LINES = 6  # more combinations of the other swept parameters than this are pooled into one line

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{border-bottom:2px solid #345;padding-bottom:.2em}h2{margin-top:1.8em;color:#345}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#eef2f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.VALID{color:#176b2c;font-weight:600}.INVALID,.failed,.interrupted{color:#a4161a;font-weight:600}
.better{color:#176b2c}.worse{color:#a4161a}.estimated{background:#fff4d6}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.85em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.85em;color:#555}
.note{background:#f3f6fa;border-left:4px solid #345;padding:.5em 1em}
.flag{background:#fde8e8;border-left:4px solid #a4161a;padding:.5em 1em}
"""


def write_report(
    results_dir: str | Path,
    path: str | Path,
    markdown: str | Path | None = None,
    baseline: Mapping[str, Any] | str | None = None,
) -> Path:
    """Write the HTML report of ``results_dir`` to ``path`` (and the Markdown table to ``markdown``).

    ``baseline`` is what ``carpentry compare --baseline`` takes; by default the first run's value of the
    first setting swept. The comparison is ``compare(results, baseline)``: the same table as the command.
    """
    from carpentry_kit.results.frame import SUMMARY, records_frame
    from carpentry_kit.results.store import ResultStore

    records: list[dict[str, Any]] = []
    frame = records_frame(_kept_light(ResultStore(results_dir).iter_records(), records), samples=SUMMARY)
    if not records:
        raise UsageError(f"{results_dir}: holds no runs — run `carpentry run SPEC --out {results_dir}` first")
    path = Path(path)
    _write(path, render_html(records, frame, str(results_dir), baseline))
    if markdown is not None:
        _write(Path(markdown), render_markdown(records))
    return path


_SHARED_FIELDS = ("spec", "system", "software")  # the same in many records: kept once


def _kept_light(records: Iterable[dict[str, Any]], kept: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Pass each record on (to the frame, which summarises its samples) and keep it without its samples,
    equal spec/system/software dicts shared: the report holds O(runs) small records, never the samples."""
    shared: dict[str, dict[str, Any]] = {}
    for record in records:
        yield record
        light = dict(record)
        light["metrics"] = {
            name: {key: value for key, value in metric.items() if key != "samples"}
            for name, metric in (record.get("metrics") or {}).items()
        }
        for name in _SHARED_FIELDS:
            value = record.get(name)
            if isinstance(value, dict):
                light[name] = shared.setdefault(
                    f"{name}:{json.dumps(value, sort_keys=True, default=str)}", value
                )
        kept.append(light)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror} — choose a writable path") from None


# --- HTML -----------------------------------------------------------------------------------------


def render_html(
    records: list[dict[str, Any]],
    frame: pd.DataFrame,
    source: str,
    baseline: Mapping[str, Any] | str | None = None,
) -> str:
    """The whole report as one HTML document (``baseline``: as for ``write_report``)."""
    benchmarks = list(dict.fromkeys(record["benchmark"] for record in records))
    body = [
        f"<h1>Benchmark report: {_e(', '.join(benchmarks))}</h1>",
        _overview(records, source),
        _methods_note(records),
    ]
    for benchmark in benchmarks:
        mine = [record for record in records if record["benchmark"] == benchmark]
        rows = frame[frame["benchmark"] == benchmark]
        rows = rows.drop(columns=[c for c in override_columns(rows) if rows[c].isna().all()])
        body += [f"<h2>{_e(benchmark)}</h2>", _spec_section(mine), _results_table(mine), _fresh_section(mine)]
        body += [_comparison_section(rows, mine, baseline), _plots_section(rows, mine)]
    body += ["<h2>System</h2>", _systems(records)]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Benchmark report: {_e(', '.join(benchmarks))}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _overview(records: list[dict[str, Any]], source: str) -> str:
    import carpentry_kit

    counts = _counts(records, "status") + ", " + _counts(records, "validity")
    started = sorted(record["started_at"] for record in records)
    return (
        f"<p>{count_noun(len(records), 'run')} from <code>{_e(source)}</code> ({_e(counts)}), "
        f"{_e(started[0])} to {_e(started[-1])}. Generated by carpentry-kit {_e(carpentry_kit.__version__)} "
        f"(<code>carpentry report</code>) from stored results; nothing was re-run.</p>"
    )


def _methods_note(records: list[dict[str, Any]]) -> str:
    """How each energy figure was obtained, and how the statistics were computed."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(json.dumps(_energy_method(record), sort_keys=True), []).append(record)
    rows = []
    for key, members in groups.items():
        method = json.loads(key)
        kind = "measured" if method["measured"] else "<b>estimated — not a measurement</b>"
        rows.append(
            [
                _e(method["method"]),
                kind,
                _e(method["layer"]),
                _e(method["notes"]),
                _e(method["carbon"]),
                str(len(members)),
            ]  # fmt: skip
        )
    table = _table(["energy method", "measured?", "layer", "notes", "carbon", "runs"], rows, escape=False)
    return (
        "<h2>Methods</h2><div class='note'><p>Every energy figure below was obtained as listed here. "
        "Estimated energy is shaded in tables, hatched or hollow in plots.</p>"
        f"{table}<p>Figures are medians of the timed repeats (warm-up excluded). Confidence intervals "
        "of a median are distribution-free intervals between two order statistics, printed with the "
        f"coverage they have: at least {CONFIDENCE:.0%} from 6 samples on, less below (75% at n = 3, "
        "87.5% at n = 4), none for one sample. Comparisons divide medians; the ratio's interval combines "
        "the two sides' intervals and its printed level is a lower bound on its coverage. A difference "
        "is called significant only when that interval excludes 1. Runs are the units: a configuration "
        "run several times is summarised by its runs' medians and its interval is over those runs "
        "(run-to-run variation included); a configuration of one run by its repeats, which leaves "
        "run-to-run variation out. Plots of distributions draw each run's samples (at most "
        f"{SUMMARY_POINTS} evenly spaced quantiles a run). The system description of every run is at the end."
        "</p></div>"
    )


def _energy_method(record: dict[str, Any]) -> dict[str, Any]:
    energy = record.get("energy") or {}
    return {
        "method": energy.get("method", "none (no energy reading)"),
        "measured": bool(energy.get("measured", False)),
        "layer": energy.get("layer", "—"),
        "notes": energy.get("notes", ""),
        "carbon": energy.get("carbon_method") or "—",
    }


def _systems(records: list[dict[str, Any]]) -> str:
    distinct = list(
        {json.dumps(r.get("system", {}), sort_keys=True, default=str): r for r in records}.values()
    )
    parts = []
    for index, record in enumerate(distinct, start=1):
        system = record.get("system") or {}
        software = record.get("software") or {}
        heading = f"<h3>System {index} of {len(distinct)}</h3>" if len(distinct) > 1 else ""
        rows = [[key, _cell(value)] for key, value in system.items()]
        rows += [[f"software: {key}", _cell(value)] for key, value in software.items()]
        parts.append(heading + _table(["field", "value"], rows or [["system", "not recorded"]]))
    return "".join(parts)


def _spec_section(records: list[dict[str, Any]]) -> str:
    import yaml

    hashes = list(dict.fromkeys(record["spec_hash"] for record in records))
    swept = _swept(records)
    labels = list(dict.fromkeys(_overrides_label(record, swept) for record in records))
    fixed = {k: v for k, v in (records[0].get("overrides") or {}).items() if k not in swept}
    fixed_text = ", ".join(f"{k}={short_value(v)}" for k, v in fixed.items()) or "none"
    text = yaml.safe_dump(records[0]["spec"], sort_keys=False, allow_unicode=True)
    return (
        f"<p>{count_noun(len(records), 'run')} of {count_noun(len(hashes), 'distinct spec')} (by spec hash), "
        f"{count_noun(len(labels), 'configuration')}. Swept: {_e(', '.join(swept) or 'nothing')}. "
        f"Overrides common to every run: {_e(fixed_text)}.</p>"
        f"<p>{_e(division_text(records))}{_e(tuning_text(records))}</p>"
        f"<details><summary>Spec of the first run, overrides applied (canonical form, hash "
        f"{_e(records[0]['spec_hash'][:12])}…)</summary><pre>{_e(text)}</pre></details>"
    )


def division_text(records: list[dict[str, Any]]) -> str:
    """Which divisions the runs were in, and what that means for their overrides."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.get("division", "open")] = counts.get(record.get("division", "open"), 0) + 1
    parts = [f"{count_noun(n, 'run')} in the {division} division" for division, n in sorted(counts.items())]
    text = "Division: " + " and ".join(parts) + "."
    if "closed" in counts:
        text += " Closed runs changed only the fields their spec lists in protocol.tunable (checked)."
    if "open" in counts:
        text += " Open runs may change anything; each run's overrides are listed in its record."
    if len(counts) > 1:
        text += " Closed and open results are not ranked together."
    return text


def tuning_text(records: list[dict[str, Any]]) -> str:
    """`` Tuning budget: sweep abc… tried 12 configurations`` for each sweep the runs came from."""
    sweeps = {r["tuning"]["sweep_id"]: r["tuning"] for r in records if r.get("tuning")}
    return "".join(
        f" Tuning budget: sweep {sweep_id} tried {count_noun(budget['configurations'], 'configuration')} "
        f"({', '.join(budget.get('grid', []))}); its best result is the best of {budget['configurations']}."
        for sweep_id, budget in sweeps.items()
    )


def _overrides_label(record: dict[str, Any], swept: list[str]) -> str:
    overrides = record.get("overrides") or {}
    return configuration_label(configuration_key(overrides, [key for key in swept if key in overrides]))


def _swept(records: list[dict[str, Any]]) -> list[str]:
    return varying_keys(record.get("overrides") or {} for record in records)


def _results_table(records: list[dict[str, Any]]) -> str:
    metrics = list(dict.fromkeys(name for record in records for name in record.get("metrics", {})))
    headers = ["run", "configuration", "division", "status", "validity"]
    headers += [_metric_header(records, name) for name in metrics] + ["energy (run total)", "reasons / error"]
    swept = _swept(records)
    rows = [_result_row(record, metrics, _overrides_label(record, swept)) for record in records]
    unstable = any(unstable_lines(record) for record in records)
    return (
        "<h3>Results</h3><p>Median [CI of the median, with its level] of each metric, per run; the energy"
        " column is the run's total over its timed repeats.</p>"
        + _table(headers, rows, escape=False)
        + (unstable_note_html() if unstable else "")
    )


def _fresh_section(records: list[dict[str, Any]]) -> str:
    """Quality on the public test split against fresh data, per run and metric; flagged runs called out."""
    with_fresh = [record for record in records if record.get("fresh")]
    if not with_fresh:
        return ""
    headers = ["run", "metric", "public", "fresh", "gap (fresh - public) [95% CI]", "samples", "target met"]
    rows = [
        [
            record["run_id"][:12],
            name,
            f"{gap['public']:.4g}",
            f"{gap['fresh']:.4g}",
            f"{gap['gap']:+.3g} [{gap['gap_ci'][0]:+.3g}, {gap['gap_ci'][1]:+.3g}]",
            f"{gap['n_public']} / {gap['n_fresh']}",
            _met_text(gap),
        ]
        for record in with_fresh
        for name, gap in record["fresh"]["metrics"].items()
    ]
    flags = "".join(
        f"<p class='flag'><b>FLAGGED</b> run {_e(record['run_id'][:12])}: {_e(record['fresh']['reason'])}</p>"
        for record in with_fresh
        if record["fresh"].get("flagged")
    )
    return (
        "<h3>Fresh data</h3><p>Quality on the public test split and on data no one tuned or trained on (a fresh"
        " draw or a reserved split); an interval that excludes 0 is a gap the run's samples support.</p>"
        + flags
        + _table(headers, rows)
    )


def _met_text(gap: dict[str, Any]) -> str:
    if gap["target"] is None:
        return "no target"
    yes_no = {True: "yes", False: "no"}
    return f"public {yes_no[gap['met_public']]}, fresh {yes_no[gap['met_fresh']]}"


def _metric_header(records: list[dict[str, Any]], name: str) -> str:
    """``latency_s (s)``, ``energy_j (J, per repeat)``: the unit, and for energy what the figure is of."""
    unit = _unit(records, name)
    return f"{name} ({unit}, {ENERGY_PER[name]})" if name in ENERGY_PER else f"{name} ({unit})"


def _result_row(record: dict[str, Any], metrics: list[str], label: str) -> list[str]:
    status, validity = record["status"], record["validity"]
    energy = _energy_method(record)
    estimate = "" if energy["measured"] else " class='estimated'"
    cells = [
        f"<code>{_e(record['run_id'][:8])}</code>",
        _e(label),
        _e(record.get("division", "open")),
        f"<span class='{_e(status)}'>{_e(status)}</span>",
        f"<span class='{_e(validity)}'>{_e(validity)}</span>",
    ]
    for name in metrics:
        metric = record.get("metrics", {}).get(name)
        shade = estimate if metric and metric.get("kind") == "energy" else ""
        cells.append(f"<span{shade}>{_e(_metric_text(metric))}{_unstable_flag(metric)}</span>")
    cells.append(f"<span{estimate}>{_e(_energy_text(record, energy))}</span>")
    problems = ([record["error"]] if record.get("error") else []) + list(record.get("reasons") or [])
    cells.append(_e("; ".join(problems)))
    return cells


def _energy_text(record: dict[str, Any], energy: dict[str, Any]) -> str:
    reading = record.get("energy")
    if not reading:
        return "—"
    total = f"{format_quantity(reading.get('total_j'), 'J')} over {repeats_text(reading)}, "
    if energy["measured"]:
        return f"{total}measured ({energy['method']})"
    return total + ("estimated" if energy["method"] == "estimate" else f"estimated ({energy['method']})")


def _metric_text(metric: dict[str, Any] | None) -> str:
    if not metric:
        return "—"
    stats, unit = metric.get("stats") or {}, _si_unit(metric.get("unit", ""))
    text = format_quantity(metric.get("value"), unit)
    band = metric.get("predicted") or {}
    if "low" in band:  # a prediction (status: predicted), never a measurement
        return f"PREDICTED {text} [{format_quantity(band['low'], unit)} .. {format_quantity(band['high'], unit)}]"
    if stats.get("n", 0) > 1:
        low, high = format_quantity(stats.get("ci_low"), unit), format_quantity(stats.get("ci_high"), unit)
        text += f" [{low}, {high}] ({ci_label(stats.get('ci_level'), stats['n'])})"
    return text + (" unstable" if stats.get("unstable") else "") + _mlperf_text(metric, unit)


def _mlperf_text(metric: dict[str, Any], unit: str) -> str:
    """For a time to target: MLPerf's score beside the median, and a label when the clock is not MLPerf's."""
    if "clock" not in metric:
        return ""
    score = metric.get("mlperf_score")
    text = f"; MLPerf score (olympic mean) {format_quantity(score, unit)}" if score is not None else ""
    if "not MLPerf-conformant" in metric["clock"]:
        text += "; not MLPerf-conformant: evaluation excluded from the clock"
    return text


def _unstable_flag(metric: dict[str, Any] | None) -> str:
    """`` unstable``, linked to the note under the table that says what it means."""
    return " <a href='#unstable'>unstable</a>" if ((metric or {}).get("stats") or {}).get("unstable") else ""


def _comparison_section(
    rows: pd.DataFrame, records: list[dict[str, Any]], baseline: Mapping[str, Any] | str | None
) -> str:
    """``compare(rows, baseline)`` as a table, saying which baseline each row used and how to get it again."""
    by = varying_overrides(completed(rows))
    if not by:
        return ""
    chosen = (
        "chosen with --baseline"
        if baseline is not None
        else "the first run's value of the first setting swept"
    )
    baseline = default_baseline(records, by) if baseline is None else baseline
    try:
        table = compare(rows, baseline)
    except UsageError as error:
        return f"<h3>Comparison</h3><p class='note'>Not compared: {_e(str(error))}</p>"
    body = [
        [
            _e(row["configuration"]),
            _e(row["metric"]),
            _num(row["median"], row["unit"]),
            _e(row["baseline"]),
            _num(row["ratio"]),
            _num_ci(row),
            f"<span class='{row['verdict'].split()[0]}'>{_e(row['verdict'])}</span>",
        ]  # fmt: skip
        for _, row in table.iterrows()
    ]
    headers = ["configuration", "metric", "median", "baseline", "ratio to baseline", "CI", "verdict"]
    return (
        f"<h3>Comparison</h3><p>Each configuration against the baseline <b>{_e(_baseline_label(baseline))}</b> "
        f"({chosen}): the table <code>{_e(compare_command(baseline))}</code> prints. "
        f"{_e(_strata_note(table))}{_e(significance_note(table))}</p>"
        + "".join(f"<p class='note'>{_e(note)}</p>" for note in tuning_notes(table))
        + _table(headers, body, escape=False)
    )


def default_baseline(records: list[dict[str, Any]], by: list[str]) -> dict[str, Any] | str:
    """The report's baseline: the first completed run's value of the first swept setting (else its run id)."""
    first = min((r for r in records if r["status"] == "completed"), key=lambda r: r["started_at"])
    overrides = first.get("overrides") or {}
    key = next((column for column in overrides if column in by), None)
    return {key: overrides[key]} if key else first["run_id"]


def compare_command(baseline: Mapping[str, Any] | str) -> str:
    """The ``carpentry compare`` command line that gives the same comparison."""
    if isinstance(baseline, str):
        return f"carpentry compare RESULTS_DIR --baseline {shlex.quote(baseline)}"
    options = " ".join(
        f"--baseline {shlex.quote(f'{key}={json.dumps(value) if not isinstance(value, str) else value}')}"
        for key, value in baseline.items()
    )
    return f"carpentry compare RESULTS_DIR {options}"


def _baseline_label(baseline: Mapping[str, Any] | str) -> str:
    if isinstance(baseline, str):
        return baseline
    return configuration_label(configuration_key(baseline, list(baseline)))


def _strata_note(table: pd.DataFrame) -> str:
    """Which settings were held fixed: several baseline runs, one per value of the other settings."""
    labels = list(dict.fromkeys(table["baseline"]))
    if len(labels) < 2:
        return ""
    return (
        f"The other settings that vary were held fixed, as compare does: each configuration is compared with "
        f"the baseline run of the same other settings ({len(labels)} baselines, named in the baseline column). "
    )


def _plots_section(rows: pd.DataFrame, records: list[dict[str, Any]]) -> str:
    from carpentry_kit.explore import plots

    rows = completed(rows)
    if rows.empty:
        return "<p>No completed runs: nothing to plot.</p>"
    metrics = list(dict.fromkeys(rows["metric"]))
    swept = varying_overrides(rows)
    configurations = with_configurations(rows, swept)["configuration"].nunique()
    figures: list[tuple[str, Callable[[Any], Any]]] = []
    if configurations <= MAX_BOX_CONFIGURATIONS:
        figures += [(f"{m}: repeat samples", _bind(plots.plot_distributions, rows, m)) for m in metrics]
    for param in [c for c in swept if _numeric(rows[c])][:MAX_PARAM_PLOTS]:
        others = [c for c in swept if c != param]
        lines = with_configurations(rows, others)["configuration"].nunique()
        hue, note = (others, "") if lines <= MAX_LINES else ([], f" (pooled over {', '.join(others)})")
        figures += [
            (f"{m} vs {param}{note}", _bind(plots.plot_metric_vs_param, rows, m, param, hue=hue))
            for m in metrics
        ]
    energy = [m for m in metrics if m in set(rows.loc[rows["kind"] == "energy", "metric"])]
    if energy and configurations > 1:
        figures.append((f"trade-off against {energy[0]}", _bind(plots.plot_tradeoff, rows, energy[0])))
    if any(record.get("energy") for record in records) and configurations <= MAX_BOX_CONFIGURATIONS:
        figures.append(("energy by component and layer", _bind(plots.plot_energy_breakdown, records)))
    return "<h3>Plots</h3>" + "".join(_figure(caption, draw) for caption, draw in figures)


def _bind(function: Callable[..., Any], *args: Any, **options: Any) -> Callable[[Any], Any]:
    return lambda ax: function(*args, ax=ax, **options)


def _figure(caption: str, draw: Callable[[Any], Any]) -> str:
    """Draw one plot on a fresh figure and embed it as a base64 PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4.2), layout="constrained")
    try:
        draw(figure.add_subplot())
    except UsageError as error:
        return f"<p class='note'>{_e(caption)}: not drawn — {_e(str(error))}</p>"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f"<figure><img alt='{_e(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


# --- Markdown -------------------------------------------------------------------------------------


def render_markdown(records: list[dict[str, Any]]) -> str:
    """The MLCommons Science results table(s): one per benchmark and configuration, completed runs only.

    Each heading names the configuration by its swept overrides (long values summarised); the full
    values follow the heading.
    """
    lines = [
        "<!-- generated by `carpentry report` from stored results; do not edit by hand -->",
        "",
        "# Results",
    ]
    done = [record for record in records if record["status"] == "completed"]
    for benchmark in dict.fromkeys(record["benchmark"] for record in done):
        mine = [record for record in done if record["benchmark"] == benchmark]
        swept = _swept(mine)
        groups: dict[str, list[dict[str, Any]]] = {}
        for record in mine:
            groups.setdefault(_overrides_label(record, swept), []).append(record)
        for label, members in groups.items():
            lines += ["", f"## {benchmark} ({label})" if label != "default" else f"## {benchmark}", ""]
            lines += _overrides_lines(members[0], swept) + _markdown_table(members)
    if not done:
        lines += ["", "No completed runs."]
    return "\n".join(lines) + "\n"


def _overrides_lines(record: dict[str, Any], swept: list[str]) -> list[str]:
    """The swept overrides of a configuration, in full: ``Overrides: `path` = `value`, ...``."""
    overrides = record.get("overrides") or {}
    values = [
        f"`{path}` = `{json.dumps(overrides[path], default=str)}`" for path in swept if path in overrides
    ]
    return [f"Overrides: {', '.join(values)}", ""] if values else []


def _markdown_table(records: list[dict[str, Any]]) -> list[str]:
    references = {
        ref["metric"]: ref for ref in (records[0]["spec"].get("results") or {}).get("reference", [])
    }
    lines = ["| Measurement name | Reference model value | Submitted model value |", "| --- | --- | --- |"]
    metrics = list(dict.fromkeys(name for record in records for name in record["metrics"]))
    for name in metrics:
        entries = [record["metrics"][name] for record in records if name in record["metrics"]]
        unit = entries[0].get("unit", "")
        reference = references.get(name)
        reference_text = (
            f"{format_quantity(reference['value'], unit)} ({reference.get('system', 'unknown')})"
            if reference
            else "unknown"
        )
        lines.append(f"| {name} ({unit}) | {reference_text} | {_submitted(entries, records)} |")
    return lines


def _submitted(entries: list[dict[str, Any]], records: list[dict[str, Any]]) -> str:
    import statistics

    values = [float(entry["value"]) for entry in entries if entry.get("value") is not None]
    unit = entries[0].get("unit", "")
    text = format_quantity(statistics.median(values), unit) if values else "—"
    if len(entries) == 1 and (entries[0].get("stats") or {}).get("n", 0) > 1:
        stats = entries[0]["stats"]
        low, high = format_quantity(stats["ci_low"], unit), format_quantity(stats["ci_high"], unit)
        text += f" [{ci_label(stats.get('ci_level'), stats['n'])}: {low}, {high}]"
    elif len(values) > 1:
        text += f" (median of {len(values)} runs)"
    if entries[0].get("kind") == "energy":
        method = _energy_method(records[0])
        text += f", {'measured' if method['measured'] else 'estimated'} (energy method: {method['method']})"
    return text


# --- small helpers --------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], escape: bool = True) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(cell) if escape else cell}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _counts(records: list[dict[str, Any]], key: str) -> str:
    values = [str(record.get(key)) for record in records]
    return ", ".join(f"{values.count(v)} {v}" for v in dict.fromkeys(values))


def _unit(records: list[dict[str, Any]], name: str) -> str:
    return next(r["metrics"][name].get("unit", "") for r in records if name in r.get("metrics", {}))


def _numeric(values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.dropna())


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _num(value: Any, unit: str = "") -> str:
    return f"<span class='num'>{_e(format_quantity(value, unit))}</span>"


def _si_unit(unit: str) -> str:
    """The unit to print inside a results-table cell: only SI-prefixed ones (the header names the others)."""
    return unit if unit in SI_UNITS else ""


def _num_ci(row: Any) -> str:
    text = ratio_interval_text(row)
    units = row.get("interval_units")
    return "—" if text == "n/a" else _e(f"{text} over {units}" if isinstance(units, str) else text)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)

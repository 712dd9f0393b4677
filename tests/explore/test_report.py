"""write_report(): one self-contained HTML file (checked in headless Chromium) and the MLCommons Markdown table."""

from __future__ import annotations

import base64
import html
import re

import pandas as pd
import pytest
from explore_records import make_record, write_store

from carpentry_kit.cli.main import main
from carpentry_kit.errors import UsageError
from carpentry_kit.explore.report import write_report
from carpentry_kit.results.store import ResultStore

SIZE = "task.params.size"
BASE = [1.0, 1.1, 0.9, 1.05, 0.95]
REFERENCE = {"metric": "latency_s", "value": 0.5, "system": "reference laptop"}


@pytest.fixture
def results_dir(tmp_path):
    records = []
    for size in (64, 128):
        record = make_record(
            {SIZE: size},
            {
                "latency_s": [size / 64 * x for x in BASE],
                "energy_per_sample_j": [size / 128 * x for x in BASE],
            },
        )
        record["spec"]["results"] = {"dir": "results", "reference": [REFERENCE]}
        records.append(record)
    failed = make_record({SIZE: 10**6}, {}, status="failed")
    failed["error"] = "RuntimeError: can't allocate memory"
    records.append(failed)
    directory = tmp_path / "results"
    write_store(directory, records)
    return directory


def test_html_is_self_contained_with_every_section(results_dir, tmp_path):
    path = write_report(results_dir, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", text)  # no external resources
    assert "<link" not in text and "<script" not in text
    headings = ["Methods", "matmul", "Results", "Comparison", "Plots", "System"]
    positions = [text.index(f">{heading}</h") for heading in headings]
    assert positions == sorted(positions)  # results first; the long system description last
    assert "estimated — not a measurement" in text and "synthetic test record" in text
    assert "can&#x27;t allocate memory" in text  # the failed point and its error are reported
    images = re.findall(r"src='data:image/png;base64,([^']+)'", text)
    assert len(images) >= 4
    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)


def test_markdown_uses_the_mlcommons_layout_with_references(results_dir, tmp_path):
    write_report(results_dir, tmp_path / "report.html", markdown=tmp_path / "results.md")
    text = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert text.count("| Measurement name | Reference model value | Submitted model value |") == 2
    assert "## matmul (size=64)" in text and "## matmul (size=128)" in text
    assert (
        "| latency_s (s) | 500 ms (reference laptop) | 1 s [93.7 % CI, n = 5:" in text
    )  # SI prefixes; the level n = 5 has
    assert "| energy_per_sample_j (J) | unknown | 500 mJ" in text
    assert "estimated (energy method: estimate)" in text
    assert "1000000" not in text  # failed runs have no results to publish


def test_bad_results_directories_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="no such results directory"):
        write_report(tmp_path / "missing", tmp_path / "r.html")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no runs"):
        write_report(tmp_path / "empty", tmp_path / "r.html")


def test_report_command(results_dir, tmp_path, capsys):
    html, md = tmp_path / "out" / "r.html", tmp_path / "r.md"
    assert main(["report", str(results_dir), "-o", str(html), "--md", str(md)]) == 0
    assert html.exists() and md.exists()
    assert main(["report", str(tmp_path / "nowhere"), "-o", str(html)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("carpentry report: ") and "nowhere" in error


def test_the_store_is_read_not_written(results_dir, tmp_path):
    before = (results_dir / "runs.jsonl").read_bytes()
    write_report(results_dir, tmp_path / "report.html")
    assert (results_dir / "runs.jsonl").read_bytes() == before
    assert len(ResultStore(results_dir).records()) == 3


@pytest.mark.browser
def test_report_renders_in_chromium_with_every_image(results_dir, tmp_path):
    from browser import launch_browser

    path = write_report(results_dir, tmp_path / "report.html")
    requests: list[str] = []
    with launch_browser() as browser:
        page = browser.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        widths = page.evaluate(
            "Array.from(document.images).map(image => image.complete && image.naturalWidth)"
        )
        title = page.title()
    assert len(widths) >= 4 and all(width > 0 for width in widths)
    assert title == "Benchmark report: matmul"
    assert all(url.startswith(("file:", "data:")) for url in requests)


def test_results_table_says_what_energy_figures_are_of_and_explains_unstable(results_dir, tmp_path):
    text = write_report(results_dir, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "energy_per_sample_j (J, per sample)" in text and "energy (run total)" in text
    assert "6 J over 3 timed repeats, estimated" in text
    steady = make_record({SIZE: 64}, {"latency_s": [1.0, 1.01, 0.99, 1.0, 1.0]})
    write_store(tmp_path / "steady", [steady])
    text = write_report(tmp_path / "steady", tmp_path / "steady.html").read_text(encoding="utf-8")
    assert "id='unstable'" not in text and ">unstable<" not in text  # nothing unstable: no flag, no note
    noisy = make_record({SIZE: 64}, {"latency_s": [1.0, 1.5, 0.6, 1.2, 0.8]})
    write_store(tmp_path / "noisy", [noisy])
    text = write_report(tmp_path / "noisy", tmp_path / "noisy.html").read_text(encoding="utf-8")
    assert "<a href='#unstable'>unstable</a>" in text
    assert "<p id='unstable' class='note'>unstable: the repeats spread by more than 10%" in text
    assert "&#x27;unstable run&#x27; in the glossary, book/glossary.md" in text


def test_comparison_section_names_the_baseline_and_what_significant_means(results_dir, tmp_path):
    text = write_report(results_dir, tmp_path / "report.html").read_text(encoding="utf-8")
    section = text[text.index(">Comparison</h") : text.index(">Plots</h")]
    assert "baseline <b>size=64</b>" in section
    assert "<span class='baseline'>baseline</span>" in section
    assert "<span class='worse'>worse</span>" in section  # size 128: twice the latency
    assert "does not mean a large one" in section and "not run-to-run variation" in section


def test_long_override_values_are_summarised_and_given_in_full_below(tmp_path):
    import json
    import warnings

    metrics = [
        {"name": name, "kind": "performance", "unit": "s", "goal": "minimize"}
        for name in ("latency_s", "latency_p50_s", "latency_p90_s", "latency_p99_s")
    ]
    records = [
        make_record({"metrics": chosen, SIZE: 64}, {"latency_s": BASE}) for chosen in (metrics[:1], metrics)
    ]
    write_store(tmp_path / "results", records)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. constrained_layout giving up on a huge tick label
        write_report(tmp_path / "results", tmp_path / "r.html", markdown=tmp_path / "r.md")
    headings = [line for line in (tmp_path / "r.md").read_text().splitlines() if line.startswith("## ")]
    assert [h.split(" #")[0] for h in headings] == [
        "## matmul (metrics=[latency_s]",
        "## matmul (metrics=[latency_s, +3 more]",
    ]
    assert all(len(h) < 80 for h in headings) and len(set(headings)) == 2
    assert f"Overrides: `metrics` = `{json.dumps(metrics)}`" in (tmp_path / "r.md").read_text()
    html_text = (tmp_path / "r.html").read_text()
    assert "Overrides common to every run: task.params.size=64." in html_text
    assert '"goal": "minimize"' not in html_text.split("<details>")[0]  # long values summarised


def _comparison_rows(text: str) -> set[tuple[str, ...]]:
    """(configuration, metric, baseline, verdict) of each row of the report's comparison table."""
    section = text[text.index(">Comparison</h") : text.index(">Plots</h")]
    rows = set()
    for row in re.findall(r"<tr>(.*?)</tr>", section)[1:]:
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td>(.*?)</td>", row)]
        rows.add((cells[0], cells[1], cells[3], cells[6]))
    return rows


def test_report_and_compare_command_agree_on_baselines_and_strata(tmp_path, capsys):
    dtype = "task.params.dtype"
    records = [
        make_record(
            {SIZE: size, dtype: kind},
            {"latency_s": [size / 64 * (2 if kind == "float64" else 1) * x for x in BASE]},
        )
        for size in (64, 128)
        for kind in ("float32", "float64")
    ]
    write_store(tmp_path / "sweep", records)
    csv = tmp_path / "compare.csv"
    assert main(["compare", str(tmp_path / "sweep"), "--baseline", f"{SIZE}=64", "--csv", str(csv)]) == 0
    command = {
        (row.configuration, row.metric, row.baseline, row.verdict) for row in pd.read_csv(csv).itertuples()
    }
    text = write_report(tmp_path / "sweep", tmp_path / "report.html").read_text(encoding="utf-8")
    assert _comparison_rows(text) == command  # the same baselines, strata and verdicts
    assert ("dtype=float64, size=64", "latency_s", "dtype=float64, size=64", "baseline") in command
    assert "carpentry compare RESULTS_DIR --baseline task.params.size=64" in text
    assert "2 baselines, named in the baseline column" in text
    chosen = write_report(tmp_path / "sweep", tmp_path / "dtype.html", baseline={dtype: "float32"})
    rows = _comparison_rows(chosen.read_text(encoding="utf-8"))
    assert ("dtype=float64, size=128", "latency_s", "dtype=float32, size=128", "worse") in rows
    assert "chosen with --baseline" in chosen.read_text(encoding="utf-8")


def test_the_report_states_divisions_and_the_tuning_budget(tmp_path):
    tuning = {"configurations": 12, "sweep_id": "abc123def456", "grid": [SIZE]}
    swept = [
        make_record({SIZE: s}, {"latency_s": [s / 64 * x for x in BASE]}, tuning=tuning) for s in (64, 128)
    ]
    write_store(tmp_path / "swept", swept)
    text = html.unescape(
        write_report(tmp_path / "swept", tmp_path / "swept.html").read_text(encoding="utf-8")
    )
    assert "Division: 2 runs in the open division." in text
    assert "Tuning budget: sweep abc123def456 tried 12 configurations (task.params.size)" in text
    assert "a sweep of 12 configurations; the best one is the best of 12 tries" in text
    mixed = [
        make_record({SIZE: 64}, {"latency_s": BASE}, division="closed"),
        make_record({SIZE: 128}, {"latency_s": BASE}),
    ]
    write_store(tmp_path / "mixed", mixed)
    text = html.unescape(
        write_report(tmp_path / "mixed", tmp_path / "mixed.html").read_text(encoding="utf-8")
    )
    assert "1 run in the closed division and 1 run in the open division" in text
    assert "Not compared: compare: these results mix divisions" in text
    assert "<td>closed</td>" in text and "<td>open</td>" in text


def test_a_corrupt_line_is_one_warning_naming_file_and_line_and_the_report_is_still_written(
    results_dir, tmp_path
):
    import subprocess
    import sys

    with open(ResultStore(results_dir).path, "a", encoding="utf-8") as handle:
        handle.write('{"benchmark": "matmul", "metrics": [1, 2\n')  # a damaged record, then a good one
    write_store(results_dir, [make_record({SIZE: 64}, {"latency_s": BASE})])
    out = tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-m", "carpentry_kit", "report", str(results_dir), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert len([line for line in lines if "skipped a corrupt record" in line]) == 1
    assert all(line.startswith(("warning: ", "wrote ")) for line in lines)  # one line each
    assert re.search(r"runs\.jsonl:4: skipped a corrupt record", done.stderr)
    assert "4 runs" in html.unescape(out.read_text(encoding="utf-8"))  # the other runs are all there


def test_running_out_of_memory_is_one_line_not_a_traceback(results_dir, tmp_path, monkeypatch, capsys):
    import carpentry_kit.explore.report

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(carpentry_kit.explore.report, "write_report", exhausted)
    assert main(["report", str(results_dir), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("carpentry report: out of memory")


def test_the_report_keeps_no_samples_of_the_runs(tmp_path, monkeypatch):
    """Memory bounded by the number of runs: each record is summarised as it is read, then kept without
    its samples; a distribution plot draws at most SUMMARY_POINTS quantiles a run."""
    import carpentry_kit.explore.report as report
    from carpentry_kit.results.frame import SUMMARY_POINTS

    many = [float(v) for v in range(1, 1001)]
    write_store(tmp_path / "r", [make_record({SIZE: s}, {"latency_s": many}) for s in (64, 128, 64)])
    seen = {}
    original = report.render_html

    def spy(records, frame, *args, **kwargs):
        seen["records"], seen["frame"] = records, frame
        return original(records, frame, *args, **kwargs)

    monkeypatch.setattr(report, "render_html", spy)
    write_report(tmp_path / "r", tmp_path / "r.html")
    assert all("samples" not in m for r in seen["records"] for m in r["metrics"].values())
    assert seen["records"][0]["spec"] is seen["records"][2]["spec"]  # equal specs are kept once
    assert seen["frame"]["samples"].map(len).max() == SUMMARY_POINTS
    assert seen["frame"]["n"].tolist() == [1000] * 3

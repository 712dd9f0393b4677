"""The spec commands: exit 0 when fine, 2 with one line per problem (never a traceback) when not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from carpentry_kit.cli.main import main
from carpentry_kit.spec.load import check_spec, example_spec_path

REPO = Path(__file__).resolve().parents[2]
MATMUL = str(example_spec_path("matmul"))


def carpentry(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_validate_examples_ok(capsys):
    paths = [str(example_spec_path(name)) for name in ("matmul", "digits-mlp")]
    code, out, _ = carpentry(capsys, "validate", *paths)
    assert code == 0 and out.count(": OK (") == 2


def test_validate_reports_all_problems_of_all_files(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(example_spec_path("matmul").read_text().replace("repeats: 10", "repeats: 0"))
    code, _, err = carpentry(capsys, "validate", MATMUL, str(bad), str(tmp_path / "missing.yaml"))
    assert code == 2
    assert f"{bad}:" in err and "protocol.repeats: must be at least 1" in err
    assert "missing.yaml: file not found" in err
    assert "2 of 3 specs have problems" in err


def test_validate_with_overrides(capsys):
    assert carpentry(capsys, "validate", MATMUL, "--set", "task.params.size=64")[0] == 0
    code, _, err = carpentry(capsys, "validate", MATMUL, "--set", "task.params.sise=64")
    assert code == 2 and "did you mean 'size'" in err
    code, _, err = carpentry(capsys, "validate", MATMUL, "--set", "nonsense")
    assert code == 2 and "PATH=VALUE" in err


def test_new_writes_a_spec_that_validates(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    assert carpentry(capsys, "new", "-o", str(path), "--name", "my-gemm")[0] == 0
    assert check_spec(path) == []
    assert yaml.safe_load(path.read_text())["benchmark"]["name"] == "my-gemm"
    assert "# yaml-language-server: $schema=" in path.read_text()
    code, _, err = carpentry(capsys, "new", "-o", str(path))
    assert code == 2 and "--force" in err
    code, _, err = carpentry(capsys, "new", "--name", "My Gemm")
    assert code == 2 and "not a valid name" in err


def test_rate_table_and_json(capsys):
    code, out, _ = carpentry(capsys, "rate", MATMUL)
    assert code == 0 and "Software environment" in out and "/30" in out
    code, out, _ = carpentry(capsys, "rate", MATMUL, "--json")
    assert code == 0 and len(json.loads(out)["categories"]) == 6


def test_schema_to_stdout_and_file(tmp_path, capsys):
    code, out, _ = carpentry(capsys, "schema")
    assert code == 0 and json.loads(out)["title"].startswith("carpentry-kit")
    target = tmp_path / "schema.json"
    assert carpentry(capsys, "schema", "-o", str(target))[0] == 0
    assert json.loads(target.read_text()) == json.loads(out)


def test_export_then_import_round_trip(tmp_path, capsys):
    entry, skeleton = tmp_path / "entry.yaml", tmp_path / "skeleton.yaml"
    assert carpentry(capsys, "export", MATMUL, "-o", str(entry))[0] == 0
    assert [item["name"] for item in yaml.safe_load(entry.read_text())] == ["matmul"]
    assert carpentry(capsys, "import", str(entry), "-o", str(skeleton))[0] == 0
    assert {p.field for p in check_spec(skeleton)} == {"task", "metrics"}


def test_import_of_a_collection_needs_a_name(tmp_path, capsys):
    collection = tmp_path / "collection.yaml"
    collection.write_text(yaml.safe_dump([{"name": "alpha", "url": "u"}, {"name": "beta", "url": "u"}]))
    code, _, err = carpentry(capsys, "import", str(collection))
    assert code == 2 and "--name" in err
    code, out, _ = carpentry(capsys, "import", str(collection), "--name", "beta")
    assert code == 0 and "name: beta" in out
    code, _, err = carpentry(capsys, "import", str(collection), "--name", "betta")
    assert code == 2 and "did you mean 'beta'" in err


def test_export_without_url_names_the_file(tmp_path, capsys):
    path = tmp_path / "nourl.yaml"
    path.write_text(example_spec_path("matmul").read_text().replace("  url: https://", "  # url: https://"))
    code, _, err = carpentry(capsys, "export", str(path))
    assert code == 2 and err.startswith(f"{path}:") and " benchmark.url: the collection needs a url" in err


def test_new_marks_what_export_needs_as_todo_and_export_points_at_it(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    assert carpentry(capsys, "new", "-o", str(path), "--name", "my-gemm")[0] == 0
    lines = path.read_text().splitlines()
    url_line = next(n for n, line in enumerate(lines, 1) if line.strip().startswith("url:"))
    assert "TODO" in lines[url_line - 1] and "carpentry export" in lines[url_line - 1]
    code, _, err = carpentry(capsys, "export", str(path))
    assert code == 2 and err.startswith(f"{path}:{url_line}:") and "benchmark.url" in err
    assert "https://github.com/you/my-gemm" in err and "\n" not in err.strip()


@pytest.mark.parametrize("command", ["new", "validate", "rate", "schema", "export", "import", "croissant"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as raised:
        main([command, "--help"])
    assert raised.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: carpentry")
    if command == "schema":
        assert "yaml-language-server: $schema=" in out
    if command in ("validate", "rate"):
        assert "Exit code: 0" in out
    assert "\n\n" in out.split("options:")[1], "an explanation or examples follow the options"


def test_output_piped_into_a_reader_that_stops_prints_no_traceback():
    # `true` exits at once, long before Python starts: every write meets a closed pipe.
    done = subprocess.run(
        f"'{sys.executable}' -m carpentry_kit rate '{MATMUL}' | true",
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.stderr == ""


def test_broken_yaml_in_a_real_process_prints_one_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("benchmark: {name: x\ntask: [\n")
    done = subprocess.run(
        [sys.executable, "-m", "carpentry_kit", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{path}:") and "YAML syntax error" in done.stderr

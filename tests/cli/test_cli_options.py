"""One CLI contract: shared options behave the same in every command, one error handler, argv untouched."""

from __future__ import annotations

import sys

import pytest

from carpentry_kit.cli.main import main
from carpentry_kit.spec.load import example_spec_path

MATMUL = str(example_spec_path("matmul"))


@pytest.mark.parametrize("command", [["run", MATMUL], ["sweep", MATMUL, "--grid", "task.params.size=8,16"]])
def test_an_unusable_device_is_bad_input_for_run_and_sweep_alike(capsys, tmp_path, command):
    code = main([*command, "--device", "cuda:3", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"carpentry {command[0]}: --device cuda:3: ") and err.count("\n") == 1
    assert not (tmp_path / "runs.jsonl").exists()  # refused before anything ran or was recorded


@pytest.mark.parametrize("command", [["run", MATMUL], ["sweep", MATMUL, "--grid", "task.params.size=8"]])
def test_energy_choices_are_the_same_everywhere(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--energy", "bogus"])
    assert exit_info.value.code == 2
    assert (
        "--energy: invalid choice: 'bogus' (choose from 'auto', 'rapl', 'nvml', 'codecarbon', 'estimate')"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize("command", [["run", MATMUL], ["sweep", MATMUL, "--grid", "task.params.size=8"]])
def test_repeats_must_be_positive_everywhere(capsys, command):
    with pytest.raises(SystemExit):
        main([*command, "--repeats", "0"])
    assert "--repeats: 0: must be at least 1" in capsys.readouterr().err


def test_main_leaves_sys_argv_alone(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest", "something", "else"])
    assert main(["validate", MATMUL, "--quiet"]) == 0
    assert sys.argv == ["pytest", "something", "else"]

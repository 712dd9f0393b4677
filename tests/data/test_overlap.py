"""The overlap check: planted exact and near duplicates are found and counted; shipped datasets have none."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from carpentry_kit.cli.main import main
from carpentry_kit.data.datasets import BUILTIN_DATASETS, DatasetError, LoadedDataset, load_dataset
from carpentry_kit.data.overlap import find_overlap, shingles
from carpentry_kit.spec.load import example_spec_path
from carpentry_kit.spec.model import Dataset

SPLITS = {"train": 0.7, "test": 0.2, "fresh": 0.1}
EXAMPLES = sorted(Path(example_spec_path("matmul")).parent.glob("*.yaml"))


def write_spec(folder: Path, data: Path) -> Path:
    """digits-mlp.yaml with its dataset replaced by the file ``data`` (checksummed)."""
    spec = yaml.safe_load(example_spec_path("digits-mlp").read_text())
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    spec["datasets"] = [{"name": "digits", "source": data.name, "sha256": sha, "splits": SPLITS}]
    path = folder / "planted.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def rows_of(loaded: LoadedDataset, split: str, label: int) -> np.ndarray:
    rows = loaded.splits[split]
    return rows[loaded.y[rows] == label]


def plant(loaded: LoadedDataset, split: str, count: int, change) -> list[tuple[int, int]]:
    """Overwrite ``count`` rows of ``split`` with changed copies of training rows of the same label."""
    planted = []
    for row in loaded.splits[split][:count]:
        source = int(rows_of(loaded, "train", loaded.y[row])[len(planted)])
        loaded.X[row] = change(loaded.X[source].copy())
        planted.append((int(row), source))
    return planted


def load(path: Path) -> LoadedDataset:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return load_dataset(Dataset(name="digits", source=path.name, splits=SPLITS, sha256=sha), path.parent)


def planted_tokens(tmp_path: Path) -> tuple[Path, dict[str, list[tuple[int, int]]]]:
    """Random token sequences (vocabulary 10,000: any two share no 5-gram) with planted copies."""
    rng = np.random.default_rng(1)
    path = tmp_path / "tokens.npz"
    X, y = rng.integers(0, 10_000, size=(300, 32)), rng.integers(0, 2, size=300)
    loaded = LoadedDataset("t", "x", X, y, _splits(y), True)

    def last_token_changed(row: np.ndarray) -> np.ndarray:
        row[-1] += 1  # 27 of 28 5-grams kept: Jaccard 27/29 = 0.93
        return row

    def middle_token_changed(row: np.ndarray) -> np.ndarray:
        row[16] += 1  # 23 of 28 kept: Jaccard 23/33 = 0.70, below 0.8
        return row

    planted = {"exact": plant(loaded, "test", 3, lambda row: row)}
    planted["near"] = plant(loaded, "fresh", 2, last_token_changed)
    planted["below"] = [(int(loaded.splits["test"][3]), -1)]
    loaded.X[planted["below"][0][0]] = middle_token_changed(loaded.X[loaded.splits["train"][5]].copy())
    np.savez(path, X=X, y=y)
    return path, planted


def _splits(y: np.ndarray) -> dict[str, np.ndarray]:
    from carpentry_kit.data.datasets import split_indices

    return split_indices(y, SPLITS, 0, True)


def test_planted_token_duplicates_are_found(tmp_path):
    path, planted = planted_tokens(tmp_path)
    report = find_overlap(load(path))
    test, fresh = report.splits
    assert report.method == "n-gram Jaccard" and report.params == {"ngram": 5, "threshold": 0.8}
    assert (test.split, test.exact, test.near) == ("test", 3, 0)
    assert test.examples == sorted(planted["exact"])
    assert test.max_similarity == pytest.approx(1.0)
    assert (fresh.split, fresh.exact, fresh.near) == ("fresh", 0, 2)
    assert fresh.examples == sorted(planted["near"]) and fresh.max_similarity == pytest.approx(27 / 29)
    assert test.fraction == 3 / test.rows and not report.clean


def test_a_lower_threshold_finds_the_planted_row_below_it(tmp_path):
    path, planted = planted_tokens(tmp_path)
    test = find_overlap(load(path), threshold=0.65).splits[0]
    assert (test.exact, test.near) == (3, 1)


def planted_numbers(tmp_path: Path) -> tuple[Path, dict[str, list[tuple[int, int]]]]:
    """Gaussian feature rows written as CSV, with an exact copy and a copy moved by 1e-6 of a spread."""
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(400, 8)) * [1, 10, 100, 1, 1, 1, 1, 1e-3], rng.integers(0, 3, size=400)
    loaded = LoadedDataset("n", "x", X, y, _splits(y), True)
    planted = {"exact": plant(loaded, "test", 2, lambda row: row)}
    planted["near"] = plant(loaded, "test", 3, lambda row: row)[2:]  # the third row: nudged below
    row = planted["near"][0][0]
    loaded.X[row] = loaded.X[row] + 1e-6 * X.std(axis=0)
    path = tmp_path / "numbers.csv"
    header = ",".join(f"f{i}" for i in range(8)) + ",target"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="", fmt="%.17g")
    return path, planted


def test_planted_numeric_duplicates_are_found(tmp_path):
    path, planted = planted_numbers(tmp_path)
    report = find_overlap(load(path))
    test, fresh = report.splits
    assert report.method == "quantised rows" and report.params == {"tolerance": 0.01}
    assert (test.exact, test.near) == (2, 1) and (fresh.exact, fresh.near) == (0, 0)
    assert test.examples == sorted(planted["exact"]) + planted["near"]


def test_shingles_are_distinct_per_row():
    rows, hashes = shingles(np.array([[1, 2, 1, 2, 1, 2], [1, 2, 3, 4, 5, 6]]), 2)
    assert rows.tolist() == [0, 0, 1, 1, 1, 1, 1]  # (1,2) and (2,1) once each in row 0
    assert len(set(hashes[rows == 0]) & set(hashes[rows == 1])) == 1  # (1,2) is in both


def test_a_dataset_without_train_split_is_a_one_line_error():
    X = np.zeros((4, 2))
    loaded = LoadedDataset("d", "x", X, np.zeros(4), {"all": np.arange(4)}, False)
    with pytest.raises(DatasetError, match=r"^datasets\.d\.splits: has no 'train' split"):
        find_overlap(loaded)


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_builtin_datasets_have_no_overlap(name):
    source = f"builtin:{name}"
    loaded = load_dataset(Dataset(name=name, source=source, splits=SPLITS), Path("."))
    report = find_overlap(loaded)
    assert report.clean, report.to_dict()
    if name == "counting":  # shifted copies s, s+k share 17 of 23 distinct 5-grams: below 0.8
        assert max(split.max_similarity for split in report.splits) == pytest.approx(17 / 23)


# ---------------------------------------------------------------- the command


def carpentry(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_shipped_specs_are_clean(capsys):
    code, out, err = carpentry(capsys, "overlap", *map(str, EXAMPLES))
    assert code == 0 and out.count("OK: no overlap") == 4 and "OVERLAP" not in out
    assert "matmul.yaml: no datasets, nothing to compare" in err


def test_planted_spec_exits_1_with_a_table(tmp_path, capsys):
    path, planted = planted_tokens(tmp_path)
    code, out, _ = carpentry(capsys, "overlap", str(write_spec(tmp_path, path)))
    assert code == 1 and "OVERLAP" in out
    test_line = next(line for line in out.splitlines() if line.strip().startswith("test "))
    row, train = planted["exact"][0]
    rows = len(load(path).splits["test"])
    assert (
        test_line.split()[1:5] == [str(rows), "3", "0", f"{3 / rows:.1%}"]
        and f"({row}, {train})" in test_line
    )


def test_json_output(tmp_path, capsys):
    import json

    path, _ = planted_numbers(tmp_path)
    code, out, _ = carpentry(capsys, "overlap", str(write_spec(tmp_path, path)), "--json")
    (report,) = json.loads(out)
    assert code == 1 and report["method"] == "quantised rows" and not report["clean"]
    assert [(s["split"], s["exact"], s["near"]) for s in report["splits"]] == [
        ("test", 2, 1),
        ("fresh", 0, 0),
    ]


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    code, _, err = carpentry(capsys, "overlap", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml: file not found" in err and err.count("\n") == 1
    path, _ = planted_numbers(tmp_path)
    spec = write_spec(tmp_path, path)
    path.write_text("changed\n")
    code, _, err = carpentry(capsys, "overlap", str(spec))
    assert code == 2 and "sha256: checksum mismatch" in err and err.count("\n") == 1

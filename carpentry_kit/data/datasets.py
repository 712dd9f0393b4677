"""Datasets for a run: ``builtin:`` data, local files and downloads, checked, cached and split.

``load_dataset(ds, spec_dir, cache_dir, seed)`` turns one spec ``datasets`` entry into a
``LoadedDataset``: arrays ``X`` and ``y`` and the row indices of each split. Sources:

* ``builtin:<name>`` — shipped or generated here (``digits`` from scikit-learn, ``heat-1d`` simulated);
* a path relative to the spec file — ``.npz`` holding ``X`` and ``y``, or ``.csv`` with a ``target`` column;
* an ``http(s)://`` URL — downloaded once into the cache (``CARPENTRY_CACHE`` or ``~/.cache/carpentry-kit``).

Paths and URLs are verified against the spec's ``sha256``. Splits are deterministic under the seed and
stratified by class when ``y`` holds class labels. Every problem is a ``DatasetError`` with one line that
names the dataset field, what is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from carpentry_kit.errors import UsageError, close_match
from carpentry_kit.ontology import FRESH_SPLIT

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Dataset

CACHE_ENV = "CARPENTRY_CACHE"
PART_PREFIX = ".download-"  # partial downloads: .download-<pid>-<random>.part
_CHUNK = 1 << 16
FILE_TYPES = (".npz", ".csv")


class DatasetError(UsageError):
    """A dataset that cannot be loaded: ``datasets.<name>.<key>: what is wrong — how to fix it``."""

    def __init__(self, dataset: str, key: str, message: str, hint: str) -> None:
        self.dataset, self.key, self.message, self.hint = dataset, key, message, hint
        super().__init__(f"datasets.{dataset}.{key}: {message} — {hint}")


@dataclass(frozen=True)
class LoadedDataset:
    """Arrays of one dataset and the row indices of each split."""

    name: str
    source: str
    X: np.ndarray
    y: np.ndarray
    splits: dict[str, np.ndarray]
    is_classification: bool
    meta: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the split ``name``."""
        if name not in self.splits:
            raise DatasetError(
                self.name,
                "splits",
                f"has no split '{name}'",
                "add it to splits, e.g. {train: 0.8, test: 0.2}",
            )
        rows = self.splits[name]
        return self.X[rows], self.y[rows]


# ---------------------------------------------------------------- builtin sources


def _digits(seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """scikit-learn's digits, read from the file it ships: importing scikit-learn takes seconds."""
    meta = {"description": "UCI hand-written digits, 8x8 grey levels 0-16", "classes": 10}
    path = _sklearn_data_file("digits.csv.gz")
    if path is None:  # an unusual install: let scikit-learn find its own data
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.data.astype(np.float32), digits.target.astype(np.int64), meta
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        table = np.loadtxt(handle, delimiter=",")  # 64 pixels, then the digit: as load_digits reads it
    return table[:, :-1].astype(np.float32), table[:, -1].astype(np.int64), meta


def _sklearn_data_file(name: str) -> Path | None:
    """A data file scikit-learn ships (``sklearn/datasets/data/NAME``), located without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    return path if path.is_file() else None


def _heat_1d(seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from carpentry_kit.data.heat_simulation import heat_1d_dataset

    return heat_1d_dataset(seed=seed)


def _counting(seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from carpentry_kit.data.counting_corpus import counting_dataset

    return counting_dataset(seed=seed)


BUILTIN_DATASETS: dict[str, tuple[Callable[[int], tuple[np.ndarray, np.ndarray, dict[str, Any]]], str]] = {
    "digits": (_digits, "scikit-learn's 1,797 8x8 hand-written digits, 10 classes"),
    "heat-1d": (_heat_1d, "512 simulated 1-D heat-diffusion runs: initial profile -> profile at t=0.05"),
    "counting": (
        _counting,
        "all 192 counting sequences of 24 tokens (a tiny generated language), for language models",
    ),
}


# builtin generators a fresh draw (``fresh: {seed}``) gets new rows of the same distribution from
REDRAWABLE = ("heat-1d",)
_NOT_REDRAWABLE = {
    "digits": "builtin:digits is a fixed set of 1,797 images",
    "counting": "builtin:counting already holds every sequence of its language, so a new seed repeats them",
}


def fresh_draw_problem(source: str) -> tuple[str, str] | None:
    """Why ``source`` cannot be redrawn for a ``fresh`` draw, and how to fix it: ``(message, hint)``; or None."""
    name = source.removeprefix("builtin:")
    if source.startswith("builtin:") and name in REDRAWABLE:
        return None
    why = _NOT_REDRAWABLE.get(name, f"{source} is not a generator this package can redraw")
    return (
        f"cannot draw fresh data: {why}",
        "reserve a split instead, e.g. splits: {train: 0.7, test: 0.15, fresh: 0.15}",
    )


def builtin_datasets() -> dict[str, str]:
    """Name -> one-line description of each ``builtin:`` dataset."""
    return {name: description for name, (_, description) in BUILTIN_DATASETS.items()}


def _load_builtin(ds: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    name = ds.source.removeprefix("builtin:")
    if name not in BUILTIN_DATASETS:
        close = close_match(name, BUILTIN_DATASETS)
        hint = f"did you mean 'builtin:{close}'? " if close else ""
        raise DatasetError(ds.name, "source", f"no builtin dataset '{name}'", hint + _builtin_list())
    return BUILTIN_DATASETS[name][0](seed)


def _builtin_list() -> str:
    return "known: " + ", ".join(f"builtin:{name}" for name in BUILTIN_DATASETS)


# ---------------------------------------------------------------- files, URLs, checksums


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(ds: Dataset, location: str, actual: str) -> None:
    if actual != ds.sha256:
        raise DatasetError(
            ds.name,
            "sha256",
            f"checksum mismatch for {location}: expected {ds.sha256} got {actual}",
            "fix sha256 or the file",
        )


def default_cache_dir() -> Path:
    """``$CARPENTRY_CACHE`` or ``~/.cache/carpentry-kit``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "carpentry-kit")


def _file_type(ds: Dataset, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in FILE_TYPES:
        raise DatasetError(
            ds.name,
            "source",
            f"unsupported file type '{suffix or name}'",
            "use a .npz (X, y) or .csv (target column)",
        )
    return suffix


def _local_file(ds: Dataset, spec_dir: Path) -> Path:
    path = (Path(spec_dir) / ds.source).resolve()
    _file_type(ds, path.name)
    if not path.is_file():
        raise DatasetError(
            ds.name, "source", f"file not found: {path}", "check the path (relative to the spec file)"
        )
    _verify(ds, str(path), sha256_of(path))
    return path


def _cached_download(ds: Dataset, cache_dir: Path | None) -> Path:
    from urllib.parse import urlparse

    basename = Path(urlparse(ds.source).path).name or "download"
    _file_type(ds, basename)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"{ds.sha256[:16]}-{basename}"
    if target.is_file() and sha256_of(target) == ds.sha256:
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(cache)
        handle, temp_name = tempfile.mkstemp(dir=cache, prefix=f"{PART_PREFIX}{os.getpid()}-", suffix=".part")
    except OSError as error:
        where = error.filename or cache
        raise DatasetError(
            ds.name,
            "source",
            f"cannot write the download cache {where} ({error.strerror or error})",
            f"set {CACHE_ENV} to a writable directory",
        ) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            actual = _download(ds, stream)
        _verify(ds, ds.source, actual)
        os.replace(temp_name, target)
    except OSError as error:  # the last buffered bytes or the rename: a full disk
        raise DatasetError(
            ds.name,
            "source",
            f"cannot write the download into {cache} ({error.strerror or error})",
            f"free some space, or set {CACHE_ENV} to a directory with room",
        ) from None
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    return target


def remove_stale_parts(cache: Path) -> list[Path]:
    """Delete partial downloads (``.part``) left in ``cache`` by processes that no longer run (killed)."""
    import psutil

    removed = []
    for part in cache.glob(f"{PART_PREFIX}*.part"):
        pid = part.name.removeprefix(PART_PREFIX).split("-", 1)[0]
        if pid.isdigit() and psutil.pid_exists(int(pid)):
            continue  # another download in progress
        part.unlink(missing_ok=True)
        removed.append(part)
    return removed


def _download(ds: Dataset, stream: Any) -> str:
    """Stream ``ds.source`` into ``stream`` within the download limits; the sha256 of what was written."""
    from tqdm.auto import tqdm

    from carpentry_kit.data.download import DownloadError, DownloadLimits, fetch

    digest = hashlib.sha256()
    try:
        limits = DownloadLimits.from_environment(ds.size_bytes)
        with tqdm(total=ds.size_bytes, unit="B", unit_scale=True, desc=ds.name, disable=None) as bar:

            def write(chunk: bytes) -> None:
                stream.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))

            fetch(ds.source, write, limits)
    except DownloadError as error:
        raise DatasetError(ds.name, "source", error.message, error.hint) from None
    return digest.hexdigest()


def _read_npz(ds: Dataset, path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            found = {key: arrays[key] for key in ("X", "y") if key in arrays.files}
    except (OSError, ValueError) as error:
        raise DatasetError(
            ds.name, "source", f"{path} is not a readable .npz ({error})", "re-create the file"
        ) from None
    missing = [key for key in ("X", "y") if key not in found]
    if missing:
        raise DatasetError(
            ds.name,
            "source",
            f"{path} has no array {missing[0]}",
            "save it with np.savez(path, X=..., y=...)",
        )
    return found["X"], found["y"]


def _read_csv(ds: Dataset, path: Path) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise DatasetError(
            ds.name, "source", f"{path} is not a readable CSV ({error})", "re-create the file"
        ) from None
    if "target" not in frame.columns:
        raise DatasetError(
            ds.name, "source", f"{path} has no 'target' column", "name the label column 'target'"
        )
    features = frame.drop(columns=["target"])
    non_numeric = [
        column for column in features.columns if not pd.api.types.is_numeric_dtype(features[column])
    ]
    if non_numeric:
        raise DatasetError(
            ds.name, "source", f"{path}: column '{non_numeric[0]}' is not numeric", "encode it as numbers"
        )
    return features.to_numpy(dtype=np.float32), frame["target"].to_numpy()


def _read_file(ds: Dataset, path: Path) -> tuple[np.ndarray, np.ndarray]:
    reader = _read_npz if _file_type(ds, path.name) == ".npz" else _read_csv
    X, y = reader(ds, path)
    if len(X) != len(y):
        raise DatasetError(
            ds.name, "source", f"{path}: X has {len(X)} rows but y has {len(y)}", "make them match"
        )
    return X, y


# ---------------------------------------------------------------- splits


def is_class_labels(y: np.ndarray) -> bool:
    """True when ``y`` is one label per row of integers, booleans or strings."""
    return y.ndim == 1 and y.dtype.kind in "iubOUS"


def _split_sizes(count: int, fractions: list[float]) -> np.ndarray:
    """Split ``count`` items by ``fractions``, largest remainders rounded up, sizes adding up to ``count``."""
    exact = np.asarray(fractions) * count
    sizes = np.floor(exact).astype(int)
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[: count - sizes.sum()]] += 1
    return sizes


def split_indices(
    y: np.ndarray, fractions: dict[str, float], seed: int, stratify: bool
) -> dict[str, np.ndarray]:
    """Disjoint, shuffled row indices per split, covering every row; per class when ``stratify``."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == label) for label in np.unique(y)] if stratify else [np.arange(len(y))]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in fractions}
    for rows in groups:
        shuffled = rng.permutation(rows)
        bounds = np.cumsum(_split_sizes(len(rows), list(fractions.values())))[:-1]
        for name, chunk in zip(fractions, np.split(shuffled, bounds), strict=True):
            parts[name].append(chunk)
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


# ---------------------------------------------------------------- entry point


def load_dataset(ds: Dataset, spec_dir: Path, cache_dir: Path | None = None, seed: int = 0) -> LoadedDataset:
    """Load, verify and split one spec dataset (see the module docstring for the sources)."""
    meta: dict[str, Any] = {}
    if ds.source.startswith("builtin:"):
        X, y, meta = _load_builtin(ds, seed)
    else:
        remote = ds.source.startswith(("http://", "https://"))
        path = _cached_download(ds, cache_dir) if remote else _local_file(ds, spec_dir)
        X, y = _read_file(ds, path)
        meta = {"path": str(path), "sha256": ds.sha256}
    stratify = is_class_labels(y)
    splits = split_indices(y, ds.splits or {"all": 1.0}, seed, stratify)
    empty = [name for name, rows in splits.items() if len(rows) == 0]
    if empty:
        raise DatasetError(
            ds.name, "splits", f"split '{empty[0]}' is empty ({len(y)} rows in all)", "raise its fraction"
        )
    if ds.fresh is not None:
        X, y, splits = _with_fresh_draw(ds, X, y, splits, seed)
        meta = {**meta, "fresh": {"seed": ds.fresh.seed, "rows": int(len(splits[FRESH_SPLIT]))}}
    return LoadedDataset(ds.name, ds.source, X, y, splits, stratify, meta)


def _with_fresh_draw(
    ds: Dataset, X: np.ndarray, y: np.ndarray, splits: dict[str, np.ndarray], seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The public rows plus a fresh draw from the builtin generator under ``ds.fresh.seed``, as split 'fresh'."""
    assert ds.fresh is not None
    problem = fresh_draw_problem(ds.source)
    if problem is not None:
        raise DatasetError(ds.name, "fresh", *problem)
    if ds.fresh.seed == seed:
        raise DatasetError(
            ds.name,
            "fresh.seed",
            f"{seed} is the task's seed, so the draw repeats the public data",
            "pick another seed",
        )
    fresh_X, fresh_y, _ = _load_builtin(ds, ds.fresh.seed)
    test = splits.get("test", next(iter(splits.values())))
    rows = min(ds.fresh.rows or len(test), len(fresh_X))
    fresh_rows = np.arange(len(X), len(X) + rows)
    return (
        np.concatenate([X, fresh_X[:rows]]),
        np.concatenate([y, fresh_y[:rows]]),
        {**splits, FRESH_SPLIT: fresh_rows},
    )

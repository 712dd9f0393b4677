"""Overlap between a dataset's training split and its other splits: exact and near duplicates.

``find_overlap(loaded)`` compares the ``train`` split of a ``LoadedDataset`` with every other split (test,
validation, fresh, ...) and returns one ``SplitOverlap`` per split:

* **exact** — a row whose canonical bytes (``X`` and ``y`` together, as little-endian float64 or int64)
  hash to those of a training row;
* **near**, for integer token sequences (2-D integer ``X``) — the Jaccard similarity of the row's set of
  word ``n``-gram shingles with a training row's set is at least ``threshold`` (defaults: 5-grams, 0.8).
  Shared shingles are counted through an inverted index (sorted shingle hashes), never by comparing every
  pair of rows; the highest similarity seen is reported too, so a near miss is visible;
* **near**, for numeric feature rows — ``X`` rounded to a grid whose cell is ``tolerance`` (default 0.01)
  times each feature's standard deviation over the training split (1 where a feature is constant); two
  rows are near duplicates when they fall in the same cell of the grid or of the grid shifted by half a
  cell. Rows that collide differ by less than one cell in every feature; rows closer than half a cell in
  every feature usually, but not always, collide.

Near duplicates compare ``X`` only, so a copy of a training input under another label counts as near. A near
duplicate that is also exact is counted once, as exact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carpentry_kit.data.datasets import DatasetError, LoadedDataset

TRAIN = "train"
NGRAM, THRESHOLD, TOLERANCE = 5, 0.8, 0.01
EXAMPLES = 3
_MIX = np.uint64(0x9E3779B97F4A7C15)  # the 64-bit golden-ratio constant, mixes shingle tokens


@dataclass(frozen=True)
class SplitOverlap:
    """How many rows of one split repeat (exactly or nearly) a training row."""

    split: str
    rows: int
    exact: int
    near: int
    examples: list[tuple[int, int]]  # (row in this split, training row), dataset row indices
    max_similarity: float | None = None  # token data: the highest n-gram Jaccard similarity seen

    @property
    def fraction(self) -> float:
        """Share of the split's rows that repeat a training row."""
        return (self.exact + self.near) / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "rows": self.rows,
            "exact": self.exact,
            "near": self.near,
            "fraction": self.fraction,
            "max_similarity": self.max_similarity,
            "examples": [list(pair) for pair in self.examples],
        }


@dataclass(frozen=True)
class OverlapReport:
    """The overlap of every non-training split of one dataset with its training split."""

    dataset: str
    method: str
    params: dict[str, float]
    splits: list[SplitOverlap] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(split.exact + split.near == 0 for split in self.splits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "method": self.method,
            "params": self.params,
            "clean": self.clean,
            "splits": [split.to_dict() for split in self.splits],
        }


def find_overlap(
    loaded: LoadedDataset, ngram: int = NGRAM, threshold: float = THRESHOLD, tolerance: float = TOLERANCE
) -> OverlapReport:
    """Exact and near duplicates of training rows in every other split of ``loaded``."""
    if TRAIN not in loaded.splits:
        raise DatasetError(
            loaded.name,
            "splits",
            "has no 'train' split to compare with",
            "add one, e.g. {train: 0.8, test: 0.2}",
        )
    tokens = is_token_data(loaded.X)
    if tokens:
        method, params = "n-gram Jaccard", {"ngram": ngram, "threshold": threshold}
    else:
        method, params = "quantised rows", {"tolerance": tolerance}
    report = OverlapReport(loaded.name, method, params)
    train = loaded.splits[TRAIN]
    exact_keys = _row_hashes(loaded.X, loaded.y)
    near = _TokenIndex(loaded.X, train, ngram) if tokens else _GridIndex(loaded.X, train, tolerance)
    for name, rows in loaded.splits.items():
        if name != TRAIN:
            report.splits.append(_split_overlap(name, rows, train, exact_keys, near, threshold))
    return report


def is_token_data(X: np.ndarray) -> bool:
    """Integer sequences (2-D integer array): compared by n-gram shingles rather than values."""
    return X.ndim == 2 and np.issubdtype(X.dtype, np.integer)


def _split_overlap(
    name: str, rows: np.ndarray, train: np.ndarray, exact_keys: np.ndarray, near: Any, threshold: float
) -> SplitOverlap:
    exact = _exact_matches(exact_keys, rows, train)
    pairs, best = near.matches(rows, threshold)
    near_pairs = {row: match for row, match in pairs.items() if row not in exact}
    examples = sorted(exact.items())[:EXAMPLES] + sorted(near_pairs.items())[: max(0, EXAMPLES - len(exact))]
    return SplitOverlap(name, len(rows), len(exact), len(near_pairs), examples[:EXAMPLES], best)


# ---------------------------------------------------------------- exact duplicates


def _row_hashes(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One digest per row of its canonical bytes (X then y), as an array of bytes objects."""
    canon_x = _canonical(X.reshape(len(X), -1))
    canon_y = _canonical(y.reshape(len(y), -1))
    rows = np.concatenate([canon_x, canon_y], axis=1)
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows], dtype=object)


def _canonical(values: np.ndarray) -> np.ndarray:
    kind = "<i8" if np.issubdtype(values.dtype, np.integer) else "<f8"
    return np.ascontiguousarray(values.astype(kind)).view(np.uint8).reshape(len(values), -1)


def _exact_matches(keys: np.ndarray, rows: np.ndarray, train: np.ndarray) -> dict[int, int]:
    """Row -> the first training row with the same digest."""
    first: dict[bytes, int] = {}
    for row in train[::-1]:
        first[keys[row]] = int(row)
    return {int(row): first[keys[row]] for row in rows if keys[row] in first}


# ---------------------------------------------------------------- near duplicates: token sequences


def shingles(X: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """``(row, shingle hash)`` pairs, one per distinct word ``ngram``-gram of each row of ``X``."""
    size = min(ngram, X.shape[1])
    windows = np.lib.stride_tricks.sliding_window_view(X.astype(np.uint64), size, axis=1)
    hashes = np.zeros(windows.shape[:2], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(size):  # a polynomial hash of the window, wrapping at 2**64
            hashes = hashes * _MIX + windows[:, :, position] + np.uint64(1)
    rows = np.repeat(np.arange(len(X)), hashes.shape[1])
    pairs = np.unique(np.stack([rows.astype(np.uint64), hashes.ravel()], axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1]


class _TokenIndex:
    """An inverted index from shingle hash to the training rows holding it."""

    def __init__(self, X: np.ndarray, train: np.ndarray, ngram: int) -> None:
        self.rows, self.hashes = shingles(X, ngram)
        self.sizes = np.bincount(self.rows, minlength=len(X))
        in_train = np.isin(self.rows, train)
        order = np.argsort(self.hashes[in_train], kind="stable")
        self.train_rows = self.rows[in_train][order]
        self.train_hashes = self.hashes[in_train][order]

    def matches(self, rows: np.ndarray, threshold: float) -> tuple[dict[int, int], float]:
        """Row -> its most similar training row at Jaccard >= ``threshold``; and the highest Jaccard seen."""
        query, train, shared = self._shared_counts(rows)
        if len(query) == 0:
            return {}, 0.0
        jaccard = shared / (self.sizes[query] + self.sizes[train] - shared)
        order = np.lexsort((train, -jaccard, query))  # per query row: most similar first
        query, train, jaccard = query[order], train[order], jaccard[order]
        first = np.r_[True, query[1:] != query[:-1]]
        hits = first & (jaccard >= threshold)
        return dict(zip(query[hits].tolist(), train[hits].tolist(), strict=True)), float(jaccard.max())

    def _shared_counts(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each (query row, training row) sharing a shingle, how many shingles they share."""
        mine = np.isin(self.rows, rows)
        query_rows, query_hashes = self.rows[mine], self.hashes[mine]
        low = np.searchsorted(self.train_hashes, query_hashes, side="left")
        counts = np.searchsorted(self.train_hashes, query_hashes, side="right") - low
        starts = np.repeat(low - np.cumsum(counts) + counts, counts)
        postings = starts + np.arange(counts.sum())
        pairs = np.stack([np.repeat(query_rows, counts), self.train_rows[postings]], axis=1)
        if len(pairs) == 0:
            return (np.empty(0, np.int64),) * 3
        unique, shared = np.unique(pairs, axis=0, return_counts=True)
        return unique[:, 0], unique[:, 1], shared


# ---------------------------------------------------------------- near duplicates: numeric rows


class _GridIndex:
    """Rows rounded to a grid of ``tolerance`` x each feature's training spread, and the half-shifted grid."""

    def __init__(self, X: np.ndarray, train: np.ndarray, tolerance: float) -> None:
        flat = X.reshape(len(X), -1).astype(np.float64)
        spread = flat[train].std(axis=0)
        cell = tolerance * np.where(spread > 0, spread, 1.0)
        self.keys = [_grid_keys(flat / cell + shift) for shift in (0.0, 0.5)]
        self.train = train

    def matches(self, rows: np.ndarray, threshold: float) -> tuple[dict[int, int], None]:
        """Row -> a training row in the same grid cell (either grid); no similarity score."""
        found: dict[int, int] = {}
        for keys in self.keys:
            first = {keys[row]: int(row) for row in self.train[::-1]}
            for row in rows:
                if int(row) not in found and keys[row] in first:
                    found[int(row)] = first[keys[row]]
        return found, None


def _grid_keys(scaled: np.ndarray) -> list[bytes]:
    cells = np.floor(scaled).astype(np.int64)
    return [cell.tobytes() for cell in cells]

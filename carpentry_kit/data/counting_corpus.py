"""A tiny generated language for the ``tiny-lm`` workload: counting sequences, ``BOS STEP_k s s+k s+2k ...``.

Every sequence starts with a begin token, a step token (k = 1, 2 or 3) and a random start s; each later
number is the previous one plus k, modulo ``numbers``. After the first number every token is determined by
the ones before it, so a model that has learnt the rule predicts them exactly: held-out perplexity falls
towards ``numbers ** (1 / (length - 2))`` (only the start is random) and greedy generation can be checked token
by token. A new seed draws fresh sequences of the same distribution (the dynamic-benchmark "fresh split").
"""

from __future__ import annotations

from typing import Any

import numpy as np

BOS = 0
STEPS = (1, 2, 3)
FIRST_NUMBER = 1 + len(STEPS)  # token id of the number 0


def vocabulary_size(numbers: int) -> int:
    """Tokens: BOS, one per step, then the numbers 0 .. numbers-1."""
    return FIRST_NUMBER + numbers


def counting_sequences(count: int, length: int, numbers: int = 64, seed: int = 0) -> np.ndarray:
    """``count`` token sequences of ``length`` tokens (``int64``, shape ``(count, length)``)."""
    if length < 3:
        raise ValueError(f"length {length}: a sequence needs at least BOS, a step and one number")
    rng = np.random.default_rng(seed)
    step_index = rng.integers(0, len(STEPS), size=count)
    start = rng.integers(0, numbers, size=count)
    positions = np.arange(length - 2)
    values = (start[:, None] + np.asarray(STEPS)[step_index][:, None] * positions) % numbers
    tokens = np.empty((count, length), dtype=np.int64)
    tokens[:, 0] = BOS
    tokens[:, 1] = 1 + step_index
    tokens[:, 2:] = FIRST_NUMBER + values
    return tokens


def continuation(prompt: np.ndarray, count: int, numbers: int = 64) -> np.ndarray:
    """The ``count`` tokens that follow each prompt (shape ``(n, prompt_len)``) under the counting rule."""
    step = np.asarray(STEPS)[prompt[:, 1] - 1]
    last = prompt[:, -1] - FIRST_NUMBER
    ahead = np.arange(1, count + 1)
    return FIRST_NUMBER + (last[:, None] + step[:, None] * ahead) % numbers


def counting_dataset(
    seed: int = 0, count: int = 2048, length: int = 24, numbers: int = 64
) -> tuple[Any, ...]:
    """``builtin:counting``: ``X`` the token sequences, ``y`` each sequence's step (1, 2 or 3), metadata."""
    X = counting_sequences(count, length, numbers, seed)
    meta = {
        "description": f"{count} counting sequences of {length} tokens (steps 1-3, numbers mod {numbers})",
        "numbers": numbers,
        "vocabulary": vocabulary_size(numbers),
        "generator": "carpentry_kit.data.counting_corpus.counting_sequences",
    }
    return X, np.asarray(STEPS)[X[:, 1] - 1].astype(np.int64), meta

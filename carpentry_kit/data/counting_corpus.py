"""A tiny generated language for the ``tiny-lm`` workload: counting sequences, ``BOS STEP_k s s+k s+2k ...``.

Every sequence starts with a begin token, a step token (k = 1, 2 or 3) and a random start s; each later
number is the previous one plus k, modulo ``numbers``. After the first number every token is determined by
the ones before it, so a model that has learnt the rule predicts them exactly: held-out perplexity falls
towards ``numbers ** (1 / (length - 2))`` (only the start is random) and greedy generation can be checked token
by token. The language holds ``len(STEPS) * numbers`` sequences of a given length (192 by default):
``builtin:counting`` is each of them once, in an order the seed shuffles, so no split shares a sequence with
another. A new seed draws the same sequences again, so fresh data of this language is a reserved split
(``splits: {train: ..., test: ..., fresh: ...}``), not a new draw; ``noisy_sequences`` adds random tokens a
model can only memorise (the contamination demonstration of ``carpentry_kit.explore.contamination``).
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
    return _sequences(step_index, start, length, numbers)


def _sequences(step_index: np.ndarray, start: np.ndarray, length: int, numbers: int) -> np.ndarray:
    count = len(start)
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


def all_sequences(length: int, numbers: int = 64, seed: int = 0) -> np.ndarray:
    """Every sequence of the language once (one per step and start), in an order shuffled by ``seed``."""
    step_index, start = np.divmod(np.arange(len(STEPS) * numbers), numbers)
    tokens = _sequences(step_index, start, length, numbers)
    return tokens[np.random.default_rng(seed).permutation(len(tokens))]


def noisy_sequences(tokens: np.ndarray, noise: float, numbers: int = 64, seed: int = 0) -> np.ndarray:
    """``tokens`` with each number after the prompt's first two replaced, with probability ``noise``, by a
    random number: text no rule predicts, which a model can only get right by memorising it."""
    rng = np.random.default_rng(seed)
    noisy = tokens.copy()
    mask = rng.random(noisy.shape) < noise
    mask[:, :4] = False
    noisy[mask] = FIRST_NUMBER + rng.integers(0, numbers, int(mask.sum()))
    return noisy


def counting_dataset(seed: int = 0, length: int = 24, numbers: int = 64) -> tuple[Any, ...]:
    """``builtin:counting``: ``X`` every sequence once, ``y`` each sequence's step (1, 2 or 3), metadata."""
    X = all_sequences(length, numbers, seed)
    meta = {
        "description": f"all {len(X)} counting sequences of {length} tokens (steps 1-3, numbers mod {numbers})",
        "numbers": numbers,
        "vocabulary": vocabulary_size(numbers),
        "generator": "carpentry_kit.data.counting_corpus.counting_sequences",
    }
    return X, np.asarray(STEPS)[X[:, 1] - 1].astype(np.int64), meta

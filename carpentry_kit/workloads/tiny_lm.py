"""``tiny-lm``: a small decoder-only transformer that writes text token by token, measured like MLPerf's LLMs.

Setup (untimed) trains the model for a few seconds on ``builtin:counting`` (``BOS STEP_k s s+k ...``, see
``carpentry_kit.data.counting_corpus``). A sample is one prompt of ``prompt_tokens`` tokens from the test split;
answering it means generating ``output_tokens`` tokens greedily, with the key/value cache or (``kv_cache:
false``) re-reading the whole context for every token. ``generate_sample`` reports the first token as soon as it
exists, so time to first token (TTFT) and time per output token (TPOT) follow MLPerf Inference's definitions:
TTFT from the query's arrival to its first output token, TPOT the time of the remaining tokens divided by their
number. Quality: perplexity of the held-out text and the accuracy of the generated tokens (each checked
against the counting rule) — the accuracy check of LoadGen's accuracy mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from carpentry_kit.ontology import FRESH_SPLIT
from carpentry_kit.workloads import Workload, WorkloadError, register_workload

Tokens = Any  # a 1-D array of token ids


@register_workload
class TinyLM(Workload):
    name = "tiny-lm"
    summary = (
        "A small decoder-only transformer (KV cache) trained on generated counting text; generates tokens"
    )
    scenarios = ("offline", "single-stream", "multi-stream", "server")
    defaults: dict[str, Any] = {
        "width": 32,
        "layers": 2,
        "heads": 2,
        "train_steps": 150,
        "train_batch": 32,
        "learning_rate": 0.01,
        "batch_size": 8,
        "prompt_tokens": 4,
        "output_tokens": 16,
        "kv_cache": True,
        "dtype": "float32",
    }
    choices = {"dtype": ("float32", "bfloat16"), "kv_cache": (True, False)}
    minimums = {"width": 8, "layers": 1, "heads": 1, "train_steps": 0, "train_batch": 1, "batch_size": 1,
                "prompt_tokens": 3, "output_tokens": 1, "learning_rate": 1e-9}  # fmt: skip
    quality_metrics = {"perplexity": "ratio", "generation_accuracy": "fraction"}
    quality_statistics = {"perplexity": "exp_mean"}  # per sequence: mean negative log-likelihood
    token_metrics = True  # TTFT, TPOT, tokens per second and energy per token
    inference = True

    def setup(self) -> None:
        import torch

        from carpentry_kit.data.counting_corpus import vocabulary_size
        from carpentry_kit.workloads import _transformer

        p = self.params
        if p["width"] % p["heads"]:
            raise WorkloadError(f"task.params.width: {p['width']} is not a multiple of heads ({p['heads']})")
        ds = self.dataset("counting")
        train, test = ds.split("train")[0], ds.split("test")[0]
        if p["prompt_tokens"] + p["output_tokens"] > ds.X.shape[1]:
            raise WorkloadError(
                f"task.params: prompt_tokens + output_tokens must be at most {ds.X.shape[1]} (the sequence length)"
            )
        self.numbers = int(ds.meta.get("numbers", 64))
        torch.manual_seed(self.seed)
        context = ds.X.shape[1]
        self.model = _transformer.TinyGPT(
            vocabulary_size(self.numbers), context, p["width"], p["layers"], p["heads"]
        )
        self.train_loss = _transformer.train(
            self.model,
            torch.as_tensor(train),
            p["train_steps"],
            p["train_batch"],
            p["learning_rate"],
            self.seed,
        )
        self.dtype = getattr(torch, p["dtype"])
        self.model = self.model.to(self.device, self.dtype)
        self.test = torch.as_tensor(test, device=self.device)
        self.prompts = self.test[:, : p["prompt_tokens"]]
        self.held_out = {"test": self.test}
        if FRESH_SPLIT in ds.splits:
            self.held_out[FRESH_SPLIT] = torch.as_tensor(ds.split(FRESH_SPLIT)[0], device=self.device)
        self.generated: dict[int, Tokens] = {}

    def reset(self, seed: int) -> None:
        self.generated = {}

    # ---------------------------------------------------------------- generation
    def sample_count(self) -> int:
        """How many distinct samples (prompts) there are."""
        return len(self.prompts)

    def generate(self, rows: list[int], on_first_token: Callable[[Tokens], None] | None = None) -> Tokens:
        """Greedy generation of ``output_tokens`` for the prompts ``rows`` (one batch); the output tokens."""
        generated = self._greedy(self.prompts[rows], on_first_token)
        for row, sequence in zip(rows, generated, strict=True):
            self.generated[row] = sequence
        return generated

    def _greedy(self, tokens: Tokens, on_first_token: Callable[[Tokens], None] | None = None) -> Tokens:
        """Greedy generation of ``output_tokens`` after each prompt of ``tokens`` (one batch)."""
        import torch

        with torch.inference_mode():
            cache: list | None = [] if self.params["kv_cache"] else None
            logits = self.model(tokens, cache)
            out = [logits[:, -1].argmax(-1)]
            if on_first_token is not None:
                self.sync()
                on_first_token(out[0])
            for _ in range(self.params["output_tokens"] - 1):
                if cache is not None:
                    logits = self.model(out[-1][:, None], cache)
                else:
                    logits = self.model(torch.cat([tokens, torch.stack(out, 1)], 1))
                out.append(logits[:, -1].argmax(-1))
            generated = torch.stack(out, 1)
            self.sync()
        return generated

    def generate_sample(self, index: int, on_first_token: Callable[[Tokens], None] | None = None) -> Tokens:
        """One sample (a query of one prompt): its output tokens."""
        return self.generate([index % self.sample_count()], on_first_token)[0]

    def query(self, index: int) -> None:
        self.generate_sample(index)

    def step(self) -> int:
        """Offline: one batch of ``batch_size`` prompts; returns the samples done."""
        size = self.params["batch_size"]
        start = (len(self.generated) // size * size) % self.sample_count()
        rows = [(start + offset) % self.sample_count() for offset in range(size)]
        self.generate(rows)
        return size

    def tokens_per_sample(self) -> int:
        return self.params["output_tokens"]

    # ---------------------------------------------------------------- quality and work
    def evaluate(self) -> dict[str, float]:
        """Perplexity of the test text and the accuracy of the tokens generated during the run."""
        import numpy as np

        if not self.generated:
            self.generate(list(range(min(64, self.sample_count()))))
        rows = sorted(self.generated)
        produced = np.stack([self.generated[row].cpu().numpy() for row in rows])
        correct = self._correct_tokens(self.prompts[rows].cpu().numpy(), produced)
        perplexity = math.exp(float(self._nll(self.test).mean()))
        return {"perplexity": perplexity, "generation_accuracy": float(correct.mean())}

    def sample_quality(self, split: str) -> dict[str, Any]:
        """Per sequence of ``split``: its mean negative log-likelihood (nats per token; exp of their mean is
        the perplexity) and the fraction of its greedily generated tokens the counting rule expects."""
        if split not in self.held_out:
            raise WorkloadError(
                f"workload '{self.name}' has no '{split}' split (it has {', '.join(self.held_out)})"
            )
        sequences = self.held_out[split]
        prompts = sequences[:, : self.params["prompt_tokens"]]
        produced = self._greedy(prompts).cpu().numpy()
        correct = self._correct_tokens(prompts.cpu().numpy(), produced)
        return {"perplexity": self._nll(sequences), "generation_accuracy": correct.mean(axis=1)}

    def _correct_tokens(self, prompts: Any, produced: Any) -> Any:
        """Which generated tokens (``produced``, one row per prompt) the counting rule expects."""
        from carpentry_kit.data.counting_corpus import continuation

        return produced == continuation(prompts, produced.shape[1], self.numbers)

    def _nll(self, sequences: Tokens) -> Any:
        """Each sequence's mean negative log-likelihood from the second number on (the tokens the rule
        determines), computed in float32."""
        from carpentry_kit.workloads import _transformer

        model = self.model.float()
        nll = _transformer.sequence_nll(model, sequences, skip=2).cpu().numpy()
        self.model = model.to(self.dtype)
        return nll

    def work_per_sample(self) -> dict[str, float]:
        """Forward flop of one sample's generation (2 per weight per token read) and its weight reads."""
        weights = self.model.parameter_count()
        p = self.params
        tokens_read = (
            p["prompt_tokens"] + (p["output_tokens"] - 1)
            if p["kv_cache"]
            else sum(p["prompt_tokens"] + i for i in range(p["output_tokens"]))
        )
        bytes_per_weight = 2 if p["dtype"] == "bfloat16" else 4
        return {
            "flop": 2.0 * weights * tokens_read,
            "bytes": float(weights * bytes_per_weight * p["output_tokens"]),
        }

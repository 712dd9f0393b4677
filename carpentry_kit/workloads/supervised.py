"""``SupervisedNet``: what the neural workloads share — an MLP trained epoch by epoch on a dataset's splits.

Subclasses say which dataset they prefer, how targets become tensors, the loss and the quality metrics.
torch is imported inside methods only, so the registry can read the subclasses' metadata without it.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from carpentry_kit.ontology import FRESH_SPLIT
from carpentry_kit.workloads import Workload, WorkloadError

if TYPE_CHECKING:
    import numpy as np

TRAIN_SPLIT = "train"
EVALUATION_SPLITS = ("test", "validation", "val")
# Training a network costs about three forward passes per sample (forward, then backward for
# activations and weights), the usual 6-flop-per-weight estimate.
TRAINING_FLOP_PER_FORWARD_FLOP = 3.0

NETWORK_DEFAULTS: dict[str, Any] = {
    "hidden": 64,
    "layers": 1,
    "batch_size": 64,
    "learning_rate": 0.01,
    "optimizer": "adam",
}
NETWORK_CHOICES: dict[str, tuple[Any, ...]] = {"optimizer": ("adam", "sgd")}
NETWORK_MINIMUMS: dict[str, float] = {"hidden": 1, "layers": 0, "batch_size": 1, "learning_rate": 1e-12}


class SupervisedNet(Workload):
    """An MLP trained on the ``train`` split and evaluated on ``test`` (or ``validation``)."""

    preferred_dataset: str = ""

    def setup(self) -> None:
        from carpentry_kit.workloads import _nn

        ds = self.dataset(self.preferred_dataset)
        train_X, train_y = self._split(ds, (TRAIN_SPLIT,))
        held_out = {"test": self._split(ds, EVALUATION_SPLITS)}
        if FRESH_SPLIT in ds.splits:
            held_out[FRESH_SPLIT] = ds.split(FRESH_SPLIT)
        flat = [X.reshape(len(X), -1) for X, _ in held_out.values()]
        train_X, *flat = _nn.standardize(train_X.reshape(len(train_X), -1), *flat)
        self._outputs = self.prepare_targets(ds.y)
        self.train_data = (_nn.to_device(train_X, self.device), self.target_tensor(train_y))
        self.held_out = {
            name: (_nn.to_device(X, self.device), self.target_tensor(y))
            for name, X, (_, y) in zip(held_out, flat, held_out.values(), strict=True)
        }
        self.test_data = self.held_out["test"]
        self.reset(self.seed)

    def reset(self, seed: int) -> None:
        """A freshly initialised network and optimizer; batches shuffled from ``seed``."""
        import torch

        from carpentry_kit.workloads import _nn

        torch.manual_seed(seed)
        hidden, layers = self.params["hidden"], self.params["layers"]
        self.model = _nn.build_mlp(self.train_data[0].shape[1], hidden, layers, self._outputs).to(self.device)
        self.optimizer = _nn.make_optimizer(
            self.params["optimizer"], self.model, self.params["learning_rate"]
        )
        self.generator = torch.Generator().manual_seed(seed)

    def step(self) -> int:
        """One epoch of training."""
        return self.train_epoch()

    def train_epoch(self) -> int:
        from carpentry_kit.workloads import _nn

        loss = self.loss_function()
        return _nn.train_epoch(
            self.model, self.optimizer, loss, self.train_data, self.training_batch_size(), self.generator
        )

    def training_batch_size(self) -> int:
        return self.params["batch_size"]

    def predict_test(self) -> Any:
        return self.predict_split("test")

    def predict_split(self, split: str) -> Any:
        """The network's outputs on a held-out split (``test`` or ``fresh``)."""
        from carpentry_kit.workloads import _nn

        if split not in self.held_out:
            raise WorkloadError(
                f"workload '{self.name}' has no '{split}' split (it has {', '.join(self.held_out)})"
            )
        return _nn.predict(self.model, self.held_out[split][0])

    def evaluate(self) -> dict[str, float]:
        """Quality on the test split: the mean of each metric's per-sample values."""
        return {
            name: float(values.mean(dtype="float64")) for name, values in self.sample_quality("test").items()
        }

    def max_steps(self) -> int | None:
        return self.params.get("max_epochs")

    def sample_counts(self) -> dict[str, int]:
        return {"train_samples": len(self.train_data[0]), "eval_samples": len(self.test_data[0])}

    def work_per_sample(self) -> dict[str, float]:
        from carpentry_kit.workloads import _nn

        batch, optimizer = self.training_batch_size(), self.params["optimizer"]
        return {
            "flop": TRAINING_FLOP_PER_FORWARD_FLOP * _nn.forward_flop(self.model),
            "bytes": _nn.training_bytes(self.model, batch, optimizer),
        }

    @abc.abstractmethod
    def prepare_targets(self, y: np.ndarray) -> int:
        """Inspect all targets once (e.g. the class list); return the network's output width."""

    @abc.abstractmethod
    def target_tensor(self, y: np.ndarray) -> Any:
        """Targets of one split as a tensor on the device."""

    @abc.abstractmethod
    def loss_function(self) -> Any:
        """The training loss (a torch module)."""

    def _split(self, ds: Any, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The first of the splits ``names`` that ``ds`` has."""
        for name in names:
            if name in ds.splits:
                return ds.split(name)
        raise WorkloadError(
            f"datasets.{ds.name}.splits: workload '{self.name}' needs a '{names[0]}' split, got"
            f" {', '.join(ds.splits)} — use e.g. {{train: 0.8, test: 0.2}}"
        )

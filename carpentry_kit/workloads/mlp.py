"""MLP workloads on a classification dataset (``builtin:digits`` by default): training and inference.

``mlp-train`` times training: a step is one epoch; time-to-quality stops at the target test accuracy.
``mlp-inference`` trains untimed in ``setup``, then times forward passes: one image per single-stream query,
one batch per offline step — the two scenarios of MLPerf Inference that fit on one machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from carpentry_kit.workloads import WorkloadError, register_workload
from carpentry_kit.workloads.supervised import (
    NETWORK_CHOICES,
    NETWORK_DEFAULTS,
    NETWORK_MINIMUMS,
    SupervisedNet,
)

if TYPE_CHECKING:
    import numpy as np


class _Classifier(SupervisedNet):
    """An MLP classifier: cross-entropy loss, test accuracy as quality."""

    preferred_dataset = "digits"
    quality_metrics = {"test_accuracy": "fraction"}

    def prepare_targets(self, y: np.ndarray) -> int:
        import numpy as np

        from carpentry_kit.data.datasets import is_class_labels

        if not is_class_labels(y):
            raise WorkloadError(
                f"datasets: workload '{self.name}' needs one class label per row (integers or strings)"
                " — use a classification dataset"
            )
        self.classes = np.unique(y)
        return len(self.classes)

    def target_tensor(self, y: np.ndarray) -> Any:
        import numpy as np
        import torch

        return torch.as_tensor(np.searchsorted(self.classes, y)).to(self.device)

    def loss_function(self) -> Any:
        from torch import nn

        return nn.CrossEntropyLoss()

    def sample_quality(self, split: str) -> dict[str, Any]:
        """1 for each image of ``split`` classified right, 0 for each wrong (their mean: the accuracy)."""
        predicted = self.predict_split(split).argmax(dim=1)
        return {"test_accuracy": (predicted == self.held_out[split][1]).float().cpu().numpy()}


@register_workload
class MLPTrain(_Classifier):
    name = "mlp-train"
    summary = "Train an MLP classifier (digits by default); a step is one epoch"
    scenarios = ("time-to-quality", "offline")
    defaults = {**NETWORK_DEFAULTS, "max_epochs": 50}
    choices = NETWORK_CHOICES
    minimums = {**NETWORK_MINIMUMS, "max_epochs": 1}


@register_workload
class MLPInference(_Classifier):
    name = "mlp-inference"
    summary = (
        "Forward passes of an MLP classifier trained untimed in setup: one image a query, a batch a step"
    )
    scenarios = ("single-stream", "multi-stream", "server", "offline")
    inference = True
    defaults = {**NETWORK_DEFAULTS, "batch_size": 256, "train_batch_size": 64, "train_epochs": 20}
    choices = NETWORK_CHOICES
    minimums = {**NETWORK_MINIMUMS, "train_batch_size": 1, "train_epochs": 0}

    def reset(self, seed: int) -> None:
        """A fresh network trained for ``train_epochs`` (untimed), ready for timed forward passes."""
        import torch

        super().reset(seed)
        for _ in range(self.params["train_epochs"]):
            self.train_epoch()
        self.model.eval()
        inputs = self.test_data[0]
        self.batches = list(torch.split(inputs, self.params["batch_size"]))
        self.queries = [inputs[i : i + 1] for i in range(len(inputs))]
        self.next_batch = 0

    def training_batch_size(self) -> int:
        return self.params["train_batch_size"]

    def step(self) -> int:
        """Offline: one batch of test images through the network."""
        import torch

        batch = self.batches[self.next_batch]
        self.next_batch = (self.next_batch + 1) % len(self.batches)
        with torch.inference_mode():
            self.model(batch)
        return len(batch)

    def query(self, index: int) -> None:
        """Single-stream: one test image (``index`` wraps around the test set) through the network."""
        import torch

        with torch.inference_mode():
            self.model(self.queries[index % len(self.queries)])

    def query_batch(self, indices: list[int]) -> None:
        """Multi-stream and offline: the test images ``indices`` through the network as one batch."""
        import torch

        batch = torch.cat([self.queries[index % len(self.queries)] for index in indices])
        with torch.inference_mode():
            self.model(batch)

    def sample_count(self) -> int:
        """Distinct samples LoadGen can ask for: the test images."""
        return len(self.queries)

    def max_steps(self) -> int | None:
        return None

    def work_per_sample(self) -> dict[str, float]:
        """Forward-pass work per image; bytes assume the offline batch (a single-stream query is a batch of 1:
        ``work_per_query``)."""
        from carpentry_kit.workloads import _nn

        return {
            "flop": _nn.forward_flop(self.model),
            "bytes": _nn.forward_bytes(self.model, self.params["batch_size"]),
        }

    def work_per_query(self) -> dict[str, float]:
        """Work of one single-stream query: one image, so the weights are read for it alone."""
        from carpentry_kit.workloads import _nn

        return {"flop": _nn.forward_flop(self.model), "bytes": _nn.forward_bytes(self.model, 1)}

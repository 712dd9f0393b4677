"""``heat-surrogate``: an MLP learns a numerical simulation, initial temperature profile -> profile at t_end.

The data come from ``builtin:heat-1d`` (``carpentry_kit.data.heat_simulation``: explicit finite differences) or any
dataset whose ``X`` and ``y`` are profiles of equal length. Quality is the relative L2 error on held-out
simulations, the kind of scientific metric surrogate models are judged by.
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


@register_workload
class HeatSurrogate(SupervisedNet):
    name = "heat-surrogate"
    summary = "Train an MLP surrogate of 1-D heat diffusion (builtin:heat-1d); a step is one epoch"
    scenarios = ("time-to-quality", "offline")
    defaults = {
        **NETWORK_DEFAULTS,
        "hidden": 128,
        "layers": 2,
        "batch_size": 32,
        "learning_rate": 0.001,
        "max_epochs": 100,
    }
    choices = NETWORK_CHOICES
    minimums = {**NETWORK_MINIMUMS, "max_epochs": 1}
    quality_metrics = {"rel_l2_error": "fraction"}
    preferred_dataset = "heat-1d"

    def prepare_targets(self, y: np.ndarray) -> int:
        if y.ndim != 2:
            raise WorkloadError(
                f"datasets: workload '{self.name}' needs a profile (a row of values) as each target — use builtin:heat-1d"
            )
        return y.shape[1]

    def target_tensor(self, y: np.ndarray) -> Any:
        import torch

        return torch.as_tensor(y, dtype=torch.float32).to(self.device)

    def loss_function(self) -> Any:
        from torch import nn

        return nn.MSELoss()

    def sample_quality(self, split: str) -> dict[str, Any]:
        """||predicted - simulated|| / ||simulated|| of each simulation of ``split`` (their mean: the metric)."""
        import torch

        predicted, simulated = self.predict_split(split), self.held_out[split][1]
        errors = torch.linalg.vector_norm(predicted - simulated, dim=1) / torch.linalg.vector_norm(
            simulated, dim=1
        )
        return {"rel_l2_error": errors.cpu().numpy()}

"""Small-network helpers shared by the neural workloads. Imports torch: import this module inside methods."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

SGD_MOMENTUM = 0.9


def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale features to zero mean and unit variance using the training rows' statistics only."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std < 1e-8] = 1.0  # constant features (e.g. blank pixels) stay as they are
    return [((array - mean) / std).astype(np.float32) for array in (train, *others)]


def to_device(array: np.ndarray, device: str) -> torch.Tensor:
    return torch.as_tensor(array).to(device)


def build_mlp(inputs: int, hidden: int, layers: int, outputs: int) -> nn.Sequential:
    """``layers`` hidden ReLU layers of width ``hidden`` between ``inputs`` and ``outputs``."""
    widths = [inputs] + [hidden] * layers
    blocks: list[nn.Module] = []
    for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
        blocks += [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Linear(widths[-1], outputs))


def make_optimizer(name: str, model: nn.Module, learning_rate: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=SGD_MOMENTUM)
    return torch.optim.Adam(model.parameters(), lr=learning_rate)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    generator: torch.Generator,
) -> int:
    """One pass over ``data`` in shuffled mini-batches; returns the number of samples seen."""
    inputs, targets = data
    model.train()
    order = torch.randperm(len(inputs), generator=generator).to(inputs.device)
    for batch in torch.split(order, batch_size):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(inputs[batch]), targets[batch]).backward()
        optimizer.step()
    return len(inputs)


def predict(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.inference_mode():
        return model(inputs)


FLOAT_BYTES = 4  # the networks are float32
# Bytes an optimizer step moves per parameter: Adam reads parameter, gradient and two moments and writes
# parameter and moments (7 values); SGD with momentum reads parameter, gradient, buffer, writes two (5).
OPTIMIZER_VALUES_PER_PARAMETER = {"adam": 7, "sgd": 5}


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [layer for layer in model.modules() if isinstance(layer, nn.Linear)]


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def forward_bytes(model: nn.Module, batch_size: int) -> float:
    """Bytes one forward pass moves per sample, if nothing stays in cache between operations.

    Each linear layer reads its weights and bias (shared by the ``batch_size`` samples of a batch), reads its
    input and writes its output; each ReLU reads and writes its output once more.
    """
    weights = parameter_count(model) * FLOAT_BYTES / batch_size
    layers = _linears(model)
    activations = sum((layer.in_features + layer.out_features) * FLOAT_BYTES for layer in layers)
    relus = sum(2 * layer.out_features * FLOAT_BYTES for layer in layers[:-1])
    return float(weights + activations + relus)


def training_bytes(model: nn.Module, batch_size: int, optimizer: str) -> float:
    """Bytes one training step moves per sample: forward, backward (about twice the forward's traffic:
    gradients of activations and of weights) and the optimizer's update of every parameter."""
    update = OPTIMIZER_VALUES_PER_PARAMETER[optimizer] * parameter_count(model) * FLOAT_BYTES / batch_size
    return 3.0 * forward_bytes(model, batch_size) + float(update)


def forward_flop(model: nn.Module) -> float:
    """Floating-point operations of one forward pass per sample: 2 per weight of each linear layer."""
    return float(sum(2 * layer.in_features * layer.out_features for layer in _linears(model)))

"""A numerical simulation to learn from: 1-D heat diffusion solved with explicit finite differences.

``u_t = alpha * u_xx`` on a rod ``0 <= x <= 1`` with both ends held at zero (Dirichlet boundaries). The
explicit scheme is stable when ``r = alpha * dt / dx**2 <= 1/2``; the solver picks a time step inside that
limit and lands exactly on ``t_end``. numpy only, so it runs anywhere and is cheap to check: a sine mode
``sin(k pi x)`` must decay as ``exp(-alpha (k pi)**2 t)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

STABILITY_LIMIT = 0.5  # the explicit scheme is stable for r = alpha dt / dx^2 <= 1/2


def grid_points(grid: int) -> np.ndarray:
    """The ``grid`` equally spaced positions on the rod, both ends included."""
    if grid < 3:
        raise ValueError(f"grid must have at least 3 points, got {grid}")
    return np.linspace(0.0, 1.0, grid)


def stable_time_step(dx: float, diffusivity: float, safety: float = 0.8) -> float:
    """The largest time step within ``safety`` times the stability limit of the explicit scheme."""
    if diffusivity <= 0 or dx <= 0:
        raise ValueError("diffusivity and dx must be positive")
    return safety * STABILITY_LIMIT * dx * dx / diffusivity


def solve_heat_1d(initial: np.ndarray, diffusivity: float, t_end: float, safety: float = 0.8) -> np.ndarray:
    """Profiles at ``t_end`` from initial profiles (last axis: grid points; ends are held at zero)."""
    profile = np.array(initial, dtype=np.float64, copy=True)
    grid = profile.shape[-1]
    dx = 1.0 / (grid - 1)
    steps = max(1, math.ceil(t_end / stable_time_step(dx, diffusivity, safety)))
    ratio = diffusivity * (t_end / steps) / (dx * dx)
    profile[..., 0] = profile[..., -1] = 0.0
    for _ in range(steps):
        interior = profile[..., 1:-1]
        interior += ratio * (profile[..., 2:] - 2.0 * interior + profile[..., :-2])
    return profile


def random_smooth_profiles(rng: np.random.Generator, samples: int, grid: int, modes: int = 8) -> np.ndarray:
    """Random smooth profiles: sums of the first ``modes`` sine modes, amplitudes falling as 1/k."""
    x = grid_points(grid)
    k = np.arange(1, modes + 1)
    amplitudes = rng.standard_normal((samples, modes)) / k
    return amplitudes @ np.sin(np.pi * np.outer(k, x))


def heat_1d_dataset(
    samples: int = 512,
    grid: int = 64,
    diffusivity: float = 0.1,
    t_end: float = 0.05,
    modes: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Initial profiles ``X`` and the simulated profiles at ``t_end`` ``y``, both ``(samples, grid)``."""
    rng = np.random.default_rng(seed)
    initial = random_smooth_profiles(rng, samples, grid, modes)
    final = solve_heat_1d(initial, diffusivity, t_end)
    meta = {
        "equation": "u_t = alpha u_xx, u(0) = u(1) = 0",
        "solver": "explicit finite differences",
        "samples": samples,
        "grid": grid,
        "diffusivity": diffusivity,
        "t_end": t_end,
        "modes": modes,
    }
    return initial.astype(np.float32), final.astype(np.float32), meta

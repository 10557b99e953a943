"""Behaviour-policy actions for data collection, in unit space (architecture: TD3, step 4)."""
from __future__ import annotations

import numpy as np


def explore(unit_action: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """
    Return the policy's action plus N(0, noise_std) per joint, clipped to [-1, 1].

    In unit space ``noise_std`` is a fraction of each joint's half range.
    """
    unit_action = np.asarray(unit_action, dtype=np.float64)
    noisy = unit_action + rng.normal(0.0, noise_std, size=unit_action.shape)
    return np.minimum(np.maximum(noisy, -1.0), 1.0)  # np.clip's value, a fraction of its cost


def random_unit_action(act_dim: int, rng: np.random.Generator) -> np.ndarray:
    """Return a uniform random action in [-1, 1]^act_dim (the first ``start_steps`` actions)."""
    return rng.uniform(-1.0, 1.0, size=act_dim)

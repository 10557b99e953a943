"""The map between physical joint commands and the normalised actions the networks use."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class ActionScaler:
    """Affine map between physical joint commands in [low, high] and unit actions in [-1, 1]."""

    def __init__(self, low: Sequence[float] | np.ndarray, high: Sequence[float] | np.ndarray):
        low = np.array(low, dtype=np.float64)  # copies: later edits of the inputs do not leak in
        high = np.array(high, dtype=np.float64)
        if low.ndim != 1 or low.shape != high.shape or low.size == 0:
            raise ValueError(f'action limits must be two 1-D arrays of one size, got shapes '
                             f'{low.shape} and {high.shape}')
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(f'action limits must be finite, got low={low}, high={high}')
        if np.any(high <= low):
            raise ValueError(f'action limits need high > low for every joint, got low={low}, '
                             f'high={high}')
        self.low, self.high = low, high
        self.center = (high + low) / 2.0
        self.half_range = (high - low) / 2.0

    @property
    def act_dim(self) -> int:
        return self.low.size

    def to_unit(self, action: np.ndarray) -> np.ndarray:
        """Physical action -> unit action (outside [-1, 1] where the action exceeds the limits)."""
        return (np.asarray(action, dtype=np.float64) - self.center) / self.half_range

    def from_unit(self, unit_action: np.ndarray) -> np.ndarray:
        """Map a unit action (clipped to [-1, 1] first) to a physical one in [low, high]."""
        # np.minimum(np.maximum()): np.clip's value without its Python-level argument handling.
        unit_action = np.minimum(np.maximum(np.asarray(unit_action, dtype=np.float64), -1.0), 1.0)
        # The final clip only removes rounding error, so a command never leaves its limits.
        return np.minimum(np.maximum(self.center + self.half_range * unit_action, self.low),
                          self.high)

"""
Inference-only torch policy: observation (numpy) -> physical joint command (numpy).

The actor node runs bundles with ``t3d_ros.acting.numpy_policy.NumpyPolicy`` instead (no torch).
"""
from __future__ import annotations

import numpy as np
import torch

from t3d_ros.acting.numpy_policy import checked_normaliser

from .networks import ActionScaler, Actor


class Policy:
    """
    An actor network, an optional observation normaliser and the action scaling.

    The actor is used as given (not copied): wrapping a learner's live actor follows its
    updates.
    """

    def __init__(self, actor: Actor, scaler: ActionScaler,
                 obs_mean: np.ndarray | None = None, obs_std: np.ndarray | None = None):
        if actor.act_dim != scaler.act_dim:
            raise ValueError(f'actor has {actor.act_dim} actions, limits have {scaler.act_dim}')
        self.actor, self.scaler = actor, scaler
        self.obs_mean, self.obs_std = checked_normaliser(obs_mean, obs_std, actor.obs_dim)
        self.device = next(actor.parameters()).device

    @torch.no_grad()
    def unit_action(self, obs: np.ndarray) -> np.ndarray:
        """Normalised action in [-1, 1] for one observation (obs_dim,) or a batch (B, obs_dim)."""
        obs = np.asarray(obs, np.float32)
        if obs.shape[-1:] != (self.actor.obs_dim,) or obs.ndim > 2:
            raise ValueError(f'observation has shape {obs.shape}, expected '
                             f'({self.actor.obs_dim},) or (B, {self.actor.obs_dim})')
        if not np.all(np.isfinite(obs)):
            raise ValueError('observation is not finite')
        if self.obs_mean is not None:
            obs = (obs - self.obs_mean) / self.obs_std
        unit = self.actor(torch.tensor(obs, device=self.device))
        return unit.cpu().numpy().astype(np.float64)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Physical action (float64), within the per-joint limits."""
        return self.scaler.from_unit(self.unit_action(obs))

"""Inference-only policy: observation (numpy) -> physical joint command (numpy)."""
from __future__ import annotations

import numpy as np
import torch

from .networks import ActionScaler, Actor


def checked_normaliser(obs_mean, obs_std, obs_dim: int
                       ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Normaliser statistics as float32 arrays (or both None); ValueError if unusable."""
    if (obs_mean is None) != (obs_std is None):
        raise ValueError('give both obs_mean and obs_std, or neither')
    if obs_mean is None:
        return None, None
    obs_mean, obs_std = np.array(obs_mean, np.float32), np.array(obs_std, np.float32)
    if obs_mean.shape != (obs_dim,) or obs_std.shape != (obs_dim,):
        raise ValueError(f'normaliser statistics must have shape ({obs_dim},)')
    if not (np.all(np.isfinite(obs_mean)) and np.all(np.isfinite(obs_std))
            and np.all(obs_std > 0)):
        raise ValueError('normaliser statistics must be finite with obs_std > 0')
    return obs_mean, obs_std


class Policy:
    """An actor network, an optional observation normaliser and the action scaling.

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

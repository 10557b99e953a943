"""
A policy bundle's actor run in numpy: the actor and deploy path import no torch.

The actor is the one ``network_architecture`` describes, which also names its tensors. At these
sizes (one observation, 64-256 units) a numpy forward pass costs a fraction of a torch call's
overhead; the result equals torch's to float32 rounding (test/unit/test_numpy_policy.py).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from t3d_ros.acting.network_architecture import MLPArchitecture, actor_architecture
from t3d_ros.tasks.scaling import ActionScaler

ACTIVATIONS = {'relu': lambda x: np.maximum(x, 0.0), 'tanh': np.tanh, None: lambda x: x}
"""The numpy function of each activation the architecture names."""


def actor_tensor_shapes(obs_dim: int, act_dim: int, hidden_sizes: Sequence[int]
                        ) -> dict[str, tuple[int, ...]]:
    """Name and shape of every tensor in the state dict of an Actor of these sizes."""
    return actor_architecture(obs_dim, act_dim, hidden_sizes).tensor_shapes()


def checked_normaliser(obs_mean, obs_std, obs_dim: int
                       ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """
    Return the normaliser statistics as float32 arrays (or both None).

    Raises ValueError if they cannot be used.
    """
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


class NumpyPolicy:
    """
    Observation (numpy) -> action, from an actor state dict of float32 arrays.

    Same interface as ``t3d_ros.td3.policy.Policy`` (``unit_action``, call for the physical
    action), without torch.
    """

    def __init__(self, actor_state: Mapping[str, np.ndarray], hidden_sizes: Sequence[int],
                 scaler: ActionScaler, obs_mean=None, obs_std=None):
        first = np.asarray(actor_state[f'{MLPArchitecture.layer_name(0)}.weight'])
        self.obs_dim, self.act_dim = first.shape[1], scaler.act_dim
        architecture = actor_architecture(self.obs_dim, self.act_dim, hidden_sizes)
        shapes = architecture.tensor_shapes()
        if set(actor_state) != set(shapes) or any(
                np.shape(actor_state[name]) != shape for name, shape in shapes.items()):
            raise ValueError(f'actor tensors do not make an actor with obs_dim={self.obs_dim}, '
                             f'act_dim={self.act_dim}, hidden_sizes={list(hidden_sizes)}')
        self.scaler = scaler
        self.obs_mean, self.obs_std = checked_normaliser(obs_mean, obs_std, self.obs_dim)
        # x @ W.T + b, with W.T stored contiguous so each layer is one BLAS call.
        self._layers = [
            (np.ascontiguousarray(np.asarray(actor_state[f'{name}.weight'], np.float32).T),
             np.array(actor_state[f'{name}.bias'], np.float32), ACTIVATIONS[activation])
            for name, activation in zip(architecture.layer_names, architecture.activations)]

    @classmethod
    def from_bundle(cls, bundle) -> 'NumpyPolicy':
        """Run a (validated) ``PolicyBundle``'s actor."""
        return cls(bundle.actor_state, bundle.hidden_sizes,
                   ActionScaler(bundle.action_low, bundle.action_high),
                   bundle.obs_mean, bundle.obs_std)

    def unit_action(self, obs: np.ndarray) -> np.ndarray:
        """Return the normalised action(s) for one observation (obs_dim,) or a batch."""
        x = np.asarray(obs, np.float32)
        if x.shape[-1:] != (self.obs_dim,) or x.ndim > 2:
            raise ValueError(f'observation has shape {x.shape}, expected ({self.obs_dim},) '
                             f'or (B, {self.obs_dim})')
        if not np.isfinite(x).all():
            raise ValueError('observation is not finite')
        if self.obs_mean is not None:
            x = (x - self.obs_mean) / self.obs_std
        for weight, bias, activation in self._layers:
            x = activation(x @ weight + bias)
        return x.astype(np.float64)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Return the physical action (float64), within the per-joint limits."""
        return self.scaler.from_unit(self.unit_action(obs))

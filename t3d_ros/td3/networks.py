"""
Actor and critic networks, built from their description (``acting.network_architecture``).

The networks work in the normalised action space [-1, 1]^act_dim; ``ActionScaler`` (numpy, in
``t3d_ros.tasks.scaling``, re-exported here) maps it to each joint's own ``[low, high]`` at
the edge, so asymmetric and per-joint limits are exact.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from t3d_ros.acting.network_architecture import (MLPArchitecture, actor_architecture,
                                                 critic_architecture)
from t3d_ros.tasks.scaling import ActionScaler  # noqa: F401

ACTIVATIONS = {'relu': nn.ReLU, 'tanh': nn.Tanh, None: nn.Identity}
"""The torch module of each activation the architecture names."""


def mlp(architecture: MLPArchitecture) -> nn.Sequential:
    """Return ``net``: the Linear layers with the hidden activations between them."""
    layers: list[nn.Module] = []
    for (width_out, width_in), activation in zip(architecture.weight_shapes,
                                                 architecture.activations):
        layers += [nn.Linear(width_in, width_out), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])  # the output activation comes after ``net``


class Network(nn.Module):
    """An MLP as ``architecture`` describes it: ``net``, then the output activation."""

    def __init__(self, obs_dim: int, act_dim: int, architecture: MLPArchitecture):
        super().__init__()
        self.obs_dim, self.act_dim, self.architecture = obs_dim, act_dim, architecture
        self.net = mlp(architecture)
        self.output_activation = ACTIVATIONS[architecture.output_activation]()

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Return the output for the network's input ``x``."""
        return self.output_activation(self.net(x))


class Actor(Network):
    """Deterministic policy: observation -> normalised action in [-1, 1]."""

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int]):
        super().__init__(obs_dim, act_dim, actor_architecture(obs_dim, act_dim, hidden_sizes))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.run(obs)


def critic_input(obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """Return what a critic reads: the observation, then the normalised action."""
    return torch.cat([obs, action], dim=-1)


class Critic(Network):
    """Q(s, a) for a normalised action a; returns shape (B,)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int]):
        super().__init__(obs_dim, act_dim, critic_architecture(obs_dim, act_dim, hidden_sizes))

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.run(critic_input(obs, action)).squeeze(-1)

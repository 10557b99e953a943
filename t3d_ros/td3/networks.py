"""
Actor and critic networks.

The networks work in the normalised action space [-1, 1]^act_dim; ``ActionScaler`` (numpy, in
``t3d_ros.acting.scaling``, re-exported here) maps it to each joint's own ``[low, high]`` at
the edge, so asymmetric and per-joint limits are exact.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from t3d_ros.acting.scaling import ActionScaler  # noqa: F401


def mlp(in_dim: int, out_dim: int, hidden_sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers with ReLU between them and no activation after the last one."""
    widths = [in_dim, *hidden_sizes]
    layers: list[nn.Module] = []
    for width_in, width_out in zip(widths, widths[1:]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], out_dim))
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """Deterministic policy: observation -> normalised action in [-1, 1] (tanh output)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int]):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.net = mlp(obs_dim, act_dim, hidden_sizes)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))


class Critic(nn.Module):
    """Q(s, a) for a normalised action a; returns shape (B,)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int]):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.net = mlp(obs_dim + act_dim, 1, hidden_sizes)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, action], dim=-1)).squeeze(-1)

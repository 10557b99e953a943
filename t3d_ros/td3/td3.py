"""TD3: Twin Delayed Deep Deterministic policy gradient (Fujimoto et al., 2018)."""
from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .config import TD3Config
from .fast import FastUpdate
from .networks import ActionScaler, Actor, Critic
from .plain import PlainUpdate
from .policy import Policy
from .replay import Batch
from .update_metrics import UpdateMetrics

NETWORKS = ('actor', 'actor_target', 'critic_1', 'critic_2', 'critic_1_target', 'critic_2_target')
"""Attribute names of the six networks, also their names in state dicts and checkpoints."""


def frozen_copy(module: nn.Module) -> nn.Module:
    """Return a target network: a deep copy that no optimiser or backward pass touches."""
    return copy.deepcopy(module).requires_grad_(False)


class TD3:
    """
    Six networks, two optimisers, the target-noise generator and the update (steps 5-15).

    The steps are those of docs/architecture.md, TD3; ``config.backend`` picks how the update
    computes them: ``plain.PlainUpdate`` (autograd) or ``fast.FastUpdate`` (the same numbers,
    faster). Both work on the same modules and optimisers, so state dicts, checkpoints and
    policy bundles are the same whichever ran.

    The networks work in the normalised action space [-1, 1]; ``scaler`` maps it to the
    per-joint limits, so target-policy noise is a fraction of each joint's half range.
    """

    def __init__(self, obs_dim: int, action_low: Sequence[float] | np.ndarray,
                 action_high: Sequence[float] | np.ndarray, config: TD3Config,
                 device: str | torch.device = 'cpu', cuda_graph: bool = False):
        config.validate()
        if cuda_graph and config.backend != 'fast':
            raise ValueError(f"cuda_graph needs backend 'fast', not {config.backend!r}")
        self.config = config
        self.device = torch.device(device)
        self.scaler = ActionScaler(action_low, action_high)
        act_dim, hidden_sizes = self.scaler.act_dim, config.hidden_sizes
        with torch.random.fork_rng(devices=[]):  # seeded init, global RNG left as it was
            torch.manual_seed(config.seed)
            self.actor = Actor(obs_dim, act_dim, hidden_sizes).to(self.device)
            self.critic_1 = Critic(obs_dim, act_dim, hidden_sizes).to(self.device)
            self.critic_2 = Critic(obs_dim, act_dim, hidden_sizes).to(self.device)
        self.actor_target = frozen_copy(self.actor)
        self.critic_1_target = frozen_copy(self.critic_1)
        self.critic_2_target = frozen_copy(self.critic_2)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.critic_optimizer = torch.optim.Adam(
            [*self.critic_1.parameters(), *self.critic_2.parameters()], lr=config.critic_lr)
        self.noise_generator = torch.Generator(self.device).manual_seed(config.seed)
        """Source of the target-policy smoothing noise."""
        self.total_updates = 0
        """Calls of ``update`` so far."""
        self.policy = Policy(self.actor, self.scaler)
        """The live actor as an inference policy (physical actions)."""
        self.backend = (FastUpdate(self, cuda_graph) if config.backend == 'fast'
                        else PlainUpdate(self))
        """Computes the update on these networks and optimisers."""

    def update(self, batch: Batch) -> UpdateMetrics:
        """
        One critic update, plus an actor and target update every ``policy_delay`` calls.

        ``batch`` (step 5) comes from ``ReplayMemory.sample`` on this agent's device. Returns
        critic_loss, q1_mean, q2_mean, target_q_mean (and actor_loss on delayed steps), read
        from the device only when looked at.
        """
        self.total_updates += 1
        delayed = self.total_updates % self.config.policy_delay == 0
        return UpdateMetrics(self.backend(batch, delayed))

    def use_adam_kernel(self, kernel: dict) -> None:
        """Make both optimisers step with ``kernel``, Adam's ``fused`` and ``foreach`` options."""
        for optimizer in (self.actor_optimizer, self.critic_optimizer):
            for group in optimizer.param_groups:
                group.update(kernel)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic physical action(s) of the current actor, float64."""
        return self.policy(obs)

    def export_actor_state(self, use_target: bool = False) -> dict[str, torch.Tensor]:
        """CPU copies of the actor's weights (or the actor target's), for a policy bundle."""
        actor = self.actor_target if use_target else self.actor
        return {name: tensor.detach().cpu().clone() for name, tensor in actor.state_dict().items()}

    def state_dict(self) -> dict:
        """
        Networks, optimisers, ``total_updates`` and the noise generator: all a resume needs.

        Tensors are the live ones, not copies; ``load_state_dict`` copies them in.
        """
        return {**{name: getattr(self, name).state_dict() for name in NETWORKS},
                'actor_optimizer': self.actor_optimizer.state_dict(),
                'critic_optimizer': self.critic_optimizer.state_dict(),
                'total_updates': self.total_updates,
                'noise_generator': self.noise_generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned; all or nothing (on error nothing changes)."""
        backup = copy.deepcopy(self.state_dict())
        try:
            self._load(state)
        except Exception:
            self._load(backup)
            raise

    def _load(self, state: dict) -> None:
        for name in NETWORKS:
            getattr(self, name).load_state_dict(state[name])
        # Optimisers keep the tensors they are given, so give them their own copies.
        for name in ('actor_optimizer', 'critic_optimizer'):
            getattr(self, name).load_state_dict(copy.deepcopy(state[name]))
        self.backend.state_loaded()
        self.total_updates = int(state['total_updates'])
        self.noise_generator.set_state(state['noise_generator'])

"""TD3: Twin Delayed Deep Deterministic policy gradient (Fujimoto et al., 2018)."""
from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import TD3Config
from .networks import ActionScaler, Actor, Critic
from .policy import Policy
from .replay import Batch

NETWORKS = ('actor', 'actor_target', 'critic_1', 'critic_2', 'critic_1_target', 'critic_2_target')
"""Attribute names of the six networks, also their names in state dicts and checkpoints."""


def frozen_copy(module: nn.Module) -> nn.Module:
    """A target network: a deep copy that no optimiser or backward pass touches."""
    return copy.deepcopy(module).requires_grad_(False)


@torch.no_grad()
def polyak_update(online: nn.Module, target: nn.Module, tau: float) -> None:
    """target <- tau * online + (1 - tau) * target, in place."""
    for online_param, target_param in zip(online.parameters(), target.parameters()):
        target_param.mul_(1.0 - tau).add_(online_param, alpha=tau)


class TD3:
    """Six networks, two optimisers and the update of DESIGN section 5, steps 5-15.

    The networks work in the normalised action space [-1, 1]; ``scaler`` maps it to the
    per-joint limits, so target-policy noise is a fraction of each joint's half range.
    """

    def __init__(self, obs_dim: int, action_low: Sequence[float] | np.ndarray,
                 action_high: Sequence[float] | np.ndarray, config: TD3Config,
                 device: str | torch.device = 'cpu'):
        config.validate()
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

    def update(self, batch: Batch) -> dict[str, float]:
        """One critic update, plus an actor and target update every ``policy_delay`` calls.

        ``batch`` (step 5) comes from ``ReplayMemory.sample`` on this agent's device.
        """
        cfg = self.config
        self.total_updates += 1
        with torch.no_grad():
            # 6. Target policy smoothing: clipped noise on the target action, clamped to [-1, 1].
            noise = torch.randn(batch.action.shape, generator=self.noise_generator,
                                device=self.device)
            noise = (noise * cfg.policy_noise).clamp(-cfg.noise_clip, cfg.noise_clip)
            next_action = (self.actor_target(batch.next_obs) + noise).clamp(-1.0, 1.0)
            # 7-8. Clipped double Q: the smaller of the two target critics.
            target_q_min = torch.min(self.critic_1_target(batch.next_obs, next_action),
                                     self.critic_2_target(batch.next_obs, next_action))
            # 9. Bellman target; only termination stops bootstrapping (truncation does not).
            target_q = batch.reward + cfg.gamma * (1.0 - batch.terminated) * target_q_min
        # 10-11. Both critics regress onto the same target.
        q1 = self.critic_1(batch.obs, batch.action)
        q2 = self.critic_2(batch.obs, batch.action)
        critic_loss = F.mse_loss(q1, target_q) + F.mse_loss(q2, target_q)
        # 12. Step the critics.
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_optimizer.step()
        values = [critic_loss, q1.mean(), q2.mean(), target_q.mean()]
        if self.total_updates % cfg.policy_delay == 0:
            # 13. Delayed policy update: maximise Q1(s, actor(s)); only the actor optimiser steps.
            actor_loss = -self.critic_1(batch.obs, self.actor(batch.obs)).mean()
            self.actor_optimizer.zero_grad(set_to_none=True)
            actor_loss.backward()
            self.actor_optimizer.step()
            # 14-15. Polyak averaging of the actor target and both critic targets.
            polyak_update(self.actor, self.actor_target, cfg.tau)
            polyak_update(self.critic_1, self.critic_1_target, cfg.tau)
            polyak_update(self.critic_2, self.critic_2_target, cfg.tau)
            values.append(actor_loss)
        names = ('critic_loss', 'q1_mean', 'q2_mean', 'target_q_mean', 'actor_loss')
        return dict(zip(names, torch.stack(values).tolist()))  # one device sync

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic physical action(s) of the current actor, float64."""
        return self.policy(obs)

    def export_actor_state(self, use_target: bool = False) -> dict[str, torch.Tensor]:
        """CPU copies of the actor's weights (or the actor target's), for a policy bundle."""
        actor = self.actor_target if use_target else self.actor
        return {name: tensor.detach().cpu().clone() for name, tensor in actor.state_dict().items()}

    def state_dict(self) -> dict:
        """Networks, optimisers, ``total_updates`` and the noise generator: all a resume needs.

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
        self.actor_optimizer.load_state_dict(copy.deepcopy(state['actor_optimizer']))
        self.critic_optimizer.load_state_dict(copy.deepcopy(state['critic_optimizer']))
        self.total_updates = int(state['total_updates'])
        self.noise_generator.set_state(state['noise_generator'])

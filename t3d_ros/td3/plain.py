"""
The plain backend of ``TD3.update``: the fifteen steps as the TD3 authors wrote them.

As in sfujim/TD3's TD3.py: autograd, one optimiser over both critics, ``backward`` and
``Optimizer.step`` per network, Polyak averaging parameter by parameter. The place to read the
algorithm (docs/architecture.md, TD3), to change it, and the yardstick of the fast backend
(test/unit/test_td3_backends.py holds the two equal for 100 updates).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .replay import Batch

if TYPE_CHECKING:
    from .td3 import TD3

TORCH_DEFAULT_ADAM = {'fused': None, 'foreach': None}
"""Adam's kernel choice: torch's default for the device (``torch.optim.Adam``'s own)."""


@torch.no_grad()
def polyak(online: nn.Module, target: nn.Module, tau: float) -> None:
    """Move ``target`` towards ``online``: target <- tau * online + (1 - tau) * target."""
    for param, target_param in zip(online.parameters(), target.parameters()):
        target_param.copy_(tau * param + (1 - tau) * target_param)


class PlainUpdate:
    """Steps 6-15 on ``agent``'s six networks and two optimisers, with autograd."""

    def __init__(self, agent: 'TD3'):
        self.agent = agent

    def __call__(self, batch: Batch, delayed: bool) -> torch.Tensor:
        """One update; ``UpdateMetrics``' values."""
        agent, c = self.agent, self.agent.config
        # 5. The batch (s, a, r, s', terminated), sampled from the replay memory by the caller.
        obs, action, reward, next_obs, terminated = batch
        with torch.no_grad():
            # 6. Target action: the actor target's, plus clipped noise, clamped to [-1, 1].
            noise = torch.randn(action.shape, generator=agent.noise_generator,
                                device=agent.device)
            noise = (noise * c.policy_noise).clamp(-c.noise_clip, c.noise_clip)
            next_action = (agent.actor_target(next_obs) + noise).clamp(-1.0, 1.0)
            # 7. Both critic targets score (s', a').
            target_q1 = agent.critic_1_target(next_obs, next_action)
            target_q2 = agent.critic_2_target(next_obs, next_action)
            # 8. Clipped double Q: the smaller of the two.
            target_q = torch.min(target_q1, target_q2)
            # 9. Bellman target; only termination stops bootstrapping (truncation does not).
            target_q = reward + (1.0 - terminated) * c.gamma * target_q
        # 10. Both critics score (s, a).
        q1, q2 = agent.critic_1(obs, action), agent.critic_2(obs, action)
        # 11. Critic loss: the sum of both mean squared errors.
        critic_loss = F.mse_loss(q1, target_q) + F.mse_loss(q2, target_q)
        # 12. Backpropagate, step both critics (one optimiser).
        agent.critic_optimizer.zero_grad()
        critic_loss.backward()
        agent.critic_optimizer.step()
        if not delayed:
            return torch.stack([q1, q2, target_q]).detach()
        # 13. Every policy_delay-th update: the actor maximises Q1(s, actor(s)).
        policy_q = agent.critic_1(obs, agent.actor(obs))
        agent.actor_optimizer.zero_grad()
        (-policy_q.mean()).backward()
        agent.actor_optimizer.step()
        # 14. Same updates: Polyak averaging of the actor target.
        polyak(agent.actor, agent.actor_target, c.tau)
        # 15. The same for both critic targets.
        polyak(agent.critic_1, agent.critic_1_target, c.tau)
        polyak(agent.critic_2, agent.critic_2_target, c.tau)
        return torch.stack([q1, q2, target_q, policy_q]).detach()

    def state_loaded(self) -> None:
        """Run torch's default Adam kernel, whichever kernel the loaded state's writer ran."""
        self.agent.use_adam_kernel(TORCH_DEFAULT_ADAM)

"""
The fifteen steps of DESIGN section 5 written out plainly, as in the TD3 authors' code.

As in sfujim/TD3, TD3.py: one critic module pair, one optimiser over both critics, ``backward``
and ``Optimizer.step`` per network, Polyak averaging parameter by parameter.

Nothing trains with it. It is the yardstick that ``TD3.update`` is tested against (the same
numbers, to float rounding) and that `t3d-ros bench` times it against.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .config import TD3Config
from .replay import Batch


def _mlp(inputs: int, outputs: int, hidden_sizes, *tail: nn.Module) -> nn.Sequential:
    layers, width = [], inputs
    for hidden in hidden_sizes:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, outputs), *tail)


class ReferenceTD3:
    """
    Plain TD3 in the normalised action space [-1, 1].

    ``train`` returns nothing (no loss is read back).
    """

    def __init__(self, obs_dim: int, act_dim: int, config: TD3Config):
        self.config = config
        self.actor = _mlp(obs_dim, act_dim, config.hidden_sizes, nn.Tanh())
        self.q1 = _mlp(obs_dim + act_dim, 1, config.hidden_sizes)
        self.q2 = _mlp(obs_dim + act_dim, 1, config.hidden_sizes)
        self.actor_target = copy.deepcopy(self.actor)
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.critic_optimizer = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()],
                                                 lr=config.critic_lr)
        self.noise_generator = torch.Generator().manual_seed(config.seed)
        self.total_it = 0

    @classmethod
    def copy_of(cls, agent) -> 'ReferenceTD3':
        """
        Return a reference in the state of ``agent`` (a ``TD3`` on the CPU).

        Weights, Adam moments, noise generator and update count, so both continue alike.
        """
        reference = cls(agent.actor.obs_dim, agent.actor.act_dim, agent.config)
        pairs = ((reference.actor, agent.actor), (reference.actor_target, agent.actor_target),
                 (reference.q1, agent.critic_1), (reference.q2, agent.critic_2),
                 (reference.q1_target, agent.critic_1_target),
                 (reference.q2_target, agent.critic_2_target))
        for plain, network in pairs:
            plain.load_state_dict(network.net.state_dict())  # same layer indices
        # Copies: an optimiser keeps the state tensors it is given, and the two step apart.
        for name in ('actor_optimizer', 'critic_optimizer'):
            getattr(reference, name).load_state_dict(
                copy.deepcopy(getattr(agent, name).state_dict()))
        for optimizer in (reference.actor_optimizer, reference.critic_optimizer):
            for group in optimizer.param_groups:
                group.update(fused=None, foreach=False)  # the per-parameter loop
        reference.noise_generator.set_state(agent.noise_generator.get_state())
        reference.total_it = agent.total_updates
        return reference

    def train(self, batch: Batch) -> None:
        c = self.config
        self.total_it += 1
        state, action, next_state = batch.obs, batch.action, batch.next_obs
        reward, not_done = batch.reward[:, None], 1.0 - batch.terminated[:, None]
        with torch.no_grad():
            # 6. Target action: actor target plus clipped noise, clamped to [-1, 1].
            noise = torch.randn(action.shape, generator=self.noise_generator)
            noise = (noise * c.policy_noise).clamp(-c.noise_clip, c.noise_clip)
            next_action = (self.actor_target(next_state) + noise).clamp(-1, 1)
            # 7. Both critic targets score (s', a').
            next_sa = torch.cat([next_state, next_action], 1)
            target_q1, target_q2 = self.q1_target(next_sa), self.q2_target(next_sa)
            # 8. The smaller of the two.
            target_q = torch.min(target_q1, target_q2)
            # 9. Bellman target; only termination stops bootstrapping.
            target_q = reward + not_done * c.gamma * target_q
        # 10. Both critics score (s, a).
        sa = torch.cat([state, action], 1)
        current_q1, current_q2 = self.q1(sa), self.q2(sa)
        # 11. Critic loss: the sum of both mean squared errors.
        critic_loss = F.mse_loss(current_q1, target_q) + F.mse_loss(current_q2, target_q)
        # 12. Backpropagate, step the critics' optimiser.
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        self.critic_optimizer.step()
        if self.total_it % c.policy_delay == 0:
            # 13. Delayed actor step: maximise Q1(s, actor(s)).
            actor_loss = -self.q1(torch.cat([state, self.actor(state)], 1)).mean()
            self.actor_optimizer.zero_grad()
            actor_loss.backward()
            self.actor_optimizer.step()
            # 14-15. Polyak averaging of the actor target and both critic targets.
            for net, target in ((self.actor, self.actor_target), (self.q1, self.q1_target),
                                (self.q2, self.q2_target)):
                for param, target_param in zip(net.parameters(), target.parameters()):
                    target_param.data.copy_(c.tau * param.data + (1 - c.tau) * target_param.data)

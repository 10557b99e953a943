"""TD3: Twin Delayed Deep Deterministic policy gradient (Fujimoto et al., 2018)."""
from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .config import TD3Config
from .cuda_graph import CapturedUpdate, CudaGraphs
from .fused_adam import FUSED_ADAM, FusedAdamStep
from .mlp_gradients import MLPLayers
from .networks import ActionScaler, Actor, Critic, critic_input
from .policy import Policy
from .replay import Batch

NETWORKS = ('actor', 'actor_target', 'critic_1', 'critic_2', 'critic_1_target', 'critic_2_target')
"""Attribute names of the six networks, also their names in state dicts and checkpoints."""
METRICS = ('critic_loss', 'q1_mean', 'q2_mean', 'target_q_mean', 'actor_loss')
"""What ``TD3.update`` reports (``actor_loss`` on delayed steps only)."""


def frozen_copy(module: nn.Module) -> nn.Module:
    """Return a target network: a deep copy that no optimiser or backward pass touches."""
    return copy.deepcopy(module).requires_grad_(False)


class UpdateMetrics(Mapping):
    """
    The losses and Q means of one update, as floats, computed when first looked at.

    The update leaves its per-sample values in one tensor, (5 or 6, B, 1): the errors
    Q1 - target and Q2 - target, Q1, Q2, the target, and on delayed steps Q1(s, actor(s)). The
    losses and means are made of them when read: updates that nobody reads cost no reduction and
    no device-to-host copy (no sync on a GPU).
    """

    def __init__(self, values: torch.Tensor):
        self._values = values
        self._names = METRICS[:len(values) - 1]
        self._floats: dict[str, float] | None = None

    def _read(self) -> dict[str, float]:
        if self._floats is None:
            per_sample = torch.cat([self._values[:2].square(), self._values[2:]])
            mse_1, mse_2, *means = per_sample.mean((1, 2)).tolist()
            floats = [mse_1 + mse_2, *means[:3], *(-q for q in means[3:])]
            self._floats = dict(zip(self._names, floats))
        return self._floats

    def __getitem__(self, name: str) -> float:
        return self._read()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f'UpdateMetrics({self._read()})'


class TD3:
    """
    Six networks, two optimisers and the update of DESIGN section 5, steps 5-15.

    The networks work in the normalised action space [-1, 1]; ``scaler`` maps it to the
    per-joint limits, so target-policy noise is a fraction of each joint's half range.
    """

    def __init__(self, obs_dim: int, action_low: Sequence[float] | np.ndarray,
                 action_high: Sequence[float] | np.ndarray, config: TD3Config,
                 device: str | torch.device = 'cpu', cuda_graph: bool = False):
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
        self._critics = MLPLayers.stacked_from((self.critic_1, self.critic_2,
                                                self.critic_1_target, self.critic_2_target))
        """The two critics and their two targets as one stacked MLP, in that order; the four
        networks' parameters are views of it, so steps 7 and 10 are one forward pass."""
        self._online_critics, self._critic_1 = self._critics[:2], self._critics[0]
        self._actor, self._actor_target = MLPLayers.of(self.actor), MLPLayers.of(self.actor_target)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr,
                                                **FUSED_ADAM)
        self.critic_optimizer = torch.optim.Adam(
            [*self.critic_1.parameters(), *self.critic_2.parameters()], lr=config.critic_lr,
            **FUSED_ADAM)
        self._step_actor = FusedAdamStep(self.actor_optimizer, self._actor.tensors())
        self._step_critics = FusedAdamStep(self.critic_optimizer, self._online_critics.tensors())
        """Each layer's weight (bias) of both critics is one stacked tensor of the step."""
        self._averaged = ([*self._actor_target.tensors(), *self._critics[2:].tensors()],
                          [*self._actor.tensors(), *self._online_critics.tensors()])
        """The tensors of the actor target and both critic targets, and of what they follow."""
        self.noise_generator = torch.Generator(self.device).manual_seed(config.seed)
        """Source of the target-policy smoothing noise."""
        self.total_updates = 0
        """Calls of ``update`` so far."""
        self.policy = Policy(self.actor, self.scaler)
        """The live actor as an inference policy (physical actions)."""
        if cuda_graph and self.device.type != 'cuda':
            raise ValueError(f'cuda_graph needs a CUDA device, not {self.device}')
        self.graphs = CapturedUpdate(self._update, CudaGraphs()) if cuda_graph else None
        """The update replayed as CUDA graphs, if asked for."""

    def update(self, batch: Batch) -> UpdateMetrics:
        """
        One critic update, plus an actor and target update every ``policy_delay`` calls.

        ``batch`` (step 5) comes from ``ReplayMemory.sample`` on this agent's device. Returns
        critic_loss, q1_mean, q2_mean, target_q_mean (and actor_loss on delayed steps), read
        from the device only when looked at.
        """
        self.total_updates += 1
        delayed = self.total_updates % self.config.policy_delay == 0
        # The random part of step 6, drawn outside any CUDA graph (a graph replays fixed
        # kernels; the generator stays this agent's, whether graphs run or not).
        noise = torch.normal(0.0, self.config.policy_noise, batch.action.shape,
                             generator=self.noise_generator, device=self.device)
        if self.graphs is not None:
            values = self.graphs.run(batch, noise, delayed)
        else:
            values = self._update(batch, noise, delayed)
        return UpdateMetrics(values)

    @torch.inference_mode()
    def _update(self, batch: Batch, noise: torch.Tensor, delayed: bool) -> torch.Tensor:
        """
        Step 6-15 given step 6's Gaussian noise, not yet clipped; ``UpdateMetrics``' values.

        The gradients are written out (``mlp_gradients``): the same numbers as autograd's. In
        inference mode (no autograd bookkeeping at all, 5 % faster at 64-64 than ``no_grad``):
        what it makes is read-only outside (the values); what lives on, the networks and the
        Adam state, is updated in place, which inference mode allows for ordinary tensors.
        """
        cfg = self.config
        # 6. Target policy smoothing: clipped noise on the target action, clamped to [-1, 1].
        noise = noise.clamp(-cfg.noise_clip, cfg.noise_clip)
        target_action = self._actor_target.forward(batch.next_obs)[0]
        next_sa = critic_input(batch.next_obs, target_action.add_(noise).clamp_(-1.0, 1.0))
        # 7, 10. The critics score (s, a) and their targets (s', a'), in one stacked pass.
        sa = critic_input(batch.obs, batch.action)
        out, saved = self._critics.forward(torch.stack([sa, sa, next_sa, next_sa]))
        # 8. Clipped double Q: the smaller of the two target critics.
        target_q_min = out[2:].amin(0)
        # 9. Bellman target; only termination stops bootstrapping (truncation does not).
        not_terminated = 1.0 - batch.terminated[:, None]
        target_q = torch.addcmul(batch.reward[:, None], not_terminated, target_q_min,
                                 value=cfg.gamma)
        # 11. Both critics regress onto the same target: loss = MSE_1 + MSE_2, so
        # d loss / d q_i = 2 (q_i - target) / B.
        q = out[:2]
        error = q - target_q
        grads = self._online_critics.parameter_gradients([x[:2] for x in saved],
                                                         error * (2.0 / len(target_q)))
        # 12. Step the critics.
        self._step_critics(grads)
        if not delayed:
            return torch.cat([error, q, target_q[None]])
        # 13. Delayed policy update: maximise Q1(s, actor(s)), so d loss / d Q1 = -1 / B, the
        # same in every row: one row, which the ReLU masks broadcast. It flows back through
        # critic_1 (its weights get no gradient) into the action's columns of its input.
        action, actor_saved = self._actor.forward(batch.obs)
        policy_q, critic_saved = self._critic_1.forward(critic_input(batch.obs, action))
        grad_sa = self._critic_1.input_gradient(critic_saved,
                                                policy_q.new_full((1, 1), -1.0 / len(policy_q)))
        grad_action = grad_sa[:, batch.obs.shape[1]:]
        self._step_actor(self._actor.parameter_gradients(actor_saved, grad_action))
        # 14-15. Polyak averaging of the actor target and both critic targets, in place:
        # target <- target + tau * (online - target), all tensors in one foreach call.
        torch._foreach_lerp_(*self._averaged, cfg.tau)
        return torch.cat([error, q, target_q[None], policy_q[None]])

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
        if self.graphs is not None:  # the optimisers get new state tensors: capture anew
            self.graphs.reset()
        for name in NETWORKS:
            getattr(self, name).load_state_dict(state[name])
        # Optimisers keep the tensors they are given, so give them their own copies.
        for name, step in (('actor_optimizer', self._step_actor),
                           ('critic_optimizer', self._step_critics)):
            optimizer = getattr(self, name)
            optimizer.load_state_dict(copy.deepcopy(state[name]))
            # A state dict carries its writer's kernel choice (one of the per-parameter loop
            # says fused=None); the numbers are the same, so keep the fused kernel.
            for group in optimizer.param_groups:
                group.update(FUSED_ADAM)
            step.state_loaded()
        self.total_updates = int(state['total_updates'])
        self.noise_generator.set_state(state['noise_generator'])

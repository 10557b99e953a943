"""TD3: Twin Delayed Deep Deterministic policy gradient (Fujimoto et al., 2018)."""
from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from . import mlp_gradients as mlp
from .config import TD3Config
from .cuda_graph import CapturedUpdate, CudaGraphs
from .networks import ActionScaler, Actor, Critic
from .policy import Policy
from .replay import Batch

NETWORKS = ('actor', 'actor_target', 'critic_1', 'critic_2', 'critic_1_target', 'critic_2_target')
"""Attribute names of the six networks, also their names in state dicts and checkpoints."""
METRICS = ('critic_loss', 'q1_mean', 'q2_mean', 'target_q_mean', 'actor_loss')
"""What ``TD3.update`` reports (``actor_loss`` on delayed steps only)."""


def frozen_copy(module: nn.Module) -> nn.Module:
    """Return a target network: a deep copy that no optimiser or backward pass touches."""
    return copy.deepcopy(module).requires_grad_(False)


FUSED_ADAM = {'fused': True, 'foreach': None}
"""Adam's kernel choice for :func:`adam_step`: the fused one (CPU and CUDA). A state dict
holds the same tensors whatever the kernel, so checkpoints of either load into either."""


def adam_step(optimizer: torch.optim.Adam, grads: Sequence[torch.Tensor]) -> None:
    """
    Do ``optimizer.step()`` for ``grads`` as one call of torch's fused Adam kernel.

    ``grads`` has one gradient per parameter, in the optimiser's order.

    Same arithmetic and same state (``step``, ``exp_avg``, ``exp_avg_sq`` per parameter) as
    ``optimizer.step()``, without its per-parameter Python bookkeeping, which costs more than
    the kernel itself at 64-64. The gradients are the update's own (``mlp_gradients``), so no
    ``.grad`` is ever stored or zeroed.
    """
    (group,) = optimizer.param_groups
    if group['amsgrad'] or group['weight_decay'] or group['maximize'] or not group['fused']:
        raise ValueError('adam_step runs plain Adam with FUSED_ADAM only')
    params = group['params']
    states = [optimizer.state[param] for param in params]
    for param, state in zip(params, states):
        if not state:  # first step: the state Adam.step would create
            state['step'] = torch.zeros((), dtype=torch.float32, device=param.device)
            state['exp_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state['exp_avg_sq'] = torch.zeros_like(param, memory_format=torch.preserve_format)
    _shared_steps(states).add_(1)
    beta1, beta2 = group['betas']
    torch._fused_adam_(params, list(grads), [state['exp_avg'] for state in states],
                       [state['exp_avg_sq'] for state in states], [],
                       [state['step'] for state in states], amsgrad=False,
                       lr=group['lr'], beta1=beta1, beta2=beta2, weight_decay=0.0,
                       eps=group['eps'], maximize=False)


def _shared_steps(states: Sequence[dict]) -> torch.Tensor:
    """
    Return one tensor whose elements are the ``step`` counts of the parameters' Adam ``states``.

    Each state's ``step`` is made a view of it, once (and again after a state dict is loaded),
    so that counting a step is one call, not one per parameter. Values and dtype are kept.
    """
    base = states[0]['step']._base
    if (base is None or base.shape != (len(states),)
            or any(state['step']._base is not base
                   or state['step'].storage_offset() != base.storage_offset() + index
                   for index, state in enumerate(states))):
        base = torch.stack([state['step'] for state in states])
        for index, state in enumerate(states):
            state['step'] = base[index]
    return base


class UpdateMetrics(Mapping):
    """
    The losses and Q means of one update, as floats, read from the device when first looked at.

    The update leaves its means in one tensor: MSE_1, MSE_2, mean Q1, mean Q2, mean target,
    and on delayed steps mean Q1(s, actor(s)). The losses are made of them here, on the host,
    when read: updates that nobody reads cost no device-to-host copy (no sync on a GPU).
    """

    def __init__(self, means: torch.Tensor):
        self._means = means.detach()
        self._names = METRICS[:len(means) - 1]
        self._floats: dict[str, float] | None = None

    def _read(self) -> dict[str, float]:
        if self._floats is None:
            mse_1, mse_2, *means = self._means.tolist()
            values = [mse_1 + mse_2, *means[:3], *(-q for q in means[3:])]
            self._floats = dict(zip(self._names, values))
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
        self._twin_critics = mlp.stacked_layers((self.critic_1, self.critic_2))
        self._twin_critic_targets = mlp.stacked_layers((self.critic_1_target,
                                                        self.critic_2_target))
        """Both critics (both critic targets) as one stacked MLP, which theirs are views of."""
        self._layers = {name: mlp.linear_layers(getattr(self, name))
                        for name in ('actor', 'actor_target', 'critic_1')}
        """The live (weight, bias) pairs of the networks the update runs alone."""
        self._averaged = [[tensor for layer in layers for tensor in layer]
                          for layers in ((*self._layers['actor'], *self._twin_critics),
                                         (*self._layers['actor_target'],
                                          *self._twin_critic_targets))]
        """The tensors of the actor and both critics (stacked), then those of their targets."""
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr,
                                                **FUSED_ADAM)
        self.critic_optimizer = torch.optim.Adam(
            [*self.critic_1.parameters(), *self.critic_2.parameters()], lr=config.critic_lr,
            **FUSED_ADAM)
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
            means = self.graphs.run(batch, noise, delayed)
        else:
            means = self._update(batch, noise, delayed)
        return UpdateMetrics(means)

    @torch.no_grad()
    def _update(self, batch: Batch, noise: torch.Tensor, delayed: bool) -> torch.Tensor:
        """
        Step 6-15 given step 6's Gaussian noise, not yet clipped; ``UpdateMetrics``' means.

        The means come as one tensor. The gradients are written out (``mlp_gradients``): the
        same numbers as autograd's.
        """
        cfg, layers = self.config, self._layers
        # 6. Target policy smoothing: clipped noise on the target action, clamped to [-1, 1].
        noise = noise.clamp(-cfg.noise_clip, cfg.noise_clip)
        target_action = torch.tanh(mlp.forward(layers['actor_target'], batch.next_obs)[0])
        next_sa = torch.cat([batch.next_obs, (target_action + noise).clamp_(-1.0, 1.0)], 1)
        # 7-8. Clipped double Q: the smaller of the two target critics (evaluated as one).
        target_q_min = mlp.forward(self._twin_critic_targets, next_sa)[0].amin(0)
        # 9. Bellman target; only termination stops bootstrapping (truncation does not).
        not_terminated = 1.0 - batch.terminated[:, None]
        target_q = torch.addcmul(batch.reward[:, None], not_terminated, target_q_min,
                                 value=cfg.gamma)
        # 10-11. Both critics regress onto the same target: loss = MSE_1 + MSE_2, so
        # d loss / d q_i = 2 (q_i - target) / B.
        q, inputs = mlp.forward(self._twin_critics, torch.cat([batch.obs, batch.action], 1))
        error = q - target_q
        grads = mlp.parameter_gradients(self._twin_critics, inputs,
                                        error * (2.0 / len(target_q)))
        # 12. Step the critics (the optimiser holds critic_1's parameters, then critic_2's).
        adam_step(self.critic_optimizer, [grad[i] for i in range(2) for grad in grads])
        # MSE_1, MSE_2, mean Q1, mean Q2, mean target in one reduction.
        means = torch.cat([error.square(), q, target_q[None]]).mean((1, 2))
        if not delayed:
            return means
        # 13. Delayed policy update: maximise Q1(s, actor(s)), so d loss / d Q1 = -1 / B, the
        # same in every row: one row, which the ReLU masks broadcast. It flows back through
        # critic_1 (its weights get no gradient) and the tanh.
        pre_tanh, actor_inputs = mlp.forward(layers['actor'], batch.obs)
        action = torch.tanh(pre_tanh)
        q, critic_inputs = mlp.forward(layers['critic_1'], torch.cat([batch.obs, action], 1))
        grad_sa = mlp.input_gradient(layers['critic_1'], critic_inputs,
                                     q.new_full((1, 1), -1.0 / len(q)))
        grad_pre_tanh = torch.ops.aten.tanh_backward(grad_sa[:, batch.obs.shape[1]:], action)
        adam_step(self.actor_optimizer,
                  mlp.parameter_gradients(layers['actor'], actor_inputs, grad_pre_tanh))
        # 14-15. Polyak averaging of the actor target and both critic targets, in place:
        # target <- target + tau * (online - target), all tensors in one foreach call.
        torch._foreach_lerp_(self._averaged[1], self._averaged[0], cfg.tau)
        return torch.cat([means, q.mean(0)])

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
        for name in ('actor_optimizer', 'critic_optimizer'):
            optimizer = getattr(self, name)
            optimizer.load_state_dict(copy.deepcopy(state[name]))
            # A state dict carries its writer's kernel choice (one of the per-parameter loop
            # says fused=None); the numbers are the same, so keep the fused kernel.
            for group in optimizer.param_groups:
                group.update(FUSED_ADAM)
        self.total_updates = int(state['total_updates'])
        self.noise_generator.set_state(state['noise_generator'])

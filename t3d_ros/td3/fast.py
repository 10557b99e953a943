"""
The fast backend of ``TD3.update``: the plain backend's numbers, 1.3-3x its speed.

- Gradients written out, no autograd (``mlp_gradients``), and only those that are used (no
  critic-weight gradients in the actor step).
- The two critics and their two targets as one stacked MLP: every layer's weights of the four
  networks live in one (4, out, in) tensor that the networks' own parameters are views of, so
  steps 7 and 10 are one forward pass, one batched product per layer.
- Adam as one fused kernel call over the stacked tensors (``fused_adam``); Polyak averaging
  of all targets as one foreach call.
- In ``torch.inference_mode``, optionally replayed as CUDA graphs (``cuda_graph``).

test/unit/test_td3_backends.py holds it equal to the plain backend for 100 updates.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .cuda_graph import CapturedUpdate, CudaGraphs
from .fused_adam import FUSED_ADAM, FusedAdamStep
from .mlp_gradients import MLPLayers
from .networks import critic_input
from .replay import Batch

if TYPE_CHECKING:
    from .td3 import TD3


class FastUpdate:
    """Steps 6-15 on ``agent``'s networks and optimisers; ``cuda_graph`` needs a CUDA device."""

    def __init__(self, agent: 'TD3', cuda_graph: bool = False):
        if cuda_graph and agent.device.type != 'cuda':
            raise ValueError(f'cuda_graph needs a CUDA device, not {agent.device}')
        self.agent = agent
        self._critics = MLPLayers.stacked_from((agent.critic_1, agent.critic_2,
                                                agent.critic_1_target, agent.critic_2_target))
        """The two critics and their two targets as one stacked MLP, in that order."""
        self._online_critics, self._critic_1 = self._critics[:2], self._critics[0]
        self._actor = MLPLayers.of(agent.actor)
        self._actor_target = MLPLayers.of(agent.actor_target)
        self._averaged = ([*self._actor_target.tensors(), *self._critics[2:].tensors()],
                          [*self._actor.tensors(), *self._online_critics.tensors()])
        """The tensors of the actor target and both critic targets, and of what they follow."""
        agent.use_adam_kernel(FUSED_ADAM)
        self._step_actor = FusedAdamStep(agent.actor_optimizer, self._actor.tensors())
        self._step_critics = FusedAdamStep(agent.critic_optimizer, self._online_critics.tensors())
        """Each layer's weight (bias) of both critics is one stacked tensor of the step."""
        self.graphs = CapturedUpdate(self.step, CudaGraphs()) if cuda_graph else None
        """The update replayed as CUDA graphs, if asked for."""

    def __call__(self, batch: Batch, delayed: bool) -> torch.Tensor:
        """One update; ``UpdateMetrics``' values."""
        # The random part of step 6, drawn outside any CUDA graph (a graph replays fixed
        # kernels; the generator stays the agent's, whether graphs run or not).
        noise = torch.normal(0.0, self.agent.config.policy_noise, batch.action.shape,
                             generator=self.agent.noise_generator, device=self.agent.device)
        if self.graphs is not None:
            return self.graphs.run(batch, noise, delayed)
        return self.step(batch, noise, delayed)

    def state_loaded(self) -> None:
        """Bind the optimisers' new state (``TD3.load_state_dict``) to the fused steps."""
        if self.graphs is not None:  # the optimisers have new state tensors: capture anew
            self.graphs.reset()
        # A state dict carries its writer's kernel choice (the plain backend's says
        # fused=None); the numbers are the same, so keep the fused kernel.
        self.agent.use_adam_kernel(FUSED_ADAM)
        self._step_actor.state_loaded()
        self._step_critics.state_loaded()

    @torch.inference_mode()
    def step(self, batch: Batch, noise: torch.Tensor, delayed: bool) -> torch.Tensor:
        """
        Step 6-15 given step 6's Gaussian noise, not yet clipped; ``UpdateMetrics``' values.

        In inference mode (no autograd bookkeeping at all, 5 % faster at 64-64 than
        ``no_grad``): what it makes is read-only outside (the values); what lives on, the
        networks and the Adam state, is updated in place, which inference mode allows for
        ordinary tensors.
        """
        cfg = self.agent.config
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
        grads = self._online_critics.parameter_gradients([x[:2] for x in saved],
                                                         (q - target_q) * (2.0 / len(target_q)))
        # 12. Step the critics.
        self._step_critics(grads)
        if not delayed:
            return torch.cat([q, target_q[None]])
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
        return torch.cat([q, target_q[None], policy_q[None]])

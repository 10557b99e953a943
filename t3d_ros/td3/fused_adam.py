"""
``torch.optim.Adam.step()`` for gradients the update computed itself, as one fused kernel call.

The optimiser stays a plain ``torch.optim.Adam`` (its state dict, checkpoints and the plain
backend depend on it); ``FusedAdamStep`` only does its step faster:

- one call of torch's fused Adam kernel for all parameters, without ``Optimizer.step``'s
  per-parameter Python bookkeeping, which at 64-64 costs more than the kernel itself;
- on stacked tensors: where parameters are slices of one stacked tensor (the twin critics'),
  their Adam moments become slices of stacked moments too, so each layer of both critics is one
  tensor of the kernel's list;
- one step counter per optimiser: the parameters' ``step`` tensors are views of one tensor,
  counted with one add.

The gradients are the update's own (``mlp_gradients``), so no ``.grad`` is stored or zeroed.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

FUSED_ADAM = {'fused': True, 'foreach': None}
"""Adam's kernel choice: the fused one (CPU and CUDA). A state dict holds the same tensors
whatever the kernel, so checkpoints of either load into either."""


class FusedAdamStep:
    """
    Steps ``optimizer`` given one gradient per tensor of ``stacks``.

    Each of the optimiser's parameters is one of ``stacks`` or a slice ``stack[i]`` of one;
    together they cover the stacks exactly. Same arithmetic and same state (``step``,
    ``exp_avg``, ``exp_avg_sq`` per parameter) as ``optimizer.step()``.
    """

    def __init__(self, optimizer: torch.optim.Adam, stacks: Sequence[torch.Tensor]):
        (group,) = optimizer.param_groups
        if group['amsgrad'] or group['weight_decay'] or group['maximize'] or not group['fused']:
            raise ValueError('FusedAdamStep runs plain Adam with FUSED_ADAM only')
        self.optimizer, self.stacks = optimizer, list(stacks)
        self._members = [_members(stack, group['params']) for stack in self.stacks]
        if sorted(id(param) for members in self._members for param in members) != sorted(
                id(param) for param in group['params']):
            raise ValueError("the stacks do not cover the optimiser's parameters exactly")
        self._bound = False
        """Whether the lists below are the optimiser's state (they are made at the first step)."""
        self._exp_avgs: list[torch.Tensor] = []
        self._exp_avg_sqs: list[torch.Tensor] = []
        self._count = torch.zeros(0)
        """The step counts of all parameters, each parameter's ``step`` a view of it."""
        self._steps: list[torch.Tensor] = []
        """One count per stack, as the kernel takes them (all equal)."""

    def __call__(self, grads: Sequence[torch.Tensor]) -> None:
        """One Adam step with ``grads``, one per stack, each shaped and laid out as its stack."""
        if not self._bound:
            self._bind()
        self._count.add_(1)
        (group,) = self.optimizer.param_groups
        beta1, beta2 = group['betas']
        torch._fused_adam_(self.stacks, list(grads), self._exp_avgs, self._exp_avg_sqs, [],
                           self._steps, amsgrad=False, lr=group['lr'],
                           beta1=beta1, beta2=beta2, weight_decay=0.0, eps=group['eps'],
                           maximize=False)

    def state_loaded(self) -> None:
        """Say that the optimiser's state was replaced (``load_state_dict``): bind it anew."""
        self._bound = False
        if any(self.optimizer.state.values()):
            self._bind()  # now: a state this step cannot take is refused with the load

    @torch.inference_mode(False)  # ordinary tensors, also when the step runs in inference mode
    def _bind(self) -> None:
        """Make the optimiser's per-parameter state views of stacked moments and of one count."""
        params = self.optimizer.param_groups[0]['params']
        state = self.optimizer.state
        for param in params:
            if not state[param]:  # before the first step: the state Adam.step would create
                state[param].update(
                    step=torch.zeros((), dtype=torch.float32, device=param.device),
                    exp_avg=torch.zeros_like(param, memory_format=torch.preserve_format),
                    exp_avg_sq=torch.zeros_like(param, memory_format=torch.preserve_format))
        # On the parameters' device, as the kernel takes it (a state loaded from a checkpoint
        # of the plain backend has its counts on the CPU).
        count = torch.stack([state[param]['step'] for param in params]).to(
            params[0].device, torch.float32)
        if not torch.equal(count, count[:1].expand_as(count)):
            raise ValueError('FusedAdamStep needs one step count for all parameters')
        for index, param in enumerate(params):
            state[param]['step'] = count[index]
        exp_avgs, exp_avg_sqs = [], []
        for stack, members in zip(self.stacks, self._members):
            for key, moments in (('exp_avg', exp_avgs), ('exp_avg_sq', exp_avg_sqs)):
                if members[0] is stack:
                    moments.append(state[stack][key])
                    continue
                moment = torch.stack([state[param][key] for param in members])
                for index, param in enumerate(members):
                    state[param][key] = moment[index]
                moments.append(moment)
        self._exp_avgs, self._exp_avg_sqs, self._count = exp_avgs, exp_avg_sqs, count
        self._steps = [count[0]] * len(self.stacks)
        self._bound = True


def _members(stack: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Return ``[stack]`` if it is a parameter, else the parameters that are its slices."""
    if any(param is stack for param in params):
        return [stack]
    members = []
    for index in range(len(stack)):
        part = stack[index]
        found = [param for param in params if param.data_ptr() == part.data_ptr()
                 and param.shape == part.shape and param.stride() == part.stride()]
        if len(found) != 1:
            raise ValueError(f'slice {index} of a stack {tuple(stack.shape)} is no parameter')
        members += found
    return members

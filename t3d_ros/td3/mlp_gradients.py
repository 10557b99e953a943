"""
The ReLU MLPs of ``networks.mlp`` run forward and backward with their gradients written out.

TD3's update needs three backward passes of a fixed form: the critics' weights from their
losses, the critic's input from the actor loss, and the actor's weights from that. Written
out, each layer costs its matrix products and one ReLU mask; autograd's graph recording and
per-node bookkeeping, which at 64-64 cost more than the arithmetic, are gone. The formulas are
autograd's own (``threshold_backward`` on the ReLU's output), so the numbers are those of
``loss.backward()`` to float rounding.

Networks of the same shape, TD3's twin critics, can run as one: ``stacked_layers`` puts their
weights in stacked tensors, (networks, out, in), that the networks' own parameters are views
of, and every function here takes such layers as well, one batched product per layer.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

Layers = list[tuple[torch.Tensor, torch.Tensor]]
"""(weight, bias) of each Linear layer, input to output: (out, in) and (out,), or stacked
(networks, out, in) and (networks, out)."""


def linear_layers(network: nn.Module) -> Layers:
    """Return the live weights and biases of ``network.net``'s Linear layers, in order."""
    return [(layer.weight, layer.bias) for layer in network.net if isinstance(layer, nn.Linear)]


def stacked_layers(networks: Sequence[nn.Module]) -> Layers:
    """
    Return the layers of same-shaped ``networks`` stacked, and make theirs views of them.

    Each Linear layer's weight and bias become Parameters on slices of new stacked tensors,
    values and ``requires_grad`` kept, so state dicts, optimisers and in-place loads work
    through them as before. Call before handing the parameters to an optimiser.
    """
    per_network = [[layer for layer in network.net if isinstance(layer, nn.Linear)]
                   for network in networks]
    stacked = []
    for layers in zip(*per_network):
        pair = []
        for name in ('weight', 'bias'):
            tensor = torch.stack([getattr(layer, name).detach() for layer in layers])
            for index, layer in enumerate(layers):
                requires_grad = getattr(layer, name).requires_grad
                setattr(layer, name, nn.Parameter(tensor[index], requires_grad=requires_grad))
            pair.append(tensor)
        stacked.append(tuple(pair))
    return stacked


def _matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.bmm(a, b) if a.dim() == 3 else a.mm(b)


def forward(layers: Layers, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """
    Return the MLP's output for ``x`` (no activation after the last layer) and each layer's input.

    Stacked layers take one input for all networks, (B, in), or one each, (networks, B, in),
    and return (networks, B, out). Call under ``torch.no_grad()``: the inputs are what the
    backward passes need.
    """
    stacked = layers[0][0].dim() == 3
    if stacked and x.dim() == 2:
        x = x.expand(len(layers[0][0]), *x.shape)
    inputs = []
    for index, (weight, bias) in enumerate(layers):
        inputs.append(x)
        if stacked:
            x = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
        else:
            x = torch.addmm(bias, x, weight.t())
        if index < len(layers) - 1:
            x = x.relu_()
    return x, inputs


def _to_layer_input(layers: Layers, inputs: list[torch.Tensor], grad: torch.Tensor,
                    index: int) -> torch.Tensor:
    """Carry the gradient at layer ``index``'s output to its input (through the ReLU before it)."""
    grad = _matmul(grad, layers[index][0])
    if index > 0:  # the input is a ReLU's output: no gradient where it is zero
        grad = torch.ops.aten.threshold_backward(grad, inputs[index], 0)
    return grad


def parameter_gradients(layers: Layers, inputs: list[torch.Tensor],
                        grad_output: torch.Tensor) -> list[torch.Tensor]:
    """
    Return the gradients of weights and biases (``parameters()`` order) given d loss / d output.

    ``inputs`` are ``forward``'s, for the same pass; stacked layers get stacked gradients.
    """
    per_layer, grad = [], grad_output
    for index in reversed(range(len(layers))):
        per_layer.append((_matmul(grad.transpose(-1, -2), inputs[index]), grad.sum(-2)))
        if index > 0:
            grad = _to_layer_input(layers, inputs, grad, index)
    return [tensor for pair in reversed(per_layer) for tensor in pair]


def input_gradient(layers: Layers, inputs: list[torch.Tensor],
                   grad_output: torch.Tensor) -> torch.Tensor:
    """Return d loss / d input given d loss / d output; no weight gradient is computed."""
    grad = grad_output
    for index in reversed(range(len(layers))):
        grad = _to_layer_input(layers, inputs, grad, index)
    return grad

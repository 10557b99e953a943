"""
The ReLU MLPs of ``networks.mlp`` run forward and backward with their gradients written out.

TD3's update needs three backward passes of a fixed form: the critics' weights from their
losses, the critic's input from the actor loss, and the actor's weights from that. Written
out, each layer costs its matrix products and one ReLU mask; autograd's graph recording and
per-node bookkeeping, which at 64-64 cost more than the arithmetic, are gone. The formulas are
autograd's own (``threshold_backward`` on the ReLU's output), so the numbers are those of
``loss.backward()`` to float rounding.
"""
from __future__ import annotations

import torch
from torch import nn

Layers = list[tuple[torch.Tensor, torch.Tensor]]
"""(weight, bias) of each Linear layer, input to output."""


def linear_layers(network: nn.Module) -> Layers:
    """Return the live weights and biases of ``network.net``'s Linear layers, in order."""
    return [(layer.weight, layer.bias) for layer in network.net if isinstance(layer, nn.Linear)]


def forward(layers: Layers, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """
    Return the MLP's output for ``x`` (no activation after the last layer) and each layer's input.

    Call under ``torch.no_grad()``: the inputs are what the backward passes need.
    """
    inputs = []
    for index, (weight, bias) in enumerate(layers):
        inputs.append(x)
        x = torch.addmm(bias, x, weight.t())
        if index < len(layers) - 1:
            x = x.relu_()
    return x, inputs


def _to_layer_input(layers: Layers, inputs: list[torch.Tensor], grad: torch.Tensor,
                    index: int) -> torch.Tensor:
    """Carry the gradient at layer ``index``'s output to its input (through the ReLU before it)."""
    grad = grad.mm(layers[index][0])
    if index > 0:  # the input is a ReLU's output: no gradient where it is zero
        grad = torch.ops.aten.threshold_backward(grad, inputs[index], 0)
    return grad


def parameter_gradients(layers: Layers, inputs: list[torch.Tensor],
                        grad_output: torch.Tensor) -> list[torch.Tensor]:
    """
    Return the gradients of weights and biases (``parameters()`` order) given d loss / d output.

    ``inputs`` are ``forward``'s, for the same pass.
    """
    per_layer, grad = [], grad_output
    for index in reversed(range(len(layers))):
        per_layer.append((grad.t().mm(inputs[index]), grad.sum(0)))
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

"""
TD3's MLPs (``t3d_ros.acting.network_architecture``) run with their gradients written out.

TD3's update needs three backward passes of a fixed form: the critics' weights from their
losses, the critic's input from the actor loss, and the actor's weights from that. Written
out, each layer costs its matrix products and its activation's backward (a ReLU's mask, the
actor's tanh); autograd's graph recording and per-node bookkeeping, which at 64-64 cost more
than the arithmetic, are gone. The formulas are autograd's own (``threshold_backward`` and
``tanh_backward`` on the activation's output), so the numbers are those of ``loss.backward()``
to float rounding.

Networks of the same shape, TD3's critics and their targets, can run as one:
``MLPLayers.stacked_from`` puts their weights in stacked tensors, (networks, out, in), that the
networks' own parameters are views of, and every pass takes such layers as well, one batched
product per layer.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

_FORWARD = {'relu': torch.Tensor.relu_, 'tanh': torch.Tensor.tanh_, None: None}
"""Each activation, in place on a layer's output."""
_BACKWARD = {'relu': lambda grad, output: torch.ops.aten.threshold_backward(grad, output, 0),
             'tanh': torch.ops.aten.tanh_backward, None: None}
"""d loss / d activation input from d loss / d activation output and that output."""


def _matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.bmm(a, b) if a.dim() == 3 else a.mm(b)


class MLPLayers:
    """
    The live weights and biases of an MLP's Linear layers, or of same-shaped MLPs stacked.

    Weights are (out, in) and biases (out,), or stacked (networks, out, in) and (networks,
    out); ``activations`` names the one after each layer (``MLPArchitecture.activations``).
    The views the products take (weights transposed, stacked biases as rows) are made once:
    parameters change in place, so the views stay live.
    """

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                 activations: Sequence[str | None]):
        self.weights, self.biases = list(weights), list(biases)
        self.activations = tuple(activations)
        if not len(self.weights) == len(self.biases) == len(self.activations):
            raise ValueError('one weight, bias and activation per layer')
        self.stacked = self.weights[0].dim() == 3
        self._transposed = [weight.transpose(-1, -2) for weight in self.weights]
        self._bias_rows = [bias.unsqueeze(-2) if self.stacked else bias for bias in self.biases]
        self._forward = [_FORWARD[activation] for activation in self.activations]
        self._backward = [_BACKWARD[activation] for activation in self.activations]

    @classmethod
    def of(cls, network: nn.Module) -> 'MLPLayers':
        """Return the layers of a ``networks.Network`` (its own parameters)."""
        linear = _linear_layers(network)
        return cls([layer.weight for layer in linear], [layer.bias for layer in linear],
                   network.architecture.activations)

    @classmethod
    def stacked_from(cls, networks: Sequence[nn.Module]) -> 'MLPLayers':
        """
        Return the layers of same-shaped ``networks`` stacked, and make theirs views of them.

        Each Linear layer's weight and bias stay the same Parameters, values and
        ``requires_grad`` kept, but their data becomes a slice of new stacked tensors, so
        state dicts, optimisers (also those made before) and in-place loads work through them
        as before.
        """
        architecture = networks[0].architecture
        if any(network.architecture != architecture for network in networks):
            raise ValueError('only networks of one architecture can be stacked')
        stacked: dict[str, list[torch.Tensor]] = {'weight': [], 'bias': []}
        for layers in zip(*map(_linear_layers, networks)):
            for name, tensors in stacked.items():
                tensor = torch.stack([getattr(layer, name).detach() for layer in layers])
                for index, layer in enumerate(layers):
                    getattr(layer, name).data = tensor[index]
                tensors.append(tensor)
        return cls(stacked['weight'], stacked['bias'], architecture.activations)

    def __getitem__(self, networks: int | slice) -> 'MLPLayers':
        """Return the layers of one network of a stack, or of a slice of its networks (views)."""
        if not self.stacked:
            raise TypeError('only stacked layers have networks to pick')
        return MLPLayers([weight[networks] for weight in self.weights],
                         [bias[networks] for bias in self.biases], self.activations)

    def tensors(self) -> list[torch.Tensor]:
        """Weights and biases in ``parameters()`` order: weight, bias of each layer in turn."""
        return [tensor for pair in zip(self.weights, self.biases) for tensor in pair]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """
        Return the MLP's output for ``x`` and what the backward passes need.

        That is each layer's input, then the output. Stacked layers take one input for all
        networks, (B, in), or one each, (networks, B, in), and return (networks, B, out). Call
        with autograd off (``no_grad`` or inference mode).
        """
        if self.stacked and x.dim() == 2:
            x = x.expand(len(self.weights[0]), *x.shape)
        product = torch.baddbmm if self.stacked else torch.addmm
        saved = []
        for weight_t, bias, activation in zip(self._transposed, self._bias_rows, self._forward):
            saved.append(x)
            x = product(bias, x, weight_t)
            if activation is not None:
                x = activation(x)
        saved.append(x)
        return x, saved

    def parameter_gradients(self, saved: list[torch.Tensor],
                            grad_output: torch.Tensor) -> list[torch.Tensor]:
        """
        Return the gradients of weights and biases (``tensors()`` order) given d loss / d output.

        ``saved`` is ``forward``'s, for the same pass; stacked layers get stacked gradients.
        """
        last = len(self.weights) - 1
        per_layer, grad = [], self._through_activation(saved, grad_output, last)
        for index in reversed(range(len(self.weights))):
            per_layer.append((_weight_gradient(grad, saved[index]), grad.sum(-2)))
            if index > 0:
                grad = self._to_layer_input(saved, grad, index)
        return [tensor for pair in reversed(per_layer) for tensor in pair]

    def input_gradient(self, saved: list[torch.Tensor],
                       grad_output: torch.Tensor) -> torch.Tensor:
        """Return d loss / d input given d loss / d output; no weight gradient is computed."""
        grad = self._through_activation(saved, grad_output, len(self.weights) - 1)
        for index in reversed(range(len(self.weights))):
            grad = self._to_layer_input(saved, grad, index)
        return grad

    def _through_activation(self, saved: list[torch.Tensor], grad: torch.Tensor,
                            index: int) -> torch.Tensor:
        """Carry the gradient at layer ``index``'s activation output to its input."""
        backward = self._backward[index]
        return grad if backward is None else backward(grad, saved[index + 1])

    def _to_layer_input(self, saved: list[torch.Tensor], grad: torch.Tensor,
                        index: int) -> torch.Tensor:
        """Carry the gradient at layer ``index``'s output to its input (and activation before)."""
        weight = self.weights[index]
        if weight.shape[-2] == 1:  # one output (a critic's Q): an outer product, which a
            grad = grad * weight   # broadcast multiply does in a third of a batched product's time
        else:
            grad = _matmul(grad, weight)
        if index > 0:
            grad = self._through_activation(saved, grad, index - 1)
        return grad


def _linear_layers(network: nn.Module) -> list[nn.Linear]:
    return [layer for layer in network.net if isinstance(layer, nn.Linear)]


def _weight_gradient(grad: torch.Tensor, layer_input: torch.Tensor) -> torch.Tensor:
    """
    Return grad^T @ input, the weight gradient (…, out, in), contiguous as its weight.

    For a layer whose input is narrower than its output (a first layer, the observation in),
    BLAS computes input^T @ grad 1.3-2.5x faster than grad^T @ input on this kind of CPU
    (64 x 256 x 10: 9 against 21 us), even with the transposed copy.
    """
    if layer_input.shape[-1] < grad.shape[-1]:
        return _matmul(layer_input.transpose(-1, -2), grad).transpose(-1, -2).contiguous()
    return _matmul(grad.transpose(-1, -2), layer_input)

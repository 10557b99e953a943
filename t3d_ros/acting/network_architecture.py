"""
TD3's actor and critic networks, described once, without torch.

Read by the numpy policy the actors run (``numpy_policy``) and, a layer up, by the torch
networks (``t3d_ros.td3.networks``) and the fast update's written-out gradients
(``t3d_ros.td3.mlp_gradients``).

Both networks are MLPs: Linear layers of the widths ``hidden_sizes`` with a ReLU after each,
then an output layer. The actor maps an observation to a normalised action, its output layer
ending in tanh (so the action is in [-1, 1]). A critic maps an observation and an action,
concatenated in that order, to one Q value, its output layer without activation.

In torch a network's Linear layers and the ReLUs between them are one ``nn.Sequential`` named
``net``, with the output activation after it: Linear layer ``i`` is ``net.<2 i>`` in the state
dict, the names that checkpoints and policy bundles store.
"""
from __future__ import annotations

from dataclasses import dataclass

HIDDEN_ACTIVATION = 'relu'
"""After every hidden Linear layer."""
ACTOR_OUTPUT_ACTIVATION = 'tanh'
"""After the actor's output layer: a normalised action in [-1, 1]."""


@dataclass(frozen=True)
class MLPArchitecture:
    """The sizes and activations of one network."""

    in_dim: int
    out_dim: int
    hidden_sizes: tuple[int, ...]
    output_activation: str | None
    """After the output layer: ``ACTOR_OUTPUT_ACTIVATION`` or None."""

    @property
    def weight_shapes(self) -> list[tuple[int, int]]:
        """(out, in) of each Linear layer's weight, the input layer first."""
        widths = [self.in_dim, *self.hidden_sizes, self.out_dim]
        return list(zip(widths[1:], widths))

    @property
    def activations(self) -> tuple[str | None, ...]:
        """The activation after each Linear layer (None: none)."""
        return (HIDDEN_ACTIVATION,) * len(self.hidden_sizes) + (self.output_activation,)

    @staticmethod
    def layer_name(index: int) -> str:
        """State-dict prefix of Linear layer ``index``: the layers alternate with ReLUs."""
        return f'net.{2 * index}'

    @property
    def layer_names(self) -> list[str]:
        """State-dict prefix of each Linear layer, the input layer first."""
        return [self.layer_name(index) for index in range(len(self.hidden_sizes) + 1)]

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name and shape of every tensor in the network's state dict."""
        shapes = {}
        for name, (width_out, width_in) in zip(self.layer_names, self.weight_shapes):
            shapes[f'{name}.weight'] = (width_out, width_in)
            shapes[f'{name}.bias'] = (width_out,)
        return shapes


def actor_architecture(obs_dim: int, act_dim: int, hidden_sizes) -> MLPArchitecture:
    """Observation in, normalised action out."""
    return MLPArchitecture(obs_dim, act_dim, tuple(hidden_sizes), ACTOR_OUTPUT_ACTIVATION)


def critic_architecture(obs_dim: int, act_dim: int, hidden_sizes) -> MLPArchitecture:
    """Observation and action in (concatenated, the observation first), Q out."""
    return MLPArchitecture(obs_dim + act_dim, 1, tuple(hidden_sizes), None)

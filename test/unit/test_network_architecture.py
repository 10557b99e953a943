"""One description of actor and critic, read by the torch networks, fast gradients and numpy."""
import numpy as np
import pytest
import torch

from t3d_ros.acting.numpy_policy import ACTIVATIONS as NUMPY_ACTIVATIONS
from t3d_ros.acting.network_architecture import (ACTOR_OUTPUT_ACTIVATION, HIDDEN_ACTIVATION,
                                                 actor_architecture, critic_architecture)
from t3d_ros.td3.mlp_gradients import MLPLayers
from t3d_ros.td3.networks import ACTIVATIONS as TORCH_ACTIVATIONS
from t3d_ros.td3.networks import Actor, Critic


@pytest.mark.parametrize('hidden_sizes', [(8,), (8, 6), (5, 4, 3)])
def test_the_torch_networks_are_the_described_ones(hidden_sizes):
    actor, critic = Actor(7, 2, hidden_sizes), Critic(7, 2, hidden_sizes)
    for network, described in ((actor, actor_architecture(7, 2, hidden_sizes)),
                               (critic, critic_architecture(7, 2, hidden_sizes))):
        assert network.architecture == described
        assert {name: tuple(tensor.shape) for name, tensor in network.state_dict().items()} == (
            described.tensor_shapes())
        linear = [module for module in network.net if isinstance(module, torch.nn.Linear)]
        assert [network.net[int(name.split('.')[1])] for name in described.layer_names] == linear
        assert MLPLayers.of(network).activations == described.activations
    assert actor.architecture.activations == (HIDDEN_ACTIVATION,) * len(hidden_sizes) + (
        ACTOR_OUTPUT_ACTIVATION,)
    assert critic.architecture.in_dim == 9 and critic.architecture.out_dim == 1
    assert critic.architecture.activations[-1] is None


def test_the_critic_reads_the_observation_then_the_action():
    critic = Critic(3, 2, (4,))
    obs, action = torch.randn(5, 3), torch.rand(5, 2)
    with torch.no_grad():
        expected = critic.net(torch.cat([obs, action], 1)).squeeze(-1)
        torch.testing.assert_close(critic(obs, action), expected)


@pytest.mark.parametrize('activation', [HIDDEN_ACTIVATION, ACTOR_OUTPUT_ACTIVATION, None])
def test_each_activation_is_the_same_in_torch_and_numpy(activation):
    x = np.linspace(-3, 3, 13, dtype=np.float32)
    with torch.no_grad():
        expected = TORCH_ACTIVATIONS[activation]()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(NUMPY_ACTIVATIONS[activation](x), expected, rtol=1e-6)

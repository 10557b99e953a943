"""The written-out forward and backward passes of the ReLU MLPs against autograd."""
import pytest
import torch

from t3d_ros.td3 import mlp_gradients
from t3d_ros.td3.networks import Critic


@pytest.mark.parametrize('hidden_sizes', [(16,), (8, 4), (6, 5, 7)])
def test_gradients_equal_autograd(hidden_sizes):
    torch.manual_seed(0)
    critic = Critic(3, 2, hidden_sizes)
    layers = mlp_gradients.linear_layers(critic)
    assert len(layers) == len(hidden_sizes) + 1
    x = torch.randn(32, 5)
    x[:4] = 0.0  # rows whose first hidden layer is just its bias
    grad_output = torch.randn(32, 1)
    with torch.no_grad():
        output, inputs = mlp_gradients.forward(layers, x)
        grads = mlp_gradients.parameter_gradients(layers, inputs, grad_output)
        grad_x = mlp_gradients.input_gradient(layers, inputs, grad_output)
    x_leaf = x.clone().requires_grad_(True)
    expected_output = critic.net(x_leaf)
    *expected_grads, expected_grad_x = torch.autograd.grad(
        expected_output, [*critic.parameters(), x_leaf], grad_output)
    torch.testing.assert_close(output, expected_output.detach())
    assert len(grads) == len(expected_grads)
    for ours, theirs, param in zip(grads, expected_grads, critic.parameters()):
        assert ours.shape == param.shape
        torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(grad_x, expected_grad_x)
    assert (inputs[1] == 0).any(), "no ReLU was cut off"


def test_layers_are_the_live_parameters():
    critic = Critic(3, 2, (4, 4))
    layers = mlp_gradients.linear_layers(critic)
    critic.load_state_dict({name: torch.zeros_like(value)
                            for name, value in critic.state_dict().items()})
    assert all(not weight.any() and not bias.any() for weight, bias in layers)
    assert [t for pair in layers for t in pair] == list(critic.parameters())

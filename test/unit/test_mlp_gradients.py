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


def test_stacked_twins_run_as_each_network_alone_and_stay_their_parameters():
    torch.manual_seed(0)
    critics = [Critic(3, 2, (6, 5)) for _ in range(2)]
    critics[1].requires_grad_(False)  # like a target network: kept as it was
    alone = [mlp_gradients.linear_layers(critic) for critic in critics]
    alone = [[(w.detach().clone(), b.detach().clone()) for w, b in layers] for layers in alone]
    stacked = mlp_gradients.stacked_layers(critics)
    x = torch.randn(32, 5)
    grad_output = torch.randn(2, 32, 1)
    with torch.no_grad():
        output, inputs = mlp_gradients.forward(stacked, x)
        grads = mlp_gradients.parameter_gradients(stacked, inputs, grad_output)
        grad_x = mlp_gradients.input_gradient(stacked, inputs, grad_output)
        for index, layers in enumerate(alone):
            own_output, own_inputs = mlp_gradients.forward(layers, x)
            torch.testing.assert_close(output[index], own_output)
            own_grads = mlp_gradients.parameter_gradients(layers, own_inputs,
                                                          grad_output[index])
            for ours, theirs in zip(grads, own_grads):
                torch.testing.assert_close(ours[index], theirs)
            torch.testing.assert_close(
                grad_x[index], mlp_gradients.input_gradient(layers, own_inputs,
                                                            grad_output[index]))
    for critic, layers, requires_grad in zip(critics, alone, (True, False)):
        assert all(p.requires_grad == requires_grad for p in critic.parameters())
        for (weight, bias), (stacked_weight, stacked_bias) in zip(
                mlp_gradients.linear_layers(critic), layers):
            assert torch.equal(weight, stacked_weight) and torch.equal(bias, stacked_bias)
    critics[1].load_state_dict({name: torch.zeros_like(value)  # in place, into the stack
                                for name, value in critics[1].state_dict().items()})
    assert all(not weight[1].any() and weight[0].any() for weight, _ in stacked)

"""The written-out forward and backward passes of the MLPs against autograd."""
import pytest
import torch

from t3d_ros.td3.mlp_gradients import MLPLayers
from t3d_ros.td3.networks import Actor, Critic


@pytest.mark.parametrize('network', ['critic', 'actor'])
@pytest.mark.parametrize('hidden_sizes', [(16,), (8, 4), (6, 5, 7)])
def test_gradients_equal_autograd(network, hidden_sizes):
    """The critic's output is linear, the actor's ends in tanh (as their architecture says)."""
    torch.manual_seed(0)
    net = Critic(3, 2, hidden_sizes) if network == 'critic' else Actor(5, 2, hidden_sizes)
    layers = MLPLayers.of(net)
    assert len(layers.weights) == len(hidden_sizes) + 1
    assert layers.activations == net.architecture.activations
    x = torch.randn(32, 5) * 3  # some actions near the tanh's saturation
    x[:4] = 0.0  # rows whose first hidden layer is just its bias
    grad_output = torch.randn(32, net.architecture.out_dim)
    with torch.no_grad():
        output, saved = layers.forward(x)
        grads = layers.parameter_gradients(saved, grad_output)
        grad_x = layers.input_gradient(saved, grad_output)
    x_leaf = x.clone().requires_grad_(True)
    expected_output = net.run(x_leaf)
    *expected_grads, expected_grad_x = torch.autograd.grad(
        expected_output, [*net.parameters(), x_leaf], grad_output)
    torch.testing.assert_close(output, expected_output.detach())
    assert saved[-1] is output and len(saved) == len(hidden_sizes) + 2
    assert len(grads) == len(expected_grads)
    for ours, theirs, param in zip(grads, expected_grads, net.parameters()):
        assert ours.shape == param.shape and ours.is_contiguous()
        torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(grad_x, expected_grad_x)
    assert (saved[1] == 0).any(), "no ReLU was cut off"


def test_layers_are_the_live_parameters():
    critic = Critic(3, 2, (4, 4))
    layers = MLPLayers.of(critic)
    critic.load_state_dict({name: torch.zeros_like(value)
                            for name, value in critic.state_dict().items()})
    assert not any(tensor.any() for tensor in layers.tensors())
    assert layers.tensors() == list(critic.parameters())
    with torch.no_grad():  # the forward pass reads the live values too
        assert not layers.forward(torch.randn(3, 5))[0].any()


def test_stacked_twins_run_as_each_network_alone_and_stay_their_parameters():
    torch.manual_seed(0)
    critics = [Critic(3, 2, (6, 5)) for _ in range(2)]
    critics[1].requires_grad_(False)  # like a target network: kept as it was
    alone = [MLPLayers([w.detach().clone() for w in layers.weights],
                       [b.detach().clone() for b in layers.biases], layers.activations)
             for layers in map(MLPLayers.of, critics)]
    parameters = [list(critic.parameters()) for critic in critics]
    optimizer = torch.optim.SGD(critics[0].parameters(), lr=1.0)  # made before the stacking
    stacked = MLPLayers.stacked_from(critics)
    assert all(new is old for critic, kept in zip(critics, parameters)  # the same objects
               for new, old in zip(critic.parameters(), kept, strict=True))
    x = torch.randn(32, 5)
    grad_output = torch.randn(2, 32, 1)
    with torch.no_grad():
        output, inputs = stacked.forward(x)
        grads = stacked.parameter_gradients(inputs, grad_output)
        grad_x = stacked.input_gradient(inputs, grad_output)
        for index, layers in enumerate(alone):
            own_output, own_inputs = layers.forward(x)
            torch.testing.assert_close(output[index], own_output)
            own_grads = layers.parameter_gradients(own_inputs, grad_output[index])
            for ours, theirs in zip(grads, own_grads):
                torch.testing.assert_close(ours[index], theirs)
            torch.testing.assert_close(
                grad_x[index], layers.input_gradient(own_inputs, grad_output[index]))
            picked = stacked[index]  # one network of the stack: its parameters' storage
            assert all(a.data_ptr() == b.data_ptr()
                       for a, b in zip(picked.tensors(), critics[index].parameters()))
            torch.testing.assert_close(picked.forward(x)[0], own_output)
    for critic, layers, requires_grad in zip(critics, alone, (True, False)):
        assert all(p.requires_grad == requires_grad for p in critic.parameters())
        for ours, kept in zip(MLPLayers.of(critic).tensors(), layers.tensors()):
            assert torch.equal(ours, kept)
    critics[1].load_state_dict({name: torch.zeros_like(value)  # in place, into the stack
                                for name, value in critics[1].state_dict().items()})
    assert all(not weight[1].any() and weight[0].any() for weight in stacked.weights)
    for param in critics[0].parameters():
        param.grad = torch.ones_like(param)
    before = [weight[0].clone() for weight in stacked.weights]
    optimizer.step()  # its parameters write into the stack
    assert all(torch.equal(weight[0], old - 1.0) for weight, old in zip(stacked.weights, before))


def test_only_networks_of_one_architecture_stack():
    with pytest.raises(ValueError, match='one architecture'):
        MLPLayers.stacked_from([Critic(3, 2, (6,)), Critic(3, 2, (6, 6))])
    with pytest.raises(ValueError, match='one architecture'):
        MLPLayers.stacked_from([Critic(3, 2, (6,)), Actor(5, 1, (6,))])

"""
TD3.update against the plain fifteen-step reference update: same numbers on the same batches.

TD3.update has written-out gradients (only those used), the twin critics as one stacked MLP,
fused Adam with one step counter tensor, foreach Polyak and lazy metrics.
"""
import copy
import functools

import numpy as np
import pytest
import torch

from t3d_ros.td3 import TD3, TD3Config
from t3d_ros.td3.reference import ReferenceTD3
from t3d_ros.td3.replay import ReplayMemory
from t3d_ros.td3.fused_adam import FusedAdamStep

OBS_DIM, ACT_DIM = 5, 2


def filled_memory(capacity=2_000, seed=0) -> ReplayMemory:
    rng = np.random.default_rng(seed)
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity, seed=seed)
    memory.add_batch(rng.normal(size=(capacity, OBS_DIM)), rng.uniform(-1, 1, (capacity, ACT_DIM)),
                     rng.normal(size=capacity), rng.normal(size=(capacity, OBS_DIM)),
                     rng.random(capacity) < 0.1)
    return memory


def pairs(agent: TD3, reference: ReferenceTD3):
    return (('actor', agent.actor.net, reference.actor),
            ('actor_target', agent.actor_target.net, reference.actor_target),
            ('critic_1', agent.critic_1.net, reference.q1),
            ('critic_2', agent.critic_2.net, reference.q2),
            ('critic_1_target', agent.critic_1_target.net, reference.q1_target),
            ('critic_2_target', agent.critic_2_target.net, reference.q2_target))


@pytest.mark.parametrize('hidden_sizes, policy_delay', [((32, 32), 2), ((16,), 3), ((8, 6, 8), 2)])
def test_update_equals_the_plain_reference_for_100_iterations(hidden_sizes, policy_delay):
    config = TD3Config(hidden_sizes=hidden_sizes, batch_size=64, policy_delay=policy_delay,
                       tau=0.05, seed=3)
    agent = TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), config)
    reference = ReferenceTD3.copy_of(agent)
    memory = filled_memory()
    start = {name: [p.clone() for p in net.parameters()]
             for name, net, _ in pairs(agent, reference)}
    for iteration in range(1, 101):
        batch = memory.sample(config.batch_size)
        metrics = agent.update(batch)
        reference.train(batch)
        assert ('actor_loss' in metrics) == (iteration % policy_delay == 0)
        assert all(np.isfinite(value) for value in metrics.values())
        for name, ours, plain in pairs(agent, reference):
            for a, b in zip(ours.parameters(), plain.parameters(), strict=True):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6,
                                           msg=f'{name} differs at iteration {iteration}')
    moved = {name: max((p - q).abs().max().item() for p, q in zip(net.parameters(), start[name]))
             for name, net, _ in pairs(agent, reference)}
    assert all(value > 1e-4 for value in moved.values()), moved  # every network learnt
    assert agent.total_updates == reference.total_it == 100


def test_the_plain_update_continues_from_an_updated_agent():
    """Networks and Adam state stay ordinary tensors (the update runs in inference mode)."""
    config = TD3Config(hidden_sizes=(16, 16), batch_size=32, seed=3)
    agent, memory = TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), config), filled_memory()
    for _ in range(5):
        agent.update(memory.sample(config.batch_size))
    reference = ReferenceTD3.copy_of(agent)  # takes over the agent's Adam state tensors
    state = agent.critic_optimizer.state[agent.critic_1.net[0].weight]
    assert not any(tensor.is_inference() for tensor in state.values())
    for _ in range(10):
        batch = memory.sample(config.batch_size)
        agent.update(batch)
        reference.train(batch)
    for name, ours, plain in pairs(agent, reference):
        for a, b in zip(ours.parameters(), plain.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_metrics_are_those_of_the_plain_losses():
    config = TD3Config(hidden_sizes=(16, 16), batch_size=32, policy_delay=1)
    agent = TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), config)
    batch = filled_memory().sample(config.batch_size)
    noise = torch.Generator().set_state(agent.noise_generator.get_state())
    with torch.no_grad():
        next_action = (agent.actor_target(batch.next_obs) + (torch.randn(
            batch.action.shape, generator=noise) * 0.2).clamp(-0.5, 0.5)).clamp(-1, 1)
        target = batch.reward + 0.99 * (1 - batch.terminated) * torch.min(
            agent.critic_1_target(batch.next_obs, next_action),
            agent.critic_2_target(batch.next_obs, next_action))
        q1, q2 = agent.critic_1(batch.obs, batch.action), agent.critic_2(batch.obs, batch.action)
    metrics = agent.update(batch)
    assert list(metrics) == ['critic_loss', 'q1_mean', 'q2_mean', 'target_q_mean', 'actor_loss']
    assert metrics['critic_loss'] == pytest.approx(
        (((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()).item(), rel=1e-5)
    assert metrics['q1_mean'] == pytest.approx(q1.mean().item(), rel=1e-5)
    assert metrics['target_q_mean'] == pytest.approx(target.mean().item(), rel=1e-5)
    assert dict(metrics) == {name: metrics[name] for name in metrics}


def test_fused_adam_step_is_optimizer_step_on_single_and_stacked_parameters():
    torch.manual_seed(0)
    stack = torch.randn(2, 4, 3)  # two networks' weights, the parameters slices of it
    single = torch.nn.Parameter(torch.randn(3))
    params = [torch.nn.Parameter(stack[1]), single, torch.nn.Parameter(stack[0])]
    twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
    fused = torch.optim.Adam(params, lr=1e-2, fused=True)
    stepped = torch.optim.Adam(twins, lr=1e-2, fused=True)
    step = FusedAdamStep(fused, [single, stack])
    for index in range(8):
        if index == 5:  # state tensors of another optimiser's (as a resume loads them)
            fused.load_state_dict(copy.deepcopy(stepped.state_dict()))
            step.state_loaded()
        grads = [torch.randn(3), torch.randn(2, 4, 3)]
        step(grads)
        for twin, grad in zip(twins, (grads[1][1], grads[0], grads[1][0])):
            twin.grad = grad.clone()
        stepped.step()
    # The same arithmetic; a stacked tensor puts elements in other vector lanes of the kernel,
    # so the last bit may differ.
    same = functools.partial(torch.testing.assert_close, rtol=1e-6, atol=1e-12)
    for a, b in zip(params, twins):
        same(a, b)
    for key in ('step', 'exp_avg', 'exp_avg_sq'):
        for a, b in zip(params, twins):
            same(fused.state[a][key], stepped.state[b][key])
    # The stacked parameters' moments are slices of one stacked tensor.
    assert [fused.state[p]['exp_avg'].data_ptr() for p in (params[2], params[0])] == [
        fused.state[params[2]]['exp_avg'].data_ptr() + 4 * 12 * i for i in range(2)]
    stepped.state[twins[1]]['step'] += 1  # a state whose parameters took different steps
    with pytest.raises(ValueError, match='one step count'):
        fused.load_state_dict(copy.deepcopy(stepped.state_dict()))
        step.state_loaded()
    with pytest.raises(ValueError, match='plain Adam'):
        FusedAdamStep(torch.optim.Adam(params, weight_decay=0.1), [single, stack])
    with pytest.raises(ValueError, match='exactly'):
        FusedAdamStep(torch.optim.Adam(params, fused=True), [stack])

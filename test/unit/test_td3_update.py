"""
TD3 update maths (steps 5-15, docs/architecture.md, TD3) on tiny networks with hand-set weights.

Every test runs on both backends.
"""
import copy

import numpy as np
import pytest
import torch

from t3d_ros.td3 import TD3, Batch, TD3Config
from t3d_ros.td3.config import BACKENDS
from t3d_ros.td3.mlp_gradients import MLPLayers

OBS_DIM = 2
LOW = np.array([-1.0, 0.0])  # asymmetric, and different per joint
HIGH = np.array([3.0, 0.5])
TINY = TD3Config(hidden_sizes=(4,), batch_size=4, replay_capacity=16)


@pytest.fixture(params=BACKENDS)
def make_agent(request):
    """Make an agent of TINY with changes, on the backend of the test's parameter."""
    def make(**changes) -> TD3:
        return TD3(OBS_DIM, LOW, HIGH, TINY.replace(backend=request.param, **changes))
    return make


def random_batch(size=4, seed=0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    return Batch(obs=torch.randn(size, OBS_DIM, generator=gen),
                 action=torch.rand(size, 2, generator=gen) * 2 - 1,
                 reward=torch.randn(size, generator=gen),
                 next_obs=torch.randn(size, OBS_DIM, generator=gen),
                 terminated=(torch.rand(size, generator=gen) < 0.3).float())


def set_layer(layer: torch.nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


def make_constant(net: torch.nn.Module, output) -> None:
    """Make the last layer ignore its input and output ``output`` (before any tanh)."""
    last = net.net[-1]
    set_layer(last, torch.zeros_like(last.weight), output)


def make_q_of_first_obs(critic: torch.nn.Module, slope: float, offset: float) -> None:
    """Q(s, a) = slope * relu(s[0]) + offset, whatever the action."""
    first, last = critic.net[0], critic.net[-1]
    weight = torch.zeros_like(first.weight)
    weight[0, 0] = 1.0
    set_layer(first, weight, torch.zeros_like(first.bias))
    out = torch.zeros_like(last.weight)
    out[0, 0] = slope
    set_layer(last, out, [offset])


def parameters(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(params_a, params_b) -> bool:
    params_a, params_b = list(params_a), list(params_b)
    return len(params_a) == len(params_b) and all(
        torch.equal(a, b) for a, b in zip(params_a, params_b))


@pytest.fixture
def known_agent(make_agent) -> TD3:
    """
    Actor target plays unit action (0.9, -0.2).

    Q_t1 = s'[0], Q_t2 = 2 - s'[0]; online critics are constant 1 and -1; no actor update in sight.
    """
    agent = make_agent(policy_noise=0.5, noise_clip=0.3, gamma=0.5, policy_delay=1000)
    make_constant(agent.actor_target, torch.atanh(torch.tensor([0.9, -0.2])))
    make_q_of_first_obs(agent.critic_1_target, slope=1.0, offset=0.0)
    make_q_of_first_obs(agent.critic_2_target, slope=-1.0, offset=2.0)
    make_constant(agent.critic_1, [1.0])
    make_constant(agent.critic_2, [-1.0])
    return agent


def transitions(next_obs_0, reward, terminated) -> Batch:
    size = len(reward)
    return Batch(obs=torch.zeros(size, OBS_DIM), action=torch.zeros(size, 2),
                 reward=torch.tensor(reward, dtype=torch.float32),
                 next_obs=torch.tensor([[x, 0.0] for x in next_obs_0]),
                 terminated=torch.tensor(terminated, dtype=torch.float32))


def record_target_actions(agent: TD3, monkeypatch) -> list[torch.Tensor]:
    """Return a list that gets each a' the first target critic scores in (s', a')."""
    seen = []
    if agent.config.backend == 'plain':
        agent.critic_1_target.register_forward_hook(
            lambda module, args, output: seen.append(args[1].clone()))
        return seen
    forward = MLPLayers.forward

    def recording_forward(layers, x):
        # the first target critic's weights, alone or in a stack
        weight = layers.weights[0]
        for index, network in enumerate(weight if layers.stacked else [weight]):
            if network.data_ptr() == agent.critic_1_target.net[0].weight.data_ptr():
                seen.append((x[index] if x.dim() == 3 else x)[:, OBS_DIM:].clone())
        return forward(layers, x)

    monkeypatch.setattr(MLPLayers, 'forward', recording_forward)
    return seen


def test_target_action_has_clipped_noise_and_is_clamped_per_joint(known_agent, monkeypatch):
    seen = record_target_actions(known_agent, monkeypatch)
    replay_noise = torch.Generator().set_state(known_agent.noise_generator.get_state())
    raw_noise = torch.randn(8, 2, generator=replay_noise) * 0.5  # policy_noise
    known_agent.update(transitions([0.0] * 8, [0.0] * 8, [0.0] * 8))

    (next_action,) = seen
    policy_action = torch.tanh(torch.atanh(torch.tensor([0.9, -0.2])))
    expected = (policy_action + raw_noise.clamp(-0.3, 0.3)).clamp(-1.0, 1.0)
    assert torch.equal(next_action, expected)
    assert (raw_noise.abs() > 0.3).any(), 'the noise clip was not exercised'
    clamped = policy_action[0] + raw_noise[:, 0].clamp(-0.3, 0.3) > 1.0
    assert clamped.any() and (~clamped).any(), 'the [-1, 1] clamp was not exercised'
    assert torch.all(next_action[clamped, 0] == 1.0)
    # In physical units the clipped noise is 0.3 of each joint's own half range (2.0 and 0.25)
    # and a clamped action lands exactly on the joint's upper limit.
    physical = known_agent.scaler.from_unit(next_action.numpy())
    nominal = known_agent.scaler.from_unit(policy_action.numpy())
    assert np.all(np.abs(physical - nominal) <= 0.3 * np.array([2.0, 0.25]) + 1e-6)
    assert np.all(physical[clamped.numpy(), 0] == HIGH[0])
    assert np.all((LOW <= physical) & (physical <= HIGH))


@pytest.mark.parametrize('next_obs_0, reward, terminated, expected_target', [
    (0.5, 1.0, 0.0, 1.0 + 0.5 * 0.5),   # min(Q_t1=0.5, Q_t2=1.5): the first critic
    (1.5, 2.0, 0.0, 2.0 + 0.5 * 0.5),   # min(Q_t1=1.5, Q_t2=0.5): the second critic
    (1.5, 2.0, 1.0, 2.0),               # terminated: no bootstrap
    (3.0, 3.0, 0.0, 3.0 + 0.5 * -1.0),  # not terminated (e.g. truncated): bootstraps
])
def test_target_is_twin_min_and_stops_only_at_termination(
        known_agent, next_obs_0, reward, terminated, expected_target):
    metrics = known_agent.update(transitions([next_obs_0], [reward], [terminated]))
    assert metrics['target_q_mean'] == expected_target


def test_critic_loss_is_sum_of_both_mses(known_agent):
    metrics = known_agent.update(transitions([0.5, 1.5, 1.5, 3.0], [1.0, 2.0, 2.0, 3.0],
                                             [0.0, 0.0, 1.0, 0.0]))
    target = np.array([1.25, 2.25, 2.0, 2.5])
    assert metrics['q1_mean'] == 1.0 and metrics['q2_mean'] == -1.0
    assert metrics['target_q_mean'] == target.mean()
    assert metrics['critic_loss'] == pytest.approx(
        np.mean((1.0 - target) ** 2) + np.mean((-1.0 - target) ** 2), rel=1e-6)
    assert 'actor_loss' not in metrics


def test_critic_step_moves_both_critics_only(make_agent):
    agent = make_agent(policy_delay=1000)
    before = {name: parameters(getattr(agent, name)) for name in
              ('critic_1', 'critic_2', 'actor', 'actor_target', 'critic_1_target')}
    agent.update(random_batch())
    for name in ('critic_1', 'critic_2'):
        after = parameters(getattr(agent, name))
        assert all(not torch.equal(a, b) for a, b in zip(before[name], after))
    for name in ('actor', 'actor_target', 'critic_1_target'):
        assert same(before[name], parameters(getattr(agent, name)))


def test_actor_and_targets_update_only_every_policy_delay_calls(make_agent):
    agent = make_agent(policy_delay=3)
    for call in range(1, 7):
        actor, targets = parameters(agent.actor), parameters(agent.critic_2_target)
        metrics = agent.update(random_batch(seed=call))
        delayed_step = call % 3 == 0
        assert ('actor_loss' in metrics) == delayed_step
        assert (not same(parameters(agent.actor), actor)) == delayed_step
        assert (not same(parameters(agent.critic_2_target), targets)) == delayed_step
    assert agent.total_updates == 6


def test_actor_step_reaches_only_the_actor(make_agent):
    """The same first update with and without an actor step leaves identical critics."""
    with_actor, without_actor = make_agent(policy_delay=1), make_agent(policy_delay=1000)
    batch = random_batch()
    metrics = with_actor.update(batch)
    without_actor.update(batch)
    assert same(parameters(with_actor.critic_1), parameters(without_actor.critic_1))
    assert same(parameters(with_actor.critic_2), parameters(without_actor.critic_2))
    assert not same(parameters(with_actor.actor), parameters(without_actor.actor))
    # actor loss = -mean Q1(s, actor(s)), with the critic already stepped and the old actor
    with torch.no_grad():
        expected = -without_actor.critic_1(batch.obs, without_actor.actor(batch.obs)).mean()
    assert metrics['actor_loss'] == pytest.approx(expected.item(), abs=1e-7)


def test_polyak_moves_all_three_targets_by_tau(make_agent):
    tau = 0.25
    agent = make_agent(policy_delay=1, tau=tau)
    pairs = (('actor', 'actor_target'), ('critic_1', 'critic_1_target'),
             ('critic_2', 'critic_2_target'))
    targets_before = {target: parameters(getattr(agent, target)) for _, target in pairs}
    agent.update(random_batch())
    for online, target in pairs:
        for new_online, old_target, new_target in zip(
                parameters(getattr(agent, online)), targets_before[target],
                parameters(getattr(agent, target)), strict=True):
            expected = tau * new_online + (1 - tau) * old_target
            torch.testing.assert_close(new_target, expected, rtol=0, atol=1e-7)
            assert not torch.allclose(new_target, tau * new_online + (1 + tau) * old_target)


def test_targets_start_as_frozen_copies(make_agent):
    agent = make_agent()
    for online, target in (('actor', 'actor_target'), ('critic_1', 'critic_1_target'),
                           ('critic_2', 'critic_2_target')):
        assert same(parameters(getattr(agent, online)), parameters(getattr(agent, target)))
        assert not any(p.requires_grad for p in getattr(agent, target).parameters())
    assert agent.critic_optimizer.param_groups[0]['params'] == [
        *agent.critic_1.parameters(), *agent.critic_2.parameters()]


def test_same_seed_same_networks_and_global_rng_untouched(make_agent):
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    first, second, other = make_agent(seed=7), make_agent(seed=7), make_agent(seed=8)
    assert torch.equal(torch.rand(1), expected_draw)
    for name in ('actor', 'critic_1', 'critic_2'):
        assert same(parameters(getattr(first, name)), parameters(getattr(second, name)))
        assert not same(parameters(getattr(first, name)), parameters(getattr(other, name)))
    assert not same(parameters(first.critic_1), parameters(first.critic_2))
    batch = random_batch()
    assert first.update(batch) == second.update(batch)


def test_state_dict_round_trip_continues_bit_identically(make_agent):
    trained, resumed = make_agent(), make_agent(seed=99)
    for seed in range(3):
        trained.update(random_batch(seed=seed))
    resumed.load_state_dict(trained.state_dict())
    moments = copy.deepcopy(trained.critic_optimizer.state_dict()['state'])
    resumed.update(random_batch(seed=3))  # must not touch the trained agent's optimiser state
    assert same([t for s in moments.values() for t in s.values()],
                [t for s in trained.critic_optimizer.state_dict()['state'].values()
                 for t in s.values()])
    trained.update(random_batch(seed=3))
    for seed in range(4, 7):
        assert trained.update(random_batch(seed=seed)) == resumed.update(random_batch(seed=seed))
    for name in ('actor', 'actor_target', 'critic_1', 'critic_2', 'critic_1_target',
                 'critic_2_target'):
        assert same(parameters(getattr(trained, name)), parameters(getattr(resumed, name)))
    assert resumed.total_updates == trained.total_updates == 7


def test_load_state_dict_is_all_or_nothing(make_agent):
    agent, other = make_agent(), make_agent(seed=1)
    state = other.state_dict()
    state['critic_2'] = make_agent(hidden_sizes=(5,)).critic_2.state_dict()
    before = {name: parameters(getattr(agent, name)) for name in ('actor', 'critic_1')}
    with pytest.raises(RuntimeError, match='size mismatch'):
        agent.load_state_dict(state)
    for name, params in before.items():
        assert same(params, parameters(getattr(agent, name)))


def test_act_is_the_deterministic_actor_scaled_to_the_limits(make_agent):
    agent = make_agent()
    obs = np.array([[0.3, -2.0], [10.0, 10.0]])
    with torch.no_grad():
        unit = agent.actor(torch.tensor(obs, dtype=torch.float32)).numpy()
    action = agent.act(obs)
    assert action.dtype == np.float64 and action.shape == (2, 2)
    np.testing.assert_allclose(action, LOW + (unit + 1.0) / 2.0 * (HIGH - LOW), rtol=1e-6)
    np.testing.assert_allclose(agent.act(obs[0]), action[0], rtol=1e-6)


def test_export_actor_state_copies_the_actor_or_its_target(make_agent):
    agent = make_agent(policy_delay=1)
    agent.update(random_batch())
    exported, exported_target = agent.export_actor_state(), agent.export_actor_state(True)
    assert same(exported.values(), parameters(agent.actor))
    assert same(exported_target.values(), parameters(agent.actor_target))
    assert exported.keys() == agent.actor.state_dict().keys()
    agent.update(random_batch(seed=1))
    assert not same(exported.values(), parameters(agent.actor))

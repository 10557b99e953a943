"""Networks, action scaling, exploration and the inference policy of the TD3 core."""
import numpy as np
import pytest
import torch

from t3d_ros.acting.exploration import explore, random_unit_action
from t3d_ros.td3 import ActionScaler, Actor, Critic, Policy

LOW = np.array([-1.0, 0.0, -10.0])
HIGH = np.array([3.0, 0.5, -2.0])


def test_action_scaler_maps_unit_box_to_each_joints_own_limits():
    scaler = ActionScaler(LOW, HIGH)
    assert np.array_equal(scaler.from_unit([-1.0, -1.0, -1.0]), LOW)
    assert np.array_equal(scaler.from_unit([1.0, 1.0, 1.0]), HIGH)
    assert np.array_equal(scaler.from_unit([0.0, 0.0, 0.0]), [1.0, 0.25, -6.0])
    physical = np.array([[0.0, 0.1, -9.0], [2.5, 0.4, -3.0]])
    np.testing.assert_allclose(scaler.from_unit(scaler.to_unit(physical)), physical)
    np.testing.assert_allclose(scaler.to_unit(physical[0]), [-0.5, -0.6, -0.75])


def test_action_scaler_clips_unit_actions_first():
    scaler = ActionScaler(LOW, HIGH)
    assert np.array_equal(scaler.from_unit([5.0, -7.0, 1.0 + 1e-9]), [3.0, 0.0, -2.0])
    assert np.array_equal(scaler.to_unit([5.0, 0.5, -2.0]), [2.0, 1.0, 1.0])


@pytest.mark.parametrize('low, high, message', [
    ([0.0, 1.0], [1.0, 1.0], 'high > low'),
    ([1.0], [0.0], 'high > low'),
    ([0.0, np.nan], [1.0, 2.0], 'finite'),
    ([-np.inf], [1.0], 'finite'),
    ([0.0, 0.0], [1.0], 'shape'),
    ([], [], 'shape'),
])
def test_action_scaler_rejects_unusable_limits(low, high, message):
    with pytest.raises(ValueError, match=message):
        ActionScaler(low, high)


def test_actor_and_critic_shapes():
    actor, critic = Actor(5, 3, (8, 8)), Critic(5, 3, (8,))
    obs = torch.randn(7, 5) * 100
    action = actor(obs)
    assert action.shape == (7, 3) and action.abs().max() <= 1.0
    assert critic(obs, action).shape == (7,)
    assert [m.out_features for m in actor.net if isinstance(m, torch.nn.Linear)] == [8, 8, 3]


def test_explore_adds_clipped_gaussian_noise_in_unit_space():
    rng = np.random.default_rng(0)
    samples = np.array([explore(np.array([0.0, 0.95]), 0.1, rng) for _ in range(4000)])
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    assert abs(samples[:, 0].std() - 0.1) < 0.01 and abs(samples[:, 0].mean()) < 0.01
    assert np.mean(samples[:, 1] == 1.0) == pytest.approx(0.31, abs=0.03)  # P(N > 0.5 std)
    assert np.array_equal(explore(np.array([0.3, -0.2]), 0.0, rng), [0.3, -0.2])


def test_random_unit_action_is_uniform_in_the_unit_box():
    rng = np.random.default_rng(0)
    samples = np.array([random_unit_action(3, rng) for _ in range(4000)])
    assert samples.shape == (4000, 3)
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    assert np.all(np.abs(samples.mean(axis=0)) < 0.05)
    assert np.all(np.abs(samples.std(axis=0) - 1 / np.sqrt(3)) < 0.02)


def test_policy_normalises_observations_and_stays_within_limits():
    torch.manual_seed(0)
    actor = Actor(2, 3, (8,))
    mean, std = np.array([10.0, -5.0]), np.array([2.0, 0.5])
    policy = Policy(actor, ActionScaler(LOW, HIGH), obs_mean=mean, obs_std=std)
    obs = np.array([12.0, -4.0])
    with torch.no_grad():
        expected_unit = actor(torch.tensor([[1.0, 2.0]])).numpy()[0]
    np.testing.assert_allclose(policy.unit_action(obs), expected_unit, rtol=1e-6)
    huge = np.random.default_rng(0).normal(scale=1e6, size=(100, 2))
    action = policy(huge)
    assert action.dtype == np.float64 and action.shape == (100, 3)
    assert np.all((LOW <= action) & (action <= HIGH))


@pytest.mark.parametrize('obs, message', [
    (np.zeros(3), 'shape'),
    (np.zeros((2, 2, 2)), 'shape'),
    (np.array([0.0, np.nan]), 'finite'),
])
def test_policy_rejects_bad_observations(obs, message):
    policy = Policy(Actor(2, 3, (8,)), ActionScaler(LOW, HIGH))
    with pytest.raises(ValueError, match=message):
        policy(obs)


def test_policy_rejects_inconsistent_parts():
    with pytest.raises(ValueError, match='actions'):
        Policy(Actor(2, 2, (8,)), ActionScaler(LOW, HIGH))
    with pytest.raises(ValueError, match='both'):
        Policy(Actor(2, 3, (8,)), ActionScaler(LOW, HIGH), obs_mean=np.zeros(2))
    with pytest.raises(ValueError, match='obs_std > 0'):
        Policy(Actor(2, 3, (8,)), ActionScaler(LOW, HIGH), np.zeros(2), np.array([1.0, 0.0]))

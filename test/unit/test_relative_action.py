"""
The relative position action (task files' ``position_action: relative``, issue 7).

The action moves the joint target, which starts at the measured position and is always clipped
to the command limits; the gymnasium env and the actor core map it the same way (step for step,
clipping included); bundles carry it and a deployment rebuilds it; absolute stays the default.
"""
import numpy as np
import pytest

from t3d_ros.acting.core import ActorCore, ActorSettings
from t3d_ros.envs import BulletRobot, TaskEnv
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import RobotState
from t3d_ros.tasks.seeds import episode_rngs
from t3d_ros.td3 import TD3, BundleMismatch, PolicyBundle, TD3Config

LOW, HIGH = np.array([-0.3, -1.0, -1.5]), np.array([1.5, 0.8, 0.9])  # the odd arm's commands


def relative(odd_arm, step=0.2, **changes):
    """Return the odd arm's task with a relative action (a large step: it reaches limits)."""
    return make_task(str(odd_arm('relative.yaml', position_action='relative',
                                 position_step=step, **changes)))


class ConstantPolicy:
    def __init__(self, unit):
        self.unit = np.asarray(unit, dtype=np.float64)

    def unit_action(self, obs):
        return self.unit


def test_relative_actions_are_target_changes_and_the_observation_carries_the_target(odd_arm):
    task = make_task(str(odd_arm(position_action='relative')))
    assert task.tracks_target and task.config.position_step == 0.05  # the default step
    np.testing.assert_array_equal(task.action_low, [-0.05] * 3)
    np.testing.assert_array_equal(task.action_high, [0.05] * 3)
    np.testing.assert_array_equal(task.command_low, LOW)
    np.testing.assert_array_equal(task.command_high, HIGH)
    assert task.obs_layout[-1] == ('joint_target', 3) and task.obs_dim == 18
    target = np.array([0.1, 0.2, 0.3])
    state = RobotState(np.zeros(3), np.zeros(3), np.array([0.25, 0.0, 0.2]), None, target)
    np.testing.assert_array_equal(task.observation(state)[-3:], target.astype(np.float32))
    # A zero action holds the target: no action penalty for it, only the distance.
    assert task.reward(state, np.zeros(3), state) == -task.goal_distance(state)
    # Absolute (the default): the action is the command, no target.
    absolute = make_task(str(odd_arm()))
    assert not absolute.tracks_target and absolute.config.spec.position_action == 'absolute'
    np.testing.assert_array_equal(absolute.action_low, absolute.command_low)
    assert absolute.obs_dim == 15 and absolute.initial_target(np.zeros(3)) is None


def test_the_command_is_the_target_moved_by_the_clipped_action_within_the_command_limits(
        odd_arm):
    task = relative(odd_arm)
    target = np.array([1.4, 0.0, -1.4])
    # Joint 0 stops at its upper limit, joint 1's action is clipped to the step, joint 2
    # stops at its lower limit.
    np.testing.assert_array_equal(task.command(np.array([0.15, 0.5, -0.3]), target),
                                  [1.5, 0.2, -1.5])
    np.testing.assert_array_equal(task.command(np.zeros(3), target), target)
    # The target starts at the measured position, within the command limits.
    np.testing.assert_array_equal(task.initial_target(np.array([2.0, 0.1, -2.0])),
                                  [1.5, 0.1, -1.5])


def test_env_and_actor_core_map_and_clip_relative_actions_identically(odd_arm):
    """The direct trainer's loop (robot + actor core) against the env, on the core's actions."""
    task, seed = relative(odd_arm, step=0.6), 3
    env = TaskEnv(task)
    robot = BulletRobot.for_task(task)
    state_rng, _ = episode_rngs(seed)
    core = ActorCore(task, ActorSettings(start_steps=10**9), seed)
    try:
        env_obs, _ = env.reset(seed=seed)
        robot.reset(*task.sample_initial_state(state_rng))
        core.begin_episode()
        state, obs, _ = core.observe(*robot.joint_state()[:2])
        np.testing.assert_array_equal(obs, env_obs)
        np.testing.assert_array_equal(state.target, np.clip(state.position, LOW, HIGH))
        at_limits = 0
        for i in range(task.max_episode_steps):
            command = core.choose(obs, None)
            robot.step(command)
            core.sent(state, obs, command)
            previous_target = state.target
            state, obs, transition = core.observe(*robot.joint_state()[:2])
            assert np.all(np.abs(transition.action) <= task.action_high)
            np.testing.assert_array_equal(
                command, np.clip(previous_target + transition.action, LOW, HIGH))
            np.testing.assert_array_equal(state.target, command)
            env_obs, reward, _, truncated, _ = env.step(transition.action)
            np.testing.assert_array_equal(obs, env_obs, err_msg=f'step {i}')
            assert transition.reward == reward and transition.truncated == truncated
            at_limits += np.any((command == LOW) | (command == HIGH))
        assert at_limits > 0, 'the episode never reached a command limit'
        assert transition.truncated
    finally:
        env.close()
        robot.close()


def test_a_safe_command_restarts_the_target_at_the_measured_position(odd_arm):
    task = relative(odd_arm)
    core = ActorCore(task, training=False)
    core.begin_episode()
    policy = ConstantPolicy([1.0, -1.0, 1.0])
    state, obs, _ = core.observe(np.array([0.1, 0.2, 0.3]), np.zeros(3))
    for _ in range(2):  # the target accumulates the policy's changes
        core.sent(state, obs, core.choose(obs, policy))
        state, obs, _ = core.observe(np.array([0.1, 0.2, 0.3]), np.zeros(3))
    np.testing.assert_allclose(state.target, [0.5, -0.2, 0.7])
    core.held()  # the actor held the measured position (e_stop, watchdog)
    state, obs, _ = core.observe(np.array([0.0, -0.5, 0.4]), np.zeros(3))
    np.testing.assert_array_equal(state.target, [0.0, -0.5, 0.4])
    np.testing.assert_allclose(core.choose(obs, policy), [0.2, -0.7, 0.6])


def test_a_bundle_carries_the_relative_action_and_only_matches_its_own_task(
        odd_arm, tmp_path):
    task = relative(odd_arm, step=0.1)
    agent = TD3(task.obs_dim, task.action_low, task.action_high, TD3Config(hidden_sizes=(8,)))
    bundle = PolicyBundle.from_bytes(PolicyBundle.from_agent(agent, task, 1).to_bytes())
    assert bundle.interface == 'position'
    np.testing.assert_array_equal(bundle.action_high, [0.1] * 3)
    (tmp_path / 'relative.yaml').unlink()  # another machine: the bundle alone
    rebuilt = bundle.make_task()
    bundle.check_matches(rebuilt)
    assert rebuilt.tracks_target and rebuilt.config.position_step == 0.1
    np.testing.assert_array_equal(rebuilt.command_high, HIGH)
    with pytest.raises(BundleMismatch, match='observation layout'):
        bundle.check_matches(make_task(str(odd_arm())))  # the same arm, absolute targets

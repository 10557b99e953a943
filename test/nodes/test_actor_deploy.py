"""
The deploy-mode actor against a fake ros2_control robot (architecture: Safety).

The fake robot publishes ``joint_states`` with its joints shuffled and one joint the policy
does not use, and listens on the forward command controller topic, whose ``joints`` are in
the reverse of the task's order. The actor (deploy mode, a policy bundle saved from a seeded
TD3) must answer in the controller's joint order with the policy's output for the known state,
inside the per-joint limits, at the configured rate (``trigger: timer``) or once per state
(``trigger: state``); tightened limits and the rate limit hold; a state missing a joint never
reaches the policy.
"""
import time

import numpy as np
import pytest
import torch
from geometry_msgs.msg import PointStamped
from std_msgs.msg import UInt8MultiArray

from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import RobotState
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TASK = make_task('reacher')  # 2 joints, asymmetric limits: shoulder 1.0 N m, elbow 0.3 N m
CONTROLLER_JOINTS = ['elbow_joint', 'shoulder_joint']  # the controller's order: reversed
TO_CONTROLLER = np.array([1, 0])  # task order -> controller order
PUBLISHED_JOINTS = ['elbow_joint', 'gripper_joint', 'shoulder_joint']  # shuffled, one extra
GOAL = np.array([0.12, -0.05, 0.01])
NS = 'arm'


def save_bundle(path, seed=3, saturate=None):
    """
    Return a bundle from a seeded TD3's actor.

    ``saturate`` (unit bias per joint) makes the actor constant, tanh(bias), to drive the commands
    to their limits.
    """
    agent = TD3(TASK.obs_dim, TASK.action_low, TASK.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=seed))
    if saturate is not None:
        with torch.no_grad():
            agent.actor.net[-1].weight.zero_()
            agent.actor.net[-1].bias.copy_(torch.tensor(saturate, dtype=torch.float32))
    bundle = PolicyBundle.from_agent(agent, TASK, policy_version=1)
    bundle.save(path)
    return bundle


def expected_command(bundle, position, velocity, low=TASK.action_low, high=TASK.action_high):
    """Return the policy's command for a state, clamped, in the controller's joint order."""
    obs = TASK.observation(RobotState(np.asarray(position), np.asarray(velocity), GOAL))
    return np.clip(NumpyPolicy.from_bundle(bundle)(obs), low, high)[TO_CONTROLLER]


class FakeRobot(FakeRobotBase):
    """A ros2_control robot stand-in: joint_states out, forward commands in."""

    def __init__(self, ros, names=PUBLISHED_JOINTS):
        super().__init__(ros, NS, TASK)
        self.ros, self.names = ros, list(names)
        self.goal_pub = self.node.create_publisher(PointStamped, 'goal', messages.LATCHED_QOS)
        self.position, self.velocity = np.array([0.3, -0.4]), np.array([0.1, 0.2])
        self.published = 0

    def publish_goal(self, goal=GOAL):
        self.goal_pub.publish(messages.goal_msg(goal, 0))

    def publish_state(self, position=None, velocity=None, names=None):
        """Publish (task-ordered) position/velocity under this robot's joint names."""
        position = self.position if position is None else np.asarray(position, float)
        velocity = self.velocity if velocity is None else np.asarray(velocity, float)
        names = self.names if names is None else list(names)
        by_name = {'shoulder_joint': 0, 'elbow_joint': 1}
        pos = [position[by_name[n]] if n in by_name else 7.0 for n in names]
        vel = [velocity[by_name[n]] if n in by_name else -7.0 for n in names]
        self.stamp_ns += 10_000_000
        self.state_pub.publish(messages.joint_state_msg(names, pos, vel, np.zeros(len(names)),
                                                        self.stamp_ns))
        self.published += 1


def start_actor(ros, bundle_path, **params):
    defaults = dict(task='reacher', mode='deploy', policy_file=str(bundle_path),
                    joint_order=CONTROLLER_JOINTS, autostart=True)
    return ros.start(ActorNode, NS, **{**defaults, **params})


@pytest.mark.parametrize('saturate', [None, [20.0, -20.0]], ids=['seeded', 'saturated'])
def test_timer_trigger_commands_in_controller_order_within_limits_at_the_control_rate(
        ros, tmp_path, saturate):
    bundle = save_bundle(tmp_path / 'policy.safetensors', saturate=saturate)
    robot = FakeRobot(ros)
    robot.publish_goal()
    rate_hz = 20.0
    start_actor(ros, tmp_path / 'policy.safetensors', trigger='timer', control_rate_hz=rate_hz,
                state_timeout=0.5)
    robot.stream(50.0)  # states 2.5x faster than the control rate: the timer sets the pace
    expected = expected_command(bundle, robot.position, robot.velocity)
    if saturate is not None:  # the actor saturates at the asymmetric limits exactly
        np.testing.assert_array_equal(expected, [-0.3, 1.0])

    def policy_commands():
        return sum(np.array_equal(c, expected) for c in robot.values())

    assert ros.spin_until(lambda: policy_commands() >= 3, timeout=20), robot.values()[-5:]
    first, start = len(robot.commands), time.monotonic()
    ros.spin_for(2.0)
    window = robot.commands[first:]
    rate = len(window) / (time.monotonic() - start)
    print(f'\ntimer trigger: {rate:.1f} commands/s for control_rate_hz {rate_hz} '
          f'(states at 50 Hz)')
    assert 0.5 * rate_hz <= rate <= 1.2 * rate_hz
    for _, command in window:  # the state is constant: every command is the policy's for it
        np.testing.assert_array_equal(command, expected)
        assert command.shape == (2,)
        assert abs(command[0]) <= 0.3 and abs(command[1]) <= 1.0  # elbow, shoulder limits
    robot.stop()


def test_state_trigger_sends_one_command_per_new_state(ros, tmp_path):
    bundle = save_bundle(tmp_path / 'policy.safetensors')
    robot = FakeRobot(ros)
    robot.publish_goal()
    actor = start_actor(ros, tmp_path / 'policy.safetensors', trigger='state',
                        state_timeout=0.0)
    assert ros.spin_until(lambda: actor.core.goal is not None, timeout=10)
    rng = np.random.default_rng(5)
    states = [(rng.uniform(-2, 2, 2), rng.uniform(-3, 3, 2)) for _ in range(25)]
    # Discovery: the first state may be missed by a late subscription; resend it until heard.
    deadline = time.monotonic() + 20
    while not robot.commands and time.monotonic() < deadline:
        robot.publish_state(*states[0])
        ros.spin_until(lambda: bool(robot.commands), timeout=0.2)
    assert len(robot.commands) == 1
    for i, (position, velocity) in enumerate(states[1:], start=2):
        robot.publish_state(position, velocity)
        assert ros.spin_until(lambda: len(robot.commands) >= i, timeout=10)
    # A burst, without waiting: still one command each, in order.
    burst = [(rng.uniform(-2, 2, 2), rng.uniform(-3, 3, 2)) for _ in range(5)]
    for position, velocity in burst:
        robot.publish_state(position, velocity)
    total = len(states) + len(burst)
    assert ros.spin_until(lambda: len(robot.commands) >= total, timeout=10)
    ros.spin_for(0.3)
    assert len(robot.commands) == total
    for (position, velocity), command in zip(states + burst, robot.values()):
        np.testing.assert_array_equal(command, expected_command(bundle, position, velocity))
    # The same state again (same stamp: a republished message) is not acted on twice.
    robot.stamp_ns -= 10_000_000
    robot.publish_state(*burst[-1])
    ros.spin_for(0.3)
    assert len(robot.commands) == total


def test_command_limits_tighten_and_max_delta_limits_every_change(ros, tmp_path):
    save_bundle(tmp_path / 'policy.safetensors', saturate=[20.0, -20.0])  # wants [1.0, -0.3]
    robot = FakeRobot(ros)
    robot.publish_goal()
    max_delta = 0.05
    # command_low/high are in the task's joint order (shoulder, elbow), like the bundle's.
    robot.stream(50.0)
    # No watchdog: no safe command before the first state, so the first command is the
    # policy's, and it must still be rate limited (from rest).
    start_actor(ros, tmp_path / 'policy.safetensors', trigger='state', state_timeout=0.0,
                max_delta=max_delta, command_low=[-0.5, -0.1], command_high=[0.5, 0.1])
    steady = np.array([-0.1, 0.5])  # controller order: elbow at -0.1, shoulder at 0.5
    assert ros.spin_until(
        lambda: robot.commands and np.array_equal(robot.commands[-1][1], steady), timeout=20)
    ros.spin_for(0.2)
    robot.stop()
    values = np.array(robot.values())
    assert np.all(values[:, 0] >= -0.1) and np.all(values[:, 0] <= 0.1)
    assert np.all(values[:, 1] >= -0.5) and np.all(values[:, 1] <= 0.5)
    # Every change, the first one from rest (zero effort) included, is at most max_delta.
    steps = np.abs(np.diff(np.vstack([np.zeros(2), values]), axis=0))
    assert np.all(steps <= max_delta + 1e-12), steps.max(axis=0)
    moving = np.flatnonzero(np.any(values != 0, axis=1))
    assert np.any(values[moving[0]] != 0) and np.max(np.abs(values[moving[0]])) <= max_delta
    # The shoulder needs 0.5 / 0.05 = 10 ticks to ramp up.
    assert np.flatnonzero(np.all(values == steady, axis=1))[0] - moving[0] >= 9


def test_a_state_missing_a_joint_never_reaches_the_policy_and_is_counted(ros, tmp_path):
    bundle = save_bundle(tmp_path / 'policy.safetensors')
    robot = FakeRobot(ros)
    robot.publish_goal()
    actor = start_actor(ros, tmp_path / 'policy.safetensors', trigger='timer',
                        control_rate_hz=20.0, state_timeout=0.15)
    robot.stream(50.0, names=['elbow_joint', 'gripper_joint'])  # no shoulder_joint
    assert ros.spin_until(lambda: robot.published >= 30 and len(robot.commands) >= 10,
                          timeout=20)

    def dropped():
        return int(robot.actor_diagnostics().get('dropped_input_missing_joints', 0))

    assert ros.spin_until(lambda: dropped() >= 10, timeout=10), robot.actor_diagnostics()
    # Other bad states in between (logged at another severity) are counted too, no crash.
    robot.publish_state(position=[np.nan, 0.0], names=CONTROLLER_JOINTS)
    assert ros.spin_until(lambda: int(robot.actor_diagnostics().get(
        'dropped_input_not_finite', 0)) == 1, timeout=10), robot.actor_diagnostics()
    values = np.array(robot.values())
    assert np.all(values == 0.0), 'only safe (zero effort) commands without a full state'
    assert actor.robot_state.latest is None and actor.robot_state.stale
    diagnostics = robot.actor_diagnostics()
    assert int(diagnostics['watchdog_trips']) >= 1 and diagnostics['stale_state'] == 'True'
    assert int(diagnostics['safe_commands']) >= 10 and int(diagnostics['commands']) == 0
    # A full state again: the policy commands resume.
    robot.stream(50.0)
    expected = expected_command(bundle, robot.position, robot.velocity)
    assert ros.spin_until(lambda: np.array_equal(robot.commands[-1][1], expected), timeout=10)
    # And the joint missing again: after the watchdog's timeout only safe commands.
    robot.stream(50.0, names=['shoulder_joint'])
    ros.spin_for(0.15 + 0.05 + 0.3)
    mark = len(robot.commands)
    ros.spin_for(0.5)
    robot.stop()
    assert len(robot.commands) > mark and np.all(np.array(robot.values(mark)) == 0.0)


def test_deploy_mode_takes_its_weights_only_from_the_policy_file(ros, tmp_path):
    """A learner (or anyone) publishing on /t3d/policy must not swap a deployed policy."""
    bundle = save_bundle(tmp_path / 'policy.safetensors')
    other = save_bundle(tmp_path / 'other.safetensors', seed=11)
    robot = FakeRobot(ros)
    robot.publish_goal()
    policy_pub = robot.node.create_publisher(UInt8MultiArray, '/t3d/policy', messages.LATCHED_QOS)
    policy_pub.publish(messages.policy_msg(other))  # latched: there before the actor starts
    actor = start_actor(ros, tmp_path / 'policy.safetensors', trigger='state', state_timeout=0.0)
    assert ros.spin_until(lambda: actor.core.goal is not None, timeout=10)  # else: safe commands
    robot.stream(50.0)
    expected = expected_command(bundle, robot.position, robot.velocity)
    assert not np.array_equal(expected, expected_command(other, robot.position, robot.velocity))
    assert ros.spin_until(lambda: len(robot.commands) >= 20, timeout=20)
    policy_pub.publish(messages.policy_msg(other))
    ros.spin_for(0.5)
    robot.stop()
    for command in robot.values():
        np.testing.assert_array_equal(command, expected)
    assert actor.policy_version == 1 and actor.counters['policy_updates'] == 1

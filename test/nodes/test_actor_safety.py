"""
The actor's safety behaviour (docs/architecture.md, "Safety").

Watchdog, e_stop, no policy, bad policy bytes, and the state-to-command latency it reports.

Node tests use the pendulum (effort interface, one joint, +-2 N m); the position interface,
which no task uses, is checked on the safety layer itself.
"""
import time

import numpy as np
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from std_msgs.msg import Bool, Float32MultiArray, UInt8MultiArray
from std_srvs.srv import Trigger

from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.acting.safety import CommandSafety
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import ControlInterface, RobotState
from t3d_ros.tasks.seeds import SeedStream, stream_rng
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.acting.exploration import random_unit_action
from t3d_ros.tasks.scaling import ActionScaler
from t3d_ros.td3.td3 import TD3

TASK = make_task('pendulum')
NS = 'robot'
POSITION, VELOCITY = np.array([2.5]), np.array([-0.7])


def make_bundle(task=TASK, seed=3, hidden=(32, 32), version=1):
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=hidden, seed=seed))
    return PolicyBundle.from_agent(agent, task, policy_version=version)


def policy_command(bundle, position=POSITION, velocity=VELOCITY):
    return NumpyPolicy.from_bundle(bundle)(TASK.observation(RobotState(position, velocity)))


def lifecycle_state(node) -> str:
    return node._state_machine.current_state[1]  # what ~/get_state answers


class FakeRobot(FakeRobotBase):
    """joint_states out (a timer streams a constant state), commands in, e_stop, reset."""

    def __init__(self, ros, reset_service=False, learner=True):
        super().__init__(ros, NS, TASK)
        # e_stop is transient local: an actor that starts later still hears the latest value.
        self.e_stop_pub = self.node.create_publisher(Bool, 'e_stop', messages.LATCHED_QOS)
        self.policy_pub = self.node.create_publisher(UInt8MultiArray, '/t3d/policy',
                                                     messages.LATCHED_QOS)
        self.resets = 0
        if reset_service:  # a sim for a training actor
            self.serve_reset()
        if reset_service and learner:  # a learner stand-in listening
            self.node.create_subscription(Float32MultiArray, '/t3d/transitions',
                                          lambda msg: None, messages.TRANSITIONS_QOS)
        self.last_publish = None
        self.episode_stamp_ns = None  # what the reset reply names, if anything (as our sim)

    def serve_reset(self):
        self.node.create_service(Trigger, 'reset', self._on_reset)

    def _on_reset(self, request, response):
        self.resets += 1
        response.success = True
        if self.episode_stamp_ns is not None:
            response.message = messages.reset_reply(self.resets, self.episode_stamp_ns)
        return response

    def publish_state(self, position=POSITION, velocity=VELOCITY):
        self.stamp_ns += 10_000_000
        self.last_publish = time.monotonic()
        self.state_pub.publish(messages.joint_state_msg(TASK.joint_names, position, velocity,
                                                        [0.0], self.stamp_ns))


def start_deploy_actor(ros, tmp_path, bundle=None, **params):
    path = tmp_path / 'policy.safetensors'
    (bundle or make_bundle()).save(path)
    defaults = dict(task='pendulum', mode='deploy', policy_file=str(path), trigger='state',
                    autostart=True)
    return ros.start(ActorNode, NS, **{**defaults, **params})


def start_train_actor(ros, **params):
    defaults = dict(task='pendulum', mode='train', seed=4, start_steps=0,
                    exploration_noise=0.0, state_timeout=0.0, autostart=True)
    return ros.start(ActorNode, NS, **{**defaults, **params})


def first_index(commands, predicate, since=0):
    return next((i for i in range(since, len(commands)) if predicate(commands[i][1])), None)


# --- watchdog ---------------------------------------------------------------------------

def test_watchdog_sends_zero_effort_within_timeout_plus_a_period_and_resumes(ros, tmp_path):
    bundle = make_bundle()
    expected = policy_command(bundle)
    assert np.all(expected != 0.0)
    rate_hz, timeout = 50.0, 0.1
    robot = FakeRobot(ros)
    actor = start_deploy_actor(ros, tmp_path, bundle, control_rate_hz=rate_hz,
                               state_timeout=timeout)
    robot.stream(rate_hz)
    assert ros.spin_until(lambda: sum(np.array_equal(c, expected) for c in robot.values()) >= 10,
                          timeout=20)
    trips = actor.counters['watchdog_trips']
    reactions = []
    for cycle in range(3):
        robot.stop()
        last_state = robot.last_publish
        mark = len(robot.commands)
        assert ros.spin_until(
            lambda: first_index(robot.commands, lambda c: np.all(c == 0.0), mark) is not None,
            timeout=10)
        first_zero = first_index(robot.commands, lambda c: np.all(c == 0.0), mark)
        reactions.append(robot.commands[first_zero][0] - last_state)
        ros.spin_for(0.3)  # still stale: a zero command every period, nothing else
        stale_commands = robot.values(first_zero)
        assert len(stale_commands) >= 5 and np.all(np.array(stale_commands) == 0.0)
        assert actor.robot_state.stale
        for command in robot.values(mark)[:first_zero - mark]:  # before it: the policy's
            np.testing.assert_array_equal(command, expected)
        robot.stream(rate_hz)
        resumed = len(robot.commands)
        assert ros.spin_until(lambda: first_index(robot.commands, lambda c: np.array_equal(
            c, expected), resumed) is not None, timeout=10)
        assert not actor.robot_state.stale
    robot.stop()
    print(f'\nwatchdog reaction (last state sent -> first zero command received), '
          f'state_timeout {timeout * 1e3:.0f} ms, period {1e3 / rate_hz:.0f} ms: '
          + ', '.join(f'{r * 1e3:.1f} ms' for r in reactions))
    assert actor.counters['watchdog_trips'] == trips + 3
    for reaction in reactions:
        # Never before the timeout; within timeout + one period, plus slack for a loaded CI
        # machine (2 shared cores; the printed numbers are what to read).
        assert timeout - 1e-3 <= reaction <= timeout + 1.0 / rate_hz + 0.3


def test_position_interface_safe_command_holds_and_first_command_ramps_from_measured():
    low, high = np.array([-1.0, -2.0]), np.array([1.0, 2.0])
    safety = CommandSafety(ControlInterface.POSITION, low, high, max_delta=0.1)
    assert safety.safe_command(None) is None  # nothing known: publish nothing
    # The first command moves from where the joints are, by at most max_delta.
    np.testing.assert_allclose(safety.limit([0.9, -1.5], measured_position=[0.2, -1.0]),
                               [0.3, -1.1])
    np.testing.assert_allclose(safety.limit([0.9, -1.5]), [0.4, -1.2])
    # Stale state / e_stop: hold the measured position, else the last command.
    np.testing.assert_array_equal(safety.safe_command([0.35, -1.25]), [0.35, -1.25])
    np.testing.assert_array_equal(safety.safe_command(None), [0.35, -1.25])
    np.testing.assert_array_equal(safety.safe_command([np.nan, 0.0]), [0.35, -1.25])
    # A hold outside the limits is clamped; a NaN command holds the last one.
    np.testing.assert_array_equal(safety.safe_command([5.0, -5.0]), [1.0, -2.0])
    np.testing.assert_array_equal(safety.limit([np.nan, np.inf]), [1.0, -2.0])
    # Effort: the first command ramps from zero, the safe one is zero at once.
    effort = CommandSafety(ControlInterface.EFFORT, low, high, max_delta=0.1)
    np.testing.assert_allclose(effort.limit([0.9, -1.5], measured_position=[0.5, 0.5]),
                               [0.1, -0.1])
    np.testing.assert_array_equal(effort.safe_command([0.3, 0.3]), [0.0, 0.0])


@pytest.mark.parametrize('bad', [dict(tighter_low=[0.0]), dict(tighter_high=[1.0, 1.0, 1.0])])
def test_command_limits_need_one_value_per_joint(bad):
    with pytest.raises(ValueError, match='one value per joint'):
        CommandSafety.tightened(ControlInterface.EFFORT, [-1.0, -1.0], [1.0, 1.0], **bad)


# --- e_stop -----------------------------------------------------------------------------

def test_e_stop_sends_only_safe_commands_until_released(ros, tmp_path):
    bundle = make_bundle()
    expected = policy_command(bundle)
    robot = FakeRobot(ros)
    robot.e_stop_pub.publish(Bool(data=True))  # engaged before the actor starts (latched)
    actor = start_deploy_actor(ros, tmp_path, bundle, state_timeout=0.5)
    assert ros.spin_until(lambda: actor.e_stop_gate.engaged, timeout=10)
    robot.stream()
    assert ros.spin_until(lambda: len(robot.commands) >= 25, timeout=20)
    assert np.all(np.array(robot.values()) == 0.0), 'e_stop engaged: zero effort only'
    assert actor.counters['commands'] == 0
    for cycle in range(2):
        robot.e_stop_pub.publish(Bool(data=False))
        mark = len(robot.commands)
        assert ros.spin_until(lambda: first_index(robot.commands, lambda c: np.array_equal(
            c, expected), mark) is not None, timeout=10)
        robot.e_stop_pub.publish(Bool(data=True))
        mark = len(robot.commands)
        assert ros.spin_until(lambda: first_index(robot.commands, lambda c: np.all(c == 0.0),
                                                  mark) is not None, timeout=10)
        first_zero = first_index(robot.commands, lambda c: np.all(c == 0.0), mark)
        ros.spin_for(0.4)
        engaged = robot.values(first_zero)
        assert len(engaged) >= 5 and np.all(np.array(engaged) == 0.0)
    robot.stop()
    assert ros.spin_until(lambda: robot.actor_diagnostics().get('e_stop') == 'True', timeout=5)


def test_e_stop_before_the_first_state_then_no_policy_command_at_all(ros, tmp_path):
    """The latched e_stop reaches an actor that starts after it, before any command."""
    robot = FakeRobot(ros)
    robot.e_stop_pub.publish(Bool(data=True))
    robot.stream(100.0)  # states already flowing when the actor starts
    start_deploy_actor(ros, tmp_path, state_timeout=0.5)
    assert ros.spin_until(lambda: len(robot.commands) >= 30, timeout=20)
    robot.stop()
    assert np.all(np.array(robot.values()) == 0.0)


# --- no policy --------------------------------------------------------------------------

def test_train_mode_without_a_policy_only_explores_then_uses_the_first_policy(ros):
    robot = FakeRobot(ros, reset_service=True)
    seed = 4
    actor = start_train_actor(ros, seed=seed)
    robot.stream()
    assert ros.spin_until(lambda: len(robot.commands) >= 20, timeout=20)
    # Without a policy: exactly the seeded uniform random actions, never a policy command.
    rng = stream_rng(seed, SeedStream.EXPLORATION)
    scaler = ActionScaler(TASK.action_low, TASK.action_high)
    for command in robot.values():
        np.testing.assert_array_equal(command, scaler.from_unit(random_unit_action(1, rng)))
    assert actor.policy is None and actor.policy_version == -1
    assert ros.spin_until(lambda: robot.actor_diagnostics().get('policy_version') == '-1',
                          timeout=5)
    bundle = make_bundle()
    robot.policy_pub.publish(messages.policy_msg(bundle))
    expected = policy_command(bundle)
    assert ros.spin_until(lambda: np.array_equal(robot.commands[-1][1], expected), timeout=10)
    robot.stop()
    assert actor.policy_version == 1


def test_deploy_without_a_policy_file_fails_to_configure_and_never_commands(ros):
    robot = FakeRobot(ros)
    robot.stream()
    with pytest.raises(ValueError, match='autostart: configure failed: deploy mode needs a '
                       'policy_file'):  # run_node prints it and the process exits 1
        ros.start(ActorNode, NS, task='pendulum', mode='deploy', autostart=True)
    manual = ros.start(ActorNode, 'other', task='pendulum', mode='deploy', autostart=False)
    assert manual.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert lifecycle_state(manual) == 'unconfigured'
    assert manual.trigger_activate() == TransitionCallbackReturn.ERROR  # not from unconfigured
    ros.spin_for(1.0)
    robot.stop()
    assert robot.commands == []


# --- bad policy bytes -------------------------------------------------------------------

def test_bad_policy_bytes_are_dropped_counted_and_the_previous_policy_stays(ros):
    robot = FakeRobot(ros, reset_service=True)
    actor = start_train_actor(ros, max_policy_bytes=100_000)
    good = make_bundle(seed=3, version=1)
    expected = policy_command(good)
    robot.policy_pub.publish(messages.policy_msg(good))
    robot.stream()
    assert ros.spin_until(
        lambda: robot.commands and np.array_equal(robot.commands[-1][1], expected), timeout=20)
    data = good.to_bytes()
    big = make_bundle(hidden=(256, 256), version=2).to_bytes()  # valid, but too large
    assert len(data) < 100_000 < len(big)
    bad = {
        'garbage': np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes(),
        'empty': b'',
        'truncated': data[:len(data) // 2],
        'tampered': data[:-1] + bytes([data[-1] ^ 0xFF]),
        'oversized': big,
        'other_task': make_bundle(make_task('reacher'), version=3).to_bytes(),
    }
    mark = len(robot.commands)
    for count, (kind, payload) in enumerate(bad.items(), start=1):
        msg = UInt8MultiArray()
        msg.data = payload
        robot.policy_pub.publish(msg)
        assert ros.spin_until(
            lambda: actor.drops.counts().get('dropped_input_policy', 0) == count,
            timeout=10), f'{kind} not dropped'
        assert actor.policy_version == 1, kind
    ros.spin_for(0.3)
    after = robot.values(mark)
    assert len(after) >= 10
    for command in after:  # the same state, the same (previous) policy
        np.testing.assert_array_equal(command, expected)
    assert ros.spin_until(lambda: robot.actor_diagnostics().get('dropped_input_policy') == '6',
                          timeout=5)
    assert robot.actor_diagnostics()['policy_version'] == '1'
    # The channel still works: a good bundle is taken.
    newer = make_bundle(seed=8, version=4)
    robot.policy_pub.publish(messages.policy_msg(newer))
    assert ros.spin_until(lambda: np.array_equal(robot.commands[-1][1], policy_command(newer)),
                          timeout=10)
    robot.stop()
    assert actor.policy_version == 4


# --- latency ----------------------------------------------------------------------------

def test_state_to_command_latency_percentiles_are_in_diagnostics(ros, tmp_path):
    robot = FakeRobot(ros)
    start_deploy_actor(ros, tmp_path, trigger='state', state_timeout=0.5)
    robot.stream(100.0)
    assert ros.spin_until(lambda: len(robot.commands) >= 100 and 'state_to_command_p99_ms'
                          in robot.actor_diagnostics(), timeout=20)
    robot.stop()
    diagnostics = robot.actor_diagnostics()
    p50 = float(diagnostics['state_to_command_p50_ms'])
    p99 = float(diagnostics['state_to_command_p99_ms'])
    print(f'\nactor state-to-command latency (deploy, trigger state, in-process fake robot at '
          f'100 Hz): p50 {p50:.3f} ms, p99 {p99:.3f} ms')
    assert 0.0 < p50 <= p99 < 1000.0


# --- training flow ----------------------------------------------------------------------

def test_a_training_actor_takes_its_start_steps_before_a_learner_listens_losing_none(ros):
    """
    Take the random start steps before a learner listens, and hand all their messages over.

    They need no policy: the actor takes them while the learner still starts, holds their
    messages, sends every one in order once a learner listens, and past ``start_steps`` waits
    for one (a learner that starts slower costs neither data nor time).
    """
    robot = FakeRobot(ros, reset_service=True, learner=False)
    actor = start_train_actor(ros, start_steps=40, transitions_per_message=8)
    robot.stream()
    assert ros.spin_until(lambda: robot.resets >= 1 and len(robot.commands) >= 40, timeout=20)
    ros.spin_for(1.0)
    waited = len(robot.commands)
    assert waited <= 41 and actor.sender.waiting  # no more than start_steps without a learner
    ros.spin_for(0.5)
    assert len(robot.commands) == waited
    codec = messages.TransitionCodec(TASK.obs_dim, TASK.num_joints)
    received = []
    learner = ros.plain_node('learner_stand_in')
    learner.create_subscription(Float32MultiArray, '/t3d/transitions',
                                lambda msg: received.append(codec.decode(msg)[0]),
                                messages.TRANSITIONS_QOS)
    assert ros.spin_until(lambda: len(robot.commands) >= waited + 20 and len(received) >= 6,
                          timeout=10)
    robot.stop()
    assert [batch.seq for batch in received] == list(range(len(received)))
    assert sum(len(batch.reward) for batch in received[:5]) == 40  # the held steps, all of them
    assert not actor.sender.waiting and actor.counters['flow_waits'] == 0


def test_after_a_reset_the_actor_acts_only_on_a_state_received_after_its_request(ros):
    """
    Act on no state from before the reset request.

    Such a state is the old episode's, or a sim's first, which the sim publishes anew on a
    reset that keeps it: acting on it would send a command the sim applies before the
    episode's own first one, and a transition from that state to itself.
    """
    robot = FakeRobot(ros)  # its reset answers before any new state
    actor = start_train_actor(ros, start_steps=10)  # steps it may take with no learner
    robot.publish_state()
    assert ros.spin_until(lambda: actor.robot_state.latest is not None, timeout=10)
    robot.serve_reset()  # now the actor asks for its first episode
    assert ros.spin_until(lambda: robot.resets == 1 and not actor.reset.awaiting, timeout=10)
    ros.spin_for(0.5)
    assert robot.commands == []
    robot.publish_state()  # the new episode's first state
    assert ros.spin_until(lambda: len(robot.commands) == 1, timeout=10)


def test_the_episode_begins_on_the_state_the_reset_reply_names_not_an_older_copy(ros):
    """
    Start the episode on the state the sim's reset reply names.

    A sim that keeps an unstarted episode republishes its first state with a new stamp; a copy
    of it republished just before the reset can arrive after the reply. Acting on that copy
    sent a command the sim applied before the episode's own first one, and a transition from
    the state to itself (seen once in test_ros_path_equals_env under load).
    """
    robot = FakeRobot(ros)
    actor = start_train_actor(ros, start_steps=10)  # steps it may take with no learner
    robot.publish_state()
    assert ros.spin_until(lambda: actor.robot_state.latest is not None, timeout=10)
    robot.episode_stamp_ns = robot.stamp_ns + 20_000_000  # two states from now
    robot.serve_reset()  # now the actor asks for its first episode
    assert ros.spin_until(lambda: robot.resets == 1 and not actor.reset.awaiting, timeout=10)
    robot.publish_state()  # a copy of the kept state, still on its way when the reply came
    ros.spin_for(0.5)
    assert robot.commands == []
    robot.publish_state()  # the state the reply named
    assert ros.spin_until(lambda: len(robot.commands) == 1, timeout=10)
    ros.spin_for(0.3)
    assert len(robot.commands) == 1


def test_a_throttle_from_a_learner_that_is_gone_does_not_stop_the_actor(ros):
    robot = FakeRobot(ros, reset_service=True)
    learner = ros.plain_node('learner')
    throttle = learner.create_publisher(Bool, '/t3d/throttle', messages.LATCHED_QOS)
    actor = start_train_actor(ros)
    robot.stream()
    assert ros.spin_until(lambda: len(robot.commands) >= 5, timeout=10)
    throttle.publish(Bool(data=True))
    assert ros.spin_until(lambda: actor.sender.throttled, timeout=5)
    ros.spin_for(0.5)
    paused_at = len(robot.commands)
    ros.spin_for(1.0)
    assert len(robot.commands) == paused_at  # waits while the learner asks
    learner.destroy_publisher(throttle)  # the learner dies with the throttle on
    assert ros.spin_until(lambda: len(robot.commands) >= paused_at + 5, timeout=10)
    robot.stop()

"""
``e_stop`` and ``goal`` reach the actor from a publisher of any QoS (issue 8.1).

Reliable or best effort, volatile or transient local, depth 1 or 10, publishing before or after
the actor starts (architecture: Safety); a publisher the actor cannot hear on ``e_stop`` is an
error that keeps it in safe commands.

What a publisher sent before the actor's subscription matched it reaches the actor only from a
reliable, transient-local publisher (its latched value; a volatile sample goes only to the
subscriptions matched when it is sent, and Fast DDS sends no history to best-effort readers).
So an operator's e_stop publisher of another QoS that started first holds e_stop by
republishing, as ``ros2 topic pub`` does (at 1 Hz by default); a latched one publishes once.
"""
import time

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PointStamped
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, String

from rclpy_variants import IN_EVERY_EXECUTOR
from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import RobotState
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

NS = 'robot'
POSITION, VELOCITY = np.array([2.5]), np.array([-0.7])
TIMEOUT = 20.0
QOS = [(reliability, durability, depth)
       for reliability in (ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT)
       for durability in (DurabilityPolicy.VOLATILE, DurabilityPolicy.TRANSIENT_LOCAL)
       for depth in (1, 10)]


def qos_id(combination) -> str:
    reliability, durability, depth = combination
    return f'{reliability.name.lower()}-{durability.name.lower()}-depth{depth}'


class FakeRobot(FakeRobotBase):
    """joint_states out (a constant state), commands in; no e_stop publisher of its own."""

    def __init__(self, ros, task):
        super().__init__(ros, NS, task)
        self.task = task

    def publish_state(self):
        self.stamp_ns += 10_000_000
        joints = self.task.num_joints
        self.state_pub.publish(messages.joint_state_msg(
            self.task.joint_names, np.resize(POSITION, joints), np.resize(VELOCITY, joints),
            np.zeros(joints), self.stamp_ns))


def deploy_actor(ros, tmp_path, task_name='pendulum', **params):
    """Start a deployed actor of a fresh policy; return it and the policy's bundle."""
    task = make_task(task_name)
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=3))
    bundle = PolicyBundle.from_agent(agent, task, policy_version=1)
    bundle.save(tmp_path / 'policy.safetensors')
    actor = ros.start(ActorNode, NS, task=task_name, mode='deploy', trigger='state',
                      policy_file=str(tmp_path / 'policy.safetensors'), autostart=True,
                      state_timeout=0.5, **params)
    return actor, bundle


def policy_command(bundle, task):
    """Compute what the actor sends for the robot's constant state (numpy forward pass)."""
    return NumpyPolicy.from_bundle(bundle)(task.observation(RobotState(POSITION, VELOCITY)))


def is_zero(command) -> bool:
    return bool(np.all(command == 0.0))


def first_index(robot, predicate, since):
    return next((i for i in range(since, len(robot.commands))
                 if predicate(robot.commands[i][1])), None)


def wait_for(ros, robot, predicate, since):
    assert ros.spin_until(lambda: first_index(robot, predicate, since) is not None, TIMEOUT)
    return first_index(robot, predicate, since)


@IN_EVERY_EXECUTOR
@pytest.mark.parametrize('when', ['before', 'after'])
@pytest.mark.parametrize('combination', QOS, ids=qos_id)
def test_e_stop_from_any_publisher_qos_engages_and_releases(ros, tmp_path, combination, when):
    reliability, durability, depth = combination
    qos = QoSProfile(depth=depth, reliability=reliability, durability=durability)
    task = make_task('pendulum')
    robot = FakeRobot(ros, task)
    operator = ros.plain_node('operator', NS)
    held = {'value': True}
    publisher = None

    def press(value):
        held['value'] = value
        publisher.publish(Bool(data=value))

    if when == 'before':
        publisher = operator.create_publisher(Bool, 'e_stop', qos)
        press(True)
        latched = (reliability, durability) == (ReliabilityPolicy.RELIABLE,
                                                DurabilityPolicy.TRANSIENT_LOCAL)
        if not latched:  # holding it: republish (module docstring)
            operator.create_timer(0.5, lambda: publisher.publish(Bool(data=held['value'])))
        robot.stream(50.0)
        actor, bundle = deploy_actor(ros, tmp_path)
        expected = policy_command(bundle, task)
        assert not is_zero(expected)
        assert ros.spin_until(lambda: len(robot.commands) >= 40, TIMEOUT)
        assert actor.e_stop_gate.engaged
        assert all(is_zero(c) for c in robot.values()), 'engaged before start: safe only'
        assert actor.counters['commands'] == 0
    else:
        robot.stream(50.0)
        actor, bundle = deploy_actor(ros, tmp_path)
        expected = policy_command(bundle, task)
        wait_for(ros, robot, lambda c: np.array_equal(c, expected), 0)
        publisher = operator.create_publisher(Bool, 'e_stop', qos)
        assert ros.spin_until(lambda: publisher.get_subscription_count() >= 1, TIMEOUT)
        mark = len(robot.commands)
        press(True)
        first_zero = wait_for(ros, robot, is_zero, mark)
        ros.spin_for(0.4)
        assert actor.e_stop_gate.engaged
        assert len(robot.values(first_zero)) >= 5
        assert all(is_zero(c) for c in robot.values(first_zero)), 'engaged: safe only'
    # Released: the policy commands again; engaged again: safe commands only.
    mark = len(robot.commands)
    press(False)
    wait_for(ros, robot, lambda c: np.array_equal(c, expected), mark)
    assert not actor.e_stop_gate.engaged
    mark = len(robot.commands)
    press(True)
    first_zero = wait_for(ros, robot, is_zero, mark)
    ros.spin_for(0.4)
    assert all(is_zero(c) for c in robot.values(first_zero))
    robot.stop()


@IN_EVERY_EXECUTOR
def test_one_e_stop_true_from_a_second_publisher_of_another_qos_stops_commanding(ros, tmp_path):
    """
    Engage e_stop on a single ``true`` from a second publisher after four from a first one.

    The second publisher's message has a lower sequence number (1) than the first one's last
    (4): it is another publisher's, never an old message of the first, also where rclpy gives
    no publisher gid (Jazzy: there it was dropped as one, and the policy kept commanding).
    """
    task = make_task('pendulum')
    robot = FakeRobot(ros, task)
    robot.stream(50.0)
    actor, bundle = deploy_actor(ros, tmp_path)
    expected = policy_command(bundle, task)
    wait_for(ros, robot, lambda c: np.array_equal(c, expected), 0)
    console = ros.plain_node('console', NS).create_publisher(Bool, 'e_stop', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL))
    button = ros.plain_node('button', NS).create_publisher(Bool, 'e_stop', QoSProfile(
        depth=10, reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE))
    assert ros.spin_until(lambda: console.get_subscription_count() >= 1
                          and button.get_subscription_count() >= 1, TIMEOUT)
    for value in (True, False, True, False):  # sequence numbers 1 to 4, each taken
        mark = len(robot.commands)
        console.publish(Bool(data=value))
        wait_for(ros, robot, is_zero if value else lambda c: np.array_equal(c, expected), mark)
    assert not actor.e_stop_gate.engaged
    mark = len(robot.commands)
    button.publish(Bool(data=True))  # its sequence number 1
    first_zero = wait_for(ros, robot, is_zero, mark)
    ros.spin_for(0.4)
    assert actor.e_stop_gate.engaged
    assert all(is_zero(c) for c in robot.values(first_zero)), 'engaged: safe only'
    robot.stop()


@pytest.fixture
def other_participant():
    """Make nodes in another ROS context (another DDS participant), as another process."""
    context = rclpy.Context()
    rclpy.init(context=context)
    nodes = []

    def make(name, namespace):
        nodes.append(rclpy.create_node(name, namespace=namespace, context=context))
        return nodes[-1]
    yield make
    for node in nodes:
        node.destroy_node()
    rclpy.shutdown(context=context)


def test_an_e_stop_publisher_the_actor_cannot_hear_is_an_error_with_safe_commands(
        ros, tmp_path, other_participant):
    """
    Send safe commands while an e_stop publisher of another type is there.

    An operator's e_stop of another type (std_msgs/String) is never received: while it is
    there, safe commands only, and /diagnostics says so; once it is gone, the policy again.
    """
    task = make_task('pendulum')
    robot = FakeRobot(ros, task)
    robot.stream(50.0)
    actor, bundle = deploy_actor(ros, tmp_path)
    expected = policy_command(bundle, task)
    wait_for(ros, robot, lambda c: np.array_equal(c, expected), 0)

    wrong = other_participant('wrong_button', '/' + NS)
    button = wrong.create_publisher(String, 'e_stop', 10)
    mark = len(robot.commands)
    first_zero = wait_for(ros, robot, is_zero, mark)
    ros.spin_for(0.5)
    assert all(is_zero(c) for c in robot.values(first_zero)), 'cannot hear e_stop: safe only'
    assert ros.spin_until(
        lambda: robot.actor_diagnostics().get('e_stop_unheard_publishers') == '1', TIMEOUT)
    assert robot.actor_level()[0] == DiagnosticStatus.ERROR, robot.actor_level()

    wrong.destroy_publisher(button)
    mark = len(robot.commands)
    wait_for(ros, robot, lambda c: np.array_equal(c, expected), mark)
    assert ros.spin_until(
        lambda: robot.actor_diagnostics().get('e_stop_unheard_publishers') == '0', TIMEOUT)
    robot.stop()


@pytest.mark.parametrize('reliability', [ReliabilityPolicy.RELIABLE,
                                         ReliabilityPolicy.BEST_EFFORT],
                         ids=lambda reliability: reliability.name.lower())
def test_a_goal_from_a_volatile_publisher_reaches_a_deployed_actor(ros, tmp_path, reliability):
    """Take a volatile goal, as RViz's clicked point is, in a deployed reach actor."""
    robot = FakeRobot(ros, make_task('reacher'))
    robot.stream(50.0)
    actor, _ = deploy_actor(ros, tmp_path, 'reacher')
    assert ros.spin_until(lambda: len(robot.commands) >= 5, TIMEOUT)
    assert all(is_zero(c) for c in robot.values()), 'no goal yet: safe commands'
    clicker = ros.plain_node('rviz', NS)
    goal_pub = clicker.create_publisher(PointStamped, 'goal', QoSProfile(
        depth=10, reliability=reliability, durability=DurabilityPolicy.VOLATILE))
    assert ros.spin_until(lambda: goal_pub.get_subscription_count() >= 1, TIMEOUT)
    goal_pub.publish(messages.goal_msg(np.array([0.1, 0.05, 0.01]), time.time_ns()))
    assert ros.spin_until(lambda: actor.core.goal is not None, TIMEOUT)
    np.testing.assert_array_equal(actor.core.goal, [0.1, 0.05, 0.01])
    mark = len(robot.commands)
    wait_for(ros, robot, lambda c: not is_zero(c), mark)  # the policy drives to it
    robot.stop()

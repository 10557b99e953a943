"""
The actor's ``reset`` modes on a robot without a reset service: ``home`` and ``none``.

An ideal robot stands in for the hardware: it tracks a position, a velocity, or (effort) is a
unit inertia, integrating the latest command at 50 Hz. No ``reset`` service is in the graph.
"""
import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Float32MultiArray
from std_srvs.srv import Trigger

from fake_robot import FakeRobotBase
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.ros import messages
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import ControlInterface

NS = 'robot'
RATE_HZ = 50.0
MAX_DELTA = 0.05
TOLERANCE = 0.03
DEADLINE = 60.0
START = 0.5
"""Where every joint starts, away from any task's home pose."""


def start_position(task):
    """Return START in every joint (a position interface: within its command limits)."""
    start = np.full(task.num_joints, START)
    if task.interface is ControlInterface.POSITION:
        start = np.clip(start, task.command_low, task.command_high)
    return start


class IdealRobot(FakeRobotBase):
    """A robot whose state follows its commands exactly (``interface``), from rest at START."""

    def __init__(self, ros, task):
        super().__init__(ros, NS, task)
        self.task = task
        self.position = start_position(task)
        self.velocity = np.zeros(task.num_joints)
        self.transitions = []
        self.node.create_subscription(Float32MultiArray, '/t3d/transitions',
                                      self.transitions.append, messages.TRANSITIONS_QOS)
        self.timer = self.node.create_timer(1.0 / RATE_HZ, self._step)

    def _step(self):
        dt = 1.0 / RATE_HZ
        command = self.commands[-1][1] if self.commands else None
        if command is not None:
            interface = self.task.interface
            if interface is ControlInterface.POSITION:
                self.velocity = (command - self.position) / dt
                self.position = command.copy()
            elif interface is ControlInterface.VELOCITY:
                self.velocity = command.copy()
                self.position = self.position + command * dt
            else:
                self.velocity = self.velocity + command * dt
                self.position = self.position + self.velocity * dt
        self.stamp_ns += int(dt * 1e9)
        self.state_pub.publish(messages.joint_state_msg(
            self.task.joint_names, self.position, self.velocity, np.zeros_like(self.position),
            self.stamp_ns))


def start_homing_actor(ros, task_name, **params):
    defaults = dict(task=task_name, mode='train', seed=5, start_steps=10_000, reset='home',
                    state_timeout=0.0, max_delta=MAX_DELTA, home_tolerance=TOLERANCE,
                    home_timeout=DEADLINE, autostart=True)
    if task_name == 'reacher':  # effort without gains of its own
        defaults.update(home_kp=[4.0, 4.0], home_kd=[3.0, 3.0])
    return ros.start(ActorNode, NS, **{**defaults, **params})


@pytest.mark.parametrize('task_name', ['iiwa_reach', 'panda_reach', 'reacher'])
def test_homing_reaches_the_pose_within_limits_sending_no_transitions(ros, task_name):
    task = make_task(task_name)
    robot = IdealRobot(ros, task)
    actor = start_homing_actor(ros, task_name)
    assert ros.spin_until(lambda: actor.reset.awaiting and robot.commands, timeout=DEADLINE)
    pose = actor.reset.pose.copy()
    homing_commands = []

    def home_or_note():
        homing_commands[:] = robot.values()
        return not actor.reset.awaiting
    assert ros.spin_until(home_or_note, timeout=DEADLINE), actor.counters
    start = actor.robot_state.latest.position  # the state homing ended at
    assert np.all(np.abs(start - pose) <= TOLERANCE)
    assert robot.transitions == [] and actor.core.env_steps == 0
    assert actor.counters['homing_runs'] == 1 and actor.counters['homing_timeouts'] == 0
    commands = np.array(homing_commands)
    assert np.all(commands >= task.command_low) and np.all(commands <= task.command_high)
    # The rate limit counts from rest: zero, or for position control the measured position.
    rest = (start_position(task) if task.interface is ControlInterface.POSITION
            else np.zeros(task.num_joints))
    steps = np.abs(np.diff(commands, axis=0, prepend=[rest]))
    assert np.all(steps <= MAX_DELTA + 1e-9)
    # The episode begins: the actor acts and its transitions go out.
    assert ros.spin_until(lambda: actor.core.env_steps > 0, timeout=DEADLINE)


def test_a_homing_timeout_gives_safe_commands_and_an_error_until_cleared(ros):
    task = make_task('reacher')
    robot = IdealRobot(ros, task)
    weak = [1e-4, 1e-4]  # effort too weak to get home in time
    actor = start_homing_actor(ros, 'reacher', home_timeout=1.0, command_high=weak,
                               command_low=[-w for w in weak])
    assert ros.spin_until(lambda: actor.counters['homing_timeouts'] == 1, timeout=DEADLINE)
    since = len(robot.commands)
    level, message = None, ''

    def error_reported():
        nonlocal level, message
        level, message = robot.actor_level()
        return level == DiagnosticStatus.ERROR and 'homing timed out' in message
    assert ros.spin_until(error_reported, timeout=DEADLINE), (level, message)
    assert ros.spin_until(lambda: len(robot.commands) > since + 5, timeout=DEADLINE)
    assert all(np.all(command == 0.0) for command in robot.values(since))
    assert actor.reset.awaiting and actor.core.env_steps == 0 and robot.transitions == []
    assert actor.counters['homing_runs'] == 1

    client = robot.node.create_client(Trigger, f'/{NS}/actor/clear_fault')
    assert ros.spin_until(client.service_is_ready, timeout=DEADLINE)
    future = client.call_async(Trigger.Request())
    assert ros.spin_until(future.done, timeout=DEADLINE) and future.result().success
    assert ros.spin_until(lambda: actor.counters['homing_runs'] == 2, timeout=DEADLINE)
    assert 'homing' not in actor.faults


def test_reset_none_goes_on_from_the_current_state(ros):
    task = make_task('reacher')
    robot = IdealRobot(ros, task)
    actor = start_homing_actor(ros, 'reacher', reset='none')
    episodes = task.max_episode_steps
    assert ros.spin_until(lambda: actor.core.episodes >= 2, timeout=DEADLINE), actor.counters
    assert ros.spin_until(lambda: actor.core.env_steps > 2 * episodes, timeout=DEADLINE)
    assert robot.transitions


def test_a_homing_settings_error_is_said_at_start(ros):
    with pytest.raises(ValueError, match='home_kp and home_kd'):
        ros.start(ActorNode, NS, task='reacher', reset='home', autostart=False)

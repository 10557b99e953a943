"""
The actor as a managed (lifecycle) node.

Configure checks the policy, activate commands, deactivate sends one safe command and stops,
cleanup and shutdown release everything.

Transitions are driven through the node's ``trigger_*`` methods and, as a lifecycle manager
(``ros2 lifecycle set``, launch) does, through the ``~/change_state`` service.
"""
import dataclasses
import threading
import time

import numpy as np
import pytest
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.lifecycle import TransitionCallbackReturn
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from t3d_ros.ros import messages
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import RobotState
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TASK = make_task('pendulum')
NS = 'robot'
SUCCESS, FAILURE, ERROR = (TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE,
                           TransitionCallbackReturn.ERROR)
POSITION, VELOCITY = np.array([-2.0]), np.array([1.5])


def make_bundle(task=TASK, seed=3):
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=seed))
    return PolicyBundle.from_agent(agent, task, policy_version=1)


def state_of(node) -> str:
    return node._state_machine.current_state[1]  # what ~/get_state answers


class FakeRobot:
    def __init__(self, ros):
        self.node = ros.plain_node('fake_robot', NS)
        self.state_pub = self.node.create_publisher(JointState, 'joint_states', messages.ROBOT_QOS)
        self.commands: list[np.ndarray] = []
        self.node.create_subscription(Float64MultiArray, TASK.command_topic,
                                      lambda msg: self.commands.append(np.array(msg.data)),
                                      messages.ROBOT_QOS)
        self.stamp_ns = 0
        self.node.create_timer(0.02, self.publish_state)  # 50 Hz, for the whole test

    def publish_state(self):
        self.stamp_ns += 20_000_000
        self.state_pub.publish(messages.joint_state_msg(TASK.joint_names, POSITION, VELOCITY,
                                                        [0.0], self.stamp_ns))


@pytest.fixture
def policy_file(tmp_path):
    bundle = make_bundle()
    bundle.save(tmp_path / 'policy.safetensors')
    expected = NumpyPolicy.from_bundle(bundle)(TASK.observation(RobotState(POSITION, VELOCITY)))
    assert np.all(expected != 0.0)
    return tmp_path / 'policy.safetensors', expected


def start_actor(ros, path, **params):
    defaults = dict(task='pendulum', mode='deploy', policy_file=str(path), autostart=False,
                    trigger='state', state_timeout=0.5)
    return ros.start(ActorNode, NS, **{**defaults, **params})


def wait_for_policy_commands(ros, robot, expected, since, count=5):
    assert ros.spin_until(lambda: sum(np.array_equal(c, expected)
                                      for c in robot.commands[since:]) >= count, timeout=15)


def check_stopped_with_one_safe_command(ros, robot, expected, since):
    """After a deactivate: the commands since ``since`` are the policy's, then one zero."""
    assert ros.spin_until(lambda: any(np.all(c == 0.0) for c in robot.commands[since:]),
                          timeout=10)
    ros.spin_for(0.5)  # states keep coming: nothing more may be sent
    tail = robot.commands[since:]
    assert np.all(tail[-1] == 0.0)
    for command in tail[:-1]:
        np.testing.assert_array_equal(command, expected)


def test_configure_activate_deactivate_cleanup_shutdown_by_trigger_methods(ros, policy_file):
    path, expected = policy_file
    robot = FakeRobot(ros)
    actor = start_actor(ros, path)
    assert state_of(actor) == 'unconfigured'
    ros.spin_for(0.3)
    assert robot.commands == []
    assert actor.trigger_configure() == SUCCESS and state_of(actor) == 'inactive'
    ros.spin_for(0.3)
    assert robot.commands == [], 'inactive: no commands'
    for cycle in range(2):  # activate, deactivate, and again
        mark = len(robot.commands)
        assert actor.trigger_activate() == SUCCESS and state_of(actor) == 'active'
        wait_for_policy_commands(ros, robot, expected, mark)
        sent = dict(actor.counters)
        assert actor.trigger_deactivate() == SUCCESS and state_of(actor) == 'inactive'
        assert actor.counters['safe_commands'] == sent['safe_commands'] + 1
        check_stopped_with_one_safe_command(ros, robot, expected, mark)
    assert actor.trigger_cleanup() == SUCCESS and state_of(actor) == 'unconfigured'
    mark = len(robot.commands)
    ros.spin_for(0.3)
    assert len(robot.commands) == mark
    assert actor.trigger_activate() == ERROR  # not from unconfigured
    # Configured again after a cleanup: it works as new.
    assert actor.trigger_configure() == SUCCESS
    assert actor.trigger_activate() == SUCCESS
    wait_for_policy_commands(ros, robot, expected, mark)
    # Shutdown from active: one safe command, then nothing, and no way back.
    assert actor.trigger_shutdown() == SUCCESS and state_of(actor) == 'finalized'
    check_stopped_with_one_safe_command(ros, robot, expected, mark)
    assert actor.trigger_configure() == ERROR and state_of(actor) == 'finalized'


@pytest.mark.parametrize('mode', ['deploy', 'train'])
@pytest.mark.parametrize('end', ['cleanup', 'shutdown'])
def test_a_tick_queued_before_cleanup_or_shutdown_does_nothing(ros, policy_file, mode, end):
    """
    Run the timer events that rclpy's events executor had queued when the timers were destroyed.

    Seen: the e_stop check ran after cleanup, on the destroyed e_stop subscription, and raised
    InvalidHandle out of the executor (a quarter of the runs of the test above).
    """
    path, _ = policy_file
    FakeRobot(ros)
    actor = start_actor(ros, path, mode=mode, **({'policy_file': ''} if mode == 'train' else {}))
    assert actor.trigger_configure() == SUCCESS and actor.trigger_activate() == SUCCESS
    ros.spin_for(0.3)
    timers = [entity for _, entity in actor._entities if hasattr(entity, 'timer_period_ns')]
    assert len(timers) >= (4 if mode == 'train' else 1)
    actor.sender.waiting = True  # as a stalled learner leaves it
    if end == 'cleanup':
        assert actor.trigger_deactivate() == SUCCESS
    assert getattr(actor, f'trigger_{end}')() == SUCCESS
    for timer in timers:  # the ticks the executor had queued
        timer.callback()


def test_change_state_service_drives_the_actor_like_a_lifecycle_manager(ros, policy_file):
    path, expected = policy_file
    robot = FakeRobot(ros)
    start_actor(ros, path)
    manager = ros.plain_node('lifecycle_manager')
    change = manager.create_client(ChangeState, f'/{NS}/actor/change_state')
    get = manager.create_client(GetState, f'/{NS}/actor/get_state')
    assert ros.spin_until(lambda: change.service_is_ready() and get.service_is_ready(),
                          timeout=15)

    def call(client, request):
        future = client.call_async(request)
        assert ros.spin_until(future.done, timeout=10)
        return future.result()

    def transition(transition_id):
        return call(change, ChangeState.Request(transition=Transition(id=transition_id))).success

    def current():
        return call(get, GetState.Request()).current_state.label

    assert current() == 'unconfigured'
    assert transition(Transition.TRANSITION_CONFIGURE) and current() == 'inactive'
    assert robot.commands == []
    assert transition(Transition.TRANSITION_ACTIVATE) and current() == 'active'
    wait_for_policy_commands(ros, robot, expected, 0)
    assert not transition(Transition.TRANSITION_CONFIGURE)  # invalid from active: answered
    assert current() == 'active'
    wait_for_policy_commands(ros, robot, expected, len(robot.commands))
    assert transition(Transition.TRANSITION_DEACTIVATE) and current() == 'inactive'
    check_stopped_with_one_safe_command(ros, robot, expected, 0)
    assert not transition(Transition.TRANSITION_DEACTIVATE)  # invalid from inactive
    assert current() == 'inactive'
    mark = len(robot.commands)
    assert transition(Transition.TRANSITION_ACTIVATE)
    wait_for_policy_commands(ros, robot, expected, mark)
    assert transition(Transition.TRANSITION_ACTIVE_SHUTDOWN) and current() == 'finalized'
    check_stopped_with_one_safe_command(ros, robot, expected, mark)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


REFUSED = {
    'other_task': lambda tmp: make_bundle(make_task('reacher')).save(tmp / 'p') or tmp / 'p',
    'other_joints': lambda tmp: dataclasses.replace(
        make_bundle(), joint_names=('wrist_joint',)).save(tmp / 'p') or tmp / 'p',
    'other_limits': lambda tmp: dataclasses.replace(
        make_bundle(), action_low=np.array([-1.0]), action_high=np.array([1.0])
    ).save(tmp / 'p') or tmp / 'p',
    'other_layout': lambda tmp: dataclasses.replace(
        make_bundle(), obs_layout=(('sin_theta', 1), ('cos_theta', 1), ('theta_dot', 1))
    ).save(tmp / 'p') or tmp / 'p',
    'garbage': lambda tmp: _write(tmp / 'p', np.random.default_rng(1).bytes(3000)),
    'truncated': lambda tmp: _write(tmp / 'p', make_bundle().to_bytes()[:2000]),
    'missing_file': lambda tmp: tmp / 'does_not_exist.safetensors',
}


@pytest.mark.parametrize('kind', REFUSED)
def test_a_policy_for_another_task_joints_or_limits_is_refused_at_configure(ros, tmp_path,
                                                                            kind):
    robot = FakeRobot(ros)
    actor = start_actor(ros, REFUSED[kind](tmp_path))
    assert actor.trigger_configure() == FAILURE
    assert state_of(actor) == 'unconfigured'
    assert actor.trigger_activate() == ERROR
    ros.spin_for(0.3)
    assert robot.commands == [] and actor.policy is None


@pytest.mark.parametrize('limits,reason', [
    (dict(command_low=[-1.0, -1.0]), 'one value per joint'),  # two values, one joint
    (dict(command_low=[3.0]), 'low <= high'),  # above the policy's high (2)
    (dict(command_high=[-2.5]), 'low <= high'),  # below the policy's low (-2)
    # Effort: the safe command (zero) must be one the limits allow (issue 8.3).
    (dict(command_low=[0.1]), 'must include 0'),
    (dict(command_high=[-0.1]), 'must include 0'),
])
def test_unusable_command_limits_are_refused_at_configure(ros, policy_file, limits, reason):
    robot = FakeRobot(ros)
    actor = start_actor(ros, policy_file[0], **limits)
    assert actor.trigger_configure() == FAILURE and state_of(actor) == 'unconfigured'
    assert 'bad command limits' in actor.refusal and reason in actor.refusal
    ros.spin_for(0.2)
    assert robot.commands == [] and actor.policy is None


@pytest.mark.parametrize('parameter,value', [('max_delta', -0.1), ('transitions_per_message', 0),
                                             ('transitions_per_message', 10_001),
                                             ('mode', 'play'), ('control_rate_hz', -5.0),
                                             # NaN used to pass: a watchdog that never trips
                                             ('state_timeout', float('nan')),
                                             ('exploration_noise', float('inf'))])
def test_unusable_parameters_are_refused_at_start(ros, policy_file, parameter, value):
    with pytest.raises(ValueError, match=f"parameter '{parameter}'"):
        start_actor(ros, policy_file[0], **{parameter: value})


def test_autostart_defaults_to_false_in_deploy_and_true_in_train(ros, policy_file):
    deploy = ros.start(ActorNode, 'deploy', task='pendulum', mode='deploy',
                       policy_file=str(policy_file[0]))
    train = ros.start(ActorNode, 'train', task='pendulum', mode='train', state_timeout=0.0)
    assert (deploy.p['autostart'], state_of(deploy)) == (False, 'unconfigured')
    assert (train.p['autostart'], state_of(train)) == (True, 'active')


@pytest.mark.parametrize('policy', ['missing', 'garbage'])
def test_a_failed_autostart_ends_the_process_with_status_1_and_the_reason(tmp_path, policy):
    import subprocess
    import sys

    path = tmp_path / 'policy.safetensors'
    if policy == 'garbage':
        path.write_bytes(b'not a bundle')
    result = subprocess.run(
        [sys.executable, '-m', 't3d_ros.nodes.actor_node', '--ros-args', '-p', 'task:=pendulum',
         '-p', 'mode:=deploy', '-p', 'autostart:=true', '-p', f'policy_file:={path}'],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f'autostart: configure failed: refusing policy {path}' in result.stderr


def test_a_joint_order_that_is_not_the_tasks_joints_is_refused(ros, policy_file):
    with pytest.raises(ValueError, match='joint_order'):
        start_actor(ros, policy_file[0], joint_order=['pendulum_joint', 'extra_joint'])


def loader_threads():
    return [t for t in threading.enumerate() if '_load_policies' in t.name and t.is_alive()]


def test_the_policy_loader_thread_ends_with_cleanup_and_close(ros):
    before = len(loader_threads())
    actor = ros.start(ActorNode, NS, task='pendulum', mode='train', state_timeout=0.0)
    assert len(loader_threads()) == before + 1
    assert actor.trigger_deactivate() == SUCCESS
    for _ in range(3):  # cleanup and configure at once: never two loaders
        assert actor.trigger_cleanup() == SUCCESS
        assert len(loader_threads()) == before
        assert actor.trigger_configure() == SUCCESS
        assert len(loader_threads()) == before + 1
    actor.close()
    deadline = time.monotonic() + 5
    while len(loader_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(loader_threads()) == before

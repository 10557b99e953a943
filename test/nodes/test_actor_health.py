"""
The actor through a driver restart, its diagnostics levels, its logs.

It keeps going through a driver restart (issue 8.5), reports what is wrong at a level that
means something (issue 8.14) and logs readably (issue 8.18).
"""
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Bool, Float32MultiArray, UInt8MultiArray
from std_srvs.srv import Trigger

from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.acting.stamp_order import RESTART_STATES
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TASK = make_task('pendulum')
NS = 'robot'
OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


def make_bundle(task=TASK):
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=(16,), seed=2))
    return PolicyBundle.from_agent(agent, task, policy_version=1)


class Robot(FakeRobotBase):
    """Pendulum joint states at stamps it controls; e_stop and (training) reset, learner."""

    def __init__(self, ros, training=False):
        super().__init__(ros, NS, TASK)
        self.e_stop_pub = self.node.create_publisher(Bool, 'e_stop', messages.LATCHED_QOS)
        self.policy_pub = self.node.create_publisher(UInt8MultiArray, '/t3d/policy',
                                                     messages.LATCHED_QOS)
        self.throttle_pub = self.node.create_publisher(Bool, '/t3d/throttle',
                                                       messages.LATCHED_QOS)
        if training:
            self.node.create_service(Trigger, 'reset', self._on_reset)
            self.node.create_subscription(Float32MultiArray, '/t3d/transitions',
                                          lambda msg: None, messages.TRANSITIONS_QOS)

    def _on_reset(self, request, response):
        response.success = True
        return response

    def publish_state(self, names=('pendulum_joint',), step_ns=20_000_000):
        self.stamp_ns += step_ns
        self.state_pub.publish(messages.joint_state_msg(
            list(names), [0.3] * len(names), [0.1] * len(names), [0.0] * len(names),
            self.stamp_ns))


def deploy_actor(ros, tmp_path, **params):
    path = tmp_path / 'policy.safetensors'
    make_bundle().save(path)
    defaults = dict(task='pendulum', mode='deploy', policy_file=str(path), trigger='state',
                    autostart=True, state_timeout=0.0)
    return ros.start(ActorNode, NS, **{**defaults, **params})


def policy_commands(robot, since=0):
    return sum(1 for c in robot.values(since) if c[0] != 0.0)


def test_stamps_jumping_far_back_are_a_driver_restart_followed_not_dropped_forever(
        ros, tmp_path):
    robot = Robot(ros)
    actor = deploy_actor(ros, tmp_path)
    robot.stamp_ns = 500 * 10**9  # the driver has run for 500 s
    robot.stream()
    assert ros.spin_until(lambda: policy_commands(robot) >= 5, timeout=20)
    robot.stop()
    robot.publish_state(step_ns=-5_000_000)  # 5 ms back: reordered, dropped
    latest = robot.stamp_ns
    for _ in range(3):  # one stray old state, again and again: replayed, dropped
        robot.stamp_ns = 0
        robot.publish_state()
    robot.stamp_ns = latest
    assert ros.spin_until(
        lambda: robot.actor_diagnostics().get('dropped_input_out_of_order') == '4', timeout=10)
    assert actor.counters['state_restarts'] == 0
    robot.stamp_ns = 0  # the driver restarts: its stamps begin anew, and rise
    mark = len(robot.commands)
    robot.stream()
    assert ros.spin_until(lambda: policy_commands(robot, mark) >= 10, timeout=20), \
        robot.actor_diagnostics()
    robot.stop()
    assert actor.counters['state_restarts'] == 1
    assert ros.spin_until(lambda: robot.actor_diagnostics().get('state_restarts') == '1',
                          timeout=10)


def test_a_restarted_sim_ends_the_training_episode_and_training_goes_on(ros):
    robot = Robot(ros, training=True)
    actor = ros.start(ActorNode, NS, task='pendulum', mode='train', seed=1, start_steps=10**6,
                      state_timeout=0.0, transitions_per_message=4)
    robot.stamp_ns = 100 * 10**9
    assert ros.spin_until(lambda: actor.active and not actor.reset.awaiting, timeout=20)
    for _ in range(5):
        robot.publish_state()
        ros.spin_for(0.05)
    assert ros.spin_until(lambda: actor.core.env_steps >= 3, timeout=10)
    robot.stamp_ns = 0
    for _ in range(RESTART_STATES):  # the restarted sim's first states: a new episode
        robot.publish_state()
        ros.spin_for(0.05)
    assert ros.spin_until(lambda: actor.counters['state_restarts'] == 1
                          and not actor.reset.awaiting, timeout=10)
    steps = actor.core.env_steps
    assert actor.core.episode_steps == 0
    for _ in range(5):
        robot.publish_state()
        ros.spin_for(0.05)
    assert ros.spin_until(lambda: actor.core.env_steps >= steps + 3, timeout=10)


def wait_level(ros, robot, level, text, timeout=15):
    assert ros.spin_until(lambda: robot.actor_level()[0] == level
                          and text in robot.actor_level()[1], timeout=timeout), \
        (robot.actor_level(), level, text)


def test_deploy_diagnostics_levels_ok_warn_for_e_stop_and_stale_error_for_a_missing_joint(
        ros, tmp_path):
    robot = Robot(ros)
    deploy_actor(ros, tmp_path, state_timeout=0.2, trigger='timer')
    robot.stream()
    wait_level(ros, robot, OK, 'ok')
    robot.e_stop_pub.publish(Bool(data=True))
    wait_level(ros, robot, WARN, 'e_stop engaged')
    robot.e_stop_pub.publish(Bool(data=False))
    wait_level(ros, robot, OK, 'ok')
    robot.stream(names=('other_joint',))  # a wiring error: the policy's joint is missing
    wait_level(ros, robot, ERROR, 'missing')
    assert 'stale joint state' in robot.actor_level()[1]  # and the watchdog holds the robot
    robot.stream()
    wait_level(ros, robot, OK, 'ok')
    robot.stop()
    wait_level(ros, robot, WARN, 'stale joint state')


def test_a_refused_bundle_is_an_error_at_configure_and_from_the_learner(ros, tmp_path):
    robot = Robot(ros, training=True)
    other = tmp_path / 'reacher.safetensors'
    make_bundle(make_task('reacher')).save(other)
    refused = ros.start(ActorNode, 'refused', task='pendulum', mode='deploy',
                        policy_file=str(other))
    assert refused.trigger_configure() != 0  # not SUCCESS
    assert ros.spin_until(lambda: robot.levels.get('t3d/actor/refused', (None, ''))[0] == ERROR,
                          timeout=15)
    assert 'not configured: refusing policy' in robot.levels['t3d/actor/refused'][1]

    ros.start(ActorNode, NS, task='pendulum', mode='train', state_timeout=0.0)
    robot.policy_pub.publish(messages.policy_msg(make_bundle(make_task('reacher'))))
    wait_level(ros, robot, ERROR, 'refused policy')
    robot.policy_pub.publish(messages.policy_msg(make_bundle()))
    wait_level(ros, robot, OK, 'ok')
    robot.throttle_pub.publish(Bool(data=True))
    wait_level(ros, robot, WARN, 'throttled')


def test_logs_say_no_state_yet_instead_of_inf_seconds(ros, tmp_path, capfd):
    robot = Robot(ros)
    actor = deploy_actor(ros, tmp_path, state_timeout=0.1, trigger='timer')
    assert ros.spin_until(lambda: actor.robot_state.stale, timeout=10)
    robot.stream()
    assert ros.spin_until(lambda: not actor.robot_state.stale, timeout=10)
    robot.stop()
    assert ros.spin_until(lambda: actor.robot_state.stale, timeout=10)
    logged = capfd.readouterr().err
    assert 'no joint state received yet: safe commands' in logged
    assert 'no fresh joint state for 0.' in logged and ' inf s' not in logged


@pytest.mark.parametrize('task_name,has_goal', [('pendulum', False), ('reacher', True)])
def test_the_goal_topic_exists_only_for_tasks_with_goals(ros, task_name, has_goal):
    probe = ros.plain_node('probe', NS)
    ros.start(SimNode, NS, task=task_name)
    ros.start(ActorNode, NS, task=task_name, mode='train', state_timeout=0.0)
    ros.spin_for(0.5)
    goal = f'/{NS}/goal'
    assert (probe.count_publishers(goal) > 0) == has_goal
    assert (probe.count_subscribers(goal) > 0) == has_goal

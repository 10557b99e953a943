"""
A floating-base task's actor (half_cheetah).

Observations from joint_states + odom of the same stamp, bad odometry dropped and counted,
the stamp slop for hardware drivers.
"""
import numpy as np
import pytest
from nav_msgs.msg import Odometry

from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import BaseState, RobotState
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TASK = make_task('half_cheetah')
NS = 'cheetah'
TIMEOUT = 20.0
POSITION, VELOCITY = np.linspace(-0.4, 0.4, 6), np.linspace(1.0, -1.0, 6)


def base_at(x: float) -> BaseState:
    pitch = 0.2 * x
    orientation = np.array([0.0, np.sin(pitch / 2), 0.0, np.cos(pitch / 2)])
    return BaseState(np.array([x, 0.0, 0.6]), orientation, np.array([1.5, 0.0, -0.1]),
                     np.array([0.0, 0.3, 0.0]))


class FakeLeggedRobot(FakeRobotBase):
    """joint_states and odom out, each stamped as the test says."""

    def __init__(self, ros):
        super().__init__(ros, NS, TASK)
        self.odom_pub = self.node.create_publisher(Odometry, 'odom', messages.ROBOT_QOS)

    def joints(self, stamp_ns):
        self.state_pub.publish(messages.joint_state_msg(TASK.joint_names, POSITION, VELOCITY,
                                                        np.zeros(6), stamp_ns))

    def odom(self, stamp_ns, base=None):
        msg = messages.odometry_msg(base_at(stamp_ns * 1e-9) if base is None else base, stamp_ns)
        self.odom_pub.publish(msg)
        return msg


@pytest.fixture
def bundle(tmp_path):
    agent = TD3(TASK.obs_dim, TASK.action_low, TASK.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=5))
    path = tmp_path / 'cheetah.safetensors'
    bundle = PolicyBundle.from_agent(agent, TASK, policy_version=1)
    bundle.save(path)
    return bundle, path


def start(ros, path, **params):
    robot = FakeLeggedRobot(ros)
    actor = ros.start(ActorNode, NS, task='half_cheetah', mode='deploy', policy_file=str(path),
                      state_timeout=0.0, autostart=True, **params)
    assert ros.spin_until(lambda: robot.odom_pub.get_subscription_count() >= 1
                          and robot.state_pub.get_subscription_count() >= 1
                          and actor.commands.publisher.get_subscription_count() >= 1, TIMEOUT)
    return robot, actor


def expected_command(bundle, stamp_ns):
    obs = TASK.observation(RobotState(POSITION, VELOCITY, None, base_at(stamp_ns * 1e-9)))
    return bundle.make_policy()(obs)


def test_a_step_is_taken_only_once_joint_states_and_odom_of_one_stamp_are_in(ros, bundle):
    bundle, path = bundle
    robot, actor = start(ros, path)
    robot.joints(1_000_000_000)
    ros.spin_for(0.3)
    assert robot.commands == []  # its odometry has not come: no step yet
    robot.odom(1_000_000_000)
    assert ros.spin_until(lambda: len(robot.commands) == 1, TIMEOUT)
    np.testing.assert_allclose(robot.values()[0], expected_command(bundle, 1_000_000_000),
                               rtol=1e-5, atol=1e-6)
    # The other order; and an odometry of another instant never pairs.
    robot.odom(1_500_000_000)
    robot.odom(2_000_000_000)
    ros.spin_for(0.3)
    assert len(robot.commands) == 1
    robot.joints(2_000_000_000)
    assert ros.spin_until(lambda: len(robot.commands) == 2, TIMEOUT)
    np.testing.assert_allclose(robot.values()[1], expected_command(bundle, 2_000_000_000),
                               rtol=1e-5, atol=1e-6)
    # The 1.5 s odometry, older than the pair that was made:
    assert actor.robot_state.sync.discarded == 1


def test_bad_odometry_is_dropped_counted_and_never_acted_on(ros, bundle):
    _, path = bundle
    robot, actor = start(ros, path)
    nan = base_at(1.0)._replace(linear_velocity=np.array([np.nan, 0.0, 0.0]))
    not_unit = base_at(1.0)._replace(orientation=np.array([0.0, 0.5, 0.0, 0.5]))
    for stamp_ns, base in ((1_000_000_000, nan), (2_000_000_000, not_unit)):
        robot.odom(stamp_ns, base)
        robot.joints(stamp_ns)
    assert ros.spin_until(lambda: actor.drops.total == 2, TIMEOUT)
    ros.spin_for(0.3)
    assert robot.commands == []
    assert actor.drops.counts() == {'dropped_input_odom_not_finite': 1,
                                    'dropped_input_odom_bad_quaternion': 1}
    robot.odom(2_000_000_000)  # a good one for the waiting joint state: acts
    assert ros.spin_until(lambda: len(robot.commands) == 1, TIMEOUT)
    assert np.all(np.isfinite(robot.values()[0]))


def test_odom_slop_pairs_stamps_of_two_drivers(ros, bundle):
    bundle, path = bundle
    robot, _ = start(ros, path, odom_slop=0.005)
    robot.odom(1_000_000_000)
    robot.joints(1_008_000_000)  # 8 ms apart: more than the slop
    ros.spin_for(0.3)
    assert robot.commands == []
    robot.odom(1_004_000_000)  # 4 ms from the joint state: pairs
    assert ros.spin_until(lambda: len(robot.commands) == 1, TIMEOUT)
    np.testing.assert_allclose(robot.values()[0], expected_command(bundle, 1_004_000_000),
                               rtol=1e-5, atol=1e-6)

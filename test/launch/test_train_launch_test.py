"""
train.launch.py brings up a system that learns: 2 actors, the fast test config.

While it runs, experience reaches the learner (/t3d/transitions), policies reach the actors
(/t3d/policy) and the sims publish (/robot_0/joint_states); after shutdown every process
has exited cleanly. Run with `launch_test test/launch/test_train_launch_test.py` or pytest
(launch_testing's plugin); skipped where launch_testing is missing (the PyPI ROS wheels).
"""
import unittest
from pathlib import Path

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not installed: it comes with a ROS 2 '
    'install (ros-<distro>-launch-testing-ros), not with the PyPI ROS wheels')
launch_testing_ros = pytest.importorskip(
    'launch_testing_ros', reason='launch_testing_ros is not installed (comes with ROS 2)')

import launch  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Float32MultiArray, UInt8MultiArray  # noqa: E402

from t3d_ros.graph import domain as ros_domain  # noqa: E402

TRAIN_LAUNCH = Path(__file__).resolve().parents[2] / 'launch' / 'train.launch.py'
TOPICS = [('/t3d/transitions', Float32MultiArray), ('/t3d/policy', UInt8MultiArray),
          ('/robot_0/joint_states', JointState)]
TIMEOUT = 120.0
"""Seconds for the first messages: five processes import torch and PyBullet on CI's CPUs."""


@pytest.mark.launch_test
def generate_test_description():
    # A private DDS domain, discovery on this machine only; the launched nodes and this
    # test's listener (same process as launch) both read these.
    ros_domain.isolate()
    return launch.LaunchDescription([
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(TRAIN_LAUNCH)),
            launch_arguments={'task': 'pendulum', 'num_actors': '2',
                              'config': 'test_fast.yaml'}.items()),
        launch_testing.actions.ReadyToTest(),
    ])


class TestTraining(unittest.TestCase):

    def test_messages_flow(self):
        waiter = launch_testing_ros.WaitForTopics(TOPICS, timeout=TIMEOUT)
        try:
            received = waiter.wait()
            self.assertTrue(received, f'no message within {TIMEOUT} s on '
                            f'{sorted(waiter.topics_not_received())}')
        finally:
            waiter.shutdown()


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_codes(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)

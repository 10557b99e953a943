"""
Train with train.launch.py use_sim_time:=true on the one sim's /clock (issue 8.6, 8.7).

The README's time rule.

One robot: its sim is the only /clock publisher, experience and policies flow (no timer waits
for a clock that only the sim's steps advance), and the learner's and actor's diagnostics are
stamped in sim time, not wall time. Skipped where launch_testing is missing (the PyPI ROS
wheels).
"""
import time
import unittest
from pathlib import Path

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not installed: it comes with a ROS 2 '
    'install (ros-<distro>-launch-testing-ros), not with the PyPI ROS wheels')

import launch  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import rclpy  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from std_msgs.msg import UInt8MultiArray  # noqa: E402

from t3d_ros.ros import messages  # noqa: E402
from t3d_ros.graph import domain as ros_domain  # noqa: E402

TRAIN_LAUNCH = Path(__file__).resolve().parents[2] / 'launch' / 'train.launch.py'
TIMEOUT = 180.0
"""Seconds for a policy to come back: three processes start and train on CI's CPUs."""
STATUSES = ('t3d/learner', 't3d/actor/robot_0')


@pytest.mark.launch_test
def generate_test_description():
    ros_domain.isolate()  # a private DDS domain, discovery on this machine only
    return launch.LaunchDescription([
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(TRAIN_LAUNCH)),
            launch_arguments={'task': 'pendulum', 'num_actors': '1', 'use_sim_time': 'true',
                              'config': 'test_fast.yaml'}.items()),
        launch_testing.actions.ReadyToTest(),
    ])


class TestTrainingOnSimTime(unittest.TestCase):

    def test_one_clock_and_training_on_it(self):
        context = rclpy.Context()
        rclpy.init(context=context)
        node = rclpy.create_node('sim_time_probe', context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        clock, stamps, policies = [], {name: [] for name in STATUSES}, []
        node.create_subscription(Clock, '/clock',
                                 lambda msg: clock.append(messages.stamp_to_ns(msg.clock)), 10)
        node.create_subscription(DiagnosticArray, '/diagnostics', lambda msg: [
            stamps[s.name].append(messages.stamp_to_ns(msg.header.stamp))
            for s in msg.status if s.name in stamps], 10)
        node.create_subscription(UInt8MultiArray, '/t3d/policy', policies.append,
                                 messages.LATCHED_QOS)
        try:
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline and not (
                    policies and clock and all(len(s) >= 2 for s in stamps.values())):
                executor.spin_once(timeout_sec=0.1)
            end = time.monotonic() + 1.0  # the /clock messages behind the last stamps
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.1)
            self.assertTrue(policies, f'no policy within {TIMEOUT} s: training is stuck')
            self.assertTrue(all(len(s) >= 2 for s in stamps.values()), stamps)
            self.assertEqual(node.count_publishers('/clock'), 1)
            sim_time = max(clock)
            for name, values in stamps.items():
                # Sim time (from 0 when the sim started), not wall time (~1.8e9 s); 0 before
                # a node's first /clock.
                self.assertTrue(all(0 <= v <= sim_time for v in values) and max(values) > 0,
                                (name, values, sim_time))
        finally:
            executor.shutdown()
            node.destroy_node()
            rclpy.shutdown(context=context)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_codes(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)

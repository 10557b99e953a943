"""
What differs between the rclpy versions and executors that the node tests run on.

A module of its own, not the conftest: test modules import these names, and with the system
tests' conftest beside this folder's, ``from conftest import`` would find either one.
"""
import pytest

rclpy = pytest.importorskip(
    'rclpy', reason='needs rclpy (requirements-ros.txt or a ROS 2 install)')
import rclpy.subscription  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from t3d_ros.ros.spin import new_executor  # noqa: E402

EXECUTORS = {'production': new_executor, 'wait_set': lambda context: SingleThreadedExecutor(
    context=context)}
"""What a test can run its nodes in: the node processes' executor (rclpy's events executor,
where rclpy has it) and the ``SingleThreadedExecutor`` they fall back to on older rclpy."""
IN_EVERY_EXECUTOR = pytest.mark.parametrize('ros', list(EXECUTORS), indirect=True)
"""Mark a test to run once in each of ``EXECUTORS``."""
GIVES_PUBLISHER_GID = 'publisher_gid' in getattr(
    getattr(rclpy.subscription, 'MessageInfo', None), '__annotations__', {})
"""Whether message info names the publisher: rclpy 9 (Kilted) on says so in its ``MessageInfo``
type; rclpy 7 (Jazzy) has neither."""

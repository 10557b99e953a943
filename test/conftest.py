"""Test isolation: a private ROS domain per test session (unless ROS_DOMAIN_ID is set),
localhost-only discovery."""
import os

from t3d_ros import ros_domain

ros_domain.isolate()
os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')

"""Test isolation: a private ROS domain per test session, localhost-only discovery."""
import os

os.environ['ROS_DOMAIN_ID'] = str(100 + os.getpid() % 100)
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.pop('ROS_STATIC_PEERS', None)
os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')

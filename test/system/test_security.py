"""
DDS-Security (SROS2) settings are never silently ignored (README "Signed policies and SROS2").

With ROS_SECURITY_STRATEGY=Enforce and an enclave without valid certificates, or an RMW built
without the security plugins (the PyPI wheels' Fast DDS), a node refuses to start and exits
non-zero instead of running unsecured.
"""
import os
import subprocess
import sys

import pytest

pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')


def test_enforced_security_without_usable_security_refuses_to_run(tmp_path):
    keystore = tmp_path / 'keystore'
    (keystore / 'enclaves' / 't3d_ros').mkdir(parents=True)
    env = dict(os.environ, ROS_SECURITY_ENABLE='true', ROS_SECURITY_STRATEGY='Enforce',
               ROS_SECURITY_KEYSTORE=str(keystore), ROS_SECURITY_ENCLAVE_OVERRIDE='/t3d_ros')
    result = subprocess.run(
        [sys.executable, '-m', 't3d_ros.nodes.entry', 'sim_node', '--ros-args', '-p',
         'task:=pendulum'], env=env, capture_output=True, timeout=180)
    output = (result.stdout + result.stderr).decode(errors='replace')
    assert result.returncode != 0, output
    assert 'security' in output.lower(), output

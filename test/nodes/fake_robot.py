"""
A ros2_control robot stand-in for the actor tests.

``joint_states`` out, forward commands in, the actor's ``/diagnostics`` read back. Subclasses say
what state they publish.
"""
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from t3d_ros.ros import messages


class FakeRobotBase:

    def __init__(self, ros, namespace, task):
        self.namespace = namespace
        self.node = ros.plain_node('fake_robot', namespace)
        self.state_pub = self.node.create_publisher(JointState, 'joint_states', messages.ROBOT_QOS)
        self.commands: list[tuple[float, np.ndarray]] = []  # (arrival time, values)
        self.node.create_subscription(
            Float64MultiArray, task.command_topic,
            lambda msg: self.commands.append((time.monotonic(), np.array(msg.data))),
            messages.ROBOT_QOS)
        self.diagnostics: dict[str, dict[str, str]] = {}
        self.levels: dict[str, tuple[bytes, str]] = {}  # status name: (level, message)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.stamp_ns = 0
        self.timer = None

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        self.diagnostics.update(messages.diagnostic_values(msg))
        self.levels.update({status.name: (status.level, status.message) for status in msg.status})

    def actor_level(self) -> tuple[bytes, str]:
        return self.levels.get(f't3d/actor/{self.namespace}', (None, ''))

    def publish_state(self, **state):
        raise NotImplementedError

    def stream(self, rate_hz=50.0, **state):
        """Publish ``publish_state(**state)`` at ``rate_hz`` until ``stop()``."""
        self.stop()
        self.timer = self.node.create_timer(1.0 / rate_hz, lambda: self.publish_state(**state))

    def stop(self):
        if self.timer is not None:
            self.node.destroy_timer(self.timer)
            self.timer = None

    def values(self, since=0):
        return [c for _, c in self.commands[since:]]

    def actor_diagnostics(self):
        return self.diagnostics.get(f't3d/actor/{self.namespace}', {})

"""
A node that keeps the latest /diagnostics values of every status.

For the `t3d-ros` command's progress line, benchmarks and system tests.
"""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node

from t3d_ros.ros import messages


class DiagnosticsMonitor(Node):

    def __init__(self, name: str = 't3d_monitor', **kwargs):
        super().__init__(name, **kwargs)
        self.latest: dict[str, dict[str, str]] = {}
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 100)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        self.latest.update(messages.diagnostic_values(msg))

    def value(self, status: str, key: str, default: float = float('nan')) -> float:
        """Return a numeric value of a status ('t3d/learner', 't3d/actor/robot_0', ...)."""
        try:
            return float(self.latest[status][key])
        except (KeyError, ValueError):
            return default

    def learner(self) -> dict[str, str]:
        return self.latest.get('t3d/learner', {})

    def actors(self) -> dict[str, dict[str, str]]:
        return {name.rsplit('/', 1)[-1]: values for name, values in self.latest.items()
                if name.startswith('t3d/actor/')}

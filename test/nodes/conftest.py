"""In-process node tests: a fresh rclpy context and executor per test."""
import time

import pytest

rclpy = pytest.importorskip(
    'rclpy', reason='needs rclpy (requirements-ros.txt or a ROS 2 install)')
from rclpy.parameter import Parameter  # noqa: E402

from rclpy_variants import EXECUTORS  # noqa: E402


class RosHarness:
    """Nodes of one test on one executor (``EXECUTORS``); ``spin_until`` drives them."""

    def __init__(self, executor: str = 'production'):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.executor = EXECUTORS[executor](self.context)
        self.nodes = []

    def start(self, node_class, namespace: str = '', **parameters):
        overrides = [Parameter(name, value=value) for name, value in parameters.items()]
        return self.add(node_class(namespace=namespace, context=self.context,
                                   parameter_overrides=overrides))

    def add(self, node):
        self.executor.add_node(node)
        self.nodes.append(node)
        return node

    def plain_node(self, name: str, namespace: str = ''):
        return self.add(rclpy.create_node(name, namespace=namespace, context=self.context))

    def spin_until(self, condition, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            self.executor.spin_once(timeout_sec=0.01)
        return condition()

    def spin_for(self, seconds: float) -> None:
        self.spin_until(lambda: False, timeout=seconds)

    def close(self) -> None:
        for node in reversed(self.nodes):
            close = getattr(node, 'close', None)
            if close is not None:
                close()
            self.executor.remove_node(node)
            node.destroy_node()
        self.executor.shutdown()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def ros(request):
    """Yield the harness: the production executor unless ``IN_EVERY_EXECUTOR`` marks the test."""
    harness = RosHarness(getattr(request, 'param', 'production'))
    yield harness
    harness.close()

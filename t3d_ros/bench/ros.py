"""
The ROS side of the measurements.

This process's node, the node processes under test, and the helper nodes (run as ``python -m
t3d_ros.bench NAME``).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from typing import Callable, Iterator

from t3d_ros.graph.bringup import NodeSpec
from t3d_ros.graph.supervisor import ProcessGroup

from .common import BenchError

POLICY_TOPIC = '/t3d_bench/policy'
ACK_TOPIC = '/t3d_bench/policy_ack'
MAX_POLICY_BYTES = 64 * 2**20


class HelperSpec(NodeSpec):
    """
    A helper node of the bench (``executable``: a name in HELPER_NODES).

    Run as ``python -m t3d_ros.bench <executable> --ros-args ...`` under a ProcessGroup.
    """

    def command(self, params_dir, python: str = sys.executable) -> list[str]:
        return [python, '-m', 't3d_ros.bench', self.executable, *self.ros_args(params_dir)]


class Session:
    """
    This process's side of a measurement.

    A node in its own rclpy context, and the node processes under test.
    """

    def __init__(self):
        import rclpy
        from rclpy.signals import SignalHandlerOptions

        from t3d_ros.ros.spin import new_executor

        self.context = rclpy.Context()
        # Python's own handling of Ctrl-C (KeyboardInterrupt) and ours of SIGTERM stay in
        # charge, so that every way out stops the node processes.
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node('t3d_bench', context=self.context)
        self.executor = new_executor(self.context)  # the node processes' kind
        self.executor.add_node(self.node)
        self.group: ProcessGroup | None = None

    def spin_until(self, condition: Callable[[], object], timeout: float) -> bool:
        """Handle callbacks until ``condition()`` holds (True) or ``timeout`` s pass (False)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.executor.spin_once(timeout_sec=min(remaining, 0.05))
        return True

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str,
                 action: Callable[[], None] | None = None, period: float = 0.5) -> None:
        """
        Spin until ``condition()``, running ``action`` every ``period`` s meanwhile.

        BenchError (with the nodes' output) if a node exits or ``timeout`` s pass.
        """
        deadline = time.monotonic() + timeout
        while True:
            if action is not None:
                action()
            if self.spin_until(condition, min(period, max(0.0, deadline - time.monotonic()))):
                return
            exited = self.group.first_exited() if self.group else None
            if exited is not None:
                raise BenchError(f'waiting for {what}: {exited.label} exited with status '
                                 f'{exited.process.returncode}{self.logs()}')
            if time.monotonic() >= deadline:
                raise BenchError(f'no {what} within {timeout:.0f} s{self.logs()}')

    def serve_actors(self, bundle, on_diagnostics: Callable) -> None:
        """
        Stand in for the learner: publish ``bundle`` on /t3d/policy and take the transitions.

        ``on_diagnostics`` gets every /diagnostics message (the actors' counts).
        """
        from diagnostic_msgs.msg import DiagnosticArray
        from std_msgs.msg import Float32MultiArray, UInt8MultiArray

        from t3d_ros.ros import messages

        self.node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 100)
        self.node.create_subscription(Float32MultiArray, '/t3d/transitions', lambda msg: None,
                                      messages.TRANSITIONS_QOS)
        self.node.create_publisher(UInt8MultiArray, '/t3d/policy', messages.LATCHED_QOS) \
            .publish(messages.policy_msg(bundle))

    def logs(self, lines: int = 15) -> str:
        return ''.join(f'\n--- {p.label} (last lines):\n{p.tail(lines)}'
                       for p in (self.group.processes if self.group else []))

    def close(self) -> dict[str, int]:
        """Stop the node processes (SIGINT, then SIGTERM, SIGKILL); their exit statuses."""
        import rclpy

        try:
            return self.group.stop() if self.group else {}
        finally:
            self.executor.shutdown()
            self.node.destroy_node()
            rclpy.try_shutdown(context=self.context)


@contextlib.contextmanager
def ros_session(specs: list[NodeSpec], log_dir: str | os.PathLike) -> Iterator[Session]:
    """
    Yield a :class:`Session` with ``specs`` running as processes (logs in ``log_dir``).

    All are stopped on the way out, however it is left. BenchError if a node did not exit with
    0 when told to stop.
    """
    session = Session()
    try:
        session.group = ProcessGroup(specs, log_dir)
        session.group.start()
        yield session
    except BaseException:
        session.close()
        raise
    statuses = session.close()
    failed = {label: status for label, status in statuses.items() if status != 0}
    if failed:
        raise BenchError(f'nodes did not stop cleanly: {failed}{session.logs()}')


def _echo_node():
    """Answers each joint state at once with a command (its efforts): the bare round trip."""
    from rclpy.node import Node
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from t3d_ros.ros import messages

    node = Node('echo')
    publisher = node.create_publisher(
        Float64MultiArray, node.declare_parameter('command_topic', '').value, messages.ROBOT_QOS)
    node.create_subscription(JointState, 'joint_states', lambda msg: publisher.publish(
        Float64MultiArray(data=msg.effort)), messages.ROBOT_QOS)
    return node


def _policy_receiver_node():
    """
    Acknowledge each policy message with its count.

    After decoding it into a ready policy as the actor does (``decode``), or at once.
    """
    from rclpy.node import Node
    from std_msgs.msg import Int64, UInt8MultiArray

    from t3d_ros.ros import messages
    from t3d_ros.acting.numpy_policy import NumpyPolicy

    node = Node('policy_receiver')
    decode = node.declare_parameter('decode', True).value
    ack = node.create_publisher(Int64, ACK_TOPIC, messages.ROBOT_QOS)
    received = itertools.count(1)

    def on_policy(msg: UInt8MultiArray) -> None:
        if decode:
            NumpyPolicy.from_bundle(messages.parse_policy(msg, MAX_POLICY_BYTES))
        ack.publish(Int64(data=next(received)))
    node.create_subscription(UInt8MultiArray, POLICY_TOPIC, on_policy, messages.LATCHED_QOS)
    return node


HELPER_NODES = {'echo': _echo_node, 'policy_receiver': _policy_receiver_node}

"""The thin ``main()`` every node shares: init, spin, clean shutdown on Ctrl-C/SIGTERM."""
from __future__ import annotations

import signal
import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

SPIN_PERIOD = 0.2
"""Longest wait of one spin: how soon a signal is noticed when no callback is due."""


def run_node(make_node: Callable[[], Node], args=None) -> int:
    """Spin the node until SIGINT/SIGTERM; then ``node.close()`` (if defined) runs while
    the ROS context is still up, so an actor can still send its safe command and a learner
    can still save.

    A node that cannot start (bad parameters, a policy that does not match) prints why and the
    process exits with status 1, so launch and the `t3d-ros` command report it.
    """
    # Our own handlers instead of rclpy's: rclpy's shut the context down at once, before the
    # node could publish anything on its way out. Installed before rclpy.init, so that a stop
    # while DDS starts is not lost (one during the imports before this call still is).
    stop = []  # a flag, not an exception: a callback is never cut off half way
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.append(True))
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    executor = SingleThreadedExecutor()
    node = None
    status = 0
    try:
        try:
            node = make_node()
        except ValueError as error:  # configuration errors: say what is wrong, no traceback
            print(f'[t3d_ros] {error}', file=sys.stderr)
            status = 1
        else:
            executor.add_node(node)
            while rclpy.ok() and not stop:
                executor.spin_once(timeout_sec=SPIN_PERIOD)
    except ExternalShutdownException:
        pass
    finally:
        if node is not None:
            close = getattr(node, 'close', None)
            if close is not None:
                close()
            node.destroy_node()
        executor.shutdown(timeout_sec=5.0)
        rclpy.try_shutdown()
    return status

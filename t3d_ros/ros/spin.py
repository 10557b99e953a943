"""The thin ``main()`` every node shares: init, spin, clean shutdown on a stop signal."""
from __future__ import annotations

import sys
import time
from typing import Callable, Iterable

import rclpy
from rclpy.duration import Duration
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from t3d_ros.ros.stop_signals import on_stop_signals

try:
    from rclpy.experimental import EventsExecutor
except ImportError:  # an rclpy without it (Humble)
    EventsExecutor = None

SPIN_PERIOD = 0.2
"""Longest wait of one spin: how soon a signal is noticed when no callback is due."""
FLUSH_TIMEOUT = 1.0
"""Longest wait, on the way out, for subscribers to acknowledge the nodes' last messages."""


def new_executor(context=None) -> Executor:
    """
    Return the executor the nodes spin in: rclpy's C++ ``EventsExecutor`` where rclpy has one.

    It runs each callback as its event comes, where the ``SingleThreadedExecutor`` rebuilds and
    walks a wait set of every entity before each: two bare rclpy processes answering each other
    make about 3x the round trips per second with it. An rclpy without it (Humble) gets the
    ``SingleThreadedExecutor``; the nodes work in either (no guard conditions, which the events
    executor refuses; callbacks that take the message info through
    :func:`~t3d_ros.ros.message_info.with_message_info`).
    """
    if EventsExecutor is None:
        return SingleThreadedExecutor(context=context)
    return EventsExecutor(context=context)


def run_node(make_node: Callable[[], Node | Iterable[Node]], args=None) -> int:
    """
    Spin the node until a stop signal (SIGINT, SIGTERM, SIGHUP: :mod:`.stop_signals`).

    Then ``node.close()`` (if defined) runs while the ROS context is still up, so an actor can
    still send its safe command and a learner can still save; what they sent last is given
    :data:`FLUSH_TIMEOUT` to be acknowledged before the nodes go.

    A node that cannot start (bad parameters, a policy that does not match) prints why and the
    process exits with status 1, so launch and the `t3d-ros` command report it.

    A group process (several nodes in one executor) gives ``make_node`` returning an iterable:
    each node joins the executor as it is made, and all made so far are closed (last first)
    if a later one cannot start.
    """
    # Our own handlers instead of rclpy's: rclpy's shut the context down at once, before the
    # node could publish anything on its way out. Installed before rclpy.init, so that a stop
    # while DDS starts is not lost (t3d_ros.nodes.entry covers the imports before this call).
    stop = []  # a flag, not an exception: a callback is never cut off half way
    on_stop_signals(lambda *_: stop.append(True))
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    executor = new_executor()
    nodes: list[Node] = []
    status = 0
    try:
        try:
            made = make_node()
            for node in [made] if isinstance(made, Node) else made:
                nodes.append(node)
                executor.add_node(node)
        except ValueError as error:  # configuration errors: say what is wrong, no traceback
            print(f'[t3d_ros] {error}', file=sys.stderr)
            status = 1
        else:
            while rclpy.ok() and not stop:
                executor.spin_once(timeout_sec=SPIN_PERIOD)
    except ExternalShutdownException:
        pass
    finally:
        for node in reversed(nodes):
            close = getattr(node, 'close', None)
            if close is not None:
                close()
        wait_for_acknowledgements(nodes, FLUSH_TIMEOUT)
        for node in reversed(nodes):
            node.destroy_node()
        executor.shutdown(timeout_sec=5.0)
        rclpy.try_shutdown()
    return status


def wait_for_acknowledgements(nodes: Iterable[Node], timeout: float) -> None:
    """
    Wait up to ``timeout`` s in all until reliable subscribers acknowledge what ``nodes`` sent.

    A process that ends right after publishing can take its last messages with it, still
    queued (measured at load 9-13: the deploy actor's safe command lost in 2 of 12 stops; 0 of
    16 with this). Fast DDS acknowledges on its writers' heartbeats, every 3 s, so with it this
    mostly waits the whole ``timeout``, in which the middleware sends what it queued.
    """
    deadline = time.monotonic() + timeout
    for node in nodes:
        for publisher in node.publishers:
            remaining = max(0.0, deadline - time.monotonic())
            publisher.wait_for_all_acked(Duration(nanoseconds=int(remaining * 1e9)))


def run_group(make_node: Callable[[str], Node], args=None) -> int:
    """
    Run a group process: ``make_node(namespace)`` for each namespace it is given, one executor.

    The namespaces are its arguments before ``--ros-args``, at least one, none repeated; else
    it says so and returns 1.
    """
    namespaces = rclpy.utilities.remove_ros_args(sys.argv if args is None else args)[1:]
    if not namespaces or len(set(namespaces)) != len(namespaces):
        print(f'[t3d_ros] a group process takes the distinct namespaces of its robots as '
              f'arguments (e.g. robot_0 robot_1), not {namespaces}', file=sys.stderr)
        return 1
    return run_node(lambda: (make_node(namespace) for namespace in namespaces), args)

"""
Which clock measures what (the README's time rule, "Time and /clock").

Timers that measure real time (watchdog, control rate, realtime pacing, reset retry,
republishing, diagnostics period) run on the steady clock, whatever ``use_sim_time`` says: on
ROS time they would stop when no ``/clock`` comes (a lockstep actor waiting for its first
reset would never retry) and race when the node's own ``/clock`` drives them (a realtime sim
would step as fast as it can). The node clock (wall time, or ``/clock`` under
``use_sim_time``) is for stamps only.
"""
from __future__ import annotations

from typing import Callable

from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.timer import Timer


def steady_timer(node: Node, period: float, callback: Callable[[], None],
                 autostart: bool = True) -> Timer:
    """Return a timer of ``node`` that fires every ``period`` s of steady (monotonic) time."""
    return node.create_timer(period, callback, clock=Clock(clock_type=ClockType.STEADY_TIME),
                             autostart=autostart)

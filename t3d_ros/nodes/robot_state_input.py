"""An actor's robot state in: joint states (and odometry) parsed, in stamp order, paired."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import JointState

from t3d_ros.acting.stamp_order import EpisodeStart, Order, StampOrder
from t3d_ros.acting.state_sync import StateSync
from t3d_ros.ros import messages
from t3d_ros.ros.drops import DropCounter
from t3d_ros.tasks.base import Task

StateCallback = Callable[[messages.JointStateReading, float], None]


class RobotStateInput:
    """
    The latest complete robot state of one actor, when it came, and whether it is stale.

    Each joint state is validated (a drop is counted in ``drops``; a missing joint is a wiring
    error, kept in ``faults`` until a complete one comes), taken in stamp order (``stamps``:
    out-of-order states dropped, a restarted driver's new stream followed) and, for a floating
    base, paired with the odometry of its instant (``sync``). A restart is logged and counted,
    and ``on_restart(reading)`` hears of it before the new stream's first state is taken;
    ``on_state(reading, received)`` (if given) gets each complete state, ``received`` its
    ``time.perf_counter()`` on arrival.
    """

    def __init__(self, task: Task, once_per_stamp: bool, odom_slop: float, logger,
                 drops: DropCounter, faults: dict[str, str], on_state: StateCallback | None,
                 on_restart: Callable[[messages.JointStateReading], None]):
        self.logger = logger
        self.parser = messages.JointStateParser(task.joint_names)
        self.floating_base = task.floating_base
        self.stamps = StampOrder(once_per_stamp)
        self.sync = StateSync(task.floating_base, odom_slop)
        self.drops, self.faults = drops, faults
        self.on_state, self.on_restart = on_state, on_restart
        self.latest: messages.JointStateReading | None = None
        self.received = -np.inf  # time.monotonic() of the latest state (watchdog)
        self.received_perf = 0.0  # time.perf_counter() of the same (latency)
        self.stale = False
        self.watchdog_trips = 0
        self.restarts = 0

    def connect(self, node: Node, qos_name: str) -> list:
        """Subscribe ``node`` to ``joint_states`` (and ``odom``): (destroy, subscription)s."""
        qos = messages.state_qos(qos_name)
        subscriptions = [node.create_subscription(JointState, 'joint_states',
                                                  self.on_joint_state, qos)]
        if self.floating_base:
            subscriptions.append(node.create_subscription(Odometry, 'odom', self.on_odometry,
                                                          qos))
        return [(node.destroy_subscription, s) for s in subscriptions]

    def counters(self) -> dict:
        return dict(watchdog_trips=self.watchdog_trips, state_restarts=self.restarts)

    def stale_after(self, timeout: float) -> bool:
        """
        Watchdog: whether no state came for more than ``timeout`` s; if so, it is stale.

        Each trip into staleness is counted and logged; the next state ends it.
        """
        age = time.monotonic() - self.received
        if age <= timeout:
            return False
        if not self.stale:
            self.stale = True
            self.watchdog_trips += 1
            self.logger.warning(f'no fresh joint state for {age:.3f} s: safe commands'
                                if self.latest is not None
                                else 'no joint state received yet: safe commands')
        return True

    def begins_episode(self, start: EpisodeStart) -> bool:
        """Act on no state older than the reset says; return whether the latest state begins it."""
        self.stamps.episode_begins(start)
        return self.latest is not None and start.begins_with(self.latest.stamp_ns, self.received)

    def latest_stamp(self, default: int | None) -> int | None:
        """Return the latest state's stamp, or ``default`` if none came yet."""
        return self.latest.stamp_ns if self.latest is not None else default

    def on_joint_state(self, msg: JointState) -> None:
        received = time.perf_counter()
        try:
            reading = self.parser.parse(msg)
        except messages.InvalidMessage as error:
            # A joint the policy needs is missing: a wiring error, not noise. Say it at error
            # level; the watchdog keeps the robot safe meanwhile.
            missing = error.reason == 'missing_joints'
            if missing:
                self.faults['missing_joints'] = str(error)
            self.drops.drop(error.reason, str(error), error=missing)
            return
        self.faults.pop('missing_joints', None)
        order = self.stamps.order(reading.stamp_ns, self.latest_stamp(None))
        if order is Order.OUT_OF_ORDER:
            self.drops.drop('out_of_order', f'stamp {reading.stamp_ns} < {self.latest.stamp_ns}')
            return
        if order is Order.RESTART:
            self.restarts += 1
            jump_s = (self.latest.stamp_ns - reading.stamp_ns) * 1e-9
            self.logger.warning(
                f'joint_states stamps jumped back {jump_s:.3f} s: the robot driver restarted? '
                f'Following its new stream ({self.restarts} restarts so far)')
            self.on_restart(reading)
        reading = self.sync.add_joints(reading)
        if reading is not None:
            self._take(reading, received)

    def on_odometry(self, msg: Odometry) -> None:
        # Ordering is the joint states' (with their restart rule): an odometry pairs with the
        # joint state of its stamp or with none.
        received = time.perf_counter()
        try:
            reading = messages.parse_odometry(msg)
        except messages.InvalidMessage as error:
            self.drops.drop(f'odom_{error.reason}', str(error))
            return
        reading = self.sync.add_odometry(reading)
        if reading is not None:
            self._take(reading, received)

    def _take(self, reading: messages.JointStateReading, received: float) -> None:
        self.latest = reading
        self.received = time.monotonic()
        self.received_perf = received
        if self.stale:
            self.stale = False
            self.logger.info('fresh joint state again: resuming')
        if self.on_state is not None:
            self.on_state(reading, received)

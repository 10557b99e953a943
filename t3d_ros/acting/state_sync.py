"""Robot state from two topics: joint states paired with the odometry of the same instant."""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the readings' types; this module itself never imports rclpy
    from t3d_ros.ros.messages import JointStateReading, OdometryReading

PENDING = 10
"""Unpaired messages kept per topic (the state topics' QoS depth)."""


class StateSync:
    """
    Completes joint state readings with the floating base's odometry.

    Without odometry (a fixed-base task) every joint state is complete as it comes. With it, a
    joint state is complete once the odometry of its instant has arrived, in either order: with
    ``slop`` 0 the stamps must be equal (the lockstep sim stamps both with the same sim time,
    so every step gets exactly its own pair); with ``slop`` > 0 (hardware, where two drivers
    stamp on their own) the nearest odometry within ``slop`` seconds of the joint state pairs.
    Once a pair is made, older unpaired messages of both topics can never pair: they are
    discarded and counted by ``discarded``.
    """

    def __init__(self, needs_odometry: bool, slop: float = 0.0):
        if slop < 0:
            raise ValueError(f'odom slop must be >= 0, not {slop}')
        self.needs_odometry = needs_odometry
        self.slop_ns = int(round(slop * 1e9))
        self._joints: OrderedDict[int, JointStateReading] = OrderedDict()
        self._odometry: OrderedDict[int, OdometryReading] = OrderedDict()
        self.discarded = 0

    def add_joints(self, reading: JointStateReading) -> JointStateReading | None:
        """Return the complete reading this joint state makes (None: its odometry is due)."""
        if not self.needs_odometry:
            return reading
        odometry = self._nearest(self._odometry, reading.stamp_ns)
        if odometry is None:
            self._keep(self._joints, reading)
            return None
        return self._pair(reading, odometry)

    def add_odometry(self, reading: OdometryReading) -> JointStateReading | None:
        """Return the complete reading this odometry makes with a waiting joint state."""
        joints = self._nearest(self._joints, reading.stamp_ns)
        if joints is None:
            self._keep(self._odometry, reading)
            return None
        return self._pair(joints, reading)

    def _nearest(self, pending: OrderedDict, stamp_ns: int):
        candidates = [r for s, r in pending.items() if abs(s - stamp_ns) <= self.slop_ns]
        return min(candidates, key=lambda r: abs(r.stamp_ns - stamp_ns), default=None)

    def _keep(self, pending: OrderedDict, reading) -> None:
        pending[reading.stamp_ns] = reading  # a republished message replaces its twin
        pending.move_to_end(reading.stamp_ns)
        while len(pending) > PENDING:
            pending.popitem(last=False)
            self.discarded += 1

    def _pair(self, joints: JointStateReading, odometry: OdometryReading
              ) -> JointStateReading:
        for pending, stamp_ns in ((self._joints, joints.stamp_ns),
                                  (self._odometry, odometry.stamp_ns)):
            for old in [s for s in pending if s <= stamp_ns]:
                del pending[old]
                self.discarded += old != stamp_ns
        return joints._replace(base=odometry.base)

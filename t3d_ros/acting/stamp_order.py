"""
Which robot states an actor takes and acts on, by their stamps (no ROS).

A state older than the latest one is out of order (reordered, replayed) and dropped, unless
it is the start of a restarted driver's (or sim's) new stream of stamps: RESTART_STATES states
in a row, stamped at least RESTART_JUMP_NS before the latest one and rising among themselves.
An actor triggered by states acts once per stamp (a republished state is not a new step), and
never on a state older than the one its reset named as the episode's first (``EpisodeStart``:
a sim that keeps an unstarted episode republishes its first state, and a copy republished
before the reset may arrive after the reply).
"""
from __future__ import annotations

import enum
from typing import NamedTuple

RESTART_JUMP_NS = 1_000_000_000
RESTART_STATES = 3
"""RESTART_STATES joint states in a row stamped at least RESTART_JUMP_NS before the latest
one, rising among themselves, mean the robot's driver restarted (its stamps began anew); any
other state older than the latest is out of order (reordered, replayed), dropped."""


class Order(enum.Enum):
    """What a state's stamp says about it, against the latest state's."""

    IN_ORDER = 'in_order'
    OUT_OF_ORDER = 'out_of_order'
    RESTART = 'restart'
    """The state completes a restarted stream: take it, as a new stream's first."""


class StampOrder:
    """
    The restart rule and the stamps acted on, for one robot's state stream.

    ``once_per_stamp``: act at most once on each stamp (an actor triggered by states); an
    actor on a timer acts on the latest state each tick, whatever its stamp.
    """

    def __init__(self, once_per_stamp: bool):
        self.once_per_stamp = once_per_stamp
        self._older_run: list[int] = []  # far older stamps in a row: a restart under way?
        self._acted_ns = -1

    def order(self, stamp_ns: int, latest_ns: int | None) -> Order:
        """Return how a state stamped ``stamp_ns`` stands to the latest (None: no state yet)."""
        if latest_ns is None or stamp_ns >= latest_ns:
            self._older_run = []
            return Order.IN_ORDER
        if latest_ns - stamp_ns < RESTART_JUMP_NS:
            return Order.OUT_OF_ORDER
        if self._older_run and stamp_ns <= self._older_run[-1]:
            self._older_run = []
        self._older_run.append(stamp_ns)
        if len(self._older_run) < RESTART_STATES:
            return Order.OUT_OF_ORDER
        self._older_run = []
        self._acted_ns = -1  # the new stream's stamps are all lower
        return Order.RESTART

    def may_act(self, stamp_ns: int) -> bool:
        """Whether to act on the state stamped ``stamp_ns`` now; if so, it counts as acted on."""
        if self.once_per_stamp and stamp_ns <= self._acted_ns:
            return False  # a republished state already acted on
        self._acted_ns = stamp_ns
        return True

    def episode_begins(self, start: EpisodeStart) -> None:
        """Act on no state older than the episode's first, where the reset named it."""
        if start.first_stamp_ns is not None:
            self._acted_ns = max(self._acted_ns, start.first_stamp_ns - 1)


class EpisodeStart(NamedTuple):
    """Which state begins the episode, once the robot is reset."""

    first_stamp_ns: int | None
    """The stamp of the episode's first state, where the reset names it (our sim does)."""
    floor_stamp_ns: int
    """Else: a state stamped after this (the latest before the reset) ..."""
    requested_at: float
    """... and received after this (``time.monotonic()`` when the reset was asked for)."""

    def begins_with(self, stamp_ns: int, received_at: float) -> bool:
        """Whether the state stamped ``stamp_ns``, received at ``received_at``, is that state."""
        if self.first_stamp_ns is not None:
            return stamp_ns >= self.first_stamp_ns
        return stamp_ns > self.floor_stamp_ns and received_at > self.requested_at

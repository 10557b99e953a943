"""Samples-per-insert rate limiting: learning progress per env step independent of speed."""
from __future__ import annotations

import math


class UpdateRateLimiter:
    """
    Holds ``updates / (inserted - learning_starts)`` at ``updates_per_step``.

    The learner side may run ``updates_allowed()`` more updates; the actor side is asked to
    pause (``should_throttle``) while inserts run more than ``max_ahead`` transitions ahead of
    the updates, and to go on once they are back under half of that (hysteresis, so actors do
    not flap). Acme's SampleToInsertRatio limiter does the same with blocking calls; over ROS
    the actors cannot be blocked, so they are told.
    """

    def __init__(self, updates_per_step: float, learning_starts: int, max_ahead: int):
        if updates_per_step <= 0 or learning_starts < 0 or max_ahead < 1:
            raise ValueError('updates_per_step > 0, learning_starts >= 0 and max_ahead >= 1')
        self.updates_per_step = updates_per_step
        self.learning_starts = learning_starts
        self.max_ahead = max_ahead
        self.throttled = False

    def target_updates(self, inserted: int) -> int:
        return max(0, math.floor((inserted - self.learning_starts) * self.updates_per_step))

    def updates_allowed(self, inserted: int, updates: int) -> int:
        return max(0, self.target_updates(inserted) - updates)

    def should_throttle(self, inserted: int, updates: int) -> bool:
        """Whether actors that can wait (lockstep sims) should pause now."""
        if inserted <= self.learning_starts:
            self.throttled = False
            return False
        ahead = (inserted - self.learning_starts) - updates / self.updates_per_step
        if ahead > self.max_ahead:
            self.throttled = True
        elif ahead <= self.max_ahead / 2:
            self.throttled = False
        return self.throttled

"""Samples-per-insert rate limiting: learning progress per env step independent of speed."""
from __future__ import annotations

import math
from typing import Mapping


class UpdateRateLimiter:
    """
    Holds ``updates / (inserted - learning_starts)`` at ``updates_per_step``.

    The learner side may run ``updates_allowed()`` more updates; the actor side is asked to
    pause (``should_throttle``) while inserts run more than ``max_ahead`` transitions ahead of
    the updates, and to go on once they are back under half of that (hysteresis, so actors do
    not flap). Acme's SampleToInsertRatio limiter does the same with blocking calls; over ROS
    the actors cannot be blocked, so they are told.

    Both counts are taken from ``origin`` (inserted, updates): (0, 0) in a fresh run; where a
    resume found fewer than ``learning_starts`` transitions in the memory, the counts then
    (``resume``), so learning starts again once the memory holds ``learning_starts``.
    """

    def __init__(self, updates_per_step: float, learning_starts: int, max_ahead: int):
        if updates_per_step <= 0 or learning_starts < 0 or max_ahead < 1:
            raise ValueError('updates_per_step > 0, learning_starts >= 0 and max_ahead >= 1')
        self.updates_per_step = updates_per_step
        self.learning_starts = learning_starts
        self.max_ahead = max_ahead
        self.throttled = False
        self.origin = (0, 0)

    def target_updates(self, inserted: int) -> int:
        inserted_from, updates_from = self.origin
        return updates_from + max(0, math.floor(
            (inserted - inserted_from - self.learning_starts) * self.updates_per_step))

    def updates_allowed(self, inserted: int, updates: int) -> int:
        return max(0, self.target_updates(inserted) - updates)

    def should_throttle(self, inserted: int, updates: int) -> bool:
        """Whether actors that can wait (lockstep sims) should pause now."""
        inserted_from, updates_from = self.origin
        learning = inserted - inserted_from - self.learning_starts
        if learning <= 0:
            self.throttled = False
            return False
        ahead = learning - (updates - updates_from) / self.updates_per_step
        if ahead > self.max_ahead:
            self.throttled = True
        elif ahead <= self.max_ahead / 2:
            self.throttled = False
        return self.throttled

    def state(self) -> dict[str, list[int]]:
        """Return what ``resume`` needs of this limiter, to save with a checkpoint's counters."""
        return {'rate_origin': list(self.origin)}

    def resume(self, state: Mapping, inserted: int, updates: int, held: int) -> None:
        """
        Continue from a checkpoint's counts with ``held`` of its ``inserted`` transitions.

        ``state`` is what ``state()`` gave (empty from an older checkpoint: a fresh origin).
        Holding fewer than ``learning_starts`` (a resume without the replay memory), learning
        starts again as in a fresh run: no update until ``learning_starts`` are held, then
        ``updates_per_step`` per transition from there. The updates owed to the data that is
        gone are not made on the new data.
        """
        self.origin = tuple(state.get('rate_origin', (0, 0)))
        if held < self.learning_starts:
            self.origin = (inserted - held, updates)

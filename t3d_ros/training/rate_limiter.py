"""Samples-per-insert rate limiting: learning progress per env step independent of speed."""
from __future__ import annotations

import collections
import math
from typing import Mapping

RATIO_WINDOW = 1000
"""Inserted transitions over which the ceiling also holds (20 s of one 50 Hz robot), and over
which the recent update-to-data ratio is reported."""


class UpdateRateLimiter:
    """
    Holds ``updates / (inserted - learning_starts)`` between a floor and a ceiling.

    The floor is ``updates_per_step``: the learner may always run the updates it owes to it,
    and the actor side is asked to pause (``should_throttle``) while inserts run more than
    ``max_ahead`` transitions ahead of it, and to go on once they are back under half of that
    (hysteresis, so actors do not flap). Acme's SampleToInsertRatio limiter does the same with
    blocking calls; over ROS the actors cannot be blocked, so they are told.

    The ceiling is ``max_updates_per_step`` (None: the floor, a 1:1 lock to the ratio). Above
    the floor the learner may run as fast as it can up to it, counted over the whole run and
    over the last ``RATIO_WINDOW`` inserts, so a learner that was slow for a while does not
    make up for it in a burst on the same data. Only updates owed to the floor are exempt from
    the window: without them, throttled actors would wait for ever.

    Both counts are taken from ``origin`` (inserted, updates): (0, 0) in a fresh run; where a
    resume found fewer than ``learning_starts`` transitions in the memory, the counts then
    (``resume``), so learning starts again once the memory holds ``learning_starts``.
    """

    def __init__(self, updates_per_step: float, learning_starts: int, max_ahead: int,
                 max_updates_per_step: float | None = None, window: int = RATIO_WINDOW):
        ceiling = updates_per_step if max_updates_per_step is None else max_updates_per_step
        if (updates_per_step <= 0 or ceiling < updates_per_step or learning_starts < 0
                or max_ahead < 1 or window < 1):
            raise ValueError('0 < updates_per_step <= max_updates_per_step, learning_starts >= '
                             '0, max_ahead >= 1 and window >= 1')
        self.updates_per_step = updates_per_step
        self.max_updates_per_step = ceiling
        self.learning_starts = learning_starts
        self.max_ahead = max_ahead
        self.window = window
        self.throttled = False
        self.origin = (0, 0)
        self._marks: collections.deque[tuple[int, int]] = collections.deque()
        """(learning inserts, updates since the origin) at each ``record``, the oldest at or
        before the window's start."""

    def _learning(self, inserted: int) -> int:
        """Return the inserts since learning started (from the origin)."""
        return inserted - self.origin[0] - self.learning_starts

    def target_updates(self, inserted: int, ratio: float | None = None) -> int:
        """Return the updates due at ``ratio`` (the floor by default) over the whole run."""
        ratio = self.updates_per_step if ratio is None else ratio
        return self.origin[1] + max(0, math.floor(self._learning(inserted) * ratio))

    def record(self, inserted: int, updates: int) -> None:
        """Note the counts after an insert: the window's history."""
        learning = self._learning(inserted)
        if learning <= 0:
            return
        self._marks.append((learning, updates - self.origin[1]))
        while len(self._marks) > 1 and self._marks[1][0] <= learning - self.window:
            self._marks.popleft()

    def _window_start(self, inserted: int) -> tuple[int, int]:
        """
        Return (learning inserts, updates) where the window starts; (0, 0) before a full one.

        The inserts after a batch, the updates after the next batch came: those before it ran
        on the batch's data and count in the window before.
        """
        if len(self._marks) < 2 or self._marks[0][0] > self._learning(inserted) - self.window:
            return (0, 0)
        return self._marks[0][0], self._marks[1][1]

    def updates_allowed(self, inserted: int, updates: int) -> int:
        owed_to_floor = self.target_updates(inserted) - updates
        if self.max_updates_per_step == self.updates_per_step:
            return max(0, owed_to_floor)
        learning = max(0, self._learning(inserted))
        start_learning, start_updates = self._window_start(inserted)
        window_room = math.floor((learning - start_learning) * self.max_updates_per_step) - (
            updates - self.origin[1] - start_updates)
        run_room = self.target_updates(inserted, self.max_updates_per_step) - updates
        return max(0, owed_to_floor, min(run_room, window_room))

    def ratios(self, inserted: int, updates: int) -> tuple[float, float]:
        """Return the update-to-data ratio over the run and over the window (nan: no data)."""
        learning = self._learning(inserted)
        start_learning, start_updates = self._window_start(inserted)
        made = updates - self.origin[1]
        return (made / learning if learning > 0 else math.nan,
                (made - start_updates) / (learning - start_learning)
                if learning > start_learning else math.nan)

    def should_throttle(self, inserted: int, updates: int) -> bool:
        """Whether actors that can wait (lockstep sims) should pause now."""
        learning = self._learning(inserted)
        if learning <= 0:
            self.throttled = False
            return False
        ahead = learning - (updates - self.origin[1]) / self.updates_per_step
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
        gone are not made on the new data. The window starts afresh.
        """
        self.origin = tuple(state.get('rate_origin', (0, 0)))
        if held < self.learning_starts:
            self.origin = (inserted - held, updates)
        self._marks.clear()

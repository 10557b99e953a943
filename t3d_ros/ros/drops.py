"""Counting and logging (throttled) the messages a node drops, by reason."""
from __future__ import annotations

import time
from collections import Counter


class DropCounter:
    """
    Counts of dropped inputs, with throttled warnings.

    ``drop(reason, detail)`` counts a dropped input and warns at most every ``period`` s per
    reason; ``counts()`` feeds /diagnostics.
    """

    def __init__(self, logger, what: str, period: float = 5.0):
        self._logger = logger
        self._what = what
        self._period = period
        self._counts: Counter[str] = Counter()
        self._last_warned: dict[str, float] = {}

    def drop(self, reason: str, detail: str = '', error: bool = False) -> None:
        """
        Count; log at most every ``period`` s per reason.

        With ``error``, log at error level: for input that cannot work until someone fixes the
        setup.
        """
        self._counts[reason] += 1
        now = time.monotonic()
        if now - self._last_warned.get(reason, -float('inf')) >= self._period:
            self._last_warned[reason] = now
            message = f'dropped {self._what} ({reason}, {self._counts[reason]} so far): {detail}'
            # Two call sites: rclpy refuses one call site logging at two severities.
            if error:
                self._logger.error(message)
            else:
                self._logger.warning(message)

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        return {f'dropped_{self._what}_{reason}': n for reason, n in sorted(self._counts.items())}

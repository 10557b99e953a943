"""Rolling latency percentiles for /diagnostics."""
from __future__ import annotations

from collections import deque

import numpy as np


class LatencyWindow:
    """The last ``size`` latencies (seconds); ``percentiles()`` in milliseconds."""

    def __init__(self, size: int = 1000):
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def percentiles(self, prefix: str) -> dict[str, float]:
        if not self._samples:
            return {}
        p50, p99 = np.percentile(np.fromiter(self._samples, float), [50, 99]) * 1e3
        return {f'{prefix}_p50_ms': float(p50), f'{prefix}_p99_ms': float(p99)}

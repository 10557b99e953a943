"""Episode returns rebuilt from streams of transitions, one stream per actor."""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np


class Episode(NamedTuple):
    actor_id: str
    episode_return: float
    length: int


class EpisodeTracker:
    """Sums rewards per actor until a terminated or truncated transition closes the episode.

    Each actor's transitions arrive in order (reliable QoS), so the learner knows every
    episode's return without a second channel.
    """

    def __init__(self):
        self._returns: dict[str, float] = defaultdict(float)
        self._lengths: dict[str, int] = defaultdict(int)

    def add(self, actor_id: str, reward: np.ndarray, done: np.ndarray) -> list[Episode]:
        finished = []
        for r, is_done in zip(reward.tolist(), done.tolist()):
            self._returns[actor_id] += r
            self._lengths[actor_id] += 1
            if is_done:
                finished.append(Episode(actor_id, self._returns.pop(actor_id),
                                        self._lengths.pop(actor_id)))
        return finished

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
    """
    Sums rewards per actor until a terminated or truncated transition closes the episode.

    Each actor's transitions arrive in order (reliable QoS), so the learner knows every
    episode's return without a second channel. When that fails, the owner says so: after a
    ``restart`` of the actor its next transition starts a new episode; after an ``interrupt``
    (lost messages, or an actor first heard after its episode under way began) that episode is
    incomplete and is not reported: the actor's next reported episode begins after its end.
    """

    def __init__(self):
        self._returns: dict[str, float] = defaultdict(float)
        self._lengths: dict[str, int] = defaultdict(int)
        self._incomplete: set[str] = set()
        self.discarded = 0
        """Episodes not reported: cut by an actor restart, by lost messages or by joining an
        actor's stream late."""

    def add(self, actor_id: str, reward: np.ndarray, done: np.ndarray) -> list[Episode]:
        finished = []
        for r, is_done in zip(reward.tolist(), done.tolist()):
            self._returns[actor_id] += r
            self._lengths[actor_id] += 1
            if is_done:
                episode = Episode(actor_id, self._returns.pop(actor_id),
                                  self._lengths.pop(actor_id))
                if actor_id in self._incomplete:
                    self._incomplete.discard(actor_id)
                    self.discarded += 1
                else:
                    finished.append(episode)
        return finished

    def restart(self, actor_id: str) -> None:
        """Forget the restarted actor's episode under way; its next transition starts one."""
        if self._lengths.pop(actor_id, 0) or actor_id in self._incomplete:
            self.discarded += 1
        self._returns.pop(actor_id, None)
        self._incomplete.discard(actor_id)

    def interrupt(self, actor_id: str) -> None:
        """Transitions of the actor's episode under way were not heard: it is not reported."""
        self._incomplete.add(actor_id)

"""Each actor's stream of transition messages: sequence gaps, restarts, a bounded table."""
from __future__ import annotations

import time
from typing import Callable, NamedTuple

MAX_MESSAGE_RATE_HZ = 100_000
"""Messages per second no actor sends: far above any control loop (a lockstep actor sending
each transition on its own sends a few thousand)."""
QUEUED_MESSAGES = 10_000
"""Messages an actor may have sent before the learner took its previous one and that were
still queued then (the /t3d/transitions histories of writer and reader hold 1000 each)."""


class Arrival(NamedTuple):
    """What one message says about its actor's stream."""

    lost: int = 0
    """Messages of this actor that never arrived before this one (a gap in the sequence)."""
    restarted: bool = False
    """The sequence went back: the actor process restarted (a new stream from 0)."""
    joined_late: bool = False
    """The first message heard of this actor process is not its first (``seq`` > 0): the
    learner started, or heard the restarted actor, after the actor's episode under way began."""
    suspicious: bool = False
    """A gap larger than the actor could have sent since its last message: not its message
    (forged or corrupt); it counts as neither a loss nor a place in the stream."""


class ActorStreams:
    """
    Per-actor bookkeeping of ``/t3d/transitions`` sequence numbers.

    Each actor numbers its messages 0, 1, 2, ... A number above the next expected one means
    the messages in between were lost (counted per actor); one below it means the actor
    restarted. Gaps are counted from the first message this learner receives from an actor
    (what an actor sent while no learner ran is not known here); a first message other than
    number 0 says that the learner joined the stream late. Messages without a number (an older
    actor) are accepted uncounted.

    A gap cannot exceed what the actor could have sent since the learner took its previous
    message: ``QUEUED_MESSAGES`` then queued, plus ``MAX_MESSAGE_RATE_HZ`` per second since.
    A message claiming more is counted in ``suspicious`` and leaves the stream as it was, so
    the actor's next message is taken as before.

    At most ``max_actors`` actors are tracked, so a peer that claims ever new actor ids cannot
    grow the learner's memory: messages of further actors are refused (``admit`` returns None)
    and counted in ``refused``.
    """

    def __init__(self, max_actors: int, clock: Callable[[], float] = time.monotonic):
        if max_actors < 1:
            raise ValueError('max_actors must be >= 1')
        self.max_actors = max_actors
        self._clock = clock
        self._next: dict[str, int | None] = {}
        self._heard_at: dict[str, float] = {}
        self.lost: dict[str, int] = {}
        self.restarts: dict[str, int] = {}
        self.refused = 0
        self.suspicious = 0

    def __len__(self) -> int:
        return len(self._next)

    def __contains__(self, actor_id: str) -> bool:
        return actor_id in self._next

    def admit(self, actor_id: str, seq: int | None) -> Arrival | None:
        """Record a message of ``actor_id`` numbered ``seq``; None if the table is full."""
        now = self._clock()
        if actor_id not in self._next:
            if len(self._next) >= self.max_actors:
                self.refused += 1
                return None
            self._next[actor_id] = None
            self.lost[actor_id] = 0
            self.restarts[actor_id] = 0
        expected = self._next[actor_id]
        if seq is None:
            arrival = Arrival()
        elif expected is None:
            arrival = Arrival(joined_late=seq > 0)
        elif seq < expected:
            self.restarts[actor_id] += 1
            arrival = Arrival(restarted=True, joined_late=seq > 0)
        elif seq - expected > self._largest_gap(now - self._heard_at[actor_id]):
            self.suspicious += 1
            return Arrival(suspicious=True)
        else:
            self.lost[actor_id] += seq - expected
            arrival = Arrival(lost=seq - expected)
        self._next[actor_id] = None if seq is None else seq + 1
        self._heard_at[actor_id] = now
        return arrival

    @staticmethod
    def _largest_gap(seconds: float) -> float:
        return QUEUED_MESSAGES + MAX_MESSAGE_RATE_HZ * max(seconds, 0.0)

    def total_lost(self) -> int:
        return sum(self.lost.values())

    def total_restarts(self) -> int:
        return sum(self.restarts.values())

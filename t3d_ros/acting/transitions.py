"""
Experience from an actor to the learner: one step, and a batch of steps.

The actor core closes a :class:`Transition` per control step; the actor gathers them into a
:class:`TransitionBatch`, which ``TransitionCodec`` (``t3d_ros.ros.messages``) puts on
``/t3d/transitions`` and takes off again, and which ``Learner.insert`` takes whole. The direct
trainer hands its batches to the learner without the codec.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np


class Transition(NamedTuple):
    """One step of experience, as the learner stores it."""

    obs: np.ndarray
    action: np.ndarray
    """The command the robot was sent (physical units, task joint order); where the action
    moves a joint target (``Task.tracks_target``), the change chosen."""
    reward: float
    next_obs: np.ndarray
    terminated: bool
    truncated: bool

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


TRANSITION_FIELDS = Transition._fields
"""The columns of a batch, in the order of a row on the wire."""


class TransitionBatch(NamedTuple):
    """Transitions from one actor, a column per field; actions in physical units."""

    actor_id: str
    policy_version: int
    """The version of the policy that chose the actions (-1: none yet)."""
    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    seq: int | None = None
    """The actor's message number (0, 1, 2, ... per actor process); None where no messages
    are numbered (older actors, the direct trainer)."""

    @classmethod
    def of(cls, transitions: Sequence[Transition], actor_id: str, policy_version: int,
           seq: int | None = None) -> TransitionBatch:
        """Return the batch of ``transitions`` (at least one), in their order."""
        columns = [np.array(column) for column in zip(*transitions)]
        return cls(actor_id, policy_version, *columns, seq=seq)

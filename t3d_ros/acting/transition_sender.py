"""
What a training actor sends the learner, and when it waits for it (Acme's adder; no ROS).

Closed transitions go into an outbox and out in messages of ``per_message`` transitions (and
at episode end); the latest stays back until the next, so an episode cut short (e_stop,
watchdog, pause) still ends at it, truncated. Before a learner first listens, the actor takes
its ``start_steps`` (random actions: no policy needed) and holds their messages, at most
``window`` of them, so a learner that starts slower than the robot loses neither its data nor
the time; then it waits. Once a
learner listens: flow control (``follow_throttle``), i.e. wait while the learner asks to on
/t3d/throttle, and while ``window`` messages are not acknowledged by every reliable reader (a
learner that is stalled, e.g. stopped or swapped out, cannot even say so). The transport is
the node's :class:`LearnerLink`.
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

from t3d_ros.acting.transitions import Transition


class LearnerLink(Protocol):
    """The transport to the learner: ``/t3d/transitions`` out, ``/t3d/throttle`` in."""

    def message(self, transitions: Sequence[Transition], seq: int) -> Any:
        """Return the message that carries ``transitions`` as the actor's message ``seq``."""

    def publish(self, message: Any) -> None:
        """Send ``message``."""

    def listening(self) -> bool:
        """Whether a learner subscribes to the transitions."""

    def acknowledged(self) -> bool:
        """Whether every reliable reader acknowledged every message sent so far."""

    def throttle_publishers(self) -> int:
        """Count the publishers of /t3d/throttle (the learners that can ask to wait)."""


class TransitionSender:
    """
    The outbox, the held messages, and flow control of one actor.

    ``training`` False (deploy): no transitions, never waits. ``logger``: an rclpy logger, or
    anything with ``info(text)`` and ``warning(text, throttle_duration_sec=...)``.
    """

    def __init__(self, per_message: int, window: int, start_steps: int, training: bool,
                 follow_throttle: bool, logger):
        self.per_message = per_message
        self.window = window
        """Messages that may await acknowledgement (or be held) before the actor waits."""
        self.start_steps = start_steps
        self.follows_learner = training and follow_throttle
        self.logger = logger
        self.link: LearnerLink | None = None
        self.seq = 0  # numbers this process's transition messages
        self.unacked = 0  # messages sent since all were last acknowledged
        self.held: list | None = [] if training else None
        """Messages made before a learner first listened, sent in order when one does (None
        from then on)."""
        self.clear()

    def connect(self, link: LearnerLink) -> None:
        """Send through ``link`` from now on (the node made its publisher)."""
        self.link = link

    def clear(self) -> None:
        """
        Forget the transitions not yet sent, the waits and the throttle (a cleaned-up node).

        The message numbers and the held messages go on.
        """
        self.outbox: list[Transition] = []
        self.waiting = False
        """Waiting for a learner (none listens yet, or it does not acknowledge)."""
        self.throttled = False
        self.waits = 0  # times flow control started waiting for acknowledgements

    def counters(self) -> dict:
        return dict(flow_waits=self.waits)

    def record(self, transition: Transition | None) -> None:
        """
        Queue a closed transition (None: none was closed); send a full message.

        The latest transition stays in the outbox until the next one or a flush, so that
        ``truncate_last`` can still end the episode at it.
        """
        if transition is None:
            return
        self.outbox.append(transition)
        if len(self.outbox) > self.per_message:
            latest = self.outbox.pop()
            self.flush()
            self.outbox.append(latest)

    def truncate_last(self) -> bool:
        """End the episode at the latest transition recorded (it bootstraps); False if none."""
        if not self.outbox or self.outbox[-1].done:
            return False
        self.outbox[-1] = self.outbox[-1]._replace(truncated=True)
        return True

    def flush(self) -> None:
        """Send the queued transitions (hold them while no learner ever listened)."""
        if not self.outbox:
            return
        message = self.link.message(self.outbox, self.seq)
        self.outbox = []
        self.seq += 1
        if self.held is not None and not self._hand_over_held():
            self.held.append(message)
        else:
            self._send(message)

    def throttle(self, asked: bool) -> bool:
        """Take the learner's /t3d/throttle value; return whether to wait for it now."""
        self.throttled = asked and self.follows_learner
        return self.throttled

    def asked_to_wait(self) -> bool:
        """Whether the learner asks to wait now (one that is gone asks nothing)."""
        if self.throttled and self.link.throttle_publishers() == 0:
            self.throttled = False  # the learner that asked us to wait is gone: act on
        return self.throttled

    def behind(self, env_steps: int) -> bool:
        """Whether to wait for the learner now, after ``env_steps`` steps (module docstring)."""
        waiting = self._no_learner_yet(env_steps) or self._unacknowledged()
        if self.waiting and not waiting:
            self.logger.info('the learner caught up: acting again')
        self.waiting = waiting
        return waiting

    def _no_learner_yet(self, env_steps: int) -> bool:
        if self.held is None or self._hand_over_held():
            return False
        if env_steps < self.start_steps and len(self.held) < self.window:
            return False
        if not self.waiting:
            self.logger.info(f'waiting for a learner on /t3d/transitions (holding '
                             f'{len(self.held)} transition messages for it)')
        return True

    def _unacknowledged(self) -> bool:
        if not self.follows_learner or self.unacked < self.window:
            return False
        if self.link.acknowledged():
            self.unacked = 0
            return False
        if not self.waiting:
            self.waits += 1
            self.logger.warning(f'{self.unacked} transition messages not acknowledged by the '
                                'learner: waiting', throttle_duration_sec=5.0)
        return True

    def _hand_over_held(self) -> bool:
        """Send the held messages if a learner listens now; True if one does."""
        if not self.link.listening():
            return False
        held, self.held = self.held, None
        for message in held:
            self._send(message)
        if held:
            self.logger.info(f'a learner listens: sent it the {len(held)} transition messages '
                             'made before')
        return True

    def _send(self, message: Any) -> None:
        if self.unacked and self.link.acknowledged():
            # Acknowledged at the writer's last heartbeat: count afresh. Checked before the next
            # message only, as none can be acknowledged before the heartbeat after it.
            self.unacked = 0
        self.link.publish(message)
        self.unacked += 1

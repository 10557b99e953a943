"""
How a training actor has its robot reset at episode end.

:class:`ResetClient` is what the actor node calls; :class:`ServiceReset` calls the robot's
``reset`` service (std_srvs/Trigger), as a sim offers it, and learns from the reply which state
begins the episode; :class:`NoReset` lets the episode go on from the current state;
``homing_reset.HomingReset`` drives the robot to the start pose.
"""
from __future__ import annotations

import time
from typing import Callable, Protocol

from rclpy.node import Node
from std_srvs.srv import Trigger

from t3d_ros.acting.stamp_order import EpisodeStart
from t3d_ros.ros import messages

RESET_RETRY_PERIOD = 0.5
"""How often the node polls its reset client (a call not yet made, or given up on)."""
RESET_TIMEOUT = 5.0
"""Seconds without an answer after which a reset call is abandoned and made again (a sim that
died in the middle of the call never answers it)."""


class ResetClient(Protocol):
    """
    The episode-end reset, as the actor node drives it.

    Once the robot is reset, the client calls the node back with the ``EpisodeStart``.
    """

    awaiting: bool
    """A reset was begun and the episode has not started yet: the actor does not act."""

    def connect(self, node: Node) -> list:
        """Make the node's entities it needs (configure); return them as (destroy, entity)."""

    def begin(self, floor_stamp_ns: int) -> None:
        """Reset the robot; ``floor_stamp_ns``: the latest state's stamp (-1: none)."""

    def poll(self, active: bool) -> None:
        """Go on with a reset under way (every RESET_RETRY_PERIOD s, ``active`` or not)."""

    def stream_restarted(self, stamp_ns: int) -> None:
        """Follow the robot's new stream of stamps, begun at ``stamp_ns`` during a reset."""

    def counters(self) -> dict:
        """Return counts for diagnostics."""


class ServiceReset:
    """
    A :class:`ResetClient` that calls the ``reset`` service (std_srvs/Trigger).

    The call is made once the service is there, made again after a failed answer or after
    RESET_TIMEOUT s without one. A successful answer calls ``on_episode`` with the
    :class:`EpisodeStart`.
    """

    def __init__(self, logger, on_episode: Callable[[EpisodeStart], None]):
        self.logger = logger
        self.on_episode = on_episode
        self.awaiting = False
        self.timeouts = 0
        self._client = None
        self._future = None
        self._called_at = 0.0
        self._floor_stamp_ns = -1

    def connect(self, node: Node) -> list:
        self._client = node.create_client(Trigger, 'reset')
        return [(node.destroy_client, self._client), (ServiceReset._forget_call, self)]

    def _forget_call(self) -> None:
        """Ignore the answer to a call made before the client was destroyed (cleanup)."""
        self._future = None

    def counters(self) -> dict:
        return dict(reset_timeouts=self.timeouts)

    def begin(self, floor_stamp_ns: int) -> None:
        self.awaiting = True
        self._floor_stamp_ns = floor_stamp_ns
        self.poll(active=True)

    def stream_restarted(self, stamp_ns: int) -> None:
        self._floor_stamp_ns = stamp_ns

    def poll(self, active: bool) -> None:
        if self._future is not None and not self._future.done() and (
                time.monotonic() - self._called_at > RESET_TIMEOUT):
            self._client.remove_pending_request(self._future)
            self._future.cancel()
            self._future = None
            self.timeouts += 1
            self.logger.warning(f'no answer to the reset call within {RESET_TIMEOUT} s (did the '
                                'sim restart?): calling again')
        if not (active and self.awaiting) or self._future is not None:
            return
        if not self._client.service_is_ready():
            self.logger.info('waiting for the reset service', throttle_duration_sec=5.0)
            return
        self._called_at = time.monotonic()
        self._future = self._client.call_async(Trigger.Request())
        self._future.add_done_callback(self._on_done)

    def _on_done(self, future) -> None:
        if future is not self._future or future.cancelled():
            return  # a call given up on (RESET_TIMEOUT)
        self._future = None
        response = future.result()
        if response is None or not response.success:
            self.logger.warning(f'reset failed: {getattr(response, "message", "")}; retrying')
            return
        self.awaiting = False
        self.on_episode(EpisodeStart(messages.parse_reset_reply(response.message),
                                     self._floor_stamp_ns, self._called_at))


class NoReset:
    """
    A :class:`ResetClient` for tasks that simply continue: the next state begins the episode.

    No call, no motion: the robot goes on from where the last episode left it.
    """

    def __init__(self, on_episode: Callable[[EpisodeStart], None]):
        self.on_episode = on_episode
        self.awaiting = False

    def connect(self, node: Node) -> list:
        return []

    def counters(self) -> dict:
        return {}

    def begin(self, floor_stamp_ns: int) -> None:
        self.on_episode(EpisodeStart(None, floor_stamp_ns, time.monotonic()))

    def poll(self, active: bool) -> None:
        """Nothing is ever under way."""

    def stream_restarted(self, stamp_ns: int) -> None:
        """Nothing is ever under way."""

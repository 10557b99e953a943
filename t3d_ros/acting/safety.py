"""
The last line between a policy and the robot's command topic (pure numpy, always on).

Whatever comes in, :meth:`CommandSafety.limit` returns a finite command inside the per-joint
limits that differs from the previous published command by at most ``max_delta`` per tick;
:meth:`CommandSafety.safe_command` is what goes out when the actor must not act (stale state,
no policy, e_stop): zero effort/velocity, or hold the measured position.
"""
from __future__ import annotations

import numpy as np

from t3d_ros.tasks.base import ControlInterface


class CommandSafety:
    """
    Per-joint clamp, NaN guard and rate limit for one robot's commands.

    :param interface: the controller's command interface.
    :param low, high: per-joint command limits (the bundle's, optionally tightened).
    :param max_delta: largest change per tick, per joint (scalar or array; inf = no limit).
    """

    def __init__(self, interface: ControlInterface, low, high, max_delta=np.inf):
        self.interface = ControlInterface(interface)
        self.low = np.asarray(low, dtype=np.float64).copy()
        self.high = np.asarray(high, dtype=np.float64).copy()
        self.max_delta = np.broadcast_to(np.asarray(max_delta, dtype=np.float64),
                                         self.low.shape).copy()
        if not (np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high))
                and np.all(self.low <= self.high)):
            raise ValueError(f'command limits must be finite with low <= high: '
                             f'{self.low} .. {self.high}')
        if self.interface is not ControlInterface.POSITION and not (
                np.all(self.low <= 0.0) and np.all(self.high >= 0.0)):
            # The safe command of effort and velocity control is zero: it must be a command
            # the limits allow, or the robot's "stop" would be clipped into a push.
            raise ValueError(f'{self.interface.value} command limits must include 0 (the safe '
                             f'command) for every joint: {self.low} .. {self.high}')
        if np.any(np.isnan(self.max_delta)) or np.any(self.max_delta <= 0):
            raise ValueError(f'max_delta must be > 0 (inf for no limit): {self.max_delta}')
        self._rate_limited = bool(np.any(np.isfinite(self.max_delta)))
        self._previous: np.ndarray | None = None

    @classmethod
    def tightened(cls, interface, low, high, max_delta=np.inf, tighter_low=None,
                  tighter_high=None) -> 'CommandSafety':
        """Limits from the policy, narrowed (never widened) by operator parameters."""
        low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        for name, values in (('command_low', tighter_low), ('command_high', tighter_high)):
            # One value per joint: a shorter list would be broadcast (one value for every
            # joint) or fail with a numpy error instead of saying what is wrong.
            if values is not None and len(values) and np.shape(values) != low.shape:
                raise ValueError(f'{name} needs one value per joint ({low.size}), got '
                                 f'{list(values)}')
        if tighter_low is not None and len(tighter_low):
            low = np.maximum(low, np.asarray(tighter_low, dtype=np.float64))
        if tighter_high is not None and len(tighter_high):
            high = np.minimum(high, np.asarray(tighter_high, dtype=np.float64))
        return cls(interface, low, high, max_delta)

    def limit(self, command, measured_position=None) -> np.ndarray:
        """
        Return the command to publish for ``command`` (non-finite values become the safe value).

        The change is limited from the previous command or, before any, from rest: zero
        effort/velocity, or ``measured_position`` (the joints' position now) for position
        control, so the very first command ramps up like every other one.
        """
        command = np.asarray(command, dtype=np.float64).reshape(self.low.shape)
        reference = self._reference(measured_position)
        finite = np.isfinite(command)
        if not finite.all():
            command = np.where(finite, command, self._rest_value(reference))
        if reference is not None and self._rate_limited:  # (an infinite max_delta clips nothing)
            command = np.clip(command, reference - self.max_delta, reference + self.max_delta)
        return self._remember(command)

    def _reference(self, measured_position) -> np.ndarray | None:
        """Return what the rate limit counts from: the last command, else the joints at rest."""
        if self._previous is not None:
            return self._previous
        if self.interface is not ControlInterface.POSITION:
            return np.zeros_like(self.low)
        if measured_position is not None:
            measured = np.asarray(measured_position, dtype=np.float64).reshape(self.low.shape)
            if np.all(np.isfinite(measured)):
                return measured
        return None  # position control with nothing known: no reference to limit from

    def safe_command(self, measured_position=None) -> np.ndarray | None:
        """
        Zero effort/velocity, or hold position: the measured one, else the last command.

        None for a position interface that knows neither: publishing nothing is the only safe
        position command then.
        """
        if self.interface is not ControlInterface.POSITION:
            return self._remember(np.zeros_like(self.low))
        hold = self._previous if measured_position is None else np.asarray(
            measured_position, dtype=np.float64).reshape(self.low.shape)
        if hold is None or not np.all(np.isfinite(hold)):
            hold = self._previous
        return None if hold is None else self._remember(hold)

    def _rest_value(self, reference: np.ndarray | None) -> np.ndarray:
        """
        Return what replaces a non-finite value.

        Zero, or for position control the last command (else the measured position).
        """
        if self.interface is ControlInterface.POSITION and reference is not None:
            return reference
        return np.zeros_like(self.low)

    def _remember(self, command: np.ndarray) -> np.ndarray:
        # np.clip's value for finite input, without its Python-level argument handling.
        command = np.minimum(np.maximum(command, self.low), self.high)
        self._previous = command
        return command.copy()

"""
Driving a robot to an episode's start pose at episode end, for robots without a reset (no ROS).

The start pose is the task's own reset distribution: ``Task.sample_initial_state`` drawn from
the initial-state stream of the actor's seed (``SeedStream.INITIAL_STATES``), as the sim draws
it. Each control tick :meth:`Homing.command` gives the command towards it, which the caller sends
through the safety layer (limits, ``max_delta``): a position interface ramps its target at
``speed``; velocity is P-control on the error; effort is PD control. Homing is done once every
joint is within ``tolerance`` of the pose and moves slower than ``tolerance`` per second, and
has failed after ``timeout`` s.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from t3d_ros.tasks.base import ControlInterface, Task
from t3d_ros.tasks.seeds import SeedStream, stream_rng


class HomingStatus(enum.Enum):
    """Where a homing run stands after a tick."""

    MOVING = 'moving'
    REACHED = 'reached'
    TIMED_OUT = 'timed_out'


@dataclass(frozen=True)
class HomingSettings:
    """How an actor homes its robot: its ``home_*`` parameters."""

    tolerance: float
    """Largest position error (rad or m) and speed (per s) per joint that count as home."""
    timeout: float
    """Seconds after which homing gives up (safe commands, an error until cleared)."""
    speed: float
    """Position interface: how fast (per s) the commanded target ramps towards the pose."""
    kp: np.ndarray
    """Velocity: P gain (1/s); effort: P gain (per rad or m), per joint."""
    kd: np.ndarray
    """Effort: D gain (per rad/s or m/s), per joint; unused otherwise."""

    def __post_init__(self):
        for name in ('tolerance', 'timeout', 'speed'):
            if not getattr(self, name) > 0:
                raise ValueError(f'home_{name} must be > 0, got {getattr(self, name)}')
        for name in ('kp', 'kd'):
            if not np.all(np.isfinite(getattr(self, name))) or np.any(getattr(self, name) < 0):
                raise ValueError(f'home_{name} must be finite and >= 0, got {getattr(self, name)}')


VELOCITY_KP = 2.0
"""Velocity interface: the P gain (1/s) where none is given: the error halves in about 0.35 s."""


def homing_gains(task: Task, kp, kd) -> tuple[np.ndarray, np.ndarray]:
    """
    Return per-joint (kp, kd) for homing ``task``: the ones given, else the task's defaults.

    ``kp``/``kd``: one value per joint, or empty. Velocity defaults to VELOCITY_KP; effort to
    the task's ``gains``; an effort task without gains needs both given (ValueError).
    """
    n = task.num_joints
    given = []
    for name, values in (('home_kp', kp), ('home_kd', kd)):
        if len(values) and len(values) != n:
            raise ValueError(f'{name} needs one value per joint ({n}), got {list(values)}')
        given.append(np.asarray(values, dtype=np.float64) if len(values) else None)
    kp, kd = given
    if task.interface is ControlInterface.EFFORT:
        if task.gains is None and (kp is None or kd is None):
            raise ValueError(f'task {task.name} has no gains: homing its effort joints needs '
                             'home_kp and home_kd')
        default_kp, default_kd = task.gains if task.gains is not None else (kp, kd)
    else:
        default_kp, default_kd = np.full(n, VELOCITY_KP), np.zeros(n)
    return (default_kp if kp is None else kp).copy(), (default_kd if kd is None else kd).copy()


class HomePoses:
    """The start pose of each episode: the task's initial state, from the seed's state stream."""

    def __init__(self, task: Task, seed: int):
        self.task = task
        self.rng = stream_rng(seed, SeedStream.INITIAL_STATES)

    def next(self) -> np.ndarray:
        """Return the next episode's joint positions (the controlled joints, task order)."""
        position, _ = self.task.sample_initial_state(self.rng)
        return np.asarray(position[len(self.task.root_joints):], dtype=np.float64)


class Homing:
    """
    One homing run: from the first tick at ``started_at`` to ``pose`` or to its timeout.

    ``dt`` is the control period (s): the ramp's step is ``speed * dt``.
    """

    def __init__(self, interface: ControlInterface, pose: np.ndarray, settings: HomingSettings,
                 dt: float, started_at: float):
        self.interface = ControlInterface(interface)
        self.pose = np.asarray(pose, dtype=np.float64)
        self.settings = settings
        self.step = settings.speed * dt
        self.started_at = started_at

    def status(self, position: np.ndarray, velocity: np.ndarray, now: float) -> HomingStatus:
        """Return whether the joints at ``position``/``velocity`` are home, or time is up."""
        tolerance = self.settings.tolerance
        if (np.all(np.abs(position - self.pose) <= tolerance)
                and np.all(np.abs(velocity) <= tolerance)):
            return HomingStatus.REACHED
        if now - self.started_at > self.settings.timeout:
            return HomingStatus.TIMED_OUT
        return HomingStatus.MOVING

    def command(self, position: np.ndarray, velocity: np.ndarray,
                last_command: np.ndarray | None) -> np.ndarray:
        """
        Return the command for this tick, before the safety layer.

        ``last_command``: the command this run last sent, None on its first tick (position:
        the ramp goes on from it, else from ``position``).
        """
        error = self.pose - position
        if self.interface is ControlInterface.POSITION:
            ramp = np.asarray(position if last_command is None else last_command,
                              dtype=np.float64)
            return ramp + np.clip(self.pose - ramp, -self.step, self.step)
        if self.interface is ControlInterface.VELOCITY:
            return self.settings.kp * error
        return self.settings.kp * error - self.settings.kd * velocity

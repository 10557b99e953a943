"""
The sim's side of the episode contract: reset, step and time.

The sim node (over ROS), the gymnasium env and the direct trainer (in one process) all run a
:class:`SimCore`, so they reset to the same seeded initial states and step the same physics
with the same commands. Transport, stamps and the graph's clock are the sim node's.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from t3d_ros.envs.robot import BulletRobot
from t3d_ros.tasks.base import BaseState, ControlInterface, Task
from t3d_ros.tasks.seeds import SeedStream, stream_rng

NO_SCALE = (1.0, 1.0)
"""A ``mass_scale`` that leaves every link's mass as the model has it."""


class SimCore:
    """
    A task's robot in PyBullet, its episodes and its time.

    ``reset`` begins an episode from the next seeded initial state, with the episode's dynamics
    where they are randomised (link masses by a factor drawn from ``mass_scale``, friction from
    ``friction_range``; ``BulletRobot.randomize_dynamics`` checks both); ``step`` holds a
    command for one control period. Time moves on one control period per step and per reset,
    so no two states share a time. For a realtime sim (like hardware) ``actuate`` takes a
    command that acts after ``actuation_latency_ns``, and ``tick`` steps with the latest
    command acting by then. ``observe`` reads the robot, with Gaussian noise of std
    ``observation_noise`` where set.
    """

    def __init__(self, task: Task, seed: int = 0, *, actuation_latency_ns: int = 0,
                 observation_noise: float = 0.0, mass_scale: Sequence[float] = NO_SCALE,
                 friction_range: Sequence[float] = ()):
        self.task = task
        self.latency_ns = actuation_latency_ns
        self.observation_noise = observation_noise
        self.mass_scale, self.friction_range = tuple(mass_scale), tuple(friction_range)
        self.robot = BulletRobot.for_task(task)
        self._closed = False
        self.step_ns = round(task.control_dt * 1e9)
        self.time_ns = 0
        self.command = np.zeros(task.num_joints)
        """The command the robot holds (realtime: the latest acting)."""
        self.counters = dict(steps=0, resets=0)
        self.stepped_since_reset = False
        self._delayed: deque[tuple[int, np.ndarray]] = deque()  # (acts at time_ns, command)
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Draw initial states, observation noise and dynamics from ``seed``'s streams."""
        self.state_rng = stream_rng(seed, SeedStream.INITIAL_STATES)
        self.noise_rng = stream_rng(seed, SeedStream.SIM_NOISE)

    def reset(self) -> None:
        """Begin an episode from the next seeded initial state, at rest."""
        if self.mass_scale != NO_SCALE or self.friction_range:
            self.robot.reset_dynamics()
            self.robot.randomize_dynamics(self.noise_rng, mass_scale=self.mass_scale,
                                          friction=self.friction_range or None)
        self.robot.reset(*self.task.sample_initial_state(self.state_rng))
        self.command = self._rest_command()
        self._delayed.clear()
        self.time_ns += self.step_ns
        self.counters['resets'] += 1
        self.stepped_since_reset = False

    def new_episode(self) -> None:
        """
        Begin the episode a client asks for (the sim node's ``reset`` service).

        An episode that has not begun (no step since its reset) is already new and is kept: so
        the first request after start gives the seed's first episode, as the env's first reset
        does. Time moves on either way, so the episode's first state has a time of its own.
        """
        if self.stepped_since_reset:
            self.reset()
        else:
            self.time_ns += self.step_ns

    def step(self, command: np.ndarray) -> None:
        """Hold ``command`` (clipped to the command limits) for one control period."""
        self.command = command
        self._advance()

    def actuate(self, command: np.ndarray) -> None:
        """Realtime: let ``command`` act once the actuation latency has passed."""
        self._delayed.append((self.time_ns + self.latency_ns, command))

    def tick(self) -> None:
        """Realtime: hold the latest command that acts by now for one control period."""
        while self._delayed and self._delayed[0][0] <= self.time_ns:
            self.command = self._delayed.popleft()[1]
        self._advance()

    def observe(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, BaseState | None]:
        """Return the joint positions, velocities and efforts and the floating base's state."""
        base = self.robot.base_state()
        if base is not None and self.observation_noise > 0:
            base = base._replace(**{field: self._noisy(getattr(base, field)) for field in (
                'position', 'linear_velocity', 'angular_velocity')})
        position, velocity, effort = self.robot.joint_state()
        if self.observation_noise > 0:
            position, velocity = self._noisy(position), self._noisy(velocity)
        return position, velocity, effort, base

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` disconnected the physics: nothing may step or observe it."""
        return self._closed

    def close(self) -> None:
        self._closed = True
        self.robot.close()

    def _advance(self) -> None:
        self.robot.step(self.task.clip_command(self.command))
        self.time_ns += self.step_ns
        self.counters['steps'] += 1
        self.stepped_since_reset = True

    def _rest_command(self) -> np.ndarray:
        """Before any command: zero effort/velocity, or hold the current position."""
        if self.task.interface is ControlInterface.POSITION:
            return self.robot.joint_state()[0]
        return np.zeros(self.task.num_joints)

    def _noisy(self, values: np.ndarray) -> np.ndarray:
        return values + self.noise_rng.normal(0, self.observation_noise, values.shape)

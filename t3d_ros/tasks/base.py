"""
The task contract: everything about a control problem except physics and transport.

A task turns robot state arrays into an observation, scores transitions, and samples
initial states and goals. It is pure numpy, so the same code runs inside the gymnasium env,
in the actor node next to a real robot, and in tests.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from pathlib import Path
from typing import NamedTuple

import numpy as np

from t3d_ros.paths import sim_model_path


class ControlInterface(str, enum.Enum):
    """The ros2_control command interface a task drives its joints through."""

    EFFORT = 'effort'
    VELOCITY = 'velocity'
    POSITION = 'position'


class RobotState(NamedTuple):
    """Joint state in the task's joint order, plus the goal where the task has one."""

    position: np.ndarray
    velocity: np.ndarray
    goal: np.ndarray | None = None


def joint_array(*values: float) -> np.ndarray:
    """Return a read-only float64 array of per-joint values, safe to share as a class attribute."""
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def episode_rngs(seed: int | None) -> tuple[np.random.Generator, np.random.Generator]:
    """
    Independent generators for initial states and for goals, derived from one seed.

    The gymnasium env uses both; over ROS the sim node draws initial states and the actor
    draws goals, so the two paths see the same episodes for the same seed.
    """
    state_seq, goal_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(state_seq), np.random.default_rng(goal_seq)


class Task(ABC):
    """
    A continuous joint-control task.

    Subclasses set the class attributes and implement the abstract methods. Actions are in
    physical units (N m, rad/s or rad per the interface), within ``action_low..action_high``.
    """

    name: str
    """Registry name, also stored in policy bundles."""
    urdf: str
    """Robot model file name inside the package's ``sim/`` folder."""
    joint_names: tuple[str, ...]
    """Controlled joints, in command order."""
    interface: ControlInterface
    """Command interface of the forward command controller."""
    action_low: np.ndarray
    action_high: np.ndarray
    """Per-joint command limits (may be asymmetric)."""
    obs_layout: tuple[tuple[str, int], ...]
    """Observation fields and their sizes, in order."""
    max_episode_steps: int
    """Time limit in control steps; reaching it truncates (never terminates) an episode."""
    physics_dt: float
    """Physics time step in seconds."""
    decimation: int
    """Physics steps per control step."""
    has_goal: bool = False
    """Whether episodes sample a goal (published on the ``goal`` topic over ROS)."""
    gravity: float = 9.81
    """Magnitude of the simulated gravity along -z, in m/s^2."""
    reward_threshold: float | None
    """Mean evaluation return at which the task counts as solved (None: not defined)."""
    gains: tuple[np.ndarray, np.ndarray] | None = None
    """Per-joint (kp, kd) of the sim's position/velocity tracking; None for effort tasks."""
    base_link: str | None = None
    """Link whose frame goals are given in; None: the model's root link."""

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def obs_dim(self) -> int:
        return sum(size for _, size in self.obs_layout)

    @property
    def control_dt(self) -> float:
        return self.physics_dt * self.decimation

    def model_path(self) -> Path:
        """Return the robot model file the simulator loads."""
        return sim_model_path(self.urdf)

    @property
    def command_topic(self) -> str:
        """Default forward-command-controller topic, relative to the robot namespace."""
        return f'forward_{self.interface.value}_controller/commands'

    def clip_action(self, action: np.ndarray) -> np.ndarray:
        return np.clip(action, self.action_low, self.action_high)

    def normalize_action(self, action: np.ndarray) -> np.ndarray:
        """Map ``action`` linearly from the joint limits to [-1, 1], per joint."""
        return 2.0 * (action - self.action_low) / (self.action_high - self.action_low) - 1.0

    @abstractmethod
    def observation(self, state: RobotState) -> np.ndarray:
        """Return the float32 observation vector of ``obs_dim`` values."""

    @abstractmethod
    def reward(self, state: RobotState, action: np.ndarray, next_state: RobotState) -> float:
        """Reward for taking ``action`` in ``state`` and arriving in ``next_state``."""

    def terminated(self, state: RobotState) -> bool:
        """Return True when ``state`` ends the episode for good (failure or success)."""
        return False

    def is_success(self, state: RobotState) -> bool | None:
        """Whether ``state`` achieves the task, or None where success is not defined."""
        return None

    @abstractmethod
    def sample_initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions and velocities to reset the robot to."""

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray | None:
        """Return a new goal for an episode (a point in the robot base frame), or None."""
        return None

"""
The task contract: everything about a control problem except physics and transport.

A task turns robot state arrays into an observation, scores transitions, and samples
initial states and goals. It is pure numpy, so the same code runs inside the gymnasium env,
in the actor node next to a real robot, and in tests.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from t3d_ros.paths import model_path
from t3d_ros.tasks.scaling import ActionScaler


class ControlInterface(str, enum.Enum):
    """The ros2_control command interface a task drives its joints through."""

    EFFORT = 'effort'
    VELOCITY = 'velocity'
    POSITION = 'position'


class BaseState(NamedTuple):
    """
    Pose and twist of a floating base, as ``nav_msgs/Odometry`` carries them (REP 105).

    The pose is the base link's frame in the world-fixed ``odom`` frame; the twist is that
    frame's velocity expressed in the base link's own axes (the Odometry message's child frame).
    """

    position: np.ndarray
    """(x, y, z) of the base link in odom, in m."""
    orientation: np.ndarray
    """Unit quaternion (x, y, z, w) of the base link in odom."""
    linear_velocity: np.ndarray
    """Velocity of the base link's origin, in base link axes, in m/s."""
    angular_velocity: np.ndarray
    """Angular velocity of the base link, in base link axes, in rad/s."""


def rotation_matrix(quaternion: np.ndarray) -> np.ndarray:
    """
    Return the 3x3 rotation of the quaternion (x, y, z, w), normalised first.

    It maps child frame coordinates to parent frame coordinates.
    """
    x, y, z, w = np.asarray(quaternion, dtype=np.float64) / np.linalg.norm(quaternion)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


class RobotState(NamedTuple):
    """
    Joint state in the task's joint order, plus the goal, the floating base's state and the target.

    ``goal`` is set where the task has one, ``base`` where the task has a floating base,
    ``target`` where the action moves a joint target (``Task.tracks_target``): the command
    last sent, which the observation carries.
    """

    position: np.ndarray
    velocity: np.ndarray
    goal: np.ndarray | None = None
    base: BaseState | None = None
    target: np.ndarray | None = None


def joint_array(*values: float) -> np.ndarray:
    """Return a read-only float64 array of per-joint values, safe to share as a class attribute."""
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


class Task(ABC):
    """
    A continuous joint-control task.

    Subclasses set the class attributes and implement the abstract methods. Actions are in
    physical units (N m, rad/s or rad per the interface), within ``action_low..action_high``;
    the action is the command the robot is sent, except where the action moves a joint target
    (``tracks_target``, see :meth:`command`).
    """

    name: str
    """Registry name, also stored in policy bundles."""
    package = None
    """The Python distribution (a ``TaskPackage``: name, version) whose entry point provides
    this task (``t3d_ros.tasks.plugins``); None for a task of this package or a task file."""
    urdf: str
    """Robot model file name inside the package's ``sim/`` folder, or ``pybullet_data/<file>``
    (a task of another package overrides :meth:`model_path` to load its own model)."""
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
    effort_limits: np.ndarray | None = None
    """Per-joint effort limits where the model gives none (MJCF motors); None: the URDF's."""
    odom_link: str | None = None
    """Floating-base tasks: the link whose pose and twist are the robot's odometry (published
    on ``odom`` over ROS, ``RobotState.base`` here); None for a fixed-base robot."""
    root_joints: tuple[str, ...] = ()
    """Floating-base tasks: the model's unactuated joints that carry the base (an MJCF planar
    root: slide x, slide z, hinge y). Reset with the controlled joints, never commanded; the
    actor sees their motion only through the base state."""
    tracks_target: bool = False
    """Whether the action is a change of a joint target (a relative position action) rather
    than the command itself; then ``RobotState.target`` is the last command sent."""

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def obs_dim(self) -> int:
        return sum(size for _, size in self.obs_layout)

    @property
    def floating_base(self) -> bool:
        """Whether observations need the base state (the ``odom`` topic over ROS)."""
        return self.odom_link is not None

    @property
    def control_dt(self) -> float:
        return self.physics_dt * self.decimation

    def model_path(self) -> Path:
        """Return the robot model file the simulator loads (in ``sim/``, or in pybullet_data)."""
        return model_path(self.urdf)

    @property
    def command_topic(self) -> str:
        """Default forward-command-controller topic, relative to the robot namespace."""
        return f'forward_{self.interface.value}_controller/commands'

    def clip_action(self, action: np.ndarray) -> np.ndarray:
        return np.clip(action, self.action_low, self.action_high)

    @property
    def command_low(self) -> np.ndarray:
        """Per-joint lower command limits: the action's, unless the action moves a target."""
        return self.action_low

    @property
    def command_high(self) -> np.ndarray:
        return self.action_high

    def clip_command(self, command: np.ndarray) -> np.ndarray:
        return np.clip(command, self.command_low, self.command_high)

    def command(self, action: np.ndarray, target: np.ndarray | None) -> np.ndarray:
        """
        Return the command to send for ``action``, within the command limits.

        ``target`` is ``RobotState.target`` (None unless ``tracks_target``). The one map from
        actions to commands, for the gymnasium env and the actor core alike.
        """
        return self.clip_action(action)

    def initial_target(self, position: np.ndarray) -> np.ndarray | None:
        """Return the joint target a state measured at ``position`` starts from (or None)."""
        return None

    @cached_property
    def action_scaler(self) -> ActionScaler:
        """The map between this task's actions and the unit actions the networks use."""
        return ActionScaler(self.action_low, self.action_high)

    def normalize_action(self, action: np.ndarray) -> np.ndarray:
        """Map ``action`` linearly from the joint limits to [-1, 1], per joint."""
        return self.action_scaler.to_unit(action)

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
        """
        Return joint positions and velocities to reset the robot to.

        ``root_joints`` come first (if any), then ``joint_names``.
        """

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray | None:
        """Return a new goal for an episode (a point in the robot base frame), or None."""
        return None

"""Reach: bring an arm's end effector to a goal point, for any URDF arm (a task file)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from t3d_ros.tasks.base import ControlInterface, RobotState, Task
from t3d_ros.tasks.joint_target import RelativeTarget
from t3d_ros.tasks.task_file import ReachTaskConfig


class ReachTask(Task):
    """
    The reach task a task file describes (:mod:`t3d_ros.tasks.task_file`).

    Observation: joint positions and velocities (task order), the end-effector position, the
    goal and the end-effector-to-goal vector, all in the base frame, and with a relative
    position action the joint target; the end effector comes from Pinocchio on the task file's
    URDF, so an actor next to a real robot computes exactly what it computes in sim. Reward
    per step: the task file's ``reward`` weights (see
    :class:`~t3d_ros.tasks.task_file.RewardWeights`). Episodes run ``episode_steps`` steps
    (never terminated early); success means ending within ``success_distance`` of the goal.
    With ``position_action: relative`` the action is the target's change per step
    (:mod:`~t3d_ros.tasks.joint_target`), within +-``position_step``.
    """

    has_goal = True

    def __init__(self, config: ReachTaskConfig):
        spec = config.spec
        self.config = config
        self.name = spec.name
        self.urdf = Path(spec.robot).name
        self.joint_names = tuple(spec.joints)
        self.interface = config.interface
        self._command_low = _read_only(config.command_low)
        self._command_high = _read_only(config.command_high)
        self.tracks_target = config.relative_action
        self._target = None
        low, high = config.command_low, config.command_high
        if self.tracks_target:
            self._target = RelativeTarget(config.position_step, low, high)
            low, high = self._target.action_low, self._target.action_high
        self.action_low, self.action_high = _read_only(low), _read_only(high)
        n = len(self.joint_names)
        self.obs_layout = (('joint_position', n), ('joint_velocity', n), ('end_effector', 3),
                           ('goal', 3), ('end_effector_to_goal', 3))
        if self.tracks_target:
            self.obs_layout += (('joint_target', n),)
        self.max_episode_steps = spec.episode_steps
        self.physics_dt = spec.physics_dt
        self.decimation = config.decimation
        self.reward_threshold = spec.reward_threshold
        self.success_distance = spec.success_distance
        self.gains = (config.kp.copy(), config.kd.copy())
        self.base_link = spec.base_link
        self.kinematics = config.kinematics
        limits = config.urdf_limits
        if self.interface is ControlInterface.POSITION:  # start where commands can hold it
            self._start_low, self._start_high = config.command_low, config.command_high
        else:
            self._start_low, self._start_high = limits.lower, limits.upper
        self._span = self.action_high - self.action_low

    @property
    def command_low(self) -> np.ndarray:
        return self._command_low

    @property
    def command_high(self) -> np.ndarray:
        return self._command_high

    def command(self, action: np.ndarray, target: np.ndarray | None) -> np.ndarray:
        if self._target is None:
            return self.clip_action(action)
        return self._target.command(target, action)

    def initial_target(self, position: np.ndarray) -> np.ndarray | None:
        return None if self._target is None else self._target.start(position)

    def model_path(self) -> Path:
        """
        Return the URDF for the simulator: the kinematics' URDF, every file it names found.

        TaskFileError (field ``robot``) naming each file that is not found and where it looked.
        """
        return self.config.simulator_model()

    def end_effector(self, position: np.ndarray) -> np.ndarray:
        """End-effector position in the base frame for joint positions ``position``."""
        return self.kinematics.end_effector_position(position)

    def goal_distance(self, state: RobotState) -> float:
        return float(np.linalg.norm(self.end_effector(state.position) - state.goal))

    def observation(self, state: RobotState) -> np.ndarray:
        ee = self.end_effector(state.position)
        parts = [state.position, state.velocity, ee, state.goal, state.goal - ee]
        if self.tracks_target:
            parts.append(state.target)
        return np.concatenate(parts).astype(np.float32)

    def reward(self, state: RobotState, action: np.ndarray, next_state: RobotState) -> float:
        weights = self.config.spec.reward
        absolute_target = self.interface is ControlInterface.POSITION and not self.tracks_target
        rest = state.position if absolute_target else np.zeros(self.num_joints)
        effort = 2.0 * (self.clip_action(action) - rest) / self._span
        return -weights.distance * self.goal_distance(next_state) - weights.action * float(
            effort @ effort)

    def is_success(self, state: RobotState) -> bool:
        return self.goal_distance(state) < self.success_distance

    def sample_initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        noise = self.config.spec.initial_noise
        position = self.config.home + rng.uniform(-noise, noise, size=self.num_joints)
        position = np.clip(position, self._start_low, self._start_high)
        return position, np.zeros(self.num_joints)

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        return self.config.spec.goal.sample(rng)


def _read_only(values: np.ndarray) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array

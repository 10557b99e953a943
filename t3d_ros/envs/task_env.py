"""A gymnasium env made of a task and its PyBullet robot."""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from t3d_ros.envs.robot import BulletRobot
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import RobotState, Task
from t3d_ros.tasks.seeds import episode_rngs


class TaskEnv(gym.Env):
    """
    ``task`` simulated by ``BulletRobot.for_task(task)``.

    Actions are in the task's physical units and clipped to its limits; ``task.command`` turns
    them into the robot's command (the same map as the actor core's). The env ends episodes
    itself: ``truncated`` at ``task.max_episode_steps``, ``terminated`` when the task says so.
    Initial states and goals come from ``episode_rngs(seed)``, so stepping the robot and the
    task by hand (as the ROS sim node and actor do) reproduces this env exactly.
    """

    metadata = {'render_modes': []}

    def __init__(self, task: Task | str, render_mode: str | None = None):
        if render_mode is not None:
            raise ValueError(f'render_mode {render_mode!r} is not supported')
        self.render_mode = render_mode
        self.task = make_task(task) if isinstance(task, str) else task
        self.robot = BulletRobot.for_task(self.task)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(self.task.obs_dim,), dtype=np.float32)
        self.action_space = gym.spaces.Box(
            self.task.action_low.astype(np.float32), self.task.action_high.astype(np.float32),
            dtype=np.float32)
        self._state_rng: np.random.Generator | None = None
        self._goal_rng: np.random.Generator | None = None
        self._state: RobotState | None = None
        self._elapsed_steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None and self._state_rng is None:
            seed = int(self.np_random.integers(2**32))
        if seed is not None:
            self._state_rng, self._goal_rng = episode_rngs(seed)
        position, velocity = self.task.sample_initial_state(self._state_rng)
        goal = self.task.sample_goal(self._goal_rng)
        self.robot.reset(position, velocity)
        if goal is not None:
            self.robot.show_goal(goal)
        state = self._read_state(goal, None)  # the target starts at the measured position
        self._state = state._replace(target=self.task.initial_target(state.position))
        self._elapsed_steps = 0
        return self.task.observation(self._state), self._info(self._state)

    def step(self, action):
        if self._state is None:
            raise RuntimeError('call reset() before step()')
        action = self.task.clip_action(np.asarray(action, dtype=np.float64))
        command = self.task.command(action, self._state.target)
        self.robot.step(command)
        state = self._read_state(self._state.goal, command if self.task.tracks_target else None)
        reward = self.task.reward(self._state, action, state)
        terminated = self.task.terminated(state)
        self._elapsed_steps += 1
        truncated = self._elapsed_steps >= self.task.max_episode_steps and not terminated
        self._state = state
        return self.task.observation(state), reward, terminated, truncated, self._info(state)

    def _read_state(self, goal: np.ndarray | None, target: np.ndarray | None) -> RobotState:
        position, velocity, _ = self.robot.joint_state()
        return RobotState(position, velocity, goal, self.robot.base_state(), target)

    def _info(self, state: RobotState) -> dict[str, Any]:
        success = self.task.is_success(state)
        return {} if success is None else {'is_success': success}

    def close(self) -> None:
        self.robot.close()

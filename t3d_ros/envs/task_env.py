"""A gymnasium env made of a task and its PyBullet robot."""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from t3d_ros.acting.core import ActorCore
from t3d_ros.envs.in_process import InProcessEpisodes
from t3d_ros.envs.robot import BulletRobot
from t3d_ros.envs.sim_core import SimCore
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import Task


class TaskEnv(gym.Env):
    """
    ``task`` simulated by a :class:`SimCore`, its episodes kept by an :class:`ActorCore`.

    Actions are in the task's physical units and clipped to its limits; ``task.command`` turns
    them into the robot's command. The env ends episodes itself: ``truncated`` at
    ``task.max_episode_steps``, ``terminated`` when the task says so. ``reset(seed=s)`` seeds
    both cores with ``s``, so the sim node and the actor node of seed ``s`` (the same cores,
    over ROS) reproduce this env exactly.
    """

    metadata = {'render_modes': []}

    def __init__(self, task: Task | str, render_mode: str | None = None):
        if render_mode is not None:
            raise ValueError(f'render_mode {render_mode!r} is not supported')
        self.render_mode = render_mode
        self.task = make_task(task) if isinstance(task, str) else task
        self.sim = SimCore(self.task)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(self.task.obs_dim,), dtype=np.float32)
        self.action_space = gym.spaces.Box(
            self.task.action_low.astype(np.float32), self.task.action_high.astype(np.float32),
            dtype=np.float32)
        self._episodes: InProcessEpisodes | None = None

    @property
    def robot(self) -> BulletRobot:
        return self.sim.robot

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None and self._episodes is None:
            seed = int(self.np_random.integers(2**32))
        if seed is not None:
            self.sim.seed(seed)
            self._episodes = InProcessEpisodes(self.sim, ActorCore(self.task, seed=seed))
        obs = self._episodes.reset()
        return obs, self._info()

    def step(self, action):
        if self._episodes is None:
            raise RuntimeError('call reset() before step()')
        episodes = self._episodes
        transition = episodes.step(episodes.core.command(action))
        return (transition.next_obs, transition.reward, transition.terminated,
                transition.truncated, self._info())

    def _info(self) -> dict[str, Any]:
        success = self.task.is_success(self._episodes.state)
        return {} if success is None else {'is_success': success}

    def close(self) -> None:
        self.sim.close()

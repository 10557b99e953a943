"""Evaluating a deterministic policy on a task's gymnasium env."""
from __future__ import annotations

from typing import Callable

import numpy as np

from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks.base import Task

EVAL_SEED_OFFSET = 1_000_003
"""Evaluation episodes use seed + this offset, so they never replay training episodes."""


def evaluate(policy: Callable[[np.ndarray], np.ndarray], task: Task | str, episodes: int = 10,
             seed: int = 0) -> list[float]:
    """Returns of ``episodes`` episodes of ``policy`` (observation -> physical action)."""
    env = TaskEnv(task)
    returns = []
    try:
        obs, _ = env.reset(seed=seed + EVAL_SEED_OFFSET)
        for _ in range(episodes):
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(policy(obs))
                total += reward
                done = terminated or truncated
            returns.append(total)
            obs, _ = env.reset()
    finally:
        env.close()
    return returns

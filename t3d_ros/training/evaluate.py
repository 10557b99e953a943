"""Evaluating a deterministic policy on a task's gymnasium env."""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks.base import Task
from t3d_ros.tasks.seeds import evaluation_seed


class Evaluation(NamedTuple):
    returns: list[float]
    successes: list[bool] | None
    """Per episode, whether its final state achieves the task; None where the task does not
    define success."""

    @property
    def success_rate(self) -> float | None:
        return None if self.successes is None else float(np.mean(self.successes))


def evaluate(policy: Callable[[np.ndarray], np.ndarray], task: Task | str, episodes: int = 10,
             seed: int = 0) -> list[float]:
    """Return the returns of ``episodes`` episodes of ``policy`` (obs -> physical action)."""
    return evaluate_episodes(policy, task, episodes, seed).returns


def evaluate_episodes(policy: Callable[[np.ndarray], np.ndarray], task: Task | str,
                      episodes: int = 10, seed: int = 0,
                      watch: Callable[[TaskEnv, int, int, float], None] | None = None
                      ) -> Evaluation:
    """
    Return and successes (at each episode's end) of ``episodes`` episodes of ``policy``.

    ``watch(env, episode, step, episode_return)``, if given, sees every reset (step 0) and step
    (e.g. ``training/video.py``'s recorder).
    """
    env = TaskEnv(task)
    returns, successes = [], []
    try:
        obs, _ = env.reset(seed=evaluation_seed(seed))
        for episode in range(episodes):
            total, done, step = 0.0, False, 0
            if watch is not None:
                watch(env, episode, step, total)
            while not done:
                obs, reward, terminated, truncated, info = env.step(policy(obs))
                total += reward
                step += 1
                done = terminated or truncated
                if watch is not None:
                    watch(env, episode, step, total)
            returns.append(total)
            successes.append(info.get('is_success'))
            obs, _ = env.reset()
    finally:
        env.close()
    return Evaluation(returns, None if None in successes else [bool(s) for s in successes])

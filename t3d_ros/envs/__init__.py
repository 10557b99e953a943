"""
The simulated robot (PyBullet), its sim core (reset, step, time) and the tasks' gymnasium envs.

``gymnasium.make('t3d/Reacher-v0')`` after importing this.
"""
from __future__ import annotations

from gymnasium.envs.registration import register, registry

from t3d_ros.envs.robot import BulletRobot, FloatingBaseRobot
from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks import TASKS

ENV_IDS = {'pendulum': 't3d/Pendulum-v0', 'reacher': 't3d/Reacher-v0',
           'panda_reach': 't3d/PandaReach-v0', 'iiwa_reach': 't3d/IiwaReach-v0',
           'half_cheetah': 't3d/HalfCheetah-v0'}
"""Gymnasium id of each built-in task's env (a task file's env: ``TaskEnv('file.yaml')``)."""

for _task_name, _env_id in ENV_IDS.items():
    if _env_id not in registry:
        # No max_episode_steps: TaskEnv truncates at the task's own episode length. The
        # task-file tasks report success rates rather than a solved return.
        threshold = TASKS[_task_name].reward_threshold if _task_name in TASKS else None
        register(id=_env_id, entry_point='t3d_ros.envs.task_env:TaskEnv',
                 kwargs={'task': _task_name}, reward_threshold=threshold)


def make_env(task_name: str) -> TaskEnv:
    """Return the env of ``task_name``, without gymnasium's checking wrappers."""
    return TaskEnv(task_name)


__all__ = ['ENV_IDS', 'BulletRobot', 'FloatingBaseRobot', 'TaskEnv', 'make_env']

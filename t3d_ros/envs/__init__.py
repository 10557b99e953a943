"""
The simulated robot (PyBullet), its sim core (reset, step, time), pictures, gymnasium envs.

``gymnasium.make('t3d/Reacher-v0')`` after importing this; a task ``my_task`` that an installed
package registers is ``t3d/MyTask-v0`` (:func:`env_id`).
"""
from __future__ import annotations

from gymnasium.envs.registration import register, registry

from t3d_ros.envs.robot import BulletRobot, FloatingBaseRobot
from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks import TASKS, plugin_task_names, task_names


def env_id(task_name: str) -> str:
    """Return the gymnasium id of a task's env: ``panda_reach`` -> ``t3d/PandaReach-v0``."""
    return 't3d/' + ''.join(part.capitalize() for part in task_name.split('_')) + '-v0'


ENV_IDS = {name: env_id(name) for name in task_names()}
"""Gymnasium id of each built-in task's env (a task file's env: ``TaskEnv('file.yaml')``)."""


def register_envs() -> None:
    """
    Register the env of every built-in task and of every task an installed package registers.

    Import does it once; call it again after installing a task package in this process. The
    tasks of other packages are not imported here: ``gymnasium.make`` builds them, and says
    what is wrong with one.
    """
    plugins = {name: env_id(name) for name in plugin_task_names() if name not in ENV_IDS}
    for task_name, task_env_id in {**ENV_IDS, **plugins}.items():
        if task_env_id not in registry:
            # No max_episode_steps: TaskEnv truncates at the task's own episode length. The
            # task-file tasks report success rates rather than a solved return.
            threshold = TASKS[task_name].reward_threshold if task_name in TASKS else None
            register(id=task_env_id, entry_point='t3d_ros.envs.task_env:TaskEnv',
                     kwargs={'task': task_name}, reward_threshold=threshold)


register_envs()


def make_env(task_name: str) -> TaskEnv:
    """Return the env of ``task_name``, without gymnasium's checking wrappers."""
    return TaskEnv(task_name)


__all__ = ['ENV_IDS', 'BulletRobot', 'FloatingBaseRobot', 'TaskEnv', 'env_id', 'make_env',
           'register_envs']

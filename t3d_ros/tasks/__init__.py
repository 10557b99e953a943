"""
What to learn, in numpy: observation, reward, termination, reset and goal, limits, seeds.

Tasks by name or task file: ``make_task('reacher')``, ``make_task('my_arm.yaml')``, and tasks
that other installed packages register (``make_task('slider')``, see ``tasks/plugins.py``).
"""
from __future__ import annotations

import os

from t3d_ros.paths import package_file
from t3d_ros.tasks.base import BaseState, ControlInterface, RobotState, Task
from t3d_ros.tasks.half_cheetah import HalfCheetahTask
from t3d_ros.tasks.pendulum import PendulumTask
from t3d_ros.tasks.plugins import (ENTRY_POINT_GROUP, TaskPackage, TaskPluginError,
                                   make_plugin_task, plugin_task_names)
from t3d_ros.tasks.reach import ReachTask
from t3d_ros.tasks.reacher import ReacherTask
from t3d_ros.tasks.seeds import episode_rngs
from t3d_ros.tasks.task_file import (TaskFileError, is_task_file, load_task_file,
                                     parse_task_file)

TASKS: dict[str, type[Task]] = {task.name: task for task in (
    PendulumTask, ReacherTask, HalfCheetahTask)}
"""Every task class, by its registry name."""
TASK_FILES = ('iiwa_reach', 'panda_reach')
"""Built-in tasks defined by the shipped task files ``config/tasks/<name>.yaml``."""


def task_names() -> tuple[str, ...]:
    """Return the built-in tasks' names (tasks of other packages: ``plugin_task_names``)."""
    return tuple(sorted((*TASKS, *TASK_FILES)))


TASK_DESCRIPTION = ('A built-in task (' + ', '.join(task_names()) + '), a task that an '
                    f'installed Python package registers (entry point group {ENTRY_POINT_GROUP})'
                    ', or the path of a task file (.yaml, checked when the node starts).')
"""What a ``task`` parameter takes (its descriptor's description: no closed choice list)."""


def task_file_path(name: str):
    """Return the shipped task file of built-in task ``name`` (one of ``TASK_FILES``)."""
    return package_file(os.path.join('config', 'tasks'), f'{name}.yaml', 'task file')


def make_task(task: str | os.PathLike) -> Task:
    """
    Return the task registered as ``task``, or the one the task file at path ``task`` describes.

    A built-in name first, then a name an installed package registers (``tasks/plugins.py``).
    ValueError (TaskFileError for a bad file, naming the field; TaskPluginError for a task of
    another package that cannot be used) for anything unusable.
    """
    if is_task_file(task):
        return ReachTask(load_task_file(task))
    if task in TASKS:
        return TASKS[task]()
    if task in TASK_FILES:
        return ReachTask(load_task_file(task_file_path(task)))
    plugin = make_plugin_task(str(task))
    if plugin is not None:
        return plugin
    raise ValueError(f'unknown task {task!r}; known tasks: '
                     f'{", ".join((*task_names(), *plugin_task_names()))}, a task file (.yaml), '
                     'or a task of a Python package that registers it in the entry point group '
                     f'{ENTRY_POINT_GROUP} (is that package installed?)')


def task_from_bundle_text(task_file: str, source_dir: str, urdf_text: str) -> ReachTask:
    """Return a reach task rebuilt from a policy bundle's copies of its task file and URDF."""
    return ReachTask(parse_task_file(task_file, source_dir, '<policy bundle>', urdf_text))


__all__ = [
    'ENTRY_POINT_GROUP', 'TASKS', 'TASK_DESCRIPTION', 'TASK_FILES', 'BaseState',
    'ControlInterface', 'HalfCheetahTask', 'PendulumTask', 'ReachTask', 'ReacherTask',
    'RobotState', 'Task', 'TaskFileError', 'TaskPackage', 'TaskPluginError', 'episode_rngs',
    'make_task', 'plugin_task_names', 'task_file_path', 'task_from_bundle_text', 'task_names',
]

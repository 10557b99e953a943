"""Tasks by name: ``make_task('reacher')``."""
from __future__ import annotations

from t3d_ros.tasks.base import ControlInterface, RobotState, Task, episode_rngs
from t3d_ros.tasks.pendulum import PendulumTask
from t3d_ros.tasks.reacher import ReacherTask

TASKS: dict[str, type[Task]] = {task.name: task for task in (PendulumTask, ReacherTask)}
"""Every task class, by its registry name."""


def task_names() -> tuple[str, ...]:
    return tuple(sorted(TASKS))


def make_task(name: str) -> Task:
    """A new instance of the task registered as ``name``; ValueError for an unknown name."""
    try:
        return TASKS[name]()
    except KeyError:
        raise ValueError(
            f'unknown task {name!r}; known tasks: {", ".join(task_names())}') from None


__all__ = [
    'TASKS', 'ControlInterface', 'PendulumTask', 'ReacherTask', 'RobotState', 'Task',
    'episode_rngs', 'make_task', 'task_names',
]

"""
Tasks from the user's own Python package, through the entry point group ``t3d_ros.tasks``.

A distribution maps a task name to a :class:`~t3d_ros.tasks.base.Task` subclass in its
``pyproject.toml``::

    [project.entry-points."t3d_ros.tasks"]
    slider = "t3d_example_task.slider:SliderTask"

Once it is installed, the name works wherever a built-in task name does, and policy bundles
record the distribution's name and version (:class:`TaskPackage`). A built-in task's name
cannot be taken: the built-in task wins.
"""
from __future__ import annotations

from importlib import metadata
from typing import NamedTuple

from t3d_ros.tasks.base import Task

ENTRY_POINT_GROUP = 't3d_ros.tasks'


class TaskPluginError(ValueError):
    """A task registered by another package that cannot be used, or a package not installed."""


class TaskPackage(NamedTuple):
    """The Python distribution that provides a task, as ``importlib.metadata`` names it."""

    name: str
    version: str

    def __str__(self) -> str:
        return f'{self.name} {self.version}'


def plugin_task_names() -> tuple[str, ...]:
    """Return the names that installed distributions register in the group, sorted."""
    return tuple(sorted({entry.name for entry in _entry_points()}))


def installed_package(name: str) -> TaskPackage | None:
    """Return the distribution registering task ``name``, or None where none does."""
    entries = _entry_points_named(name)
    return _package_of(entries[0]) if entries else None


def make_plugin_task(name: str) -> Task | None:
    """
    Return a new task of the class that an installed distribution registers as ``name``.

    None where no distribution registers it. The task's ``package`` says which one provides it.
    TaskPluginError where the entry point cannot be used: two distributions claim the name, the
    class cannot be imported or built, is not a ``Task``, or calls itself another name.
    """
    entries = _entry_points_named(name)
    if not entries:
        return None
    if len(entries) > 1:
        raise TaskPluginError(f'task {name!r} is registered by several packages: '
                              + ', '.join(f'{_package_of(entry)} ({entry.value})'
                                          for entry in entries))
    entry = entries[0]
    package = _package_of(entry)
    where = f'task {name!r} of package {package} ({entry.value}, entry point group ' \
            f'{ENTRY_POINT_GROUP})'
    try:
        task_class = entry.load()
    except Exception as error:  # any import-time error of the user's module
        raise TaskPluginError(f'{where} cannot be imported: {type(error).__name__}: '
                              f'{error}') from error
    if not (isinstance(task_class, type) and issubclass(task_class, Task)):
        raise TaskPluginError(f'{where} is not a subclass of t3d_ros.tasks.Task')
    if getattr(task_class, 'name', None) != name:
        raise TaskPluginError(f'{where}: the class is named {getattr(task_class, "name", None)!r}'
                              ' (its `name` attribute, stored in policy bundles); register it '
                              'under that name or rename it')
    try:
        task = task_class()
    except Exception as error:  # the user's constructor
        raise TaskPluginError(f'{where} cannot be built: {type(error).__name__}: '
                              f'{error}') from error
    task.package = package
    return task


def missing_package_message(name: str, package: TaskPackage) -> str:
    """Say that task ``name`` of ``package`` is not installed here, and how to install it."""
    return (f'task {name!r} comes from the Python package {package}, which is not installed '
            f'here (no entry point {name!r} in group {ENTRY_POINT_GROUP}); install it, e.g. '
            f'pip install "{package.name}=={package.version}" (or from its source)')


def _entry_points() -> tuple[metadata.EntryPoint, ...]:
    return tuple(metadata.entry_points(group=ENTRY_POINT_GROUP))


def _entry_points_named(name: str) -> list[metadata.EntryPoint]:
    return [entry for entry in _entry_points() if entry.name == name]


def _package_of(entry: metadata.EntryPoint) -> TaskPackage:
    distribution = entry.dist
    if distribution is None:  # an entry point made by hand, outside any distribution
        return TaskPackage('unknown', 'unknown')
    return TaskPackage(distribution.metadata['Name'], distribution.version)

"""
The deploy check: whether a policy bundle fits the actor that is to run it.

``t3d-ros deploy`` runs it before any node starts, and the actor again at configure.
"""
from __future__ import annotations

from typing import Mapping

from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.tasks.base import Task


def command_topic(task: Task, actor_parameters: Mapping) -> str:
    """Return the actor's command topic: its ``command_topic`` parameter, else the task's."""
    return actor_parameters.get('command_topic') or task.command_topic


def control_period(task: Task, actor_parameters: Mapping) -> float:
    """Return the actor's control period (s): 1 / ``control_rate_hz``, else the task's."""
    rate = actor_parameters.get('control_rate_hz') or 0.0
    return 1.0 / rate if rate else task.control_dt


def check_deployment(policy_file: str, task: Task, actor_parameters: Mapping
                     ) -> tuple[PolicyBundle, list[str]]:
    """
    Load ``policy_file`` for an actor of ``task`` with ``actor_parameters``.

    Return the bundle and the warnings (e.g. a control rate other than the trained one).
    Raise ``BundleMismatch`` for a bundle whose task, joints, layout, limits or interface (by
    the command topic's controller) the actor does not match, another ``BundleError`` for one
    that is not a valid bundle, ``OSError`` for a file that cannot be read.
    """
    bundle = PolicyBundle.load(policy_file)
    bundle.check_matches(task)
    warnings = bundle.check_deployment(command_topic(task, actor_parameters),
                                       control_period(task, actor_parameters))
    return bundle, warnings

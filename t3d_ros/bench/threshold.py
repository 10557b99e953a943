"""Wall-clock time to pendulum's return threshold: over ROS against the direct trainer."""
from __future__ import annotations

import tempfile
from pathlib import Path

from t3d_ros.bringup import train_graph
from t3d_ros.tasks import make_task

from .common import THRESHOLD_TASK, BenchError


def bench_time_to_threshold(max_steps: int = 30_000, max_minutes: float = 15.0,
                            hidden_sizes=(64, 64), seed: int = 0) -> dict:
    """
    Measure wall time to pendulum's return threshold, over ROS vs the direct trainer.

    Training config (config/train.yaml + pendulum.yaml, ``hidden_sizes`` networks):
    `t3d-ros train` over ROS (learner, sim, actor processes; the clock starts as they start) vs
    the direct trainer in one process. Both stop when the mean return of the last 10 training
    episodes reaches the threshold.
    """
    from t3d_ros.acting.core import ActorSettings
    from t3d_ros.ros_training import train_over_ros
    from t3d_ros.training.direct import train_direct
    from t3d_ros.training.learner import learner_settings

    task = make_task(THRESHOLD_TASK)
    overrides = {'learner': {'hidden_sizes': list(hidden_sizes), 'checkpoint_every': 0}}
    with tempfile.TemporaryDirectory() as tmp:
        ros = train_over_ros(THRESHOLD_TASK, 1, [], seed, Path(tmp), overrides, max_steps,
                             target_return=task.reward_threshold, max_minutes=max_minutes)
    if ros.interrupted:
        raise KeyboardInterrupt
    if ros.failure:
        raise BenchError(ros.failure)
    # The learner and actor nodes' parameters, so the direct trainer learns with the very
    # same settings.
    learner, _, actor = train_graph(THRESHOLD_TASK, 1, seed=seed, overrides=overrides)
    config, options = learner_settings(learner.resolved_parameters())
    direct = train_direct(THRESHOLD_TASK, config, max_steps, options,
                          ActorSettings.from_parameters(actor.resolved_parameters()),
                          eval_every=max_steps,
                          eval_episodes=1, target_return=task.reward_threshold,
                          target_on_training_episodes=True)
    return {'ros_s': ros.time_to_target_s,
            'ros_env_steps': ros.env_steps if ros.time_to_target_s is not None else None,
            'direct_s': direct.time_to_threshold_s, 'direct_env_steps': direct.steps_to_threshold,
            'threshold': task.reward_threshold, 'max_steps': max_steps,
            'hidden_sizes': list(hidden_sizes)}

"""
A URDF written by the test and a task file, no Python task code, train (issue 7).

In the direct trainer and over ROS 2, a short seeded run takes its env steps, makes updates, and
leaves a policy that beats random actions on the same evaluation episodes (the test arm's
position interface).
"""
import os

import pytest

from t3d_ros.acting.core import ActorSettings
from t3d_ros.graph.bringup import train_graph
from t3d_ros.tasks import make_task
from t3d_ros.training.direct import train_direct
from t3d_ros.training.learner import LearnerOptions, learner_settings

STEPS = 2000
MARGIN = 0.5
"""How much the trained policy's mean return must beat random actions' (returns near -2 here)."""
FAST = {'actor': {'start_steps': 300},
        'learner': {'hidden_sizes': [64, 64], 'learning_starts': 300, 'publish_every': 50,
                    'checkpoint_every': 0}}


@pytest.mark.slow
def test_a_task_file_trains_in_the_direct_trainer(odd_arm, tmp_path, assert_learned):
    import torch

    torch.set_num_threads(1)
    task_file = str(odd_arm())
    learner, _, actor = train_graph(task_file, overrides=FAST)
    config, _ = learner_settings(learner.resolved_parameters())
    result = train_direct(task_file, config.replace(seed=0), total_steps=STEPS,
                          options=LearnerOptions(checkpoint_every=0),
                          actor=ActorSettings.from_parameters(actor.resolved_parameters()),
                          run_dir=str(tmp_path / 'run'), eval_every=STEPS, eval_episodes=10)
    assert_learned(tmp_path / 'run', make_task(task_file), result.env_steps, result.updates,
                   min_steps=STEPS, margin=MARGIN)


@pytest.mark.slow
def test_a_task_file_trains_over_ros(odd_arm, tmp_path, assert_learned):
    pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')
    from t3d_ros.graph.training import train_over_ros

    task_file = str(odd_arm())
    run_dir = tmp_path / 'run'
    outcome = train_over_ros(task_file, 1, [], seed=0, run_dir=run_dir, overrides=FAST,
                             steps=STEPS, max_minutes=8.0, env=dict(os.environ))
    assert outcome.failure is None, outcome.failure
    assert_learned(run_dir, make_task(task_file), outcome.env_steps, outcome.updates,
                   min_steps=STEPS, margin=MARGIN)

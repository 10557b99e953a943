"""
A URDF written by the test and a task file, no Python task code, train (issue 7).

In the direct trainer and over ROS 2, a short seeded run's policy beats random actions on the same
evaluation episodes (the test arm's position interface).
"""
import os

import numpy as np
import pytest

from t3d_ros.acting.core import ActorSettings
from t3d_ros.graph.bringup import train_graph
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.training.direct import train_direct
from t3d_ros.training.evaluate import evaluate
from t3d_ros.training.learner import LearnerOptions, learner_settings

EPISODES = 10
FAST = {'actor': {'start_steps': 300},
        'learner': {'hidden_sizes': [64, 64], 'learning_starts': 300, 'publish_every': 50,
                    'checkpoint_every': 0}}


def random_returns(task) -> float:
    rng = np.random.default_rng(0)
    return float(np.mean(evaluate(lambda obs: rng.uniform(task.action_low, task.action_high),
                                  task, EPISODES, seed=0)))


def policy_returns(run_dir, task) -> float:
    bundle = PolicyBundle.load(run_dir / 'policy.safetensors')
    bundle.check_matches(task)
    return float(np.mean(evaluate(bundle.make_policy(), task, EPISODES, seed=0)))


@pytest.mark.slow
def test_a_task_file_trains_in_the_direct_trainer(odd_arm, tmp_path):
    import torch

    torch.set_num_threads(1)
    task_file = str(odd_arm())
    learner, _, actor = train_graph(task_file, overrides=FAST)
    config, _ = learner_settings(learner.resolved_parameters())
    result = train_direct(task_file, config.replace(seed=0), total_steps=2000,
                          options=LearnerOptions(checkpoint_every=0),
                          actor=ActorSettings.from_parameters(actor.resolved_parameters()),
                          run_dir=str(tmp_path / 'run'), eval_every=2000,
                          eval_episodes=EPISODES)
    task = make_task(task_file)
    trained, random = policy_returns(tmp_path / 'run', task), random_returns(task)
    print(f'direct, {result.env_steps} env steps, {result.wall_time_s:.0f} s: '
          f'{trained:.2f} against random {random:.2f}')
    assert trained > random + 0.5


@pytest.mark.slow
def test_a_task_file_trains_over_ros(odd_arm, tmp_path):
    pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')
    from t3d_ros.graph.training import train_over_ros

    task_file = str(odd_arm())
    run_dir = tmp_path / 'run'
    outcome = train_over_ros(task_file, 1, [], seed=0, run_dir=run_dir, overrides=FAST,
                             steps=2000, max_minutes=4.0, env=dict(os.environ))
    assert outcome.failure is None, outcome.failure
    task = make_task(task_file)
    trained, random = policy_returns(run_dir, task), random_returns(task)
    print(f'over ROS, {outcome.env_steps} env steps, {outcome.wall_time_s:.0f} s: '
          f'{trained:.2f} against random {random:.2f}')
    assert trained > random + 0.5

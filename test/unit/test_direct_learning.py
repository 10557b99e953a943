"""The direct trainer (one process, no ROS) solves pendulum within 20k env steps, seeded."""
import pytest

from t3d_ros.acting.core import ActorSettings
from t3d_ros.graph.bringup import train_graph
from t3d_ros.tasks import make_task
from t3d_ros.training.direct import train_direct
from t3d_ros.training.learner import LearnerOptions, learner_settings


@pytest.mark.slow
def test_direct_trainer_solves_pendulum_within_20k_steps(tmp_path, assert_learned):
    import torch

    torch.set_num_threads(1)
    learner, _, actor = train_graph('pendulum')
    config, _ = learner_settings(learner.resolved_parameters())
    # 64-64 networks: the same learning, three times the updates per second of 256-256.
    config = config.replace(hidden_sizes=(64, 64), seed=0)
    result = train_direct('pendulum', config, total_steps=20_000,
                          options=LearnerOptions(checkpoint_every=0),
                          actor=ActorSettings.from_parameters(actor.resolved_parameters()),
                          run_dir=str(tmp_path),
                          eval_every=2000, eval_episodes=10, target_return=-200)
    assert result.steps_to_threshold is not None, result
    assert result.final_mean_return > -200
    assert (tmp_path / 'learning_curve.png').stat().st_size > 0
    assert_learned(tmp_path, make_task('pendulum'), result.env_steps, result.updates,
                   min_steps=config.learning_starts, margin=0.0)

"""
The learner core's counting when the actors' streams are not whole.

An actor first heard mid-episode (a learner restarted under a running training), a restarted
actor, a forged sequence number, and a resume whose memory lacks ``learning_starts``.
"""
import numpy as np

from t3d_ros.acting.transitions import TransitionBatch
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.training.learner import Learner, LearnerOptions
from t3d_ros.training.run_dir import RunDirectory, read_csv

TASK = make_task('pendulum')
CONFIG = TD3Config(hidden_sizes=(8, 8), batch_size=4, learning_starts=30, replay_capacity=500,
                   updates_per_step=1.0)


def insert(learner, seq, rows, done_last=False, actor='robot_0', seed=0):
    """Insert ``rows`` transitions of reward -1 as message ``seq`` (the last may end it)."""
    rng = np.random.default_rng(seed)
    done = np.zeros(rows, dtype=bool)
    done[-1] = done_last
    return learner.insert(TransitionBatch(
        actor, 0, rng.uniform(-1, 1, (rows, TASK.obs_dim)),
        rng.uniform(TASK.action_low, TASK.action_high, (rows, TASK.num_joints)),
        np.full(rows, -1.0), rng.uniform(-1, 1, (rows, TASK.obs_dim)),
        np.zeros(rows, dtype=bool), done, seq=seq))


def test_an_actor_first_heard_mid_episode_is_counted_from_its_next_episode(tmp_path):
    run = RunDirectory(tmp_path / 'run', tensorboard=False)
    learner = Learner(TASK, CONFIG, LearnerOptions(), run)
    assert insert(learner, seq=7, rows=8, done_last=True).episodes == 0  # its last 8 steps
    assert insert(learner, seq=8, rows=10).episodes == 0
    assert insert(learner, seq=9, rows=10, done_last=True).episodes == 1
    stats = learner.stats()
    assert stats['episodes'] == 1 and stats['episodes_discarded'] == 1
    assert stats['recent_return'] == -20.0 and stats['env_steps'] == 28
    learner.close()
    assert list(read_csv(run.metrics_file)['episode_length']) == [20]


def test_an_actor_restarted_and_heard_after_its_first_message_loses_both_halves():
    learner = Learner(TASK, CONFIG, LearnerOptions())
    for seq in range(4):
        insert(learner, seq=seq, rows=2)  # then the actor dies mid-episode
    assert insert(learner, seq=2, rows=5, done_last=True).restarted  # its new process's 2
    assert insert(learner, seq=3, rows=6, done_last=True).episodes == 1
    stats = learner.stats()
    assert stats['episodes_discarded'] == 2 and stats['recent_return'] == -6.0


def test_a_forged_seq_is_ignored_counted_and_moves_no_stream():
    learner = Learner(TASK, CONFIG, LearnerOptions())
    insert(learner, seq=0, rows=5)
    forged = insert(learner, seq=1_000_000_000, rows=1, done_last=True)
    assert forged.suspicious and forged.episodes == 0
    honest = insert(learner, seq=1, rows=5, done_last=True)
    assert not honest.restarted and honest.lost_messages == 0 and honest.episodes == 1
    stats = learner.stats()
    assert stats['suspicious_messages'] == 1 and stats['lost_messages'] == 0
    assert stats['actor_restarts'] == 0 and stats['env_steps'] == 10
    assert stats['recent_return'] == -10.0 and stats['buffer_size'] == 10


def test_a_resume_without_the_memory_updates_once_learning_starts_are_held(tmp_path):
    first = Learner(TASK, CONFIG, LearnerOptions(), RunDirectory(tmp_path / 'run',
                                                                 tensorboard=False))
    insert(first, seq=0, rows=100)
    assert first.run_updates() == 70
    first.close()

    resumed = Learner(TASK, CONFIG, LearnerOptions(), RunDirectory(tmp_path / 'run',
                                                                   tensorboard=False))
    assert resumed.resume() and len(resumed.memory) == 0 and resumed.updates == 70
    insert(resumed, seq=1, rows=29)
    assert resumed.run_updates() == 0 and not resumed.should_throttle()
    insert(resumed, seq=2, rows=1)  # learning_starts held: from here one update per step
    assert resumed.run_updates() == 0
    insert(resumed, seq=3, rows=5)
    assert resumed.run_updates() == 5 and resumed.updates == 75
    resumed.close()


def test_a_resume_with_the_memory_goes_on_exactly(tmp_path):
    options = LearnerOptions(save_replay=True)
    first = Learner(TASK, CONFIG, options, RunDirectory(tmp_path / 'run', tensorboard=False))
    insert(first, seq=0, rows=100)
    assert first.run_updates() == 70
    insert(first, seq=1, rows=3)  # 3 updates owed at the checkpoint
    first.close()

    resumed = Learner(TASK, CONFIG, options, RunDirectory(tmp_path / 'run', tensorboard=False))
    assert resumed.resume() and len(resumed.memory) == 103
    assert resumed.run_updates() == 3
    resumed.close()

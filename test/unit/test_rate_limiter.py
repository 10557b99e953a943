import numpy as np

from t3d_ros.training.episodes import EpisodeTracker
from t3d_ros.training.rate_limiter import UpdateRateLimiter


def test_updates_follow_inserts_at_the_ratio_after_learning_starts():
    limiter = UpdateRateLimiter(updates_per_step=0.5, learning_starts=100, max_ahead=50)
    assert limiter.updates_allowed(inserted=100, updates=0) == 0
    assert limiter.updates_allowed(inserted=110, updates=0) == 5
    assert limiter.updates_allowed(inserted=110, updates=5) == 0


def test_throttle_has_hysteresis():
    limiter = UpdateRateLimiter(updates_per_step=1.0, learning_starts=10, max_ahead=100)
    assert not limiter.should_throttle(inserted=10 + 100, updates=0)
    assert limiter.should_throttle(inserted=10 + 101, updates=0)
    assert limiter.should_throttle(inserted=10 + 101, updates=30)  # 71 ahead: still paused
    assert not limiter.should_throttle(inserted=10 + 101, updates=51)  # 50 ahead: go on
    assert not limiter.should_throttle(inserted=5, updates=0)  # random phase never waits


def test_episode_tracker_sums_per_actor_across_messages():
    tracker = EpisodeTracker()
    assert tracker.add('a', np.array([1.0, 2.0]), np.array([False, False])) == []
    assert tracker.add('b', np.array([5.0]), np.array([True]))[0].episode_return == 5.0
    done = tracker.add('a', np.array([3.0, 4.0]), np.array([True, False]))
    assert [(e.actor_id, e.episode_return, e.length) for e in done] == [('a', 6.0, 3)]
    assert tracker.add('a', np.array([1.0]), np.array([True]))[0].episode_return == 5.0


def test_the_learner_tells_the_throttle_as_it_changes_not_at_the_next_tick():
    """
    Tell actors to wait from the insert that runs ahead, to go on from the update that catches up.

    A release told only by the node's 1 Hz tick left the learner without data (and lockstep
    training stop-and-go) until it came.
    """
    from t3d_ros.tasks import make_task
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.acting.transitions import TransitionBatch
    from t3d_ros.training.learner import Learner, LearnerOptions

    task = make_task('pendulum')
    told = []
    learner = Learner(task, TD3Config(hidden_sizes=(8, 8), batch_size=4, learning_starts=4,
                                      replay_capacity=100),
                      LearnerOptions(max_ahead=6, publish_every=10**6), on_throttle=told.append)
    rng = np.random.default_rng(0)

    def insert(rows):
        learner.insert(TransitionBatch(
            'a', 0, rng.uniform(-1, 1, (rows, task.obs_dim)),
            rng.uniform(task.action_low, task.action_high, (rows, task.num_joints)),
            rng.uniform(-1, 0, rows), rng.uniform(-1, 1, (rows, task.obs_dim)),
            np.zeros(rows, bool), np.zeros(rows, bool)))

    assert learner.update_throttle() is False and told == [False]
    insert(4 + 6)  # 6 ahead of 0 updates: not more than max_ahead
    assert told == [False]
    insert(1)  # 7 ahead
    assert told == [False, True]
    updates = []
    learner.agent.update = lambda batch, update=learner.agent.update: (
        updates.append(list(told)), update(batch))[1]
    assert learner.run_updates() == 7
    # Told at the update that brought it to max_ahead / 2 (3 ahead after the 4th), from the
    # updating thread, before the updates ran out.
    assert told == [False, True, False]
    assert updates[3] == [False, True] and updates[4] == [False, True, False], updates


def test_a_resume_short_of_learning_starts_warms_up_again_and_owes_nothing():
    """
    A checkpoint of 500 inserts, 300 updates (50 owed), resumed without its memory.

    Its data is gone: updates wait for ``learning_starts`` transitions held, then follow the
    new inserts at the ratio, and the actors are not throttled meanwhile.
    """
    limiter = UpdateRateLimiter(updates_per_step=1.0, learning_starts=150, max_ahead=20)
    limiter.resume({}, inserted=500, updates=300, held=0)
    assert limiter.updates_allowed(inserted=500 + 149, updates=300) == 0
    assert not limiter.should_throttle(inserted=500 + 149, updates=300)
    assert limiter.updates_allowed(inserted=500 + 150, updates=300) == 0
    assert limiter.updates_allowed(inserted=500 + 160, updates=300) == 10
    assert limiter.should_throttle(inserted=500 + 150 + 21, updates=300)


def test_a_resume_with_its_memory_goes_on_from_the_origin_it_was_saved_with():
    limiter = UpdateRateLimiter(updates_per_step=1.0, learning_starts=150, max_ahead=20)
    limiter.resume({}, inserted=500, updates=300, held=100)  # 100 held: 50 more to learn
    assert limiter.updates_allowed(inserted=550, updates=300) == 0
    assert limiter.updates_allowed(inserted=560, updates=300) == 10
    saved = limiter.state()
    again = UpdateRateLimiter(updates_per_step=1.0, learning_starts=150, max_ahead=20)
    again.resume(saved, inserted=560, updates=305, held=160)  # the 5 owed stay owed
    assert again.updates_allowed(inserted=560, updates=305) == 5
    fresh = UpdateRateLimiter(updates_per_step=1.0, learning_starts=150, max_ahead=20)
    fresh.resume({}, inserted=560, updates=305, held=160)  # a checkpoint from before this
    assert fresh.updates_allowed(inserted=560, updates=305) == 105

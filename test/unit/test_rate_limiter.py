import numpy as np

from t3d_ros.acting.transitions import TransitionBatch
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


def run_limiter(limiter, batches, speed=None, start=(0, 0)):
    """
    Insert ``batches`` one at a time, each followed by the updates the learner runs.

    ``speed``: the most updates it runs after a batch (None: all it is allowed); ``start``:
    (inserted, updates) before. Return the (inserted, updates, throttled) after each batch.
    """
    inserted, updates = start
    history = []
    for rows in batches:
        inserted += rows
        limiter.record(inserted, updates)
        allowed = limiter.updates_allowed(inserted, updates)
        updates += allowed if speed is None else min(allowed, speed)
        history.append((inserted, updates, limiter.should_throttle(inserted, updates)))
    return history


def test_a_fast_learner_never_exceeds_the_ceiling_over_the_run_or_a_window():
    limiter = UpdateRateLimiter(updates_per_step=1.0, learning_starts=50, max_ahead=100,
                                max_updates_per_step=2.5, window=40)
    batches = np.random.default_rng(0).integers(1, 8, 400)
    history = run_limiter(limiter, batches)
    for inserted, updates, throttled in history:
        assert updates <= 2.5 * max(0, inserted - 50) and not throttled
    for index, (inserted, updates, _) in enumerate(history):
        # After each batch it updated on, the window: back to the last batch at least 40
        # inserts before, once learning started.
        window = [(early_inserted, early_updates) for early_inserted, early_updates, _
                  in history[:index] if 50 <= early_inserted <= inserted - 40]
        if window and updates > history[index - 1][1]:
            early_inserted, early_updates = window[-1]
            assert updates - early_updates <= 2.5 * (inserted - early_inserted)
    inserted, updates, _ = history[-1]
    assert updates >= 2.5 * (inserted - 50) - 2.5 * 8  # as fast as allowed: at the ceiling
    assert limiter.ratios(inserted, updates)[0] == updates / (inserted - 50)


def test_a_stalled_learner_catches_up_to_the_floor_not_in_a_burst_to_the_ceiling():
    limiter = UpdateRateLimiter(updates_per_step=1.0, learning_starts=0, max_ahead=1000,
                                max_updates_per_step=4.0, window=100)
    stalled = run_limiter(limiter, [1] * 500, speed=0)
    assert stalled[-1][:2] == (500, 0)
    # Owed: 500 to the floor (always allowed), 2,000 to the run's ceiling (not in one go).
    assert limiter.updates_allowed(500, 0) == 500
    # Until the burst leaves the window (100 inserts after it), the floor alone.
    history = run_limiter(limiter, [1] * 99, start=(500, 500))
    assert [updates for _, updates, _ in history] == list(range(501, 600))
    assert not any(throttled for *_, throttled in history)
    # Then as fast as allowed again, never above the ceiling over a window.
    history = run_limiter(limiter, [1] * 300, start=(599, 599))
    for (early_inserted, early_updates, _), (inserted, updates, _) in zip(history,
                                                                          history[100:]):
        assert updates - early_updates <= 4.0 * (inserted - early_inserted)
    assert history[-1][1] > 600 + 2 * 300  # well above the floor


def test_above_the_floor_actors_are_never_throttled_below_it_they_are():
    above = UpdateRateLimiter(updates_per_step=1.0, learning_starts=10, max_ahead=20,
                              max_updates_per_step=3.0)
    assert not any(throttled for *_, throttled in run_limiter(above, [1] * 300, speed=1))
    below = UpdateRateLimiter(updates_per_step=1.0, learning_starts=10, max_ahead=20,
                              max_updates_per_step=3.0)
    history = run_limiter(below, [2] * 300, speed=1)  # half the floor's updates
    first = next(index for index, (*_, throttled) in enumerate(history) if throttled)
    inserted, updates, _ = history[first]
    assert inserted - 10 - updates > 20  # throttled once inserts ran max_ahead past the floor


def test_without_a_ceiling_the_updates_are_locked_to_the_ratio_as_before():
    for ceiling in (None, 0.5):
        limiter = UpdateRateLimiter(updates_per_step=0.5, learning_starts=100, max_ahead=50,
                                    max_updates_per_step=ceiling)
        rng = np.random.default_rng(1)
        inserted = updates = 0
        for rows in rng.integers(0, 30, 200):
            inserted += rows
            limiter.record(inserted, updates)
            assert limiter.updates_allowed(inserted, updates) == max(
                0, max(0, (inserted - 100) // 2) - updates)
            updates += int(rng.integers(0, limiter.updates_allowed(inserted, updates) + 1))


def test_a_ceiling_below_the_floor_is_refused():
    import pytest

    from t3d_ros.td3.config import TD3Config

    with pytest.raises(ValueError, match='max_updates_per_step'):
        TD3Config(updates_per_step=2.0, max_updates_per_step=1.0)
    with pytest.raises(ValueError):
        UpdateRateLimiter(updates_per_step=2.0, learning_starts=0, max_ahead=1,
                          max_updates_per_step=1.0)
    assert TD3Config(updates_per_step=2.0).max_updates_per_step == 0.0  # = the floor


def test_the_learner_runs_up_to_its_ceiling_reports_its_ratio_and_never_throttles(tmp_path):
    from t3d_ros.tasks import make_task
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.training.learner import Learner, LearnerOptions
    from t3d_ros.training.run_dir import RunDirectory, read_csv

    task = make_task('pendulum')
    told = []
    learner = Learner(task, TD3Config(hidden_sizes=(8, 8), batch_size=4, learning_starts=8,
                                      replay_capacity=500, updates_per_step=1.0,
                                      max_updates_per_step=3.0),
                      LearnerOptions(max_ahead=2, publish_every=10**6, checkpoint_every=0),
                      RunDirectory(tmp_path, tensorboard=False), on_throttle=told.append)
    rng = np.random.default_rng(0)
    for rows in rng.integers(1, 5, 60):
        done = np.zeros(rows, bool)
        done[-1] = True
        learner.insert(TransitionBatch(
            'a', 0, rng.uniform(-1, 1, (rows, task.obs_dim)),
            rng.uniform(task.action_low, task.action_high, (rows, task.num_joints)),
            rng.uniform(-1, 0, rows), rng.uniform(-1, 1, (rows, task.obs_dim)),
            np.zeros(rows, bool), done))
        learner.run_updates()
        learning = learner.counters['env_steps'] - 8
        assert learner.updates <= 3.0 * max(0, learning)
    assert learner.updates == 3 * learning  # as fast as it can: at the ceiling
    assert True not in told
    stats = learner.stats()
    assert stats['updates_per_step'] == stats['recent_updates_per_step'] == 3.0
    learner.close()
    # Logged as each episode arrives, before the updates its data allows.
    assert 2.5 < read_csv(tmp_path / 'metrics.csv')['recent_updates_per_step'][-1] <= 3.0

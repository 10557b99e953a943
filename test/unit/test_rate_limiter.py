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

"""Pairing joint states with odometry by stamp (the actor's floating-base input)."""
import numpy as np
import pytest

pytest.importorskip('rclpy', reason='needs the ROS 2 message packages (requirements-ros.txt)')

from t3d_ros.ros import messages  # noqa: E402
from t3d_ros.acting.state_sync import PENDING, StateSync  # noqa: E402
from t3d_ros.tasks.base import BaseState  # noqa: E402


def joints(stamp_ns):
    return messages.JointStateReading(stamp_ns, np.full(2, stamp_ns), np.zeros(2))


def odometry(stamp_ns):
    base = BaseState(np.full(3, stamp_ns), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3),
                     np.zeros(3))
    return messages.OdometryReading(stamp_ns, base)


def test_without_odometry_every_joint_state_is_complete():
    sync = StateSync(needs_odometry=False)
    reading = joints(5)
    assert sync.add_joints(reading) is reading


@pytest.mark.parametrize('odometry_first', [True, False])
def test_equal_stamps_pair_in_either_order(odometry_first):
    sync = StateSync(needs_odometry=True)
    if odometry_first:
        assert sync.add_odometry(odometry(10)) is None
        complete = sync.add_joints(joints(10))
    else:
        assert sync.add_joints(joints(10)) is None
        complete = sync.add_odometry(odometry(10))
    assert complete.stamp_ns == 10 and complete.base.position[0] == 10
    np.testing.assert_array_equal(complete.position, [10, 10])
    assert sync.discarded == 0


def test_unequal_stamps_never_pair_and_older_leftovers_are_discarded_and_counted():
    sync = StateSync(needs_odometry=True)
    assert sync.add_joints(joints(10)) is None
    assert sync.add_odometry(odometry(11)) is None
    assert sync.add_odometry(odometry(20)) is None
    complete = sync.add_joints(joints(20))
    assert complete.base.position[0] == 20
    assert sync.discarded == 2  # joints 10 and odometry 11 can never pair now
    assert sync.add_odometry(odometry(11)) is None  # a late one waits, harmlessly


def test_a_republished_state_pairs_again():
    """The lockstep sim republishes its last state (same stamp) when no command comes."""
    sync = StateSync(needs_odometry=True)
    sync.add_joints(joints(10))
    assert sync.add_odometry(odometry(10)) is not None
    assert sync.add_joints(joints(10)) is None
    assert sync.add_odometry(odometry(10)).stamp_ns == 10
    assert sync.discarded == 0


def test_slop_pairs_the_nearest_stamp_within_it():
    sync = StateSync(needs_odometry=True, slop=0.005)
    for stamp_ns in (1_000_000_000, 1_003_000_000, 1_020_000_000):
        sync.add_odometry(odometry(stamp_ns))
    complete = sync.add_joints(joints(1_004_000_000))
    assert complete.base.position[0] == 1_003_000_000
    assert sync.discarded == 1  # the 1.000 s odometry; the 1.020 s one may still pair
    assert sync.add_joints(joints(1_021_000_000)).base.position[0] == 1_020_000_000
    with pytest.raises(ValueError, match='slop'):
        StateSync(needs_odometry=True, slop=-1.0)


def test_pending_messages_are_bounded_and_evictions_counted():
    sync = StateSync(needs_odometry=True)
    for stamp_ns in range(PENDING + 3):
        assert sync.add_joints(joints(stamp_ns)) is None
    assert sync.discarded == 3
    assert sync.add_odometry(odometry(0)) is None  # evicted: nothing to pair with
    assert sync.add_odometry(odometry(PENDING + 2)).stamp_ns == PENDING + 2

"""The actor's stamp order: out-of-order states, a restarted driver, acting once per stamp."""
import pytest

from t3d_ros.acting.stamp_order import (RESTART_JUMP_NS, RESTART_STATES, EpisodeStart, Order,
                                        StampOrder)

LATEST = 100 * RESTART_JUMP_NS
FAR = LATEST - 2 * RESTART_JUMP_NS  # far older than the latest: a restarted stream's stamps


def test_newer_and_equal_stamps_are_in_order_older_ones_are_not():
    stamps = StampOrder(once_per_stamp=True)
    assert stamps.order(5, None) is Order.IN_ORDER  # the first state
    assert stamps.order(LATEST, LATEST - 1) is Order.IN_ORDER
    assert stamps.order(LATEST, LATEST) is Order.IN_ORDER  # a republished state
    assert stamps.order(LATEST - 1, LATEST) is Order.OUT_OF_ORDER
    assert stamps.order(LATEST - RESTART_JUMP_NS + 1, LATEST) is Order.OUT_OF_ORDER


def test_rising_far_older_states_in_a_row_are_a_restart():
    stamps = StampOrder(once_per_stamp=True)
    verdicts = [stamps.order(FAR + i, LATEST) for i in range(RESTART_STATES)]
    assert verdicts == [Order.OUT_OF_ORDER] * (RESTART_STATES - 1) + [Order.RESTART]


def test_a_far_older_stamp_that_does_not_rise_starts_the_count_again():
    stamps = StampOrder(once_per_stamp=True)
    for i in range(RESTART_STATES - 1):
        assert stamps.order(FAR + i, LATEST) is Order.OUT_OF_ORDER
    assert stamps.order(FAR, LATEST) is Order.OUT_OF_ORDER  # replayed: counts as the first
    for i in range(1, RESTART_STATES - 1):
        assert stamps.order(FAR + i, LATEST) is Order.OUT_OF_ORDER
    assert stamps.order(FAR + RESTART_STATES, LATEST) is Order.RESTART


def test_a_state_in_order_breaks_a_run_of_far_older_ones():
    stamps = StampOrder(once_per_stamp=True)
    for i in range(RESTART_STATES - 1):
        stamps.order(FAR + i, LATEST)
    assert stamps.order(LATEST + 1, LATEST) is Order.IN_ORDER
    for i in range(RESTART_STATES - 1):
        assert stamps.order(FAR + 10 + i, LATEST + 1) is Order.OUT_OF_ORDER
    assert stamps.order(FAR + 20, LATEST + 1) is Order.RESTART


def test_states_only_a_little_older_neither_count_toward_nor_break_a_restart():
    stamps = StampOrder(once_per_stamp=True)
    stamps.order(FAR, LATEST)
    assert stamps.order(LATEST - 1, LATEST) is Order.OUT_OF_ORDER  # reordered, dropped
    for i in range(1, RESTART_STATES - 1):
        stamps.order(FAR + i, LATEST)
    assert stamps.order(FAR + RESTART_STATES, LATEST) is Order.RESTART


def test_triggered_by_states_it_acts_once_per_stamp_and_after_a_restart_anew():
    stamps = StampOrder(once_per_stamp=True)
    assert stamps.may_act(LATEST)
    assert not stamps.may_act(LATEST)  # republished
    assert not stamps.may_act(LATEST - 1)
    assert stamps.may_act(LATEST + 1)
    for i in range(RESTART_STATES):
        stamps.order(FAR + i, LATEST + 1)
    assert stamps.may_act(FAR)  # the new stream's stamps are all lower


def test_on_a_timer_it_acts_on_the_latest_state_each_tick():
    stamps = StampOrder(once_per_stamp=False)
    assert stamps.may_act(LATEST) and stamps.may_act(LATEST)


def test_an_episode_begins_on_the_state_its_reset_names():
    stamps = StampOrder(once_per_stamp=True)
    stamps.episode_begins(EpisodeStart(LATEST, 0, 0.0))
    assert not stamps.may_act(LATEST - 1)  # a copy of an older state still in flight
    assert stamps.may_act(LATEST)
    unnamed = StampOrder(once_per_stamp=True)
    unnamed.episode_begins(EpisodeStart(None, LATEST, 0.0))  # another reset service
    assert unnamed.may_act(LATEST - 1)


@pytest.mark.parametrize('start, stamp, received, begins', [
    (EpisodeStart(500, 400, 10.0), 500, 0.0, True),  # named: the stamp alone decides
    (EpisodeStart(500, 400, 10.0), 499, 20.0, False),
    (EpisodeStart(None, 400, 10.0), 401, 10.5, True),  # newer, and received after the request
    (EpisodeStart(None, 400, 10.0), 400, 10.5, False),
    (EpisodeStart(None, 400, 10.0), 401, 9.5, False),
])
def test_which_state_begins_the_episode(start, stamp, received, begins):
    assert start.begins_with(stamp, received) is begins

"""The e_stop gate: when the policy may command, as far as e_stop goes."""
import pytest

from t3d_ros.acting.e_stop_gate import E_STOP_WAIT, EStopGate


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def publishers(count):
    asked = []

    def count_publishers():
        asked.append(True)
        return count
    return count_publishers, asked


def test_engaged_closes_released_opens_and_each_change_is_reported():
    gate = EStopGate(waits_for_first_value=False)
    assert gate.allows_policy(publishers(1)[0])
    assert gate.hear(True) and gate.engaged and not gate.allows_policy(publishers(1)[0])
    assert not gate.hear(True)  # no change
    assert gate.hear(False) and gate.allows_policy(publishers(1)[0])


def test_training_never_waits_for_a_first_value_nor_asks_the_graph():
    count, asked = publishers(3)
    assert EStopGate(waits_for_first_value=False).allows_policy(count)
    assert asked == []


def test_deploy_waits_for_the_first_value_of_a_known_publisher_at_most_e_stop_wait():
    clock = Clock()
    gate = EStopGate(waits_for_first_value=True, clock=clock)
    clock.now += 5.0  # made long before it was activated
    gate.activated()
    count, _ = publishers(1)
    clock.now += E_STOP_WAIT / 2
    assert not gate.allows_policy(count) and not gate.settled
    clock.now += E_STOP_WAIT / 2
    assert gate.allows_policy(count) and gate.settled  # the publisher never published


@pytest.mark.parametrize('engaged', [False, True])
def test_deploy_is_settled_by_the_first_value(engaged):
    gate = EStopGate(waits_for_first_value=True, clock=Clock())
    gate.hear(engaged)
    count, asked = publishers(1)
    assert gate.allows_policy(count) is not engaged and asked == []


def test_deploy_without_an_e_stop_publisher_does_not_wait():
    gate = EStopGate(waits_for_first_value=True, clock=Clock())
    assert gate.allows_policy(publishers(0)[0]) and gate.settled


def test_a_publisher_it_cannot_hear_closes_the_gate_at_once_and_is_an_error_after_the_wait():
    clock = Clock()
    gate = EStopGate(waits_for_first_value=False, clock=clock)
    assert not gate.count_unheard(1)
    assert not gate.allows_policy(publishers(1)[0])
    clock.now += E_STOP_WAIT / 2
    assert not gate.count_unheard(1)
    clock.now += E_STOP_WAIT / 2
    assert gate.count_unheard(2) and gate.unheard == 2
    assert not gate.count_unheard(0) and gate.allows_policy(publishers(1)[0])
    assert not gate.count_unheard(1)  # a new one: the wait starts again

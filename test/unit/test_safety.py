import numpy as np
import pytest

from t3d_ros.acting.safety import CommandSafety
from t3d_ros.tasks.base import ControlInterface

LOW, HIGH = np.array([-2.0, -0.5]), np.array([2.0, 1.5])


def test_clamps_to_asymmetric_per_joint_limits():
    safety = CommandSafety(ControlInterface.EFFORT, LOW, HIGH)
    np.testing.assert_array_equal(safety.limit([5.0, -5.0]), [2.0, -0.5])


def test_non_finite_values_become_zero_effort():
    safety = CommandSafety(ControlInterface.EFFORT, LOW, HIGH)
    np.testing.assert_array_equal(safety.limit([np.nan, np.inf]), [0.0, 0.0])


def test_rate_limit_bounds_change_per_tick():
    safety = CommandSafety(ControlInterface.EFFORT, LOW, HIGH, max_delta=0.1)
    safety.limit([0.0, 0.0])
    np.testing.assert_allclose(safety.limit([1.0, -1.0]), [0.1, -0.1])
    np.testing.assert_allclose(safety.limit([1.0, -1.0]), [0.2, -0.2])


def test_safe_command_is_zero_for_effort_and_velocity():
    for interface in (ControlInterface.EFFORT, ControlInterface.VELOCITY):
        safety = CommandSafety(interface, LOW, HIGH)
        safety.limit([1.0, 1.0])
        np.testing.assert_array_equal(safety.safe_command([0.3, 0.4]), [0.0, 0.0])


@pytest.mark.parametrize('interface', [ControlInterface.EFFORT, ControlInterface.VELOCITY])
def test_limits_that_exclude_the_zero_safe_command_are_refused(interface):
    for low, high in (([0.1, -1.0], [2.0, 1.0]), ([-2.0, -1.0], [2.0, -0.2])):
        with pytest.raises(ValueError, match='must include 0'):
            CommandSafety(interface, low, high)
        with pytest.raises(ValueError, match='must include 0'):
            CommandSafety.tightened(interface, LOW, HIGH, tighter_low=low, tighter_high=high)
    CommandSafety(interface, [0.0, -1.0], [2.0, 0.0])  # zero at the edge is a command
    CommandSafety(ControlInterface.POSITION, [0.1, 0.2], [2.0, 1.0])  # safe = hold


def test_safe_command_holds_measured_position():
    safety = CommandSafety(ControlInterface.POSITION, LOW, HIGH)
    np.testing.assert_array_equal(safety.safe_command([0.3, 0.4]), [0.3, 0.4])
    # a NaN measurement falls back to the last command held
    np.testing.assert_array_equal(safety.safe_command([np.nan, 0.0]), [0.3, 0.4])


def test_position_interface_without_any_knowledge_publishes_nothing():
    assert CommandSafety(ControlInterface.POSITION, LOW, HIGH).safe_command(None) is None


def test_tightened_limits_never_widen():
    safety = CommandSafety.tightened(ControlInterface.EFFORT, LOW, HIGH,
                                     tighter_low=[-1.0, -3.0], tighter_high=[3.0, 1.0])
    np.testing.assert_array_equal(safety.low, [-1.0, -0.5])
    np.testing.assert_array_equal(safety.high, [2.0, 1.0])


@pytest.mark.parametrize('bad', [dict(low=[0.0, np.nan], high=[1.0, 1.0]),
                                 dict(low=[1.0, 0.0], high=[0.0, 1.0])])
def test_bad_limits_are_refused(bad):
    with pytest.raises(ValueError):
        CommandSafety(ControlInterface.EFFORT, bad['low'], bad['high'])


def test_whatever_comes_in_goes_out_finite_within_limits_and_rate():
    rng = np.random.default_rng(0)
    safety = CommandSafety(ControlInterface.EFFORT, LOW, HIGH, max_delta=0.25)
    previous = None
    specials = np.array([np.nan, np.inf, -np.inf, 1e308, -1e308, 0.0])
    for _ in range(2000):
        command = rng.normal(0, 10, 2)
        command[rng.random(2) < 0.2] = rng.choice(specials)
        out = safety.limit(command)
        assert np.all(np.isfinite(out)) and np.all(out >= LOW) and np.all(out <= HIGH)
        if previous is not None:
            assert np.all(np.abs(out - previous) <= 0.25 + 1e-12)
        previous = out

"""Homing to an episode's start pose, per command interface, through the safety layer."""
import numpy as np
import pytest

from t3d_ros.acting.homing import (HomePoses, Homing, HomingSettings, HomingStatus,
                                   VELOCITY_KP, homing_gains)
from t3d_ros.acting.safety import CommandSafety
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import ControlInterface
from t3d_ros.tasks.seeds import episode_rngs

DT = 0.02
POSE = np.array([0.4, -0.3])
LOW, HIGH = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
MAX_DELTA = 0.05


def settings(**changes):
    values = dict(tolerance=0.01, timeout=20.0, speed=0.5, kp=np.full(2, 4.0),
                  kd=np.full(2, 1.0))
    values.update(changes)
    return HomingSettings(**values)


def plant(interface, position, velocity, command):
    """One control period of an ideal robot: tracks a position, a velocity, or unit inertia."""
    if interface is ControlInterface.POSITION:
        return command.copy(), (command - position) / DT
    if interface is ControlInterface.VELOCITY:
        return position + command * DT, command.copy()
    velocity = velocity + command * DT
    return position + velocity * DT, velocity


def home(interface, low=LOW, high=HIGH, **changes):
    """Run homing from rest at 0 until it ends; return its status, the commands and the state."""
    safety = CommandSafety(interface, low, high, MAX_DELTA)
    homing = Homing(interface, POSE, settings(**changes), DT, started_at=0.0)
    position, velocity, last, commands = np.zeros(2), np.zeros(2), None, []
    for tick in range(5000):
        status = homing.status(position, velocity, tick * DT)
        if status is not HomingStatus.MOVING:
            return status, commands, position
        last = safety.limit(homing.command(position, velocity, last), position)
        commands.append(last)
        position, velocity = plant(interface, position, velocity, last)
    raise AssertionError('homing never ended')


@pytest.mark.parametrize('interface', list(ControlInterface))
def test_homing_reaches_the_pose_within_limits_and_max_delta(interface):
    status, commands, position = home(interface)
    assert status is HomingStatus.REACHED
    assert np.all(np.abs(position - POSE) <= 0.01)
    commands = np.array(commands)
    assert np.all(commands >= LOW) and np.all(commands <= HIGH)
    start = np.zeros(2)  # the rate limit counts from rest: zero, or the measured position
    assert np.all(np.abs(np.diff(commands, axis=0, prepend=[start])) <= MAX_DELTA + 1e-12)


def test_position_homing_ramps_at_its_speed():
    homing = Homing(ControlInterface.POSITION, POSE, settings(speed=0.5), DT, started_at=0.0)
    first = homing.command(np.zeros(2), np.zeros(2), None)
    assert np.allclose(first, [0.01, -0.01])
    assert np.allclose(homing.command(np.zeros(2), np.zeros(2), first), [0.02, -0.02])


def test_homing_that_cannot_get_there_times_out():
    # Effort limits too weak to move the joints in time.
    status, _, _ = home(ControlInterface.EFFORT, low=np.full(2, -1e-6), high=np.full(2, 1e-6),
                        timeout=1.0)
    assert status is HomingStatus.TIMED_OUT


@pytest.mark.parametrize('bad', [dict(tolerance=0.0), dict(timeout=-1.0), dict(speed=0.0),
                                 dict(kp=np.array([1.0, np.nan])), dict(kd=np.array([-1.0, 0]))])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError, match='home_'):
        settings(**bad)


def test_home_poses_are_the_sims_initial_states():
    task = make_task('reacher')
    poses, (state_rng, _) = HomePoses(task, seed=7), episode_rngs(7)
    for _ in range(3):
        assert np.array_equal(poses.next(), task.sample_initial_state(state_rng)[0])


def test_homing_gains():
    reacher = make_task('reacher')  # effort, no gains of its own
    with pytest.raises(ValueError, match='home_kp and home_kd'):
        homing_gains(reacher, [], [])
    with pytest.raises(ValueError, match='one value per joint'):
        homing_gains(reacher, [1.0], [1.0, 1.0])
    kp, kd = homing_gains(reacher, [1.0, 2.0], [0.1, 0.2])
    assert kp.tolist() == [1.0, 2.0] and kd.tolist() == [0.1, 0.2]
    panda = make_task('panda_reach')
    kp, _ = homing_gains(panda, [], [])
    expected = panda.gains[0] if panda.interface is ControlInterface.EFFORT else VELOCITY_KP
    assert np.allclose(kp, expected)

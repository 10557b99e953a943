"""
The sim's command interfaces behave like ros2_control hardware (issue 7.3).

A position command is reached and held against gravity, a velocity command is tracked, torques stay
within the URDF effort limits, commands clamp to the task's limits, and the safe command of each
interface holds the arm.
"""
import numpy as np
import pytest

from t3d_ros.envs import BulletRobot, TaskEnv
from t3d_ros.acting.safety import CommandSafety
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import ControlInterface

STEPS = 40  # 1.6 s at the odd arm's 0.04 s control period


def run(robot, command, steps=STEPS):
    """Joint positions, velocities and efforts after each of ``steps`` control steps."""
    trace = []
    for _ in range(steps):
        robot.step(command)
        trace.append(robot.joint_state())
    return [np.array(values) for values in zip(*trace)]


@pytest.mark.parametrize('task_name', ['odd_arm', 'iiwa_reach'])
def test_a_position_command_is_reached_and_held(odd_arm, task_name):
    task = make_task(str(odd_arm()) if task_name == 'odd_arm' else task_name)
    start = task.config.home
    target = np.clip(start + 0.4, task.command_low, task.command_high)
    with BulletRobot.for_task(task) as robot:
        robot.reset(start, np.zeros(task.num_joints))
        position, velocity, effort = run(robot, target)
        reached = int(np.argmax(np.all(np.abs(position - target) < 2e-3, axis=1)))
        assert 0 < reached < 30, 'reached within 1.2 s'
        assert np.all(np.abs(position[reached:] - target) < 2e-3), 'and held'
        assert np.all(np.abs(effort) <= robot.effort_limits + 1e-9)
        assert np.any(np.abs(effort[-1]) > 0.1), 'holding against gravity takes torque'


@pytest.mark.parametrize('task_name', ['odd_arm', 'panda_reach'])
def test_a_velocity_command_is_tracked(odd_arm, task_name):
    task = make_task(str(odd_arm(interface='velocity', command_low=None, command_high=None))
                     if task_name == 'odd_arm' else task_name)
    command = np.where(np.arange(task.num_joints) % 2 == 0, 0.5, -0.3)
    with BulletRobot.for_task(task) as robot:
        robot.reset(task.config.home, np.zeros(task.num_joints))
        position, velocity, effort = run(robot, command, steps=12)
        np.testing.assert_allclose(velocity[8:], np.broadcast_to(command, velocity[8:].shape),
                                   atol=5e-3)
        travelled = position[-1] - position[8]
        np.testing.assert_allclose(travelled, command * 3 * task.control_dt, rtol=0.03)
        assert np.all(np.abs(effort) <= robot.effort_limits + 1e-9)


def test_torques_saturate_at_the_urdf_effort_limits(odd_arm):
    """A target far away asks for more than the joints have: the torque stops at the limit."""
    task = make_task(str(odd_arm(command_low=None, command_high=None)))
    with BulletRobot.for_task(task) as robot:
        robot.reset(np.zeros(3), np.zeros(3))
        efforts = run(robot, task.action_high, steps=5)[2]
        assert np.all(np.abs(efforts) <= robot.effort_limits + 1e-9)
        assert np.any(np.isclose(np.abs(efforts), robot.effort_limits))


def test_commands_clamp_to_the_task_limits(odd_arm):
    """The env (as the sim node) clips commands to the task file's tightened limits."""
    with TaskEnv(str(odd_arm())) as env:
        env.reset(seed=0)
        for _ in range(STEPS):
            env.step(np.array([5.0, -5.0, 5.0], dtype=np.float32))
        position = env.robot.joint_state()[0]
        np.testing.assert_allclose(position, [1.5, -1.0, 0.9], atol=2e-3)


@pytest.mark.parametrize('interface', list(ControlInterface))
def test_the_safe_command_of_each_interface_holds_the_arm(odd_arm, interface):
    """
    Hold the measured position (position), zero (velocity).

    The arm stays where it is; zero effort lets it fall, as a real arm without brakes would.
    """
    task = make_task(str(odd_arm(interface=interface.value, command_low=None,
                                 command_high=None)))
    safety = CommandSafety(task.interface, task.action_low, task.action_high)
    start = np.array([0.6, -0.3, 0.2])
    with BulletRobot.for_task(task) as robot:
        robot.reset(start, np.zeros(3))
        measured = robot.joint_state()[0]
        command = safety.safe_command(measured)
        expected = measured if interface is ControlInterface.POSITION else np.zeros(3)
        np.testing.assert_array_equal(command, expected)
        position = run(robot, command)[0]
        if interface is ControlInterface.EFFORT:
            assert np.abs(position[-1] - start).max() > 0.1
        else:
            assert np.abs(position - start).max() < 2e-3

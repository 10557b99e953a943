"""Tasks alone: observation layouts, rewards by hand, limits, registry, episode generators."""
import numpy as np
import pytest

from t3d_ros.tasks import (TASK_FILES, TASKS, HalfCheetahTask, PendulumTask, ReachTask,
                           ReacherTask, make_task, task_names)
from t3d_ros.tasks.base import (BaseState, ControlInterface, RobotState, Task, joint_array,
                                rotation_matrix)
from t3d_ros.tasks.half_cheetah import base_pitch
from t3d_ros.tasks.pendulum import angle_normalize
from t3d_ros.tasks.scaling import ActionScaler
from t3d_ros.tasks.seeds import episode_rngs


def planar_base(x: float, z: float, pitch: float, velocity=(0.0, 0.0), pitch_rate=0.0):
    """
    Return the base state of an MJCF planar root at (x, z, pitch).

    It moves at world ``velocity`` (x, z) and ``pitch_rate``; the twist is in the base's axes,
    as odometry reports it.
    """
    orientation = np.array([0.0, np.sin(pitch / 2), 0.0, np.cos(pitch / 2)])
    to_base = rotation_matrix(orientation).T
    return BaseState(np.array([x, 0.0, z]), orientation,
                     to_base @ np.array([velocity[0], 0.0, velocity[1]]),
                     to_base @ np.array([0.0, pitch_rate, 0.0]))


def sample_state(task: Task, seed: int = 0) -> RobotState:
    state_rng, goal_rng = episode_rngs(seed)
    position, velocity = task.sample_initial_state(state_rng)
    base = None
    if task.floating_base:  # root coordinates (x, z, pitch) first, as the task samples them
        (x, z, pitch), position = position[:3], position[3:]
        (vx, vz, pitch_rate), velocity = velocity[:3], velocity[3:]
        base = planar_base(x, 0.7 + z, pitch, (vx, vz), pitch_rate)
    return RobotState(position, velocity, task.sample_goal(goal_rng), base,
                      task.initial_target(position))


@pytest.fixture(params=task_names())
def task(request) -> Task:
    return make_task(request.param)


def test_registry_names_and_classes():
    assert task_names() == (
        'half_cheetah', 'iiwa_reach', 'panda_reach', 'pendulum', 'reacher')
    for name, task_class in TASKS.items():
        assert issubclass(task_class, Task) and task_class.name == name
        assert isinstance(make_task(name), task_class)
    for name in TASK_FILES:  # shipped task files
        task = make_task(name)
        assert isinstance(task, ReachTask) and task.name == name


def test_unknown_task_lists_known_names():
    with pytest.raises(ValueError, match="unknown task 'cartpole'.*pendulum, reacher"):
        make_task('cartpole')


def test_declarations_are_consistent(task):
    assert task.num_joints == len(task.joint_names) >= 1
    assert isinstance(task.interface, ControlInterface)
    for limit in (task.action_low, task.action_high):
        assert limit.shape == (task.num_joints,) and limit.dtype == np.float64
        assert not limit.flags.writeable
    assert np.all(task.action_low < task.action_high)
    assert task.obs_dim == sum(size for _, size in task.obs_layout)
    assert task.control_dt == pytest.approx(task.physics_dt * task.decimation)
    assert task.max_episode_steps > 0 and task.urdf.endswith(('.urdf', '.xml'))


def test_observation_matches_layout(task):
    state = sample_state(task)
    obs = task.observation(state)
    assert obs.shape == (task.obs_dim,) and obs.dtype == np.float32
    assert np.all(np.isfinite(obs))
    assert (task.sample_goal(np.random.default_rng(0)) is not None) == task.has_goal


def test_initial_states_are_in_range(task):
    rng = np.random.default_rng(1)
    for _ in range(100):
        position, velocity = task.sample_initial_state(rng)
        coordinates = len(task.root_joints) + task.num_joints
        assert position.shape == velocity.shape == (coordinates,)
        if isinstance(task, PendulumTask):
            assert -np.pi <= position[0] <= np.pi and -1 <= velocity[0] <= 1
        elif isinstance(task, ReachTask):
            noise = task.config.spec.initial_noise
            assert np.all(np.abs(position - task.config.home) <= noise) and not velocity.any()
        elif isinstance(task, HalfCheetahTask):  # MuJoCo's uniform and Gaussian noise
            assert np.all(np.abs(position) <= 0.1) and np.all(np.abs(velocity) < 0.6)
        else:
            assert np.all(np.abs(position) <= 0.1) and np.all(np.abs(velocity) <= 0.005)


@pytest.mark.parametrize('task_name', task_names())
def test_a_task_normalises_actions_as_the_networks_scaler_does(task_name):
    """One map to [-1, 1]: a reward's action term and the replay's stored actions agree bitwise."""
    task = make_task(task_name)
    actions = np.random.default_rng(0).uniform(task.action_low, task.action_high,
                                               size=(200, task.num_joints))
    np.testing.assert_array_equal(task.normalize_action(actions), ActionScaler(
        task.action_low, task.action_high).to_unit(actions))


class AsymmetricTask(PendulumTask):
    action_low = joint_array(-1.0)
    action_high = joint_array(3.0)


def test_normalize_and_clip_respect_asymmetric_limits():
    task = AsymmetricTask()
    np.testing.assert_allclose(task.normalize_action(np.array([-1.0, 1.0, 3.0])), [-1, 0, 1])
    np.testing.assert_array_equal(task.clip_action(np.array([5.0])), [3.0])
    np.testing.assert_array_equal(task.clip_action(np.array([-5.0])), [-1.0])


def test_reacher_limits_differ_per_joint():
    task = ReacherTask()
    np.testing.assert_array_equal(task.clip_action(np.array([5.0, 5.0])), task.action_high)
    assert task.action_high[0] != task.action_high[1]


@pytest.mark.parametrize('angle, wrapped', [
    (0.0, 0.0), (np.pi, -np.pi), (-np.pi, -np.pi), (1.5 * np.pi, -0.5 * np.pi),
    (2 * np.pi + 0.1, 0.1), (-2 * np.pi - 0.1, -0.1)])
def test_angle_normalize(angle, wrapped):
    assert angle_normalize(angle) == pytest.approx(wrapped)


def test_pendulum_observation():
    obs = PendulumTask().observation(RobotState(np.array([0.5]), np.array([-2.0])))
    np.testing.assert_allclose(obs, [np.cos(0.5), np.sin(0.5), -2.0], rtol=1e-6)


def test_pendulum_reward_is_pendulum_v1_cost_of_the_state_before():
    task = PendulumTask()
    before = RobotState(np.array([3.5]), np.array([2.0]))
    after = RobotState(np.array([0.0]), np.array([0.0]))
    theta = 3.5 - 2 * np.pi
    expected = -(theta ** 2 + 0.1 * 2.0 ** 2 + 0.001 * 1.5 ** 2)
    assert task.reward(before, np.array([1.5]), after) == pytest.approx(expected, rel=1e-12)
    # Pendulum-v1 charges the clipped torque.
    clipped = -(theta ** 2 + 0.1 * 2.0 ** 2 + 0.001 * 2.0 ** 2)
    assert task.reward(before, np.array([5.0]), after) == pytest.approx(clipped, rel=1e-12)
    assert not task.terminated(after) and task.is_success(after) is None


@pytest.mark.parametrize('position, tip_xy', [
    ((0.0, 0.0), (0.21, 0.0)),
    ((np.pi / 2, 0.0), (0.0, 0.21)),
    ((0.0, np.pi / 2), (0.1, 0.11)),
    ((np.pi / 2, -np.pi / 2), (0.11, 0.1)),
    ((np.pi, np.pi), (0.01, 0.0)),
])
def test_reacher_forward_kinematics(position, tip_xy):
    tip = ReacherTask().fingertip(np.array(position))
    np.testing.assert_allclose(tip, [*tip_xy, 0.01], atol=1e-12)


def test_reacher_reward_and_observation_by_hand():
    task = ReacherTask()
    goal = np.array([0.1, 0.05, 0.01])
    before = RobotState(np.zeros(2), np.zeros(2), goal)
    after = RobotState(np.array([0.0, np.pi / 2]), np.array([0.3, -0.4]), goal)  # tip (0.1, 0.11)
    action = np.array([0.5, -0.15])  # half of each joint's range
    expected = -0.06 - 0.1 * (0.5 ** 2 + 0.5 ** 2)
    assert task.reward(before, action, after) == pytest.approx(expected, rel=1e-12)
    assert task.reward(before, np.array([9.0, 0.0]), after) == pytest.approx(-0.06 - 0.1)

    obs = task.observation(after)
    fields, start = {}, 0
    for name, size in task.obs_layout:
        fields[name] = obs[start:start + size]
        start += size
    np.testing.assert_allclose(fields['cos_q'], [1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(fields['sin_q'], [0.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(fields['goal_xy'], [0.1, 0.05], rtol=1e-6)
    np.testing.assert_allclose(fields['q_dot'], [0.3, -0.4], rtol=1e-6)
    np.testing.assert_allclose(fields['fingertip_to_goal'], [0.0, 0.06], atol=1e-7)
    assert not task.is_success(after)
    assert task.is_success(RobotState(after.position, after.velocity, np.array([0.1, 0.1, 0.0])))


def test_reacher_goals_fill_the_disc():
    task = ReacherTask()
    rng = np.random.default_rng(0)
    goals = np.array([task.sample_goal(rng) for _ in range(4000)])
    radius = np.linalg.norm(goals[:, :2], axis=1)
    assert radius.max() < task.goal_radius
    np.testing.assert_array_equal(goals[:, 2], task.plane_height)
    # Uniform over the disc area: a quarter of the goals lie within half the radius.
    assert np.mean(radius < task.goal_radius / 2) == pytest.approx(0.25, abs=0.03)
    np.testing.assert_allclose(goals[:, :2].mean(axis=0), 0.0, atol=0.01)


def test_rotation_matrix_of_quarter_turns():
    half = np.sqrt(0.5)
    np.testing.assert_allclose(rotation_matrix(np.array([0.0, 0.0, half, half])),
                               [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix(np.array([0.0, half, 0.0, half])),
                               [[0, 0, 1], [0, 1, 0], [-1, 0, 0]], atol=1e-12)


@pytest.mark.parametrize('pitch', [0.0, 0.4, -1.2, 3.0])
def test_half_cheetah_pitch_from_the_orientation(pitch):
    assert base_pitch(planar_base(0.0, 0.7, pitch)) == pytest.approx(pitch, abs=1e-12)


def test_half_cheetah_pitch_wraps_once_flipped():
    assert base_pitch(planar_base(0.0, 0.7, 3.5)) == pytest.approx(3.5 - 2 * np.pi)


def test_half_cheetah_observation_by_hand():
    """Gymnasium HalfCheetah-v5's layout: qpos without x, then qvel, world-frame root rates."""
    task = HalfCheetahTask()
    q, q_dot = np.linspace(-0.5, 0.5, 6), np.linspace(1.0, 6.0, 6)
    state = RobotState(q, q_dot, None, planar_base(2.0, 0.5, 0.3, (1.5, -0.2), 0.7))
    expected = np.concatenate([[-0.2, 0.3], q, [1.5, -0.2, 0.7], q_dot])
    np.testing.assert_allclose(task.observation(state), expected, rtol=1e-6, atol=1e-7)
    assert [name for name, _ in task.obs_layout][:2] == ['torso_z', 'torso_pitch']


def test_half_cheetah_reward_is_forward_velocity_minus_control_cost():
    task = HalfCheetahTask()
    zeros = np.zeros(6)
    before = RobotState(zeros, zeros, None, planar_base(1.0, 0.7, 0.0))
    after = RobotState(zeros, zeros, None, planar_base(1.1, 0.6, 0.5))
    half_torque = task.gears / 2  # normalised action 0.5 on every joint
    assert task.reward(before, half_torque, after) == pytest.approx(0.1 / 0.05 - 0.1 * 6 * 0.25)
    # Beyond the limits the command is clipped first: the cost of a full action, no more.
    assert task.reward(before, -10 * task.gears, before) == pytest.approx(-0.1 * 6)
    assert task.control_dt == pytest.approx(0.05) and task.max_episode_steps == 1000

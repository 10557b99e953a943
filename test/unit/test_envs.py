"""PyBullet robots and the gymnasium envs: API, determinism, the robot/task split, physics."""
import warnings

import gymnasium
import numpy as np
import pybullet
import pytest
from gymnasium.utils.env_checker import check_env

from t3d_ros.envs import ENV_IDS, BulletRobot, FloatingBaseRobot, TaskEnv, make_env
from t3d_ros.paths import model_path, sim_model_path
from t3d_ros.tasks import HalfCheetahTask, PendulumTask, ReacherTask, make_task, task_names
from t3d_ros.tasks.base import ControlInterface, RobotState, rotation_matrix
from t3d_ros.tasks.seeds import episode_rngs


def random_actions(task, count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(task.action_low, task.action_high, size=(count, task.num_joints))


def rollout(env, seed, actions):
    """Observations and rewards of one episode played with ``actions``."""
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for action in actions:
        obs, reward, *_ = env.step(action.astype(np.float32))
        observations.append(obs)
        rewards.append(reward)
    return np.array(observations), np.array(rewards)


@pytest.mark.parametrize('env_id', sorted(ENV_IDS.values()))
def test_gymnasium_env_checker(env_id):
    """
    No warnings but two advisories the design asks for.

    An unbounded observation space and actions in physical units (TD3 normalises them itself).
    """
    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        warnings.filterwarnings('ignore', message='.*(minimum|maximum) value is (-)?infinity')
        warnings.filterwarnings('ignore', message='.*symmetric and normalized space')
        check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize('task_name', task_names())
def test_registered_env_is_the_task_env_without_extra_time_limit(task_name):
    env = gymnasium.make(ENV_IDS[task_name])
    assert isinstance(env.unwrapped, TaskEnv) and env.unwrapped.task.name == task_name
    assert env.spec.max_episode_steps is None
    assert env.spec.reward_threshold == env.unwrapped.task.reward_threshold
    env.close()


@pytest.mark.parametrize('task_name', task_names())
def test_same_seed_same_trajectory(task_name):
    actions = random_actions(make_task(task_name), 30)
    with make_env(task_name) as first, make_env(task_name) as second:
        obs_a, rewards_a = rollout(first, 5, actions)
        obs_b, rewards_b = rollout(second, 5, actions)
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_array_equal(rewards_a, rewards_b)
        obs_c, _ = rollout(first, 6, actions)
        assert not np.array_equal(obs_a, obs_c)


def test_unseeded_episodes_continue_the_seeded_streams():
    with make_env('reacher') as env:
        first, _ = env.reset(seed=11)
        second, _ = env.reset()
        assert not np.array_equal(first, second)
        again_first, _ = env.reset(seed=11)
        again_second, _ = env.reset()
        np.testing.assert_array_equal(first, again_first)
        np.testing.assert_array_equal(second, again_second)


def test_truncates_at_the_time_limit_and_never_terminates():
    with make_env('pendulum') as env:
        env.reset(seed=0)
        limit = env.task.max_episode_steps
        for step in range(1, limit + 1):
            _, _, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
            assert not terminated
            assert truncated == (step == limit)


class TerminatingTask(PendulumTask):
    max_episode_steps = 1

    def terminated(self, state: RobotState) -> bool:
        return True


def test_termination_at_the_time_limit_is_not_truncation():
    with TaskEnv(TerminatingTask()) as env:
        env.reset(seed=0)
        _, _, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
        assert terminated and not truncated


def test_actions_are_clipped_to_the_limits():
    with make_env('reacher') as env:
        env.reset(seed=0)
        env.step(np.array([50.0, -50.0], np.float32))
        _, _, effort = env.robot.joint_state()
        np.testing.assert_array_equal(effort, [env.task.action_high[0], env.task.action_low[1]])


def test_reacher_reports_success():
    with make_env('reacher') as env:
        _, info = env.reset(seed=0)
        assert info == {'is_success': False}


def read_state(robot, task, goal, command=None):
    """
    Return what the actor sees.

    Joint states, the goal, odometry where the base floats, and the joint target where the
    action moves one: ``command``, the last one sent, else the measured position.
    """
    position, velocity, _ = robot.joint_state()
    target = task.initial_target(position) if command is None else command
    return RobotState(position, velocity, goal, robot.base_state(),
                      target if task.tracks_target else None)


@pytest.mark.parametrize('task_name', task_names())
def test_robot_and_task_alone_reproduce_the_env_exactly(task_name):
    """The ROS path: the sim node steps the robot, the actor computes obs and reward."""
    seed, episodes, steps = 3, 2, 60
    task = make_task(task_name)
    actions = random_actions(task, episodes * steps, seed=1).astype(np.float32)
    env = make_env(task_name)
    robot = BulletRobot.for_task(task)
    state_rng, goal_rng = episode_rngs(seed)
    for episode in range(episodes):
        env_obs, _ = env.reset(seed=seed if episode == 0 else None)
        position, velocity = task.sample_initial_state(state_rng)
        goal = task.sample_goal(goal_rng)
        robot.reset(position, velocity)  # no goal marker here: it must not matter
        state = read_state(robot, task, goal)
        np.testing.assert_array_equal(env_obs, task.observation(state))
        for action in actions[episode * steps:(episode + 1) * steps]:
            env_obs, env_reward, *_ = env.step(action)
            action = task.clip_action(action.astype(np.float64))
            command = task.command(action, state.target)
            robot.step(command)
            next_state = read_state(robot, task, goal, command)
            assert env_reward == task.reward(state, action, next_state)
            np.testing.assert_array_equal(env_obs, task.observation(next_state))
            state = next_state
    assert robot.sim_time == pytest.approx(env.robot.sim_time)
    robot.close()
    env.close()


def test_pendulum_dynamics_match_pendulum_v1():
    """
    Same initial states and torques: theta agrees to float32 rounding of the torque.

    Measured: at most about 1e-7 rad over 20 steps (PyBullet integrates the same
    semi-implicit Euler step); ten 0.005 s physics steps per control step differ by 0.17 rad.
    """
    reference = gymnasium.make('Pendulum-v1').unwrapped
    reference.reset(seed=0)
    rng = np.random.default_rng(0)
    with BulletRobot.for_task(PendulumTask()) as robot:
        for _ in range(10):
            start = rng.uniform((-np.pi, -1.0), (np.pi, 1.0))
            torques = rng.uniform(-2.0, 2.0, size=20).astype(np.float32)
            reference.state = start.copy()
            robot.reset(start[:1], start[1:])
            for torque in torques:
                reference.step(np.array([torque]))
                robot.step([float(torque)])
                position, velocity, _ = robot.joint_state()
                np.testing.assert_allclose(position[0], reference.state[0], atol=1e-6)
                np.testing.assert_allclose(velocity[0], reference.state[1], atol=1e-5)
    reference.close()


def test_pendulum_speed_is_clamped_like_pendulum_v1():
    with BulletRobot.for_task(PendulumTask()) as robot:
        robot.reset([0.0], [0.0])
        for _ in range(100):
            robot.step([2.0])
            assert abs(robot.joint_state()[1][0]) <= 8.0 + 1e-9


def reacher_joint_target(task: ReacherTask, goal: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Inverse kinematics: of the two elbow solutions, the one with the shorter shoulder turn."""
    upper, fore = task.link_lengths
    x, y = goal[:2]
    cos_elbow = (x * x + y * y - upper ** 2 - fore ** 2) / (2 * upper * fore)
    targets = []
    for elbow in np.arccos(np.clip(cos_elbow, np.cos(3.0), 1.0)) * np.array([1.0, -1.0]):
        reach_angle = np.arctan2(fore * np.sin(elbow), upper + fore * np.cos(elbow))
        turn = (np.arctan2(y, x) - reach_angle - position[0] + np.pi) % (2 * np.pi) - np.pi
        targets.append(np.array([position[0] + turn, elbow]))
    return min(targets, key=lambda target: abs(target[0] - position[0]))


@pytest.mark.parametrize('goal_xy', [
    (0.19, 0.0), (-0.19, 0.02), (0.0, -0.19), (-0.1, -0.1), (0.04, 0.03), (0.12, 0.15)])
def test_reacher_targets_are_reachable_within_the_effort_limits(goal_xy):
    """
    Reach the goal with a PD controller on an IK target, within the task's limits.

    The joint PD controller, saturated at the task's limits, reaches the goal within half an
    episode and holds it.
    """
    task = ReacherTask()
    goal = np.array([*goal_xy, task.plane_height])
    gains, damping = np.array([2.0, 0.5]), np.array([0.15, 0.03])
    with BulletRobot.for_task(task) as robot:
        robot.reset(np.zeros(2), np.zeros(2))
        position, velocity, _ = robot.joint_state()
        target = reacher_joint_target(task, goal, position)
        distances = []
        for _ in range(task.max_episode_steps):
            command = task.clip_action(gains * (target - position) - damping * velocity)
            robot.step(command)
            position, velocity, _ = robot.joint_state()
            distances.append(task.goal_distance(RobotState(position, velocity, goal)))
    half = task.max_episode_steps // 2
    assert max(distances[half:]) < task.success_distance


def test_reacher_fingertip_kinematics_match_the_urdf():
    task = ReacherTask()
    with BulletRobot.for_task(task) as robot:
        client, body = robot.client, robot.body_id
        joints = range(client.getNumJoints(body))
        names = [client.getJointInfo(body, j)[1].decode() for j in joints]
        tip_link = names.index('fingertip_joint')
        for position in np.random.default_rng(0).uniform(-3.0, 3.0, size=(5, 2)):
            robot.reset(position, np.zeros(2))
            tip = client.getLinkState(body, tip_link, computeForwardKinematics=True)[4]
            np.testing.assert_allclose(tip, task.fingertip(position), atol=1e-9)


@pytest.mark.parametrize('task_name', task_names())
def test_task_limits_are_within_the_urdf_effort_limits(task_name):
    task = make_task(task_name)
    with BulletRobot.for_task(task) as robot:
        assert np.all(task.action_high <= robot.effort_limits)
        assert np.all(-task.action_low <= robot.effort_limits)


def test_randomize_dynamics_changes_and_reset_restores():
    def masses_and_friction(robot):
        infos = [robot.client.getDynamicsInfo(robot.body_id, link)
                 for link in range(-1, robot.client.getNumJoints(robot.body_id))]
        return np.array([info[:3] for info in infos], dtype=object)

    def trajectory(robot):
        robot.reset(np.zeros(2), np.zeros(2))
        for _ in range(20):
            robot.step([0.5, 0.2])
        return robot.joint_state()[0]

    task = ReacherTask()
    with BulletRobot.for_task(task) as robot, BulletRobot.for_task(task) as reference:
        nominal = masses_and_friction(robot)
        robot.randomize_dynamics(np.random.default_rng(0), mass_scale=(0.5, 0.7),
                                 friction=(1.5, 2.0))
        randomized = masses_and_friction(robot)
        moving = [i for i, info in enumerate(nominal) if info[0] > 0]
        for i in moving:
            assert 0.5 * nominal[i][0] <= randomized[i][0] <= 0.7 * nominal[i][0]
            assert 1.5 * nominal[i][1] <= randomized[i][1] <= 2.0 * nominal[i][1]
        assert not np.array_equal(trajectory(robot), trajectory(reference))
        robot.reset_dynamics()
        restored = masses_and_friction(robot)
        for before, after in zip(nominal, restored):
            assert before[0] == after[0] and before[1] == after[1]
            np.testing.assert_array_equal(before[2], after[2])
        np.testing.assert_array_equal(trajectory(robot), trajectory(reference))
        with pytest.raises(ValueError, match='mass_scale'):
            robot.randomize_dynamics(np.random.default_rng(0), mass_scale=(1.2, 0.8))
        robot.randomize_dynamics(np.random.default_rng(0), mass_scale=None, friction=(2.0, 3.0))
        frictional = masses_and_friction(robot)
        for before, after in zip(nominal, frictional):
            assert after[0] == before[0] and after[1] >= 2.0 * before[1]


def test_robot_rejects_bad_commands_and_unknown_joints():
    task = ReacherTask()
    with BulletRobot.for_task(task) as robot:
        for bad in ([0.1], [0.1, 0.2, 0.3], [np.nan, 0.0], [np.inf, 0.0]):
            with pytest.raises(ValueError):
                robot.step(bad)
        with pytest.raises(ValueError):
            robot.reset([0.0, np.nan], [0.0, 0.0])
    with pytest.raises(ValueError, match='wrist_joint'):
        BulletRobot(sim_model_path(task.urdf), ('shoulder_joint', 'wrist_joint'),
                    task.interface, task.physics_dt, task.decimation)
    with pytest.raises(ValueError, match='fingertip_joint'):  # a fixed joint cannot be driven
        BulletRobot(sim_model_path(task.urdf), ('fingertip_joint',),
                    task.interface, task.physics_dt, task.decimation)


def test_sim_time_keeps_counting_across_resets():
    task = ReacherTask()
    with BulletRobot.for_task(task) as robot:
        robot.reset(np.zeros(2), np.zeros(2))
        for _ in range(3):
            robot.step(np.zeros(2))
        robot.reset(np.zeros(2), np.zeros(2))
        robot.step(np.zeros(2))
        assert robot.sim_time == pytest.approx(4 * task.control_dt)


def test_show_goal_moves_one_visual_only_marker():
    with BulletRobot.for_task(ReacherTask()) as robot:
        client = robot.client
        bodies = client.getNumBodies()
        robot.show_goal([0.1, 0.05, 0.01])
        robot.show_goal([-0.1, 0.02, 0.01])
        assert client.getNumBodies() == bodies + 1
        marker = client.getBodyUniqueId(bodies)
        position, _ = client.getBasePositionAndOrientation(marker)
        np.testing.assert_allclose(position, [-0.1, 0.02, 0.01])
        assert client.getCollisionShapeData(marker, -1) == ()
        with pytest.raises(ValueError):
            robot.show_goal([0.1, 0.2])


@pytest.mark.parametrize('interface, command, check', [
    (ControlInterface.VELOCITY, [1.0, -1.0], lambda position, velocity: velocity),
    (ControlInterface.POSITION, [0.5, -0.5], lambda position, velocity: position),
])
def test_velocity_and_position_interfaces_track_their_commands(interface, command, check):
    task = ReacherTask()
    with BulletRobot(sim_model_path(task.urdf), task.joint_names, interface,
                     task.physics_dt, task.decimation) as robot:
        robot.reset(np.zeros(2), np.zeros(2))
        for _ in range(100):
            robot.step(command)
        position, velocity, effort = robot.joint_state()
        np.testing.assert_allclose(check(position, velocity), command, atol=0.02)
        assert np.all(np.abs(effort) <= robot.effort_limits + 1e-9)


def test_sim_model_path():
    assert sim_model_path('pendulum.urdf').is_file()
    with pytest.raises(FileNotFoundError, match='no_such_robot.urdf'):
        sim_model_path('no_such_robot.urdf')


def test_closed_robot_releases_its_client():
    robot = BulletRobot.for_task(PendulumTask())
    client_id = robot.client._client
    robot.close()
    robot.close()
    assert not pybullet.isConnected(physicsClientId=client_id)


def root_joint_states(robot):
    """Positions and velocities of the planar root joints (slide x, slide z, hinge y)."""
    states = robot.client.getJointStates(robot.body_id, robot._reset_indices[:3])
    return np.array([s[0] for s in states]), np.array([s[1] for s in states])


def test_floating_base_state_is_the_planar_root_as_odometry_reports_it():
    """Pose in the world, twist in the base's own axes (REP 105), equal to the root joints."""
    task = HalfCheetahTask()
    rng = np.random.default_rng(4)
    with BulletRobot.for_task(task) as robot:
        assert isinstance(robot, FloatingBaseRobot)
        robot.reset(*task.sample_initial_state(rng))
        for step in range(40):
            robot.step(rng.uniform(task.action_low, task.action_high))
            (x, z, pitch), (vx, vz, pitch_rate) = root_joint_states(robot)
            base = robot.base_state()
            np.testing.assert_allclose(base.position, [x, 0.0, task.torso_height + z],
                                       atol=1e-6)
            np.testing.assert_allclose(base.orientation,
                                       [0.0, np.sin(pitch / 2), 0.0, np.cos(pitch / 2)],
                                       atol=1e-6)
            to_world = rotation_matrix(base.orientation)
            np.testing.assert_allclose(to_world @ base.linear_velocity, [vx, 0.0, vz],
                                       atol=1e-6)
            np.testing.assert_allclose(base.angular_velocity, [0.0, pitch_rate, 0.0], atol=1e-6)


def test_floating_base_reset_takes_root_then_joints():
    task = HalfCheetahTask()
    position = np.array([0.3, -0.05, 0.2, 0.1, -0.1, 0.2, -0.2, 0.3, -0.5])
    velocity = np.linspace(-0.5, 0.5, 9)
    with BulletRobot.for_task(task) as robot:
        assert robot.reset_joint_names == task.root_joints + task.joint_names
        robot.reset(position, velocity)
        root_position, root_velocity = root_joint_states(robot)
        joint_position, joint_velocity, _ = robot.joint_state()
        np.testing.assert_allclose(np.concatenate([root_position, joint_position]), position)
        np.testing.assert_allclose(np.concatenate([root_velocity, joint_velocity]), velocity)
        with pytest.raises(ValueError, match='ignorex'):  # joints alone are not a full state
            robot.reset(position[3:], velocity[3:])


def test_floating_base_stands_on_the_ground_and_moves_under_effort():
    """
    Unactuated, the cheetah falls onto the plane and rests there; pushing its legs moves it.

    Torques saturate at the MJCF gears.
    """
    task = HalfCheetahTask()
    with BulletRobot.for_task(task) as robot:
        robot.reset(np.zeros(9), np.zeros(9))
        for _ in range(60):
            robot.step(np.zeros(6))
        rest = robot.base_state()
        assert 0.0 < rest.position[2] < task.torso_height
        assert np.linalg.norm(rest.linear_velocity) < 0.05
        robot.step(10 * task.gears)
        np.testing.assert_array_equal(robot.joint_state()[2], task.gears)
        rest_joints = robot.joint_state()[0]
        for _ in range(20):
            robot.step(np.where(np.arange(6) % 2, 1, -1) * task.gears)
        assert np.linalg.norm(robot.joint_state()[0] - rest_joints) > 0.3
        assert np.linalg.norm(robot.base_state().position - rest.position) > 0.02


def test_floating_base_model_errors_name_what_is_missing():
    task = HalfCheetahTask()
    path = model_path(task.urdf)
    args = (path, task.joint_names, task.interface, task.physics_dt, task.decimation,
            task.effort_limits)
    with pytest.raises(ValueError, match="no link named 'body'"):
        FloatingBaseRobot(*args, odom_link='body', root_joints=task.root_joints)
    with pytest.raises(ValueError, match='rootx'):
        FloatingBaseRobot(*args, odom_link='torso', root_joints=('rootx', 'ignorez', 'ignorey'))
    with pytest.raises(FileNotFoundError, match='no_such.xml'):
        model_path('pybullet_data/mjcf/no_such.xml')
    assert model_path(task.urdf).parent.name == 'mjcf'  # referenced in pybullet_data, not copied

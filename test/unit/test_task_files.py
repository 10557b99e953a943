"""
Task files (docs/architecture.md, "Task files").

Loading, defaults, every kind of bad file refused with its field named, and Pinocchio's forward
kinematics against PyBullet's link states.
"""
import numpy as np
import pytest
import yaml

from t3d_ros.envs import BulletRobot, TaskEnv
from t3d_ros.tasks import TASK_FILES, ReachTask, TaskFileError, make_task, task_file_path
from t3d_ros.tasks.base import ControlInterface, RobotState
from t3d_ros.tasks.task_file import load_task_file, parse_task_file


def test_odd_arm_task_file_loads_with_its_defaults(odd_arm):
    task = make_task(str(odd_arm()))
    assert isinstance(task, ReachTask) and task.name == 'odd_arm_reach'
    assert task.joint_names == ('ELBOW__pitch', 'Shoulder-Yaw.0', 'wrist_3')
    assert task.interface is ControlInterface.POSITION
    np.testing.assert_array_equal(task.action_low, [-0.3, -1.0, -1.5])
    np.testing.assert_array_equal(task.action_high, [1.5, 0.8, 0.9])
    kp, kd = task.gains  # derived from the URDF effort limits (15, 20, 5 N m)
    np.testing.assert_allclose(kp, [150.0, 200.0, 50.0])
    np.testing.assert_allclose(kd, [15.0, 20.0, 5.0])
    assert task.control_dt == pytest.approx(0.04) and task.decimation == 8
    assert task.max_episode_steps == 25 and task.has_goal
    assert task.command_topic == 'forward_position_controller/commands'
    assert task.obs_dim == 3 + 3 + 9


def test_limits_default_to_the_urdf_per_interface(odd_arm):
    position = make_task(str(odd_arm(command_low=None, command_high=None)))
    np.testing.assert_array_equal(position.action_low, [-0.4, -2.5, -1.7])
    np.testing.assert_array_equal(position.action_high, [2.2, 1.0, 0.9])
    velocity = make_task(str(odd_arm(interface='velocity', command_low=None,
                                     command_high=None)))
    np.testing.assert_array_equal(velocity.action_high, [3.0, 3.0, 4.0])
    assert velocity.command_topic == 'forward_velocity_controller/commands'
    effort = make_task(str(odd_arm(interface='effort', command_low=None, command_high=None)))
    np.testing.assert_array_equal(effort.action_low, [-15.0, -20.0, -5.0])


def test_built_in_reach_tasks_are_shipped_task_files_on_pybullet_data():
    for name in TASK_FILES:
        path = task_file_path(name)
        spec = yaml.safe_load(path.read_text())
        assert spec['name'] == name and spec['robot'].startswith('pybullet_data/')
        task = make_task(name)
        assert task.model_path().is_file() and task.num_joints == 7
        assert make_task(str(path)).name == name
    assert make_task('panda_reach').interface is ControlInterface.VELOCITY
    assert make_task('iiwa_reach').interface is ControlInterface.POSITION


def test_robot_paths_resolve_relative_to_the_file_and_absolute(odd_arm, tmp_path):
    relative = odd_arm()
    absolute = odd_arm('absolute.yaml', robot=str(tmp_path / 'odd_arm.urdf'))
    for path in (relative, absolute):
        assert load_task_file(path).urdf_path == tmp_path / 'odd_arm.urdf'


BAD_FILES = {
    'unknown field': ({'colour': 'red'}, 'colour', 'unknown field'),
    'unknown nested field': ({'reward': {'distance': 1.0, 'speed': 0.1}}, 'reward.speed',
                             'unknown field'),
    'missing field': ({'end_effector': None}, 'end_effector', 'required'),
    'unknown family': ({'task': 'juggle'}, 'task', 'juggle'),
    'unknown interface': ({'interface': 'torque'}, 'interface', 'torque'),
    'unknown joint': ({'joints': ['ELBOW__pitch', 'Shoulder-Yaw.0', 'wrist_4']}, 'joints',
                      "no joint 'wrist_4'"),
    'joint outside the chain': ({'joints': ['ELBOW__pitch', 'Shoulder-Yaw.0', 'wrist_3',
                                            'decoy'],
                                 'command_low': None, 'command_high': None},
                                'joints', "'decoy' is not in the chain"),
    'fixed joint': ({'joints': ['ELBOW__pitch', 'Shoulder-Yaw.0', 'fixed mount']}, 'joints',
                    'fixed joint'),
    'chain joint left out': ({'joints': ['ELBOW__pitch', 'Shoulder-Yaw.0'],
                              'command_low': None, 'command_high': None}, 'joints',
                             'wrist_3'),
    'joint twice': ({'joints': ['ELBOW__pitch', 'Shoulder-Yaw.0', 'wrist_3', 'wrist_3'],
                     'command_low': None, 'command_high': None}, 'joints', 'twice'),
    'unknown end effector': ({'end_effector': 'flange'}, 'end_effector', "no link 'flange'"),
    'unknown base link': ({'base_link': 'base_link'}, 'base_link', "no link 'base_link'"),
    'moving base link': ({'base_link': 'fore_link'}, 'base_link', 'fixed to the root'),
    'wider lower limit': ({'command_low': [-0.5, -1.0, -1.5]}, 'command_low', 'wider'),
    'wider upper limit': ({'command_high': [1.5, 0.8, 1.0]}, 'command_high', 'wider'),
    'limits per joint': ({'command_high': [1.0, 0.5]}, 'command_high', 'one value per joint'),
    'crossed limits': ({'command_low': [0.5, -1.0, -1.5], 'command_high': [0.4, 0.8, 0.9]},
                       'command_low', 'below'),
    'missing model': ({'robot': 'no_such_arm.urdf'}, 'robot', 'does not exist'),
    'unknown URI scheme': ({'robot': 'http://example.com/arm.urdf'}, 'robot',
                           'unknown URI scheme'),
    'xacro arguments of a URDF': ({'xacro_args': {'prefix': 'left_'}}, 'xacro_args',
                                  'only for a .xacro robot'),
    'xacro argument not a scalar': ({'robot': 'arm.urdf.xacro', 'xacro_args': {'joints': [1]}},
                                    'xacro_args.joints', 'string, number or boolean'),
    'package paths not a list': ({'package_paths': 'meshes'}, 'package_paths', 'list'),
    'joints not a list': ({'joints': 'ELBOW__pitch'}, 'joints', 'list'),
    'steps not an integer': ({'episode_steps': 'ten'}, 'episode_steps', 'integer'),
    'period not a number': ({'control_period': 'fast'}, 'control_period', 'number'),
    'period not whole steps': ({'control_period': 0.0123}, 'control_period', 'whole number'),
    'negative success distance': ({'success_distance': -0.1}, 'success_distance', '> 0'),
    'goal both shapes': ({'goal': {'center': [0.2, 0, 0.2], 'radius': 0.1,
                                   'half_extent': [0.1, 0.1, 0.1]}}, 'goal', 'exactly one'),
    'goal center size': ({'goal': {'center': [0.2, 0], 'radius': 0.1}}, 'goal.center', '3'),
    'goal radius': ({'goal': {'center': [0.2, 0, 0.2], 'radius': -0.1}}, 'goal.radius', '> 0'),
    'gains size': ({'gains': {'kp': [1.0, 2.0], 'kd': [1.0, 1.0, 1.0]}}, 'gains.kp',
                   'one value per joint'),
    'negative gain': ({'gains': {'kp': [1.0, 2.0, 3.0], 'kd': [1.0, -1.0, 1.0]}}, 'gains.kd',
                      '>= 0'),
    'home outside limits': ({'home': [0.0, 0.0, 1.2]}, 'home', 'outside'),
    'weight not a number': ({'reward': {'distance': 'far'}}, 'reward.distance', 'number'),
    'unknown position action': ({'position_action': 'delta'}, 'position_action',
                                "not one of \\['absolute', 'relative'\\]"),
    'relative velocity': ({'interface': 'velocity', 'command_low': None, 'command_high': None,
                           'position_action': 'relative'}, 'position_action',
                          'needs interface: position'),
    'step without relative': ({'position_step': 0.05}, 'position_step',
                              'only used with position_action: relative'),
    'step not positive': ({'position_action': 'relative', 'position_step': 0.0},
                          'position_step', '> 0'),
    'step not a number': ({'position_action': 'relative', 'position_step': 'small'},
                          'position_step', 'number'),
}


@pytest.mark.parametrize('case', sorted(BAD_FILES))
def test_bad_task_files_are_refused_naming_the_field(odd_arm, case):
    changes, field, words = BAD_FILES[case]
    with pytest.raises(TaskFileError, match=words) as error:
        make_task(str(odd_arm(**changes)))
    assert error.value.field == field
    assert f': {field}: ' in str(error.value) and 'odd_arm.yaml' in str(error.value)


def test_unreadable_and_malformed_files_are_refused(tmp_path):
    with pytest.raises(TaskFileError, match='file: cannot read'):
        make_task(str(tmp_path / 'missing.yaml'))
    (tmp_path / 'broken.yaml').write_text('task: [reach\n')
    with pytest.raises(TaskFileError, match='file: not valid YAML'):
        make_task(str(tmp_path / 'broken.yaml'))
    (tmp_path / 'list.yaml').write_text('- task\n')
    with pytest.raises(TaskFileError, match='file: must be a YAML mapping'):
        make_task(str(tmp_path / 'list.yaml'))
    (tmp_path / 'not_urdf.urdf').write_text('<robot name="x"><link name="a"/><joint/></robot>')
    with pytest.raises(TaskFileError, match='robot'):
        parse_task_file(yaml.safe_dump({'task': 'reach', 'name': 'x', 'robot': 'not_urdf.urdf',
                                        'base_link': 'a', 'end_effector': 'a', 'joints': ['j'],
                                        'interface': 'effort',
                                        'goal': {'center': [0, 0, 0], 'radius': 1.0}}),
                        tmp_path)


def link_frames(robot: BulletRobot) -> dict[str, int]:
    client, body = robot.client, robot.body_id
    return {client.getJointInfo(body, j)[12].decode(): j for j in range(client.getNumJoints(body))}


@pytest.mark.parametrize('task_name', ['odd_arm', *TASK_FILES])
def test_forward_kinematics_equals_pybullet_link_state(odd_arm, task_name):
    """
    Pinocchio's end-effector frame (the URDF link frame) is PyBullet's link frame.

    That is ``getLinkState(...)[4]``, not the inertial frame in ``[0]``; in random configurations.
    """
    task = make_task(str(odd_arm()) if task_name == 'odd_arm' else task_name)
    limits = task.config.urdf_limits
    rng = np.random.default_rng(3)
    with BulletRobot.for_task(task) as robot:
        ee_link = link_frames(robot)[task.config.spec.end_effector]
        for _ in range(25):
            position = rng.uniform(limits.lower, limits.upper)
            robot.reset(position, np.zeros(task.num_joints))
            state = robot.client.getLinkState(robot.body_id, ee_link,
                                              computeForwardKinematics=1)
            np.testing.assert_allclose(task.end_effector(position), state[4], atol=1e-6)


def test_forward_kinematics_in_a_base_frame_that_is_not_the_root(tmp_path, odd_arm_urdf):
    """
    A base link offset and rotated from the root.

    Goals and the end effector are in its frame, and the sim shows the goal there.
    """
    urdf = odd_arm_urdf.replace(
        '<joint name="Shoulder-Yaw.0" type="revolute">\n    <parent link="world base"/>',
        '<joint name="Shoulder-Yaw.0" type="revolute">\n    <parent link="pedestal"/>'
    ).replace('<link name="upper.link">', '''<joint name="on pedestal" type="fixed">
    <parent link="world base"/><child link="pedestal"/>
    <origin xyz="0.1 -0.2 0.3" rpy="0 0 1.0"/>
  </joint>
  <link name="pedestal"/>
  <link name="upper.link">''', 1)
    (tmp_path / 'raised.urdf').write_text(urdf)
    spec = {'task': 'reach', 'name': 'raised', 'robot': 'raised.urdf', 'base_link': 'pedestal',
            'end_effector': 'tool tip', 'joints': ['Shoulder-Yaw.0', 'ELBOW__pitch', 'wrist_3'],
            'interface': 'position', 'goal': {'center': [0.25, 0, 0.2], 'radius': 0.05}}
    (tmp_path / 'raised.yaml').write_text(yaml.safe_dump(spec))
    task = make_task(str(tmp_path / 'raised.yaml'))
    position = np.array([0.3, 0.5, -0.4])
    with BulletRobot.for_task(task) as robot:
        robot.reset(position, np.zeros(3))
        links = link_frames(robot)
        client, body = robot.client, robot.body_id
        base_pos, base_orn = client.getLinkState(body, links['pedestal'], 1)[4:6]
        tip = client.getLinkState(body, links['tool tip'], 1)[4]
        inverse = client.invertTransform(base_pos, base_orn)
        tip_in_base = client.multiplyTransforms(*inverse, tip, (0, 0, 0, 1))[0]
        np.testing.assert_allclose(task.end_effector(position), tip_in_base, atol=1e-6)
        robot.show_goal([0.0, 0.0, 0.0])  # the base frame's origin, in the world
        marker = client.getBodyUniqueId(client.getNumBodies() - 1)
        np.testing.assert_allclose(client.getBasePositionAndOrientation(marker)[0], base_pos,
                                   atol=1e-9)


def test_reach_reward_success_and_goals(odd_arm):
    task = make_task(str(odd_arm()))
    rng = np.random.default_rng(0)
    goals = np.array([task.sample_goal(rng) for _ in range(500)])
    assert np.all(np.linalg.norm(goals - [0.25, 0.0, 0.2], axis=1) <= 0.06)
    position = np.array([0.5, 0.0, 0.0])
    tip = task.end_effector(position)
    at_goal = RobotState(position, np.zeros(3), tip.copy())
    assert task.is_success(at_goal) and task.goal_distance(at_goal) == pytest.approx(0.0)
    # Holding the measured position costs nothing (position interface): the reward is -distance.
    away = RobotState(position, np.zeros(3), tip + [0.1, 0.0, 0.0])
    assert task.reward(away, position, away) == pytest.approx(-0.1)
    assert not task.is_success(away)
    moved = position + np.array([0.9, 0.0, 0.0])  # 0.9 rad of a 1.8 rad range: a_n delta 1
    assert task.reward(away, moved, away) == pytest.approx(-0.1 - 0.01)
    obs = task.observation(away)
    np.testing.assert_allclose(obs[-3:], [0.1, 0.0, 0.0], atol=1e-6)  # goal - end effector
    box = make_task(str(odd_arm(goal={'center': [0.2, 0.0, 0.2],
                                      'half_extent': [0.05, 0.0, 0.02]})))
    goals = np.array([box.sample_goal(rng) for _ in range(200)])
    assert np.all(np.abs(goals - [0.2, 0.0, 0.2]) <= [0.05, 0.0, 0.02])


def test_task_file_env_steps_and_truncates(odd_arm):
    with TaskEnv(str(odd_arm())) as env:
        obs, _ = env.reset(seed=0)
        for step in range(25):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert not terminated and truncated == (step == 24) and 'is_success' in info


def test_bringup_passes_task_files_as_absolute_paths_and_refuses_bad_ones(
        odd_arm, monkeypatch):
    from t3d_ros.graph.bringup import deploy_graph, train_graph

    path = odd_arm()
    monkeypatch.chdir(path.parent)
    graph = [node for spec in train_graph(path.name, num_actors=2) for node in spec.nodes]
    assert {node.parameters['task'] for node in graph} == {str(path)}
    assert all(node.resolved_parameters()['task'] == str(path) for node in graph)
    assert [f.name for f in graph[0].params_files] == ['train.yaml']  # no config/<task>.yaml
    bad = odd_arm('bad.yaml', joints=['ELBOW__pitch', 'Shoulder-Yaw.0', 'decoy'])
    for make_graph in (lambda: train_graph(str(bad)),
                       lambda: deploy_graph(str(bad), 'policy.safetensors', with_sim=True)):
        with pytest.raises(TaskFileError, match='joints'):
            make_graph()


def test_cli_refuses_a_bad_task_file_before_starting_anything(odd_arm, capsys, tmp_path):
    from t3d_ros.cli import main

    bad = odd_arm('bad.yaml', command_high=[1.5, 0.8, 2.0])
    run_dir = tmp_path / 'run'
    assert main(['train', '--task', str(bad), '--run-dir', str(run_dir)]) == 2
    assert 'command_high' in capsys.readouterr().err and not run_dir.exists()

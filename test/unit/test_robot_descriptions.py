"""
Robot descriptions as their packages ship them (issue 19).

A fake description package in an ament prefix the test makes, its URDF naming its meshes
``package://fake_arm/...``: found through AMENT_PREFIX_PATH, ROS_PACKAGE_PATH and a task
file's ``package_paths``; the kinematics and the sim read the same resolved URDF; an unknown
package or a missing mesh is refused naming the URI and where it looked; a ``.xacro`` robot
with arguments; a bundle rebuilt where the package is not installed. The real SO-101 from
``example-robot-data`` where that is installed.
"""
import struct
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pybullet
import pytest
import yaml

from t3d_ros.envs import BulletRobot, TaskEnv
from t3d_ros.tasks import TaskFileError, make_task
from t3d_ros.tasks.description import PackageFinder
from t3d_ros.td3 import TD3, PolicyBundle, TD3Config

MESH_URI = 'package://fake_arm/meshes/link.stl'
ARM_TASK = {'task': 'reach', 'name': 'fake_arm_reach', 'base_link': 'world base',
            'end_effector': 'tool tip', 'joints': ['Shoulder-Yaw.0', 'ELBOW__pitch', 'wrist_3'],
            'interface': 'position', 'goal': {'center': [0.25, 0.0, 0.2], 'radius': 0.05},
            'control_period': 0.04, 'episode_steps': 5}
ARM_XACRO = """<?xml version="1.0"?>
<robot xmlns:xacro="http://www.ros.org/wiki/xacro" name="fake arm">
  <xacro:arg name="prefix" default=""/>
  <xacro:arg name="reach" default="0.2"/>
  <xacro:property name="p" value="$(arg prefix)"/>
  <xacro:macro name="light">
    <inertial><mass value="0.1"/>
      <inertia ixx="1e-4" ixy="0" ixz="0" iyy="1e-4" iyz="0" izz="1e-4"/></inertial>
  </xacro:macro>
  <link name="${p}base"/>
  <joint name="${p}shoulder" type="revolute">
    <parent link="${p}base"/><child link="${p}upper"/><origin xyz="0 0 0.1"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="5" velocity="2"/>
  </joint>
  <link name="${p}upper"><xacro:light/>
    <visual><geometry><mesh filename="file://$(find fake_arm)/meshes/link.stl"/></geometry>
    </visual>
  </link>
  <joint name="${p}elbow" type="revolute">
    <parent link="${p}upper"/><child link="${p}tip"/><origin xyz="0 0 $(arg reach)"/>
    <axis xyz="0 1 0"/><limit lower="-1" upper="1" effort="5" velocity="2"/>
  </joint>
  <link name="${p}tip"><xacro:light/>
    <collision><geometry><mesh filename="package://fake_arm/meshes/link.stl"/></geometry>
    </collision>
  </link>
</robot>
"""


def write_tetrahedron_stl(path: Path) -> None:
    """Write a 2 cm tetrahedron as binary STL: 80-byte header, count, 50 bytes a triangle."""
    corners = np.array([[0, 0, 0], [0.02, 0, 0], [0, 0.02, 0], [0, 0, 0.02]], np.float32)
    faces = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]
    data = b'tetrahedron'.ljust(80) + struct.pack('<I', len(faces))
    for face in faces:
        data += np.zeros(3, np.float32).tobytes() + corners[list(face)].tobytes() + b'\0\0'
    path.write_bytes(data)


def write_package(share: Path, name: str, urdf: str) -> None:
    """Write a description package: package.xml, urdf/arm.urdf and arm.urdf.xacro, a mesh."""
    (share / 'urdf').mkdir(parents=True)
    (share / 'meshes').mkdir()
    (share / 'package.xml').write_text(f'<package format="3"><name>{name}</name></package>')
    (share / 'urdf' / 'arm.urdf').write_text(urdf)
    (share / 'urdf' / 'arm.urdf.xacro').write_text(ARM_XACRO)
    write_tetrahedron_stl(share / 'meshes' / 'link.stl')


@pytest.fixture
def fake_arm(tmp_path, odd_arm_urdf, monkeypatch):
    """
    Make the odd arm package ``fake_arm``, in the ament prefix ``tmp_path/prefix``.

    Its fore link's visual and hand's collision are ``MESH_URI``. Nothing on AMENT_PREFIX_PATH
    or ROS_PACKAGE_PATH yet; ``task(**changes)`` writes a task file in ``tmp_path/tasks``.
    """
    for variable in ('AMENT_PREFIX_PATH', 'ROS_PACKAGE_PATH'):
        monkeypatch.delenv(variable, raising=False)
    mesh = f'<mesh filename="{MESH_URI}"/>'
    urdf = odd_arm_urdf.replace('<box size="0.2 0.03 0.03"/>', mesh).replace(
        '<box size="0.1 0.02 0.02"/></geometry></visual>',
        f'<box size="0.1 0.02 0.02"/></geometry></visual>\n'
        f'    <collision><geometry>{mesh}</geometry></collision>')
    assert urdf.count(mesh) == 2
    prefix = tmp_path / 'prefix'
    write_package(prefix / 'share' / 'fake_arm', 'fake_arm', urdf)
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages').mkdir(parents=True)
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'fake_arm').touch()
    tasks = tmp_path / 'tasks'
    tasks.mkdir()

    def task(name='arm.yaml', **changes) -> str:
        document = {'robot': 'package://fake_arm/urdf/arm.urdf', **ARM_TASK, **changes}
        (tasks / name).write_text(yaml.safe_dump(document, sort_keys=False))
        return str(tasks / name)

    return SimpleNamespace(prefix=prefix, share=prefix / 'share' / 'fake_arm', task=task,
                           mesh=prefix / 'share' / 'fake_arm' / 'meshes' / 'link.stl')


def link_index(client, body: int, link: str) -> int:
    return next(j for j in range(client.getNumJoints(body))
                if client.getJointInfo(body, j)[12].decode() == link)


def check_sim_reads_the_resolved_urdf(task, mesh: Path) -> None:
    """Check that the sim loaded the package's mesh, and Pinocchio's FK is PyBullet's frame."""
    with BulletRobot.for_task(task) as robot:
        client, body = robot.client, robot.body_id
        hand = client.getCollisionShapeData(body, link_index(client, body, 'hand'))
        assert [(shape[2], shape[4].decode()) for shape in hand] == [
            (pybullet.GEOM_MESH, str(mesh))]
        tip = link_index(client, body, task.config.spec.end_effector)
        rng = np.random.default_rng(0)
        limits = task.config.urdf_limits
        for _ in range(5):
            position = rng.uniform(limits.lower, limits.upper)
            robot.reset(position, np.zeros(task.num_joints))
            np.testing.assert_allclose(task.end_effector(position),
                                       client.getLinkState(body, tip, 1)[4], atol=1e-6)
    with TaskEnv(task) as env:
        env.reset(seed=0)
        observation, *_ = env.step(env.action_space.sample())
        assert np.all(np.isfinite(observation))


@pytest.mark.parametrize('via', ['AMENT_PREFIX_PATH', 'ROS_PACKAGE_PATH', 'package_paths'])
def test_package_uris_resolve_like_ros_tools(fake_arm, monkeypatch, via):
    if via == 'package_paths':
        task = make_task(fake_arm.task(package_paths=['../prefix/share']))  # relative
    else:
        monkeypatch.setenv(via, str(fake_arm.prefix if via == 'AMENT_PREFIX_PATH'
                                    else fake_arm.prefix / 'share'))
        task = make_task(fake_arm.task())
    assert task.config.urdf_path == fake_arm.share / 'urdf' / 'arm.urdf'
    assert task.config.urdf_text.count(MESH_URI) == 2  # what bundles carry: as shipped
    model = task.model_path().read_text()
    assert 'package://' not in model and model.count(f'filename="{fake_arm.mesh}"') == 2
    check_sim_reads_the_resolved_urdf(task, fake_arm.mesh)


def test_the_ament_index_comes_first_then_ros_package_path_then_package_paths(tmp_path):
    """A package is the folder its package.xml names; nothing below a package or an ignored one."""
    for folder, name in (('prefix/share/arm', 'arm'), ('ros/src/arm_folder', 'arm'),
                         ('mine/arm', 'arm'), ('mine/tools', 'tools'),
                         ('mine/tools/inner', 'inner'), ('mine/.hidden/secret', 'secret'),
                         ('mine/skipped/ignored', 'ignored')):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / 'package.xml').write_text(f'<package><name>{name}</name></package>')
    (tmp_path / 'prefix/share/ament_index/resource_index/packages').mkdir(parents=True)
    (tmp_path / 'prefix/share/ament_index/resource_index/packages/arm').touch()
    (tmp_path / 'mine/skipped/COLCON_IGNORE').touch()
    environment = {'AMENT_PREFIX_PATH': f'{tmp_path / "nothing"}:{tmp_path / "prefix"}',
                   'ROS_PACKAGE_PATH': str(tmp_path / 'ros')}
    finder = PackageFinder([tmp_path / 'mine'], environment)
    assert finder.find('arm') == tmp_path / 'prefix/share/arm'
    assert finder.find('tools') == tmp_path / 'mine/tools'
    assert [finder.find(name) for name in ('inner', 'secret', 'ignored')] == [None] * 3
    without_ament = PackageFinder([tmp_path / 'mine'], {'ROS_PACKAGE_PATH': str(tmp_path / 'ros')})
    assert without_ament.find('arm') == tmp_path / 'ros/src/arm_folder'
    assert PackageFinder([tmp_path / 'mine'], {}).find('arm') == tmp_path / 'mine/arm'


def test_file_uris_and_plain_paths_resolve_from_the_urdf(fake_arm):
    urdf = fake_arm.share / 'urdf' / 'arm.urdf'
    text = urdf.read_text()
    urdf.write_text(text.replace(MESH_URI, f'file://{fake_arm.mesh}', 1).replace(
        MESH_URI, '../meshes/link.stl'))
    task = make_task(fake_arm.task(robot=f'file://{urdf}'))
    assert task.model_path().read_text().count(f'filename="{fake_arm.mesh}"') == 2
    check_sim_reads_the_resolved_urdf(task, fake_arm.mesh)


def test_an_unknown_package_is_refused_naming_the_uri_and_where_it_looked(
        fake_arm, monkeypatch):
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(fake_arm.prefix))
    monkeypatch.setenv('ROS_PACKAGE_PATH', str(fake_arm.prefix / 'elsewhere'))
    robot = 'package://other_arm/urdf/arm.urdf'
    path = fake_arm.task(robot=robot, package_paths=['mine'])
    with pytest.raises(TaskFileError) as error:
        make_task(path)
    places = (str(fake_arm.prefix), str(fake_arm.prefix / 'elsewhere'),
              str(Path(path).parent / 'mine'))
    assert error.value.field == 'robot' and robot in str(error.value)
    assert all(place in str(error.value) for place in places)
    # A mesh of an unknown package: the kinematics need none, the sim refuses it.
    urdf = fake_arm.share / 'urdf' / 'arm.urdf'
    urdf.write_text(urdf.read_text().replace(MESH_URI, 'package://gone/meshes/link.stl', 1)
                    .replace(MESH_URI, 'package://gone/meshes/hand.stl'))
    task = make_task(fake_arm.task())
    with pytest.raises(TaskFileError) as error:
        TaskEnv(task)
    assert error.value.field == 'robot' and str(fake_arm.prefix) in str(error.value)
    assert "package://gone/meshes/link.stl: no package 'gone'" in str(error.value)
    assert str(error.value).endswith('(and 1 more: package://gone/meshes/hand.stl)')


def test_a_missing_mesh_is_refused_before_any_node_starts(fake_arm, monkeypatch, capsys):
    from t3d_ros.cli import main
    from t3d_ros.graph.bringup import deploy_graph, train_graph

    monkeypatch.setenv('AMENT_PREFIX_PATH', str(fake_arm.prefix))
    fake_arm.mesh.unlink()  # PyBullet: "Cannot load URDF file." once the sim node started
    path = fake_arm.task(robot='../prefix/share/fake_arm/urdf/arm.urdf')
    words = (f"{MESH_URI}: package 'fake_arm' is {fake_arm.share}, which has no file "
             "'meshes/link.stl'")
    for start in (lambda: train_graph(path), lambda: make_task(path).model_path(),
                  lambda: deploy_graph(path, 'policy.safetensors', with_sim=True)):
        with pytest.raises(TaskFileError, match='robot') as error:
            start()
        assert words in str(error.value) and '(and' not in str(error.value)  # named once
    assert deploy_graph(path, 'policy.safetensors')  # an actor alone needs no mesh
    run_dir = fake_arm.prefix.parent / 'run'
    assert main(['train', '--task', path, '--run-dir', str(run_dir)]) == 2
    assert words in capsys.readouterr().err and not run_dir.exists()


def test_a_xacro_robot_is_expanded_with_its_arguments(fake_arm):
    """``$(find fake_arm)`` resolves through package_paths, where ament_index_python cannot."""
    task = make_task(fake_arm.task(
        robot='../prefix/share/fake_arm/urdf/arm.urdf.xacro', package_paths=['../prefix/share'],
        xacro_args={'prefix': 'left_', 'reach': 0.35}, base_link='left_base',
        end_effector='left_tip', joints=['left_shoulder', 'left_elbow'], interface='effort'))
    np.testing.assert_allclose(task.end_effector(np.zeros(2)), [0.0, 0.0, 0.45], atol=1e-12)
    assert 'xacro:' not in task.config.urdf_text and 'left_elbow' in task.config.urdf_text
    model = task.model_path().read_text()
    assert 'file://' not in model and model.count(f'filename="{fake_arm.mesh}"') == 2
    with TaskEnv(task) as env:
        env.reset(seed=0)
        assert np.all(np.isfinite(env.step(env.action_space.sample())[0]))


def test_xacro_failures_name_the_package_or_the_extra(fake_arm, monkeypatch):
    xacro_robot = '../prefix/share/fake_arm/urdf/arm.urdf.xacro'
    with pytest.raises(TaskFileError, match=r"\$\(find fake_arm\): no package 'fake_arm' in "
                                            'the ament index') as error:
        make_task(fake_arm.task(robot=xacro_robot))
    assert error.value.field == 'robot'
    with pytest.raises(TaskFileError, match='Undefined substitution argument undeclared'):
        (fake_arm.share / 'urdf' / 'bad.urdf.xacro').write_text(
            '<robot xmlns:xacro="http://www.ros.org/wiki/xacro" name="$(arg undeclared)"/>')
        make_task(fake_arm.task(robot='../prefix/share/fake_arm/urdf/bad.urdf.xacro'))
    monkeypatch.setitem(sys.modules, 'xacro', None)  # not installed
    with pytest.raises(TaskFileError, match='needs xacro: pip install -r '
                                            'requirements-descriptions.txt'):
        make_task(fake_arm.task(robot=xacro_robot, package_paths=['../prefix/share']))


def test_a_bundle_rebuilds_its_task_where_the_package_is_not_installed(
        fake_arm, monkeypatch, tmp_path):
    """The kinematics come from the bundle's URDF; the sim needs the package's meshes."""
    from t3d_ros.graph.bringup import deploy_graph

    monkeypatch.setenv('AMENT_PREFIX_PATH', str(fake_arm.prefix))
    task = make_task(fake_arm.task())
    agent = TD3(task.obs_dim, task.action_low, task.action_high, TD3Config(hidden_sizes=(8,)))
    policy = tmp_path / 'policy.safetensors'
    PolicyBundle.from_agent(agent, task, policy_version=1).save(policy)
    assert PolicyBundle.load(policy).urdf.count(MESH_URI) == 2
    monkeypatch.delenv('AMENT_PREFIX_PATH')  # another machine: no fake_arm
    actor = deploy_graph(None, policy)[0]
    rebuilt = make_task(actor.parameters['task'])
    position = np.array([0.3, -0.2, 0.1])
    np.testing.assert_array_equal(rebuilt.end_effector(position), task.end_effector(position))
    with pytest.raises(TaskFileError, match=f"{MESH_URI}: no package 'fake_arm'"):
        deploy_graph(None, policy, with_sim=True)
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(fake_arm.prefix))  # installed here too
    sim = deploy_graph(None, policy, with_sim=True)[0]
    check_sim_reads_the_resolved_urdf(make_task(sim.parameters['task']), fake_arm.mesh)


def example_robot_data_prefix() -> Path:
    """Return the ament prefix ``pip install example-robot-data`` registers the package in."""
    try:
        return Path(metadata.distribution('example-robot-data').locate_file('cmeel.prefix'))
    except metadata.PackageNotFoundError:
        pytest.skip('the real SO-101 needs example-robot-data (requirements-test.txt): '
                    'pip install example-robot-data==6.0.0')


def test_the_so101_arm_as_example_robot_data_ships_it(monkeypatch, tmp_path):
    prefix = example_robot_data_prefix()
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    share = prefix / 'share' / 'example-robot-data'
    (tmp_path / 'so101.yaml').write_text(yaml.safe_dump({
        'task': 'reach', 'name': 'so101_reach',
        'robot': 'package://example-robot-data/robots/so_arm_description/urdf/so101.urdf',
        'base_link': 'base_link', 'end_effector': 'gripper_frame_link',
        'joints': ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll'],
        'interface': 'position', 'goal': {'center': [0.2, 0.0, 0.15], 'radius': 0.05}}))
    task = make_task(str(tmp_path / 'so101.yaml'))
    with BulletRobot.for_task(task) as robot:
        client, body = robot.client, robot.body_id
        meshes = {shape[4].decode() for link in range(-1, client.getNumJoints(body))
                  for shape in client.getCollisionShapeData(body, link)}
        assert meshes and all(Path(mesh).is_relative_to(share) for mesh in meshes)
        tip = link_index(client, body, 'gripper_frame_link')
        rng = np.random.default_rng(1)
        limits = task.config.urdf_limits
        for _ in range(10):
            position = rng.uniform(limits.lower, limits.upper)
            robot.reset(position, np.zeros(task.num_joints))
            np.testing.assert_allclose(task.end_effector(position),
                                       client.getLinkState(body, tip, 1)[4], atol=1e-6)

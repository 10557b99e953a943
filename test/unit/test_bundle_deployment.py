"""
Bundles carry what a deployment must match (issue 7.5).

Control period, gains, the task file and URDF texts; a task is rebuilt from the bundle alone; a
controller of another interface is refused; version 1 bundles still load.
"""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from t3d_ros.tasks import make_task
from t3d_ros.td3 import TD3, BundleError, BundleMismatch, PolicyBundle, TD3Config
from t3d_ros.bundle.deployment import check_deployment
from t3d_ros.bundle.policy_bundle import controller_interface


def bundle_for(task, **changes) -> PolicyBundle:
    agent = TD3(task.obs_dim, task.action_low, task.action_high, TD3Config(hidden_sizes=(8,)))
    bundle = PolicyBundle.from_agent(agent, task, policy_version=2)
    return PolicyBundle(**{**vars(bundle), **changes}) if changes else bundle


def test_a_task_file_bundle_carries_and_rebuilds_its_task(odd_arm, tmp_path):
    path = odd_arm()
    task = make_task(str(path))
    loaded = PolicyBundle.from_bytes(bundle_for(task).to_bytes())
    assert loaded.control_period == pytest.approx(0.04) and loaded.interface == 'position'
    np.testing.assert_allclose(loaded.gains[0], task.gains[0])
    np.testing.assert_allclose(loaded.gains[1], task.gains[1])
    assert loaded.task_file == path.read_text()
    assert loaded.urdf == (tmp_path / 'odd_arm.urdf').read_text()
    # The files are gone (another machine): the task comes from the bundle alone.
    path.unlink()
    (tmp_path / 'odd_arm.urdf').unlink()
    rebuilt = loaded.make_task()
    loaded.check_matches(rebuilt)
    assert rebuilt.name == 'odd_arm_reach' and rebuilt.joint_names == task.joint_names
    np.testing.assert_array_equal(rebuilt.gains[0], task.gains[0])
    position = np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(rebuilt.end_effector(position), task.end_effector(position))
    # The sim loads the bundle's copy (no file named in it to resolve; XML comments dropped).
    assert ET.canonicalize(rebuilt.model_path().read_text()) == ET.canonicalize(loaded.urdf)


def test_a_built_in_task_bundle_rebuilds_from_pybullet_data():
    task = make_task('panda_reach')
    bundle = PolicyBundle.from_bytes(bundle_for(task).to_bytes())
    rebuilt = bundle.make_task()
    bundle.check_matches(rebuilt)
    assert rebuilt.model_path() == task.model_path() and rebuilt.interface.value == 'velocity'
    pendulum = bundle_for(make_task('pendulum'))
    assert pendulum.task_file == '' and pendulum.gains is None
    assert pendulum.control_period == pytest.approx(0.05)
    assert pendulum.make_task().name == 'pendulum'


def test_version_1_bundles_of_the_toy_tasks_still_load():
    task = make_task('reacher')
    fields = {**vars(bundle_for(task)), 'control_period': None, 'format_version': '1'}
    old = PolicyBundle(**fields).to_bytes()
    header = json.loads(old[8:8 + int.from_bytes(old[:8], 'little')])['__metadata__']
    assert header['format_version'] == '1' and 'control_period' not in header
    loaded = PolicyBundle.from_bytes(old)
    assert loaded.control_period is None and loaded.format_version == '1'
    loaded.check_matches(loaded.make_task())
    assert loaded.check_deployment('forward_effort_controller/commands', 0.02) == []
    with pytest.raises(BundleError, match='version 1 has no deployment fields'):
        PolicyBundle(**{**fields, 'control_period': 0.02})


@pytest.mark.parametrize('topic, interface', [
    ('forward_position_controller/commands', 'position'),
    ('/arm/forward_velocity_controller/commands', 'velocity'),
    ('joint_effort_controller/commands', 'effort'),
    ('my_controller/commands', None),
    ('forward_position_velocity_controller/commands', None),
    ('commands', None),
])
def test_controller_interface_from_the_topic_name(topic, interface):
    assert controller_interface(topic) == interface


def test_deploy_refuses_another_interface_and_warns_about_the_rate():
    bundle = bundle_for(make_task('panda_reach'))  # velocity, 0.04 s
    assert bundle.check_deployment('forward_velocity_controller/commands', 0.04) == []
    with pytest.raises(BundleMismatch, match='velocity interface.*position controller'):
        bundle.check_deployment('forward_position_controller/commands', 0.04)
    warnings = bundle.check_deployment('forward_velocity_controller/commands', 0.01)
    assert len(warnings) == 1 and 'trained at' in warnings[0]
    warnings = bundle.check_deployment('arm_controller/commands', 0.04)
    assert len(warnings) == 1 and 'cannot tell' in warnings[0]


@pytest.mark.parametrize('changes, message', [
    ({'control_period': -0.02}, 'control_period must be > 0'),
    ({'control_period': 'fast'}, 'control_period must be > 0'),
    ({'gains': ((1.0,) * 7, (1.0,) * 6)}, 'gains need 7'),
    ({'gains': ((1.0,) * 7, (float('nan'),) * 7)}, 'gains need 7'),
    ({'gains': 'stiff'}, 'gains must be'),
    ({'urdf': 3}, 'urdf must be a string'),
    ({'format_version': '7'}, 'unknown format version'),
])
def test_bad_deployment_fields_are_refused(changes, message):
    with pytest.raises(BundleError, match=message):
        bundle_for(make_task('panda_reach'), **changes)


def test_t3d_ros_deploy_refuses_another_interface_or_joint_set_before_starting(
        odd_arm, tmp_path, capsys):
    from t3d_ros.cli import main

    policy = tmp_path / 'panda.safetensors'
    bundle_for(make_task('panda_reach')).save(policy)
    logs = tmp_path / 'logs'
    assert main(['deploy', str(policy), '--log-dir', str(logs), '--set',
                 'actor.command_topic=forward_position_controller/commands']) == 2
    assert 'velocity interface' in capsys.readouterr().err
    assert main(['deploy', str(policy), '--task', 'iiwa_reach', '--log-dir', str(logs)]) == 2
    assert 'joint names/order' in capsys.readouterr().err
    assert not logs.exists()  # nothing was started


def test_deploy_rebuilds_a_task_file_task_from_the_bundle_alone(odd_arm, tmp_path):
    from t3d_ros.graph.bringup import deploy_graph

    path = odd_arm()
    policy = tmp_path / 'odd.safetensors'
    bundle_for(make_task(str(path))).save(policy)
    path.unlink()
    (tmp_path / 'odd_arm.urdf').unlink()
    sim, actor = deploy_graph(None, policy, with_sim=True)
    task_file = actor.parameters['task']
    assert sim.parameters['task'] == task_file and task_file.endswith('odd_arm_reach.yaml')
    rebuilt = make_task(task_file)
    PolicyBundle.load(policy).check_matches(rebuilt)
    assert rebuilt.model_path().is_file()


def test_the_deploy_check_reads_the_actors_command_topic_and_control_rate(tmp_path):
    """One check for ``t3d-ros deploy`` and the actor's configure (``bundle/deployment.py``)."""
    task = make_task('panda_reach')  # velocity, 0.04 s
    path = tmp_path / 'policy.safetensors'
    bundle_for(task).save(path)
    bundle, warnings = check_deployment(str(path), task, {'command_topic': '',
                                                          'control_rate_hz': 0.0})
    assert bundle.task == task.name and warnings == []  # the task's topic and period
    assert check_deployment(str(path), task, {'control_rate_hz': 25})[1] == []
    _, warnings = check_deployment(str(path), task, {'control_rate_hz': 100.0})
    assert len(warnings) == 1 and '0.01 s differs' in warnings[0]
    with pytest.raises(BundleMismatch, match='position controller'):
        check_deployment(str(path), task,
                         {'command_topic': 'forward_position_controller/commands'})
    with pytest.raises(BundleMismatch, match='task is'):
        check_deployment(str(path), make_task('reacher'), {})
    with pytest.raises(OSError):
        check_deployment(str(tmp_path / 'missing.safetensors'), task, {})

"""
Fixtures shared by every test folder.

Test isolation, the task file of a URDF the tests write themselves, a task package, and what
learning means.

Isolation: a private ROS domain per test session unless ROS_DOMAIN_ID is set, localhost-only
discovery. The task package is ``test/data/t3d_example_task``, installed by pip into a folder of
the session's own (``example_task``).
"""
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from t3d_ros.graph import domain as ros_domain

ros_domain.isolate()
os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')


ODD_ARM_URDF = """<?xml version="1.0"?>
<!-- A test arm: 3 revolute joints with odd names and asymmetric limits, a fixed joint inside
     the chain, a movable joint outside it, primitive shapes only. -->
<robot name="odd arm">
  <link name="world base">
    <inertial><mass value="0"/><inertia ixx="0" ixy="0" ixz="0" iyy="0" iyz="0" izz="0"/>
    </inertial>
    <visual><geometry><box size="0.2 0.2 0.02"/></geometry></visual>
  </link>
  <joint name="Shoulder-Yaw.0" type="revolute">
    <parent link="world base"/><child link="upper.link"/>
    <origin xyz="0 0 0.1"/><axis xyz="0 0 1"/>
    <limit lower="-2.5" upper="1.0" effort="20" velocity="3"/>
  </joint>
  <link name="upper.link">
    <inertial><origin xyz="0 0 0.1"/><mass value="1.0"/>
      <inertia ixx="0.004" ixy="0" ixz="0" iyy="0.004" iyz="0" izz="0.001"/></inertial>
    <visual><origin xyz="0 0 0.1"/><geometry><box size="0.04 0.04 0.2"/></geometry></visual>
  </link>
  <joint name="ELBOW__pitch" type="revolute">
    <parent link="upper.link"/><child link="fore_link"/>
    <origin xyz="0 0 0.2"/><axis xyz="0 1 0"/>
    <limit lower="-0.4" upper="2.2" effort="15" velocity="3"/>
    <dynamics damping="0.05"/>
  </joint>
  <link name="fore_link">
    <inertial><origin xyz="0.1 0 0"/><mass value="0.6"/>
      <inertia ixx="0.0005" ixy="0" ixz="0" iyy="0.002" iyz="0" izz="0.002"/></inertial>
    <visual><origin xyz="0.1 0 0"/><geometry><box size="0.2 0.03 0.03"/></geometry></visual>
  </link>
  <joint name="fixed mount" type="fixed">
    <parent link="fore_link"/><child link="mount-plate"/>
    <origin xyz="0.2 0 0" rpy="0 0 0.3"/>
  </joint>
  <link name="mount-plate">
    <inertial><mass value="0.1"/>
      <inertia ixx="0.0001" ixy="0" ixz="0" iyy="0.0001" iyz="0" izz="0.0001"/></inertial>
  </link>
  <joint name="wrist_3" type="revolute">
    <parent link="mount-plate"/><child link="hand"/>
    <axis xyz="0 1 0"/>
    <limit lower="-1.7" upper="0.9" effort="5" velocity="4"/>
  </joint>
  <link name="hand">
    <inertial><origin xyz="0.05 0 0"/><mass value="0.2"/>
      <inertia ixx="0.0001" ixy="0" ixz="0" iyy="0.0003" iyz="0" izz="0.0003"/></inertial>
    <visual><origin xyz="0.05 0 0"/><geometry><box size="0.1 0.02 0.02"/></geometry></visual>
  </link>
  <joint name="tool joint" type="fixed">
    <parent link="hand"/><child link="tool tip"/><origin xyz="0.1 0 0"/>
  </joint>
  <!-- PyBullet gives a link without <inertial> 1 kg and a unit inertia: say it is light. -->
  <link name="tool tip">
    <inertial><mass value="0.001"/>
      <inertia ixx="1e-7" ixy="0" ixz="0" iyy="1e-7" iyz="0" izz="1e-7"/></inertial>
  </link>
  <joint name="decoy" type="revolute">
    <parent link="upper.link"/><child link="decoy_link"/>
    <origin xyz="0 0.05 0.1"/><axis xyz="1 0 0"/>
    <limit lower="-1" upper="1" effort="1" velocity="1"/>
  </joint>
  <link name="decoy_link">
    <inertial><mass value="0.05"/>
      <inertia ixx="0.00001" ixy="0" ixz="0" iyy="0.00001" iyz="0" izz="0.00001"/></inertial>
  </link>
</robot>
"""
"""A URDF written by the tests themselves (test_task_files.py and the learning tests)."""

ODD_ARM_TASK = {
    'task': 'reach',
    'name': 'odd_arm_reach',
    'robot': 'odd_arm.urdf',
    'base_link': 'world base',
    'end_effector': 'tool tip',
    'joints': ['ELBOW__pitch', 'Shoulder-Yaw.0', 'wrist_3'],  # not the URDF's order
    'interface': 'position',
    'command_low': [-0.3, -1.0, -1.5],
    'command_high': [1.5, 0.8, 0.9],
    'goal': {'center': [0.25, 0.0, 0.2], 'radius': 0.06},
    'control_period': 0.04,
    'episode_steps': 25,
    'success_distance': 0.03,
}


@pytest.fixture
def odd_arm_urdf() -> str:
    return ODD_ARM_URDF


@pytest.fixture
def odd_arm(tmp_path):
    """
    Return a function giving the path of a task file for the test URDF, with changes.

    ``odd_arm(**changes)``: a value None deletes the field.
    """
    (tmp_path / 'odd_arm.urdf').write_text(ODD_ARM_URDF)

    def write(name: str = 'odd_arm.yaml', **changes):
        document = dict(ODD_ARM_TASK)
        for key, value in changes.items():
            if value is None:
                document.pop(key, None)
            else:
                document[key] = value
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write


EXAMPLE_TASK_SOURCE = Path(__file__).parent / 'data' / 't3d_example_task'
"""A task of its own package (the README's example): it registers ``slider``."""


class InstalledPackage:
    """A package pip installed into ``site``; visible here through sys.path, ``env`` for others."""

    def __init__(self, site: Path):
        self.site = site

    def env(self) -> dict[str, str]:
        """Return this process's environment with ``site`` first on PYTHONPATH."""
        path = os.pathsep.join(filter(None, [str(self.site), os.environ.get('PYTHONPATH')]))
        return dict(os.environ, PYTHONPATH=path)


@pytest.fixture(scope='session')
def example_task_site(tmp_path_factory) -> InstalledPackage:
    """Install the example task package (built from a copy: no build files in the source)."""
    root = tmp_path_factory.mktemp('example_task')
    source = shutil.copytree(EXAMPLE_TASK_SOURCE, root / 'source')
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps', '--no-build-isolation',
         '--no-index', '--target', str(root / 'site'), str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return InstalledPackage(root / 'site')


@pytest.fixture
def example_task(example_task_site, monkeypatch) -> InstalledPackage:
    """Make the installed example task package importable in this process during the test."""
    monkeypatch.syspath_prepend(str(example_task_site.site))
    yield example_task_site
    for name in [name for name in sys.modules if name.split('.')[0] == 't3d_example_task']:
        del sys.modules[name]
    importlib.invalidate_caches()


EVALUATION_EPISODES = 10
"""Episodes (seed 0) on which a learning test compares its policy with random actions."""


@pytest.fixture
def assert_learned():
    """
    Return ``check(run_dir, task, env_steps, updates, min_steps, margin)``: a run learned.

    It took at least ``min_steps`` env steps and made updates, and the policy bundle it left in
    ``run_dir`` beats uniformly random actions by more than ``margin`` in mean return on the same
    evaluation episodes. ``check`` returns both mean returns.
    """
    from t3d_ros.bundle.policy_bundle import PolicyBundle
    from t3d_ros.training.evaluate import evaluate

    def check(run_dir, task, env_steps, updates, min_steps, margin):
        assert env_steps >= min_steps, f'{env_steps} env steps taken, expected {min_steps}'
        assert updates > 0, f'no update made in {env_steps} env steps'
        bundle = PolicyBundle.load(Path(run_dir) / 'policy.safetensors')
        bundle.check_matches(task)
        assert bundle.update_step > 0, 'the policy left behind is the untrained one'
        rng = np.random.default_rng(0)
        trained, random = (float(np.mean(evaluate(policy, task, EVALUATION_EPISODES, seed=0)))
                           for policy in (bundle.make_policy(), lambda obs: rng.uniform(
                               task.action_low, task.action_high)))
        print(f'{env_steps} env steps, {updates} updates: mean return {trained:.2f} over '
              f'{EVALUATION_EPISODES} evaluation episodes, random actions {random:.2f}')
        assert trained > random + margin, (trained, random)
        return trained, random

    return check

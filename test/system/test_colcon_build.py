"""The package is a real ament_python package: colcon builds it into a proper install tree."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLCON = shutil.which('colcon', path=str(Path(sys.executable).parent)) or shutil.which('colcon')
EXECUTABLES = ('sim_node', 'actor_node', 'learner_node', 't3d-ros')


@pytest.fixture(scope='module')
def install(tmp_path_factory):
    if COLCON is None:
        pytest.skip('colcon is not installed (requirements-test.txt has it)')
    workspace = tmp_path_factory.mktemp('ws')
    ignore = shutil.ignore_patterns('.git', '.venv', 'build', 'install', 'log', 'runs',
                                    '*.egg-info', '__pycache__', '.pytest_cache')
    shutil.copytree(REPO, workspace / 'src' / 't3d_ros', ignore=ignore)
    result = subprocess.run([COLCON, 'build'], cwd=workspace, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return workspace / 'install' / 't3d_ros'


def test_install_tree_has_launch_config_models_and_index_marker(install):
    share = install / 'share' / 't3d_ros'
    assert (share / 'package.xml').is_file()
    assert (install / 'share/ament_index/resource_index/packages/t3d_ros').is_file()
    for launch_file in ('train.launch.py', 'deploy.launch.py'):
        assert (share / 'launch' / launch_file).is_file()
    for config in ('train.yaml', 'deploy.yaml', 'pendulum.yaml', 'reacher.yaml',
                   'test_fast.yaml'):
        assert (share / 'config' / config).is_file()
    for model in ('pendulum.urdf', 'reacher.urdf'):
        assert (share / 'sim' / model).is_file()


def test_executables_are_installed_where_ros2_run_looks(install):
    for name in EXECUTABLES:
        executable = install / 'lib' / 't3d_ros' / name
        assert executable.is_file() and os.access(executable, os.X_OK), name


def test_installed_package_finds_its_share_files_through_the_ament_index(install, tmp_path):
    site_packages = next(install.glob('lib/python3*/site-packages'))
    env = dict(os.environ, PYTHONPATH=str(site_packages), AMENT_PREFIX_PATH=str(install))
    code = ('import t3d_ros, t3d_ros.paths as p; print(t3d_ros.__file__); '
            'print(p.sim_model_path("reacher.urdf")); print(p.config_path("train.yaml"))')
    result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    module, model, config = result.stdout.split()
    assert module.startswith(str(site_packages))
    assert model == str(install / 'share' / 't3d_ros' / 'sim' / 'reacher.urdf')
    assert config == str(install / 'share' / 't3d_ros' / 'config' / 'train.yaml')

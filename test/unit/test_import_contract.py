"""
The layers' import contract (docs/architecture.md, "Layers").

Core code never imports rclpy, so it runs and is tested without ROS; the actor's own parts and
the bundle format never import torch, so the actor and sim processes start without it. Each
package's every module is imported in a fresh interpreter, which then reports what it loaded.
"""
import json
import pkgutil
import subprocess
import sys

import pytest

import t3d_ros

NO_RCLPY = ('tasks', 'acting', 'bundle', 'td3', 'training', 'envs')
NO_TORCH = ('tasks', 'acting', 'bundle')


def modules_of(package: str) -> list[str]:
    """Return every module of ``t3d_ros.<package>``, the package itself first."""
    path = [str(next(iter(t3d_ros.__path__))) + '/' + package]
    return [f't3d_ros.{package}'] + [f't3d_ros.{package}.{info.name}'
                                     for info in pkgutil.iter_modules(path)]


def loaded_after_import(modules: list[str]) -> set[str]:
    """Return the top-level names in ``sys.modules`` after importing ``modules`` afresh."""
    script = ('import importlib, json, sys\n'
              f'for name in {modules!r}:\n'
              '    importlib.import_module(name)\n'
              'print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))\n')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize('package', NO_RCLPY)
def test_core_packages_never_import_rclpy(package):
    modules = modules_of(package)
    assert len(modules) > 1, f'no modules found in t3d_ros.{package}'
    loaded = loaded_after_import(modules)
    assert 'rclpy' not in loaded, f't3d_ros.{package} imports rclpy'
    if package in NO_TORCH:
        assert 'torch' not in loaded, f't3d_ros.{package} imports torch'


def test_the_check_sees_an_import():
    """The subprocess reports what it loaded: a package that does import rclpy is caught."""
    assert 'rclpy' in loaded_after_import(['t3d_ros.ros.messages'])
    assert 'torch' in loaded_after_import(['t3d_ros.td3.td3'])

"""
package.xml declares exactly what the code imports (rosdep and colcon read it, not pip).

Every module that t3d_ros/ and launch/ import (``import``, ``from``, ``pytest.importorskip``)
is the standard library, t3d_ros itself, a ROS package named in an ``<exec_depend>``, a Python
package whose rosdep key is declared, or a pip-only package from requirements.txt. Every
``<exec_depend>`` is imported there. The same for test/ and ``<test_depend>`` (a test may also
import what the package exec-depends on).
"""
import ast
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = 't3d_ros'

ROSDEP_KEYS = {
    'numpy': 'python3-numpy',
    'yaml': 'python3-yaml',
    'matplotlib': 'python3-matplotlib',
    'pytest': 'python3-pytest',
    'flake8': 'python3-flake8',
    'pydocstyle': 'python3-pydocstyle',
    'PIL': 'python3-pil',
}
"""Python modules with a rosdep key: the key is declared, not the module name."""

PIP_ONLY = {
    'torch': 'torch',
    'gymnasium': 'gymnasium',
    'pybullet': 'pybullet',
    'pybullet_utils': 'pybullet',
    'pybullet_data': 'pybullet',
    'safetensors': 'safetensors',
    'stable_baselines3': 'stable-baselines3',  # optional: requirements-bench.txt
    'imageio': 'imageio',  # optional: requirements-video.txt
    'imageio_ffmpeg': 'imageio-ffmpeg',
    'onnx': 'onnx',  # optional: requirements-onnx.txt
    'onnxruntime': 'onnxruntime',
}
"""Modules without a rosdep key on every platform -> their requirements.txt name."""


def imported_modules(folders: list[str]) -> dict[str, set[str]]:
    """Return top-level module name -> files importing it, for the .py files under folders."""
    modules: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob('*.py')):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                elif _is_importorskip(node):
                    names = [node.args[0].value]
                else:
                    continue
                for name in names:
                    modules.setdefault(name.split('.')[0], set()).add(
                        path.relative_to(ROOT).as_posix())
    return modules


def _is_importorskip(node: ast.AST) -> bool:
    """Tell whether node is ``pytest.importorskip('module', ...)``: an import where present."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == 'importorskip' and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def declared(tag: str) -> set[str]:
    """Return the package names of one kind of dependency in package.xml."""
    root = ET.parse(ROOT / 'package.xml').getroot()
    return {element.text.strip() for element in root.iter(tag)} | \
        {element.text.strip() for element in root.iter('depend')}


def local_modules() -> set[str]:
    """Return modules the tests import from their own folders (e.g. fake_robot)."""
    return {path.stem for path in (ROOT / 'test').rglob('*.py')}


def required_keys(modules: dict[str, set[str]], local: set[str]) -> dict[str, set[str]]:
    """Map each import to the package.xml name it needs (pip-only and stdlib need none)."""
    keys: dict[str, set[str]] = {}
    for module, files in modules.items():
        if module == PACKAGE or module in sys.stdlib_module_names or module in local \
                or module in PIP_ONLY:
            continue
        keys.setdefault(ROSDEP_KEYS.get(module, module), set()).update(files)
    return keys


def test_every_import_of_the_package_is_declared_and_every_exec_depend_is_imported():
    needed = required_keys(imported_modules(['t3d_ros', 'launch']), set())
    exec_depends = declared('exec_depend')
    missing = {key: sorted(files) for key, files in needed.items() if key not in exec_depends}
    assert not missing, f'imported but not an <exec_depend> in package.xml: {missing}'
    unused = exec_depends - set(needed)
    assert not unused, f'<exec_depend> that t3d_ros/ and launch/ never import: {sorted(unused)}'


def test_every_import_of_the_tests_is_declared_and_every_test_depend_is_imported():
    needed = required_keys(imported_modules(['test']), local_modules())
    test_depends = declared('test_depend')
    missing = {key: sorted(files) for key, files in needed.items()
               if key not in test_depends | declared('exec_depend')}
    assert not missing, f'tests import, package.xml does not declare: {missing}'
    unused = test_depends - set(needed)
    assert not unused, f'<test_depend> that test/ never imports: {sorted(unused)}'


def test_pip_only_modules_are_in_requirements_txt():
    requirements = {line.split('#')[0].split('==')[0].split('>=')[0].strip().lower()
                    for name in ('requirements.txt', 'requirements-bench.txt',
                                 'requirements-video.txt', 'requirements-onnx.txt')
                    for line in (ROOT / name).read_text().splitlines()}
    assert set(PIP_ONLY.values()) <= requirements
    imported = imported_modules(['t3d_ros', 'launch', 'test'])
    assert set(PIP_ONLY) <= set(imported), 'a PIP_ONLY module nobody imports: remove it'

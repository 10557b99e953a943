"""
flake8 and pep257 over the package, with ament_flake8's and ament_pep257's settings.

What `colcon test` runs through ament_flake8 / ament_pep257 on a ROS 2 install, run here with
flake8 and pydocstyle from requirements-test.txt: every Python file of the package (sources,
launch files, tests, setup.py), line length 99, ament's ignore lists.
"""
from pathlib import Path

from flake8.api import legacy as flake8
from flake8.main.options import JobsArgument
import pydocstyle
from pydocstyle.config import ConfigurationParser

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {'build', 'install', 'log', 'runs'}
"""Build and run outputs (.gitignore); folders starting with '.' or '_' are skipped too."""

AMENT_IGNORE = ['D100', 'D101', 'D102', 'D103', 'D104', 'D105', 'D106', 'D107', 'D203', 'D212',
                'D404']
"""ament_pep257's default ('ament' convention); ament_flake8's config ignores the same codes."""
AMENT_FLAKE8_IGNORE = ['B902', 'C816', *AMENT_IGNORE, 'I202']
MAX_LINE_LENGTH = 99


def python_files() -> list[Path]:
    """Return every .py file of the package, in folders not starting with '.' or '_'."""
    files = []
    for path in sorted(ROOT.rglob('*.py')):
        folders = path.relative_to(ROOT).parts[:-1]
        if not any(part[0] in '._' or part in SKIPPED_DIRS for part in folders):
            files.append(path)
    return files


def test_the_package_has_python_files_to_check():
    files = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {'setup.py', 't3d_ros/__init__.py', 'launch/train.launch.py',
            'test/unit/test_lint.py'} <= files


def test_flake8(capsys):
    # One process: flake8's forked workers can crash (SIGSEGV) when an earlier test of the
    # session left rclpy, torch or Pinocchio threads in this process.
    style = flake8.get_style_guide(max_line_length=MAX_LINE_LENGTH,
                                   extend_ignore=AMENT_FLAKE8_IGNORE,
                                   jobs=JobsArgument('1'))
    report = style.check_files([str(path) for path in python_files()])
    assert report.total_errors == 0, (f'flake8 found {report.total_errors}:\n'
                                      f'{capsys.readouterr().out}')


def test_pep257():
    # As ament_pep257 runs it (through pydocstyle's configuration): properties are no verbs.
    properties = set(ConfigurationParser.DEFAULT_PROPERTY_DECORATORS.split(','))
    errors = [str(error) for error in pydocstyle.check(
        [str(path) for path in python_files()], ignore=AMENT_IGNORE,
        property_decorators=properties)]
    assert not errors, f'{len(errors)} pep257 errors:\n' + '\n'.join(errors)

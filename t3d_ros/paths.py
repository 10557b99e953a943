"""Where the package's data files are: the ament share directory, else the source tree."""
from __future__ import annotations

from pathlib import Path

PACKAGE = 't3d_ros'
PYBULLET_DATA = 'pybullet_data/'
"""Prefix of robot models referenced inside the ``pybullet_data`` package."""
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def share_directory() -> Path | None:
    """Return the package's installed share directory, or None outside an ament install."""
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory(PACKAGE))
    except (ImportError, LookupError, OSError):
        # No ament_index_python, package not in the index, or AMENT_PREFIX_PATH unset.
        return None


def sim_model_path(file_name: str) -> Path:
    """Path of the robot model ``file_name`` in the package's ``sim/`` folder."""
    return package_file('sim', file_name, 'robot model')


def model_path(name: str) -> Path:
    """
    Return the path of the robot model ``name``.

    ``pybullet_data/<file>`` is inside the installed ``pybullet_data`` package (referenced at
    run time, never copied); any other name is in the package's ``sim/`` folder.
    """
    if not name.startswith(PYBULLET_DATA):
        return sim_model_path(name)
    path = pybullet_data_path(name)
    if not path.is_file():
        raise FileNotFoundError(f'robot model {name!r} not found in {path.parent}')
    return path


def pybullet_data_path(name: str) -> Path:
    """Path of ``pybullet_data/<file>`` (or ``<file>``) inside the pybullet_data package."""
    import pybullet_data

    return Path(pybullet_data.getDataPath()) / name.removeprefix(PYBULLET_DATA)


def config_path(file_name: str) -> Path:
    """Path of the params file ``file_name`` (e.g. 'train.yaml') in the ``config/`` folder."""
    return package_file('config', file_name, 'params file')


def package_file(folder: str, file_name: str, what: str = 'file') -> Path:
    """``folder/file_name`` of the installed share directory, else of the source tree."""
    share = share_directory()
    folders = ([share / folder] if share is not None else []) + [SOURCE_ROOT / folder]
    for directory in folders:
        path = directory / file_name
        if path.is_file():
            return path
    raise FileNotFoundError(
        f'{what} {file_name!r} not found in {" or ".join(map(str, folders))}')

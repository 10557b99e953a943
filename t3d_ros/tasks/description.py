"""
Robot descriptions as their packages ship them: ``package://`` and ``file://`` URIs, xacro.

:class:`PackageFinder` finds a ROS package the way ROS tools do, without ROS (it reads the
ament index itself). :func:`read_robot` reads the file a task file's ``robot`` names, a
``.xacro`` expanded with its arguments. :func:`describe` resolves every file a URDF names, so
that the kinematics and the simulator read the same URDF with absolute paths, while a policy
bundle carries the text as shipped (its ``package://`` URIs resolve again on the machine that
rebuilds it; the kinematics need no meshes, only the simulator does).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE_SCHEME = 'package://'
FILE_SCHEME = 'file://'
AMENT_PACKAGES = Path('share', 'ament_index', 'resource_index', 'packages')
"""``<prefix>/AMENT_PACKAGES/<name>`` marks a package whose share folder is
``<prefix>/share/<name>``."""
IGNORE_MARKERS = frozenset({'CATKIN_IGNORE', 'COLCON_IGNORE', 'AMENT_IGNORE'})
"""A folder holding one of these is not searched for packages."""
FILE_REFERENCES = ('.//mesh', './/texture')
"""The URDF elements whose ``filename`` attribute names a file."""
XACRO_SUFFIX = '.xacro'
XACRO_EXTRA = ('pip install -r requirements-descriptions.txt (the descriptions extra: xacro), '
               "or source a ROS install with the 'xacro' package")
MODEL_CACHE = 't3d_ros_models'
"""Folder in the temporary directory holding resolved URDFs for the simulator."""
MORE_LISTED = 3
"""Files not found that an error names besides the first, which it explains."""

_XACRO_LOCK = threading.Lock()
"""xacro keeps its state in module globals: one expansion at a time."""


class DescriptionError(ValueError):
    """A robot description that cannot be read, or a file it names that is not found."""


class PackageFinder:
    """
    Finds a ROS package's folder: the ament index, then ROS_PACKAGE_PATH, then package_paths.

    The ament index of each prefix on AMENT_PREFIX_PATH (a sourced workspace; ``pip install
    example-robot-data`` registers under ``<site-packages>/cmeel.prefix``), then the packages
    under each folder of ROS_PACKAGE_PATH, then under each of ``package_paths``. Under a folder,
    as rospack searches: a folder holding a ``package.xml`` is the package that file names,
    and nothing below it is searched; hidden folders and those marked ignored are skipped.
    """

    def __init__(self, package_paths: Sequence[Path] = (),
                 environ: Mapping[str, str] = os.environ):
        self.ament_prefixes = _path_list(environ.get('AMENT_PREFIX_PATH', ''))
        self.ros_package_path = _path_list(environ.get('ROS_PACKAGE_PATH', ''))
        self.package_paths = tuple(Path(path) for path in package_paths)
        self._packages: dict[Path, dict[str, Path]] = {}

    def find(self, name: str) -> Path | None:
        """Return the folder of package ``name``, or None."""
        for prefix in self.ament_prefixes:
            if (prefix / AMENT_PACKAGES / name).is_file():
                return prefix / 'share' / name
        for root in (*self.ros_package_path, *self.package_paths):
            if root not in self._packages:
                self._packages[root] = _packages_under(root)
            if name in self._packages[root]:
                return self._packages[root][name]
        return None

    def places(self) -> str:
        """Say where :meth:`find` looks."""
        searched = (('the ament index on AMENT_PREFIX_PATH', self.ament_prefixes),
                    ('ROS_PACKAGE_PATH', self.ros_package_path),
                    ("the task file's package_paths", self.package_paths))
        return ', '.join(f'{what} ({", ".join(map(str, folders)) or "empty"})'
                         for what, folders in searched)

    def resolve(self, reference: str, model_dir: Path | None) -> Path:
        """
        Return the file a URDF reference names, as an absolute path.

        ``package://NAME/rest`` is ``rest`` in package NAME; failing that, as PyBullet reads
        it (``pybullet_data``'s own models rely on this), ``NAME/rest`` in the model's folder
        or a folder above it. ``file://path`` and a plain path are absolute, or relative to
        ``model_dir``, the folder of the file the reference is in (None: unknown here).
        DescriptionError, naming the reference and every place looked in, if there is no
        such file.
        """
        if reference.startswith(PACKAGE_SCHEME):
            return self._resolve_package(reference, model_dir)
        if '://' in reference and not reference.startswith(FILE_SCHEME):
            raise DescriptionError(f'{reference}: unknown URI scheme (known: {PACKAGE_SCHEME}, '
                                   f'{FILE_SCHEME}, or a path)')
        path = Path(reference.removeprefix(FILE_SCHEME))
        if not path.is_absolute():
            if model_dir is None:
                raise DescriptionError(f'{reference}: a path relative to the robot file, which '
                                       'is not on this machine')
            path = model_dir / path
        if not path.is_file():
            raise DescriptionError(f'{reference}: {path} does not exist')
        return path.resolve()

    def _resolve_package(self, reference: str, model_dir: Path | None) -> Path:
        name, _, rest = reference.removeprefix(PACKAGE_SCHEME).partition('/')
        share = self.find(name)
        if share is not None:
            if not (share / rest).is_file():
                raise DescriptionError(f'{reference}: package {name!r} is {share}, which has no '
                                       f'file {rest!r}')
            return (share / rest).resolve()
        folders = [model_dir, *model_dir.parents] if model_dir is not None else []
        for folder in folders:
            if (folder / name / rest).is_file():
                return (folder / name / rest).resolve()
        beside = (f', nor {name}/{rest} in {model_dir} or a folder above it'
                  if model_dir is not None else '')
        raise DescriptionError(f'{reference}: no package {name!r} in {self.places()}{beside}')


def read_robot(path: Path, xacro_args: Mapping[str, str], finder: PackageFinder) -> str:
    """Return the URDF text of the file ``path``: a ``.xacro`` expanded with ``xacro_args``."""
    if path.suffix != XACRO_SUFFIX:
        try:
            return path.read_text(encoding='utf-8')
        except OSError as error:
            raise DescriptionError(f'cannot read {path}: {error.strerror}') from None
    try:
        import xacro
        from xacro import substitution_args
    except ImportError:
        raise DescriptionError(f'{path} is a xacro file; expanding it needs xacro: '
                               f'{XACRO_EXTRA}') from None
    with _XACRO_LOCK, _xacro_find(finder, substitution_args) as failures:
        try:
            document = xacro.process_file(str(path), mappings=dict(xacro_args))
        except Exception as error:  # xacro raises its own, XML and evaluation errors
            if failures:
                raise failures[0] from None
            raise DescriptionError(f'xacro could not expand {path}: {error}') from None
    return document.toprettyxml(indent='  ')


@contextlib.contextmanager
def _xacro_find(finder: PackageFinder, substitution_args) -> Iterator[list[DescriptionError]]:
    """Answer xacro's ``$(find pkg)`` through ``finder``; yield the packages not found."""
    failures: list[DescriptionError] = []

    def find(name: str) -> str:
        share = finder.find(name)
        if share is None:
            failures.append(DescriptionError(f'$(find {name}): no package {name!r} in '
                                             f'{finder.places()}'))
            raise failures[-1]
        return str(share)

    # xacro 2.1 looks packages up with ament_index_python, through these two names.
    saved = substitution_args._eval_find, substitution_args._eval_dict['find']
    substitution_args._eval_find = substitution_args._eval_dict['find'] = find
    try:
        yield failures
    finally:
        substitution_args._eval_find, substitution_args._eval_dict['find'] = saved


@dataclass(frozen=True)
class RobotDescription:
    """A URDF as shipped and the same URDF with every file it names an absolute path."""

    text: str
    """As its package ships it (xacro expanded, URIs as written): what policy bundles carry."""
    resolved_text: str
    """``text`` with each mesh and texture ``filename`` the absolute path of that file, where
    found: what the kinematics and the simulator read."""
    not_found: tuple[str, ...]
    """Each file reference that was not found, once: the reference and every place looked
    in."""
    name: str
    """The robot file's name without ``.urdf`` or ``.xacro`` (names the simulator's copy)."""

    def simulator_model(self) -> Path:
        """
        Return the resolved URDF as a file, for PyBullet, which loads files only.

        DescriptionError if a file it names was not found: the simulator needs every mesh.
        """
        if self.not_found:
            first, *others = self.not_found
            listed = [problem.partition(': ')[0] for problem in others[:MORE_LISTED]]
            more = (f' (and {len(others)} more: {", ".join(listed)}'
                    f'{", ..." if len(others) > len(listed) else ""})') if others else ''
            raise DescriptionError(f'the simulator needs every file the URDF names: '
                                   f'{first}{more}')
        return self.resolved_file()

    def resolved_file(self) -> Path:
        """Return the resolved URDF written to the temporary folder, named by its content."""
        digest = hashlib.sha256(self.resolved_text.encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / MODEL_CACHE / f'{digest}-{self.name}.urdf'
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Another process may load it meanwhile: it sees the whole file or none.
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix='.tmp')
            with os.fdopen(handle, 'w', encoding='utf-8') as file:
                file.write(self.resolved_text)
            os.replace(temporary, path)
        return path


def describe(text: str, model_dir: Path | None, finder: PackageFinder,
             name: str) -> RobotDescription:
    """
    Resolve every file URDF ``text`` names; files that are not found are listed, not raised.

    ``model_dir``: the folder of the robot file (None: not on this machine).
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise DescriptionError(f'not a URDF (XML): {error}') from None
    resolved: dict[str, str] = {}
    not_found: dict[str, str] = {}
    for element in (found for path in FILE_REFERENCES for found in root.iterfind(path)):
        reference = element.get('filename')
        if reference is None or reference in not_found:
            continue
        if reference not in resolved:
            try:
                resolved[reference] = str(finder.resolve(reference, model_dir))
            except DescriptionError as error:
                not_found[reference] = str(error)
                continue
        element.set('filename', resolved[reference])
    return RobotDescription(text, ET.tostring(root, encoding='unicode'),
                            tuple(not_found.values()),
                            name.removesuffix(XACRO_SUFFIX).removesuffix('.urdf'))


def _path_list(value: str) -> tuple[Path, ...]:
    return tuple(Path(entry) for entry in value.split(os.pathsep) if entry)


def _packages_under(root: Path) -> dict[str, Path]:
    """Map each package name under ``root`` to its folder; the first found wins."""
    packages: dict[str, Path] = {}
    visited = set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in visited or IGNORE_MARKERS.intersection(files):
            subfolders.clear()
            continue
        visited.add(real)
        if 'package.xml' in files:
            packages.setdefault(_package_name(Path(folder)), Path(folder))
            subfolders.clear()
        else:
            subfolders[:] = sorted(name for name in subfolders if not name.startswith('.'))
    return packages


def _package_name(folder: Path) -> str:
    """Return the ``<name>`` a package.xml gives, else its folder's name."""
    try:
        name = ET.parse(folder / 'package.xml').getroot().findtext('name')
    except (OSError, ET.ParseError):
        name = None
    return name.strip() if name and name.strip() else folder.name

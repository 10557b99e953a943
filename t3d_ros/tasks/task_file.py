"""
Task files: a YAML reach task for any serial arm, loaded and checked.

See docs/architecture.md, "Task files".

The schema is :class:`ReachTaskFile`; :func:`load_task_file` reads, type-checks and validates a
file against its URDF (through :class:`~t3d_ros.tasks.kinematics.ChainKinematics`) and raises
:class:`TaskFileError`, naming the field, on anything wrong. Every default is filled in here,
so the result says exactly what the task is. The robot is found, expanded and its files
resolved by :mod:`t3d_ros.tasks.description`.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from t3d_ros.paths import PYBULLET_DATA, pybullet_data_path
from t3d_ros.tasks.base import ControlInterface
from t3d_ros.tasks.description import (XACRO_SUFFIX, DescriptionError, PackageFinder,
                                       RobotDescription, describe, read_robot)
from t3d_ros.tasks.kinematics import ChainKinematics, JointLimits, KinematicsError

SATURATION_ERROR = 0.1
"""Default gains: kp makes the full URDF effort at this position error (rad or m)."""
GAIN_TIME_CONSTANT = 0.1
"""Default gains: kd = kp x this (s); so a velocity error of 1 rad/s also gives full effort."""
POSITION_ACTIONS = ('absolute', 'relative')
"""What a position task's action is: the joint target itself, or a change of it per step."""
DEFAULT_POSITION_STEP = 0.05
"""Relative position action: the largest change of a joint target per control step (rad)."""
TASK_FILE_SUFFIXES = ('.yaml', '.yml')


class TaskFileError(ValueError):
    """A task file that cannot be used; ``field`` names the offending field."""

    def __init__(self, source: str, field: str, message: str):
        super().__init__(f'task file {source}: {field}: {message}')
        self.field = field


@dataclass(frozen=True)
class GoalRegion:
    """
    Where goals are drawn from, uniformly: a box or a ball around ``center``.

    The box has ``half_extent``, the ball ``radius``; in the base frame (m).
    """

    center: tuple[float, ...]
    half_extent: tuple[float, ...] | None = None
    radius: float | None = None

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        center = np.array(self.center)
        if self.half_extent is not None:
            return center + rng.uniform(-1.0, 1.0, size=3) * np.array(self.half_extent)
        while True:  # uniform in the ball, by rejection from its bounding cube
            offset = rng.uniform(-1.0, 1.0, size=3)
            if offset @ offset <= 1.0:
                return center + self.radius * offset


@dataclass(frozen=True)
class Gains:
    """
    Joint PD gains of the sim's position and velocity interfaces, per joint.

    Position: ``tau = kp (q* - q) - kd q_dot``; velocity: ``tau = kd (q_dot* - q_dot)``; both
    plus gravity compensation and bounded by the URDF effort limit.
    """

    kp: tuple[float, ...]
    kd: tuple[float, ...]


@dataclass(frozen=True)
class RewardWeights:
    """
    Reward.

    ``-distance x |ee - goal| - action x |a_n - rest_n|^2`` per control step, with ``a_n`` the
    action normalised to [-1, 1] per joint and ``rest_n`` the action at rest (zero for velocity,
    effort and a relative position action, the measured position for an absolute one).
    """

    distance: float = 1.0
    action: float = 0.01


@dataclass(frozen=True)
class ReachTaskFile:
    """The fields of a reach task file; required ones first (architecture: Task files)."""

    task: str
    """The task family; ``reach``."""
    name: str
    """Task name, stored in policy bundles."""
    robot: str
    """The URDF, or a ``.xacro`` expanded with ``xacro_args``: a ``package://NAME/...`` or
    ``file://`` URI, a path (absolute or relative to the task file) or ``pybullet_data/<file>``.
    """
    base_link: str
    end_effector: str
    joints: tuple[str, ...]
    """Controlled joints in command order: every movable joint of the chain, nothing else."""
    interface: str
    """``position``, ``velocity`` or ``effort``."""
    goal: GoalRegion
    package_paths: tuple[str, ...] | None = None
    """Folders holding ROS packages (relative to the task file), searched for ``package://``
    URIs after the ament index on AMENT_PREFIX_PATH and ROS_PACKAGE_PATH."""
    xacro_args: dict[str, str] | None = None
    """The arguments of a ``.xacro`` robot, ``{name: value}``."""
    command_low: tuple[float, ...] | None = None
    command_high: tuple[float, ...] | None = None
    """Command limits; default the URDF's (position, velocity or effort); only tighter."""
    gains: Gains | None = None
    """Default: kp = effort limit / 0.1, kd = 0.1 x kp."""
    control_period: float = 0.02
    physics_dt: float = 0.005
    """Physics step (s); the control period must be a whole number of them."""
    episode_steps: int = 100
    success_distance: float = 0.02
    reward: RewardWeights = field(default_factory=RewardWeights)
    home: tuple[float, ...] | None = None
    """Joint positions episodes start around; default 0 where inside the limits, else the
    middle of the range."""
    initial_noise: float = 0.1
    """Episodes start at ``home`` + uniform(-initial_noise, initial_noise) per joint."""
    reward_threshold: float | None = None
    """Mean evaluation return that counts as solved (only reported); none by default."""
    position_action: str = 'absolute'
    """Position interface: ``absolute`` (the action is the joint target) or ``relative`` (the
    action moves the joint target, at most ``position_step`` per control step)."""
    position_step: float | None = None
    """Relative position action: largest target change per joint and control step (rad);
    default 0.05 rad. Only with ``position_action: relative``."""


@dataclass(frozen=True)
class ReachTaskConfig:
    """A validated task file with every default filled in and its model resolved."""

    spec: ReachTaskFile
    source: str
    """The task file's path, or what it came from (names it in errors)."""
    urdf_path: Path | None
    """The robot file ``robot`` names (a URDF or a .xacro); None for a policy bundle's task
    whose robot file is not on this machine."""
    description: RobotDescription
    """The URDF (the kinematics and the simulator read its resolved text)."""
    source_text: str
    """The task file as written (stored in policy bundles)."""
    source_dir: Path
    """Where relative ``robot`` paths are resolved from."""
    kinematics: ChainKinematics
    urdf_limits: JointLimits
    command_low: np.ndarray
    command_high: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    home: np.ndarray

    @property
    def interface(self) -> ControlInterface:
        return ControlInterface(self.spec.interface)

    @property
    def urdf_text(self) -> str:
        """The URDF as its package ships it, xacro expanded (stored in policy bundles)."""
        return self.description.text

    def simulator_model(self) -> Path:
        """Return the URDF file the sim loads; TaskFileError if a file it names is not found."""
        try:
            return self.description.simulator_model()
        except DescriptionError as error:
            raise TaskFileError(self.source, 'robot', str(error)) from None

    @property
    def decimation(self) -> int:
        return round(self.spec.control_period / self.spec.physics_dt)

    @property
    def relative_action(self) -> bool:
        """Whether the action is a change of the joint target (``position_action: relative``)."""
        return self.spec.position_action == 'relative'

    @property
    def position_step(self) -> float:
        """Relative position action: the largest target change per control step (rad)."""
        step = self.spec.position_step
        return DEFAULT_POSITION_STEP if step is None else step


def default_gains(effort_limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    (kp, kd) per joint from the effort limits.

    Full effort at 0.1 rad (or m) of position error, and kd = 0.1 s x kp (full effort at 1 rad/s of
    velocity error).
    """
    kp = np.asarray(effort_limits, dtype=np.float64) / SATURATION_ERROR
    return kp, kp * GAIN_TIME_CONSTANT


def is_task_file(task: str | os.PathLike) -> bool:
    """Whether ``task`` names a task file (a YAML path) rather than a built-in task."""
    return str(task).endswith(TASK_FILE_SUFFIXES)


def load_task_file(path: str | os.PathLike) -> ReachTaskConfig:
    """Read and validate the task file at ``path``."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding='utf-8')
    except OSError as error:
        raise TaskFileError(str(path), 'file', f'cannot read it: {error.strerror}') from None
    return parse_task_file(text, path.parent, str(path))


def parse_task_file(text: str, source_dir: str | os.PathLike, source: str = '<text>',
                    urdf_text: str | None = None) -> ReachTaskConfig:
    """
    Validate a task file's ``text``; relative robot paths resolve from ``source_dir``.

    With ``urdf_text`` (a policy bundle's copy) the robot file is not read (nor expanded); the
    files the URDF names are resolved on this machine where they are found.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TaskFileError(source, 'file', f'not valid YAML: {error}') from None
    spec = _spec_from_document(document, source)
    source_dir = Path(source_dir)
    finder = PackageFinder(_package_folders(spec, source_dir))
    urdf_path = _resolve_robot(spec.robot, source_dir, finder, source,
                               must_exist=urdf_text is None)
    if spec.xacro_args is not None and not spec.robot.endswith(XACRO_SUFFIX):
        raise TaskFileError(source, 'xacro_args', f'only for a {XACRO_SUFFIX} robot, not '
                            f'{spec.robot!r}')
    try:
        if urdf_text is None:
            urdf_text = read_robot(urdf_path, spec.xacro_args or {}, finder)
        model_dir = None if urdf_path is None else urdf_path.parent
        description = describe(urdf_text, model_dir, finder, Path(spec.robot).name)
    except DescriptionError as error:
        raise TaskFileError(source, 'robot', str(error)) from None
    try:
        kinematics = ChainKinematics(description.resolved_text, spec.base_link,
                                     spec.end_effector, spec.joints)
    except KinematicsError as error:
        raise TaskFileError(source, error.field, str(error).partition(': ')[2]) from None
    limits = kinematics.limits()
    return _checked(spec, source, urdf_path, description, text, source_dir, kinematics, limits)


def with_resolved_robot(config: ReachTaskConfig) -> str:
    """
    Return the task file with ``robot`` the resolved URDF's file, to be loaded anywhere here.

    For a policy bundle's task, rebuilt by nodes: their kinematics are the bundle's URDF, which
    is not expanded again; ``package_paths`` become absolute.
    """
    document = yaml.safe_load(config.source_text)
    document.pop('xacro_args', None)
    document['robot'] = str(config.description.resolved_file())
    if config.spec.package_paths is not None:
        document['package_paths'] = [str(folder) for folder in
                                     _package_folders(config.spec, config.source_dir)]
    return yaml.safe_dump(document, sort_keys=False)


def _package_folders(spec: ReachTaskFile, source_dir: Path) -> list[Path]:
    return [source_dir / Path(folder).expanduser() for folder in spec.package_paths or ()]


# --- schema and types ----------------------------------------------------------------------

def _spec_from_document(document: Any, source: str) -> ReachTaskFile:
    if not isinstance(document, dict):
        raise TaskFileError(source, 'file', 'must be a YAML mapping of task fields')
    spec = _build(ReachTaskFile, document, source, '')
    if spec.task != 'reach':
        raise TaskFileError(source, 'task', f"unknown task family {spec.task!r}; known: 'reach'")
    try:
        ControlInterface(spec.interface)
    except ValueError:
        raise TaskFileError(source, 'interface', f'{spec.interface!r} is not one of '
                            f'{[i.value for i in ControlInterface]}') from None
    return spec


def _build(schema: type, document: dict, source: str, prefix: str):
    """Return an instance of dataclass ``schema`` from a mapping, every field type-checked."""
    fields = {f.name: f for f in dataclasses.fields(schema)}
    unknown = sorted(set(document) - set(fields))
    if unknown:
        raise TaskFileError(source, prefix + str(unknown[0]),
                            f'unknown field (known: {", ".join(fields)})')
    missing = [name for name, f in fields.items() if name not in document
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise TaskFileError(source, prefix + missing[0], 'required field is missing')
    values = {name: _typed(fields[name].type, value, source, prefix + name)
              for name, value in document.items()}
    return schema(**values)


_NESTED = {'GoalRegion': GoalRegion, 'Gains': Gains, 'RewardWeights': RewardWeights}
_SCALARS = (str, int, float, bool)


def _typed(annotation: str, value: Any, source: str, name: str):
    optional = annotation.endswith(' | None')
    kind = annotation.removesuffix(' | None')
    if value is None:
        if optional:
            return None
        raise TaskFileError(source, name, 'must not be empty')
    if kind in _NESTED:
        if not isinstance(value, dict):
            raise TaskFileError(source, name, f'must be a mapping, not {value!r}')
        return _build(_NESTED[kind], value, source, name + '.')
    if kind == 'str':
        if not isinstance(value, str) or not value:
            raise TaskFileError(source, name, f'must be a non-empty string, not {value!r}')
        return value
    if kind == 'int':
        if isinstance(value, bool) or not isinstance(value, int):
            raise TaskFileError(source, name, f'must be an integer, not {value!r}')
        return value
    if kind == 'float':
        return _number(value, source, name)
    if kind == 'dict[str, str]':
        if not isinstance(value, dict) or not value:
            raise TaskFileError(source, name, f'must be a non-empty mapping, not {value!r}')
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, _SCALARS):
                raise TaskFileError(source, f'{name}.{key}', 'must map a name to a string, '
                                    f'number or boolean, not {item!r}')
        return {key: str(item).lower() if isinstance(item, bool) else str(item)
                for key, item in value.items()}
    if kind in ('tuple[str, ...]', 'tuple[float, ...]'):
        if not isinstance(value, list) or not value:
            raise TaskFileError(source, name, f'must be a non-empty list, not {value!r}')
        element = kind[len('tuple['):-len(', ...]')]
        return tuple(_typed(element, item, source, f'{name}[{i}]')
                     for i, item in enumerate(value))
    raise AssertionError(f'no type check for {annotation}')  # a schema field without one


def _number(value: Any, source: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TaskFileError(source, name, f'must be a finite number, not {value!r}')
    return float(value)


# --- checks against the model --------------------------------------------------------------

def _resolve_robot(robot: str, source_dir: Path, finder: PackageFinder, source: str,
                   must_exist: bool) -> Path | None:
    """Return the robot file; None where it is not found and need not be."""
    if robot.startswith(PYBULLET_DATA):
        robot = str(pybullet_data_path(robot))
    elif '://' not in robot:
        robot = str(Path(robot).expanduser())
    try:
        return finder.resolve(robot, source_dir)
    except DescriptionError as error:
        if must_exist:
            raise TaskFileError(source, 'robot', str(error)) from None
        return None


def _checked(spec: ReachTaskFile, source: str, urdf_path: Path | None,
             description: RobotDescription, text: str, source_dir: Path,
             kinematics: ChainKinematics, limits: JointLimits) -> ReachTaskConfig:
    n = len(spec.joints)
    if len(set(spec.joints)) != n:
        raise TaskFileError(source, 'joints', f'lists a joint twice: {list(spec.joints)}')
    interface = ControlInterface(spec.interface)
    urdf_low, urdf_high, limit_name = {
        ControlInterface.POSITION: (limits.lower, limits.upper, 'lower/upper'),
        ControlInterface.VELOCITY: (-limits.velocity, limits.velocity, 'velocity'),
        ControlInterface.EFFORT: (-limits.effort, limits.effort, 'effort'),
    }[interface]
    low = _joint_values(spec.command_low, urdf_low, n, source, 'command_low')
    high = _joint_values(spec.command_high, urdf_high, n, source, 'command_high')
    for name, values, wider in (('command_low', low, low < urdf_low),
                                ('command_high', high, high > urdf_high)):
        if np.any(wider):
            joint = spec.joints[int(np.argmax(wider))]
            raise TaskFileError(source, name, f'{values.tolist()} is wider than the URDF '
                                f'{limit_name} limit of {joint!r} '
                                f'({urdf_low.tolist()} .. {urdf_high.tolist()}); a task file '
                                'may only tighten limits')
        if not np.all(np.isfinite(values)):
            joint = spec.joints[int(np.argmax(~np.isfinite(values)))]
            raise TaskFileError(source, name, f'the URDF gives no {limit_name} limit for '
                                f'{joint!r}: set {name} for every joint')
    if np.any(low >= high):
        raise TaskFileError(source, 'command_low', f'{low.tolist()} must be below command_high '
                            f'{high.tolist()} for every joint')
    kp, kd = _gains(spec, limits, interface, n, source)
    _check_positive(source, control_period=spec.control_period, physics_dt=spec.physics_dt,
                    success_distance=spec.success_distance)
    _check_positive(source, minimum=0.0, initial_noise=spec.initial_noise,
                    **{'reward.distance': spec.reward.distance,
                       'reward.action': spec.reward.action})
    steps = spec.control_period / spec.physics_dt
    if abs(steps - round(steps)) > 1e-6 or round(steps) < 1:
        raise TaskFileError(source, 'control_period', f'{spec.control_period} s is not a whole '
                            f'number of physics steps of {spec.physics_dt} s')
    if spec.episode_steps < 1:
        raise TaskFileError(source, 'episode_steps', f'must be >= 1, not {spec.episode_steps}')
    _check_goal(spec.goal, source)
    _check_position_action(spec, interface, source)
    home = _home(spec, limits, n, source)
    return ReachTaskConfig(spec, source, urdf_path, description, text, source_dir, kinematics,
                           limits, low, high, kp, kd, home)


def _joint_values(values, default: np.ndarray, n: int, source: str, name: str) -> np.ndarray:
    if values is None:
        return default.copy()
    if len(values) != n:
        raise TaskFileError(source, name, f'needs one value per joint ({n}), got {len(values)}')
    return np.array(values, dtype=np.float64)


def _gains(spec: ReachTaskFile, limits: JointLimits, interface: ControlInterface, n: int,
           source: str) -> tuple[np.ndarray, np.ndarray]:
    if interface is not ControlInterface.EFFORT and not np.all(np.isfinite(limits.effort)):
        joint = spec.joints[int(np.argmax(~np.isfinite(limits.effort)))]
        raise TaskFileError(source, 'robot', f'the URDF gives no effort limit for {joint!r}: '
                            f'the {interface.value} interface bounds its joint force by it')
    if spec.gains is None:
        return default_gains(limits.effort)
    kp = _joint_values(spec.gains.kp, limits.effort, n, source, 'gains.kp')
    kd = _joint_values(spec.gains.kd, limits.effort, n, source, 'gains.kd')
    for name, values in (('gains.kp', kp), ('gains.kd', kd)):
        if np.any(values < 0):
            raise TaskFileError(source, name, f'must be >= 0, not {values.tolist()}')
    return kp, kd


def _check_positive(source: str, minimum: float | None = None, **values: float) -> None:
    for name, value in values.items():
        if (value < minimum) if minimum is not None else (value <= 0):
            bound = f'>= {minimum}' if minimum is not None else '> 0'
            raise TaskFileError(source, name, f'must be {bound}, not {value}')


def _check_goal(goal: GoalRegion, source: str) -> None:
    if len(goal.center) != 3:
        raise TaskFileError(source, 'goal.center', f'needs 3 values (x, y, z), got '
                            f'{len(goal.center)}')
    if (goal.half_extent is None) == (goal.radius is None):
        raise TaskFileError(source, 'goal', 'needs exactly one of half_extent (a box) and '
                            'radius (a ball)')
    if goal.half_extent is not None and (len(goal.half_extent) != 3
                                         or min(goal.half_extent) < 0):
        raise TaskFileError(source, 'goal.half_extent', f'needs 3 values >= 0, got '
                            f'{list(goal.half_extent)}')
    if goal.radius is not None and goal.radius <= 0:
        raise TaskFileError(source, 'goal.radius', f'must be > 0, not {goal.radius}')


def _check_position_action(spec: ReachTaskFile, interface: ControlInterface,
                           source: str) -> None:
    if spec.position_action not in POSITION_ACTIONS:
        raise TaskFileError(source, 'position_action', f'{spec.position_action!r} is not one of '
                            f'{list(POSITION_ACTIONS)}')
    relative = spec.position_action == 'relative'
    if relative and interface is not ControlInterface.POSITION:
        raise TaskFileError(source, 'position_action', "'relative' needs interface: position, "
                            f'not {interface.value}')
    if spec.position_step is not None:
        if not relative:
            raise TaskFileError(source, 'position_step', 'is only used with position_action: '
                                'relative')
        _check_positive(source, position_step=spec.position_step)


def _home(spec: ReachTaskFile, limits: JointLimits, n: int, source: str) -> np.ndarray:
    if spec.home is None:
        middle = np.where(np.isfinite(limits.lower + limits.upper),
                          0.5 * (limits.lower + limits.upper), 0.0)
        return np.where((limits.lower < 0) & (0 < limits.upper), 0.0, middle)
    home = _joint_values(spec.home, limits.lower, n, source, 'home')
    outside = (home < limits.lower) | (home > limits.upper)
    if np.any(outside):
        joint = spec.joints[int(np.argmax(outside))]
        raise TaskFileError(source, 'home', f'{home.tolist()} puts {joint!r} outside its URDF '
                            'limits')
    return home

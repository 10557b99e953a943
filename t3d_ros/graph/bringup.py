"""
The node graph of a training run or a deployment, as plain data.

``train_graph`` and ``deploy_graph`` say which nodes run, under which names and namespaces,
with which params files and per-node parameters. The launch files turn each :class:`NodeSpec`
into a launch_ros action (:meth:`NodeSpec.launch_action`) and the ``t3d-ros`` command into a
process (:meth:`NodeSpec.command`), so both start the same nodes with the same parameters.
Nothing here imports rclpy or launch at module level.

Parameter precedence is rcl's, as rclpy applies it when a node starts (``load_params`` mirrors
it; a unit test checks it against rclpy): the sections of all params files (``/**``,
``/**/sim``, ``/robot_0/sim``, ``sim`` ...) are kept in the order their names are first seen, a
name seen again is updated in place, and a node takes, in that order, the values of every
section whose name matches its fully qualified name. So a later file overrides a value where it
uses the same section name, not where it uses a more general one. ``-p name:=value`` rules land
in ``/**``, where any ``/**/<node>`` section of a file beats them; per-node parameters therefore
go last, in a section named by the node's fully qualified name (what launch_ros does with a
parameters dict). Only a file that already used that very name, followed by a matching section
first seen later, can beat them.
"""
from __future__ import annotations

import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import yaml

from t3d_ros.paths import PACKAGE, config_path
from t3d_ros.tasks.seeds import robot_seed

PathLike = str | os.PathLike
Overrides = Mapping[str, Mapping[str, Any]]
"""Extra parameters by node name ('learner', 'sim', 'actor'), for every node of that name."""

TRAIN_CONFIG = 'train.yaml'
DEPLOY_CONFIG = 'deploy.yaml'


@dataclass(frozen=True)
class Respawn:
    """
    Start a node process again when it exits on its own, as launch's ``respawn``.

    ``t3d-ros`` (:meth:`~t3d_ros.graph.supervisor.ProcessGroup.supervise`) and the launch files
    (``respawn``, ``respawn_delay``, ``respawn_max_retries``) read the same values. ``t3d-ros``
    does not restart a process that exited with status 1: the node refused its parameters (or
    hit an error it reports with a traceback) and would again.
    """

    delay: float = 2.0
    """Seconds between the exit and the new start."""
    max_retries: int = 5
    """Restarts of one process over the whole run; then its exit ends the run."""

    def __post_init__(self):
        if self.delay < 0 or self.max_retries < 0:
            raise ValueError(f'respawn needs delay >= 0 and max_retries >= 0: {self}')


TRAINING_RESPAWN = Respawn()
"""Learner, sims and actors in training: a killed learner resumes from its checkpoints, a
restarted actor or sim rejoins (the README's fault table)."""


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph: what to run, under which name, with which parameters."""

    executable: str
    """Console script in ``lib/<package>``, also the module ``t3d_ros.nodes.<executable>``."""
    name: str
    namespace: str = ''
    """Relative (``robot_0``) so that an enclosing launch namespace applies; '' = root."""
    params_files: tuple[Path, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """Per-node values, passed after the params files (module docstring: precedence)."""
    remappings: tuple[tuple[str, str], ...] = ()
    managed: bool = False
    """A lifecycle node that launch manages (``LifecycleNode``) instead of a plain one."""
    package: str = PACKAGE
    respawn: Respawn | None = None
    """Start the process again when it exits on its own; None: its exit is final."""

    @property
    def fully_qualified_name(self) -> str:
        return _fully_qualified_name(self.namespace, self.name)

    def overrides_yaml(self) -> str:
        """``parameters`` as a params file section keyed by the fully qualified name."""
        return yaml.safe_dump(
            {self.fully_qualified_name: {'ros__parameters': dict(self.parameters)}},
            default_flow_style=None, sort_keys=False)

    def ros_args(self, params_dir: PathLike) -> list[str]:
        """``--ros-args`` for this node; writes the overrides params file into ``params_dir``."""
        args = ['--ros-args', '-r', f'__node:={self.name}',
                '-r', f'__ns:={_absolute(self.namespace)}']
        for path in self._params_files(Path(params_dir)):
            args += ['--params-file', str(path)]
        for source, target in self.remappings:
            args += ['-r', f'{source}:={target}']
        return args

    def command(self, params_dir: PathLike, python: str = sys.executable) -> list[str]:
        """
        Return the command line that runs this node with ``python -m`` (no ament install).

        It goes through the executables' entry module, as the installed ones do.
        """
        return [python, '-m', 't3d_ros.nodes.entry', self.executable,
                *self.ros_args(params_dir)]

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        """The nodes this process runs: this one (a :class:`GroupSpec` runs several)."""
        return (self,)

    def resolved_parameters(self) -> dict[str, Any]:
        """Return the parameter values this node starts with (files and overrides, rcl's rules)."""
        documents = [*map(_read_params_file, self.params_files),
                     yaml.safe_load(self.overrides_yaml())]
        return _resolve(documents, self.fully_qualified_name)

    def launch_action(self, end_with_launch: bool = False):
        """
        Return this node as a ``launch_ros.actions.Node`` (``LifecycleNode`` if managed).

        ``end_with_launch``: the node gets SIGTERM when the launch process dies, however it dies
        (:mod:`t3d_ros.nodes.parent_death`).
        """
        from launch_ros.actions import LifecycleNode, Node

        node_class = LifecycleNode if self.managed else Node
        parameters = [str(path) for path in self.params_files]
        if self.parameters:
            parameters.append(dict(self.parameters))
        return node_class(package=self.package, executable=self.executable, name=self.name,
                          namespace=self.namespace, parameters=parameters,
                          remappings=list(self.remappings), output='screen',
                          **_process_options(self.respawn, end_with_launch))

    def _params_files(self, params_dir: Path) -> list[Path]:
        if not self.parameters:
            return list(self.params_files)
        params_dir.mkdir(parents=True, exist_ok=True)
        overrides = params_dir / (self.fully_qualified_name.strip('/').replace('/', '.') +
                                  '.yaml')
        overrides.write_text(self.overrides_yaml())
        return [*self.params_files, overrides]


GROUP_EXECUTABLES = {'sim_node': 'sim_group', 'actor_node': 'actor_group'}
"""The group executable that hosts several nodes of each groupable executable."""


@dataclass(frozen=True)
class GroupSpec:
    """
    Several robots' nodes of one executable in one process (``sim_group``, ``actor_group``).

    Each member keeps its name, namespace and parameters: the process gets the members'
    shared params files, then one file with a section per member keyed by its fully qualified
    name, and creates one node per namespace (its arguments). rcl matches sections to each
    node as it would in separate processes, so the members start with the parameters they
    would have alone, and a peer sees the same nodes and topics. The process itself takes no
    ``__node``/``__ns`` remapping (they would rename every member), so an enclosing launch
    namespace does not apply to a group.
    """

    executable: str
    name: str
    """Names the process (logs, labels), not a node."""
    members: tuple[NodeSpec, ...]
    package: str = PACKAGE
    namespace: str = ''

    def __post_init__(self):
        if not self.members:
            raise ValueError('a group needs members')
        first = self.members[0]
        for member in self.members:
            if GROUP_EXECUTABLES.get(member.executable) != self.executable:
                raise ValueError(f'{self.executable} cannot host {member.executable}')
            if (member.name, member.params_files, member.respawn) != (
                    first.name, first.params_files, first.respawn) or (
                    member.remappings or member.managed):
                raise ValueError('group members share their name, params files and respawn, '
                                 f'and have no remappings and no lifecycle manager: {member}')
        if len({member.namespace for member in self.members}) != len(self.members):
            raise ValueError(f'group members need distinct namespaces: {self.members}')

    @property
    def fully_qualified_name(self) -> str:
        return _fully_qualified_name(self.namespace, self.name)

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        return self.members

    @property
    def respawn(self) -> Respawn | None:
        """Return what the members share as their respawn: the process's."""
        return self.members[0].respawn

    @property
    def arguments(self) -> list[str]:
        """The process's arguments: its members' namespaces."""
        return [member.namespace for member in self.members]

    @property
    def params_files(self) -> tuple[Path, ...]:
        return self.members[0].params_files

    def overrides_yaml(self) -> str:
        """Every member's ``parameters``, each in a section keyed by its fully qualified name."""
        return yaml.safe_dump(
            {member.fully_qualified_name: {'ros__parameters': dict(member.parameters)}
             for member in self.members}, default_flow_style=None, sort_keys=False)

    def ros_args(self, params_dir: PathLike) -> list[str]:
        """``--ros-args`` of the process; writes the overrides params file into ``params_dir``."""
        params_dir = Path(params_dir)
        params_dir.mkdir(parents=True, exist_ok=True)
        overrides = params_dir / f'{self.name}.yaml'
        overrides.write_text(self.overrides_yaml())
        args = ['--ros-args']
        for path in (*self.params_files, overrides):
            args += ['--params-file', str(path)]
        return args

    def command(self, params_dir: PathLike, python: str = sys.executable) -> list[str]:
        """Return the command line that runs the group with ``python -m``, as NodeSpec's."""
        return [python, '-m', 't3d_ros.nodes.entry', self.executable, *self.arguments,
                *self.ros_args(params_dir)]

    def launch_action(self, end_with_launch: bool = False):
        """
        Return this group as a ``launch_ros.actions.Node``, with no node name or namespace.

        ``end_with_launch``: as :meth:`NodeSpec.launch_action`'s.
        """
        from launch_ros.actions import Node

        overrides = Path(tempfile.mkdtemp(prefix='t3d_ros_group_')) / f'{self.name}.yaml'
        overrides.write_text(self.overrides_yaml())
        return Node(package=self.package, executable=self.executable, arguments=self.arguments,
                    parameters=[*map(str, self.params_files), str(overrides)], output='screen',
                    **_process_options(self.respawn, end_with_launch))


def _process_options(respawn: Respawn | None, end_with_launch: bool) -> dict[str, Any]:
    """
    Return launch's process options for ``respawn`` and ``end_with_launch``.

    This launch process's pid goes into the node's environment: the function runs in it.
    """
    from t3d_ros.nodes.parent_death import parent_environment

    options: dict[str, Any] = {}
    if respawn is not None:
        options.update(respawn=True, respawn_delay=respawn.delay,
                       respawn_max_retries=respawn.max_retries)
    if end_with_launch:
        options['additional_env'] = parent_environment()
    return options


ProcessSpec = NodeSpec | GroupSpec


def default_robots_per_process(num_actors: int, cpus: int | None = None) -> int:
    """
    Robots per sim (and actor) process when not set.

    ``ceil(num_actors / pairs)`` with ``pairs = max(1, (cpus - 1) // 2)``, one core left to the
    learner and two per sim/actor pair (in lockstep a pair's sim and actor alternate per robot, and
    overlap across robots).

    On 2 cores every robot shares one sim and one actor process. ``cpus``: this process's
    usable CPUs by default.
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (
            os.cpu_count() or 1)
    pairs = max(1, (cpus - 1) // 2)
    return math.ceil(num_actors / min(pairs, num_actors))


def group_robots(graph: list[NodeSpec], robots_per_process: int = 0) -> list[ProcessSpec]:
    """
    Return the processes of ``graph``.

    Its sims and its actors in groups of at most ``robots_per_process`` robots (0:
    :func:`default_robots_per_process`), as even as possible, robots in order; a group of one is
    the plain node. Other nodes stay as they are, first.
    """
    if robots_per_process < 0:
        raise ValueError(f'robots_per_process must be >= 0 (0 = automatic), not '
                         f'{robots_per_process}')
    others = [spec for spec in graph if spec.executable not in GROUP_EXECUTABLES]
    kinds = {executable: [spec for spec in graph if spec.executable == executable]
             for executable in GROUP_EXECUTABLES}
    robots = max(map(len, kinds.values()))
    if robots == 0:
        return list(graph)
    per_process = robots_per_process or default_robots_per_process(robots)
    processes = math.ceil(robots / per_process)
    bounds = [robots * k // processes for k in range(processes + 1)]
    grouped: list[ProcessSpec] = list(others)
    for k in range(processes):
        for executable, specs in kinds.items():
            members = tuple(specs[bounds[k]:bounds[k + 1]])
            if len(members) == 1:
                grouped.append(members[0])
            elif members:
                grouped.append(GroupSpec(GROUP_EXECUTABLES[executable],
                                         f'{GROUP_EXECUTABLES[executable]}_{k}', members))
    return grouped


def train_graph(task: str, num_actors: int = 1, config_files: Sequence[PathLike] = (),
                seed: int = 0, run_dir: PathLike = '',
                overrides: Overrides | None = None,
                use_sim_time: bool = False,
                robots_per_process: int = 0) -> list[ProcessSpec]:
    """
    Return the learner, then per robot ``i`` a ``sim`` and an ``actor`` in namespace ``robot_<i>``.

    Params files: ``config/train.yaml``, ``config/<task>.yaml`` if there is one, then
    ``config_files`` (paths, or names of files in the package's config folder). The learner
    gets ``seed``; robot ``i``'s sim (initial states) and actor (goals, exploration) share
    :func:`robot_seed` ``(seed, i)``. ``run_dir`` '' leaves the params files' value. Every
    process respawns (:data:`TRAINING_RESPAWN`).

    ``use_sim_time``: every node runs on ``/clock``, which the one sim publishes
    (:func:`check_one_clock`); with several robots it is refused, as their sims' times are
    unrelated and none of them is the graph's time.

    ``robots_per_process``: how many robots' sims share a process, and their actors another
    (:func:`group_robots`; 0 = :func:`default_robots_per_process`, 1 = a process per node).
    """
    if num_actors < 1:
        raise ValueError(f'num_actors must be >= 1, not {num_actors}')
    if use_sim_time and num_actors > 1:
        raise ValueError(f'use_sim_time needs one /clock source, but the {num_actors} sims of '
                         'this graph each have their own time; use one robot, or wall time')
    task = checked_task(task, with_sim=True)
    files = _config_files([TRAIN_CONFIG, *_task_config(task)], config_files)
    extra = _node_overrides(overrides, ('learner', 'sim', 'actor'))
    learner = {'task': task, 'seed': seed, **({'run_dir': str(run_dir)} if run_dir else {})}
    graph = [NodeSpec('learner_node', 'learner', '', files, {**learner, **extra['learner']},
                      respawn=TRAINING_RESPAWN)]
    for index in range(num_actors):
        namespace = f'robot_{index}'
        robot = {'task': task, 'seed': robot_seed(seed, index)}
        graph += [
            NodeSpec('sim_node', 'sim', namespace, files, {**robot, **extra['sim']},
                     respawn=TRAINING_RESPAWN),
            NodeSpec('actor_node', 'actor', namespace, files,
                     {**robot, 'mode': 'train', 'actor_id': namespace, **extra['actor']},
                     respawn=TRAINING_RESPAWN),
        ]
    graph = check_one_clock(_with_sim_time(graph) if use_sim_time else graph)
    return group_robots(graph, robots_per_process)


def deploy_graph(task: str | None, policy_file: PathLike, with_sim: bool = False,
                 namespace: str = '', config_files: Sequence[PathLike] = (),
                 overrides: Overrides | None = None,
                 remappings: Sequence[tuple[str, str]] = (),
                 use_sim_time: bool = False) -> list[NodeSpec]:
    """
    Return a managed actor in deploy mode driving the robot in ``namespace`` from a policy bundle.

    ``task`` '' or None: the bundle's own (:func:`task_of_bundle`). With ``with_sim`` a
    realtime sim stands in for the robot. Params files: ``config/deploy.yaml``, then
    ``config_files``. ``remappings`` (e.g. ``('joint_states',
    '/arm/joint_states')``) apply to every node, to meet a robot's own topic names.
    ``use_sim_time``: every node runs on ``/clock``, which the sim publishes (with
    ``with_sim``) or the robot's side does (e.g. Gazebo).
    """
    if not str(policy_file):
        raise ValueError('deploying needs a policy file')
    task = checked_task(task or task_of_bundle(policy_file), with_sim)
    files = _config_files([DEPLOY_CONFIG], config_files)
    extra = _node_overrides(overrides, ('sim', 'actor'))
    remaps = tuple((str(source), str(target)) for source, target in remappings)
    actor = {'task': task, 'mode': 'deploy', 'policy_file': os.path.abspath(policy_file)}
    graph = [NodeSpec('actor_node', 'actor', namespace, files, {**actor, **extra['actor']},
                      remaps, managed=True)]
    if with_sim:
        graph.insert(0, NodeSpec('sim_node', 'sim', namespace, files,
                                 {'task': task, **extra['sim']}, remaps))
    return check_one_clock(_with_sim_time(graph) if use_sim_time else graph)


def _with_sim_time(graph: list[NodeSpec]) -> list[NodeSpec]:
    """Every node on ``use_sim_time``; the first sim publishes ``/clock``."""
    sims = [spec for spec in graph if spec.executable == 'sim_node']
    return [replace(spec, parameters={
        **spec.parameters, 'use_sim_time': True,
        **({'publish_clock': True} if sims and spec is sims[0] else {})}) for spec in graph]


def check_one_clock(graph: list[NodeSpec]) -> list[NodeSpec]:
    """
    Return the graph, unless more than one of its nodes would publish ``/clock``.

    The README's rule: one ``/clock`` source per graph at most (a sim with ``publish_clock``),
    so that nodes with ``use_sim_time`` see one time, never unrelated clocks interleaved.
    """
    sources = [spec.fully_qualified_name for spec in graph if spec.executable == 'sim_node'
               and spec.resolved_parameters().get('publish_clock', False) is True]
    if len(sources) > 1:
        raise ValueError(f'{len(sources)} /clock sources ({", ".join(sources)}): one sim at '
                         'most may publish_clock')
    return graph


def task_of_bundle(policy_file: PathLike) -> str:
    """
    Return the ``task`` argument for a policy bundle's own task.

    Its name (built in, or of the installed package the bundle names: refused, naming the
    package, where it is not installed), or for a task from a task file, that file rebuilt from
    the bundle's copy (written to the temporary folder, its ``robot`` the bundle's URDF with the
    files it names found here: :func:`~t3d_ros.tasks.task_file.with_resolved_robot`).
    """
    import hashlib
    import tempfile

    from t3d_ros.bundle.policy_bundle import PolicyBundle
    from t3d_ros.tasks.task_file import with_resolved_robot

    bundle = PolicyBundle.load(policy_file)
    if not bundle.task_file:
        bundle.check_task_installed()
        return bundle.task
    text = with_resolved_robot(bundle.make_task().config)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / 't3d_ros_tasks' / f'{digest}-{bundle.task}.yaml'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding='utf-8')
    return str(path)


def checked_task(task: str | os.PathLike, with_sim: bool) -> str:
    """
    ``task`` as the nodes' ``task`` parameter.

    A built-in name, or a task file's absolute path (the nodes may run elsewhere). The task is
    built here once, so a bad task file is refused (TaskFileError naming the field) before any node
    starts; ``with_sim``, so is a robot model whose meshes are not found (an actor needs none).
    """
    from t3d_ros.tasks import make_task
    from t3d_ros.tasks.task_file import is_task_file

    task = os.path.abspath(task) if is_task_file(task) else str(task)
    made = make_task(task)
    if with_sim:
        made.model_path()
    return task


def load_params(files: Iterable[PathLike], node_name: str,
                namespace: str = '') -> dict[str, Any]:
    """
    Return the parameters node ``node_name`` in ``namespace`` gets from these params files.

    rcl's precedence (module docstring); nested parameter names are joined with '.'. Values
    are read with PyYAML (YAML 1.1), like rcl except in corners the config files avoid: write
    floats with a dot (``3.0e-4``), and an empty list ``[]``, which rcl reads as unset.
    """
    documents = [_read_params_file(path) for path in files]
    return _resolve(documents, _fully_qualified_name(namespace, node_name))


def _resolve(documents: Iterable[Any], fully_qualified_name: str) -> dict[str, Any]:
    sections: dict[str, dict[str, Any]] = {}  # insertion order = first appearance
    for document in documents:
        for key, parameters in _sections(document, ()):
            sections.setdefault(key, {}).update(parameters)
    values: dict[str, Any] = {}
    for key, parameters in sections.items():
        name = key if key.startswith('/') else '/' + key
        if re.fullmatch(name.replace('/*', r'(/\w+)'), fully_qualified_name, re.ASCII):
            values.update(parameters)
    return values


def _sections(document: Any, path: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    """
    (section name, flat parameters) of a params file, named as rcl names them.

    Nested keys joined with '/' as written ('robot_0: {sim: ...}' is 'robot_0/sim', not
    '/robot_0/sim').
    """
    if not isinstance(document, Mapping):
        raise ValueError(f'a params file maps node names to ros__parameters, not {document!r}')
    for key, value in document.items():
        if key == 'ros__parameters':
            if not path:
                raise ValueError('ros__parameters needs a node name above it')
            yield '/'.join(path), _flatten(value, '')
        else:
            yield from _sections(value, (*path, str(key)))


def _flatten(parameters: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in (parameters or {}).items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f'{prefix}{name}.'))
        else:
            flat[f'{prefix}{name}'] = value
    return flat


def _read_params_file(path: PathLike) -> Any:
    with open(path, encoding='utf-8') as stream:
        return yaml.safe_load(stream) or {}


def _config_files(defaults: Sequence[str], user: Sequence[PathLike]) -> tuple[Path, ...]:
    """Return the package's default files, then the user's: a path, else a name in config/."""
    return (*map(config_path, defaults),
            *(Path(f).resolve() if Path(f).is_file() else config_path(str(f)) for f in user))


def _task_config(task: str) -> list[str]:
    """``config/<task>.yaml`` for a built-in task that has one (a task file has none)."""
    name = f'{task}.yaml'
    if os.path.isabs(task):
        return []
    try:
        config_path(name)
    except FileNotFoundError:
        return []
    return [name]


def _node_overrides(overrides: Overrides | None, names: Sequence[str]) -> dict[str, dict]:
    unknown = set(overrides or {}) - set(names)
    if unknown:
        raise ValueError(f'overrides for unknown nodes {sorted(unknown)}; nodes: {list(names)}')
    return {name: dict((overrides or {}).get(name, {})) for name in names}


def _absolute(namespace: str) -> str:
    return '/' + namespace.strip('/')


def _fully_qualified_name(namespace: str, name: str) -> str:
    return _absolute(namespace).rstrip('/') + '/' + name

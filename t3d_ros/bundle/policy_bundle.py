"""
Policy bundle: actor weights plus all that is needed to check and run them.

See docs/architecture.md, "Files".

One safetensors file. Tensors: ``actor.<parameter>`` and, with a normaliser, ``obs_mean`` and
``obs_std`` (all float32). Metadata (strings): ``format``, ``format_version``, ``task``,
``interface``, ``policy_version``, ``update_step``, JSON ``joint_names``, ``obs_layout``,
``action_low``, ``action_high``, ``hidden_sizes``, and ``content_hash``, a sha256 over all of it
that ``from_bytes`` recomputes. Loading never unpickles: bundles come from the network.

A bundle holds its tensors as numpy arrays and reads and writes them with
``safetensors.numpy``: the actor node loads, checks and runs bundles without torch
(``t3d_ros.acting.numpy_policy``). Only ``from_agent`` and ``make_policy`` use torch.

Format version 2 adds what a deployment must match (issue 7.5): ``control_period`` (s, JSON,
null if unknown), ``gains`` (JSON ``{"kp": [...], "kd": [...]}`` or null), and for a task from a
task file its text (``task_file``), the folder its relative paths start from
(``task_file_dir``) and the URDF text (``urdf``), so a task is rebuilt from the bundle alone
(:meth:`PolicyBundle.make_task`). Version 1 bundles (the toy tasks, before task files) still
load, with those fields unknown.

Format version 3 adds ``task_package`` (JSON ``{"name": ..., "version": ...}``): the Python
distribution whose entry point provides the task (``t3d_ros/tasks/plugins.py``). Only a bundle of
such a task is written as version 3, so the others stay readable by version 2 readers.
"""
from __future__ import annotations

import hashlib
import json
import numbers
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import safetensors.numpy

from t3d_ros.acting.numpy_policy import actor_tensor_shapes, checked_normaliser
from t3d_ros.tasks.scaling import ActionScaler
from t3d_ros.tasks.base import ControlInterface
from t3d_ros.tasks.plugins import (TaskPackage, TaskPluginError, installed_package,
                                   missing_package_message)

from t3d_ros.bundle.atomic import write_bytes_atomic

if TYPE_CHECKING:
    import torch

    from t3d_ros.td3.policy import Policy
    from t3d_ros.td3.td3 import TD3

FORMAT = 't3d_ros.policy_bundle'
FORMAT_VERSION = '3'
"""The newest format; a bundle is written in the oldest one that holds its fields."""
MAX_BUNDLE_BYTES = 64 * 2**20
_ACTOR_PREFIX = 'actor.'
_TORCH_DTYPE_NAMES = {np.dtype(np.float32): 'torch.float32'}
_METADATA_KEYS_V1 = {'format', 'format_version', 'task', 'interface', 'policy_version',
                     'update_step', 'joint_names', 'obs_layout', 'action_low', 'action_high',
                     'hidden_sizes', 'content_hash'}
_DEPLOYMENT_KEYS = {'control_period', 'gains', 'task_file', 'task_file_dir', 'urdf'}
_METADATA_KEYS = {'1': _METADATA_KEYS_V1, '2': _METADATA_KEYS_V1 | _DEPLOYMENT_KEYS,
                  '3': _METADATA_KEYS_V1 | _DEPLOYMENT_KEYS | {'task_package'}}
_CONTROLLER_INTERFACE = re.compile(r'(?:^|(?<=_))(position|velocity|effort)(?=_|$)')
RATE_TOLERANCE = 0.01
"""Relative control-rate difference from training above which a deployment is warned."""


class BundleError(ValueError):
    """The bytes are not a valid policy bundle (garbage, truncated, too big, bad hash, ...)."""


class BundleMismatch(BundleError):
    """A valid bundle made for another task, joint order, observation layout or limits."""


@dataclass
class PolicyBundle:
    """A trained actor and the task contract it was trained for. Validated on construction."""

    task: str
    """Registry name of the task the actor was trained for."""
    joint_names: tuple[str, ...]
    """Controlled joints, in the order of the actor's outputs."""
    obs_layout: tuple[tuple[str, int], ...]
    """Observation fields and sizes, in the order of the actor's inputs."""
    action_low: np.ndarray
    action_high: np.ndarray
    """Per-joint limits that unit actions -1 and +1 map to."""
    hidden_sizes: tuple[int, ...]
    """Widths of the actor's hidden layers."""
    actor_state: dict[str, np.ndarray]
    """``Actor.state_dict()`` as float32 arrays (torch tensors are copied into arrays on
    construction)."""
    policy_version: int = 0
    """Increases with every bundle the learner publishes."""
    update_step: int = 0
    """The learner's ``total_updates`` when the bundle was made."""
    obs_mean: np.ndarray | None = None
    obs_std: np.ndarray | None = None
    """Observation normaliser, applied as (obs - mean) / std before the actor; optional."""
    interface: str = ControlInterface.EFFORT.value
    """ros2_control command interface the actions are meant for."""
    control_period: float | None = None
    """The control period trained at (s); None: unknown (a version 1 bundle)."""
    gains: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    """(kp, kd) per joint of the sim's position/velocity tracking in training."""
    task_file: str = ''
    """The task file's text, for a task from a task file ('' for a built-in class)."""
    task_file_dir: str = ''
    """Where the task file's relative ``robot`` path starts from."""
    urdf: str = ''
    """The URDF text the task's kinematics were built from."""
    task_package: TaskPackage | None = None
    """The Python distribution (name, version) whose entry point provides the task; None for a
    task of this package or a task file."""
    format_version: str | None = None
    """The format of the bytes this bundle was read from (new bundles, None: the oldest format
    that holds their fields, 3 with a ``task_package``, else 2)."""

    def __post_init__(self):
        try:
            self._normalise_and_validate()
        except BundleError:
            raise
        except (TypeError, ValueError) as exc:
            raise BundleError(f'policy bundle: {exc}') from exc

    @property
    def obs_dim(self) -> int:
        return sum(size for _, size in self.obs_layout)

    @property
    def act_dim(self) -> int:
        return len(self.joint_names)

    @property
    def content_hash(self) -> str:
        """sha256 (hex) over the metadata and every tensor's name, dtype, shape and bytes."""
        return _digest(*self._content())

    def __eq__(self, other) -> bool:
        """Compare by content (the fields hold arrays and tensors, so compare by hash)."""
        return isinstance(other, PolicyBundle) and self.content_hash == other.content_hash

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_agent(cls, agent: TD3, task, policy_version: int,
                   use_target: bool = False) -> 'PolicyBundle':
        """Return the agent's actor (or actor target) for ``task``, whose limits must match."""
        bundle = cls(task=task.name, joint_names=tuple(task.joint_names),
                     obs_layout=tuple(task.obs_layout), action_low=agent.scaler.low,
                     action_high=agent.scaler.high, hidden_sizes=agent.config.hidden_sizes,
                     actor_state=agent.export_actor_state(use_target=use_target),
                     policy_version=policy_version, update_step=agent.total_updates,
                     interface=_interface_of(task) or ControlInterface.EFFORT.value,
                     **deployment_fields(task))
        bundle.check_matches(task)
        return bundle

    def make_task(self):
        """
        Return the task this bundle was trained for.

        Rebuilt from its task file and URDF copies, else the task of its name: built in, or of
        the installed package the bundle names (TaskPluginError, naming the package and its
        version, where it is not installed). The sim loads the bundle's URDF with the meshes it
        names found on this machine (``package://`` through its ament index, ...); the
        kinematics need none.
        """
        from t3d_ros.tasks import make_task, task_from_bundle_text

        if self.task_file:
            return task_from_bundle_text(self.task_file, self.task_file_dir, self.urdf)
        self.check_task_installed()
        return make_task(self.task)

    def check_task_installed(self) -> None:
        """Raise TaskPluginError, naming it, where the package providing the task is not here."""
        if self.task_package is not None and installed_package(self.task) is None:
            raise TaskPluginError('policy bundle: ' + missing_package_message(
                self.task, self.task_package))

    def check_deployment(self, command_topic: str, control_period: float) -> list[str]:
        """
        Raise BundleMismatch if ``command_topic`` is another interface's controller.

        E.g. a velocity policy on ``forward_position_controller/commands``. Return warnings (a
        control period other than the one trained at, a controller of unknown interface, a task
        package other than the one trained with).
        """
        controller = controller_interface(command_topic)
        if controller is not None and controller != self.interface:
            raise BundleMismatch(f'policy bundle is for the {self.interface} interface, but '
                                 f'{command_topic} is a {controller} controller')
        warnings = []
        if controller is None:
            warnings.append(f'cannot tell the interface of {command_topic} from its name; '
                            f'make sure it takes {self.interface} commands')
        trained = self.control_period
        if trained is not None and abs(control_period - trained) > RATE_TOLERANCE * trained:
            warnings.append(f'control period {control_period:g} s differs from the '
                            f'{trained:g} s the policy was trained at')
        installed = self.task_package and installed_package(self.task)
        if installed and installed != self.task_package:
            warnings.append(f'task {self.task!r} is {installed} here; the policy was trained '
                            f'with {self.task_package}')
        return warnings

    def make_policy(self, device: str | torch.device = 'cpu') -> Policy:
        """Return a torch inference policy running this bundle's actor (numpy: ``NumpyPolicy``)."""
        import torch

        from t3d_ros.td3.networks import Actor
        from t3d_ros.td3.policy import Policy

        with torch.device('meta'):  # no random init: the weights come from the bundle
            actor = Actor(self.obs_dim, self.act_dim, self.hidden_sizes)
        state = {name: torch.from_numpy(array.copy()) for name, array in self.actor_state.items()}
        actor.load_state_dict(state, assign=True)
        actor.requires_grad_(False).to(device)
        return Policy(actor, ActionScaler(self.action_low, self.action_high),
                      self.obs_mean, self.obs_std)

    def check_matches(self, task) -> None:
        """Raise BundleMismatch naming every way this bundle differs from ``task``."""
        differences = []
        if self.task != task.name:
            differences.append(f'task is {self.task!r}, expected {task.name!r}')
        if self.joint_names != tuple(task.joint_names):
            differences.append(f'joint names/order are {list(self.joint_names)}, '
                               f'expected {list(task.joint_names)}')
        task_layout = tuple((name, int(size)) for name, size in task.obs_layout)
        if self.obs_layout != task_layout:
            differences.append(f'observation layout is {list(self.obs_layout)}, '
                               f'expected {list(task_layout)}')
        for which, ours, theirs in (('low', self.action_low, task.action_low),
                                    ('high', self.action_high, task.action_high)):
            if not np.array_equal(ours, np.asarray(theirs, np.float64)):
                differences.append(f'action_{which} is {ours.tolist()}, '
                                   f'expected {np.asarray(theirs).tolist()}')
        task_interface = _interface_of(task)
        if task_interface is not None and self.interface != task_interface:
            differences.append(f'interface is {self.interface!r}, expected {task_interface!r}')
        if differences:
            raise BundleMismatch(f'policy bundle does not match task {task.name!r}: '
                                 + '; '.join(differences))

    # -- bytes and files -----------------------------------------------------------------------

    def metadata(self) -> dict[str, str]:
        """Return the metadata strings the bundle's file holds, its content hash included."""
        metadata, tensors = self._content()
        metadata['content_hash'] = _digest(metadata, tensors)
        return metadata

    def to_bytes(self) -> bytes:
        return safetensors.numpy.save(self._content()[1], metadata=self.metadata())

    @classmethod
    def from_bytes(cls, data: bytes, max_bytes: int = MAX_BUNDLE_BYTES) -> 'PolicyBundle':
        """Parse and fully validate untrusted bytes; raise BundleError on anything wrong."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise BundleError(f'policy bundle must be bytes, got {type(data).__name__}')
        data = bytes(data)
        if len(data) > max_bytes:
            raise BundleError(f'policy bundle is {len(data)} bytes, more than the limit of '
                              f'{max_bytes}')
        try:
            tensors = safetensors.numpy.load(data)
            header_size = int.from_bytes(data[:8], 'little')
            metadata = json.loads(data[8:8 + header_size]).get('__metadata__') or {}
        except Exception as exc:  # the safetensors parser's errors, on untrusted input
            raise BundleError(f'not a valid safetensors policy bundle ({len(data)} bytes): '
                              f'{exc}') from exc
        bundle = cls(**_fields_from_metadata(metadata), **_fields_from_tensors(tensors))
        if metadata['content_hash'] != bundle.content_hash:
            raise BundleError('policy bundle content hash does not match its contents '
                              '(corrupted or tampered with)')
        return bundle

    def save(self, path: str | os.PathLike) -> None:
        """Write the bundle atomically (temporary file, then rename)."""
        write_bytes_atomic(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike, max_bytes: int = MAX_BUNDLE_BYTES) -> 'PolicyBundle':
        size = os.path.getsize(path)
        if size > max_bytes:
            raise BundleError(f'policy bundle {path} is {size} bytes, more than the limit of '
                              f'{max_bytes}')
        with open(path, 'rb') as file:
            return cls.from_bytes(file.read(max_bytes + 1), max_bytes)

    # -- internals -----------------------------------------------------------------------------

    def _content(self) -> tuple[dict[str, str], dict[str, np.ndarray]]:
        """Metadata (without the hash) and tensors, as stored in the file."""
        metadata = {
            'format': FORMAT, 'format_version': self.format_version, 'task': self.task,
            'interface': self.interface, 'policy_version': str(self.policy_version),
            'update_step': str(self.update_step),
            'joint_names': json.dumps(list(self.joint_names)),
            'obs_layout': json.dumps([list(entry) for entry in self.obs_layout]),
            'action_low': json.dumps(self.action_low.tolist()),
            'action_high': json.dumps(self.action_high.tolist()),
            'hidden_sizes': json.dumps(list(self.hidden_sizes)),
        }
        if self.format_version != '1':
            metadata.update(
                control_period=json.dumps(self.control_period),
                gains=json.dumps(None if self.gains is None else
                                 {'kp': list(self.gains[0]), 'kd': list(self.gains[1])}),
                task_file=self.task_file, task_file_dir=self.task_file_dir, urdf=self.urdf)
        if self.format_version == '3':
            metadata['task_package'] = json.dumps(self.task_package._asdict())
        tensors = {_ACTOR_PREFIX + name: tensor for name, tensor in self.actor_state.items()}
        if self.obs_mean is not None:
            tensors['obs_mean'], tensors['obs_std'] = self.obs_mean, self.obs_std
        return metadata, tensors

    def _normalise_and_validate(self) -> None:
        if not isinstance(self.task, str) or not self.task:
            raise BundleError('policy bundle: task must be a non-empty string')
        self.joint_names = tuple(self.joint_names)
        if (not self.joint_names or len(set(self.joint_names)) != len(self.joint_names)
                or not all(isinstance(name, str) and name for name in self.joint_names)):
            raise BundleError(f'policy bundle: joint_names must be distinct non-empty strings, '
                              f'got {list(self.joint_names)}')
        self.obs_layout = tuple(_layout_entry(entry) for entry in self.obs_layout)
        field_names = [name for name, _ in self.obs_layout]
        if not field_names or len(set(field_names)) != len(field_names):
            raise BundleError('policy bundle: obs_layout must be a non-empty list of distinct '
                              'fields')
        scaler = ActionScaler(self.action_low, self.action_high)  # ValueError if unusable
        if scaler.act_dim != self.act_dim:
            raise BundleError(f'policy bundle: {scaler.act_dim} action limits for '
                              f'{self.act_dim} joints')
        self.action_low, self.action_high = scaler.low, scaler.high
        self.hidden_sizes = tuple(_count(size, 'hidden size', minimum=1)
                                  for size in self.hidden_sizes)
        if not self.hidden_sizes:
            raise BundleError('policy bundle: hidden_sizes is empty')
        self.policy_version = _count(self.policy_version, 'policy_version')
        self.update_step = _count(self.update_step, 'update_step')
        self.interface = ControlInterface(self.interface).value
        self._validate_deployment_fields()
        self.actor_state = {name: _array_copy(tensor) for name, tensor in self.actor_state.items()}
        _check_actor_state(self.actor_state, self.obs_dim, self.act_dim, self.hidden_sizes)
        self.obs_mean, self.obs_std = checked_normaliser(self.obs_mean, self.obs_std,
                                                         self.obs_dim)

    def _validate_deployment_fields(self) -> None:
        self._validate_task_package()
        if self.format_version not in _METADATA_KEYS:
            raise BundleError(f'policy bundle: unknown format version {self.format_version!r}')
        if self.control_period is not None:
            if (isinstance(self.control_period, bool)
                    or not isinstance(self.control_period, numbers.Real)
                    or not 0 < self.control_period < float('inf')):
                raise BundleError(f'policy bundle: control_period must be > 0 s, got '
                                  f'{self.control_period!r}')
            self.control_period = float(self.control_period)
        if self.gains is not None:
            try:
                kp, kd = (tuple(float(g) for g in gains) for gains in self.gains)
            except (TypeError, ValueError):
                raise BundleError('policy bundle: gains must be (kp, kd) lists') from None
            if len(kp) != self.act_dim or len(kd) != self.act_dim or not all(
                    0 <= g < float('inf') for g in kp + kd):
                raise BundleError(f'policy bundle: gains need {self.act_dim} finite values >= 0 '
                                  'each for kp and kd')
            self.gains = (kp, kd)
        for name in ('task_file', 'task_file_dir', 'urdf'):
            if not isinstance(getattr(self, name), str):
                raise BundleError(f'policy bundle: {name} must be a string')
        if self.format_version == '1' and (self.control_period is not None or self.gains
                                           or self.task_file or self.urdf):
            raise BundleError('policy bundle: format version 1 has no deployment fields')

    def _validate_task_package(self) -> None:
        """Check ``task_package`` and the format version that must hold it (3, and only 3)."""
        if self.task_package is not None:
            if (not isinstance(self.task_package, (tuple, list)) or len(self.task_package) != 2
                    or not all(isinstance(part, str) and part for part in self.task_package)):
                raise BundleError(f'policy bundle: task_package must be (name, version), '
                                  f'non-empty strings, got {self.task_package!r}')
            self.task_package = TaskPackage(*self.task_package)
        if self.format_version is None:
            self.format_version = '2' if self.task_package is None else '3'
        if (self.format_version == '3') != (self.task_package is not None):
            raise BundleError('policy bundle: format version 3 holds a task_package, and only '
                              f'it does (format version {self.format_version!r}, task_package '
                              f'{self.task_package!r})')


def deployment_fields(task) -> dict:
    """
    Return the bundle fields a deployment of ``task`` must match.

    The control period, gains, the task file and URDF texts for a task from a task file, and
    the providing distribution for a task of another package.
    """
    period = getattr(task, 'control_dt', None)  # None: a task-like object without one
    fields = {'control_period': None if period is None else float(period)}
    if getattr(task, 'gains', None) is not None:
        fields['gains'] = tuple(tuple(float(g) for g in gains) for gains in task.gains)
    config = getattr(task, 'config', None)
    if config is not None:
        fields.update(task_file=config.source_text, task_file_dir=str(config.source_dir),
                      urdf=config.urdf_text)
    if getattr(task, 'package', None) is not None:
        fields['task_package'] = task.package
    return fields


def controller_interface(command_topic: str) -> str | None:
    """
    Return the interface a forward command controller's topic name says, or None.

    ``forward_position_controller/commands`` -> position; None when its name does not tell.
    """
    parts = [part for part in command_topic.split('/') if part]
    if len(parts) < 2 or parts[-1] != 'commands':
        return None
    found = set(_CONTROLLER_INTERFACE.findall(parts[-2]))
    return found.pop() if len(found) == 1 else None


def _interface_of(task) -> str | None:
    """Return the task's command interface, or None for a task-like object without one."""
    interface = getattr(task, 'interface', None)
    return None if interface is None else ControlInterface(interface).value


def _array_copy(tensor) -> np.ndarray:
    """Return a numpy copy of an array or a torch tensor (on any device), dtype kept."""
    if hasattr(tensor, 'detach'):  # a torch tensor, without importing torch here
        tensor = tensor.detach().cpu().numpy()
    return np.array(tensor, copy=True)


def _digest(metadata: dict[str, str], tensors: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256(json.dumps(metadata, sort_keys=True).encode())
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        # Format v1 names the dtype as torch does, so bundles written by torch keep their hash.
        digest.update(json.dumps([name, _TORCH_DTYPE_NAMES.get(array.dtype, str(array.dtype)),
                                  list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _count(value, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise BundleError(f'policy bundle: {what} must be an integer >= {minimum}, got {value!r}')
    return int(value)


def _layout_entry(entry) -> tuple[str, int]:
    if (not isinstance(entry, (tuple, list)) or len(entry) != 2
            or not isinstance(entry[0], str) or not entry[0]):
        raise BundleError(f'policy bundle: obs_layout entry {entry!r} is not (name, size)')
    return entry[0], _count(entry[1], f'size of observation field {entry[0]!r}', minimum=1)


def _check_actor_state(state: dict[str, np.ndarray], obs_dim: int, act_dim: int,
                       hidden_sizes: tuple[int, ...]) -> None:
    """Check the names and shapes are an Actor's of these sizes, float32, all finite."""
    if len(state) != 2 * (len(hidden_sizes) + 1):  # checked first: layers are cheap to fake
        raise BundleError(f'policy bundle: {len(state)} actor tensors for '
                          f'{len(hidden_sizes)} hidden layers')
    expected = actor_tensor_shapes(obs_dim, act_dim, hidden_sizes)
    if set(state) != set(expected):
        raise BundleError(f'policy bundle: actor tensors are {sorted(state)}, expected '
                          f'{sorted(expected)} for obs_dim={obs_dim}, act_dim={act_dim}, '
                          f'hidden_sizes={list(hidden_sizes)}')
    for name, shape in expected.items():
        tensor = state[name]
        if tensor.shape != shape or tensor.dtype != np.float32:
            raise BundleError(f'policy bundle: actor tensor {name!r} is {tensor.dtype} '
                              f'{tensor.shape}, expected float32 {shape}')
        if not np.isfinite(tensor).all():
            raise BundleError(f'policy bundle: actor tensor {name!r} has non-finite values')


def _fields_from_metadata(metadata: dict[str, str]) -> dict:
    """Return PolicyBundle keyword arguments from the metadata (checked by the constructor)."""
    version = metadata.get('format_version')
    if metadata.get('format') != FORMAT or version not in _METADATA_KEYS:
        raise BundleError(f'not a policy bundle of format {FORMAT} v1 to v{FORMAT_VERSION}: '
                          f'{metadata.get("format")!r} v{version!r}')
    keys = _METADATA_KEYS[version]
    missing, unknown = keys - set(metadata), set(metadata) - keys
    if missing or unknown:
        raise BundleError(f'policy bundle metadata: missing {sorted(missing)}, '
                          f'unexpected {sorted(unknown)}')
    fields = {'task': metadata['task'], 'interface': metadata['interface'],
              'format_version': version}
    if version != '1':
        fields.update(task_file=metadata['task_file'], task_file_dir=metadata['task_file_dir'],
                      urdf=metadata['urdf'])
        for key in ('control_period', 'gains'):
            try:
                value = json.loads(metadata[key])
            except json.JSONDecodeError as exc:
                raise BundleError(f'policy bundle metadata {key!r} is not JSON: {exc}') from exc
            if key == 'gains' and value is not None:
                if not isinstance(value, dict) or set(value) != {'kp', 'kd'}:
                    raise BundleError('policy bundle metadata gains must be {"kp", "kd"}')
                value = (value['kp'], value['kd'])
            fields[key] = value
    if version == '3':
        fields['task_package'] = _task_package(metadata['task_package'])
    for key in ('policy_version', 'update_step'):
        if not re.fullmatch(r'[0-9]{1,19}', metadata[key]):
            raise BundleError(f'policy bundle metadata {key!r} is not a count: '
                              f'{metadata[key]!r}')
        fields[key] = int(metadata[key])
    for key in ('joint_names', 'obs_layout', 'action_low', 'action_high', 'hidden_sizes'):
        try:
            fields[key] = json.loads(metadata[key])
        except json.JSONDecodeError as exc:
            raise BundleError(f'policy bundle metadata {key!r} is not JSON: {exc}') from exc
        if not isinstance(fields[key], list):
            raise BundleError(f'policy bundle metadata {key!r} is not a list')
    return fields


def _task_package(text: str) -> tuple[str, str]:
    """Return (name, version) from the ``task_package`` metadata (checked by the constructor)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(f'policy bundle metadata task_package is not JSON: {exc}') from exc
    if not isinstance(value, dict) or set(value) != {'name', 'version'}:
        raise BundleError('policy bundle metadata task_package must be {"name", "version"}')
    return value['name'], value['version']


def _fields_from_tensors(tensors: dict[str, np.ndarray]) -> dict:
    """Return PolicyBundle keyword arguments from the stored tensors."""
    actor_state = {name[len(_ACTOR_PREFIX):]: tensor for name, tensor in tensors.items()
                   if name.startswith(_ACTOR_PREFIX)}
    others = set(tensors) - {_ACTOR_PREFIX + name for name in actor_state}
    if not others <= {'obs_mean', 'obs_std'}:
        raise BundleError(f'policy bundle has unexpected tensors {sorted(others)}')
    normaliser = {name: tensors[name] for name in others}
    return {'actor_state': actor_state, **normaliser}

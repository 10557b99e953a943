"""
Training checkpoints: one directory per save, complete or absent (docs/architecture.md, Files).

``root/step_<total_updates:09d>/`` holds

- ``networks.safetensors``: the six networks, tensors named ``<network>.<parameter>``;
- ``optimizers.safetensors``: Adam moments and step counts, named ``<optimizer>.<index>.<field>``,
  with each optimiser's ``param_groups`` as JSON in the file's metadata;
- ``state.json``: the caller's counters, ``total_updates``, the noise generator state, the
  config, and the replay memory's counters and sampling generator;
- ``replay.npz`` (optional): the replay memory's transitions.

The files are written and fsynced in a hidden temporary directory inside ``root`` that is then
renamed to its final name, so a crash leaves either a complete checkpoint or a hidden
directory that ``latest_checkpoint`` ignores; ``recover_checkpoints`` (run by every save, and
by the learner's resume) removes those leftovers, and puts back a checkpoint that a crash left
moved aside while replacing it. No pickle anywhere.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import safetensors
import safetensors.torch
import torch

from t3d_ros.bundle.atomic import fsync_dir, remove_temporary_files, write_bytes_atomic
from .replay import ReplayMemory
from .td3 import NETWORKS, TD3

FORMAT = 't3d_ros.checkpoint'
FORMAT_VERSION = 1
REQUIRED_FILES = ('networks.safetensors', 'optimizers.safetensors', 'state.json')
REPLAY_FILE = 'replay.npz'
OPTIMIZERS = ('actor_optimizer', 'critic_optimizer')
_CHECKPOINT_NAME = re.compile(r'step_([0-9]{9,})')
_PARTIAL = re.compile(r'\.partial_(step_[0-9]{9,})_[0-9a-f]+')
_STALE = re.compile(r'\.stale_\.partial_(step_[0-9]{9,})_[0-9a-f]+')
T = TypeVar('T')


class CheckpointError(ValueError):
    """A checkpoint that is incomplete, corrupt, or does not fit the agent or memory."""


def save_checkpoint(root: str | os.PathLike, agent: TD3, counters: dict,
                    memory: ReplayMemory | None = None, save_memory: bool = False,
                    keep: int = 3) -> Path:
    """
    Write a checkpoint of ``agent`` (and ``memory``) and keep only the newest ``keep``.

    ``counters`` (JSON-able, e.g. env steps and episodes) come back from ``load_checkpoint``.
    The memory's counters and sampling generator are saved whenever ``memory`` is given, its
    transitions only with ``save_memory``. Saving again at the same update count replaces
    the earlier checkpoint.
    """
    if keep < 1:
        raise ValueError('keep must be >= 1')
    if save_memory and memory is None:
        raise ValueError('save_memory needs a memory')
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    recover_checkpoints(root)
    final = root / f'step_{agent.total_updates:09d}'
    partial = root / f'.partial_{final.name}_{uuid.uuid4().hex}'
    partial.mkdir()
    stale = None  # an earlier checkpoint of the same update count, moved aside
    try:
        _write_contents(partial, agent, counters, memory, save_memory)
        fsync_dir(partial)
        if final.exists():
            stale = final.rename(root / f'.stale_{partial.name}')
        os.rename(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if stale is not None and not final.exists():
            stale.rename(final)
        raise
    fsync_dir(root)
    if stale is not None:
        shutil.rmtree(stale)
    for old in complete_checkpoints(root)[:-keep]:
        shutil.rmtree(old)
    return final


def load_checkpoint(path: str | os.PathLike, agent: TD3,
                    memory: ReplayMemory | None = None) -> dict:
    """
    Restore ``agent`` (and ``memory``) from the checkpoint at ``path``; return the counters.

    The memory gets its transitions back when the checkpoint has them, else only its
    sampling generator and ``total_added``. On CheckpointError (incomplete, corrupt, or
    made for other sizes) neither the agent nor the memory has changed.
    """
    path = Path(path)
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f'checkpoint {path} is incomplete: missing {missing}')
    state = _reading(path / 'state.json', _read_state)
    networks = _reading(path / 'networks.safetensors', safetensors.torch.load_file)
    param_groups, moments = _reading(path / 'optimizers.safetensors', _read_optimizers)
    previous = copy.deepcopy(agent.state_dict())
    _restoring(path, 'agent', lambda: agent.load_state_dict(
        _agent_state(state, networks, param_groups, moments)))
    try:
        if memory is not None and (path / REPLAY_FILE).is_file():
            _reading(path / REPLAY_FILE, memory.restore)
        elif memory is not None and state['memory'] is not None:
            _restoring(path, 'replay memory', lambda: memory.load_state_dict(state['memory']))
    except CheckpointError:
        agent.load_state_dict(previous)
        raise
    return state['counters']


def recover_checkpoints(root: str | os.PathLike) -> None:
    """
    Clear what a crash during ``save_checkpoint`` left under ``root``.

    Hidden partial directories and temporary files are deleted. A stale directory is the
    complete earlier checkpoint of a step that was being replaced: it goes back to its name if
    the replacement never arrived, else it is deleted. Call it where no save is under way.
    """
    root = Path(root)
    if not root.is_dir():
        return
    for entry in sorted(root.iterdir()):
        stale, partial = _STALE.fullmatch(entry.name), _PARTIAL.fullmatch(entry.name)
        if stale and not (root / stale[1]).exists() and _is_complete(entry):
            entry.rename(root / stale[1])
        elif (stale or partial) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
    remove_temporary_files(root)
    fsync_dir(root)


def _is_complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in REQUIRED_FILES)


def complete_checkpoints(root: str | os.PathLike) -> list[Path]:
    """Complete checkpoint directories under ``root``, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = _CHECKPOINT_NAME.fullmatch(entry.name)
        if match and _is_complete(entry):
            found.append((int(match[1]), entry))
    return [entry for _, entry in sorted(found)]


def latest_checkpoint(root: str | os.PathLike) -> Path | None:
    """Return the newest complete checkpoint under ``root``, or None."""
    checkpoints = complete_checkpoints(root)
    return checkpoints[-1] if checkpoints else None


def _write_contents(directory: Path, agent: TD3, counters: dict,
                    memory: ReplayMemory | None, save_memory: bool) -> None:
    agent_state = agent.state_dict()
    networks = {f'{network}.{name}': tensor.cpu()
                for network in NETWORKS for name, tensor in agent_state[network].items()}
    optimizers = {f'{optimizer}.{index}.{field}': value.cpu()
                  for optimizer in OPTIMIZERS
                  for index, fields in agent_state[optimizer]['state'].items()
                  for field, value in fields.items()}
    param_groups = {optimizer: json.dumps(agent_state[optimizer]['param_groups'])
                    for optimizer in OPTIMIZERS}
    state = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'counters': counters,
             'total_updates': agent.total_updates,
             'noise_generator': agent_state['noise_generator'].numpy().tobytes().hex(),
             'config': agent.config.to_dict(),
             'memory': None if memory is None else memory.state_dict()}
    write_bytes_atomic(directory / 'networks.safetensors', safetensors.torch.save(networks))
    write_bytes_atomic(directory / 'optimizers.safetensors',
                       safetensors.torch.save(optimizers, metadata=param_groups))
    write_bytes_atomic(directory / 'state.json', json.dumps(state, indent=1).encode())
    if save_memory:
        memory.save(directory / REPLAY_FILE)


def _reading(file: Path, read: Callable[[Path], T]) -> T:
    """``read(file)``, any error turned into a CheckpointError that names the file."""
    try:
        return read(file)
    except Exception as exc:  # whatever a damaged file makes a parser raise
        raise CheckpointError(f'cannot read checkpoint file {file}: '
                              f'{type(exc).__name__}: {exc}') from exc


def _restoring(path: Path, what: str, restore: Callable[[], None]) -> None:
    try:
        restore()
    except Exception as exc:
        raise CheckpointError(f'checkpoint {path} does not fit this {what}: {exc}') from exc


def _read_state(file: Path) -> dict:
    state = json.loads(file.read_text())
    if not isinstance(state, dict) or (state.get('format'), state.get('format_version')) != (
            FORMAT, FORMAT_VERSION):
        raise ValueError(f'not a {FORMAT} v{FORMAT_VERSION} state file')
    missing = {'counters', 'total_updates', 'noise_generator', 'memory'} - set(state)
    if missing:
        raise ValueError(f'missing {sorted(missing)}')
    return state


def _read_optimizers(file: Path) -> tuple[dict[str, list[dict]], dict[str, torch.Tensor]]:
    """Each optimiser's param groups (from the metadata) and all moment tensors."""
    with safetensors.safe_open(file, framework='pt') as opened:
        metadata = opened.metadata() or {}
        tensors = {key: opened.get_tensor(key) for key in opened.keys()}
    return {optimizer: json.loads(metadata[optimizer]) for optimizer in OPTIMIZERS}, tensors


def _agent_state(state: dict, networks: dict[str, torch.Tensor],
                 param_groups: dict[str, list[dict]], moments: dict[str, torch.Tensor]) -> dict:
    """``TD3.state_dict()`` reassembled from the checkpoint's files."""
    return {**{network: _entries(networks, network) for network in NETWORKS},
            **{optimizer: _optimizer_state(_entries(moments, optimizer), param_groups[optimizer])
               for optimizer in OPTIMIZERS},
            'total_updates': state['total_updates'],
            'noise_generator': _bytes_tensor(state['noise_generator'])}


def _entries(tensors: dict[str, torch.Tensor], owner: str) -> dict[str, torch.Tensor]:
    """Return the tensors named ``<owner>.<key>``, keyed by ``<key>``."""
    prefix = owner + '.'
    return {name[len(prefix):]: tensor for name, tensor in tensors.items()
            if name.startswith(prefix)}


def _optimizer_state(tensors: dict[str, torch.Tensor], param_groups: list[dict]) -> dict:
    """Return a torch optimiser state dict: tensors named ``<index>.<field>``, param groups."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        index, field = key.split('.', 1)
        state.setdefault(int(index), {})[field] = tensor
    # JSON turned tuples (Adam's betas) into lists.
    groups = [{key: tuple(value) if isinstance(value, list) and key != 'params' else value
               for key, value in group.items()} for group in param_groups]
    return {'state': state, 'param_groups': groups}


def _bytes_tensor(hex_string: str) -> torch.Tensor:
    return torch.frombuffer(bytearray.fromhex(hex_string), dtype=torch.uint8)

"""
Replay memory.

A preallocated float32 ring buffer with its own sampling generator, one row per transition, in
one array in host memory (``ReplayMemory``) or in one tensor on the learner's device
(``DeviceReplayMemory``).
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import NamedTuple

import numpy as np
import torch

from t3d_ros.bundle.atomic import write_atomic

_FIELDS = ('obs', 'action', 'reward', 'next_obs', 'terminated')


class Batch(NamedTuple):
    """A minibatch of transitions as float32 tensors; actions are normalised to [-1, 1]."""

    obs: torch.Tensor
    """(B, obs_dim)"""
    action: torch.Tensor
    """(B, act_dim)"""
    reward: torch.Tensor
    """(B,)"""
    next_obs: torch.Tensor
    """(B, obs_dim)"""
    terminated: torch.Tensor
    """(B,) 1.0 where the episode ended for good; truncated episodes carry 0.0 and bootstrap."""


class ReplayMemory:
    """
    Fixed-capacity FIFO memory of transitions; the newest overwrite the oldest.

    Memory use is fixed at construction: ``capacity * (2 * obs_dim + act_dim + 2) * 4`` bytes,
    one ``storage`` array whose rows are transitions. The field attributes (``obs``, ``reward``,
    ...) are column views of it, and so are the fields of a sampled batch: one gather of whole
    rows draws it, not one per field.
    """

    def __init__(self, obs_dim: int, act_dim: int, capacity: int, seed: int = 0):
        self._layout(obs_dim, act_dim, capacity)
        self.storage = np.zeros((capacity, self._width), np.float32)
        """Each transition is a row, all fields side by side: one gather draws a batch."""
        self.rng = np.random.default_rng(seed)
        self.cursor = 0
        """Row the next transition goes to."""
        self.size = 0
        self.total_added = 0
        """Transitions ever added, including those since overwritten."""

    def _layout(self, obs_dim: int, act_dim: int, capacity: int) -> None:
        """Set the dimensions and each field's columns in a row of ``storage``."""
        if min(obs_dim, act_dim, capacity) < 1:
            raise ValueError('obs_dim, act_dim and capacity must be >= 1')
        self.obs_dim, self.act_dim = obs_dim, act_dim
        widths = dict(zip(_FIELDS, (obs_dim, act_dim, 1, obs_dim, 1)))
        starts = np.cumsum([0, *widths.values()])
        self._width = int(starts[-1])
        self._widths = list(widths.values())
        self._columns = {name: slice(start, start + width)
                         for (name, width), start in zip(widths.items(), starts)}

    def _field(self, rows, name: str):
        """Return field ``name`` of ``rows`` (of ``storage``, or of a batch drawn from it)."""
        column = rows[:, self._columns[name]]
        return column if name in ('obs', 'action', 'next_obs') else column[:, 0]

    def _batch(self, picked: torch.Tensor) -> Batch:
        """Return the batch whose transitions are the rows ``picked`` (views, one split)."""
        obs, action, reward, next_obs, terminated = picked.split(self._widths, 1)
        return Batch(obs, action, reward[:, 0], next_obs, terminated[:, 0])

    obs = property(lambda self: self._field(self.storage, 'obs'))
    action = property(lambda self: self._field(self.storage, 'action'))
    reward = property(lambda self: self._field(self.storage, 'reward'))
    next_obs = property(lambda self: self._field(self.storage, 'next_obs'))
    terminated = property(lambda self: self._field(self.storage, 'terminated'))

    @property
    def capacity(self) -> int:
        return len(self.storage)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition (action normalised)."""
        self.add_batch(np.asarray(obs)[None], np.asarray(action)[None], [reward],
                       np.asarray(next_obs)[None], [terminated])

    def add_batch(self, obs, action, reward, next_obs, terminated) -> None:
        """Store B transitions, as B calls of ``add`` would (only the newest ``capacity`` stay)."""
        columns = [np.asarray(column, dtype=np.float32)
                   for column in (obs, action, reward, next_obs, terminated)]
        count = len(columns[2])
        widths = (self.obs_dim, self.act_dim, None, self.obs_dim, None)
        for name, column, width in zip(_FIELDS, columns, widths):
            expected = (count,) if width is None else (count, width)
            if column.shape != expected:
                raise ValueError(f'{name} has shape {column.shape}, expected {expected}')
        kept = min(count, self.capacity)
        rows = (self.cursor + count - kept + np.arange(kept)) % self.capacity
        self._write(rows, [column[count - kept:] for column in columns])
        self.cursor = (self.cursor + count) % self.capacity
        self.size = min(self.size + count, self.capacity)
        self.total_added += count

    def _write(self, rows: np.ndarray, columns: list[np.ndarray]) -> None:
        for name, column in zip(_FIELDS, columns):
            getattr(self, name)[rows] = column

    def sample(self, batch_size: int, device: str | torch.device = 'cpu') -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError('cannot sample from an empty replay memory')
        rows = self.rng.integers(0, self.size, size=batch_size)
        picked = torch.from_numpy(self.storage.take(rows, axis=0)).to(device)
        return self._batch(picked)

    def state_dict(self) -> dict:
        """Return the sampling generator and counters, JSON-able (not the transitions)."""
        return {'obs_dim': self.obs_dim, 'act_dim': self.act_dim, 'capacity': self.capacity,
                'cursor': self.cursor, 'size': self.size, 'total_added': self.total_added,
                'rng_state': self._rng_state()}

    def _rng_state(self):
        return self.rng.bit_generator.state

    def load_state_dict(self, state: dict) -> None:
        """
        Restore the sampling generator and ``total_added``.

        ``cursor`` and the length describe the stored transitions, so only ``restore`` (which
        brings the transitions back too) sets them.
        """
        self._check_layout(state)
        self._set_rng_state(state['rng_state'])
        self.total_added = int(state['total_added'])

    def _set_rng_state(self, rng_state) -> None:
        if isinstance(rng_state, str):  # a DeviceReplayMemory's torch generator: reseed
            self.rng = np.random.default_rng(_seed_of(rng_state))
        else:
            self.rng.bit_generator.state = rng_state

    def copy(self, with_transitions: bool = True) -> 'ReplayMemory':
        """
        Return a copy with this memory's counters, sampling generator and stored transitions.

        The transitions only if ``with_transitions`` (else all zeros): what a checkpoint saves
        while inserts go on. A device memory copies on its device (fast); ``save`` moves it.
        """
        duplicate = self._empty_like()
        duplicate.load_state_dict(self.state_dict())
        duplicate.size, duplicate.cursor = self.size, self.cursor
        if with_transitions:
            duplicate._write_all(self._stored(), self.size)
        return duplicate

    def _empty_like(self) -> 'ReplayMemory':
        return ReplayMemory(self.obs_dim, self.act_dim, self.capacity)

    def _stored(self) -> dict[str, np.ndarray]:
        """Return the stored rows of each field (views, not copies)."""
        return {name: getattr(self, name)[:self.size] for name in _FIELDS}

    def _write_all(self, arrays: dict[str, np.ndarray], size: int) -> None:
        """Rows 0..size-1 from ``arrays``, zeros after."""
        for name, array in arrays.items():
            getattr(self, name)[:size] = array
            getattr(self, name)[size:] = 0.0

    def save(self, path: str | os.PathLike) -> None:
        """Write transitions, counters and generator state to a .npz file, atomically."""
        arrays = {name: np.asarray(array) for name, array in self._host_arrays().items()}
        write_atomic(path, lambda file: np.savez(
            file, state=np.array(json.dumps(self.state_dict())), **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> 'ReplayMemory':
        """Return a memory equal to the one saved at ``path``: sampling continues identically."""
        with np.load(path, allow_pickle=False) as data:
            state = json.loads(str(data['state']))
        memory = cls(state['obs_dim'], state['act_dim'], state['capacity'])
        memory.restore(path)
        return memory

    def _host_arrays(self) -> dict[str, np.ndarray]:
        return self._stored()

    def restore(self, path: str | os.PathLike) -> None:
        """
        Replace this memory's transitions, counters and generator with those saved at ``path``.

        Capacity and dimensions must match. Everything is read and checked before anything
        changes, so a bad file leaves the memory as it was.
        """
        with np.load(path, allow_pickle=False) as data:
            state = json.loads(str(data['state']))
            arrays = {name: data[name] for name in _FIELDS}
        self._check_layout(state)
        size, cursor = int(state['size']), int(state['cursor'])
        if not (0 <= size <= self.capacity and 0 <= cursor < self.capacity):
            raise ValueError(f'{path}: size {size} or cursor {cursor} out of range')
        for name, array in arrays.items():
            expected = (size, *getattr(self, name).shape[1:])
            if array.shape != expected or array.dtype != np.float32:
                raise ValueError(f'{path}: {name} is {array.dtype} {array.shape}, '
                                 f'expected float32 {expected}')
        self.load_state_dict(state)
        self._write_all(arrays, size)
        self.size, self.cursor = size, cursor

    def _check_layout(self, state: dict) -> None:
        layout = (self.obs_dim, self.act_dim, self.capacity)
        saved = (state['obs_dim'], state['act_dim'], state['capacity'])
        if saved != layout:
            raise ValueError(f'replay state is for (obs_dim, act_dim, capacity) = {saved}, '
                             f'this memory has {layout}')


class DeviceReplayMemory(ReplayMemory):
    """
    The replay memory as one tensor on the learner's device (a GPU), sampled there.

    ``storage`` is a ``(capacity, 2 * obs_dim + act_dim + 2)`` float32 tensor. ``add_batch``
    copies a message batch in (one host-to-device copy of the batch); ``sample`` draws the row
    indices with a torch generator on the device and gathers the rows with one
    ``index_select``, so no batch ever crosses from host memory. Files and state dicts are
    those of ``ReplayMemory``, except that the sampling generator's state is torch's (a
    memory given the other kind of generator state reseeds from it).
    """

    def __init__(self, obs_dim: int, act_dim: int, capacity: int, seed: int = 0,
                 device: str | torch.device = 'cpu'):
        self._layout(obs_dim, act_dim, capacity)
        self.device = torch.device(device)
        self.storage = torch.zeros((capacity, self._width), dtype=torch.float32,
                                   device=self.device)
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.cursor = 0
        self.size = 0
        self.total_added = 0

    def _write(self, rows: np.ndarray, columns: list[np.ndarray]) -> None:
        packed = np.concatenate([column.reshape(len(rows), -1) for column in columns], axis=1)
        self.storage.index_copy_(0, torch.from_numpy(rows).to(self.device),
                                 torch.from_numpy(packed).to(self.device))

    def sample(self, batch_size: int, device: str | torch.device | None = None) -> Batch:
        """
        Draw ``batch_size`` transitions uniformly with replacement, on this memory's device.

        ``device``, if given, must be that device.
        """
        if device is not None and torch.device(device) != self.device:
            raise ValueError(f'this memory samples on {self.device}, not on {device}')
        if self.size == 0:
            raise ValueError('cannot sample from an empty replay memory')
        rows = torch.randint(0, self.size, (batch_size,), generator=self.generator,
                             device=self.device)
        picked = self.storage.index_select(0, rows)
        return self._batch(picked)

    def _rng_state(self) -> str:
        return self.generator.get_state().numpy().tobytes().hex()

    def _set_rng_state(self, rng_state) -> None:
        if isinstance(rng_state, str):
            self.generator.set_state(torch.frombuffer(bytearray.fromhex(rng_state),
                                                      dtype=torch.uint8))
        else:  # a host memory's numpy generator: reseed
            self.generator.manual_seed(_seed_of(json.dumps(rng_state, sort_keys=True)))

    def _empty_like(self) -> 'DeviceReplayMemory':
        return DeviceReplayMemory(self.obs_dim, self.act_dim, self.capacity, device=self.device)

    def _host_arrays(self) -> dict[str, np.ndarray]:
        return {name: tensor.cpu().numpy() for name, tensor in self._stored().items()}

    def _write_all(self, arrays: dict, size: int) -> None:
        self.storage.zero_()
        for name, array in arrays.items():
            self._field(self.storage[:size], name).copy_(torch.as_tensor(array))


def replay_memory(obs_dim: int, act_dim: int, capacity: int, seed: int,
                  device: str | torch.device) -> ReplayMemory:
    """
    Return the memory for a learner on ``device``.

    In host memory for the CPU, else in device memory, so that sampling never copies a batch from
    the host.
    """
    if torch.device(device).type == 'cpu':
        return ReplayMemory(obs_dim, act_dim, capacity, seed=seed)
    return DeviceReplayMemory(obs_dim, act_dim, capacity, seed=seed, device=device)


def _seed_of(text: str) -> int:
    """Return a 63-bit seed derived from a generator state of the other kind."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], 'little') >> 1

"""Replay memory: a preallocated float32 ring buffer with its own sampling generator."""
from __future__ import annotations

import json
import os
from typing import NamedTuple

import numpy as np
import torch

from .atomic import write_atomic

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
    """Fixed-capacity FIFO memory of transitions; the newest overwrite the oldest.

    Memory use is fixed at construction: ``capacity * (2 * obs_dim + act_dim + 2) * 4`` bytes.
    """

    def __init__(self, obs_dim: int, act_dim: int, capacity: int, seed: int = 0):
        if min(obs_dim, act_dim, capacity) < 1:
            raise ValueError('obs_dim, act_dim and capacity must be >= 1')
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.action = np.zeros((capacity, act_dim), np.float32)
        self.reward = np.zeros(capacity, np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.terminated = np.zeros(capacity, np.float32)
        self.rng = np.random.default_rng(seed)
        self.cursor = 0
        """Row the next transition goes to."""
        self.size = 0
        self.total_added = 0
        """Transitions ever added, including those since overwritten."""

    @property
    def capacity(self) -> int:
        return len(self.reward)

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
        for name, column in zip(_FIELDS, columns):
            expected = (count, *getattr(self, name).shape[1:])
            if column.shape != expected:
                raise ValueError(f'{name} has shape {column.shape}, expected {expected}')
        kept = min(count, self.capacity)
        rows = (self.cursor + count - kept + np.arange(kept)) % self.capacity
        for name, column in zip(_FIELDS, columns):
            getattr(self, name)[rows] = column[count - kept:]
        self.cursor = (self.cursor + count) % self.capacity
        self.size = min(self.size + count, self.capacity)
        self.total_added += count

    def sample(self, batch_size: int, device: str | torch.device = 'cpu') -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError('cannot sample from an empty replay memory')
        rows = self.rng.integers(0, self.size, size=batch_size)
        return Batch(*(torch.from_numpy(getattr(self, name)[rows]).to(device) for name in _FIELDS))

    def state_dict(self) -> dict:
        """Sampling generator and counters, JSON-able (the transitions themselves are not)."""
        return {'obs_dim': self.obs_dim, 'act_dim': self.act_dim, 'capacity': self.capacity,
                'cursor': self.cursor, 'size': self.size, 'total_added': self.total_added,
                'rng_state': self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        """Restore the sampling generator and ``total_added``.

        ``cursor`` and the length describe the stored transitions, so only ``restore`` (which
        brings the transitions back too) sets them.
        """
        self._check_layout(state)
        self.rng.bit_generator.state = state['rng_state']
        self.total_added = int(state['total_added'])

    def save(self, path: str | os.PathLike) -> None:
        """Write transitions, counters and generator state to a .npz file, atomically."""
        arrays = {name: getattr(self, name)[:self.size] for name in _FIELDS}
        write_atomic(path, lambda file: np.savez(
            file, state=np.array(json.dumps(self.state_dict())), **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> 'ReplayMemory':
        """A memory equal to the one saved at ``path``: sampling continues identically."""
        with np.load(path, allow_pickle=False) as data:
            state = json.loads(str(data['state']))
        memory = cls(state['obs_dim'], state['act_dim'], state['capacity'])
        memory.restore(path)
        return memory

    def restore(self, path: str | os.PathLike) -> None:
        """Replace this memory's transitions, counters and generator with those saved at ``path``.

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
        for name, array in arrays.items():
            getattr(self, name)[:size] = array
            getattr(self, name)[size:] = 0.0
        self.size, self.cursor = size, cursor

    def _check_layout(self, state: dict) -> None:
        layout = (self.obs_dim, self.act_dim, self.capacity)
        saved = (state['obs_dim'], state['act_dim'], state['capacity'])
        if saved != layout:
            raise ValueError(f'replay state is for (obs_dim, act_dim, capacity) = {saved}, '
                             f'this memory has {layout}')

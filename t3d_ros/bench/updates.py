"""
Learner updates/s.

Our TD3 update against the plain reference (and Stable-Baselines3's TD3 where it is installed), on
the same batches, in alternating rounds.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.reference import ReferenceTD3
from t3d_ros.td3.replay import ReplayMemory
from t3d_ros.td3.td3 import TD3

from .common import TASK


def bench_updates(updates: int = 400, hidden_sizes=(256, 256), batch_size: int = 256,
                  memory_size: int = 20_000, rounds: int = 4, task: str = TASK) -> dict:
    """Updates/s of our TD3 update and of the reference, on batches from one replay memory."""
    task = make_task(task)
    config = TD3Config(hidden_sizes=tuple(hidden_sizes), batch_size=batch_size)
    memory = ReplayMemory(task.obs_dim, task.num_joints, memory_size)
    rng = np.random.default_rng(0)
    n = memory_size
    memory.add_batch(rng.normal(size=(n, task.obs_dim)), rng.uniform(-1, 1, (n, task.num_joints)),
                     rng.normal(size=n), rng.normal(size=(n, task.obs_dim)), rng.random(n) < 0.02)
    ours = TD3(task.obs_dim, task.action_low, task.action_high, config)
    reference = ReferenceTD3(task.obs_dim, task.num_joints, config)
    rates = alternating_rates({
        'ours': lambda: ours.update(memory.sample(batch_size)),
        'reference': lambda: reference.train(memory.sample(batch_size)),
    }, updates, rounds)
    return {'updates_per_s': rates['ours'], 'reference_updates_per_s': rates['reference'],
            'hidden_sizes': list(hidden_sizes), 'batch_size': batch_size, 'updates': updates}


def alternating_rates(steps: dict[str, Callable[[], object]], count: int,
                      rounds: int) -> dict[str, float]:
    """
    Measure calls per second of each step, alternating between them.

    ``count`` calls each, in ``rounds`` alternating rounds (after a few warm-up calls each).
    """
    elapsed = dict.fromkeys(steps, 0.0)
    for step in steps.values():
        for _ in range(max(2, count // 20)):
            step()
    per_round = [count // rounds + (i < count % rounds) for i in range(rounds)]
    for calls in per_round:
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls):
                step()
            elapsed[name] += time.perf_counter() - start
    return {name: count / seconds for name, seconds in elapsed.items()}

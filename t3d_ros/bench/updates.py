"""
Learner updates/s.

Our TD3 update (the fast backend) against the plain backend (and Stable-Baselines3's TD3 where
it is installed), on batches of the same memory, in alternating rounds.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.replay import ReplayMemory
from t3d_ros.td3.td3 import TD3

from . import sb3
from .common import TASK


def bench_updates(updates: int = 400, hidden_sizes=(256, 256), batch_size: int = 256,
                  memory_size: int = 20_000, rounds: int = 4, task: str = TASK) -> dict:
    """
    Measure updates/s of the fast and the plain backend and (if installed) SB3's TD3.

    All on batches from one replay memory, in alternating rounds.
    """
    task = make_task(task)
    config = TD3Config(hidden_sizes=tuple(hidden_sizes), batch_size=batch_size)
    memory = ReplayMemory(task.obs_dim, task.num_joints, memory_size)
    rng = np.random.default_rng(0)
    n = memory_size
    memory.add_batch(rng.normal(size=(n, task.obs_dim)), rng.uniform(-1, 1, (n, task.num_joints)),
                     rng.normal(size=n), rng.normal(size=(n, task.obs_dim)), rng.random(n) < 0.02)
    ours = TD3(task.obs_dim, task.action_low, task.action_high, config.replace(backend='fast'))
    plain = TD3(task.obs_dim, task.action_low, task.action_high, config.replace(backend='plain'))
    steps = {'ours': (lambda: ours.update(memory.sample(batch_size)), 1),
             'reference': (lambda: plain.update(memory.sample(batch_size)), 1)}
    if sb3.installed():
        steps['sb3'] = (sb3.update_step(task.obs_dim, task.num_joints, config, memory.sample),
                        sb3.UPDATES_PER_CALL)
    rates = alternating_rates(steps, updates, rounds)
    return {'updates_per_s': rates['ours'], 'reference_updates_per_s': rates['reference'],
            **({'sb3_updates_per_s': rates['sb3']} if 'sb3' in rates else {'sb3': sb3.MISSING}),
            'hidden_sizes': list(hidden_sizes), 'batch_size': batch_size, 'updates': updates}


def alternating_rates(steps: dict[str, tuple[Callable[[], object], int]], count: int,
                      rounds: int) -> dict[str, float]:
    """
    Measure updates per second of each step, alternating between them.

    Each step is a call and the updates one call makes; about ``count`` updates each, in
    ``rounds`` alternating rounds (after a few warm-up calls each).
    """
    elapsed = dict.fromkeys(steps, 0.0)
    done = dict.fromkeys(steps, 0)
    for step, per_call in steps.values():
        for _ in range(max(2, count // 20 // per_call)):
            step()
    per_round = [count // rounds + (i < count % rounds) for i in range(rounds)]
    for updates in per_round:
        for name, (step, per_call) in steps.items():
            calls = max(1, round(updates / per_call))
            start = time.perf_counter()
            for _ in range(calls):
                step()
            elapsed[name] += time.perf_counter() - start
            done[name] += calls * per_call
    return {name: done[name] / seconds for name, seconds in elapsed.items()}

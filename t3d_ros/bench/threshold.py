"""
Wall-clock time to pendulum's return threshold.

Over ROS against the direct trainer, and (if installed) Stable-Baselines3's TD3 with the
same settings.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from t3d_ros.graph.bringup import train_graph
from t3d_ros.tasks import make_task

from . import sb3
from .common import THRESHOLD_TASK, BenchError


def bench_time_to_threshold(max_steps: int = 30_000, max_minutes: float = 15.0,
                            hidden_sizes=(64, 64), seeds: tuple[int, ...] = (0, 1, 2),
                            ros_actors: tuple[int, ...] = (1, 2)) -> dict:
    """
    Measure wall time to pendulum's return threshold, over ROS vs the direct trainer (and SB3).

    Training config (config/train.yaml + pendulum.yaml, ``hidden_sizes`` networks):
    `t3d-ros train` over ROS with each number of actors in ``ros_actors`` (learner, sims and
    actors as processes; the clock starts as they start) vs the direct trainer, and SB3, each
    in a process of its own timed from its start likewise (``*_training_s``: from the
    trainer's own start, after the imports).
    Every run stops when the mean return of the last 10 training episodes (all actors')
    reaches the threshold. SB3's TD3 runs with the same settings and stop rule, where it is
    installed. ``ros_actors=()`` leaves the ROS runs out (a quick run).

    Each seed runs every contender, one after the other, so that a change of load hits all of
    them alike; times and env steps are the median over ``seeds`` (a run that misses the
    threshold counts as slowest), each seed's values are in ``per_seed``. One seed's time to
    threshold varies by a factor of 1.5 between seeds, so one seed cannot rank two trainers.
    """
    runs = [_time_to_threshold(seed, max_steps, max_minutes, hidden_sizes, ros_actors)
            for seed in seeds]
    results = {'threshold': make_task(THRESHOLD_TASK).reward_threshold, 'max_steps': max_steps,
               'hidden_sizes': list(hidden_sizes), 'seeds': list(seeds)}
    for key, value in runs[0].items():
        numeric = value is None or (isinstance(value, (int, float))
                                    and not isinstance(value, bool))
        results[key] = median([run[key] for run in runs]) if numeric else value
    results['per_seed'] = runs
    return results


def median(values: list[float | None]) -> float | None:
    """Return the median of ``values``, None (a run that missed the threshold) ranked slowest."""
    ranked = sorted(values, key=lambda value: math.inf if value is None else value)
    middle = len(ranked) // 2
    if len(ranked) % 2:
        return ranked[middle]
    low, high = ranked[middle - 1], ranked[middle]
    return None if low is None or high is None else (low + high) / 2


def _time_to_threshold(seed: int, max_steps: int, max_minutes: float, hidden_sizes,
                       ros_actors: tuple[int, ...]) -> dict:
    """One seed of :func:`bench_time_to_threshold`: every contender's time and env steps."""
    from t3d_ros.graph.training import train_over_ros

    task = make_task(THRESHOLD_TASK)
    results: dict = {}
    for actors in ros_actors:
        with tempfile.TemporaryDirectory() as tmp:
            over_ros = train_over_ros(THRESHOLD_TASK, actors, [], seed, Path(tmp),
                                      _overrides(hidden_sizes), max_steps,
                                      target_return=task.reward_threshold,
                                      max_minutes=max_minutes)
        if over_ros.interrupted:
            raise KeyboardInterrupt
        if over_ros.failure:
            raise BenchError(over_ros.failure)
        reached = over_ros.time_to_target_s is not None
        name = 'ros' if actors == 1 else f'ros_{actors}_actors'
        results.update({f'{name}_s': over_ros.time_to_target_s,
                        f'{name}_env_steps': over_ros.env_steps if reached else None})
    contenders = ['direct', 'sb3'] if sb3.installed() else ['direct']
    for contender in contenders:
        results.update(_whole_process(contender, seed, max_steps, hidden_sizes,
                                      task.reward_threshold))
    if not sb3.installed():
        results['sb3'] = sb3.MISSING
    return results


def _overrides(hidden_sizes) -> dict:
    return {'learner': {'hidden_sizes': list(hidden_sizes), 'checkpoint_every': 0}}


CHILD = (
    'import json, sys, time\n'
    'import torch; torch.set_num_threads(1)\n'
    'from t3d_ros.bench.threshold import train_to_threshold\n'
    'print(json.dumps(train_to_threshold(*json.loads(sys.argv[1]))))')
"""A contender's whole process: Python's start, its imports (torch, SB3), then training."""


def _whole_process(contender: str, seed: int, max_steps: int, hidden_sizes,
                   threshold: float) -> dict:
    """
    Run ``contender`` ('direct' or 'sb3') in a process of its own, as a user's command would.

    Its time to threshold counts from the process's start, as over ROS (where the nodes'
    processes start inside the clock); ``<contender>_training_s`` is the part from the
    trainer's own start, what an in-process measurement sees.
    """
    started = time.monotonic()  # the system's monotonic clock: the child's too
    arguments = [contender, seed, max_steps, list(hidden_sizes), threshold]
    done = subprocess.run([sys.executable, '-c', CHILD, json.dumps(arguments)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f'{contender} exited with {done.returncode}: {done.stderr[-2000:]}')
    result = json.loads(done.stdout.splitlines()[-1])
    reached_at = result.pop('reached_at')
    result[f'{contender}_training_s'] = result[f'{contender}_s']
    result[f'{contender}_s'] = None if reached_at is None else reached_at - started
    return result


def train_to_threshold(contender: str, seed: int, max_steps: int, hidden_sizes,
                       threshold: float) -> dict:
    """
    Train ``contender`` ('direct' or 'sb3') on pendulum until ``threshold``, in this process.

    With the learner and actor nodes' parameters of `t3d-ros train` for ``seed``, so both
    learn with the very same settings as over ROS, and the same stop rule. ``reached_at``:
    the monotonic time the threshold was reached (None: never).
    """
    from t3d_ros.acting.core import ActorSettings
    from t3d_ros.training.direct import train_direct
    from t3d_ros.training.learner import learner_settings

    learner, _, actor = train_graph(THRESHOLD_TASK, 1, seed=seed,
                                    overrides=_overrides(hidden_sizes))
    config, options = learner_settings(learner.resolved_parameters())
    actor_settings = ActorSettings.from_parameters(actor.resolved_parameters())
    if contender == 'sb3':
        result = sb3.time_to_threshold(THRESHOLD_TASK, config, actor_settings.start_steps,
                                       actor_settings.exploration_noise, max_steps, threshold)
        to_threshold, total = result['sb3_s'], result['sb3_total_s']
    else:
        direct = train_direct(THRESHOLD_TASK, config, max_steps, options, actor_settings,
                              eval_every=max_steps, eval_episodes=1,
                              target_return=threshold, target_on_training_episodes=True)
        result = {'direct_s': direct.time_to_threshold_s,
                  'direct_env_steps': direct.steps_to_threshold}
        to_threshold, total = direct.time_to_threshold_s, direct.wall_time_s
    finished = time.monotonic()
    result['reached_at'] = None if to_threshold is None else finished - total + to_threshold
    return result

"""
Learning curve of the direct trainer next to Stable-Baselines3's TD3.

Same gymnasium env, same env step budget, same settings (config/train.yaml + the task's file),
same seed, same evaluation (``t3d_ros.training.evaluate``'s deterministic episodes every
``eval_every`` steps), started at the same time in two processes with one torch thread each,
so that both see the same machine load. Each side logs into its own run directory (episodes,
evaluations, its curve); both curves are drawn into one PNG next to them.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from t3d_ros.graph.bringup import train_graph
from t3d_ros.envs import ENV_IDS
from t3d_ros.training.run_dir import RunDirectory, plot_learning_curve, plot_runs, read_csv

from . import sb3
from .common import CURVE_TASK

LABELS = {'direct': 't3d_ros direct trainer', 'sb3': 'Stable-Baselines3 TD3'}
"""Each side's name in the figure."""


def bench_learning_curve(max_steps: int = 30_000, task_name: str = CURVE_TASK,
                         eval_every: int = 5000, eval_episodes: int = 10, seed: int = 0,
                         hidden_sizes: tuple[int, ...] | None = None,
                         run_dir: str | None = None) -> dict:
    """
    Train the direct trainer and SB3's TD3 side by side for ``max_steps`` env steps each.

    Returns, per side, its env steps, updates, wall time, the 1-minute load average at each
    evaluation and the evaluations (env steps, updates, seconds, mean and std of the returns);
    the run directories and the figure are under ``run_dir`` (default:
    runs/learning_curve-<task>-<date>-<time>). ``hidden_sizes`` overrides the networks' (a
    quick run). Without stable-baselines3 the direct trainer runs alone.
    """
    from t3d_ros.acting.core import ActorSettings
    from t3d_ros.training.learner import learner_settings

    root = Path(run_dir or Path('runs') / f'learning_curve-{task_name}-'
                f'{datetime.now():%Y%m%d-%H%M%S}')
    overrides = {'learner': {'checkpoint_every': 0}}
    if hidden_sizes is not None:
        overrides['learner']['hidden_sizes'] = list(hidden_sizes)
    learner, _, actor = train_graph(task_name, 1, seed=seed, overrides=overrides)
    config, options = learner_settings(learner.resolved_parameters())
    actor_settings = ActorSettings.from_parameters(actor.resolved_parameters())
    results: dict = {'task': task_name, 'env_id': ENV_IDS.get(task_name), 'max_steps': max_steps,
                     'eval_every': eval_every, 'eval_episodes': eval_episodes, 'seed': seed,
                     'hidden_sizes': list(config.hidden_sizes), 'run_dir': str(root)}
    sides = ['direct', 'sb3'] if sb3.installed() else ['direct']
    if 'sb3' not in sides:
        results['sb3'] = sb3.MISSING
    arguments = (task_name, config, options, actor_settings, max_steps, eval_every,
                 eval_episodes)
    # Spawned, not forked: each side starts its own torch and PyBullet, and the pool's exit
    # terminates both on every way out (Ctrl-C, SIGTERM, a failure).
    with multiprocessing.get_context('spawn').Pool(len(sides)) as pool:
        jobs = {side: pool.apply_async(_run_side, (side, str(root / side)) + arguments)
                for side in sides}
        for side, job in jobs.items():
            results[side] = dict(job.get(), evaluations=_evaluations(root / side))
    figure = root / 'learning_curve.png'
    plot_runs({LABELS[side]: root / side for side in sides},
              f'TD3 on {results["env_id"] or task_name}: {max_steps:,} env steps, seed {seed}',
              figure)
    results['figure'] = str(figure)
    return results


def _run_side(side: str, run_path: str, task_name: str, config, options, actor_settings,
              max_steps: int, eval_every: int, eval_episodes: int) -> dict:
    """Train one side (in a process of its own, one torch thread) and report how it went."""
    import torch

    from t3d_ros.training.direct import train_direct

    torch.set_num_threads(1)
    loads: list[float] = []

    def heard(env_steps: int, updates: int, mean_return: float) -> None:
        loads.append(os.getloadavg()[0])
        print(f'[learning_curve] {side}: {env_steps:,} env steps, {updates:,} updates, '
              f'evaluation {mean_return:.1f}, {time.monotonic() - start:.0f} s, '
              f'load {loads[-1]:.1f}', flush=True)

    start = time.monotonic()
    if side == 'direct':
        result = train_direct(task_name, config, max_steps, options, actor_settings, run_path,
                              eval_every=eval_every, eval_episodes=eval_episodes,
                              progress=lambda stats: heard(stats['env_steps'], stats['updates'],
                                                           stats['eval_mean_return']))
        done = {'env_steps': result.env_steps, 'updates': result.updates}
    else:
        run = RunDirectory(run_path)
        done = sb3.train(task_name, config, actor_settings.start_steps,
                         actor_settings.exploration_noise, max_steps, run, eval_every,
                         eval_episodes, lambda steps, updates, returns: heard(
                             steps, updates, float(np.mean(returns))))
        run.close()
        plot_learning_curve(run, f'SB3 TD3 on {task_name}')
    return {'env_steps': done['env_steps'], 'updates': done['updates'],
            'wall_s': round(time.monotonic() - start, 1), 'load_1min': loads}


def _evaluations(run_path: Path) -> list[dict]:
    """Return a run directory's evaluations: env steps, updates, seconds, returns' mean, std."""
    columns = read_csv(run_path / 'evaluations.csv')
    return [{'env_steps': int(steps), 'updates': int(updates), 'wall_s': float(seconds),
             'mean_return': float(mean), 'std_return': float(std)}
            for steps, updates, seconds, mean, std in zip(
                columns['env_steps'], columns['updates'], columns['wall_time_s'],
                columns['mean_return'], columns['std_return'])]

"""
A run directory.

Config used, metrics CSV, TensorBoard events, curve PNG, checkpoints, final policy bundle
(docs/architecture.md).
"""
from __future__ import annotations

import csv
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import yaml

from t3d_ros.bundle.atomic import write_bytes_atomic

EPISODE_FIELDS = ('wall_time_s', 'env_steps', 'updates', 'policy_version', 'actor_id',
                  'episode_return', 'episode_length', 'recent_updates_per_step')
"""``recent_updates_per_step``: the learner's update-to-data ratio over its last 1,000
transitions (``UpdateRateLimiter``), nan before it learns."""
EVALUATION_FIELDS = ('wall_time_s', 'env_steps', 'updates', 'mean_return', 'std_return',
                     'episodes')
TAIL_BYTES = 4096
"""End of a CSV read for its last rows (dozens of them)."""


class RunDirectory:
    """
    Paths and append-only writers of one training run (resuming appends to the same run).

    Its wall time goes on from the last one its CSVs recorded (0 in a new run): a resumed
    run's rows continue its curve instead of starting again from 0.
    """

    def __init__(self, path: str | Path, tensorboard: bool = True):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.start = time.monotonic() - max(last_wall_time(self.metrics_file),
                                            last_wall_time(self.evaluations_file))
        self._writers = {}
        self._tensorboard = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self._tensorboard = SummaryWriter(str(self.path / 'tensorboard'))

    config_file = property(lambda self: self.path / 'config.yaml')
    metrics_file = property(lambda self: self.path / 'metrics.csv')
    evaluations_file = property(lambda self: self.path / 'evaluations.csv')
    checkpoints = property(lambda self: self.path / 'checkpoints')
    policy_file = property(lambda self: self.path / 'policy.safetensors')
    curve_file = property(lambda self: self.path / 'learning_curve.png')
    policy_version_file = property(lambda self: self.path / 'policy_version.json')

    def record_policy_version(self, version: int) -> None:
        """Note (atomically and durably) that policy versions up to ``version`` may be issued."""
        write_bytes_atomic(self.policy_version_file,
                           json.dumps({'policy_version': version}).encode())

    def last_policy_version(self) -> int:
        """Return the highest policy version this run may have issued (0 if none recorded)."""
        try:
            return int(json.loads(self.policy_version_file.read_text())['policy_version'])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def write_config(self, config: dict) -> None:
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False))

    def log_episode(self, env_steps: int, updates: int, policy_version: int, actor_id: str,
                    episode_return: float, episode_length: int,
                    recent_updates_per_step: float = math.nan) -> None:
        self._append(self.metrics_file, EPISODE_FIELDS, (
            self.elapsed(), env_steps, updates, policy_version, actor_id,
            f'{episode_return:.6g}', episode_length, f'{recent_updates_per_step:.4g}'))
        self.log_scalars(env_steps, {'episode/return': episode_return,
                                     'episode/length': episode_length})

    def log_evaluation(self, env_steps: int, updates: int, returns: list[float]) -> None:
        self._append(self.evaluations_file, EVALUATION_FIELDS, (
            self.elapsed(), env_steps, updates, f'{np.mean(returns):.6g}',
            f'{np.std(returns):.6g}', len(returns)))
        self.log_scalars(env_steps, {'eval/mean_return': float(np.mean(returns))})

    def log_scalars(self, step: int, values: dict[str, float]) -> None:
        if self._tensorboard is not None:
            for key, value in values.items():
                self._tensorboard.add_scalar(key, value, step)

    def elapsed(self) -> str:
        return f'{time.monotonic() - self.start:.3f}'

    def _append(self, path: Path, fields: tuple[str, ...], row: tuple) -> None:
        writer = self._writers.get(path)
        if writer is None:
            new = not path.exists() or path.stat().st_size == 0
            handle = path.open('a', newline='')
            writer = self._writers[path] = (handle, csv.writer(handle))
            if new:
                writer[1].writerow(fields)
        writer[1].writerow(row)
        writer[0].flush()

    def close(self) -> None:
        for handle, _ in self._writers.values():
            handle.close()
        self._writers = {}
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None


def last_wall_time(path: Path) -> float:
    """Return the latest ``wall_time_s`` among a run CSV's last rows; 0.0 without one."""
    try:
        with path.open('rb') as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - TAIL_BYTES))
            tail = handle.read().decode(errors='replace')
    except OSError:
        return 0.0
    latest = 0.0
    for line in tail.splitlines():  # the first may be cut: it is one of several
        try:
            value = float(line.split(',', 1)[0])
        except ValueError:  # the header
            continue
        if math.isfinite(value):
            latest = max(latest, value)
    return latest


def read_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Numeric columns of a metrics CSV (other columns as strings)."""
    with open(path, newline='') as handle:
        rows = list(csv.DictReader(handle))
    columns = {}
    for key in (rows[0].keys() if rows else ()):
        values = [row[key] for row in rows]
        try:
            columns[key] = np.array(values, dtype=float)
        except ValueError:
            columns[key] = np.array(values)
    return columns


def plot_learning_curve(run: RunDirectory, title: str, threshold: float | None = None,
                        window: int = 10) -> Path:
    """Episode returns (and evaluations, if any) against env steps, saved as the run's PNG."""
    return plot_runs({None: run.path}, title, run.curve_file, threshold, window)


def plot_runs(runs: dict[str | None, str | Path], title: str, path: str | Path,
              threshold: float | None = None, window: int = 10) -> Path:
    """
    Several runs' curves in one PNG at ``path``: {label (None: a lone run): run directory}.

    Each run's episode returns, their mean over ``window`` episodes and its evaluations
    (deterministic policy, mean and std) against env steps. A lone run draws its episodes in
    blue and its evaluations in orange; several runs get a colour each.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    for index, (label, run_path) in enumerate(runs.items()):
        colours = (('tab:blue', 'tab:orange') if len(runs) == 1
                   else (f'C{index}',) * 2)
        prefix = '' if label is None else f'{label}: '
        metrics_file, evaluations_file = (Path(run_path) / name
                                          for name in ('metrics.csv', 'evaluations.csv'))
        if metrics_file.exists():
            metrics = read_csv(metrics_file)
            if 'env_steps' in metrics:
                order = np.argsort(metrics['env_steps'], kind='stable')
                steps, returns = metrics['env_steps'][order], metrics['episode_return'][order]
                axes.plot(steps, returns, '.', alpha=0.25, color=colours[0],
                          label=f'{prefix}episode return')
                if len(returns) >= window:
                    smooth = np.convolve(returns, np.ones(window) / window, mode='valid')
                    axes.plot(steps[window - 1:], smooth, color=colours[0],
                              alpha=1.0 if len(runs) == 1 else 0.5,
                              label=f'{prefix}mean of {window} episodes')
        if evaluations_file.exists():
            evaluations = read_csv(evaluations_file)
            if 'env_steps' in evaluations:
                axes.errorbar(evaluations['env_steps'], evaluations['mean_return'],
                              yerr=evaluations['std_return'], fmt='o-', color=colours[1],
                              capsize=3, label=f'{prefix}evaluation (deterministic policy)')
    if threshold is not None:
        axes.axhline(threshold, color='gray', linestyle='--', label=f'threshold {threshold:g}')
    axes.set_xlabel('env steps')
    axes.set_ylabel('return')
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc='lower right' if len(runs) == 1 else 'best', fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return Path(path)

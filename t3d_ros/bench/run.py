"""
The run.

Every measurement (or some), the results JSON, the table; node processes in a private ROS domain
and stopped on every way out.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

from t3d_ros.graph.domain import private_domain
from t3d_ros.graph.supervisor import sigterm_as_interrupt

from .common import BenchError
from .latency import bench_latency
from .learning_curve import bench_learning_curve
from .propagation import bench_policy_propagation
from .robots import bench_robots_per_process
from .ros_loop import bench_ros_loop
from .table import markdown_table, summary
from .threshold import bench_time_to_threshold
from .updates import bench_updates


def run_benchmarks(out_path: str | os.PathLike, quick: bool = False,
                   only: list[str] | None = None) -> dict:
    """
    Run the benchmarks (``only`` these, by name; by default all but ON_REQUEST) and return them.

    The results JSON is written after each one and a markdown table printed at the end. A
    measurement that fails is recorded with its error; the others still run.
    """
    torch.set_num_threads(1)
    results: dict = {'machine': _machine(quick)}
    with private_domain() as domain, sigterm_as_interrupt():
        results['machine']['ros_domain_id'] = domain
        for name in only or [name for name in BENCHES if name not in ON_REQUEST]:
            bench, quick_settings, full_settings = BENCHES[name]
            settings = quick_settings if quick else full_settings
            if settings is None:
                results[name] = {'skipped': 'not in a quick run'}
                continue
            print(f'[bench] {name} ...', flush=True)
            load, start = os.getloadavg()[0], time.monotonic()
            try:
                results[name] = bench(**settings)
            except (BenchError, ImportError) as error:
                results[name] = {'error': f'{type(error).__name__}: {error}'}
            results[name].update(seconds=round(time.monotonic() - start, 1),
                                 load_1min_before=load, load_1min_after=os.getloadavg()[0])
            print(f'[bench] {name}: {summary(results[name])}', flush=True)
            Path(out_path).write_text(json.dumps(results, indent=2))
    results['machine']['load_after'] = os.getloadavg()
    Path(out_path).write_text(json.dumps(results, indent=2))
    print(markdown_table(results))
    return results


def failures(results: dict) -> dict[str, str]:
    """Return the measurements that failed: {name: error}."""
    return {name: value['error'] for name, value in results.items()
            if isinstance(value, dict) and 'error' in value}


def _machine(quick: bool) -> dict:
    return {'cpus': os.cpu_count(), 'platform': platform.platform(),
            'python': platform.python_version(), 'torch': torch.__version__,
            'torch_threads': torch.get_num_threads(),
            'rmw_implementation': os.environ.get('RMW_IMPLEMENTATION', 'default'),
            'quick': quick, 'load_before': os.getloadavg(),
            'started': time.strftime('%Y-%m-%dT%H:%M:%S%z')}


BENCHES = {
    # name: (function, settings of a quick run (None: skipped), settings of a full run)
    'learner_updates': (bench_updates, dict(updates=60), dict(updates=600)),
    'learner_updates_64': (bench_updates, dict(updates=60, hidden_sizes=(64, 64)),
                           dict(updates=1500, hidden_sizes=(64, 64))),
    'ros_loop': (bench_ros_loop, dict(seconds=5.0), dict(seconds=20.0)),
    'robots_per_process': (bench_robots_per_process, dict(seconds=3.0, robots=2),
                           dict(seconds=20.0, robots=8)),
    'latency': (bench_latency, dict(samples=200), dict(samples=1000)),
    'policy_propagation': (bench_policy_propagation, dict(count=10), dict(count=50)),
    'time_to_threshold': (bench_time_to_threshold, None, dict(max_steps=30_000)),
    'learning_curve': (bench_learning_curve, None, dict(max_steps=80_000)),
}
ON_REQUEST = ('learning_curve',)
"""Measurements run only when named (``only``): they train for tens of minutes."""

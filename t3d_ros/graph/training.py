"""
Training over ROS 2 from Python.

The node graph as processes, watched on /diagnostics until a step budget, a target return, a time
limit, Ctrl-C (or SIGTERM, SIGHUP), or a node that dies for good: one that dies is restarted, as
launch's ``respawn`` would, within the limits of its spec's
:class:`~t3d_ros.graph.bringup.Respawn`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import yaml

from t3d_ros.graph.bringup import train_graph
from t3d_ros.graph.supervisor import ProcessGroup, signals_as_stop_flag


@dataclass
class TrainingOutcome:
    env_steps: int
    updates: int
    episodes: int
    recent_return: float
    wall_time_s: float
    time_to_target_s: float | None
    interrupted: bool = False
    failure: str | None = None
    """Why training stopped early (a node died for good), else None."""


def train_over_ros(task: str, num_actors: int, config_files: Sequence[str], seed: int,
                   run_dir: Path, overrides: dict, steps: int,
                   target_return: float | None = None, max_minutes: float | None = None,
                   progress: Callable[[dict, int], None] | None = None,
                   env: dict | None = None, use_sim_time: bool = False,
                   robots_per_process: int = 0) -> TrainingOutcome:
    """
    Start learner, sims and actors as processes; stop them cleanly when done.

    The learner saves its final checkpoint and ``policy.safetensors`` in ``run_dir`` as it
    stops. ``env`` is the nodes' environment (default: this process's).
    ``robots_per_process``: as :func:`~t3d_ros.graph.bringup.train_graph`'s.
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from t3d_ros.graph.monitor import DiagnosticsMonitor

    graph = train_graph(task, num_actors, config_files, seed, run_dir, overrides, use_sim_time,
                        robots_per_process)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / 'config.yaml').write_text(yaml.safe_dump({
        'task': task, 'num_actors': num_actors, 'seed': seed, 'steps': steps,
        'target_return': target_return, 'config_files': [str(f) for f in config_files],
        'processes': {spec.fully_qualified_name: [n.fully_qualified_name for n in spec.nodes]
                      for spec in graph},
        'nodes': {node.fully_qualified_name: node.resolved_parameters()
                  for spec in graph for node in spec.nodes},
    }, sort_keys=False))

    context = rclpy.Context()
    # The stop signals are ours (signals_as_stop_flag): rclpy's handlers would shut the
    # context down under the loop.
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    monitor = DiagnosticsMonitor(context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(monitor)
    group = ProcessGroup(graph, run_dir / 'logs', env)
    start = time.monotonic()
    stats: dict = {}
    outcome = TrainingOutcome(0, 0, 0, math.nan, 0.0, None)
    # A stop signal sets a flag that the loop reads between rclpy calls, until the nodes are
    # stopped: raised inside rclpy it could escape as another error, past the stop.
    with signals_as_stop_flag() as stop_signals:
        try:
            group.start()  # inside the try: a Ctrl-C while starting still stops those started
            while not stop_signals:
                executor.spin_once(timeout_sec=0.2)
                stats = monitor.learner()
                if progress is not None and stats:
                    progress(stats, steps)
                recent = float(stats.get('recent_return', 'nan'))
                if (target_return is not None and outcome.time_to_target_s is None
                        and recent >= target_return):
                    outcome.time_to_target_s = time.monotonic() - start
                    break
                if int(stats.get('env_steps', 0)) >= steps:
                    break
                if max_minutes is not None and time.monotonic() - start > 60 * max_minutes:
                    break
                exited = group.supervise()
                if exited is not None:
                    restarts = f' after {exited.restarts} restarts' if exited.restarts else ''
                    outcome.failure = (f'{exited.label} exited with status '
                                       f'{exited.process.returncode}{restarts}; its last '
                                       f'output:\n{exited.tail()}')
                    break
        finally:
            statuses = group.stop()
            executor.shutdown()
            monitor.destroy_node()
            rclpy.shutdown(context=context)
        outcome.interrupted = bool(stop_signals)
    outcome.wall_time_s = time.monotonic() - start
    outcome.env_steps = int(stats.get('env_steps', 0))
    outcome.updates = int(stats.get('updates', 0))
    outcome.episodes = int(stats.get('episodes', 0))
    outcome.recent_return = float(stats.get('recent_return', 'nan'))
    learner_status = statuses.get('/learner')
    if outcome.failure is None and learner_status not in (0, None):
        outcome.failure = f'the learner exited with status {learner_status} while stopping'
    return outcome

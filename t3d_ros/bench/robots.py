"""Many robots per process: env steps/s and memory of one sim and one actor process vs N."""
from __future__ import annotations

import os
import tempfile
import time

from t3d_ros.graph.bringup import GroupSpec, train_graph
from t3d_ros.tasks import make_task

from .common import STARTUP_TIMEOUT, TASK, random_bundle
from .ros import ros_session


def bench_robots_per_process(seconds: float = 20.0, robots: int = 8,
                             task_name: str = TASK) -> dict:
    """
    Measure ``robots`` robots in one ``sim_group`` and one ``actor_group`` process against one.

    As `t3d-ros train --num-actors N` starts them on 2-4 cores (no learner: the policy, 256-256,
    comes from here and the transitions come here, not learnt from; policy plus noise from the
    first step): the robots' env steps/s together, the resident memory of the two processes
    (memory per extra robot: the difference over ``robots - 1``), their CPU time per env step,
    and the observations per forward pass of the actor group. The reference is the same two
    processes with one robot, measured in the same run.
    """
    one, many = (_measure(count, seconds, task_name) for count in (1, robots))
    return {'robots': robots, 'steps_per_s': many['steps_per_s'],
            'one_robot_steps_per_s': one['steps_per_s'], 'rss_mb': many['rss_mb'],
            'one_robot_rss_mb': one['rss_mb'],
            'mb_per_extra_robot': (many['rss_mb'] - one['rss_mb']) / max(1, robots - 1),
            'cpu_ms_per_step': many['cpu_ms_per_step'],
            'one_robot_cpu_ms_per_step': one['cpu_ms_per_step'],
            'observations_per_forward_pass': many['observations_per_forward_pass'],
            'window_s': seconds}


def _measure(robots: int, seconds: float, task_name: str) -> dict:
    from diagnostic_msgs.msg import DiagnosticArray

    from t3d_ros.ros import messages

    bundle = random_bundle(make_task(task_name))
    nodes = [spec for spec in train_graph(task_name, robots, robots_per_process=1,
                                          overrides={'actor': {'start_steps': 0}})
             if spec.name != 'learner']
    graph = [GroupSpec(executable, f'{executable}_0', tuple(n for n in nodes if n.name == name))
             for executable, name in (('sim_group', 'sim'), ('actor_group', 'actor'))]
    actors: dict[str, dict[str, str]] = {}
    marks: list[tuple[float, float, float, float]] = []  # time, env steps, passes, observations

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for name, values in messages.diagnostic_values(msg).items():
            if (name.startswith('t3d/actor/')
                    and float(values['policy_version']) >= bundle.policy_version):
                actors[name] = values
        if len(actors) == robots:
            any_actor = next(iter(actors.values()))
            marks.append((time.monotonic(),
                          sum(float(values['env_steps']) for values in actors.values()),
                          float(any_actor['group_forward_passes']),
                          float(any_actor['group_observations'])))

    with tempfile.TemporaryDirectory() as tmp, ros_session(graph, tmp) as session:
        session.serve_actors(bundle, on_diagnostics)
        session.wait_for(lambda: marks and marks[-1][1] > 0, STARTUP_TIMEOUT,
                         'every robot stepping with the policy')
        pids = [process.process.pid for process in session.group.processes]
        first, cpu_first = marks[-1], sum(map(_cpu_s, pids))
        session.wait_for(lambda: marks[-1][0] - first[0] >= seconds, seconds + 30,
                         'actor diagnostics')
        last, cpu_last = marks[-1], sum(map(_cpu_s, pids))
        rss = sum(map(_rss_mb, pids))
    steps = last[1] - first[1]
    return {'steps_per_s': steps / (last[0] - first[0]), 'rss_mb': rss,
            'cpu_ms_per_step': 1000 * (cpu_last - cpu_first) / max(steps, 1),
            'observations_per_forward_pass': (last[3] - first[3]) / max(last[2] - first[2], 1)}


def _rss_mb(pid: int) -> float:
    """Return the resident memory of process ``pid`` in MiB (Linux)."""
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def _cpu_s(pid: int) -> float:
    """Return the user + system CPU seconds process ``pid`` has used (Linux)."""
    with open(f'/proc/{pid}/stat') as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

"""Env steps/s of the lockstep loop over ROS against the same env and policy in one process."""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np

from t3d_ros.graph.bringup import train_graph
from t3d_ros.tasks import make_task

from .common import NAMESPACE, STARTUP_TIMEOUT, TASK, random_bundle
from .latency import echo_spec, round_trips
from .ros import ros_session


def bench_ros_loop(seconds: float = 20.0, task_name: str = TASK) -> dict:
    """
    Env steps/s of the training loop.

    The sim and a training actor as `t3d-ros train` starts them (its params files; no learner: the
    policy comes from here and the transitions come here, received but not learnt from), acting
    with a 256-256 policy plus exploration noise from the first step; vs the gymnasium env and the
    same policy and noise in one process; and the bare round trips/s of two rclpy processes
    (``_echo_round_trips``), the loop's ceiling over ROS. ``task_name``: any task or task file.
    """
    from diagnostic_msgs.msg import DiagnosticArray

    from t3d_ros.ros import messages

    task = make_task(task_name)
    bundle = random_bundle(task)
    graph = [spec for spec in train_graph(task_name, 1, overrides={'actor': {'start_steps': 0}})
             if spec.name != 'learner']
    marks: list[tuple[float, float]] = []  # (time received, actor env steps) of diagnostics

    def on_diagnostics(msg: DiagnosticArray) -> None:
        values = messages.diagnostic_values(msg).get(f't3d/actor/{NAMESPACE}')
        if values and float(values['policy_version']) >= bundle.policy_version:
            marks.append((time.monotonic(), float(values['env_steps'])))

    with tempfile.TemporaryDirectory() as tmp:
        with ros_session(graph, Path(tmp) / 'loop') as session:
            session.serve_actors(bundle, on_diagnostics)
            session.wait_for(lambda: marks and marks[-1][1] > 0, STARTUP_TIMEOUT,
                             'the actor stepping with the policy')
            first = marks[-1]
            session.wait_for(lambda: marks[-1][0] - first[0] >= seconds, seconds + 30,
                             'actor diagnostics')
            last = marks[-1]
        echo_rate = _echo_round_trips(Path(tmp) / 'echo', task, samples=int(100 * seconds))
    ros_rate = (last[1] - first[1]) / (last[0] - first[0])
    return {'ros_steps_per_s': ros_rate, 'direct_steps_per_s': _direct_steps(task, bundle,
                                                                             seconds),
            'echo_round_trips_per_s': echo_rate, 'window_s': seconds}


def _direct_steps(task, bundle, seconds: float) -> float:
    from t3d_ros.acting.exploration import explore
    from t3d_ros.acting.numpy_policy import NumpyPolicy
    from t3d_ros.envs.task_env import TaskEnv

    env, policy = TaskEnv(task), NumpyPolicy.from_bundle(bundle)  # as the actor node runs it
    noise_rng = np.random.default_rng(0)
    try:
        obs, _ = env.reset(seed=0)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            unit = explore(policy.unit_action(obs), 0.1, noise_rng)
            obs, _, terminated, truncated, _ = env.step(policy.scaler.from_unit(unit))
            if terminated or truncated:
                obs, _ = env.reset()
            count += 1
        return count / (time.perf_counter() - start)
    finally:
        env.close()


def _echo_round_trips(log_dir: Path, task, samples: int) -> float:
    """
    Round trips/s of this process and the bare echo node, each state sent when the last is back.

    The latency measurement's round trips (same messages and QoS as the loop's, no env and no
    policy) with no pause between them: what two rclpy processes can do in lockstep, the
    ceiling of the loop over ROS.
    """
    with ros_session([echo_spec(task)], log_dir) as session:
        latencies, _ = round_trips(session, task, samples, rate_hz=math.inf)
    return len(latencies) / sum(latencies)

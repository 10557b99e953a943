"""The results as the README's markdown table."""
from __future__ import annotations

import math

TABLE_ROWS = (
    # label, result group, our value, reference value
    ('learner updates/s (256-256, batch 256, 1 thread) vs plain sfujim-style update',
     'learner_updates', 'updates_per_s', 'reference_updates_per_s'),
    ('env steps/s: lockstep sim + actor over ROS vs env + policy in one process',
     'ros_loop', 'ros_steps_per_s', 'direct_steps_per_s'),
    ('env steps/s: lockstep sim + actor over ROS vs round trips/s of two bare rclpy nodes',
     'ros_loop', 'ros_steps_per_s', 'echo_round_trips_per_s'),
    ('state -> command latency p50 (ms): actor vs echo node',
     'latency', 'actor_p50_ms', 'echo_p50_ms'),
    ('state -> command latency p99 (ms): actor vs echo node',
     'latency', 'actor_p99_ms', 'echo_p99_ms'),
    ('policy propagation p50 (ms): published -> decoded vs bytes only',
     'policy_propagation', 'decoded_p50_ms', 'bytes_only_p50_ms'),
    ('time to pendulum threshold (s): over ROS vs direct',
     'time_to_threshold', 'ros_s', 'direct_s'),
    ('learner updates/s (64-64, batch 256, 1 thread) vs plain sfujim-style update',
     'learner_updates_64', 'updates_per_s', 'reference_updates_per_s'),
    ('learner updates/s (256-256, batch 256, 1 thread) vs Stable-Baselines3 TD3',
     'learner_updates', 'updates_per_s', 'sb3_updates_per_s'),
    ('learner updates/s (64-64, batch 256, 1 thread) vs Stable-Baselines3 TD3',
     'learner_updates_64', 'updates_per_s', 'sb3_updates_per_s'),
    ('time to pendulum threshold (s): direct vs Stable-Baselines3 TD3',
     'time_to_threshold', 'direct_s', 'sb3_s'),
    ('time to pendulum threshold (s): over ROS vs Stable-Baselines3 TD3',
     'time_to_threshold', 'ros_s', 'sb3_s'),
    ('time to pendulum threshold (s): over ROS, 2 actors (whole command) vs direct',
     'time_to_threshold', 'ros_2_actors_s', 'direct_s'),
    ('time to pendulum threshold (s): over ROS, 2 actors (whole command) vs Stable-Baselines3 '
     'TD3 (whole process)', 'time_to_threshold', 'ros_2_actors_s', 'sb3_s'),
    ('env steps to pendulum threshold: direct vs Stable-Baselines3 TD3',
     'time_to_threshold', 'direct_env_steps', 'sb3_env_steps'),
    ('env steps/s: 8 robots in one sim + one actor process vs 1 robot in them',
     'robots_per_process', 'steps_per_s', 'one_robot_steps_per_s'),
    ('memory of the sim + actor processes (MiB): 8 robots vs 1 robot',
     'robots_per_process', 'rss_mb', 'one_robot_rss_mb'),
)
"""Reference values named ``sb3_*`` come from Stable-Baselines3; where it is not installed
the measurement says so in ``sb3`` and the row shows that."""


def markdown_table(results: dict) -> str:
    """
    Return the results as a markdown table.

    A value not measured (skipped, failed, threshold not reached) shows as n/a; an SB3 value
    where SB3 is not installed, as how to get it.
    """
    lines = ['| measure | t3d_ros | reference | ratio |', '|---|---:|---:|---:|']
    for label, group, ours, reference in TABLE_ROWS:
        values = results.get(group, {})
        a, b = number(values.get(ours)), number(values.get(reference))
        ratio = fmt(a / b) if a is not None and b else 'n/a'
        missing = reference.startswith('sb3_') and isinstance(values.get('sb3'), str)
        lines.append(f'| {label} | {fmt(a)} | {values["sb3"] if missing else fmt(b)} '
                     f'| {ratio} |')
    return '\n'.join(lines)


def number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def fmt(value: float | None) -> str:
    if value is None:
        return 'n/a'
    return f'{value:,.0f}' if abs(value) >= 100 else f'{value:.1f}' if abs(value) >= 10 \
        else f'{value:.2f}'


def summary(values: dict) -> str:
    return ', '.join(f'{key}={value:.4g}' if isinstance(value, float) else f'{key}={value}'
                     for key, value in values.items())

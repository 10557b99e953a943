"""State-to-command latency of a deployed actor against a bare echo node."""
from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from t3d_ros.graph.bringup import NodeSpec
from t3d_ros.tasks import make_task

from .common import ANSWER_TIMEOUT, NAMESPACE, STARTUP_TIMEOUT, TASK, BenchError, random_bundle
from .ros import HelperSpec, Session, ros_session


def bench_latency(samples: int = 1000, rate_hz: float = 100.0) -> dict:
    """
    Measure state-to-command latency, this process playing the robot at ``rate_hz``.

    It publishes a joint state and times the command that answers it, first from a deployed actor
    (256-256 policy), then from an echo node that answers each state with a command at once.
    """
    task = make_task(TASK)
    with tempfile.TemporaryDirectory() as tmp:
        policy_file = Path(tmp) / 'policy.safetensors'
        random_bundle(task).save(policy_file)
        actor = NodeSpec('actor_node', 'actor', NAMESPACE, (), {
            'task': TASK, 'mode': 'deploy', 'policy_file': str(policy_file),
            'trigger': 'state', 'state_timeout': 0.0, 'autostart': True})
        results = {}
        for name, spec in (('actor', actor), ('echo', echo_spec(task))):
            with ros_session([spec], Path(tmp) / name) as session:
                latencies, lost = round_trips(session, task, samples, rate_hz)
            p50, p99 = np.percentile(latencies, [50, 99]) * 1e3
            results.update({f'{name}_p50_ms': float(p50), f'{name}_p99_ms': float(p99),
                            f'{name}_lost': lost})
    return dict(results, samples=samples, rate_hz=rate_hz)


def echo_spec(task) -> HelperSpec:
    """Return the bench's echo node for ``task``: it answers each joint state with a command."""
    return HelperSpec('echo', 'echo', NAMESPACE, (), {'command_topic': task.command_topic})


def round_trips(session: 'Session', task, samples: int, rate_hz: float,
                warmup: int = 50) -> tuple[list[float], int]:
    """
    Seconds from publishing each joint state to the command answering it, one state at a time.

    And how many states got no answer within ANSWER_TIMEOUT. A command of zeros (the actor's safe
    command while it waits for its goal) is no answer.
    """
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from t3d_ros.ros import messages

    node = session.node
    if task.has_goal:
        from geometry_msgs.msg import PointStamped
        node.create_publisher(PointStamped, f'/{NAMESPACE}/goal', messages.LATCHED_QOS).publish(
            messages.goal_msg(task.sample_goal(np.random.default_rng(0)), 0))
    state_pub = node.create_publisher(JointState, f'/{NAMESPACE}/joint_states', messages.ROBOT_QOS)
    sent_at: list[float] = []  # the state awaiting its answer, if any
    latencies: list[float] = []

    def on_command(msg: Float64MultiArray) -> None:
        if sent_at and np.any(np.asarray(msg.data)):
            latencies.append(time.perf_counter() - sent_at.pop())
    node.create_subscription(Float64MultiArray, f'/{NAMESPACE}/{task.command_topic}',
                             on_command, messages.ROBOT_QOS)
    zeros, effort = np.zeros(task.num_joints), np.full(task.num_joints, 0.5)  # echo answers effort
    stamps = itertools.count(1)

    def send() -> None:
        sent_at[:] = [time.perf_counter()]
        state_pub.publish(messages.joint_state_msg(task.joint_names, zeros, zeros, effort,
                                                   next(stamps) * 10_000_000))

    # Discovery, the goal, first calls: publish until answers come, then a few more.
    session.wait_for(lambda: latencies, STARTUP_TIMEOUT, 'the first command', action=send,
                     period=0.1)
    for _ in range(warmup):
        send()
        session.spin_until(lambda: not sent_at, ANSWER_TIMEOUT)
    latencies.clear()
    lost = 0
    while len(latencies) < samples:
        next_send = time.perf_counter() + 1.0 / rate_hz
        send()
        if not session.spin_until(lambda: not sent_at, ANSWER_TIMEOUT):
            lost += 1
            sent_at.clear()
            if lost > max(10, samples // 10):
                raise BenchError(f'{lost} states got no command within {ANSWER_TIMEOUT} s'
                                 f'{session.logs()}')
        time.sleep(max(0.0, next_send - time.perf_counter()))
    return latencies, lost

"""`t3d-ros bench`: speed of each part, each against a reference measured in the same run.

- learner updates/s: our TD3 update vs a plain sfujim-style update (same sizes, same batches),
  run in alternating rounds so that a change in machine load hits both alike;
- env steps/s of the lockstep loop over ROS (sim + actor processes, as `t3d-ros train` starts
  them) vs the same env and policy stepped in one process;
- state-to-command latency of a deployed actor (this process plays the robot: it publishes a
  joint state and times the command that answers it) vs a bare echo node timed the same way;
- policy propagation: a 256-256 bundle published -> decoded into a ready policy in another
  process, vs the same bytes received and not decoded;
- wall-clock time to pendulum's return threshold over ROS (from starting the node processes)
  vs the direct trainer in one process, both judged by the mean return of the last 10
  training episodes.

Node processes run in a private ROS domain with localhost discovery unless ROS_DOMAIN_ID is
set, and are stopped on every path out (a failed measurement, Ctrl-C, SIGTERM). The numbers
depend on the machine and on its load (recorded with the results): the ratios, measured back to
back, carry over between machines better than the absolute values.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from t3d_ros.bringup import NodeSpec, train_graph
from t3d_ros.ros_domain import private_domain
from t3d_ros.supervisor import ProcessGroup
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.reference import ReferenceTD3
from t3d_ros.td3.replay import ReplayMemory
from t3d_ros.td3.td3 import TD3

TASK = 'reacher'
"""Task of the speed measurements: 10-d observation, 2 joints, 256-256 networks."""
NAMESPACE = 'robot_0'
THRESHOLD_TASK = 'pendulum'
STARTUP_TIMEOUT = 180.0
"""Seconds for node processes to come up (they import torch and PyBullet, on busy CPUs)."""
ANSWER_TIMEOUT = 2.0
"""Seconds one answer (a command, a policy acknowledgement) may take before it counts lost."""
"""ROS domains the bench picks from when the user set none: above the domains people use,
and their DDS ports (7400 + 250 x domain) above Linux's ephemeral port range."""
POLICY_TOPIC = '/t3d_bench/policy'
ACK_TOPIC = '/t3d_bench/policy_ack'
MAX_POLICY_BYTES = 64 * 2**20


class BenchError(RuntimeError):
    """A measurement that could not be made (a node did not come up, died, or went silent)."""


def run_benchmarks(out_path: str | os.PathLike, quick: bool = False,
                   only: list[str] | None = None) -> dict:
    """Run the benchmarks (``only`` these, by name), write the results JSON after each one,
    print a markdown table, and return the results. A measurement that fails is recorded
    with its error; the others still run."""
    torch.set_num_threads(1)
    results: dict = {'machine': _machine(quick)}
    with private_domain() as domain, _sigterm_as_interrupt():
        results['machine']['ros_domain_id'] = domain
        for name in only or BENCHES:
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
            print(f'[bench] {name}: {_summary(results[name])}', flush=True)
            Path(out_path).write_text(json.dumps(results, indent=2))
    results['machine']['load_after'] = os.getloadavg()
    Path(out_path).write_text(json.dumps(results, indent=2))
    print(markdown_table(results))
    return results


def failures(results: dict) -> dict[str, str]:
    """The measurements that failed: {name: error}."""
    return {name: value['error'] for name, value in results.items()
            if isinstance(value, dict) and 'error' in value}


# --- the table --------------------------------------------------------------------------

TABLE_ROWS = (
    # label, result group, our value, reference value
    ('learner updates/s (256-256, batch 256, 1 thread) vs plain sfujim-style update',
     'learner_updates', 'updates_per_s', 'reference_updates_per_s'),
    ('env steps/s: lockstep sim + actor over ROS vs env + policy in one process',
     'ros_loop', 'ros_steps_per_s', 'direct_steps_per_s'),
    ('state -> command latency p50 (ms): actor vs echo node',
     'latency', 'actor_p50_ms', 'echo_p50_ms'),
    ('state -> command latency p99 (ms): actor vs echo node',
     'latency', 'actor_p99_ms', 'echo_p99_ms'),
    ('policy propagation p50 (ms): published -> decoded vs bytes only',
     'policy_propagation', 'decoded_p50_ms', 'bytes_only_p50_ms'),
    ('time to pendulum threshold (s): over ROS vs direct',
     'time_to_threshold', 'ros_s', 'direct_s'),
)


def markdown_table(results: dict) -> str:
    """The results as a markdown table; a value not measured (skipped, failed, threshold not
    reached) shows as n/a."""
    lines = ['| measure | t3d_ros | reference | ratio |', '|---|---:|---:|---:|']
    for label, group, ours, reference in TABLE_ROWS:
        values = results.get(group, {})
        a, b = _number(values.get(ours)), _number(values.get(reference))
        ratio = _fmt(a / b) if a is not None and b else 'n/a'
        lines.append(f'| {label} | {_fmt(a)} | {_fmt(b)} | {ratio} |')
    return '\n'.join(lines)


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _fmt(value: float | None) -> str:
    if value is None:
        return 'n/a'
    return f'{value:,.0f}' if abs(value) >= 100 else f'{value:.1f}' if abs(value) >= 10 \
        else f'{value:.2f}'


def _summary(values: dict) -> str:
    return ', '.join(f'{key}={value:.4g}' if isinstance(value, float) else f'{key}={value}'
                     for key, value in values.items())


def _machine(quick: bool) -> dict:
    return {'cpus': os.cpu_count(), 'platform': platform.platform(),
            'python': platform.python_version(), 'torch': torch.__version__,
            'torch_threads': torch.get_num_threads(),
            'rmw_implementation': os.environ.get('RMW_IMPLEMENTATION', 'default'),
            'quick': quick, 'load_before': os.getloadavg(),
            'started': time.strftime('%Y-%m-%dT%H:%M:%S%z')}


# --- learner updates --------------------------------------------------------------------

def bench_updates(updates: int = 400, hidden_sizes=(256, 256), batch_size: int = 256,
                  memory_size: int = 20_000, rounds: int = 4, task: str = TASK) -> dict:
    """Updates/s of our TD3 update and of the reference, on batches from one replay memory."""
    task = make_task(task)
    config = TD3Config(hidden_sizes=tuple(hidden_sizes), batch_size=batch_size)
    memory = ReplayMemory(task.obs_dim, task.num_joints, memory_size)
    rng = np.random.default_rng(0)
    n = memory_size
    memory.add_batch(rng.normal(size=(n, task.obs_dim)), rng.uniform(-1, 1, (n, task.num_joints)),
                     rng.normal(size=n), rng.normal(size=(n, task.obs_dim)), rng.random(n) < 0.02)
    ours = TD3(task.obs_dim, task.action_low, task.action_high, config)
    reference = ReferenceTD3(task.obs_dim, task.num_joints, config)
    rates = _alternating_rates({
        'ours': lambda: ours.update(memory.sample(batch_size)),
        'reference': lambda: reference.train(memory.sample(batch_size)),
    }, updates, rounds)
    return {'updates_per_s': rates['ours'], 'reference_updates_per_s': rates['reference'],
            'hidden_sizes': list(hidden_sizes), 'batch_size': batch_size, 'updates': updates}


def _alternating_rates(steps: dict[str, Callable[[], object]], count: int,
                       rounds: int) -> dict[str, float]:
    """Calls per second of each step, ``count`` calls each, in ``rounds`` alternating rounds
    (after a few warm-up calls each)."""
    elapsed = dict.fromkeys(steps, 0.0)
    for step in steps.values():
        for _ in range(max(2, count // 20)):
            step()
    per_round = [count // rounds + (i < count % rounds) for i in range(rounds)]
    for calls in per_round:
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls):
                step()
            elapsed[name] += time.perf_counter() - start
    return {name: count / seconds for name, seconds in elapsed.items()}


# --- lockstep loop ----------------------------------------------------------------------

def bench_ros_loop(seconds: float = 20.0) -> dict:
    """Env steps/s of the training loop: the sim and a training actor as `t3d-ros train`
    starts them (its params files; no learner: the policy comes from here and the
    transitions come here, received but not learnt from), acting with a
    256-256 policy plus exploration noise from the first step; vs the gymnasium env and the
    same policy and noise in one process."""
    from diagnostic_msgs.msg import DiagnosticArray
    from std_msgs.msg import Float32MultiArray, UInt8MultiArray

    from t3d_ros import ros_io

    task = make_task(TASK)
    bundle = _random_bundle(task)
    graph = [spec for spec in train_graph(TASK, 1, overrides={'actor': {'start_steps': 0}})
             if spec.name != 'learner']
    marks: list[tuple[float, float]] = []  # (time received, actor env steps) of diagnostics

    def on_diagnostics(msg: DiagnosticArray) -> None:
        values = ros_io.diagnostic_values(msg).get(f't3d/actor/{NAMESPACE}')
        if values and float(values['policy_version']) >= bundle.policy_version:
            marks.append((time.monotonic(), float(values['env_steps'])))

    with tempfile.TemporaryDirectory() as tmp, _ros_session(graph, tmp) as session:
        session.node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 100)
        session.node.create_subscription(Float32MultiArray, '/t3d/transitions',
                                         lambda msg: None, ros_io.TRANSITIONS_QOS)
        session.node.create_publisher(UInt8MultiArray, '/t3d/policy', ros_io.LATCHED_QOS) \
            .publish(ros_io.policy_msg(bundle))
        session.wait_for(lambda: marks and marks[-1][1] > 0, STARTUP_TIMEOUT,
                         'the actor stepping with the policy')
        first = marks[-1]
        session.wait_for(lambda: marks[-1][0] - first[0] >= seconds, seconds + 30,
                         'actor diagnostics')
        last = marks[-1]
    ros_rate = (last[1] - first[1]) / (last[0] - first[0])
    return {'ros_steps_per_s': ros_rate, 'direct_steps_per_s': _direct_steps(task, bundle,
                                                                             seconds),
            'window_s': seconds}


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


# --- latency ----------------------------------------------------------------------------

def bench_latency(samples: int = 1000, rate_hz: float = 100.0) -> dict:
    """This process plays the robot at ``rate_hz``: it publishes a joint state and times the
    command that answers it, first from a deployed actor (256-256 policy), then from an echo
    node that answers each state with a command at once."""
    task = make_task(TASK)
    with tempfile.TemporaryDirectory() as tmp:
        policy_file = Path(tmp) / 'policy.safetensors'
        _random_bundle(task).save(policy_file)
        actor = NodeSpec('actor_node', 'actor', NAMESPACE, (), {
            'task': TASK, 'mode': 'deploy', 'policy_file': str(policy_file),
            'trigger': 'state', 'state_timeout': 0.0, 'autostart': True})
        echo = _HelperSpec('echo', 'echo', NAMESPACE, (), {'command_topic': task.command_topic})
        results = {}
        for name, spec in (('actor', actor), ('echo', echo)):
            with _ros_session([spec], Path(tmp) / name) as session:
                latencies, lost = _round_trips(session, task, samples, rate_hz)
            p50, p99 = np.percentile(latencies, [50, 99]) * 1e3
            results.update({f'{name}_p50_ms': float(p50), f'{name}_p99_ms': float(p99),
                            f'{name}_lost': lost})
    return dict(results, samples=samples, rate_hz=rate_hz)


def _round_trips(session: '_Session', task, samples: int, rate_hz: float,
                 warmup: int = 50) -> tuple[list[float], int]:
    """Seconds from publishing each joint state to the command answering it, one state at a
    time; and how many states got no answer within ANSWER_TIMEOUT. A command of zeros (the
    actor's safe command while it waits for its goal) is no answer."""
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from t3d_ros import ros_io

    node = session.node
    if task.has_goal:
        from geometry_msgs.msg import PointStamped
        node.create_publisher(PointStamped, f'/{NAMESPACE}/goal', ros_io.LATCHED_QOS).publish(
            ros_io.goal_msg(task.sample_goal(np.random.default_rng(0)), 0))
    state_pub = node.create_publisher(JointState, f'/{NAMESPACE}/joint_states', ros_io.ROBOT_QOS)
    sent_at: list[float] = []  # the state awaiting its answer, if any
    latencies: list[float] = []

    def on_command(msg: Float64MultiArray) -> None:
        if sent_at and np.any(np.asarray(msg.data)):
            latencies.append(time.perf_counter() - sent_at.pop())
    node.create_subscription(Float64MultiArray, f'/{NAMESPACE}/{task.command_topic}',
                             on_command, ros_io.ROBOT_QOS)
    zeros, effort = np.zeros(task.num_joints), np.full(task.num_joints, 0.5)  # echo answers effort
    stamps = itertools.count(1)

    def send() -> None:
        sent_at[:] = [time.perf_counter()]
        state_pub.publish(ros_io.joint_state_msg(task.joint_names, zeros, zeros, effort,
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


# --- policy propagation -----------------------------------------------------------------

def bench_policy_propagation(count: int = 50) -> dict:
    """A 256-256 bundle published (as the learner does, transient local) -> received and made
    into a ready policy in another process (as the actor does), vs received only."""
    bundle = _random_bundle(make_task(TASK))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, decode in (('decoded', True), ('bytes_only', False)):
            receiver = _HelperSpec('policy_receiver', 'policy_receiver', '', (),
                                   {'decode': decode})
            with _ros_session([receiver], Path(tmp) / name) as session:
                delays = _propagation_delays(session, bundle, count)
            p50, p90 = np.percentile(delays, [50, 90]) * 1e3
            results.update({f'{name}_p50_ms': float(p50), f'{name}_p90_ms': float(p90)})
    return dict(results, bundle_bytes=len(bundle.to_bytes()), count=count)


def _propagation_delays(session: '_Session', bundle, count: int) -> list[float]:
    """Seconds from publishing the bundle to the receiver's acknowledgement, one at a time.
    Acknowledgements carry the receiver's message count, so none is mistaken for another."""
    from std_msgs.msg import Int64, UInt8MultiArray

    from t3d_ros import ros_io

    acks: list[tuple[float, int]] = []  # (time received, receiver's count)
    session.node.create_subscription(Int64, ACK_TOPIC, lambda msg: acks.append(
        (time.perf_counter(), msg.data)), ros_io.ROBOT_QOS)
    publisher = session.node.create_publisher(UInt8MultiArray, POLICY_TOPIC, ros_io.LATCHED_QOS)
    msg = ros_io.policy_msg(bundle)
    session.wait_for(lambda: acks, STARTUP_TIMEOUT, 'the policy receiver',
                     action=lambda: publisher.publish(msg), period=1.0)
    quiet = False
    while not quiet:  # until the messages published during discovery are all acknowledged
        seen = len(acks)
        quiet = not session.spin_until(lambda: len(acks) > seen, 1.0)
    received = acks[-1][1]
    delays = []
    for _ in range(count):
        start = time.perf_counter()
        publisher.publish(msg)
        received += 1
        if not session.spin_until(lambda: acks[-1][1] >= received, ANSWER_TIMEOUT):
            raise BenchError(f'policy {received} not acknowledged within {ANSWER_TIMEOUT} s'
                             f'{session.logs()}')
        delays.append(acks[-1][0] - start)
    return delays


# --- time to threshold ------------------------------------------------------------------

def bench_time_to_threshold(max_steps: int = 30_000, max_minutes: float = 15.0,
                            hidden_sizes=(64, 64), seed: int = 0) -> dict:
    """Pendulum to its return threshold with the training config (config/train.yaml +
    pendulum.yaml, ``hidden_sizes`` networks): `t3d-ros train` over ROS (learner, sim, actor
    processes; the clock starts as they start) vs the direct trainer in one process. Both stop
    when the mean return of the last 10 training episodes reaches the threshold."""
    from t3d_ros.acting.core import ActorSettings
    from t3d_ros.ros_training import train_over_ros
    from t3d_ros.training.direct import train_direct
    from t3d_ros.training.learner import learner_settings

    task = make_task(THRESHOLD_TASK)
    overrides = {'learner': {'hidden_sizes': list(hidden_sizes), 'checkpoint_every': 0}}
    with tempfile.TemporaryDirectory() as tmp:
        ros = train_over_ros(THRESHOLD_TASK, 1, [], seed, Path(tmp), overrides, max_steps,
                             target_return=task.reward_threshold, max_minutes=max_minutes)
    if ros.interrupted:
        raise KeyboardInterrupt
    if ros.failure:
        raise BenchError(ros.failure)
    # The learner and actor nodes' parameters, so the direct trainer learns with the very
    # same settings.
    learner, _, actor = train_graph(THRESHOLD_TASK, 1, seed=seed, overrides=overrides)
    config, options = learner_settings(learner.resolved_parameters())
    direct = train_direct(THRESHOLD_TASK, config, max_steps, options,
                          ActorSettings.from_parameters(actor.resolved_parameters()),
                          eval_every=max_steps,
                          eval_episodes=1, target_return=task.reward_threshold,
                          target_on_training_episodes=True)
    return {'ros_s': ros.time_to_target_s,
            'ros_env_steps': ros.env_steps if ros.time_to_target_s is not None else None,
            'direct_s': direct.time_to_threshold_s, 'direct_env_steps': direct.steps_to_threshold,
            'threshold': task.reward_threshold, 'max_steps': max_steps,
            'hidden_sizes': list(hidden_sizes)}


# --- ROS plumbing -----------------------------------------------------------------------

class _HelperSpec(NodeSpec):
    """A helper node of this module (``executable``: a name in HELPER_NODES), run as
    ``python -m t3d_ros.bench <executable> --ros-args ...`` under a ProcessGroup."""

    def command(self, params_dir, python: str = sys.executable) -> list[str]:
        return [python, '-m', 't3d_ros.bench', self.executable, *self.ros_args(params_dir)]


class _Session:
    """This process's side of a measurement: a node in its own rclpy context, and the node
    processes under test."""

    def __init__(self):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.signals import SignalHandlerOptions

        self.context = rclpy.Context()
        # Python's own handling of Ctrl-C (KeyboardInterrupt) and ours of SIGTERM stay in
        # charge, so that every way out stops the node processes.
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node('t3d_bench', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.group: ProcessGroup | None = None

    def spin_until(self, condition: Callable[[], object], timeout: float) -> bool:
        """Handle callbacks until ``condition()`` holds (True) or ``timeout`` s pass (False)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.executor.spin_once(timeout_sec=min(remaining, 0.05))
        return True

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str,
                 action: Callable[[], None] | None = None, period: float = 0.5) -> None:
        """Spin until ``condition()``, running ``action`` every ``period`` s meanwhile;
        BenchError (with the nodes' output) if a node exits or ``timeout`` s pass."""
        deadline = time.monotonic() + timeout
        while True:
            if action is not None:
                action()
            if self.spin_until(condition, min(period, max(0.0, deadline - time.monotonic()))):
                return
            exited = self.group.first_exited() if self.group else None
            if exited is not None:
                raise BenchError(f'waiting for {what}: {exited.label} exited with status '
                                 f'{exited.process.returncode}{self.logs()}')
            if time.monotonic() >= deadline:
                raise BenchError(f'no {what} within {timeout:.0f} s{self.logs()}')

    def logs(self, lines: int = 15) -> str:
        return ''.join(f'\n--- {p.label} (last lines):\n{p.tail(lines)}'
                       for p in (self.group.processes if self.group else []))

    def close(self) -> dict[str, int]:
        """Stop the node processes (SIGINT, then SIGTERM, SIGKILL); their exit statuses."""
        import rclpy

        try:
            return self.group.stop() if self.group else {}
        finally:
            self.executor.shutdown()
            self.node.destroy_node()
            rclpy.try_shutdown(context=self.context)


@contextlib.contextmanager
def _ros_session(specs: list[NodeSpec], log_dir: str | os.PathLike) -> Iterator[_Session]:
    """A :class:`_Session` with ``specs`` running as processes (logs in ``log_dir``), all
    stopped on the way out, however it is left. BenchError if a node did not exit with 0
    when told to stop."""
    session = _Session()
    try:
        session.group = ProcessGroup(specs, log_dir)
        session.group.start()
        yield session
    except BaseException:
        session.close()
        raise
    statuses = session.close()
    failed = {label: status for label, status in statuses.items() if status != 0}
    if failed:
        raise BenchError(f'nodes did not stop cleanly: {failed}{session.logs()}')


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the bench as Ctrl-C does, so the ``with`` blocks stop the node processes
    on the way out instead of leaving them running: it goes to the SIGINT handler of the
    moment (while ProcessGroup.stop waits for the nodes, one that says 'please wait'), else
    raises KeyboardInterrupt (also where Ctrl-C is ignored, as in a background job)."""
    def interrupt(signum, frame):
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler) and handler is not signal.default_int_handler:
            return handler(signum, frame)
        raise KeyboardInterrupt(f'signal {signum}')
    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _random_bundle(task, hidden_sizes=(256, 256)):
    from t3d_ros.td3.bundle import PolicyBundle

    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=tuple(hidden_sizes)))
    return PolicyBundle.from_agent(agent, task, policy_version=1)


# --- helper nodes (run in their own processes) ------------------------------------------

def _echo_node():
    """Answers each joint state at once with a command (its efforts): the bare round trip."""
    from rclpy.node import Node
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from t3d_ros import ros_io

    node = Node('echo')
    publisher = node.create_publisher(
        Float64MultiArray, node.declare_parameter('command_topic', '').value, ros_io.ROBOT_QOS)
    node.create_subscription(JointState, 'joint_states', lambda msg: publisher.publish(
        Float64MultiArray(data=msg.effort)), ros_io.ROBOT_QOS)
    return node


def _policy_receiver_node():
    """Acknowledges each policy message with its count, after decoding it into a ready
    policy as the actor does (``decode``), or at once."""
    from rclpy.node import Node
    from std_msgs.msg import Int64, UInt8MultiArray

    from t3d_ros import ros_io
    from t3d_ros.acting.numpy_policy import NumpyPolicy

    node = Node('policy_receiver')
    decode = node.declare_parameter('decode', True).value
    ack = node.create_publisher(Int64, ACK_TOPIC, ros_io.ROBOT_QOS)
    received = itertools.count(1)

    def on_policy(msg: UInt8MultiArray) -> None:
        if decode:
            NumpyPolicy.from_bundle(ros_io.parse_policy(msg, MAX_POLICY_BYTES))
        ack.publish(Int64(data=next(received)))
    node.create_subscription(UInt8MultiArray, POLICY_TOPIC, on_policy, ros_io.LATCHED_QOS)
    return node


HELPER_NODES = {'echo': _echo_node, 'policy_receiver': _policy_receiver_node}

BENCHES = {
    # name: (function, settings of a quick run (None: skipped), settings of a full run)
    'learner_updates': (bench_updates, dict(updates=60), dict(updates=600)),
    'ros_loop': (bench_ros_loop, dict(seconds=5.0), dict(seconds=20.0)),
    'latency': (bench_latency, dict(samples=200), dict(samples=1000)),
    'policy_propagation': (bench_policy_propagation, dict(count=10), dict(count=50)),
    'time_to_threshold': (bench_time_to_threshold, None, dict(max_steps=30_000)),
}


if __name__ == '__main__':
    from t3d_ros.nodes.spin import run_node

    torch.set_num_threads(1)
    raise SystemExit(run_node(HELPER_NODES[sys.argv[1]]))

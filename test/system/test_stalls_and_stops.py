"""
Node processes under stalls and stops (issue 8 items 8, 9 and 17).

- A learner that keeps up is never waited for; one stopped (SIGSTOP) and continued loses no
  transition: lockstep actors hold back once FLOW_WINDOW messages wait for the learner's
  acknowledgement, and the learner's per-actor sequence numbers would count any that were lost.
- Every node exits within ``ros2 launch``'s 5 s between SIGINT and SIGTERM, and a SIGINT while
  a node still imports torch / PyBullet ends it cleanly.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

rclpy = pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from t3d_ros.graph.bringup import train_graph  # noqa: E402
from t3d_ros.nodes.learner_topics import FLOW_WINDOW  # noqa: E402
from t3d_ros.graph.monitor import DiagnosticsMonitor  # noqa: E402
from t3d_ros.graph.supervisor import ProcessGroup  # noqa: E402

STARTUP = 180.0
"""Seconds for the processes to import torch and PyBullet and meet on 2 loaded cores."""
PROGRESS = 90.0
LAUNCH_SIGTERM_AFTER = 5.0
"""``ros2 launch`` escalates to SIGTERM this long after SIGINT: every node must be gone."""
TRANSITIONS_PER_MESSAGE = 16  # config/test_fast.yaml


class Graph:
    """A train graph's processes and their /diagnostics, seen from this process."""

    def __init__(self, tmp_path, num_actors=1, overrides=None):
        self.run_dir = tmp_path / 'run'
        specs = train_graph('pendulum', num_actors, ['test_fast.yaml'], seed=2,
                            run_dir=self.run_dir, overrides=overrides or {})
        self.group = ProcessGroup(specs, self.run_dir / 'logs').start()
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.monitor = DiagnosticsMonitor('stall_test_monitor', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.monitor)

    def process(self, label):
        return next(p for p in self.group.processes if p.label == label)

    def learner(self, key):
        return self.monitor.value('t3d/learner', key)

    def actor(self, key, index=0):
        return self.monitor.value(f't3d/actor/robot_{index}', key)

    def spin_until(self, condition, timeout, what, alive=True):
        deadline = time.monotonic() + timeout
        while not condition():
            exited = self.group.first_exited() if alive else None
            if exited is not None:
                pytest.fail(f'{exited.label} exited with {exited.process.returncode} while '
                            f'waiting for {what}:\n{exited.tail(40)}')
            if time.monotonic() > deadline:
                pytest.fail(f'no {what} within {timeout:.0f} s; diagnostics: '
                            f'{json.dumps(self.monitor.latest, indent=1)}')
            self.executor.spin_once(timeout_sec=0.1)

    def spin_for(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.1)

    def close(self):
        self.executor.shutdown()
        self.monitor.destroy_node()
        rclpy.shutdown(context=self.context)
        return self.group.stop(grace=10.0)


@pytest.fixture
def graph_factory(tmp_path):
    graphs = []

    def make(**kwargs):
        graphs.append(Graph(tmp_path, **kwargs))
        return graphs[-1]
    yield make
    for graph in graphs:
        graph.close()


@pytest.mark.slow
def test_a_learner_that_keeps_up_is_never_waited_for_and_a_stopped_one_loses_nothing(
        graph_factory):
    # No throttling (max_ahead out of reach): only the flow control holds the actor back.
    g = graph_factory(overrides={'learner': {'max_ahead': 10**9}})
    # Twice FLOW_WINDOW messages, over several of the transitions writer's heartbeats (every
    # 3 s), at which a reader acknowledges: an actor that waited for acknowledgements sooner
    # than that, or that did not count afresh after each, stalled until the next heartbeat
    # although the learner kept up.
    g.spin_until(lambda: g.learner('env_steps') >= 2 * FLOW_WINDOW * TRANSITIONS_PER_MESSAGE,
                 STARTUP, 'learner env steps')
    assert g.actor('flow_waits') == 0, g.monitor.actors()
    learner = g.process('/learner').process
    learner.send_signal(signal.SIGSTOP)
    try:
        g.spin_for(1.0)  # the actor's diagnostics of when the learner stopped
        before = g.actor('env_steps')
        g.spin_until(lambda: g.actor('flow_waits') >= 1, PROGRESS,
                     'the actor waiting for the stopped learner')
        waiting = g.actor('env_steps')
        g.spin_for(3.0)
        assert g.actor('env_steps') == waiting  # it waits while the learner is stopped
    finally:
        learner.send_signal(signal.SIGCONT)
    # The actor went on only while FLOW_WINDOW messages awaited acknowledgement (plus what
    # the first second of diagnostics had not shown yet).
    assert waiting - before <= (FLOW_WINDOW + 1) * TRANSITIONS_PER_MESSAGE, waiting - before
    # Afterwards the actor goes on, and the learner has every message it sent: a gap in the
    # sequence numbers would show in lost_messages once later messages arrived.
    steps = g.actor('env_steps')
    g.spin_until(lambda: g.learner('env_steps') >= steps + 200, PROGRESS,
                 'learner env steps after the stall')
    assert g.learner('lost_messages') == 0, g.monitor.learner()
    assert g.actor('waiting_for_learner') == 0.0 or g.monitor.actors()['robot_0'][
        'waiting_for_learner'] == 'False'


@pytest.mark.slow
def test_every_node_exits_within_launch_limit_after_sigint(graph_factory):
    g = graph_factory()
    g.spin_until(lambda: g.learner('policy_version') >= 2 and g.actor('env_steps') > 0,
                 STARTUP, 'a running graph')
    start = time.monotonic()
    for p in g.group.processes:
        p.process.send_signal(signal.SIGINT)
    took = {}
    while len(took) < len(g.group.processes) and time.monotonic() - start < 30:
        for p in g.group.processes:
            if p.label not in took and p.process.poll() is not None:
                took[p.label] = (round(time.monotonic() - start, 2), p.process.returncode)
        time.sleep(0.01)
    print('seconds from SIGINT to exit, status:', took, 'load:', os.getloadavg())
    assert all(status == 0 for _, status in took.values()), took
    assert len(took) == len(g.group.processes), took
    assert max(seconds for seconds, _ in took.values()) < LAUNCH_SIGTERM_AFTER, took
    # The learner saved on its way out.
    assert (g.run_dir / 'policy.safetensors').is_file()


@pytest.mark.parametrize('executable', ['learner_node', 'actor_node', 'sim_node'])
def test_a_sigint_while_a_node_starts_ends_it_cleanly(executable, tmp_path):
    """A Ctrl-C while the node still imports torch or PyBullet (seconds when loaded)."""
    process = subprocess.Popen([sys.executable, '-m', 't3d_ros.nodes.entry', executable,
                                '--ros-args', '-p', 'task:=pendulum'],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # Once the entry module's handlers are in (SIGTERM caught), the node module imports.
        status = f'/proc/{process.pid}/status'
        deadline = time.monotonic() + 60
        while not _catches(status, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output.decode(errors='replace')
    assert b'Traceback' not in output and b'KeyboardInterrupt' not in output, output


def _catches(proc_status: str, signum: int) -> bool:
    """Whether the process has a handler for ``signum`` (SigCgt in /proc/<pid>/status)."""
    try:
        with open(proc_status) as handle:
            line = next(line for line in handle if line.startswith('SigCgt:'))
    except (OSError, StopIteration):
        return False
    return bool(int(line.split()[1], 16) & (1 << (signum - 1)))

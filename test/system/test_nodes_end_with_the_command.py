"""
Nodes end with the `t3d-ros` command that started them; training lives through a node restart.

Issue 18:

- `t3d-ros deploy --with-sim` SIGKILLed or hung up: every node process is gone within seconds,
  and the last command on the robot's command topic is a safe one (pendulum: zero effort).
- `t3d-ros train` SIGKILLed: every node is gone, and the learner saved as on Ctrl-C.
- A learner SIGKILLed under `t3d-ros train` is started again, resumes from its checkpoint, and
  the run goes on to its step budget.
"""
import os
import re
import signal
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from cli_process import STARTUP, TRAIN, Cli, alive, untrained_policy  # noqa: E402
from t3d_ros.bundle.policy_bundle import PolicyBundle  # noqa: E402
from t3d_ros.tasks import make_task  # noqa: E402
from t3d_ros.td3.checkpoint import latest_checkpoint, load_checkpoint  # noqa: E402
from t3d_ros.td3.config import TD3Config  # noqa: E402
from t3d_ros.td3.td3 import TD3  # noqa: E402

GONE_WITHIN = 30.0
"""Seconds for every node to stop once the command is gone (measured: well under 5 s)."""
RESPAWNED_RUN = 240.0
"""Seconds for a training run with a learner restart: its imports, and a resume."""


class CommandListener:
    """The commands a robot would get on ``topic``, heard in this process."""

    def __init__(self, topic: str):
        self.context = rclpy.Context()
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node('command_listener', context=self.context)
        self.commands: list[np.ndarray] = []
        self.node.create_subscription(
            Float64MultiArray, topic, lambda msg: self.commands.append(np.array(msg.data)),
            QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, condition, timeout: float, what: str, cli: Cli | None = None) -> None:
        """Take commands until ``condition()``; fail at ``timeout`` or if ``cli`` exits."""
        deadline = time.monotonic() + timeout
        while not condition():
            if cli is not None:
                cli.watch_nodes()
                if cli.process.poll() is not None:
                    out, err = cli.process.communicate()
                    pytest.fail(f't3d-ros exited ({cli.process.returncode}) before {what}:\n'
                                f'{out}\n{err}')
            if time.monotonic() > deadline:
                pytest.fail(f'no {what} within {timeout:.0f} s; last commands: '
                            f'{self.commands[-3:]}')
            self.executor.spin_once(timeout_sec=0.05)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def listener():
    made = []

    def make(topic: str) -> CommandListener:
        made.append(CommandListener(topic))
        return made[-1]
    yield make
    for each in made:
        each.close()


def wait_until_gone(nodes: dict[int, str]) -> float:
    """Wait until none of ``nodes`` runs; return the seconds it took."""
    start = time.monotonic()
    while running := [cmd for pid, cmd in nodes.items() if alive(pid, cmd)]:
        if time.monotonic() - start > GONE_WITHIN:
            pytest.fail(f'{len(running)} node(s) still running {GONE_WITHIN:.0f} s after the '
                        f'command: {running}')
        time.sleep(0.05)
    return time.monotonic() - start


def assert_no_traceback(log_dir) -> None:
    for log in log_dir.glob('*.log'):
        assert 'Traceback' not in log.read_text(errors='replace'), log


@pytest.mark.parametrize('signum', [signal.SIGKILL, signal.SIGHUP], ids=['sigkill', 'sighup'])
def test_deploy_nodes_end_with_the_command_leaving_a_safe_command(
        cli, listener, tmp_path, signum):
    task = make_task('pendulum')
    commands = listener(task.command_topic)  # before the actor: it hears every command
    safe = np.zeros(task.num_joints)  # effort interface: zero
    policy = untrained_policy(tmp_path / 'policy.safetensors')
    c = cli().start('deploy', str(policy), '--with-sim', '--log-dir', str(tmp_path / 'logs'))
    commands.spin_until(lambda: any(np.any(command != safe) for command in commands.commands),
                        STARTUP, 'policy command (the actor in control)', c)
    nodes = c.watch_nodes()
    assert len(nodes) == 2, nodes  # sim, actor

    c.process.send_signal(signum)

    took = wait_until_gone(nodes)
    print(f'nodes gone {took:.2f} s after {signal.Signals(signum).name}; load {os.getloadavg()}')
    # Reliable and in order from one writer: once the actor's last command is in, none follows.
    commands.spin_until(lambda: np.array_equal(commands.commands[-1], safe), 10.0,
                        'safe command as the last one')
    code, out, err = c.finish(timeout=30.0)
    assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 0), out + err
    assert 'Traceback' not in err, err
    assert_no_traceback(tmp_path / 'logs')


def test_train_nodes_end_with_a_killed_command_and_the_learner_saves(cli, tmp_path):
    run_dir = tmp_path / 'run'
    c = cli().start(*TRAIN, '--steps', '10000000', '--run-dir', str(run_dir))
    metrics = run_dir / 'metrics.csv'
    c.wait_for(lambda: metrics.is_file() and len(metrics.read_text().splitlines()) >= 2,
               STARTUP, 'a first training episode')
    nodes = c.watch_nodes()
    assert len(nodes) == 3, nodes  # learner, sim, actor

    c.process.kill()
    c.process.wait()

    took = wait_until_gone(nodes)
    print(f'nodes gone {took:.2f} s after SIGKILL; load {os.getloadavg()}')
    # Saved as on Ctrl-C (test_fast.yaml: checkpoints only at shutdown), with the episode seen.
    bundle = PolicyBundle.load(run_dir / 'policy.safetensors')
    bundle.check_matches(make_task('pendulum'))
    agent = TD3(3, [-2.0], [2.0], TD3Config(hidden_sizes=bundle.hidden_sizes))
    counters = load_checkpoint(latest_checkpoint(run_dir / 'checkpoints'), agent)
    assert counters['env_steps'] >= 200, counters  # pendulum's first episode: 200 steps
    assert_no_traceback(run_dir / 'logs')


def test_a_killed_learner_is_restarted_resumes_and_the_run_goes_on(cli, tmp_path):
    run_dir = tmp_path / 'run'
    steps = 3000
    c = cli().start(*TRAIN, '--steps', str(steps), '--run-dir', str(run_dir),
                    '--set', 'learner.checkpoint_every=100')
    c.wait_for(lambda: latest_checkpoint(run_dir / 'checkpoints') is not None, STARTUP,
               'a first checkpoint')
    learner = next(pid for pid, cmd in c.watch_nodes().items() if 'learner_node' in cmd)

    os.kill(learner, signal.SIGKILL)

    c.wait_for(lambda: any('learner_node' in cmd and pid != learner and alive(pid, cmd)
                           for pid, cmd in c.watch_nodes().items()), STARTUP, 'a new learner')
    code, out, err = c.finish(timeout=RESPAWNED_RUN)
    assert code == 0, out + err
    assert f'/learner exited with status {-signal.SIGKILL}; restarting it' in err, err
    log = (run_dir / 'logs' / 'root_learner.log').read_text(errors='replace')
    resumed = re.search(r'resumed from .*: (\d+) updates, (\d+) env steps', log)
    assert resumed, log
    final = re.search(r'([\d,]+) env steps, ([\d,]+) updates in', out)
    assert final, out
    env_steps, updates = (int(value.replace(',', '')) for value in final.groups())
    # Steps and updates went on after the restart, to the budget.
    assert env_steps >= steps and env_steps > int(resumed[2]), (final[0], resumed[0])
    assert updates > int(resumed[1]), (final[0], resumed[0])
    assert not c.left_running()

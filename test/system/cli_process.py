"""
Run the `t3d-ros` command in a subprocess and find the node processes it starts.

Node processes are found as the command's children (/proc), so that a test can kill them at its
end whatever happens (:func:`cli`), and check that none is left running.
"""
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

T3D_ROS = shutil.which('t3d-ros', path=str(Path(sys.executable).parent))
COMMAND = [T3D_ROS] if T3D_ROS else [sys.executable, '-m', 't3d_ros.cli']
RUN_TIMEOUT = 240.0
"""Seconds for a short training run: three processes import torch and PyBullet."""
STARTUP = 120.0
TRAIN = ['train', '--task', 'pendulum', '--config', 'test_fast.yaml', '--seed', '3',
         '--eval-episodes', '2']


def node_pids(parent: int) -> dict[int, str]:
    """Return the node processes (pid: command line) that ``parent`` started."""
    found = {}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / 'stat').read_text().rsplit(')', 1)[1].split()[1])
            cmdline = (entry / 'cmdline').read_bytes().replace(b'\0', b' ').decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and 't3d_ros.nodes.' in cmdline:
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int, cmdline: str) -> bool:
    """Whether ``pid`` still runs that command (not a zombie, not a reused pid)."""
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
        return state != 'Z' and Path(f'/proc/{pid}/cmdline').read_bytes().replace(
            b'\0', b' ').decode() == cmdline
    except (OSError, IndexError):
        return False


class Cli:
    """A `t3d-ros` subprocess and the node processes it starts (killed at teardown)."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.nodes: dict[int, str] = {}

    def start(self, *args: str) -> 'Cli':
        """
        Start ``t3d-ros ARGS`` with SIGINT and SIGHUP at their defaults.

        Whatever this process ignores (SIGINT in a background job, SIGHUP under nohup): the
        tests send them.
        """
        with _caught(signal.SIGINT, signal.SIGHUP):
            self.process = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True,
                                            env=dict(os.environ))
        return self

    def watch_nodes(self) -> dict[int, str]:
        if self.process.poll() is None:
            self.nodes.update(node_pids(self.process.pid))
        return self.nodes

    def wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.watch_nodes()
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                pytest.fail(f't3d-ros exited ({self.process.returncode}) before {what}:\n'
                            f'{out}\n{err}')
            if time.monotonic() > deadline:
                pytest.fail(f'no {what} within {timeout:.0f} s')
            time.sleep(0.2)

    def finish(self, timeout: float = RUN_TIMEOUT) -> tuple[int, str, str]:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.watch_nodes()
            time.sleep(0.2)
        out, err = self.process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        return self.process.returncode, out, err

    def left_running(self) -> list[str]:
        return [cmd for pid, cmd in self.nodes.items() if alive(pid, cmd)]

    def kill_all(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        for pid, cmd in self.nodes.items():
            if alive(pid, cmd):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _caught(*signums: int):
    """
    Catch ``signums`` with a no-op while inside, then put their handlers back.

    A child started meanwhile gets them at their defaults (exec resets a caught signal, but
    keeps an ignored one ignored).
    """
    previous = {signum: signal.signal(signum, lambda *_: None) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def untrained_policy(path: Path, task_name: str = 'pendulum', version: int = 1) -> Path:
    """Write a policy bundle of a new (untrained) agent for ``task_name`` to ``path``."""
    task = make_task(task_name)
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=(16, 16)))
    PolicyBundle.from_agent(agent, task, policy_version=version).save(path)
    return path

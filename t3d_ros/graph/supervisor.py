"""
Running a node graph as separate processes.

Start, watch, restart, stop cleanly (the `t3d-ros` command's stand-in for `ros2 launch` where
launch is not installed).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from t3d_ros.graph.bringup import ProcessSpec
from t3d_ros.nodes.parent_death import parent_environment

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What stops the command as Ctrl-C does: SIGHUP is a closed terminal or a lost SSH session."""


class NodeProcess:
    def __init__(self, spec: ProcessSpec, process: subprocess.Popen, log_file: Path):
        self.spec, self.process, self.log_file = spec, process, log_file
        self.restarts = 0
        self.exited_at: float | None = None
        """When :meth:`ProcessGroup.supervise` saw it exit, while its restart is due."""

    @property
    def label(self) -> str:
        return f'{self.spec.namespace.rstrip("/")}/{self.spec.name}'

    def tail(self, lines: int = 20) -> str:
        try:
            return '\n'.join(self.log_file.read_text(errors='replace').splitlines()[-lines:])
        except OSError:
            return ''


class ProcessGroup:
    """
    Node processes with their output in ``log_dir/<namespace>_<name>.log``.

    Their per-node parameter files are in ``log_dir/params``.

    Each node runs in its own session, so Ctrl-C in the terminal reaches only this command,
    which then stops the nodes in order: SIGINT (nodes save and exit), SIGTERM, SIGKILL. And
    each ends when this process dies, however it dies: the kernel sends it SIGTERM
    (:mod:`t3d_ros.nodes.parent_death`). The kernel ties that to the thread that started the
    node, so start and supervise from one that lives as long as the nodes should (the main
    thread).
    """

    def __init__(self, specs: Sequence[ProcessSpec], log_dir: str | Path,
                 env: dict | None = None):
        self.specs = list(specs)
        self.log_dir = Path(log_dir)
        self.params_dir = self.log_dir / 'params'
        self.env = dict(os.environ if env is None else env, PYTHONUNBUFFERED='1',
                        **parent_environment())
        self.processes: list[NodeProcess] = []

    def start(self) -> 'ProcessGroup':
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            name = f'{spec.namespace.strip("/").replace("/", "_") or "root"}_{spec.name}'
            log_file = self.log_dir / f'{name}.log'
            self.processes.append(NodeProcess(spec, self._popen(spec, log_file), log_file))
        return self

    def first_exited(self) -> NodeProcess | None:
        """Return a node that stopped on its own (nodes run until told to stop)."""
        return next((p for p in self.processes if p.process.poll() is not None), None)

    def restart(self, node: NodeProcess) -> None:
        """Start an exited node again: same command and parameters, output appended to its log."""
        if node.process.poll() is None:
            raise ValueError(f'{node.label} is still running')
        node.process = self._popen(node.spec, node.log_file)
        node.restarts += 1
        node.exited_at = None

    def supervise(self) -> NodeProcess | None:
        """
        Restart the nodes that exited on their own and may respawn, each after its delay.

        Return a node that exited for good (nodes run until told to stop): one with no respawn,
        one out of restarts, or one that exited with status 1 (it refused its parameters, and
        would again). None while every node runs or waits for its restart.
        """
        now = time.monotonic()
        for node in self.processes:
            status = node.process.poll()
            if status is None:
                continue
            respawn = node.spec.respawn
            if respawn is None or status == 1 or node.restarts >= respawn.max_retries:
                return node
            if node.exited_at is None:
                node.exited_at = now
                print(f'{node.label} exited with status {status}; restarting it in '
                      f'{respawn.delay:g} s (restart {node.restarts + 1} of at most '
                      f'{respawn.max_retries})', file=sys.stderr, flush=True)
            if now >= node.exited_at + respawn.delay:
                self.restart(node)
        return None

    def _popen(self, spec: ProcessSpec, log_file: Path) -> subprocess.Popen:
        with open(log_file, 'ab') as log:
            return subprocess.Popen(spec.command(self.params_dir, sys.executable), stdout=log,
                                    stderr=subprocess.STDOUT, env=self.env,
                                    start_new_session=True)

    def stop(self, grace: float = 20.0) -> dict[str, int]:
        """
        Stop every node; returns each node's exit status.

        Another Ctrl-C while this runs is ignored (the nodes ignore theirs too): it would
        otherwise abort the stop half way, leaving nodes running and not waiting for the
        learner's final save.
        """
        with _sigint_ignored():
            for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0),
                              (signal.SIGKILL, 5.0)):
                running = [p for p in self.processes if p.process.poll() is None]
                for p in running:
                    p.process.send_signal(sig)
                deadline = time.monotonic() + wait
                for p in running:
                    try:
                        p.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                    except subprocess.TimeoutExpired:
                        pass
        return {p.label: p.process.returncode for p in self.processes}

    def __enter__(self) -> 'ProcessGroup':
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@contextlib.contextmanager
def _sigint_ignored():
    """
    Make SIGINT say 'stopping, please wait' instead of raising KeyboardInterrupt.

    In the main thread only: elsewhere Python delivers no signals anyway.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum, frame):
        with contextlib.suppress(OSError):  # a hung-up terminal: the stop goes on regardless
            print('\nstopping the nodes (they save first); please wait', file=sys.stderr,
                  flush=True)
    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None
                      else signal.default_int_handler)


@contextlib.contextmanager
def signals_as_stop_flag() -> Iterator[list[int]]:
    """
    Make the stop signals (:data:`STOP_SIGNALS`) append their number to the yielded list.

    Instead of raising. For a loop around rclpy calls, which reads the list between them: a
    KeyboardInterrupt raised while rclpy's C++ converts a message comes out as a RuntimeError
    ("Unable to convert call argument"), which no ``except KeyboardInterrupt`` catches. A signal
    that is ignored (SIGINT in a background job, SIGHUP under ``nohup``) stays ignored. Main
    thread only: elsewhere Python delivers no signals and the list stays empty.
    """
    stop: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, lambda signum, frame: stop.append(signum))
                for signum in STOP_SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """
    Make SIGTERM and SIGHUP stop the command as Ctrl-C does.

    Node processes run in sessions of their own, so a SIGTERM to the command (systemd, docker
    stop, a job's time limit) or a SIGHUP (the terminal closed, the SSH session lost) reaches
    them only through this, and the ``with`` blocks and ``finally`` clauses stop them on the way
    out. The signal goes to the SIGINT handler of the moment (while ProcessGroup.stop waits for
    the nodes, one that says 'please wait'), else raises KeyboardInterrupt (also where Ctrl-C is
    ignored, as in a background job). An ignored one (SIGHUP under ``nohup``) stays ignored.
    """
    def interrupt(signum, frame):
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler) and handler is not signal.default_int_handler:
            return handler(signum, frame)
        raise KeyboardInterrupt(f'signal {signum}')
    try:
        previous = {signum: signal.signal(signum, interrupt)
                    for signum in (signal.SIGTERM, signal.SIGHUP)
                    if signal.getsignal(signum) is not signal.SIG_IGN}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

"""
A node process ends with the process that started it, and stops cleanly on SIGHUP (issue 18).

The parent-death request runs in small stand-in processes (a parent, and a child that records
the signal it gets), so that nothing here depends on torch or DDS; the node entry is run until
it has taken its stop signals, before its heavy imports end.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from t3d_ros.nodes.parent_death import PARENT_PID_ENV

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='the parent-death signal and /proc are Linux')

DEADLINE = 60.0
"""Seconds for a condition on a loaded machine (Python start-up, and a node's imports)."""

CHILD = textwrap.dedent('''
    import os, signal, sys, time
    from t3d_ros.nodes.parent_death import ParentGone, end_with_parent
    record = sys.argv[1]

    def note(signum, frame):
        with open(record, 'a') as out:
            out.write(signal.Signals(signum).name + chr(10))
        os._exit(0)

    signal.signal(signal.SIGTERM, note)
    try:
        parent = end_with_parent()
    except ParentGone as error:
        print(error, file=sys.stderr)
        sys.exit(3)
    with open(record, 'a') as out:
        out.write(f'started {parent} {os.environ.get("T3D_ROS_PARENT_PID")}' + chr(10))
    while True:
        time.sleep(0.05)
''')
"""A stand-in node: asks for the parent-death signal, records what it gets."""

PARENT = textwrap.dedent('''
    import os, subprocess, sys, time
    from t3d_ros.nodes.parent_death import parent_environment
    child = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]],
                             env=dict(os.environ, **parent_environment()),
                             start_new_session=True)
    print(child.pid, flush=True)
    time.sleep(600)
''')
"""A stand-in ``t3d-ros``: starts the child in a session of its own, as ProcessGroup does."""


def wait_for(condition, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f'no {what} within {timeout:.0f} s')
        time.sleep(0.02)
    return value


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, one that has ended but not been reaped, does not)."""
    try:
        with open(f'/proc/{pid}/stat') as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def read(path) -> str:
    return path.read_text() if path.exists() else ''


@pytest.fixture
def killed_at_end():
    """Yield a list of pids to SIGKILL at the end of the test, whatever happened."""
    pids = []
    yield pids
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def not_the_parent() -> int:
    """Return the pid of a process that has ended: no one's parent."""
    ended = subprocess.Popen([sys.executable, '-c', 'pass'])
    ended.wait()
    return ended.pid


def test_a_child_gets_sigterm_when_its_parent_is_sigkilled(tmp_path, killed_at_end):
    record = tmp_path / 'record'
    parent = subprocess.Popen([sys.executable, '-c', PARENT, CHILD, str(record)],
                              stdout=subprocess.PIPE, text=True)
    killed_at_end.append(parent.pid)
    child = int(parent.stdout.readline())
    killed_at_end.append(child)
    wait_for(lambda: read(record).startswith('started'), 'started child')
    # The child took the parent's pid, and took it out of its environment (its own children
    # must not inherit it).
    assert read(record).split() == ['started', str(parent.pid), 'None']

    parent.kill()
    parent.wait()

    wait_for(lambda: 'SIGTERM' in read(record), 'SIGTERM in the child after its parent died')
    wait_for(lambda: not running(child), 'child exit')


def test_a_child_whose_parent_died_before_it_asked_does_not_start(tmp_path, not_the_parent):
    """
    The race the ppid check closes: the parent died between the fork and the request.

    Modelled by naming a process that is not the child's parent.
    """
    record = tmp_path / 'record'
    child = subprocess.run([sys.executable, '-c', CHILD, str(record)],
                           env=dict(os.environ, **{PARENT_PID_ENV: str(not_the_parent)}),
                           capture_output=True, text=True, timeout=DEADLINE)
    assert child.returncode == 3, child.stderr
    assert f'process {not_the_parent}, which is not its parent' in child.stderr
    assert not record.exists()


@pytest.mark.parametrize('value,message', [
    (None, 'which is not its parent'), ('not-a-pid', 'is not a process id')])
def test_the_node_entry_refuses_to_start_without_its_parent(value, message, not_the_parent):
    """Status 1 and the reason, before any heavy import (no traceback)."""
    value = str(not_the_parent) if value is None else value
    result = subprocess.run([sys.executable, '-m', 't3d_ros.nodes.entry', 'sim_node'],
                            env=dict(os.environ, **{PARENT_PID_ENV: value}),
                            capture_output=True, text=True, timeout=DEADLINE)
    assert result.returncode == 1, result.stderr
    assert '[t3d_ros] not starting sim_node:' in result.stderr and message in result.stderr
    assert 'Traceback' not in result.stderr


def signal_mask(pid: int, field: str) -> int:
    """``SigCgt`` (caught) or ``SigIgn`` (ignored) of /proc/<pid>/status, as a bit mask."""
    with open(f'/proc/{pid}/status') as status:
        return int(next(line for line in status if line.startswith(field + ':')).split()[1], 16)


def has(mask: int, signum: int) -> bool:
    return bool(mask & (1 << (signum - 1)))


def start_entry(sighup: signal.Handlers) -> subprocess.Popen:
    """
    Start the sim node's entry with SIGHUP at ``sighup`` (SIG_DFL or SIG_IGN), output piped.

    Whatever this process has (a suite run under ``nohup`` ignores SIGHUP).
    """
    with_sighup = (f'import os, signal, sys; signal.signal(signal.SIGHUP, signal.{sighup.name}); '
                   'os.execv(sys.executable, [sys.executable, *sys.argv[1:]])')
    return subprocess.Popen([sys.executable, '-c', with_sighup, '-m', 't3d_ros.nodes.entry',
                             'sim_node', '--ros-args', '-p', 'task:=pendulum'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_sighup_while_a_node_starts_ends_it_cleanly(killed_at_end):
    """A closed terminal under ``ros2 launch`` hangs up the nodes too: no traceback."""
    process = start_entry(signal.SIG_DFL)
    killed_at_end.append(process.pid)
    wait_for(lambda: has(signal_mask(process.pid, 'SigCgt'), signal.SIGHUP),
             'SIGHUP caught by the entry')
    process.send_signal(signal.SIGHUP)
    output, _ = process.communicate(timeout=DEADLINE)
    assert process.returncode == 0, output.decode(errors='replace')
    assert b'Traceback' not in output


def test_a_node_under_nohup_keeps_ignoring_sighup(killed_at_end):
    process = start_entry(signal.SIG_IGN)
    killed_at_end.append(process.pid)
    wait_for(lambda: has(signal_mask(process.pid, 'SigCgt'), signal.SIGTERM),
             'the stop signals taken by the entry')
    assert has(signal_mask(process.pid, 'SigIgn'), signal.SIGHUP)
    assert not has(signal_mask(process.pid, 'SigCgt'), signal.SIGHUP)

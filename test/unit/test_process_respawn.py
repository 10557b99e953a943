"""
ProcessGroup restarts a process that exits on its own, as launch's ``respawn`` (issue 18).

The processes are small Python scripts standing in for nodes: each run appends a line (its
start time) to a file, then exits as the test says.
"""
import signal
import sys
import time
from dataclasses import dataclass

import pytest

from t3d_ros.graph.bringup import NodeSpec, Respawn
from t3d_ros.graph.supervisor import ProcessGroup

DEADLINE = 60.0


@dataclass(frozen=True)
class ScriptSpec(NodeSpec):
    """A node spec whose process runs ``script`` (``sys.argv[1]``: the record file)."""

    script: str = ''
    record: str = ''

    def command(self, params_dir, python: str = sys.executable) -> list[str]:
        return [python, '-c', self.script, self.record]


RECORD = 'import sys, time; open(sys.argv[1], "a").write(f"{time.monotonic()}\\n"); '
DIES_BY_SIGKILL = RECORD + 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'
REFUSES = RECORD + 'sys.exit(1)'
RUNS = RECORD + 'time.sleep(600)'


def spec(tmp_path, script: str, respawn: Respawn | None, name: str = 'node') -> ScriptSpec:
    return ScriptSpec('sim_node', name, 'robot_0', respawn=respawn, script=script,
                      record=str(tmp_path / f'{name}.starts'))


def starts(spec: ScriptSpec) -> list[float]:
    try:
        with open(spec.record) as record:
            return [float(line) for line in record]
    except FileNotFoundError:
        return []


def supervise_until_one_exits_for_good(group: ProcessGroup):
    deadline = time.monotonic() + DEADLINE
    while (exited := group.supervise()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f'no process exited for good within {DEADLINE:.0f} s')
        time.sleep(0.01)
    return exited


@pytest.fixture
def group(tmp_path):
    """Return a maker of started groups; every one is stopped at the end."""
    made = []

    def make(*specs) -> ProcessGroup:
        made.append(ProcessGroup(specs, tmp_path / 'logs').start())
        return made[-1]
    yield make
    for g in made:
        g.stop(grace=1.0)


def test_a_killed_process_is_restarted_after_its_delay_up_to_its_limit(tmp_path, group):
    dying = spec(tmp_path, DIES_BY_SIGKILL, Respawn(delay=0.3, max_retries=2))
    g = group(dying)

    exited = supervise_until_one_exits_for_good(g)

    assert exited.spec is dying and exited.restarts == 2
    assert exited.process.returncode == -signal.SIGKILL
    times = starts(dying)
    assert len(times) == 3  # the first start and 2 restarts
    assert all(later - earlier >= 0.3 for earlier, later in zip(times, times[1:])), times


def test_a_process_that_refuses_its_parameters_is_not_restarted(tmp_path, group):
    refusing = spec(tmp_path, REFUSES, Respawn(delay=0.0, max_retries=5))
    g = group(refusing)

    exited = supervise_until_one_exits_for_good(g)

    assert exited.spec is refusing and exited.restarts == 0 and exited.process.returncode == 1
    assert len(starts(refusing)) == 1


def test_a_process_without_respawn_exits_for_good(tmp_path, group):
    dying = spec(tmp_path, DIES_BY_SIGKILL, None)
    exited = supervise_until_one_exits_for_good(group(dying))
    assert exited.restarts == 0 and len(starts(dying)) == 1


def test_a_restarted_process_runs_on_and_is_stopped_with_the_group(tmp_path, group):
    runner = spec(tmp_path, RUNS, Respawn(delay=0.0, max_retries=1), name='runner')
    g = group(runner)
    (node,) = g.processes
    deadline = time.monotonic() + DEADLINE
    while not starts(runner) and time.monotonic() < deadline:
        time.sleep(0.01)
    first = node.process
    first.kill()
    first.wait()

    while node.process is first and time.monotonic() < deadline:
        assert g.supervise() is None
        time.sleep(0.01)
    assert node.restarts == 1 and node.process.poll() is None
    assert g.supervise() is None  # running: nothing to do

    statuses = g.stop(grace=1.0)
    assert node.process.poll() is not None
    assert list(statuses) == [node.label]

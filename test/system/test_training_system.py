"""
The training system as separate processes over DDS (docs/architecture.md, "The training loop").

A first test SIGKILLs a process at each step of a checkpoint save, one named point a run. Then
one graph (learner + 2 x (sim + actor), pendulum, config/test_fast.yaml) serves the other tests of
this module, in order: experience and policies flow; an actor is SIGKILLed and restarted; the
learner is SIGKILLed and resumes from its checkpoint. The test process watches /diagnostics
with a DiagnosticsMonitor.

Every process is started by a fixture that kills what is left of it, also on failure.
"""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

rclpy = pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from t3d_ros.graph.bringup import train_graph  # noqa: E402
from t3d_ros.graph.monitor import DiagnosticsMonitor  # noqa: E402
from t3d_ros.graph.supervisor import NodeProcess, ProcessGroup  # noqa: E402
from t3d_ros.td3.checkpoint import complete_checkpoints, latest_checkpoint  # noqa: E402
from t3d_ros.td3.config import TD3Config  # noqa: E402

STARTUP = 120.0
"""Seconds for five processes to import torch and PyBullet and meet on 2 loaded cores."""
PROGRESS = 60.0
"""Seconds for a counter to move on by the amounts the tests ask for."""
LEARNER, ACTOR_0, ACTOR_1 = '/learner', 'robot_0/actor', 'robot_1/actor'


CHECKPOINT_WRITER = textwrap.dedent('''
    """
    Learner core checkpointing back to back, with its replay memory; resumes if it can.

    Arguments: the run directory, the kill point (KILL_POINTS), the number of the save it is
    killed in, and the TD3 config as JSON. In that save it SIGKILLs itself at that point, as a
    kill from outside landing there would: no handler runs, no ``finally``.
    """
    import json
    import os
    import re
    import shutil
    import signal
    import sys
    from pathlib import Path

    import numpy as np
    import torch
    from t3d_ros.acting.transitions import TransitionBatch
    from t3d_ros.tasks import make_task
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.training.learner import Learner, LearnerOptions
    from t3d_ros.training.run_dir import RunDirectory

    kill_point, kill_in_save = sys.argv[2], int(sys.argv[3])
    saves = 0
    put_in_place, rename, remove_tree = os.replace, os.rename, shutil.rmtree


    def at(point):
        return point == kill_point and saves == kill_in_save - 1


    def kill_at(point):
        if at(point):
            os.kill(os.getpid(), signal.SIGKILL)


    def replace(source, destination, **kwargs):  # an atomic file write's last step
        kill_at(f'{Path(destination).name} written')
        put_in_place(source, destination, **kwargs)


    def rename_partial(source, destination):  # a checkpoint's directory to its final name
        partial = Path(source).name.startswith('.partial_')
        if partial:
            kill_at('checkpoint written')
        rename(source, destination)
        if partial:
            kill_at('checkpoint renamed')


    def prune(path, *args, **kwargs):  # an old checkpoint, killed after its first file
        if re.fullmatch('step_[0-9]+', Path(path).name) and at('pruning'):
            (Path(path) / 'state.json').unlink()
            kill_at('pruning')
        remove_tree(path, *args, **kwargs)


    torch.set_num_threads(1)
    task = make_task('pendulum')
    config = TD3Config.from_dict(json.loads(sys.argv[4]))
    options = LearnerOptions(checkpoint_every=0, keep_checkpoints=2, save_replay=True)
    learner = Learner(task, config, options, RunDirectory(sys.argv[1], tensorboard=False))
    resumed = learner.resume()
    rng = np.random.default_rng(len(sys.argv[1]) + learner.updates)
    rows = config.replay_capacity // 2
    obs = rng.normal(size=(rows, 3)).astype(np.float32)
    action = rng.uniform(-2, 2, (rows, 1))
    done = np.zeros(rows, dtype=bool)
    learner.insert(TransitionBatch('writer', 0, obs, action, rng.normal(size=rows), obs, done,
                                   done))
    os.replace, os.rename, shutil.rmtree = replace, rename_partial, prune
    while True:
        learner.agent.update(learner.memory.sample(32))
        learner.checkpoint()
        saves += 1
        print('saved', learner.updates, resumed, flush=True)
''')
PARTIAL = ['checkpoints/.partial_NEW/' + name for name in (
    'networks.safetensors', 'optimizers.safetensors', 'state.json')]
KILL_POINTS = {
    # Where the writer kills itself in a save, in the order a save passes them: whether the
    # checkpoint of that save is then complete, and the files the kill leaves behind (NEW the
    # checkpoint being saved, OLD the one being pruned).
    'networks.safetensors written': (
        False, ['checkpoints/.partial_NEW/.networks.safetensors.tmp']),
    'replay.npz written': (False, sorted(PARTIAL + ['checkpoints/.partial_NEW/.replay.npz.tmp'])),
    'checkpoint written': (False, sorted(PARTIAL + ['checkpoints/.partial_NEW/replay.npz'])),
    'checkpoint renamed': (True, []),
    'policy.safetensors written': (True, ['.policy.safetensors.tmp']),
    'pruning': (True, ['checkpoints/OLD/networks.safetensors',
                       'checkpoints/OLD/optimizers.safetensors', 'checkpoints/OLD/replay.npz']),
}
KILL_IN_SAVE = 3
"""The save of each run that is killed: the third, the first that prunes (2 are kept)."""
WRITER_CONFIG = TD3Config(hidden_sizes=(64, 64), batch_size=32, replay_capacity=2_000,
                          learning_starts=0, updates_per_step=0.0001)


@pytest.fixture
def killable():
    """Yield the processes a test starts; they are killed at the end whatever happens."""
    processes = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def leftovers(run, new: str) -> list[str]:
    """
    Files under ``run`` outside complete checkpoints and the policy bundle.

    Random parts of names dropped, the checkpoint being saved named NEW and any other OLD.
    """
    complete = complete_checkpoints(run / 'checkpoints')
    found = []
    for path in run.rglob('*'):
        if path.is_dir() or path == run / 'policy.safetensors' or any(
                checkpoint in path.parents for checkpoint in complete):
            continue
        name = re.sub(r'(_|\.)[0-9a-f]{32}(?=$|/|\.tmp)', '', str(path.relative_to(run)))
        found.append(re.sub(r'step_[0-9]{9}', 'OLD', name.replace(new, 'NEW')))
    return sorted(found)


@pytest.mark.slow
def test_sigkill_during_checkpoint_writes_leaves_a_loadable_checkpoint(tmp_path, killable):
    from t3d_ros.tasks import make_task
    from t3d_ros.bundle.policy_bundle import PolicyBundle
    from t3d_ros.training.learner import Learner, LearnerOptions
    from t3d_ros.training.run_dir import RunDirectory

    script = tmp_path / 'writer.py'
    script.write_text(CHECKPOINT_WRITER)
    run = tmp_path / 'run'
    task = make_task('pendulum')
    last_updates = 0
    for round_, (point, (saved_complete, expected)) in enumerate(KILL_POINTS.items()):
        process = subprocess.Popen(
            [sys.executable, str(script), str(run), point, str(KILL_IN_SAVE),
             json.dumps(WRITER_CONFIG.to_dict())],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
        killable.append(process)
        try:
            out, _ = process.communicate(timeout=STARTUP)
        except subprocess.TimeoutExpired:
            pytest.fail(f'the checkpoint writer never reached the kill point {point!r}')
        assert process.returncode == -signal.SIGKILL, out
        saves = [line.split() for line in out.splitlines() if line.startswith('saved')]
        assert len(saves) == KILL_IN_SAVE - 1, out
        assert [resumed == 'True' for _, _, resumed in saves] == [round_ > 0] * len(saves)
        assert int(saves[0][1]) == last_updates + 1, (out, last_updates)  # went on from there
        new = int(saves[-1][1]) + 1  # the save that was killed
        assert leftovers(run, f'step_{new:09d}') == expected, point

        # A learner resumes from the newest complete checkpoint, with its replay memory, and
        # clears the hidden leftovers (an incomplete checkpoint directory is ignored, and stays).
        learner = Learner(task, WRITER_CONFIG, LearnerOptions(save_replay=True),
                          RunDirectory(run, tensorboard=False))
        assert learner.resume(), point
        learner.run.close()
        last_updates = new if saved_complete else new - 1
        assert learner.updates == last_updates, point
        capacity = WRITER_CONFIG.replay_capacity
        assert len(learner.memory) == min(capacity // 2 * (round_ + 1), capacity)
        assert learner.counters['env_steps'] == learner.memory.total_added
        assert leftovers(run, f'step_{new:09d}') == [
            name for name in expected if '/.' not in name and not name.startswith('.')], point
        assert len(complete_checkpoints(run / 'checkpoints')) <= 2 + 1
        # The policy bundle is written atomically too.
        PolicyBundle.load(run / 'policy.safetensors').check_matches(task)


class Watch:
    """/diagnostics of the system, seen from the test process, and its node processes."""

    def __init__(self, group: ProcessGroup):
        self.group = group
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.monitor = DiagnosticsMonitor('system_test_monitor', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.monitor)
        self.dead: set[str] = set()
        """Labels of processes a test killed on purpose (not yet restarted)."""

    def value(self, status: str, key: str) -> float:
        return self.monitor.value(status, key)

    def learner(self, key: str) -> float:
        return self.value('t3d/learner', key)

    def actor(self, index: int, key: str) -> float:
        return self.value(f't3d/actor/robot_{index}', key)

    def forget(self, status: str, drain: float = 1.0) -> None:
        """
        Drop a status's latest values, so the next ones come from a new process.

        First the monitor takes what was sent before (for ``drain`` s): a killed node's last
        diagnostics, still queued in the monitor's subscription, came in after being forgotten.
        """
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        self.monitor.latest.pop(status, None)

    def spin_until(self, condition, timeout: float = PROGRESS, what: str = '') -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            for p in self.group.processes:
                if p.label not in self.dead and p.process.poll() is not None:
                    pytest.fail(f'{p.label} exited with {p.process.returncode} while waiting '
                                f'for {what}:\n{p.tail(40)}')
            if time.monotonic() > deadline:
                pytest.fail(f'no {what} within {timeout:.0f} s; diagnostics: '
                            f'{json.dumps(self.monitor.latest, indent=1)}')
            self.executor.spin_once(timeout_sec=0.1)

    def rising(self, read, by: float, what: str, timeout: float = PROGRESS) -> float:
        """Wait until ``read()`` (a number, NaN while unknown) exceeds its value now + ``by``."""
        self.spin_until(lambda: read() == read(), timeout, what)  # not NaN
        start = read()
        self.spin_until(lambda: read() >= start + by, timeout, f'{what} rising by {by}')
        return read()

    def process(self, label: str) -> NodeProcess:
        return next(p for p in self.group.processes if p.label == label)

    def kill(self, label: str) -> None:
        p = self.process(label)
        self.dead.add(label)
        p.process.send_signal(signal.SIGKILL)
        p.process.wait(timeout=30)

    def restart(self, label: str) -> None:
        """Start the node again, same command and parameters, output appended to its log."""
        self.group.restart(self.process(label))
        self.dead.discard(label)

    def close(self) -> None:
        self.executor.shutdown()
        self.monitor.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture(scope='module')
def system(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp('system') / 'run'
    overrides = {'learner': {
        'checkpoint_every': 100, 'keep_checkpoints': 2, 'resume': True,
        # Inserts may run far ahead of the updates: no throttling. A lockstep actor that the
        # learner had asked to wait (/t3d/throttle, latched) when it was SIGKILLed keeps
        # waiting until a learner starts again (it publishes false at start); without
        # throttling, the test below checks that the actors act on while the learner is down.
        'max_ahead': 10**9}}
    graph = train_graph('pendulum', 2, ['test_fast.yaml'], seed=1, run_dir=run_dir,
                        overrides=overrides, robots_per_process=1)  # one process per node
    group = ProcessGroup(graph, run_dir / 'logs')
    watch = None
    try:
        group.start()
        watch = Watch(group)
        watch.run_dir = run_dir
        yield watch
    finally:
        if watch is not None:
            watch.close()
        group.stop(grace=10.0)


@pytest.mark.slow
def test_two_actors_feed_the_learner_and_both_switch_to_new_policies(system):
    system.spin_until(lambda: system.learner('actors') == 2, STARTUP, 'transitions from 2 actors')
    system.rising(lambda: system.learner('env_steps'), 200, 'learner env steps')
    system.rising(lambda: system.learner('policy_version'), 3, 'the policy version')
    assert system.learner('updates') > 0
    for index in (0, 1):
        system.spin_until(lambda: system.actor(index, 'policy_version') > 0, PROGRESS,
                          f'robot_{index} acting with a published policy')
        assert system.actor(index, 'env_steps') > 0
        assert system.monitor.actors()[f'robot_{index}']['active'] == 'True'
    system.rising(lambda: system.actor(0, 'policy_version'), 1, 'robot_0 policy updates')
    system.rising(lambda: system.actor(1, 'policy_version'), 1, 'robot_1 policy updates')


@pytest.mark.slow
def test_a_killed_actor_does_not_stop_training_and_rejoins_with_the_latest_policy(system):
    system.spin_until(lambda: system.actor(1, 'env_steps') > 0, STARTUP, 'robot_1 acting')
    system.kill(ACTOR_1)
    system.rising(lambda: system.learner('updates'), 100, 'learner updates without robot_1')
    system.rising(lambda: system.actor(0, 'env_steps'), 100, 'robot_0 steps without robot_1')
    learner_steps = system.learner('env_steps')

    system.forget('t3d/actor/robot_1')
    system.restart(ACTOR_1)
    # It gets the latest policy (/t3d/policy is latched: test_learner_node checks that a late
    # subscriber gets it without a new publish) and acts again.
    version = system.learner('policy_version')
    system.spin_until(lambda: system.actor(1, 'policy_version') >= version, STARTUP,
                      'the restarted robot_1 with the latest policy')
    assert system.actor(1, 'policy_updates') >= 1
    system.rising(lambda: system.actor(1, 'env_steps'), 100, 'restarted robot_1 steps')
    system.spin_until(lambda: system.learner('env_steps') > learner_steps + 200, PROGRESS,
                      'learner env steps after robot_1 rejoined')
    assert system.learner('actors') == 2


@pytest.mark.slow
def test_a_killed_learner_resumes_from_its_checkpoint_while_actors_keep_acting(system):
    checkpoints = system.run_dir / 'checkpoints'
    system.spin_until(lambda: latest_checkpoint(checkpoints) is not None, STARTUP,
                      'a checkpoint')
    system.rising(lambda: system.learner('updates'), 150, 'learner updates')
    system.kill(LEARNER)
    checkpoint = latest_checkpoint(checkpoints)
    state = json.loads((checkpoint / 'state.json').read_text())
    saved = dict(state['counters'], updates=state['total_updates'])
    assert saved['updates'] > 0 and saved['env_steps'] > 0 and saved['policy_version'] > 0

    # The learner is gone: lockstep actors are not throttled (max_ahead is out of reach), so
    # they keep acting; their transitions are lost until a learner listens again.
    system.forget('t3d/learner')
    system.rising(lambda: system.actor(0, 'env_steps'), 100, 'robot_0 steps, learner down')
    system.rising(lambda: system.actor(1, 'env_steps'), 100, 'robot_1 steps, learner down')
    assert 't3d/learner' not in system.monitor.latest

    system.restart(LEARNER)
    system.spin_until(lambda: 't3d/learner' in system.monitor.latest, STARTUP,
                      'the restarted learner')
    first = {k: float(v) for k, v in system.monitor.latest['t3d/learner'].items()
             if k in ('env_steps', 'updates', 'policy_version')}
    assert first['env_steps'] >= saved['env_steps'], (first, saved)
    assert first['updates'] >= saved['updates'], (first, saved)
    assert first['policy_version'] > saved['policy_version'], (first, saved)
    assert 'resumed from' in system.process(LEARNER).tail(200)
    system.rising(lambda: system.learner('env_steps'), 200, 'env steps after the resume')
    system.rising(lambda: system.learner('updates'), 100, 'updates after the resume')
    system.spin_until(lambda: system.learner('actors') == 2, PROGRESS, 'both actors again')
    # The actors act with the resumed learner's policies.
    version = system.learner('policy_version')
    for index in (0, 1):
        system.spin_until(lambda: system.actor(index, 'policy_version') >= version, PROGRESS,
                          f'robot_{index} with a policy of the resumed learner')
    # Checkpoints go on from the resumed counts.
    system.spin_until(lambda: int(latest_checkpoint(checkpoints).name[5:]) > saved['updates'],
                      PROGRESS, 'a checkpoint after the resume')

"""
The learner node in-process.

Ingestion from several actors, the update-to-data ratio, policy bundles on /t3d/policy (transient
local), bad input, metrics, checkpoints, resume and the throttle (architecture: The training
loop).

Small networks and a tiny replay memory keep every update cheap; every wait is on a condition.
"""
import json
import math
import threading

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool, Float32MultiArray, MultiArrayDimension, UInt8MultiArray

from t3d_ros.ros import messages
from t3d_ros.nodes import learner_node
from t3d_ros.nodes.learner_node import LearnerNode
from t3d_ros.graph.monitor import DiagnosticsMonitor
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.checkpoint import latest_checkpoint
from t3d_ros.training.learner import POLICY_VERSION_BLOCK
from t3d_ros.training.run_dir import read_csv

TASK = make_task('pendulum')
CODEC = messages.TransitionCodec(TASK.obs_dim, TASK.num_joints)
SMALL = dict(task='pendulum', hidden_sizes=[16, 16], batch_size=8, learning_starts=20,
             replay_capacity=200, publish_every=5, updates_per_step=0.5, checkpoint_every=0,
             seed=3)
TIMEOUT = 30.0
"""Seconds for conditions that need a few updates or a diagnostics period (loaded CI)."""


def transitions(rows, seed=0, actor='robot_0', version=0, reward=None, done_at=(),
                terminated=False, seq=None):
    """
    Return a valid batch of pendulum transitions.

    ``done_at`` rows end an episode (truncated, or terminated with ``terminated``).
    """
    rng = np.random.default_rng(seed)
    done = np.zeros(rows, dtype=bool)
    done[list(done_at)] = True
    return messages.TransitionBatch(
        actor, version, rng.uniform(-1, 1, (rows, TASK.obs_dim)),
        rng.uniform(TASK.action_low, TASK.action_high, (rows, TASK.num_joints)),
        rng.uniform(-5, 0, rows) if reward is None else np.asarray(reward, dtype=float),
        rng.uniform(-1, 1, (rows, TASK.obs_dim)),
        done & terminated, done & (not terminated), seq)


class LearnerHarness:
    """A learner node, a transitions publisher, policy and throttle listeners, diagnostics."""

    def __init__(self, ros, **parameters):
        self.ros = ros
        self.node = ros.start(LearnerNode, **{**SMALL, **parameters})
        self.io = ros.plain_node('learner_test_io')
        self.pub = self.io.create_publisher(Float32MultiArray, '/t3d/transitions',
                                            messages.TRANSITIONS_QOS)
        self.bundles = self.listen_policy()
        self.throttle = []
        self.io.create_subscription(Bool, '/t3d/throttle',
                                    lambda msg: self.throttle.append(msg.data),
                                    messages.LATCHED_QOS)
        self.monitor = ros.add(DiagnosticsMonitor('learner_test_monitor', context=ros.context))
        assert ros.spin_until(lambda: self.pub.get_subscription_count() >= 1, TIMEOUT)

    def listen_policy(self):
        """
        Subscribe to /t3d/policy as the actors do (transient local); return the bundles' list.

        With a deeper history than theirs, so that bundles published in quick succession are
        all kept until taken (the learner's own history keeps the latest alone).
        """
        received = []
        self.io.create_subscription(
            UInt8MultiArray, '/t3d/policy',
            lambda msg: received.append(PolicyBundle.from_bytes(bytes(msg.data))),
            QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL))
        return received

    def wait_bundle(self, received, version):
        """
        Spin until ``received`` (a ``listen_policy`` list) holds ``version``; return that bundle.

        The condition is the version, not any bundle: in one process, a destroyed learner's
        transient-local writer can still hand a late subscriber its last bundle, after the
        new learner's.
        """
        assert self.ros.spin_until(
            lambda: any(b.policy_version == version for b in received), TIMEOUT), \
            [b.policy_version for b in received]
        return next(b for b in received if b.policy_version == version)

    def send(self, msg_or_batch):
        msg = (CODEC.encode(msg_or_batch) if isinstance(msg_or_batch, messages.TransitionBatch)
               else msg_or_batch)
        self.pub.publish(msg)

    @property
    def learner(self):
        return self.node.learner

    def diagnostics(self):
        return self.monitor.learner()

    def wait_diagnostics(self, **expected):
        """Spin until the learner's /diagnostics show every ``key=value`` (numbers)."""
        def shown():
            values = self.diagnostics()
            return all(float(values.get(key, 'nan')) == value for key, value in expected.items())
        assert self.ros.spin_until(shown, TIMEOUT), (expected, self.diagnostics())
        return self.diagnostics()

    def wait_env_steps(self, count):
        assert self.ros.spin_until(lambda: self.learner.counters['env_steps'] >= count,
                                   TIMEOUT), self.learner.stats()
        assert self.learner.counters['env_steps'] == count

    def wait_updates(self, count):
        assert self.ros.spin_until(lambda: self.learner.updates >= count, TIMEOUT), \
            self.learner.stats()


def stop(ros, node):
    """Close a node before the test ends (as its process would on SIGINT) and forget it."""
    node.close()
    ros.nodes.remove(node)
    ros.executor.remove_node(node)
    node.destroy_node()


def learner_statuses(h):
    """Subscribe to /diagnostics; return the list the learner's statuses land in."""
    statuses = []
    h.io.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: statuses.extend(s for s in msg.status if s.name == 't3d/learner'), 10)
    return statuses


def target_updates(env_steps, learning_starts=SMALL['learning_starts'],
                   ratio=SMALL['updates_per_step']):
    return max(0, math.floor((env_steps - learning_starts) * ratio))


def test_two_actors_are_ingested_updates_keep_the_ratio_and_policies_flow(ros, tmp_path):
    h = LearnerHarness(ros, run_dir=str(tmp_path / 'run'))
    for i in range(3):  # 60 transitions, interleaved from two actors
        h.send(transitions(10, seed=i, actor='robot_0'))
        h.send(transitions(10, seed=10 + i, actor='robot_1', version=0))
    h.wait_env_steps(60)
    expected = target_updates(60)  # floor((60 - 20) * 0.5) = 20
    h.wait_updates(expected)
    h.ros.spin_for(0.5)  # the update thread must stop at the ratio, not run on
    assert h.learner.updates == expected
    values = h.wait_diagnostics(actors=2, env_steps=60, updates=expected,
                                policy_version=expected // 5, buffer_size=60)
    assert math.isfinite(float(values['critic_loss'])), values

    # A new policy every publish_every updates, versions rising, each one for this task. (A
    # reliable writer that keeps the latest alone may replace one not yet delivered.)
    assert h.ros.spin_until(lambda: h.bundles and h.bundles[-1].policy_version == expected // 5,
                            TIMEOUT)
    versions = [b.policy_version for b in h.bundles]
    assert versions == sorted(set(versions)) and versions[0] >= 1, versions
    assert [b.update_step for b in h.bundles] == [5 * v for v in versions]
    for bundle in h.bundles:
        bundle.check_matches(TASK)
        assert bundle.hidden_sizes == (16, 16)
    policy = h.bundles[-1].make_policy()
    action = policy(np.zeros(TASK.obs_dim, dtype=np.float32))
    assert action.shape == (1,) and TASK.action_low[0] <= action[0] <= TASK.action_high[0]

    # Transient local: a subscriber that comes late still gets the latest bundle, only it.
    late = h.listen_policy()
    assert h.ros.spin_until(lambda: late, TIMEOUT)
    h.ros.spin_for(0.3)
    assert [b.policy_version for b in late] == [expected // 5]
    assert late[0] == h.bundles[-1]

    # More data: the ratio holds on.
    h.send(transitions(20, seed=99, actor='robot_1'))
    h.wait_env_steps(80)
    h.wait_updates(target_updates(80))
    h.ros.spin_for(0.3)
    assert h.learner.updates == target_updates(80) == 30
    h.wait_diagnostics(actors=2, env_steps=80, policy_version=6)


def _relabel(msg, index, label=None, size=None):
    dim = msg.layout.dim[index]
    msg.layout.dim[index] = MultiArrayDimension(
        label=dim.label if label is None else label, size=dim.size if size is None else size,
        stride=dim.stride)
    return msg


def bad_messages():
    """(reason counted, message) for whole messages that must be dropped."""
    good = lambda: CODEC.encode(transitions(4, seed=5))  # noqa: E731
    no_dims = good()
    no_dims.layout.dim = []
    reordered = good()
    reordered.layout.dim = [reordered.layout.dim[0], *reversed(reordered.layout.dim[1:])]
    other_sizes = messages.TransitionCodec(TASK.obs_dim + 1, TASK.num_joints).encode(
        messages.TransitionBatch('robot_0', 0, np.zeros((2, 4)), np.zeros((2, 1)), np.zeros(2),
                                 np.zeros((2, 4)), np.zeros(2), np.zeros(2)))
    short = good()
    short.data = short.data[:-1]
    long = good()
    long.data = np.concatenate([np.asarray(long.data), [0.0]]).astype(np.float32)
    header = 't3d_transitions/1;actor=robot_0;policy_version=0'
    return [
        ('bad_layout', no_dims),
        ('bad_layout', reordered),
        ('bad_layout', other_sizes),
        ('bad_layout', _relabel(good(), 2, size=TASK.num_joints + 1)),  # action width
        ('bad_layout', _relabel(good(), 0, size=0)),
        ('bad_layout', _relabel(good(), 0, size=10**9)),
        ('bad_length', _relabel(good(), 0, size=3)),  # says 3 rows, has data for 4
        ('bad_length', short),
        ('bad_length', long),
        ('bad_layout', _relabel(good(), 0, label='garbage')),
        ('bad_layout', _relabel(good(), 0, label='')),
        ('bad_layout', _relabel(good(), 0, label='t3d_transitions/2;actor=x;policy_version=0')),
        ('bad_layout', _relabel(good(), 0, label='t3d_transitions/1;actor=x')),
        ('bad_layout', _relabel(good(), 0, label='t3d_transitions/1;actor;policy_version=1')),
        ('bad_layout', _relabel(good(), 0, label='t3d_transitions/1;actor=x;policy_version=v')),
        ('bad_layout', _relabel(good(), 1, label='observation')),
        ('bad_layout', _relabel(good(), 0, label=header.replace('t3d', '\x00\xff'))),
    ]


def test_bad_transitions_are_dropped_and_counted_never_a_crash(ros):
    h = LearnerHarness(ros)
    cases = bad_messages()
    for _, msg in cases:
        h.send(msg)
    # Rows that are not finite, absurd, or have flags other than 0/1: only those rows go.
    batch = transitions(8, seed=1, actor='robot_0')
    obs, reward, terminated = batch.obs.copy(), batch.reward.copy(), batch.terminated.astype(float)
    obs[1, 0] = np.nan
    reward[3] = np.inf
    obs[5, 2] = 1e9
    terminated[6] = 0.5
    h.send(batch._replace(obs=obs, reward=reward, terminated=terminated))
    # Actions outside the task's limits (pendulum: +-2 N m): those rows are dropped.
    batch = transitions(6, seed=2, actor='robot_1')
    action = batch.action.copy()
    action[0, 0], action[4, 0] = 2.5, -7.0
    h.send(batch._replace(action=action))
    h.send(transitions(5, seed=3, actor='robot_1'))  # and good data still gets in

    expected_steps = (8 - 4) + (6 - 2) + 5
    h.wait_env_steps(expected_steps)
    reasons = [reason for reason, _ in cases]
    values = h.wait_diagnostics(
        env_steps=expected_steps, buffer_size=expected_steps, actors=2,
        dropped_transitions_bad_layout=reasons.count('bad_layout'),
        dropped_transitions_bad_length=reasons.count('bad_length'),
        dropped_transitions_bad_rows=1, dropped_transitions_action_out_of_limits=1,
        dropped_out_of_limits=2)
    stored = len(h.learner.memory)
    assert np.all(np.abs(h.learner.memory.action[:stored]) <= 1.0), values  # unit actions
    for field in ('obs', 'reward', 'next_obs'):
        assert np.all(np.abs(getattr(h.learner.memory, field)[:stored]) <= 5.0), field


def test_an_episode_end_is_on_diagnostics_at_once_not_at_the_next_tick(ros, monkeypatch):
    # A stop rule that watches the recent return (t3d-ros train --target-return, the bench)
    # must not wait for the periodic tick: with none due for an hour, the return still shows.
    monkeypatch.setattr(learner_node, 'DIAGNOSTICS_PERIOD', 3600.0)
    h = LearnerHarness(ros)
    statuses = learner_statuses(h)
    h.send(transitions(4, seed=1, reward=[-1.0] * 4))
    h.wait_env_steps(4)
    ros.spin_for(0.5)
    assert statuses == []  # no episode ended: nothing to say before the tick
    h.send(transitions(3, seed=2, reward=[-2.0] * 3, done_at=[2]))
    values = h.wait_diagnostics(episodes=1, env_steps=7, recent_return=-10.0)
    assert float(values['updates_per_s']) == 0.0  # no period measured yet


def test_episode_returns_go_to_metrics_and_close_saves_checkpoint_and_policy(ros, tmp_path):
    run = tmp_path / 'run'
    h = LearnerHarness(ros, run_dir=str(run))
    # Two actors' episodes interleave; each actor's stream is summed on its own.
    h.send(transitions(2, seed=1, actor='robot_0', reward=[-1.0, -2.0]))
    h.send(transitions(3, seed=2, actor='robot_1', reward=[0.5, 0.5, 0.5], done_at=[2],
                       terminated=True))
    h.send(transitions(2, seed=3, actor='robot_0', reward=[-3.0, -4.0], done_at=[1]))
    h.send(transitions(30, seed=4, actor='robot_1', reward=np.full(30, -0.25), done_at=[9]))
    h.wait_env_steps(37)
    h.wait_updates(target_updates(37))
    h.wait_diagnostics(episodes=3, recent_return=float(f'{np.mean([1.5, -10.0, -2.5]):.6g}'))

    metrics = read_csv(run / 'metrics.csv')
    assert list(metrics['actor_id']) == ['robot_1', 'robot_0', 'robot_1']
    np.testing.assert_allclose(metrics['episode_return'], [1.5, -10.0, -2.5], rtol=1e-6)
    np.testing.assert_array_equal(metrics['episode_length'], [3, 4, 10])
    assert np.all(np.diff(metrics['env_steps']) >= 0)

    updates = h.learner.updates
    stop(ros, h.node)
    checkpoint = latest_checkpoint(run / 'checkpoints')
    assert checkpoint is not None and checkpoint.name == f'step_{updates:09d}'
    bundle = PolicyBundle.load(run / 'policy.safetensors')
    bundle.check_matches(TASK)
    assert bundle.update_step == updates
    assert (run / 'tensorboard').is_dir()


@pytest.mark.parametrize('save_replay', [False, True])
def test_resume_continues_counters_and_republishes_at_once(ros, tmp_path, save_replay):
    run = str(tmp_path / 'run')
    first = LearnerHarness(ros, run_dir=run, save_replay=save_replay)
    first.send(transitions(30, seed=1, actor='robot_0', done_at=[9]))
    first.send(transitions(30, seed=2, actor='robot_1'))
    first.wait_env_steps(60)
    first.wait_updates(20)
    final = first.wait_bundle(first.bundles, 4)
    stop(ros, first.node)

    second = ros.start(LearnerNode, **{**SMALL, 'run_dir': run, 'resume': True,
                                       'save_replay': save_replay})
    learner = second.learner
    assert learner.counters['env_steps'] == 60
    assert learner.counters['episodes'] == 1
    assert learner.updates == 20
    assert learner.counters['policy_version'] == 5  # 4 before, republished as 5 at once
    assert len(learner.memory) == (60 if save_replay else 0)
    late = first.listen_policy()
    republished = first.wait_bundle(late, 5)
    assert republished.update_step == 20
    for name, tensor in final.actor_state.items():
        assert (republished.actor_state[name] == tensor).all(), name

    # Training goes on from there: 20 more transitions -> 10 more updates at 0.5 per step,
    # after learning_starts (20) are held again where the checkpoint has no replay memory.
    more = 20 if save_replay else 40
    first.send(transitions(more, seed=3, actor='robot_0'))
    assert ros.spin_until(lambda: learner.counters['env_steps'] == 60 + more, TIMEOUT)
    assert ros.spin_until(lambda: learner.updates >= 30, TIMEOUT), learner.stats()
    ros.spin_for(0.3)
    assert learner.updates == 30
    assert ros.spin_until(lambda: learner.counters['policy_version'] == 7, TIMEOUT)
    first.wait_bundle(late, 7)


def test_resume_false_starts_fresh(ros, tmp_path):
    run = str(tmp_path / 'run')
    first = LearnerHarness(ros, run_dir=run)
    first.send(transitions(40, seed=1))
    first.wait_env_steps(40)
    first.wait_updates(10)
    stop(ros, first.node)
    second = ros.start(LearnerNode, **{**SMALL, 'run_dir': run, 'resume': False})
    assert second.learner.counters['env_steps'] == 0 and second.learner.updates == 0


def test_a_ceiling_lets_the_learner_run_ahead_of_the_floor_and_no_further(ros):
    """Floor 0.5, ceiling 2: 60 transitions (40 past learning_starts) make 80 updates."""
    h = LearnerHarness(ros, max_updates_per_step=2.0, max_ahead=12)
    for i in range(6):  # a batch at a time: each 10 ahead of the floor at most
        h.send(transitions(10, seed=i))
        h.wait_env_steps(10 * (i + 1))
        h.wait_updates(2 * max(0, 10 * (i + 1) - 20))
    values = h.wait_diagnostics(updates=80, env_steps=60, updates_per_step=2.0,
                                recent_updates_per_step=2.0)
    assert h.learner.updates == 80, values
    assert h.throttle == [False]  # above the floor: never asked to wait


def test_throttle_asks_actors_to_wait_while_inserts_run_ahead(ros):
    h = LearnerHarness(ros, max_ahead=4, updates_per_step=1.0)
    statuses = learner_statuses(h)
    assert h.learner.limiter.max_ahead == 4
    gate = threading.Event()  # slow updates: none finishes until the gate opens
    update = h.learner.agent.update
    h.learner.agent.update = lambda batch: (gate.wait(TIMEOUT), update(batch))[1]
    try:
        assert h.ros.spin_until(lambda: h.throttle == [False], TIMEOUT), h.throttle
        h.send(transitions(20, seed=1))  # up to learning_starts: nothing to catch up
        h.wait_env_steps(20)
        h.ros.spin_for(0.3)
        assert h.throttle == [False]
        h.send(transitions(3, seed=2))  # 3 ahead: still within max_ahead
        h.wait_env_steps(23)
        h.send(transitions(5, seed=3))  # 8 ahead of 0 updates: > max_ahead 4
        assert h.ros.spin_until(lambda: h.throttle == [False, True], TIMEOUT), h.throttle
        assert h.learner.should_throttle()
        assert h.ros.spin_until(lambda: statuses and statuses[-1].level == DiagnosticStatus.WARN,
                                TIMEOUT), statuses[-1]  # throttling is a WARN (issue 8.14)
        assert 'throttling' in statuses[-1].message
        gate.set()  # updates catch up: 8 updates for 8 transitions past learning_starts
        h.wait_updates(8)
        assert h.ros.spin_until(lambda: h.throttle == [False, True, False], TIMEOUT), \
            h.throttle
        assert h.ros.spin_until(lambda: h.diagnostics().get('throttled') == 'False', TIMEOUT)
    finally:
        gate.set()


def test_a_slow_checkpoint_write_does_not_stall_ingestion(ros, tmp_path, monkeypatch):
    """
    Updates run in their own thread "so ingestion never stalls" (architecture: The training loop).

    Not even while that thread writes a checkpoint to a slow disk (here: one that blocks).
    """
    from t3d_ros.training import learner as learner_module

    writing, disk = threading.Event(), threading.Event()
    timed_out = []
    save = learner_module.save_checkpoint

    def slow_save(*args, **kwargs):
        writing.set()
        if not disk.wait(TIMEOUT):
            timed_out.append(True)
        return save(*args, **kwargs)
    monkeypatch.setattr(learner_module, 'save_checkpoint', slow_save)
    h = LearnerHarness(ros, run_dir=str(tmp_path / 'run'), checkpoint_every=5, save_replay=True)
    try:
        h.send(transitions(30, seed=1))  # 5 updates: the first checkpoint starts
        assert h.ros.spin_until(writing.is_set, TIMEOUT)
        h.send(transitions(10, seed=2))
        h.send(transitions(10, seed=3))
        # Inserted while the checkpoint is still being written.
        assert h.ros.spin_until(lambda: h.learner.counters['env_steps'] == 50, TIMEOUT), \
            h.learner.counters
        assert not timed_out, 'ingestion waited for the checkpoint write to finish'
        h.wait_diagnostics(env_steps=50)  # the diagnostics timer is not blocked either
    finally:
        disk.set()
    # The checkpoint holds the state of when it was taken, and loads.
    assert h.ros.spin_until(
        lambda: latest_checkpoint(tmp_path / 'run' / 'checkpoints') is not None, TIMEOUT)
    checkpoint = latest_checkpoint(tmp_path / 'run' / 'checkpoints')
    state = json.loads((checkpoint / 'state.json').read_text())
    assert state['total_updates'] == 5 and state['counters']['env_steps'] == 30
    assert state['memory']['size'] == 30 and state['memory']['total_added'] == 30
    with np.load(checkpoint / 'replay.npz') as replay:
        assert replay['obs'].shape == (30, TASK.obs_dim)
        np.testing.assert_array_equal(replay['obs'],
                                      transitions(30, seed=1).obs.astype(np.float32))


def test_a_failing_update_thread_stops_the_node_loudly(ros):
    """
    Fail the node when its TD3 updates die.

    If updates die (a bug, no memory, a full disk while checkpointing), the node must not go on
    ingesting with frozen updates (actors throttled for ever): it fails, so its process exits
    non-zero and the supervisor says why.
    """
    h = LearnerHarness(ros)
    statuses = learner_statuses(h)
    update = h.learner.agent.update

    def failing(batch):
        if h.learner.updates >= 3:
            raise RuntimeError('boom: no memory left')
        return update(batch)
    h.learner.agent.update = failing
    h.send(transitions(40, seed=1))
    with pytest.raises(RuntimeError, match='boom: no memory left'):
        h.ros.spin_until(lambda: False, TIMEOUT)
    assert h.learner.updates == 3
    # Operators see why on /diagnostics before the process exits: an ERROR naming it.
    h.ros.spin_until(lambda: statuses and statuses[-1].level == DiagnosticStatus.ERROR, 2.0)
    assert statuses[-1].level == DiagnosticStatus.ERROR, statuses[-1]
    assert 'boom: no memory left' in statuses[-1].message


def test_the_throttle_never_waits_for_updates_that_cannot_run(ros):
    """
    Fewer transitions than a batch.

    No update can run, so pausing the actors would wait for ever (learning_starts + max_ahead <
    batch_size here).
    """
    h = LearnerHarness(ros, learning_starts=0, max_ahead=2, updates_per_step=1.0)
    h.send(transitions(5, seed=1))  # 5 ahead of 0 updates, but a batch is 8
    h.wait_env_steps(5)
    h.wait_diagnostics(env_steps=5)
    assert h.diagnostics()['throttled'] == 'False'
    assert h.throttle == [False]
    h.send(transitions(5, seed=2))  # now updates can run: they catch up
    h.wait_updates(10)
    assert h.ros.spin_until(lambda: h.throttle[-1] is False
                            and h.diagnostics().get('throttled') == 'False', TIMEOUT)


def test_resume_without_replay_does_not_deadlock_on_the_throttle(ros, tmp_path):
    """
    A checkpoint taken while inserts were ahead of the updates, resumed without its replay memory.

    The memory starts empty, so the learner must let the actors fill it to learning_starts; the
    updates owed to the data that is gone are not made on the new data.
    """
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.training.learner import Learner, LearnerOptions
    from t3d_ros.training.run_dir import RunDirectory

    run = tmp_path / 'run'
    config = TD3Config(hidden_sizes=(16, 16), batch_size=8, learning_starts=20,
                       replay_capacity=200, updates_per_step=0.5, seed=3)
    behind = Learner(TASK, config, LearnerOptions(), RunDirectory(run, tensorboard=False))
    batch = transitions(200, seed=1)
    behind.insert(batch)  # 200 inserted, no update ran: 90 updates owed
    behind.checkpoint()
    behind.run.close()

    h = LearnerHarness(ros, run_dir=str(run), resume=True, max_ahead=10)
    assert h.learner.counters['env_steps'] == 200 and len(h.learner.memory) == 0
    h.send(transitions(4, seed=2))
    h.wait_env_steps(204)
    assert not h.learner.should_throttle()
    h.send(transitions(8, seed=3))  # a batch, fewer than learning_starts: no update yet
    h.wait_env_steps(212)
    assert not h.learner.should_throttle() and h.learner.updates == 0
    h.send(transitions(14, seed=4))  # 6 past learning_starts held: 3 updates, none owed
    h.wait_updates(3)
    assert h.ros.spin_until(lambda: h.throttle and h.throttle[-1] is False
                            and h.diagnostics().get('throttled') == 'False', TIMEOUT), h.throttle


def test_lost_messages_are_counted_per_actor_from_the_sequence_numbers(ros):
    h = LearnerHarness(ros)
    for seq in (0, 1, 4, 5, 9):  # 2, 3 and 6-8 never arrive
        h.send(transitions(2, seed=seq, actor='robot_0', seq=seq))
    for seq in range(3):
        h.send(transitions(2, seed=10 + seq, actor='robot_1', seq=seq))
    h.send(transitions(2, seed=20, actor='old_actor'))  # no numbers: accepted, uncounted
    h.send(transitions(2, seed=21, actor='old_actor'))
    values = h.wait_diagnostics(env_steps=20, actors=3, lost_messages=5)
    assert values['lost_messages.robot_0'] == '5'
    assert 'lost_messages.robot_1' not in values and 'lost_messages.old_actor' not in values
    assert values['actor_restarts'] == '0'


def test_an_actor_restarted_mid_episode_starts_a_new_episode(ros, tmp_path):
    """
    Start a new episode when an actor restarts mid-episode.

    The tracker must not join the episode a crashed actor left half done with the first episode
    of its new process (whose numbers start again at 0).
    """
    run = tmp_path / 'run'
    h = LearnerHarness(ros, run_dir=str(run))
    h.send(transitions(3, seed=1, reward=[-1.0, -1.0, -1.0], seq=0))
    h.send(transitions(3, seed=2, reward=[-1.0, -1.0, -1.0], seq=1))  # then the actor dies
    h.send(transitions(2, seed=3, reward=[-2.0, -2.0], done_at=[1], seq=0))  # restarted
    h.send(transitions(2, seed=4, reward=[-0.5, -0.5], done_at=[1], seq=1))
    h.wait_diagnostics(env_steps=10, episodes=2, actor_restarts=1, episodes_discarded=1)
    metrics = read_csv(run / 'metrics.csv')
    np.testing.assert_allclose(metrics['episode_return'], [-4.0, -1.0])
    np.testing.assert_array_equal(metrics['episode_length'], [2, 2])


def test_an_episode_with_lost_messages_is_not_reported(ros, tmp_path):
    run = tmp_path / 'run'
    h = LearnerHarness(ros, run_dir=str(run))
    h.send(transitions(3, seed=1, reward=[-1.0, -1.0, -1.0], seq=0))
    h.send(transitions(2, seed=2, reward=[-3.0, -3.0], done_at=[1], seq=2))  # seq 1 lost
    h.send(transitions(2, seed=3, reward=[-0.5, -0.5], done_at=[1], seq=3))
    h.wait_diagnostics(env_steps=7, episodes=1, lost_messages=1, episodes_discarded=1)
    metrics = read_csv(run / 'metrics.csv')
    np.testing.assert_allclose(metrics['episode_return'], [-1.0])


def test_the_actor_table_is_bounded_and_refusals_are_counted(ros):
    """A peer claiming ever new actor ids must not grow the learner's memory."""
    h = LearnerHarness(ros, max_actors=2)
    for i in range(5):
        h.send(transitions(2, seed=i, actor=f'robot_{i}', seq=0))
    h.send(transitions(2, seed=9, actor='robot_1', seq=1))  # a known actor goes on
    h.wait_diagnostics(env_steps=6, actors=2, dropped_transitions_too_many_actors=3,
                       refused_actor_messages=3)
    learner = h.learner
    assert len(learner.streams) == 2 and len(learner.streams.lost) == 2
    assert set(learner.episodes._returns) <= {'robot_0', 'robot_1'}


def test_policy_versions_keep_rising_after_a_crash_and_resume(ros, tmp_path):
    """
    Keep policy versions rising across a crash and a resume.

    Versions published after the last checkpoint must not be issued again (with other weights)
    by the learner that resumes from that checkpoint after a crash.
    """
    run = str(tmp_path / 'run')
    first = LearnerHarness(ros, run_dir=run, checkpoint_every=10)
    first.send(transitions(60, seed=1))
    first.wait_updates(20)  # checkpoints at 10 and 20 updates; versions 1-4
    first.send(transitions(20, seed=2))
    first.wait_updates(30)  # versions 5, 6 published; a checkpoint at 30 ...
    assert ros.spin_until(lambda: first.bundles and first.bundles[-1].policy_version >= 6,
                          TIMEOUT)
    highest = first.learner.counters['policy_version']
    # ... is lost in the crash: the process dies without closing, the last checkpoint is 20.
    first.learner.stop()
    ros.nodes.remove(first.node)
    ros.executor.remove_node(first.node)
    first.node.destroy_node()
    checkpoints = tmp_path / 'run' / 'checkpoints'
    import shutil
    shutil.rmtree(latest_checkpoint(checkpoints))
    assert latest_checkpoint(checkpoints).name == f'step_{20:09d}'

    second = ros.start(LearnerNode, **{**SMALL, 'run_dir': run, 'resume': True})
    assert second.learner.updates == 20
    # Republished at once, above every version the first learner may have issued: the first
    # of the next block of versions recorded in the run directory.
    resumed = POLICY_VERSION_BLOCK + 1
    assert highest < POLICY_VERSION_BLOCK and second.learner.counters['policy_version'] == resumed
    assert first.wait_bundle(first.listen_policy(), resumed).update_step == 20


def test_resume_removes_what_a_crash_left_half_written(ros, tmp_path):
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.training.learner import Learner, LearnerOptions
    from t3d_ros.training.run_dir import RunDirectory

    run = tmp_path / 'run'
    config = TD3Config(hidden_sizes=(16, 16), batch_size=8, replay_capacity=200)
    crashed = Learner(TASK, config, LearnerOptions(), RunDirectory(run, tensorboard=False))
    crashed.insert(transitions(20, seed=1))
    complete = crashed.checkpoint()
    crashed.run.close()
    leftovers = [run / 'checkpoints' / '.partial_step_000000009_0123abcd',
                 run / 'checkpoints' / f'.stale_.partial_{complete.name}_4567',
                 run / f'.policy.safetensors.{"ab" * 16}.tmp']
    for path in leftovers[:2]:
        path.mkdir()
    leftovers[2].write_bytes(b'half a bundle')

    LearnerHarness(ros, run_dir=str(run), resume=True)
    assert not [path for path in leftovers if path.exists()]
    assert sorted(p.name for p in (run / 'checkpoints').iterdir()) == [complete.name]


def test_parameters_are_typed_with_ranges_in_their_descriptors(ros):
    from rcl_interfaces.msg import ParameterType

    node = ros.start(LearnerNode, **SMALL)
    described = {d.name: d for d in node.describe_parameters(
        ['tau', 'gamma', 'batch_size', 'hidden_sizes', 'publish_every', 'max_actors',
         'updates_per_step', 'torch_threads', 'device', 'backend'])}
    assert not any(d.dynamic_typing for d in described.values())
    tau = described['tau'].floating_point_range[0]
    assert (tau.from_value, tau.to_value) == (0.0, 1.0)
    assert described['batch_size'].integer_range[0].from_value == 1
    assert described['hidden_sizes'].type == ParameterType.PARAMETER_INTEGER_ARRAY
    assert described['hidden_sizes'].integer_range[0].from_value == 1
    assert described['publish_every'].integer_range[0].from_value == 1
    assert described['max_actors'].integer_range[0].from_value == 1
    assert described['torch_threads'].integer_range[0].from_value == 1
    assert 'cuda' in described['device'].additional_constraints
    assert described['backend'].additional_constraints == 'one of: fast, plain'


@pytest.mark.parametrize('name, value', [
    ('publish_every', 0), ('keep_checkpoints', 0), ('max_actors', 0), ('max_ahead', 0),
    ('checkpoint_every', -1), ('torch_threads', 0), ('tau', 1.5), ('batch_size', 0),
    ('hidden_sizes', [16, 0]), ('device', 'gpu'), ('updates_per_step', -1.0),
    ('batch_size', 2.5), ('tau', 0.0), ('actor_lr', 0.0), ('backend', 'autograd'),
    ('policy_noise', float('inf')),  # used to pass the range [0, inf]: NaN target actions
])
def test_a_value_that_cannot_work_is_refused_at_start_with_its_name(ros, name, value):
    """E.g. publish_every 0 used to start, then kill the update thread at its first update."""
    with pytest.raises(ValueError, match=name):
        ros.start(LearnerNode, **{**SMALL, name: value})


def test_a_learner_restarted_under_a_running_actor_reports_whole_episodes_only(ros, tmp_path):
    """
    The resumed learner first hears the actor mid-episode (its seq goes on from 4).

    The part it heard is discarded and counted; the actor's next episode is reported whole,
    and the run's wall time goes on from the first learner's rows.
    """
    run = tmp_path / 'run'
    first = LearnerHarness(ros, run_dir=str(run))
    first.send(transitions(10, seed=1, reward=np.full(10, -1.0), done_at=[9], seq=0))
    first.send(transitions(4, seed=2, seq=1))  # an episode under way when the learner dies
    first.wait_env_steps(14)
    first.wait_diagnostics(episodes=1)
    stop(ros, first.node)

    second = ros.start(LearnerNode, **{**SMALL, 'run_dir': str(run), 'resume': True})
    assert ros.spin_until(lambda: first.pub.get_subscription_count() >= 1, TIMEOUT)
    # seq 2 and 3 went out while no learner listened; the resumed learner hears 4 first.
    first.send(transitions(6, seed=3, reward=np.full(6, -0.5), done_at=[5], seq=4))
    first.send(transitions(10, seed=4, reward=np.full(10, -2.0), done_at=[9], seq=5))
    first.wait_diagnostics(episodes=2, episodes_discarded=1, lost_messages=0)
    stop(ros, second)
    metrics = read_csv(run / 'metrics.csv')
    np.testing.assert_allclose(metrics['episode_return'], [-10.0, -20.0])
    np.testing.assert_array_equal(metrics['episode_length'], [10, 10])
    assert np.all(np.diff(metrics['wall_time_s']) >= 0)


def test_a_seq_jump_no_actor_could_make_is_suspicious_not_lost(ros):
    """One message numbered 10^9 is neither 10^9 losses nor the stream's new place."""
    h = LearnerHarness(ros)
    h.send(transitions(2, seed=1, seq=0))
    h.send(transitions(2, seed=2, seq=1_000_000_000))
    h.send(transitions(2, seed=3, seq=1))
    h.wait_diagnostics(env_steps=4, suspicious_messages=1, lost_messages=0, actor_restarts=0)

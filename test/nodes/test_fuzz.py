"""
Bad input of every kind at every subscription, while training and deployed actors run.

docs/architecture.md, "Safety": nothing crashes, nothing bad is forwarded, everything is counted.

In one process: a lockstep sim, a training actor and a learner (small networks) training
reacher in ``robot_0``, and a deploy actor in ``robot_1`` driven by a fake robot. A seeded
fuzzer throws malformed joint states, commands, transitions, policy bytes, goals and e_stop
toggles for ~12 s; a recorder listens on every command topic.
"""
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from sensor_msgs.msg import JointState
from std_msgs.msg import (Bool, Float32MultiArray, Float64MultiArray, MultiArrayDimension,
                          UInt8MultiArray)

from t3d_ros.ros import messages
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.learner_node import LearnerNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TASK = make_task('reacher')
JOINTS = list(TASK.joint_names)
FUZZ_SECONDS = 12.0
FUZZ_RATE_HZ = 40.0
MAX_POLICY_BYTES = 200_000
CODEC = messages.TransitionCodec(TASK.obs_dim, TASK.num_joints)
LEARNER = dict(task='reacher', hidden_sizes=[32, 32], batch_size=32, learning_starts=64,
               replay_capacity=5000, publish_every=10, updates_per_step=0.5,
               checkpoint_every=0, seed=2)


def bundle_for(task, seed=3):
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=seed))
    return PolicyBundle.from_agent(agent, task, policy_version=1)


def joint_state(names, position, velocity, stamp_ns):
    msg = JointState(name=list(names), position=[float(v) for v in position],
                     velocity=[float(v) for v in velocity])
    msg.header.stamp = messages.ns_to_stamp(stamp_ns)
    return msg


def transitions(rng, rows=4, **replace):
    """Return a valid-looking transitions message, with parts replaced."""
    batch = messages.TransitionBatch(
        'fuzzer', 0, rng.uniform(-1, 1, (rows, TASK.obs_dim)),
        rng.uniform(TASK.action_low, TASK.action_high, (rows, TASK.num_joints)),
        rng.uniform(-1, 0, rows), rng.uniform(-1, 1, (rows, TASK.obs_dim)),
        np.zeros(rows, bool), np.zeros(rows, bool))
    msg = CODEC.encode(batch._replace(**{k: v for k, v in replace.items()
                                         if k in messages.TransitionBatch._fields}))
    return msg


def with_dims(msg, change):
    dims = [MultiArrayDimension(label=d.label, size=d.size, stride=d.stride)
            for d in msg.layout.dim]
    change(dims)
    msg.layout.dim = dims
    return msg


class Fuzzer:
    """
    Publishers on every topic the nodes subscribe to.

    And one generator per kind of bad message (each returns after publishing one).
    """

    def __init__(self, ros, seed=1234):
        self.rng = np.random.default_rng(seed)
        node = self.node = ros.plain_node('fuzzer')
        self.states = {ns: node.create_publisher(JointState, f'/{ns}/joint_states',
                                                 messages.ROBOT_QOS)
                       for ns in ('robot_0', 'robot_1')}
        self.sim_commands = None
        """Commands to the sim: only while the fuzz runs. Where rclpy gives no publisher gid
        (Jazzy), the sim steps on its actor's commands only while the actor is their one
        publisher."""
        self.transitions = node.create_publisher(Float32MultiArray, '/t3d/transitions',
                                                 messages.TRANSITIONS_QOS)
        # Subscriptions to these are transient local: only such publishers reach them.
        self.policy = node.create_publisher(UInt8MultiArray, '/t3d/policy', messages.LATCHED_QOS)
        self.goals = {ns: node.create_publisher(PointStamped, f'/{ns}/goal', messages.LATCHED_QOS)
                      for ns in ('robot_0', 'robot_1')}
        self.e_stops = {ns: node.create_publisher(Bool, f'/{ns}/e_stop', messages.LATCHED_QOS)
                        for ns in ('robot_0', 'robot_1')}
        self.sent_commands: set[bytes] = set()  # to tell our own commands from the actors'
        self.thrown: dict[str, int] = {}
        good = bundle_for(TASK, seed=5).to_bytes()
        self.policy_payloads = {
            'policy_garbage': lambda: self.rng.bytes(int(self.rng.integers(0, 5000))),
            'policy_truncated': lambda: good[:int(self.rng.integers(0, len(good)))],
            'policy_oversized': lambda: self.rng.bytes(MAX_POLICY_BYTES + 1000),
            'policy_other_task': lambda: bundle_for(make_task('pendulum')).to_bytes(),
        }
        self.kinds = {
            **{f'state_{kind}_{ns}': (lambda k=kind, n=ns: self._state(k, n))
               for kind in ('bad_length', 'no_velocity', 'nan', 'inf', 'absurd', 'unknown_names',
                            'duplicate_names', 'missing_joint', 'empty', 'old_stamp')
               for ns in ('robot_0', 'robot_1')},
            **{f'command_{kind}': (lambda k=kind: self._command(k))
               for kind in ('short', 'long', 'empty', 'nan', 'inf', 'absurd')},
            **{f'transitions_{kind}': (lambda k=kind: self._transitions(k))
               for kind in ('no_dims', 'bad_header', 'bad_labels', 'bad_sizes', 'zero_rows',
                            'too_many_rows', 'bad_length', 'nan_rows', 'inf_rows', 'absurd_rows',
                            'bad_flags', 'actions_out_of_limits')},
            **{kind: (lambda k=kind: self._policy(k)) for kind in self.policy_payloads},
            **{f'goal_{kind}_{ns}': (lambda k=kind, n=ns: self._goal(k, n))
               for kind in ('nan', 'inf', 'absurd') for ns in ('robot_0', 'robot_1')},
            **{f'e_stop_{ns}': (lambda n=ns: self.e_stops[n].publish(
                Bool(data=bool(self.rng.integers(2))))) for ns in ('robot_0', 'robot_1')},
        }
        self.order = list(self.rng.permutation(list(self.kinds)))  # every kind once, first

    def start_commanding(self):
        self.sim_commands = self.node.create_publisher(
            Float64MultiArray, f'/robot_0/{TASK.command_topic}', messages.ROBOT_QOS)
        return self.sim_commands

    def stop_commanding(self):
        self.node.destroy_publisher(self.sim_commands)

    def throw(self):
        kind = self.order.pop() if self.order else str(self.rng.choice(list(self.kinds)))
        self.kinds[kind]()
        self.thrown[kind] = self.thrown.get(kind, 0) + 1

    def _state(self, kind, ns):
        rng, n = self.rng, len(JOINTS)
        position, velocity = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
        names, stamp = JOINTS, 10**15  # a future stamp: never sent on a valid message
        if kind == 'bad_length':
            position = position[:1]
        elif kind == 'no_velocity':
            velocity = []
        elif kind == 'nan':
            position[rng.integers(n)] = np.nan
        elif kind == 'inf':
            velocity[rng.integers(n)] = -np.inf
        elif kind == 'absurd':
            position[rng.integers(n)] = 1e12
        elif kind == 'unknown_names':
            names = ['wrist_joint', 'finger_joint']
        elif kind == 'duplicate_names':
            names, position, velocity = [JOINTS[0], *JOINTS], [0.1] * 3, [0.0] * 3
        elif kind == 'missing_joint':
            names, position, velocity = [JOINTS[1], 'gripper'], position, velocity
        elif kind == 'empty':
            names, position, velocity = [], [], []
        elif kind == 'old_stamp':  # valid, but older than what the actor has: out of order
            stamp = 0
        self.states[ns].publish(joint_state(names, position, velocity, stamp))

    def _command(self, kind):
        rng = self.rng
        data = {'short': rng.uniform(-1, 1, 1), 'long': rng.uniform(-1, 1, 3),
                'empty': np.zeros(0), 'nan': np.array([np.nan, 0.1]),
                'inf': np.array([0.1, np.inf]), 'absurd': np.array([1e9, 0.0])}[kind]
        msg = messages.command_msg(data) if len(data) else Float64MultiArray()
        self.sent_commands.add(bytes(msg.data))
        self.sim_commands.publish(msg)

    def _transitions(self, kind):
        rng, rows = self.rng, 4
        if kind == 'no_dims':
            msg = Float32MultiArray(data=[0.0] * 10)
        elif kind == 'bad_header':
            msg = with_dims(transitions(rng), lambda d: setattr(d[0], 'label', 'hello;actor=x'))
        elif kind == 'bad_labels':
            msg = with_dims(transitions(rng), lambda d: setattr(d[2], 'label', 'effort'))
        elif kind == 'bad_sizes':
            msg = with_dims(transitions(rng), lambda d: setattr(d[1], 'size', TASK.obs_dim + 1))
        elif kind == 'zero_rows':
            msg = with_dims(transitions(rng), lambda d: setattr(d[0], 'size', 0))
        elif kind == 'too_many_rows':
            msg = with_dims(transitions(rng), lambda d: setattr(d[0], 'size', 10**6))
        elif kind == 'bad_length':
            msg = transitions(rng)
            msg.data = msg.data[:-3]
        elif kind in ('nan_rows', 'inf_rows', 'absurd_rows'):
            obs = rng.uniform(-1, 1, (rows, TASK.obs_dim))
            obs[rng.integers(rows), rng.integers(TASK.obs_dim)] = {
                'nan_rows': np.nan, 'inf_rows': np.inf, 'absurd_rows': 1e9}[kind]
            msg = transitions(rng, rows, obs=obs)
        elif kind == 'bad_flags':
            msg = transitions(rng, rows, terminated=np.full(rows, 0.5))
        else:  # actions_out_of_limits
            msg = transitions(rng, rows, action=np.tile(TASK.action_high * 3, (rows, 1)))
        self.transitions.publish(msg)

    def _policy(self, kind):
        msg = UInt8MultiArray()
        msg.data = self.policy_payloads[kind]()
        self.policy.publish(msg)

    def _goal(self, kind, ns):
        value = {'nan': np.nan, 'inf': np.inf, 'absurd': 1e9}[kind]
        point = np.array([0.1, value, 0.01])
        self.goals[ns].publish(messages.goal_msg(point, 0))


class Recorder:
    """Every command on every command topic, and every /diagnostics status as it arrives."""

    def __init__(self, ros, fuzzer):
        self.node = ros.plain_node('recorder')
        self.fuzzer = fuzzer
        self.commands = {ns: [] for ns in ('robot_0', 'robot_1')}
        for ns in self.commands:
            self.node.create_subscription(Float64MultiArray, f'/{ns}/{TASK.command_topic}',
                                          lambda msg, ns=ns: self._on_command(ns, msg),
                                          messages.ROBOT_QOS)
        self.diagnostics: dict[str, list[tuple[float, dict[str, str]]]] = {}
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 100)

    def _on_command(self, ns, msg):
        if ns == 'robot_0' and bytes(msg.data) in self.fuzzer.sent_commands:
            return  # one of the fuzzer's own
        self.commands[ns].append(np.array(msg.data))

    def _on_diagnostics(self, msg):
        for name, values in messages.diagnostic_values(msg).items():
            self.diagnostics.setdefault(name, []).append((time.monotonic(), values))

    def latest(self, name):
        return self.diagnostics.get(name, [(0.0, {})])[-1][1]

    def heard_since(self, name, since):
        return sum(t > since for t, _ in self.diagnostics.get(name, []))


STATUSES = ('t3d/actor/robot_0', 't3d/actor/robot_1', 't3d/learner', 't3d/sim/robot_0')
EXPECTED_DROPS = {
    't3d/actor/robot_0': ['dropped_input_' + reason for reason in (
        'bad_length', 'not_finite', 'absurd_value', 'missing_joints', 'duplicate_joint_names',
        'out_of_order', 'policy')],
    't3d/actor/robot_1': ['dropped_input_' + reason for reason in (
        'bad_length', 'not_finite', 'absurd_value', 'missing_joints', 'duplicate_joint_names',
        'out_of_order', 'goal_not_finite', 'goal_absurd_value')],
    't3d/sim/robot_0': ['dropped_command_' + reason for reason in (
        'bad_length', 'not_finite', 'absurd_value', 'goal_not_finite', 'goal_absurd_value')],
    't3d/learner': ['dropped_transitions_' + reason for reason in (
        'bad_layout', 'bad_length', 'bad_rows', 'action_out_of_limits')],
}


@pytest.mark.slow
def test_malformed_messages_everywhere_are_dropped_counted_and_never_forwarded(ros, tmp_path):
    deployed = bundle_for(TASK, seed=3)
    deployed.save(tmp_path / 'policy.safetensors')
    sim = ros.start(SimNode, 'robot_0', task='reacher', seed=1)
    # A watchdog, shorter than the sim's republish period: where rclpy gives no publisher gid
    # (Jazzy), the sim refuses every command while the fuzzer publishes commands too, and
    # lockstep waits for one; the watchdog's safe command steps the sim again once the fuzzer
    # is gone.
    trainer = ros.start(ActorNode, 'robot_0', task='reacher', seed=1, start_steps=50,
                        transitions_per_message=16, state_timeout=0.5,
                        max_policy_bytes=MAX_POLICY_BYTES)
    learner = ros.start(LearnerNode, **LEARNER)
    deploy = ros.start(ActorNode, 'robot_1', task='reacher', mode='deploy', autostart=True,
                       policy_file=str(tmp_path / 'policy.safetensors'), trigger='timer',
                       state_timeout=0.25, max_policy_bytes=MAX_POLICY_BYTES)
    fuzzer = Fuzzer(ros)
    recorder = Recorder(ros, fuzzer)

    # The deployed robot: a goal, and valid joint states at 50 Hz (the fuzz comes on top).
    fuzzer.goals['robot_1'].publish(messages.goal_msg(np.array([0.1, 0.1, 0.01]), 0))
    robot_1 = {'stamp': 0}

    def robot_1_state():
        robot_1['stamp'] += 20_000_000
        fuzzer.states['robot_1'].publish(joint_state(
            JOINTS, [0.2, -0.3], [0.0, 0.1], robot_1['stamp']))
    robot_timer = fuzzer.node.create_timer(0.02, robot_1_state)

    # Training runs before the fuzz starts (an old stamp must then be out of order).
    assert ros.spin_until(lambda: trainer.core.env_steps > 20 and deploy.core.goal is not None
                          and len(recorder.commands['robot_1']) > 5, timeout=30)
    commands = fuzzer.start_commanding()
    assert ros.spin_until(lambda: commands.get_subscription_count() == 2, timeout=30)
    start = time.monotonic()
    fuzz_timer = fuzzer.node.create_timer(1.0 / FUZZ_RATE_HZ, fuzzer.throw)
    ros.spin_for(FUZZ_SECONDS)
    fuzzer.node.destroy_timer(fuzz_timer)
    fuzzer.stop_commanding()
    for ns in ('robot_0', 'robot_1'):
        fuzzer.e_stops[ns].publish(Bool(data=False))
    end = time.monotonic()
    print(f'\nfuzz: {sum(fuzzer.thrown.values())} messages of {len(fuzzer.thrown)} kinds in '
          f'{end - start:.1f} s')
    assert set(fuzzer.thrown) == set(fuzzer.kinds)

    # Every node still spins: diagnostics kept coming during the fuzz and come after it.
    for name in STATUSES:
        assert recorder.heard_since(name, start) >= FUZZ_SECONDS / 3, name
    assert ros.spin_until(lambda: all(recorder.heard_since(name, end + 0.1) for name in STATUSES),
                          timeout=15)

    # Each kind thrown was counted by the node it was aimed at.
    def missing_drops():
        return {name: [key for key in keys if int(recorder.latest(name).get(key, 0)) <= 0]
                for name, keys in EXPECTED_DROPS.items()}
    assert ros.spin_until(lambda: not any(missing_drops().values()), timeout=10), missing_drops()

    # Training goes on: env steps rise, the learner updates and the actor takes new policies.
    steps, updates, version = (trainer.core.env_steps, learner.learner.updates,
                               trainer.policy_version)
    assert ros.spin_until(lambda: trainer.core.env_steps >= steps + 100
                          and learner.learner.updates > updates
                          and trainer.policy_version > version, timeout=30), (
        trainer.counters, learner.learner.stats(), trainer.policy_version)
    fuzzer.node.destroy_timer(robot_timer)
    assert sim.core.counters['steps'] > 0

    # Every command any actor sent: finite, one per joint, within the limits.
    for ns, commands in recorder.commands.items():
        values = np.array(commands)
        assert values.ndim == 2 and values.shape[1] == TASK.num_joints and len(values) > 50, ns
        assert np.all(np.isfinite(values)), ns
        assert np.all(values >= TASK.action_low) and np.all(values <= TASK.action_high), ns

    # The replay memory holds no bad transition.
    with learner.learner._lock:
        memory = learner.learner.memory
        size = len(memory)
        fields = [memory.obs[:size], memory.action[:size], memory.reward[:size],
                  memory.next_obs[:size], memory.terminated[:size]]
    assert size > 0
    for field in fields:
        assert np.all(np.isfinite(field)) and np.all(np.abs(field) <= messages.ABSURD)
    assert np.all(np.abs(fields[1]) <= 1.0)  # normalised actions
    assert set(np.unique(fields[4])) <= {0.0, 1.0}

    # The deployed actor still runs the bundle it was configured with.
    assert deploy.policy_version == 1 and deploy.counters['policy_updates'] == 1
    assert trainer.drops.counts().get('dropped_input_policy', 0) > 0

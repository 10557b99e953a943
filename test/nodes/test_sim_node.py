"""
The sim node in-process (docs/architecture.md; the README topics table).

Lockstep stepping and stamps, obeying only its own actor, /clock and stamps (the README's time
rule), the reset service, bad commands, realtime rate, actuation latency, observation noise and
randomised dynamics. Driven by test publishers; every wait is on a condition.
"""
import math
import time

import numpy as np
import pytest
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
from std_srvs.srv import Trigger

from rclpy_variants import GIVES_PUBLISHER_GID, IN_EVERY_EXECUTOR
from t3d_ros.ros import messages
from t3d_ros.graph.monitor import DiagnosticsMonitor
from t3d_ros.ros.message_info import with_message_info
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.tasks.seeds import episode_rngs
from t3d_ros.tasks.half_cheetah import base_pitch

TIMEOUT = 20.0
PENDULUM = make_task('pendulum')
STEP_NS = messages.seconds_to_ns(PENDULUM.control_dt)  # 50 ms


class SimProbe:
    """
    A sim node in ``namespace``, with the test's endpoints around it.

    A command publisher (node ``name``, the sim's actor unless ``actor_node`` says otherwise), a
    state and clock listener and a reset client, all on the test's executor.
    """

    def __init__(self, ros, namespace='robot_0', task='pendulum', name=None, **parameters):
        self.ros = ros
        self.task = make_task(task)
        name = name or f'sim_probe_{namespace}'
        parameters.setdefault('actor_node', name)
        self.sim = ros.start(SimNode, namespace, task=task, **parameters)
        self.io = ros.plain_node(name, namespace)
        self.states: list[JointState] = []
        self.clock: list[int] = []
        self.io.create_subscription(JointState, 'joint_states', self.states.append,
                                    messages.ROBOT_QOS)
        self.io.create_subscription(Clock, '/clock',
                                    lambda msg: self.clock.append(messages.stamp_to_ns(msg.clock)),
                                    10)
        self.commands = self.io.create_publisher(Float64MultiArray, self.task.command_topic,
                                                 messages.ROBOT_QOS)
        self.reset_client = self.io.create_client(Trigger, 'reset')
        assert ros.spin_until(lambda: self.commands.get_subscription_count() >= 1
                              and self.reset_client.service_is_ready(), TIMEOUT)
        # Our state subscription must be matched before we count states.
        assert ros.spin_until(lambda: self.sim.state_pub.get_subscription_count() >= 1, TIMEOUT)

    def command(self, values):
        msg = Float64MultiArray()
        msg.data = [float(v) for v in np.atleast_1d(values)]
        self.commands.publish(msg)

    def step(self, values):
        """One lockstep command; returns the state it produced."""
        count = len(self.states)
        self.command(values)
        assert self.ros.spin_until(lambda: len(self.states) > count, TIMEOUT)
        assert len(self.states) == count + 1
        return self.states[-1]

    def reset(self) -> JointState:
        count = len(self.states)
        future = self.reset_client.call_async(Trigger.Request())
        assert self.ros.spin_until(lambda: future.done() and len(self.states) > count, TIMEOUT)
        assert future.result().success, future.result().message
        self.last_reply = future.result().message
        return self.states[-1]


def stamp(msg: JointState) -> int:
    return messages.stamp_to_ns(msg.header.stamp)


def position(msg: JointState) -> np.ndarray:
    return np.array(msg.position)


def velocity(msg: JointState) -> np.ndarray:
    return np.array(msg.velocity)


def effort(msg: JointState) -> np.ndarray:
    return np.array(msg.effort)


def monitor(ros):
    return ros.add(DiagnosticsMonitor('sim_test_monitor', context=ros.context))


def wait_sim_diagnostics(ros, mon, namespace='/robot_0', **expected):
    name = f't3d/sim{namespace}'

    def shown():
        return all(mon.value(name, key) == value for key, value in expected.items())
    assert ros.spin_until(shown, TIMEOUT), (expected, mon.latest.get(name))
    return mon.latest[name]


def test_lockstep_steps_once_per_command_stamped_one_period_later(ros):
    probe = SimProbe(ros, republish_period=0.0, seed=1)
    first = probe.step(0.5)
    assert probe.task.joint_names == tuple(first.name)
    stamps = [stamp(first)]
    for command in (1.0, -2.0, 0.0, 2.0):
        state = probe.step(command)
        stamps.append(stamp(state))
        np.testing.assert_array_equal(effort(state), [command])  # what moved it
    assert np.all(np.diff(stamps) == STEP_NS), np.diff(stamps)

    # A burst of commands: one step each, none lost or merged.
    before = len(probe.states)
    for command in np.linspace(-1, 1, 10):
        probe.command(command)
    assert ros.spin_until(lambda: len(probe.states) >= before + 10, TIMEOUT)
    ros.spin_for(0.3)
    assert len(probe.states) == before + 10
    burst = [stamp(s) for s in probe.states[before - 1:]]
    assert np.all(np.diff(burst) == STEP_NS)
    np.testing.assert_allclose([effort(s)[0] for s in probe.states[before:]],
                               np.linspace(-1, 1, 10))
    assert probe.sim.core.counters['steps'] == 15

    # No command, no step (republishing is off here).
    ros.spin_for(0.3)
    assert len(probe.states) == before + 10


def test_lockstep_republishes_the_last_state_when_no_command_comes(ros):
    probe = SimProbe(ros, republish_period=0.2, seed=1)
    state = probe.step(1.0)
    assert ros.spin_until(lambda: len(probe.states) >= 3, TIMEOUT)
    for again in probe.states[1:]:
        assert stamp(again) == stamp(state)
        np.testing.assert_array_equal(position(again), position(state))
    assert probe.sim.core.counters['steps'] == 1


@IN_EVERY_EXECUTOR
def test_lockstep_steps_only_on_its_own_actors_commands_and_counts_the_others(ros):
    """
    A peer's in-range commands on the robot's command topic step nothing (issue 8.4).

    Where rclpy gives no publisher gid (Jazzy), which of several publishers sent a command
    cannot be told: while the peers are there, no command steps the sim, each is counted, and
    the actor's step it again once they are gone.
    """
    mon = monitor(ros)
    probe = SimProbe(ros, name='actor', republish_period=0.0, seed=1)
    peers = [ros.plain_node('peer', 'robot_0'),  # same namespace, another node
             ros.plain_node('actor', 'elsewhere')]  # an actor, but another robot's
    topic = '/robot_0/' + probe.task.command_topic
    peer_pubs = [peer.create_publisher(Float64MultiArray, topic, messages.ROBOT_QOS)
                 for peer in peers]
    assert ros.spin_until(lambda: all(pub.get_subscription_count() >= 1 for pub in peer_pubs),
                          TIMEOUT)

    meddled = []

    def meddle():
        for pub in peer_pubs:
            pub.publish(Float64MultiArray(data=[1.9]))
            meddled.append(pub)
    # 20 Hz each, about the actor's rate: a flood faster than the sim takes messages in would
    # push commands out of its depth-10 queue (lost, whoever sent them).
    peer_timer = peers[0].create_timer(0.05, meddle)
    ours = [0.5, -1.0, 0.25, 1.5, -0.75] * 4
    if not GIVES_PUBLISHER_GID:
        for command in ours[:5]:
            probe.command(command)

        def ambiguous():
            return probe.sim.drops.counts().get('dropped_command_ambiguous_publisher', 0)
        assert ros.spin_until(lambda: ambiguous() >= 20, TIMEOUT)
        peers[0].destroy_timer(peer_timer)
        # Every command is refused while the peers are there. (Their publishers go only then:
        # the wait-set executor may run the matched event of a publisher that went before
        # commands it had sent; the events executor the nodes run in keeps their order.)
        assert ros.spin_until(lambda: ambiguous() == 5 + len(meddled), TIMEOUT)
        assert probe.sim.core.counters['steps'] == 0 and probe.states == []
        for peer, pub in zip(peers, peer_pubs):
            peer.destroy_publisher(pub)
        assert ros.spin_until(lambda: probe.sim.command_sub.get_publisher_count() == 1
                              and probe.sim.count_publishers(topic) == 1, TIMEOUT)
        for command in ours:
            state = probe.step(command)
            np.testing.assert_array_equal(effort(state), [command])
        assert probe.sim.counters['foreign_commands'] == 0
        wait_sim_diagnostics(ros, mon, steps=float(len(ours)))
        return
    for command in ours:
        state = probe.step(command)
        np.testing.assert_array_equal(effort(state), [command])  # our command moved it
    assert ros.spin_until(lambda: probe.sim.counters['foreign_commands'] >= 20, TIMEOUT)
    peers[0].destroy_timer(peer_timer)
    ros.spin_for(0.2)
    assert probe.sim.core.counters['steps'] == len(ours) == len(probe.states)
    assert probe.sim.counters['commands'] == len(ours)
    foreign = probe.sim.counters['foreign_commands']
    wait_sim_diagnostics(ros, mon, foreign_commands=float(foreign), steps=float(len(ours)))


def test_lockstep_sims_publish_no_clock_and_stamp_their_own_step_time(ros):
    """Two lockstep sims: no /clock at all; each stamps its own time (issue 8.7)."""
    probes = [SimProbe(ros, namespace, republish_period=0.0, seed=1)
              for namespace in ('robot_0', 'robot_1')]
    for probe, steps in zip(probes, (3, 7)):
        for _ in range(steps):
            probe.step(0.1)
        # Steps of one control period from the first state (the reset at start), from 0.
        assert [stamp(s) for s in probe.states] == [STEP_NS * (k + 2) for k in range(steps)]
    ros.spin_for(0.3)
    assert probes[0].io.count_publishers('/clock') == 0
    assert probes[0].clock == probes[1].clock == []


def test_a_clock_sim_publishes_its_time_and_reports_another_clock_source(ros):
    mon = monitor(ros)
    probe = SimProbe(ros, republish_period=0.0, seed=1, publish_clock=True)
    burst = [stamp(probe.step(command)) for command in (0.5, 1.0, -1.0)]
    # /clock is the state stamps (sim time), and this sim is its one source.
    assert ros.spin_until(lambda: probe.clock and probe.clock[-1] == burst[-1], TIMEOUT)
    assert set(burst) <= set(probe.clock) and all(np.diff(probe.clock) > 0)
    wait_sim_diagnostics(ros, mon, other_clock_sources=0.0)
    # A second clock sim: both say there is another /clock source.
    SimProbe(ros, 'robot_1', republish_period=0.0, seed=1, publish_clock=True)
    wait_sim_diagnostics(ros, mon, other_clock_sources=1.0)
    wait_sim_diagnostics(ros, mon, '/robot_1', other_clock_sources=1.0)


def test_a_realtime_sim_without_clock_stamps_with_its_node_clock(ros):
    """Like a hardware driver: wall time, as every other stamp (issue 8.7)."""
    probe = SimProbe(ros, mode='realtime', rate_hz=50.0, seed=3)
    before = time.time_ns()
    probe.states.clear()
    assert ros.spin_until(lambda: len(probe.states) >= 10, TIMEOUT)
    stamps = [stamp(s) for s in probe.states]
    assert before - 1e9 < stamps[0] and stamps[-1] <= time.time_ns()
    assert all(np.diff(stamps) > 0)
    assert probe.io.count_publishers('/clock') == 0


def test_ticks_queued_before_close_do_nothing(ros):
    """
    A tick the executor queued before the sim closed runs after it: it must do nothing.

    rclpy's events executor runs timer ticks it queued before a node was removed and closed
    (seen: a realtime tick stepped the closed PyBullet client, "Not connected to physics
    server", in a deploy test on Jazzy under load).
    """
    probe = SimProbe(ros, mode='realtime', rate_hz=50.0, seed=3)
    assert ros.spin_until(lambda: len(probe.states) >= 1, TIMEOUT)
    ros.nodes.remove(probe.sim)
    ros.executor.remove_node(probe.sim)
    probe.sim.close()
    steps = probe.sim.core.counters['steps']
    probe.sim._on_tick()
    probe.sim._publish_state()
    assert probe.sim.core.counters['steps'] == steps
    probe.sim.destroy_node()


def test_realtime_sim_with_use_sim_time_paces_on_the_steady_clock(ros):
    """Its own /clock must not drive its rate: 20 Hz stays 20 Hz (issue 8.6)."""
    rate_hz = 20.0
    probe = SimProbe(ros, mode='realtime', rate_hz=rate_hz, seed=3, publish_clock=True,
                     use_sim_time=True)
    assert ros.spin_until(lambda: len(probe.clock) >= 3, TIMEOUT)  # its clock is running
    count, start = len(probe.states), time.monotonic()
    ros.spin_for(1.5)
    elapsed = time.monotonic() - start
    ticks = len(probe.states) - count
    assert 0.3 * rate_hz * elapsed <= ticks <= rate_hz * elapsed + 3, (ticks, elapsed)
    # Its node clock is sim time, which is what /clock says.
    assert abs(probe.sim.get_clock().now().nanoseconds - probe.clock[-1]) <= 2 * STEP_NS


@pytest.mark.parametrize('task_name', ['pendulum', 'reacher'])
def test_reset_returns_new_seeded_initial_states(ros, task_name):
    seed = 11
    probe = SimProbe(ros, task=task_name, republish_period=0.0, seed=seed)
    rng = episode_rngs(seed)[0]
    expected = [probe.task.sample_initial_state(rng) for _ in range(3)]
    zero = np.zeros(probe.task.num_joints)

    # The episode that has not begun is already new: the same state, stamped anew.
    first = probe.reset()
    # The reply names the state that begins the episode (the actor starts it on no other).
    assert messages.parse_reset_reply(probe.last_reply) == stamp(first)
    np.testing.assert_array_equal(position(first), expected[0][0])
    np.testing.assert_array_equal(velocity(first), expected[0][1])
    again = probe.reset()
    np.testing.assert_array_equal(position(again), expected[0][0])
    assert stamp(again) == stamp(first) + probe.sim.core.step_ns
    # After steps, a reset draws the next initial state of the seeded sequence.
    for episode in (1, 2):
        moved = probe.step(zero + 0.1)
        assert stamp(moved) > stamp(again)
        again = probe.reset()
        np.testing.assert_array_equal(position(again), expected[episode][0])
        np.testing.assert_array_equal(velocity(again), expected[episode][1])
        assert stamp(again) == stamp(moved) + probe.sim.core.step_ns
        assert messages.parse_reset_reply(probe.last_reply) == stamp(again)
    assert probe.sim.core.counters['resets'] == 3  # the first at start, two after steps


def test_a_floating_base_sim_publishes_odom_with_each_joint_state_same_stamp(ros):
    """
    Check half_cheetah's nav_msgs/Odometry on ``odom``: REP 105 frames, stamps, resets.

    Pose in odom, twist in base_link, stamped like the joint state of the same step; a reset
    puts the root (x, z, pitch) where the seeded initial state says.
    """
    seed = 4
    odometry = []
    probe = SimProbe(ros, task='half_cheetah', republish_period=0.0, seed=seed)
    probe.io.create_subscription(Odometry, 'odom', odometry.append, messages.ROBOT_QOS)
    assert ros.spin_until(lambda: probe.sim.odom_pub.get_subscription_count() >= 1, TIMEOUT)
    (x, z, pitch), _ = (values[:3] for values in probe.task.sample_initial_state(
        episode_rngs(seed)[0]))
    states = [probe.reset()] + [probe.step(probe.task.gears * sign) for sign in (0.5, -0.5, 1.0)]
    assert ros.spin_until(lambda: len(odometry) >= len(states), TIMEOUT)
    assert [messages.stamp_to_ns(msg.header.stamp) for msg in odometry] == [
        stamp(state) for state in states]
    assert {(msg.header.frame_id, msg.child_frame_id) for msg in odometry} == {
        ('odom', 'base_link')}
    start = messages.parse_odometry(odometry[0]).base
    np.testing.assert_allclose(start.position, [x, 0.0, probe.task.torso_height + z], atol=1e-6)
    assert base_pitch(start) == pytest.approx(pitch, abs=1e-6)
    last = messages.parse_odometry(odometry[-1]).base
    for published, simulated in zip(last, probe.sim.core.robot.base_state()):
        np.testing.assert_array_equal(published, simulated)


def test_a_fixed_base_sim_publishes_no_odom(ros):
    probe = SimProbe(ros, republish_period=0.0)
    assert probe.sim.odom_pub is None
    assert not probe.io.get_publishers_info_by_topic('/robot_0/odom')


def test_bad_commands_are_ignored_counted_and_the_last_good_one_kept(ros):
    mon = monitor(ros)
    probe = SimProbe(ros, republish_period=0.0, seed=2)
    probe.step(1.5)
    steps = probe.sim.core.counters['steps']
    count = len(probe.states)
    bad = [[1.0, 2.0], [], [math.nan], [math.inf], [-math.inf], [1e9]]
    for values in bad:
        msg = Float64MultiArray()
        msg.data = values
        probe.commands.publish(msg)
    wait_sim_diagnostics(ros, mon, dropped_command_bad_length=2, dropped_command_not_finite=3,
                         dropped_command_absurd_value=1, steps=steps)
    assert len(probe.states) == count  # lockstep: a bad command steps nothing
    np.testing.assert_array_equal(probe.sim.core.command, [1.5])
    state = probe.step(-0.5)  # and good commands still work
    np.testing.assert_array_equal(effort(state), [-0.5])


def test_realtime_bad_commands_keep_the_last_good_one(ros):
    probe = SimProbe(ros, mode='realtime', rate_hz=100.0, seed=2)
    probe.command(1.25)
    assert ros.spin_until(lambda: probe.states and effort(probe.states[-1])[0] == 1.25, TIMEOUT)
    applied = len(probe.states) - 1
    for values in ([math.nan], [1.0, 1.0], [math.inf]):
        msg = Float64MultiArray()
        msg.data = values
        probe.commands.publish(msg)
    assert ros.spin_until(lambda: probe.sim.drops.total == 3, TIMEOUT)
    count = len(probe.states)
    assert ros.spin_until(lambda: len(probe.states) >= count + 10, TIMEOUT)
    assert all(effort(s)[0] == 1.25 for s in probe.states[applied:])
    assert probe.sim.drops.counts() == {'dropped_command_bad_length': 1,
                                        'dropped_command_not_finite': 2}


def test_realtime_publishes_at_rate_hz_without_commands(ros):
    rate_hz = 40.0  # sim time runs at 2x wall time: 0.05 s of physics per 1/40 s tick
    mon = monitor(ros)
    probe = SimProbe(ros, mode='realtime', rate_hz=rate_hz, seed=3, publish_clock=True)
    probe.states.clear()
    start = time.monotonic()
    assert ros.spin_until(lambda: len(probe.states) >= 41, TIMEOUT)
    elapsed = time.monotonic() - start
    rate = (len(probe.states) - 1) / elapsed
    assert 0.4 * rate_hz <= rate <= 1.2 * rate_hz, rate
    stamps = [stamp(s) for s in probe.states]
    assert np.all(np.diff(stamps) == STEP_NS)  # one control period of sim time per tick
    assert all(effort(s)[0] == 0.0 for s in probe.states)  # no command yet: zero effort
    # The pendulum falls freely: the state changes without any command.
    assert len({float(position(s)[0]) for s in probe.states}) > 30
    wait_sim_diagnostics(ros, mon, commands=0.0)
    assert mon.latest['t3d/sim/robot_0']['mode'] == 'realtime'


@pytest.mark.parametrize('latency', [0.0, 0.15])
def test_actuation_latency_delays_the_effect_by_that_much_sim_time(ros, latency):
    probe = SimProbe(ros, mode='realtime', rate_hz=100.0, actuation_latency=latency, seed=4,
                     publish_clock=True)  # stamps = sim time
    received_at = []  # sim time at which the sim took each command in
    subscription = next(s for s in probe.sim.subscriptions if s.topic.endswith('/commands'))
    callback = subscription.callback

    def recording(msg, info):
        received_at.append(probe.sim.core.time_ns)
        callback(msg, info)
    subscription.callback = with_message_info(recording)
    assert ros.spin_until(lambda: len(probe.states) >= 2, TIMEOUT)
    probe.command(1.75)
    assert ros.spin_until(lambda: received_at, TIMEOUT)
    assert ros.spin_until(lambda: effort(probe.states[-1])[0] == 1.75, TIMEOUT)
    effect = next(stamp(s) for s in probe.states if effort(s)[0] == 1.75)
    # The command acts from sim time received + latency on: the first state that shows it
    # ends that control period.
    assert effect - received_at[0] == messages.seconds_to_ns(latency) + STEP_NS
    # Before that, the rest command (zero effort) was in force.
    before = [s for s in probe.states if stamp(s) < effect]
    assert before and all(effort(s)[0] == 0.0 for s in before)


def _run_pair(ros, commands, clean_params, other_params, seed=5):
    """Two lockstep sims, same seed, same commands: their published states, side by side."""
    clean = SimProbe(ros, 'clean', republish_period=0.0, seed=seed, **clean_params)
    other = SimProbe(ros, 'other', republish_period=0.0, seed=seed, **other_params)
    pairs = [(clean.step(c), other.step(c)) for c in commands]
    return clean, other, pairs


def test_observation_noise_perturbs_published_states_not_the_physics(ros):
    noise = 0.05
    commands = np.tile([2.0, -2.0, 1.0, 0.0], 10)
    clean, noisy, pairs = _run_pair(ros, commands, {}, {'observation_noise': noise})
    differences = np.array([np.concatenate([position(b) - position(a), velocity(b) - velocity(a)])
                            for a, b in pairs])
    assert np.all(differences != 0.0)
    assert 0.5 * noise < differences.std() < 1.5 * noise, differences.std()
    assert abs(differences.mean()) < noise
    # The physics underneath is the clean sim's.
    for a, b in zip(clean.sim.core.robot.joint_state(), noisy.sim.core.robot.joint_state()):
        np.testing.assert_array_equal(a, b)


def _link_dynamics(probe):
    robot = probe.sim.core.robot
    return np.array([robot.client.getDynamicsInfo(robot.body_id, link)[:2]
                     for link in range(robot.client.getNumJoints(robot.body_id))])


def test_mass_scale_changes_the_dynamics_and_is_drawn_anew_per_reset(ros):
    commands = [2.0] * 6
    clean, heavy, pairs = _run_pair(ros, commands, {}, {'mass_scale': [0.3, 3.0]})
    # Same seeded initial state, same torques, other masses: another trajectory.
    gaps = [abs(velocity(a)[0] - velocity(b)[0]) for a, b in pairs]
    assert gaps[-1] > 0.05, gaps
    masses = [_link_dynamics(heavy)[0, 0]]
    for _ in range(3):
        heavy.step(0.0)
        heavy.reset()
        masses.append(_link_dynamics(heavy)[0, 0])
    assert len(set(masses)) == 4, masses  # a new draw per episode
    assert all(0.3 <= m <= 3.0 for m in masses), masses  # the rod's URDF mass is 1 kg
    np.testing.assert_array_equal(_link_dynamics(clean)[:, 0], [1.0])


def test_friction_range_is_drawn_anew_per_reset(ros):
    probe = SimProbe(ros, republish_period=0.0, seed=6, friction_range=[0.2, 3.0])
    nominal = 0.5  # PyBullet's default lateral friction of the rod
    frictions = [_link_dynamics(probe)[0, 1]]
    for _ in range(3):
        probe.step(0.0)
        probe.reset()
        frictions.append(_link_dynamics(probe)[0, 1])
    assert len(set(frictions)) == 4, frictions
    assert all(0.2 * nominal <= f <= 3.0 * nominal for f in frictions), frictions
    np.testing.assert_array_equal(_link_dynamics(probe)[:, 0], [1.0])  # masses untouched


@pytest.mark.parametrize('name,value', [
    ('mass_scale', [2.0, 1.0]), ('mass_scale', [0.0, 1.0]), ('friction_range', [0.5]),
    ('rate_hz', float('inf')),  # used to pass: a timer of period 0
    ('mode', 'fast'), ('seed', -1),
])
def test_a_value_that_cannot_work_is_refused_at_start_with_its_name(ros, name, value):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        ros.start(SimNode, task='pendulum', **{name: value})


def test_an_empty_mass_scale_in_a_params_file_is_refused_with_its_name(ros, tmp_path):
    """A file's ``[]`` is unset to rcl: it used to reach the first reset, a traceback."""
    params = tmp_path / 'sim.yaml'
    params.write_text('/**:\n  ros__parameters:\n    task: pendulum\n    mass_scale: []\n')
    with pytest.raises(ValueError, match="parameter 'mass_scale' needs 2 values, not 0"):
        SimNode(context=ros.context, cli_args=['--ros-args', '--params-file', str(params)])

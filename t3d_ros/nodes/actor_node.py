"""
actor_node: robot state -> observation -> actor network -> safe joint command.

Robot state is ``joint_states``; for a floating-base task, each joint state paired with the
``odom`` (nav_msgs/Odometry) of the same stamp, so a step is taken only once both are in.

A managed (lifecycle) node. ``configure`` builds the task and, in deploy mode, loads and checks
the policy bundle; ``activate`` starts commanding; ``deactivate`` sends a safe command and
stops. With ``autostart`` (training) it configures and activates itself.

The episode, exploration and time-limit logic is the actor core's (``t3d_ros.acting.core``,
shared with the direct trainer); this node converts messages, runs the timers and the
lifecycle, and keeps the robot safe. In ``train`` mode it calls ``reset`` at episode end,
publishes each episode's goal, sends transitions in batches to the learner and takes new
weights from ``/t3d/policy``.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, NamedTuple

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from nav_msgs.msg import Odometry
from rclpy.duration import Duration
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.timer import Timer
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, Float32MultiArray, Float64MultiArray, UInt8MultiArray
from std_srvs.srv import Trigger

from t3d_ros.bundle import signing
from t3d_ros.ros import messages
from t3d_ros.acting.core import ActorCore, ActorSettings, Transition, UnitPolicy
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.ros.any_qos import AnyQosListener
from t3d_ros.ros.clocks import steady_timer
from t3d_ros.ros.drops import DropCounter
from t3d_ros.ros.latency import LatencyWindow
from t3d_ros.ros.spin import run_node
from t3d_ros.acting.state_sync import StateSync
from t3d_ros.acting.safety import CommandSafety
from t3d_ros.nodes.actor_params import ACTOR_PARAMS
from t3d_ros.tasks import make_task
from t3d_ros.bundle.deployment import check_deployment, command_topic, control_period
from t3d_ros.bundle.policy_bundle import BundleError, PolicyBundle
from t3d_ros.tasks.base import RobotState

RESET_RETRY_PERIOD = 0.5
RESET_TIMEOUT = 5.0
"""Seconds without an answer after which a reset call is abandoned and made again (a sim that
died in the middle of the call never answers it)."""
FLOW_WINDOW = messages.TRANSITIONS_DEPTH // 4
"""Train mode, follow_throttle: transition messages that may await the learner's (DDS)
acknowledgement before the actor waits (``_learner_behind``). Well under the transitions depth,
so a stalled learner loses none of them; and more than an actor sends between two of its
writer's heartbeats (every 3 s by Fast DDS's default: a reader acknowledges when one comes),
else the actor would stall until every heartbeat with the learner keeping up (32 did)."""
FLOW_POLL_PERIOD = 0.05
DIAGNOSTICS_PERIOD = 1.0
RESTART_JUMP_NS = 1_000_000_000
RESTART_STATES = 3
"""RESTART_STATES joint states in a row stamped at least RESTART_JUMP_NS before the latest
one, rising among themselves, mean the robot's driver restarted (its stamps began anew); any
other state older than the latest is out of order (reordered, replayed), dropped."""
E_STOP_WAIT = 1.5
"""Deploy: longest wait after activation for the first value of a known e_stop publisher
(longer than the 1 s between the messages of ``ros2 topic pub``)."""
E_STOP_CHECK_PERIOD = 0.1
"""How often the graph is checked for e_stop publishers the actor cannot hear."""


class ControlStep(NamedTuple):
    """A control step between its observation and its command (see ``observe_step``)."""

    reading: messages.JointStateReading
    state: RobotState
    obs: np.ndarray
    transition: Transition | None
    """The transition the observation closed, recorded once the command is out."""


class ActorNode(LifecycleNode):

    def __init__(self, batch=None, **kwargs):
        """
        ``batch``.

        The ``ActorBatch`` of an actor group process, else None (module ``actor_batch``: one policy
        subscription per process, batched forward passes).
        """
        super().__init__('actor', **kwargs)
        p = ACTOR_PARAMS.declare(self)
        self.p = p
        self.task = make_task(p['task'])
        self.actor_id = p['actor_id'] or self.get_namespace().strip('/') or self.get_name()
        self.training = p['mode'] == 'train'
        self.period = control_period(self.task, p)
        self.state_timeout = 3 * self.period if p['state_timeout'] < 0 else p['state_timeout']
        self.settings = ActorSettings.from_parameters(p)
        self.codec = messages.TransitionCodec(self.task.obs_dim, self.task.num_joints)
        self.parser = messages.JointStateParser(self.task.joint_names)
        self.command_order = self._command_order(p['joint_order'])
        self.command_writer = messages.CommandWriter(self.task.num_joints)
        self.drops = DropCounter(self.get_logger(), 'input')
        self.signing_key = (signing.load_key(p['signing_key_file'])
                            if p['signing_key_file'] else None)
        self.transitions_seq = 0  # numbers this process's transition messages (seq)
        self.unacked = 0  # transition messages sent since all were last acknowledged
        self.held_messages: list[Float32MultiArray] | None = [] if self.training else None
        """Train mode: transition messages made before a learner first listened, sent in order
        when one does (None from then on)."""
        self.latency = LatencyWindow()
        self.policy = None
        self.policy_version = -1
        self._pending_policy: UInt8MultiArray | None = None
        self._policy_event = threading.Event()
        self._policy_thread: threading.Thread | None = None
        self._closing = False
        self._entities = []  # (destroy function, entity) made by configure
        self.faults: dict[str, str] = {}  # ERROR conditions now: kind -> what is wrong
        # Diagnostics in every lifecycle state: a refused configure is reported too.
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        steady_timer(self, DIAGNOSTICS_PERIOD, self._publish_diagnostics)
        self.batch = batch
        if batch is not None:
            batch.join(self)
        self._reset_state()
        self.refusal = ''  # why the last configure failed
        if p['autostart']:
            self._autostart()

    def _autostart(self) -> None:
        """Configure and activate; ValueError (the process exits 1) if either fails."""
        for name, transition in (('configure', self.trigger_configure),
                                 ('activate', self.trigger_activate)):
            if transition() != TransitionCallbackReturn.SUCCESS:
                raise ValueError(f'autostart: {name} failed'
                                 + (f': {self.refusal}' if self.refusal else ''))

    def _command_order(self, joint_order: list[str]) -> np.ndarray:
        """Return the indices that put task-ordered commands into the controller's order."""
        if not joint_order:
            return np.arange(self.task.num_joints)
        if sorted(joint_order) != sorted(self.task.joint_names):
            raise ValueError(f'joint_order {joint_order} must list exactly the task joints '
                             f'{list(self.task.joint_names)}')
        return np.array([self.task.joint_names.index(name) for name in joint_order])

    def _reset_state(self) -> None:
        self.active = False
        self.e_stop = False
        self.e_stop_settled = False  # deploy: the latched e_stop value is known (or not coming)
        self.e_stop_unheard = 0  # e_stop publishers we cannot hear (another type, a bad QoS)
        self.e_stop_unheard_since = None
        self.activated_at = time.monotonic()
        self.throttled = False
        self.flow_blocked = False
        self.latest: messages.JointStateReading | None = None
        self.restart_stamps: list[int] = []  # far older states in a row (a driver restart?)
        self.latest_received = -np.inf  # time.monotonic() of the latest state (watchdog)
        self.latest_received_perf = 0.0  # time.perf_counter() of the same (latency)
        self.last_acted_stamp = -1
        self.core = ActorCore(self.task, self.settings, self.p['seed'], self.training)
        self.sync = StateSync(self.task.floating_base, self.p['odom_slop'])
        self.awaiting_reset = False
        self.reset_floor_stamp = -1
        self.reset_future = None
        self.reset_called_at = 0.0
        self.stale = False
        self.outbox = []
        self.counters = dict(commands=0, safe_commands=0, watchdog_trips=0, policy_updates=0,
                             flow_waits=0, reset_timeouts=0, state_restarts=0)

    # --- lifecycle ------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.p
        self.refusal = ''
        bundle = None
        if p['policy_file']:
            try:
                bundle, warnings = check_deployment(p['policy_file'], self.task, p)
            except (BundleError, OSError) as error:
                return self._refuse(f'refusing policy {p["policy_file"]}: {error}')
            for warning in warnings:
                self.get_logger().warning(f'policy {p["policy_file"]}: {warning}')
        elif not self.training:
            return self._refuse('deploy mode needs a policy_file')
        try:
            self.safety = CommandSafety.tightened(
                self.task.interface, self.task.command_low, self.task.command_high,
                p['max_delta'] or np.inf, p['command_low'], p['command_high'])
        except ValueError as error:
            return self._refuse(f'bad command limits: {error}')
        if bundle is not None:  # only once nothing can fail: a refused configure leaves none
            self._use_bundle(bundle)
        self._create_entities()
        return TransitionCallbackReturn.SUCCESS

    def _refuse(self, reason: str) -> TransitionCallbackReturn:
        """Fail the configure transition, saying why."""
        self.refusal = reason
        self.get_logger().error(reason)
        return TransitionCallbackReturn.FAILURE

    def _create_entities(self) -> None:
        p = self.p
        self.command_pub = self.create_lifecycle_publisher(
            Float64MultiArray, command_topic(self.task, p), messages.ROBOT_QOS)
        publishers, clients = [], []
        # From a publisher of any reliability and durability (nodes/any_qos.py).
        self.e_stop_listener = AnyQosListener(self, Bool, 'e_stop', self._on_e_stop)
        subs = [
            *self.e_stop_listener.subscriptions,
            self.create_subscription(JointState, 'joint_states', self._on_joint_state,
                                     messages.state_qos(p['state_qos'])),
        ]
        # Real-time timers run on the steady clock, whatever use_sim_time says (nodes/clocks).
        timers = [self._entity_timer(E_STOP_CHECK_PERIOD, self._check_e_stop_publishers)]
        if self.task.floating_base:
            subs.append(self.create_subscription(Odometry, 'odom', self._on_odometry,
                                                 messages.state_qos(p['state_qos'])))
        if self.training:
            # Only a training actor takes new weights from the learner: a deployed one runs
            # the bundle it checked at configure, whatever is published on /t3d/policy.
            if self._loads_policies():
                subs.append(self.create_subscription(UInt8MultiArray, '/t3d/policy',
                                                     self._on_policy, messages.LATCHED_QOS))
            self.transitions_pub = self.create_publisher(
                Float32MultiArray, '/t3d/transitions', messages.TRANSITIONS_QOS)
            self.reset_client = self.create_client(Trigger, 'reset')
            publishers.append(self.transitions_pub)
            if self.task.has_goal:  # no goal topic for a task without goals
                self.goal_pub = self.create_publisher(PointStamped, 'goal', messages.LATCHED_QOS)
                publishers.append(self.goal_pub)
            self.throttle_sub = self.create_subscription(Bool, '/t3d/throttle',
                                                         self._on_throttle, messages.LATCHED_QOS)
            subs.append(self.throttle_sub)
            clients.append(self.reset_client)
            timers.append(self._entity_timer(RESET_RETRY_PERIOD, self._request_reset))
            timers.append(self._entity_timer(FLOW_POLL_PERIOD, self._on_flow_poll))
        elif self.task.has_goal:  # an operator's goal, e.g. RViz's (volatile) clicked point
            subs += AnyQosListener(self, PointStamped, 'goal', self._on_goal).subscriptions
        if p['trigger'] == 'timer' or self.state_timeout > 0:
            timers.append(self._entity_timer(self.period, self._on_tick))
        self._entities = ([(self.destroy_subscription, s) for s in subs]
                          + [(self.destroy_timer, t) for t in timers]
                          + [(self.destroy_publisher, p) for p in publishers]
                          + [(self.destroy_client, c) for c in clients]
                          + [(self.destroy_lifecycle_publisher, self.command_pub)])
        self._closing = False
        if self._loads_policies():
            self._policy_thread = threading.Thread(target=self._load_policies, daemon=True)
            self._policy_thread.start()

    def _entity_timer(self, period: float, callback: Callable[[], None]) -> Timer:
        """
        Return a steady timer of the configured node, whose ticks do nothing once unconfigured.

        rclpy's events executor still runs a tick it queued before cleanup or shutdown destroyed
        the timer, and such a tick must not touch the destroyed subscriptions and publishers
        (seen: the e_stop check raised InvalidHandle out of the executor after a cleanup).
        """
        def tick() -> None:
            if self._entities:
                callback()
        return steady_timer(self, period, tick)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)
        self.activated_at = time.monotonic()
        self.active = True
        if self.training:
            self._begin_reset()
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._publish_safe()
        self.active = False
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._destroy_entities()
        self._reset_state()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.active:
            self._publish_safe()
        self._destroy_entities()
        self.active = False
        return TransitionCallbackReturn.SUCCESS

    def _destroy_entities(self) -> None:
        self._stop_policy_loader()
        for destroy, entity in self._entities:
            destroy(entity)
        self._entities = []

    def _stop_policy_loader(self) -> None:
        """
        End the loader thread and join it.

        A configure right after a cleanup must not leave two of them, and a closed node must not
        leave one waiting forever.
        """
        self._closing = True
        self._policy_event.set()
        thread, self._policy_thread = self._policy_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def close(self) -> None:
        """Leave the robot with a safe command when the process stops."""
        if self.active:
            self._publish_safe()
            self._flush_transitions()
        self.active = False
        self._stop_policy_loader()

    # --- inputs ---------------------------------------------------------------------------

    def _on_joint_state(self, msg: JointState) -> None:
        received = time.perf_counter()
        try:
            reading = self.parser.parse(msg)
        except messages.InvalidMessage as error:
            # A joint the policy needs is missing: a wiring error, not noise. Say it at error
            # level; the watchdog keeps the robot safe meanwhile.
            missing = error.reason == 'missing_joints'
            if missing:
                self.faults['missing_joints'] = str(error)
            self.drops.drop(error.reason, str(error), error=missing)
            return
        self.faults.pop('missing_joints', None)
        if self.latest is not None and reading.stamp_ns < self.latest.stamp_ns:
            if not self._restarted(reading):
                self.drops.drop('out_of_order',
                                f'stamp {reading.stamp_ns} < {self.latest.stamp_ns}')
                return
            self._on_state_restart(reading)
        self.restart_stamps = []
        reading = self.sync.add_joints(reading)
        if reading is not None:
            self._on_state(reading, received)

    def _on_odometry(self, msg: Odometry) -> None:
        # Ordering is the joint states' (with their restart rule): an odometry pairs with the
        # joint state of its stamp or with none.
        received = time.perf_counter()
        try:
            reading = messages.parse_odometry(msg)
        except messages.InvalidMessage as error:
            self.drops.drop(f'odom_{error.reason}', str(error))
            return
        reading = self.sync.add_odometry(reading)
        if reading is not None:
            self._on_state(reading, received)

    def _on_state(self, reading: messages.JointStateReading, received: float) -> None:
        """Take a complete robot state: joint state (and, for a floating base, odometry)."""
        self.latest = reading
        self.latest_received = time.monotonic()
        self.latest_received_perf = received
        if self.stale:
            self.stale = False
            self.get_logger().info('fresh joint state again: resuming')
        if self.p['trigger'] == 'state':
            self._act(reading, received)

    def _restarted(self, reading: messages.JointStateReading) -> bool:
        """Whether ``reading``, older than the latest state, completes a restarted stream."""
        if self.latest.stamp_ns - reading.stamp_ns < RESTART_JUMP_NS:
            return False
        if self.restart_stamps and reading.stamp_ns <= self.restart_stamps[-1]:
            self.restart_stamps = []
        self.restart_stamps.append(reading.stamp_ns)
        return len(self.restart_stamps) >= RESTART_STATES

    def _on_state_restart(self, reading: messages.JointStateReading) -> None:
        """
        Follow a restarted driver's (or sim's) new stream of stamps.

        Its states are not dropped as out of order forever; no transition spans the restart.
        """
        self.counters['state_restarts'] += 1
        jump_s = (self.latest.stamp_ns - reading.stamp_ns) * 1e-9
        self.get_logger().warning(
            f'joint_states stamps jumped back {jump_s:.3f} s: the robot driver restarted? '
            f'Following its new stream ({self.counters["state_restarts"]} restarts so far)')
        self.last_acted_stamp = -1
        self.core.interrupt()
        if self.awaiting_reset:
            self.reset_floor_stamp = reading.stamp_ns
        elif self.training and self.active:
            self.latest = reading
            self._flush_transitions()
            self._begin_reset()  # an episode does not go on across a restart

    def _on_e_stop(self, msg: Bool) -> None:
        if bool(msg.data) != self.e_stop:
            self.get_logger().warning(f'e_stop {"ENGAGED" if msg.data else "released"}')
        self.e_stop = bool(msg.data)
        self.e_stop_settled = True
        if self.e_stop and self.active:
            self._publish_safe()

    def _check_e_stop_publishers(self) -> None:
        """
        Treat an e_stop publisher we cannot hear as an error: safe commands meanwhile.

        Discovery shows a new publisher in the graph and matches it at about the same time, so
        an unmatched one is only said to be an error after E_STOP_WAIT; its safe commands
        start at once.
        """
        unheard = self.e_stop_listener.unheard()
        if unheard and not self.e_stop_unheard and self.active:
            self._publish_safe()
        self.e_stop_unheard = unheard
        if not unheard:
            self.e_stop_unheard_since = None
            return
        now = time.monotonic()
        self.e_stop_unheard_since = self.e_stop_unheard_since or now
        if now - self.e_stop_unheard_since >= E_STOP_WAIT:
            self.get_logger().error(
                f'{unheard} e_stop publisher(s) on {self.e_stop_listener.topic_name} that this '
                'actor cannot hear (not std_msgs/Bool, or a QoS it cannot match): safe commands '
                'only until they are gone', throttle_duration_sec=5.0)

    def _on_throttle(self, msg: Bool) -> None:
        self.throttled = bool(msg.data) and self.p['follow_throttle']
        if not self.throttled and self.latest is not None and self.p['trigger'] == 'state':
            self._act(self.latest, self.latest_received_perf)

    def _on_goal(self, msg: PointStamped) -> None:
        try:
            self.core.goal = messages.parse_goal(msg)
        except messages.InvalidMessage as error:
            self.drops.drop(f'goal_{error.reason}', str(error))

    def _on_policy(self, msg: UInt8MultiArray) -> None:
        """Hand the bytes to the loader thread: control never waits on decoding."""
        self._pending_policy = msg
        self._policy_event.set()

    def _load_policies(self) -> None:
        while True:
            self._policy_event.wait()
            self._policy_event.clear()
            if self._closing:
                return
            msg, self._pending_policy = self._pending_policy, None
            if msg is None:
                continue
            try:
                bundle = messages.parse_policy(msg, self.p['max_policy_bytes'], self.signing_key)
                bundle.check_matches(self.task)
            except (messages.InvalidMessage, BundleError) as error:
                reason = getattr(error, 'reason', None)
                unsigned = reason in ('unsigned', 'bad_signature')  # not the learner's
                self.faults['policy'] = f'refused policy: {error}'
                self.drops.drop(f'policy_{reason}' if unsigned else 'policy',
                                f'{error} (keeping version {self.policy_version})',
                                error=unsigned)
                continue
            self.faults.pop('policy', None)
            self._use_bundle(bundle)

    def _loads_policies(self) -> bool:
        """Train mode: whether this node takes /t3d/policy (in a group, its leader only)."""
        return self.training and (self.batch is None or self.batch.leader is self)

    def _use_bundle(self, bundle: PolicyBundle) -> None:
        """
        Run ``bundle`` from now on.

        A group's leader hands it to every member (one copy of the weights per process).
        """
        policy = NumpyPolicy.from_bundle(bundle)
        leads = self.batch is not None and self.batch.leader is self
        for node in self.batch.members if leads else (self,):
            node.policy, node.policy_version = policy, bundle.policy_version
            node.counters['policy_updates'] += 1

    # --- control --------------------------------------------------------------------------

    def _on_tick(self) -> None:
        if not self.active:
            return
        age = time.monotonic() - self.latest_received
        if self.state_timeout > 0 and age > self.state_timeout and not self.awaiting_reset:
            if not self.stale:
                self.stale = True
                self.counters['watchdog_trips'] += 1
                self.get_logger().warning(
                    f'no fresh joint state for {age:.3f} s: safe commands'
                    if self.latest is not None
                    else 'no joint state received yet: safe commands')
            self.core.interrupt()
            self._publish_safe()
        elif self.p['trigger'] == 'timer' and self.latest is not None:
            self._act(self.latest, self.latest_received_perf)

    def _act(self, reading: messages.JointStateReading, received: float) -> None:
        """
        One control step on ``reading`` (train mode: also close the last transition).

        In an actor group the step is submitted to the group's batch, which runs it (with the
        steps of the other robots that are ready) once the executor has nothing else ready.
        """
        if self.batch is not None:
            self.batch.submit(self, reading, received)
            return
        step = self.observe_step(reading)
        if step is not None:
            self.command_step(step, received, self.policy)

    def observe_step(self, reading: messages.JointStateReading) -> ControlStep | None:
        """
        Return the first half of a control step.

        Observe ``reading`` and close the transition; None where no policy command follows (a safe
        command was sent, or nothing is due).
        """
        if self.throttled and self.throttle_sub.get_publisher_count() == 0:
            self.throttled = False  # the learner that asked us to wait is gone: act on
        if not self.active or self.awaiting_reset or self.throttled or self._learner_behind():
            return None
        if self.p['trigger'] == 'state' and reading.stamp_ns <= self.last_acted_stamp:
            return None  # a republished state we already acted on
        self.last_acted_stamp = reading.stamp_ns
        if self.task.has_goal and self.core.goal is None:
            self._publish_safe()
            return None
        state, obs, transition = self.core.observe(reading.position, reading.velocity,
                                                   reading.base)
        if transition is not None and transition.done:
            self._end_episode(transition)
            return None
        if (self.e_stop or self.e_stop_unheard or not self._e_stop_known()
                or (self.policy is None and not self.training)):
            self._publish_safe(reading.position)
            self._record(transition)
            return None
        return ControlStep(reading, state, obs, transition)

    def command_step(self, step: ControlStep, received: float, policy: UnitPolicy | None
                     ) -> None:
        """
        Do the second half: choose (``policy`` answers for ``step.obs``), publish, note it.

        Then record the closed transition: in lockstep the sim steps meanwhile.
        """
        command = self._publish(self.core.choose(step.obs, policy), step.reading.position)
        self.latency.add(time.perf_counter() - received)
        self.core.sent(step.state, step.obs, command)
        self._record(step.transition)

    def _learner_behind(self) -> bool:
        """
        Train mode: whether to wait for the learner now.

        Before a learner first listens, the actor acts for its ``start_steps`` (random actions:
        no policy needed) and holds their messages (at most FLOW_WINDOW), so a learner that
        starts slower than the robot loses neither its data nor the time; then it waits.

        After that, flow control (follow_throttle): wait while FLOW_WINDOW transition messages
        are not acknowledged by every reliable reader (a learner that is stalled, e.g. stopped
        or swapped out, and cannot even tell us to wait on /t3d/throttle). Without it the
        publisher's history would overwrite messages nobody received.
        """
        waiting = self._no_learner_yet() or self._unacknowledged()
        if self.flow_blocked and not waiting:
            self.get_logger().info('the learner caught up: acting again')
        self.flow_blocked = waiting
        return waiting

    def _no_learner_yet(self) -> bool:
        if self.held_messages is None or self._hand_over_held_messages():
            return False
        if (self.core.env_steps < self.settings.start_steps
                and len(self.held_messages) < FLOW_WINDOW):
            return False
        if not self.flow_blocked:
            self.get_logger().info(f'waiting for a learner on /t3d/transitions (holding '
                                   f'{len(self.held_messages)} transition messages for it)')
        return True

    def _unacknowledged(self) -> bool:
        if not (self.training and self.p['follow_throttle']) or self.unacked < FLOW_WINDOW:
            return False
        if self.transitions_pub.wait_for_all_acked(Duration(seconds=0)):
            self.unacked = 0
            return False
        if not self.flow_blocked:
            self.counters['flow_waits'] += 1
            self.get_logger().warning(f'{self.unacked} transition messages not acknowledged '
                                      'by the learner: waiting', throttle_duration_sec=5.0)
        return True

    def _hand_over_held_messages(self) -> bool:
        """Send the held messages if a learner listens now; True if one does."""
        if self.transitions_pub.get_subscription_count() == 0:
            return False
        held, self.held_messages = self.held_messages, None
        for msg in held:
            self._send(msg)
        if held:
            self.get_logger().info(f'a learner listens: sent it the {len(held)} transition '
                                   'messages made before')
        return True

    def _on_flow_poll(self) -> None:
        if self.flow_blocked and not self._learner_behind() and self.latest is not None \
                and self.p['trigger'] == 'state':
            self._act(self.latest, self.latest_received_perf)

    def _e_stop_known(self) -> bool:
        """
        Deploy: whether the e_stop value is known, so the policy may command.

        A latched e_stop value reaches a starting actor only after discovery, which may come
        after the first joint states, and a volatile publisher's next message comes when it
        republishes: an actor started while e_stop is engaged would otherwise send policy
        commands first. So until the first e_stop message, a deploy actor sends safe commands
        while an e_stop publisher is known but has not been heard from, for at most
        E_STOP_WAIT s after activation (a publisher that never published must not block the
        robot forever). Training does not wait: in lockstep a safe command would step the sim
        with an action nobody chose.
        """
        if self.training or self.e_stop_settled:
            return True
        if (time.monotonic() - self.activated_at >= E_STOP_WAIT
                or self.e_stop_listener.publishers() == 0):
            self.e_stop_settled = True
        return self.e_stop_settled

    def _record(self, transition: Transition | None) -> None:
        """Queue a closed transition (if any) for the learner; send a full message."""
        if transition is None:
            return
        self.outbox.append(transition)
        if len(self.outbox) >= self.p['transitions_per_message']:
            self._flush_transitions()

    def _end_episode(self, transition: Transition) -> None:
        """Send the episode's last transitions, ask for the reset, then report the episode."""
        self.outbox.append(transition)
        self._flush_transitions()
        self._begin_reset()
        self._publish_diagnostics()  # while the sim resets

    def _flush_transitions(self) -> None:
        if not self.outbox:
            return
        columns = [np.array(column) for column in zip(*self.outbox)]
        self.outbox = []
        batch = messages.TransitionBatch(self.actor_id, self.policy_version, *columns,
                                         seq=self.transitions_seq)
        self.transitions_seq += 1
        msg = self.codec.encode(batch)
        if self.held_messages is not None and not self._hand_over_held_messages():
            self.held_messages.append(msg)
        else:
            self._send(msg)

    def _send(self, msg: Float32MultiArray) -> None:
        if self.unacked and self.transitions_pub.wait_for_all_acked(Duration(seconds=0)):
            # Acknowledged at the writer's last heartbeat: count afresh. Checked before the next
            # message only, as none can be acknowledged before the heartbeat after it.
            self.unacked = 0
        self.transitions_pub.publish(msg)
        self.unacked += 1

    # --- episodes -------------------------------------------------------------------------

    def _begin_reset(self) -> None:
        self.awaiting_reset = True
        self.core.interrupt()
        self.reset_floor_stamp = self.latest.stamp_ns if self.latest is not None else -1
        self._request_reset()

    def _request_reset(self) -> None:
        if self.reset_future is not None and not self.reset_future.done() and (
                time.monotonic() - self.reset_called_at > RESET_TIMEOUT):
            self.reset_client.remove_pending_request(self.reset_future)
            self.reset_future.cancel()
            self.reset_future = None
            self.counters['reset_timeouts'] += 1
            self.get_logger().warning(f'no answer to the reset call within {RESET_TIMEOUT} s '
                                      '(did the sim restart?): calling again')
        if not (self.active and self.awaiting_reset) or self.reset_future is not None:
            return
        if not self.reset_client.service_is_ready():
            self.get_logger().info('waiting for the reset service', throttle_duration_sec=5.0)
            return
        self.reset_called_at = time.monotonic()
        self.reset_future = self.reset_client.call_async(Trigger.Request())
        self.reset_future.add_done_callback(self._on_reset_done)

    def _on_reset_done(self, future) -> None:
        if future is not self.reset_future or future.cancelled():
            return  # a call given up on (RESET_TIMEOUT)
        self.reset_future = None
        response = future.result()
        if response is None or not response.success:
            self.get_logger().warning(f'reset failed: {getattr(response, "message", "")}; '
                                      'retrying')
            return
        goal = self.core.begin_episode()
        if goal is not None:
            self.goal_pub.publish(messages.goal_msg(goal, self.latest_stamp()))
        self.awaiting_reset = False
        episode_stamp = messages.parse_reset_reply(response.message)
        if episode_stamp is not None:
            # Our sim names the state that begins the episode: act on none older (a copy of a
            # kept first state, republished before the reset, may still be on its way).
            self.last_acted_stamp = max(self.last_acted_stamp, episode_stamp - 1)
            ready = self.latest is not None and self.latest.stamp_ns >= episode_stamp
        else:
            # Another reset service: the reset state came first if it is newer than the
            # episode's last and was received after the request.
            ready = (self.latest is not None and self.latest.stamp_ns > self.reset_floor_stamp
                     and self.latest_received > self.reset_called_at)
        if ready:
            self._act(self.latest, self.latest_received_perf)

    def latest_stamp(self) -> int:
        return self.latest.stamp_ns if self.latest is not None else 0

    # --- outputs --------------------------------------------------------------------------

    def _publish(self, command: np.ndarray, measured_position: np.ndarray) -> np.ndarray:
        """Clamp, rate-limit and publish; returns the command actually sent (task order)."""
        command = self.safety.limit(command, measured_position)
        self.command_pub.publish(self.command_writer.message(command[self.command_order]))
        self.counters['commands'] += 1
        return command

    def _publish_safe(self, measured_position=None) -> None:
        if measured_position is None and self.latest is not None:
            measured_position = self.latest.position
        command = self.safety.safe_command(measured_position)
        self.core.held()
        if command is not None:
            self.command_pub.publish(self.command_writer.message(command[self.command_order]))
            self.counters['safe_commands'] += 1

    def _publish_diagnostics(self) -> None:
        values = dict(self.counters, **self.core.counters(), policy_version=self.policy_version,
                      e_stop=self.e_stop, e_stop_unheard_publishers=self.e_stop_unheard,
                      stale_state=self.stale, active=self.active,
                      waiting_for_learner=self.flow_blocked)
        values.update(self.latency.percentiles('state_to_command'))
        values.update(self.drops.counts())
        if self.batch is not None:
            values.update(self.batch.counters())
        if self.task.floating_base:
            values['unpaired_states'] = self.sync.discarded
        level, message = messages.diagnostic_level(*self._health())
        self.diagnostics_pub.publish(messages.diagnostics_msg(
            self.get_clock().now().nanoseconds, f't3d/actor/{self.actor_id}', self.actor_id,
            values, level, message))

    def _health(self) -> tuple[list[str], list[str]]:
        """Say what is wrong now: errors (a setup to fix) and warnings (the robot is held)."""
        errors = [f'not configured: {self.refusal}'] if self.refusal else []
        errors += self.faults.values()
        if self.e_stop_unheard:
            errors.append(f'{self.e_stop_unheard} e_stop publisher(s) it cannot hear: safe '
                          'commands')
        warnings = [warning for warning, now in (
            ('stale joint state: safe commands', self.stale),
            ('e_stop engaged: safe commands', self.e_stop),
            ('throttled: waiting for the learner', self.throttled)) if now]
        return errors, warnings


def main(args=None) -> int:
    return run_node(ActorNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

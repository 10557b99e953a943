"""
actor_node: robot state -> observation -> actor network -> safe joint command.

A managed (lifecycle) node. ``configure`` builds the task and, in deploy mode, loads and checks
the policy bundle; ``activate`` starts commanding; ``deactivate`` sends a safe command and
stops. With ``autostart`` (training) it configures and activates itself.

The node runs the lifecycle, the timers and the control step. Its parts: robot state in, e_stop
in (and gate), commands out (safety layer), goal, the actor core (episodes, exploration, time
limit; shared with the direct trainer), and in ``train`` mode the reset client (parameter
``reset``: ``reset_modes.py``), the transition sender (to the learner, and when to wait for it)
and the policy client (``/t3d/policy``).
"""
from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn

from t3d_ros.acting.core import ActorCore, ActorSettings, Transition, UnitPolicy
from t3d_ros.acting.e_stop_gate import EStopGate
from t3d_ros.acting.stamp_order import EpisodeStart
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.acting.safety import CommandSafety
from t3d_ros.acting.transition_sender import TransitionSender
from t3d_ros.bundle import signing
from t3d_ros.bundle.deployment import check_deployment, command_topic, control_period
from t3d_ros.bundle.policy_bundle import BundleError
from t3d_ros.nodes.actor_health import actor_health
from t3d_ros.nodes.actor_params import ACTOR_PARAMS
from t3d_ros.nodes.command_output import CommandOutput, controller_order
from t3d_ros.nodes.e_stop_input import E_STOP_CHECK_PERIOD, EStopInput
from t3d_ros.nodes.goal_topic import GoalTopic
from t3d_ros.nodes.learner_topics import FLOW_WINDOW, LearnerTopics
from t3d_ros.nodes.policy_client import PolicyClient
from t3d_ros.nodes.reset_client import RESET_RETRY_PERIOD, ResetClient
from t3d_ros.nodes.reset_modes import make_reset_client
from t3d_ros.nodes.robot_state_input import RobotStateInput
from t3d_ros.ros import messages
from t3d_ros.ros.clocks import steady_timer
from t3d_ros.ros.drops import DropCounter
from t3d_ros.ros.entities import ConfiguredEntities
from t3d_ros.ros.latency import LatencyWindow
from t3d_ros.ros.lifecycle import LifecycleNode
from t3d_ros.ros.spin import run_node
from t3d_ros.tasks import make_task
from t3d_ros.tasks.base import RobotState

FLOW_POLL_PERIOD = 0.05
DIAGNOSTICS_PERIOD = 1.0


class ControlStep(NamedTuple):
    """A control step between its observation and its command (see ``observe_step``)."""

    reading: messages.JointStateReading
    state: RobotState
    obs: np.ndarray
    transition: Transition | None
    """The transition the observation closed, recorded once the command is out."""


class ActorNode(LifecycleNode):

    def __init__(self, batch=None, **kwargs):
        """``batch``: the ``ActorBatch`` of an actor group process (``actor_batch``), or None."""
        super().__init__('actor', **kwargs)
        p = ACTOR_PARAMS.declare(self)
        self.p = p
        self.task = make_task(p['task'])
        self.actor_id = p['actor_id'] or self.get_namespace().strip('/') or self.get_name()
        self.training = p['mode'] == 'train'
        self.period = control_period(self.task, p)
        self.state_timeout = 3 * self.period if p['state_timeout'] < 0 else p['state_timeout']
        self.settings = ActorSettings.from_parameters(p)
        self.command_order = controller_order(self.task, p['joint_order'])
        self.drops = DropCounter(self.get_logger(), 'input')
        self.sender = TransitionSender(p['transitions_per_message'], FLOW_WINDOW,
                                       self.settings.start_steps, self.training,
                                       p['follow_throttle'], self.get_logger())
        self.latency = LatencyWindow()
        self._entities = ConfiguredEntities(self)
        self.faults: dict[str, str] = {}  # ERROR conditions now: kind -> what is wrong
        # Diagnostics in every lifecycle state: a refused configure is reported too.
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        steady_timer(self, DIAGNOSTICS_PERIOD, self._publish_diagnostics)
        self.batch = batch
        self.policies = (self._policy_client() if batch is None
                         else batch.join(self, self._policy_client))
        # Train mode: whether this node takes /t3d/policy (in a group, its leader only).
        self.loads_policies = self.training and (batch is None or batch.leader is self)
        self._reset_state()
        self.refusal = ''  # why the last configure failed
        if p['autostart']:
            self._autostart()

    def _policy_client(self) -> PolicyClient:
        """Return a policy client for this node's task and parameters (a group's: the first's)."""
        key_file = self.p['signing_key_file']
        return PolicyClient(self.task, self.p['max_policy_bytes'],
                            signing.load_key(key_file) if key_file else None, self.drops,
                            self.faults)

    def _autostart(self) -> None:
        """Configure and activate; ValueError (the process exits 1) if either fails."""
        for name, transition in (('configure', self.trigger_configure),
                                 ('activate', self.trigger_activate)):
            if transition() != TransitionCallbackReturn.SUCCESS:
                raise ValueError(f'autostart: {name} failed'
                                 + (f': {self.refusal}' if self.refusal else ''))

    def _reset_state(self) -> None:
        """Start from scratch: at construction and after a cleanup."""
        self.active = False
        self.policy_updates_before = self.policies.updates
        on_states = self.p['trigger'] == 'state'  # else on a timer, on the latest state
        self.robot_state = RobotStateInput(
            self.task, on_states, self.p['odom_slop'], self.get_logger(), self.drops,
            self.faults, self._act if on_states else None, self._on_state_restart)
        self.e_stop_gate = EStopGate(waits_for_first_value=not self.training)
        self.e_stop_input = EStopInput(self.e_stop_gate, self.get_logger(), self._stop_if_active)
        self.commands = CommandOutput(self.command_order)
        self.goal = GoalTopic(self.drops, self._on_goal)
        self.core = ActorCore(self.task, self.settings, self.p['seed'], self.training)
        self.reset: ResetClient = make_reset_client(self)
        self.sender.clear()

    @property
    def counters(self) -> dict:
        """Return every count of this actor since it was made or cleaned up (diagnostics)."""
        return dict(**self.commands.counters(), **self.robot_state.counters(),
                    policy_updates=self.policies.updates - self.policy_updates_before,
                    **self.sender.counters(), **self.reset.counters())

    @property
    def policy(self) -> NumpyPolicy | None:
        return self.policies.policy

    @property
    def policy_version(self) -> int:
        return self.policies.version

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
            self.commands.safety = CommandSafety.tightened(
                self.task.interface, self.task.command_low, self.task.command_high,
                p['max_delta'] or np.inf, p['command_low'], p['command_high'])
        except ValueError as error:
            return self._refuse(f'bad command limits: {error}')
        if bundle is not None:  # only once nothing can fail: a refused configure leaves none
            self.policies.use(bundle)
        self._create_entities()
        return TransitionCallbackReturn.SUCCESS

    def _refuse(self, reason: str) -> TransitionCallbackReturn:
        """Fail the configure transition, saying why."""
        self.refusal = reason
        self.get_logger().error(reason)
        return TransitionCallbackReturn.FAILURE

    def _create_entities(self) -> None:
        p, made = self.p, self._entities
        made.add(self.e_stop_input.connect(self))
        made.add(self.robot_state.connect(self, p['state_qos']))
        made.timer(E_STOP_CHECK_PERIOD, self.e_stop_input.check_publishers)
        if self.training:
            # Only a training actor takes new weights from the learner: a deployed one runs
            # the bundle it checked at configure, whatever is published on /t3d/policy.
            if self.loads_policies:
                made.add(self.policies.connect(self))
            learner = LearnerTopics(self, self.actor_id, self.task, lambda: self.policy_version,
                                    self._on_throttle)
            self.sender.connect(learner)
            made.add(learner.entities + self.reset.connect(self))
            made.timer(RESET_RETRY_PERIOD, lambda: self.reset.poll(self.active))
            made.timer(FLOW_POLL_PERIOD, self._on_flow_poll)
        if self.task.has_goal:  # no goal topic for a task without goals
            made.add(self.goal.connect(self, self.training))
        if p['trigger'] == 'timer' or self.state_timeout > 0:
            made.timer(self.period, self._on_tick)
        made.add(self.commands.connect(self, command_topic(self.task, p)))

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)
        self.e_stop_gate.activated()
        self.active = True
        if self.training:
            self._begin_reset()
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._publish_safe()
        self.active = False
        self._cut_episode()  # activate resets the robot and begins the next
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._entities.destroy()
        self._reset_state()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_if_active()
        self._entities.destroy()
        self.active = False
        return TransitionCallbackReturn.SUCCESS

    def close(self) -> None:
        """Leave the robot with a safe command when the process stops."""
        if self.active:
            self._publish_safe()
            self.sender.flush()
        self.active = False
        if self.loads_policies:
            self.policies.stop()

    # --- inputs ---------------------------------------------------------------------------

    def _on_state_restart(self, reading: messages.JointStateReading) -> None:
        """Follow a restarted robot driver (or sim): no transition, no episode spans it."""
        self.core.interrupt()
        if self.reset.awaiting:
            self.reset.stream_restarted(reading.stamp_ns)
        elif self.training and self.active:
            self.robot_state.latest = reading
            self.sender.flush()
            self._begin_reset()  # an episode does not go on across a restart

    def _on_throttle(self, asked: bool) -> None:
        if not self.sender.throttle(asked) and self.p['trigger'] == 'state':
            self._act_on_latest()

    def _on_goal(self, goal: np.ndarray) -> None:
        self.core.goal = goal

    # --- control --------------------------------------------------------------------------

    def _on_tick(self) -> None:
        if not self.active:
            return
        if (self.state_timeout > 0 and not self.reset.awaiting
                and self.robot_state.stale_after(self.state_timeout)):
            self._publish_safe()
            self._cut_episode()
        elif self.p['trigger'] == 'timer':
            self._act_on_latest()

    def _on_flow_poll(self) -> None:
        if (self.sender.waiting and not self.sender.behind(self.core.env_steps)
                and self.p['trigger'] == 'state'):
            self._act_on_latest()

    def _act_on_latest(self) -> None:
        if self.robot_state.latest is not None:
            self._act(self.robot_state.latest, self.robot_state.received_perf)

    def _act(self, reading: messages.JointStateReading, received: float) -> None:
        """
        One control step on ``reading`` (train mode: also close the last transition).

        In an actor group the group's batch runs it, with the steps of the other robots ready.
        """
        if self.batch is not None:
            self.batch.submit(self, reading, received)
            return
        step = self.observe_step(reading)
        if step is not None:
            self.command_step(step, received, self.policy)

    def observe_step(self, reading: messages.JointStateReading) -> ControlStep | None:
        """
        Observe ``reading`` and close the transition: the first half of a control step.

        None where no policy command follows (a safe command was sent, or nothing is due).
        """
        asked_to_wait = self.sender.asked_to_wait()
        if (not self.active or self.reset.awaiting or asked_to_wait
                or self.sender.behind(self.core.env_steps)):
            return None
        if not self.robot_state.stamps.may_act(reading.stamp_ns):
            return None
        if self.task.has_goal and self.core.goal is None:
            self._publish_safe()
            return None
        state, obs, transition = self.core.observe(reading.position, reading.velocity,
                                                   reading.base)
        if transition is not None and transition.done:
            self._end_episode(transition)
            return None
        if not self.e_stop_input.allows_policy() or (self.policy is None and not self.training):
            self._publish_safe(reading.position)
            self.sender.record(transition)
            self._cut_episode()  # (e_stop: the episode ends at the transition it closed)
            return None
        return ControlStep(reading, state, obs, transition)

    def wants_policy(self, policy: UnitPolicy | None) -> bool:
        """Whether the next ``command_step`` asks ``policy`` for its action (to batch it)."""
        return self.core.wants_policy(policy)

    def command_step(self, step: ControlStep, received: float, policy: UnitPolicy | None
                     ) -> None:
        """
        Do the second half: choose (``policy`` answers for ``step.obs``), publish, note it.

        Then record the closed transition: in lockstep the sim steps meanwhile.
        """
        command = self.commands.send(self.core.choose(step.obs, policy), step.reading.position)
        self.latency.add(time.perf_counter() - received)
        self.core.sent(step.state, step.obs, command)
        self.sender.record(step.transition)

    def _stop_if_active(self) -> None:
        if self.active:
            self._publish_safe()

    def _publish_safe(self, measured_position=None) -> None:
        if measured_position is None and self.robot_state.latest is not None:
            measured_position = self.robot_state.latest.position
        self.core.held()
        self.commands.send_safe(measured_position)

    # --- episodes -------------------------------------------------------------------------

    def _end_episode(self, transition: Transition | None) -> None:
        """Send the episode's last transitions, ask for the reset, then report the episode."""
        self.sender.record(transition)
        self.sender.truncate_last()  # (its last already ends it, unless cut short)
        self.sender.flush()
        if self.active:  # (else at activate)
            self._begin_reset()
        self._publish_diagnostics()  # while the sim resets

    def _cut_episode(self) -> None:
        """End a training episode that has steps here: its last transition is truncated."""
        self.core.interrupt()  # the pending command's transition is not data
        if self.training and self.core.episode_steps and not self.reset.awaiting:
            self.core.cut()
            self._end_episode(None)

    def _begin_reset(self) -> None:
        self.core.interrupt()
        self.reset.begin(self.robot_state.latest_stamp(-1))

    def begin_episode(self, start: EpisodeStart) -> None:
        """Begin the episode the reset made: a new goal; act once its first state is in."""
        goal = self.core.begin_episode()
        if goal is not None:
            self.goal.publish(goal, self.robot_state.latest_stamp(0))
        if self.robot_state.begins_episode(start):
            self._act_on_latest()

    # --- diagnostics ----------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        gate = self.e_stop_gate
        values = dict(self.counters, **self.core.counters(), policy_version=self.policy_version,
                      e_stop=gate.engaged, e_stop_unheard_publishers=gate.unheard,
                      stale_state=self.robot_state.stale, active=self.active,
                      waiting_for_learner=self.sender.waiting)
        values.update(self.latency.percentiles('state_to_command'))
        values.update(self.drops.counts())
        if self.batch is not None:
            values.update(self.batch.counters())
        if self.task.floating_base:
            values['unpaired_states'] = self.robot_state.sync.discarded
        level, message = messages.diagnostic_level(*actor_health(self))
        self.diagnostics_pub.publish(messages.diagnostics_msg(
            self.get_clock().now().nanoseconds, f't3d/actor/{self.actor_id}', self.actor_id,
            values, level, message))


def main(args=None) -> int:
    return run_node(ActorNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

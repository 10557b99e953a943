"""
sim_node: a PyBullet robot behind the ros2_control contract.

Publishes ``joint_states`` (task joint order), for a floating-base task ``odom``
(nav_msgs/Odometry of the base link, stamped like joint_states) and, with ``publish_clock``,
``/clock``; takes ``std_msgs/Float64MultiArray`` on the forward command controller topic;
serves ``reset`` (std_srvs/Trigger: a new seeded initial state); shows the ``goal``; latches the
URDF it loaded on ``robot_description``. The robot, its episodes and its time are the sim
core's (``t3d_ros.envs.sim_core``), as in the gymnasium env; this node converts messages and
keeps the graph's rules.

- ``lockstep``: one control step of physics per command of its own actor (the node
  ``actor_node``), then publish: no step is lost or stale, and the numbers equal the gymnasium
  env's for the same seed and actions. Commands of any other publisher are counted and
  ignored: they would step the sim with actions its actor never chose. A command's publisher
  is its gid's node in the ROS graph; where rclpy gives no publisher gid (Jazzy), it is the
  node of the command topic's publishers while they are all one node's (a restarted actor's
  and, until DDS drops it, the killed one's), and while there are several nodes, commands are
  refused and counted (``ambiguous_publisher``): which of them sent one cannot be told.
- ``realtime``: physics at ``rate_hz`` (steady clock) with the latest command from anyone,
  like a forward command controller; optional actuation latency, observation noise and
  randomised dynamics (sim-to-real).

Time (the README's rule): the sim's own time advances one control period per step (and per
reset). ``joint_states`` carry it where it is the graph's time or no other exists: when the sim
publishes ``/clock`` (one source per graph at most), and in lockstep, whose time is the step
count and nobody else's. A realtime sim without ``/clock`` stamps like a hardware driver, with
its node clock.
"""
from __future__ import annotations

import time
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PointStamped
from nav_msgs.msg import Odometry
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray
from std_srvs.srv import Trigger

from t3d_ros.ros import messages
from t3d_ros.envs.sim_core import SimCore
from t3d_ros.ros.any_qos import AnyQosListener
from t3d_ros.ros.clocks import steady_timer
from t3d_ros.ros.drops import DropCounter
from t3d_ros.ros.message_info import NO_PUBLISHER_GID, publisher_gid, with_message_info
from t3d_ros.ros.robot_description import publish_robot_description
from t3d_ros.ros.spin import run_node
from t3d_ros.nodes.sim_params import SIM_PARAMS
from t3d_ros.tasks import make_task

DIAGNOSTICS_PERIOD = 1.0
IDENTIFY_PERIOD = 0.02
"""Lockstep: how often the graph is asked again for a command publisher not yet in it."""
IDENTIFY_TIMEOUT = 5.0
"""Lockstep: a command whose publisher the graph has not shown by then is dropped."""
MAX_UNIDENTIFIED = 32
UNKNOWN_NODE_NAME = '_NODE_NAME_UNKNOWN_'
"""The node name rmw_fastrtps gives an endpoint whose node it has not heard of yet."""
SEVERAL_PUBLISHERS = '<several publishers>'
"""Lockstep without publisher gids: a command's publisher cannot be told among several."""


class SimNode(Node):

    def __init__(self, **kwargs):
        super().__init__('sim', **kwargs)
        p = SIM_PARAMS.declare(self)
        self.task = make_task(p['task'])
        self.mode = p['mode']
        seed = p['seed']
        command_topic = p['command_topic'] or self.task.command_topic
        rate_hz = p['rate_hz']
        self.latency_ns = messages.seconds_to_ns(p['actuation_latency'])
        self.observation_noise = p['observation_noise']
        self.mass_scale = p['mass_scale']
        self.friction_range = p['friction_range']
        republish_period = p['republish_period']
        actor_node = p['actor_node']
        self.publish_clock = p['publish_clock']

        self.core = SimCore(self.task, seed, actuation_latency_ns=self.latency_ns,
                            observation_noise=self.observation_noise,
                            mass_scale=self.mass_scale, friction_range=self.friction_range)
        self.counters = dict(commands=0, foreign_commands=0, other_clock_sources=0)
        self.drops = DropCounter(self.get_logger(), 'command')
        self._reported = (0, 0)  # drops and foreign commands at the last diagnostics

        self.state_pub = self.create_publisher(JointState, 'joint_states', messages.ROBOT_QOS)
        self.state_writer = messages.JointStateWriter(self.task.joint_names)
        self.odom_pub = (self.create_publisher(Odometry, 'odom', messages.ROBOT_QOS)
                         if self.task.floating_base else None)
        self.clock_pub = (self.create_publisher(Clock, '/clock', 10) if self.publish_clock
                          else None)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.description_pub = publish_robot_description(self, self.core.robot.urdf_path)
        self.command_sub = self.create_subscription(
            Float64MultiArray, command_topic, with_message_info(self._on_command),
            messages.ROBOT_QOS, event_callbacks=SubscriptionEventCallbacks(
                matched=self._on_command_publishers_changed))
        if self.task.has_goal:  # no goal topic for a task without goals
            self.goal_listener = AnyQosListener(self, PointStamped, 'goal', self._on_goal)
        self.create_service(Trigger, 'reset', self._on_reset)
        steady_timer(self, DIAGNOSTICS_PERIOD, self._publish_diagnostics)
        self.actor_name = ''  # lockstep: the fully qualified name of the node we obey
        if self.mode == 'lockstep' and actor_node:
            self.actor_name = (actor_node if actor_node.startswith('/') else
                               self.get_namespace().rstrip('/') + '/' + actor_node)
        self.publisher_names: dict[bytes, str] = {}  # command publishers' gids -> node names
        self.graph_publishers = 0  # command publishers the graph showed at the last look
        self.matched_publishers = 0
        """Command publishers matched, as the last matched event said. The events executor runs
        that event in order with the commands, so the commands a publisher sent before it went
        still come while it counts."""
        self.sole_publisher: str | None = None
        """Without publisher gids: the node of every command publisher, until one is matched or
        goes (then ``sole_matched``, the publishers matched when it was named, differs)."""
        self.sole_matched = 0
        self.unidentified: deque[tuple[float, bytes | None, np.ndarray]] = deque()
        self.identify_timer = steady_timer(self, IDENTIFY_PERIOD, self._identify_pending,
                                           autostart=False)
        self.republish_timer = None
        if self.mode == 'realtime':
            steady_timer(self, 1.0 / (rate_hz or 1.0 / self.task.control_dt), self._on_tick)
        elif republish_period > 0:
            self.republish_timer = steady_timer(self, republish_period, self._publish_state)
        self.core.reset()
        self._publish_state()
        obeys = f', from {self.actor_name} only' if self.actor_name else ''
        self.get_logger().info(f'{self.task.name} sim ready ({self.mode}), commands on '
                               f'{self.command_sub.topic_name}{obeys}')

    def _on_command(self, msg: Float64MultiArray, info) -> None:
        try:
            command = messages.parse_command(msg, self.task.num_joints)
        except messages.InvalidMessage as error:
            self.drops.drop(error.reason, f'{error}; keeping the last good command')
            return
        if self.mode == 'realtime':
            self.counters['commands'] += 1
            self.core.actuate(command)
        elif not self.actor_name:
            self._take_lockstep(command)
        else:
            gid = publisher_gid(info)
            if gid is None:
                self.get_logger().info(
                    f'{NO_PUBLISHER_GID}: commands are taken as {self.actor_name}\'s while it is '
                    f'the one node publishing on {self.command_sub.topic_name}; while there '
                    'are several, refused and counted (ambiguous_publisher)', once=True)
            if self._route(gid, command):
                return
            if len(self.unidentified) < MAX_UNIDENTIFIED:
                # The message came before the graph showed its publisher: ask again shortly.
                self.unidentified.append((time.monotonic(), gid, command))
                self.identify_timer.reset()
            else:
                self.drops.drop('unidentified_publisher', 'too many commands from publishers '
                                'the ROS graph does not show yet')

    def _take_lockstep(self, command: np.ndarray) -> None:
        self.counters['commands'] += 1
        self.core.step(command)
        self._stepped()

    def _route(self, gid: bytes | None, command: np.ndarray) -> bool:
        """
        Obey, or count and ignore, a command by its publisher (``gid``; None: rclpy gave none).

        Return False while the ROS graph does not show the publisher yet.
        """
        publisher = self._publisher_name(gid)
        if publisher is None:
            return False
        if publisher == SEVERAL_PUBLISHERS:
            self.drops.drop('ambiguous_publisher', f'{NO_PUBLISHER_GID}, and several nodes '
                            f'publish on {self.command_sub.topic_name}: which of them sent a '
                            'command cannot be told, so none steps the sim')
        else:
            self._obey_or_count(publisher, command)
        return True

    def _publisher_name(self, gid: bytes | None) -> str | None:
        """Return the fully qualified node name of a command's publisher (``_route``)."""
        if gid is None:
            return self._sole_publisher_name()
        if gid not in self.publisher_names:
            self._refresh_publisher_names()
        return self.publisher_names.get(gid)

    def _sole_publisher_name(self) -> str | None:
        """
        Without publisher gids: name the node of every command publisher.

        ``SEVERAL_PUBLISHERS`` while they are several nodes', or while more are matched (now, or
        when the command came: ``matched_publishers``) than the graph shows (one went, and the
        command may be its); None while the graph does not name them all yet.
        """
        matched = max(self.matched_publishers, self.command_sub.get_publisher_count())
        if self.sole_publisher is not None and matched == self.sole_matched:
            return self.sole_publisher
        self._refresh_publisher_names()
        nodes = set(self.publisher_names.values())
        if len(nodes) > 1:
            return SEVERAL_PUBLISHERS
        if not nodes or len(self.publisher_names) < self.graph_publishers:
            return None
        if matched > self.graph_publishers:
            return SEVERAL_PUBLISHERS
        (self.sole_publisher,), self.sole_matched = nodes, matched
        return self.sole_publisher

    def _on_command_publishers_changed(self, event) -> None:
        """Forget the one publisher: one was matched or went, so it may be another now."""
        self.matched_publishers = event.current_count
        self.sole_publisher = None

    def _obey_or_count(self, publisher: str, command: np.ndarray) -> None:
        if publisher == self.actor_name:
            self._take_lockstep(command)
            return
        self.counters['foreign_commands'] += 1
        self.get_logger().warning(
            f'ignoring commands from {publisher}: this lockstep sim steps on {self.actor_name} '
            f'only ({self.counters["foreign_commands"]} ignored so far)',
            throttle_duration_sec=5.0)

    def _refresh_publisher_names(self) -> None:
        """
        Map gid -> fully qualified node name of every publisher on the command topic now.

        So the table holds only publishers that exist.
        """
        publishers = self.get_publishers_info_by_topic(self.command_sub.topic_name)
        self.graph_publishers = len(publishers)
        self.publisher_names = {
            bytes(info.endpoint_gid): info.node_namespace.rstrip('/') + '/' + info.node_name
            for info in publishers
            # Fast DDS shows a new process's endpoints before its node names: not known yet.
            if info.node_name != UNKNOWN_NODE_NAME}

    def _identify_pending(self) -> None:
        while self.unidentified:
            arrived, gid, command = self.unidentified[0]
            if not self._route(gid, command):
                if time.monotonic() - arrived <= IDENTIFY_TIMEOUT:
                    return  # in order: later commands wait behind this one
                self.drops.drop('unidentified_publisher', 'the ROS graph never showed the '
                                f'publisher of a command in {IDENTIFY_TIMEOUT} s')
            self.unidentified.popleft()
        self.identify_timer.cancel()

    def _on_tick(self) -> None:
        if self.core.closed:  # a tick the executor queued before close (the events executor)
            return
        self.core.tick()
        self._stepped()

    def _stepped(self) -> None:
        self._publish_state()
        if self.republish_timer is not None:  # after the publish: in lockstep the actor waits
            self.republish_timer.reset()

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.core.new_episode()
        self._publish_state()  # the episode's first state, at a time of its own
        response.success = True
        response.message = messages.reset_reply(self.core.counters['resets'],
                                                self.last_stamp_ns)
        return response

    def _on_goal(self, msg: PointStamped) -> None:
        try:
            self.core.robot.show_goal(messages.parse_goal(msg))
        except messages.InvalidMessage as error:
            self.drops.drop(f'goal_{error.reason}', str(error))

    def _publish_state(self) -> None:
        """Publish joint_states (and odom first, stamped alike, for a floating base)."""
        if self.core.closed:
            return
        stamp_ns = self.last_stamp_ns = self._stamp_ns()
        position, velocity, effort, base = self.core.observe()
        if base is not None:
            self.odom_pub.publish(messages.odometry_msg(base, stamp_ns))
        self.state_pub.publish(self.state_writer.message(position, velocity, effort, stamp_ns))
        if self.clock_pub is not None:
            self.clock_pub.publish(messages.clock_msg(self.core.time_ns))

    def _stamp_ns(self) -> int:
        """Return the time a state is stamped with (module docstring)."""
        if self.publish_clock or self.mode == 'lockstep':
            return self.core.time_ns
        return self.get_clock().now().nanoseconds

    def _publish_diagnostics(self) -> None:
        if self.publish_clock:
            self._check_one_clock()
        values = dict(self.core.counters, **self.counters, sim_time=self.core.time_ns * 1e-9,
                      mode=self.mode)
        values.update(self.drops.counts())
        stamp = self.core.time_ns if self.publish_clock else self.get_clock().now().nanoseconds
        clocks = self.counters['other_clock_sources']
        errors = [f'{clocks} other /clock publisher(s)'] if self.publish_clock and clocks else []
        level, message = messages.diagnostic_level(errors, self._warnings())
        self.diagnostics_pub.publish(messages.diagnostics_msg(
            stamp, f't3d/sim{self.get_namespace()}', self.get_namespace(), values, level,
            message))

    def _warnings(self) -> list[str]:
        """List what went wrong since the last report: input ignored (the sim runs on)."""
        now = (self.drops.total, self.counters['foreign_commands'])
        dropped, foreign = (n - before for n, before in zip(now, self._reported))
        self._reported = now
        return [warning for warning, count in (
            (f'{dropped} bad messages dropped (kept the last good command)', dropped),
            (f'{foreign} commands from other publishers ignored', foreign)) if count]

    def _check_one_clock(self) -> None:
        """One /clock source per graph: say so when another node publishes /clock too."""
        others = self.count_publishers('/clock') - 1
        self.counters['other_clock_sources'] = others
        if others > 0:
            self.get_logger().error(
                f'{others} other /clock publisher(s): nodes with use_sim_time see unrelated '
                'times interleaved; give the graph one /clock source (publish_clock on one sim)',
                throttle_duration_sec=10.0)

    def close(self) -> None:
        self.core.close()


def main(args=None) -> int:
    return run_node(SimNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

"""
The ``home`` reset of a training actor: it drives the robot to the episode's start pose.

For robots that have no reset service. The pose and the control law are ``acting/homing.py``'s;
this runs them on a timer at the control rate and sends their commands through the actor's
safety layer. While homing, the actor neither acts nor records transitions.
"""
from __future__ import annotations

import time
from typing import Callable

from rclpy.node import Node
from std_srvs.srv import Trigger

from t3d_ros.acting.homing import HomePoses, Homing, HomingSettings, HomingStatus
from t3d_ros.acting.stamp_order import EpisodeStart
from t3d_ros.nodes.command_output import CommandOutput
from t3d_ros.nodes.robot_state_input import RobotStateInput
from t3d_ros.ros.clocks import steady_timer
from t3d_ros.tasks.base import Task

FAULT = 'homing'
"""The actor's fault (``faults`` key) while a timed-out homing waits for ``~/clear_fault``."""


class HomingReset:
    """
    A ``ResetClient`` (``reset_client.py``) that homes the robot each control ``period``.

    Each tick of an ``active()`` actor sends the homing command while ``e_stop_allows()`` and
    the state is fresh (``state_timeout`` s; 0: no watchdog); else a safe
    command, and the run starts over (its timeout too). Once home, ``on_episode`` begins the
    episode at the latest state. After ``timeout`` s: safe commands each tick and an ERROR
    (``faults``) until an operator calls ``~/clear_fault`` (std_srvs/Trigger); homing then
    starts over.
    """

    def __init__(self, task: Task, seed: int, settings: HomingSettings, period: float,
                 state_timeout: float, robot_state: RobotStateInput, commands: CommandOutput,
                 active: Callable[[], bool], e_stop_allows: Callable[[], bool],
                 faults: dict[str, str], logger,
                 on_episode: Callable[[EpisodeStart], None]):
        self.task, self.settings, self.period = task, settings, period
        self.state_timeout = state_timeout
        self.poses = HomePoses(task, seed)
        self.robot_state, self.commands = robot_state, commands
        self.active, self.e_stop_allows = active, e_stop_allows
        self.faults, self.logger, self.on_episode = faults, logger, on_episode
        self.awaiting = False
        self.runs = 0
        self.timeouts = 0
        self.pose = None
        """The start pose of the episode homing drives to (its task's initial state)."""
        self._run: Homing | None = None
        self._last_command = None
        self._floor_stamp_ns = -1
        self._connected = False

    def connect(self, node: Node) -> list:
        self._connected = True
        timer = steady_timer(node, self.period, self._tick)
        service = node.create_service(Trigger, '~/clear_fault', self._clear_fault)
        return [(HomingReset._disconnect, self), (node.destroy_timer, timer),
                (node.destroy_service, service)]

    def _disconnect(self) -> None:
        """Tick no more: a tick queued before cleanup must not touch destroyed publishers."""
        self._connected = False

    def counters(self) -> dict:
        return dict(homing_runs=self.runs, homing_timeouts=self.timeouts)

    def begin(self, floor_stamp_ns: int) -> None:
        if not self.awaiting:
            self.pose = self.poses.next()
        self.awaiting = True
        self._floor_stamp_ns = floor_stamp_ns
        self._run = None

    def poll(self, active: bool) -> None:
        """Nothing to retry: the control-rate timer drives homing."""

    def stream_restarted(self, stamp_ns: int) -> None:
        self._floor_stamp_ns = stamp_ns
        self._run = None

    def _tick(self) -> None:
        if not (self._connected and self.awaiting):
            return
        reading = self.robot_state.latest
        stale = reading is None or (self.state_timeout > 0
                                    and self.robot_state.stale_after(self.state_timeout))
        if not self.active():
            self._run = None  # (the node sent a safe command when it deactivated)
            return
        if FAULT in self.faults or stale or not self.e_stop_allows():
            self._run = None
            self.commands.send_safe(None if reading is None else reading.position)
            return
        now = time.monotonic()
        if self._run is None:
            self.runs += 1
            self._run = Homing(self.task.interface, self.pose, self.settings, self.period, now)
            self._last_command = None
        status = self._run.status(reading.position, reading.velocity, now)
        if status is HomingStatus.REACHED:
            self._home(reading.stamp_ns)
        elif status is HomingStatus.TIMED_OUT:
            self._time_out(reading.position)
        else:
            command = self._run.command(reading.position, reading.velocity, self._last_command)
            self._last_command = self.commands.send(command, reading.position)

    def _home(self, stamp_ns: int) -> None:
        self.awaiting = False
        self._run = None
        self.on_episode(EpisodeStart(stamp_ns, self._floor_stamp_ns, time.monotonic()))

    def _time_out(self, position) -> None:
        self.timeouts += 1
        self._run = None
        self.faults[FAULT] = (f'homing timed out after {self.settings.timeout} s short of '
                              f'{self.pose.tolist()}: safe commands; call ~/clear_fault to '
                              'home again')
        self.logger.error(self.faults[FAULT])
        self.commands.send_safe(position)

    def _clear_fault(self, request, response):
        response.success = self.faults.pop(FAULT, None) is not None
        response.message = 'homing again' if response.success else 'no homing fault'
        if response.success:
            self.logger.info('homing fault cleared by an operator: homing again')
        return response

"""
Pause (deactivate), e_stop and a watchdog trip end a training episode (issue 20 item 4).

The episode's last transition is marked truncated (it bootstraps) and nothing is recorded for
the ticks after it; the actor resumes with a new episode. ``reset: none``: no reset service.
"""
import numpy as np
from std_msgs.msg import Bool

from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.ros import messages
from t3d_ros.tasks import make_task
from test_actor_homing import DEADLINE, NS, RATE_HZ, IdealRobot

TASK = make_task('pendulum')
QUIET_STATES = 20
"""States the robot publishes after a cut while no transition may come."""


class Learner:
    """A learner stand-in: the actor's transitions, decoded, in order."""

    def __init__(self, robot):
        self.robot = robot
        self.codec = messages.TransitionCodec(TASK.obs_dim, TASK.num_joints)

    def truncated(self) -> list[bool]:
        return [bool(flag) for msg in self.robot.transitions
                for flag in self.codec.decode(msg)[0].truncated]

    def cut_received(self) -> bool:
        flags = self.truncated()
        return bool(flags) and flags[-1]


def start(ros, **params):
    robot = IdealRobot(ros, TASK)
    defaults = dict(task=TASK.name, mode='train', seed=3, start_steps=10_000, reset='none',
                    state_timeout=0.0, transitions_per_message=1, autostart=True)
    actor = ros.start(ActorNode, NS, **{**defaults, **params})
    learner = Learner(robot)
    assert ros.spin_until(lambda: actor.core.env_steps >= 5, timeout=DEADLINE)
    return robot, actor, learner


def assert_nothing_recorded_after_the_cut(ros, robot, actor, learner, episodes):
    """Wait for the cut transition, truncated; then nothing more while the robot publishes."""
    assert ros.spin_until(learner.cut_received, timeout=DEADLINE), learner.truncated()
    assert actor.core.episodes == episodes + 1
    rows, steps, mark = len(learner.truncated()), actor.core.env_steps, robot.stamp_ns
    assert ros.spin_until(lambda: robot.stamp_ns >= mark + QUIET_STATES * 1e9 / RATE_HZ,
                          timeout=DEADLINE)
    assert len(learner.truncated()) == rows and actor.core.env_steps == steps


def assert_resumes(ros, actor, learner):
    rows = len(learner.truncated())
    assert ros.spin_until(lambda: len(learner.truncated()) > rows + 2, timeout=DEADLINE)
    assert not any(learner.truncated()[rows:])  # a new episode, not a cut one


def test_e_stop_mid_episode_ends_it(ros):
    robot, actor, learner = start(ros)
    episodes = actor.core.episodes
    e_stop = robot.node.create_publisher(Bool, 'e_stop', messages.LATCHED_QOS)
    e_stop.publish(Bool(data=True))
    assert_nothing_recorded_after_the_cut(ros, robot, actor, learner, episodes)
    assert all(np.all(c == 0.0) for c in robot.values(len(robot.commands) - 5))
    e_stop.publish(Bool(data=False))
    assert_resumes(ros, actor, learner)


def test_a_watchdog_trip_ends_the_episode(ros):
    robot, actor, learner = start(ros, state_timeout=0.2)
    episodes = actor.core.episodes
    robot.stop()  # the robot's driver stalls
    assert ros.spin_until(lambda: actor.robot_state.stale, timeout=DEADLINE)
    assert ros.spin_until(learner.cut_received, timeout=DEADLINE), learner.truncated()
    assert actor.core.episodes == episodes + 1
    rows, safe = len(learner.truncated()), actor.counters['safe_commands']
    assert ros.spin_until(lambda: actor.counters['safe_commands'] > safe + QUIET_STATES,
                          timeout=DEADLINE)  # the actor ticks on, sending safe commands
    assert len(learner.truncated()) == rows
    robot.timer = robot.node.create_timer(1.0 / RATE_HZ, robot._step)  # it comes back
    assert_resumes(ros, actor, learner)


def test_pause_ends_the_episode_and_activate_begins_a_new_one(ros):
    robot, actor, learner = start(ros)
    episodes = actor.core.episodes
    actor.trigger_deactivate()
    assert_nothing_recorded_after_the_cut(ros, robot, actor, learner, episodes)
    actor.trigger_activate()
    assert_resumes(ros, actor, learner)

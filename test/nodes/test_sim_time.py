"""
Run real-time timers on the steady clock with use_sim_time; sim time is for stamps (8.6).

The README's time rule (issue 8.7).

A lockstep actor trains with ``use_sim_time`` next to the one sim that publishes ``/clock``
(its reset retry once waited for a clock that only its own steps advance, and with no sim yet
waited for ever), and a deployed
actor's control timer and watchdog run with ``use_sim_time`` and no ``/clock`` at all (they
never fired).
"""
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rosgraph_msgs.msg import Clock
from std_msgs.msg import Float32MultiArray

from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.td3 import TD3

TIMEOUT = 30.0
TASK = make_task('pendulum')


def test_lockstep_training_with_use_sim_time_steps_and_stamps_in_sim_time(ros):
    observer = ros.plain_node('observer')
    clock, stamps, received = [], [], []
    observer.create_subscription(Clock, '/clock',
                                 lambda msg: clock.append(messages.stamp_to_ns(msg.clock)), 10)
    observer.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: stamps.extend(messages.stamp_to_ns(msg.header.stamp) for s in msg.status
                                  if s.name == 't3d/actor/robot_0'), 10)
    observer.create_subscription(Float32MultiArray, '/t3d/transitions', received.append,
                                 messages.TRANSITIONS_QOS)
    actor = ros.start(ActorNode, 'robot_0', task='pendulum', seed=1, start_steps=10**9,
                      state_timeout=0.0, transitions_per_message=16, use_sim_time=True)
    ros.spin_for(1.0)  # no sim, no /clock: the actor's first reset request must retry
    assert actor.core.env_steps == 0
    sim = ros.start(SimNode, 'robot_0', task='pendulum', seed=1, publish_clock=True,
                    use_sim_time=True)
    assert ros.spin_until(lambda: actor.core.env_steps >= 250 and sum(map(bool, stamps)) >= 2,
                          TIMEOUT)
    assert received
    assert sim.core.counters['steps'] >= 250
    # Every node's time is the sim's: the actor's diagnostics are stamped in it (0, ROS's
    # "no time yet", only before the first /clock).
    in_sim_time = stamps[[bool(stamp) for stamp in stamps].index(True):]
    assert all(0 < stamp <= sim.core.time_ns for stamp in in_sim_time), (stamps, sim.core.time_ns)
    assert clock and all(np.diff(clock) >= 0) and clock[-1] <= sim.core.time_ns


class FakeRobot(FakeRobotBase):

    def publish_state(self):
        self.stamp_ns += 10_000_000
        self.state_pub.publish(messages.joint_state_msg(TASK.joint_names, [2.5], [-0.7], [0.0],
                                                        self.stamp_ns))


def test_deploy_control_timer_and_watchdog_run_with_use_sim_time_and_no_clock(ros, tmp_path):
    agent = TD3(TASK.obs_dim, TASK.action_low, TASK.action_high,
                TD3Config(hidden_sizes=(32, 32), seed=3))
    PolicyBundle.from_agent(agent, TASK, policy_version=1).save(tmp_path / 'policy.safetensors')
    robot = FakeRobot(ros, 'robot', TASK)
    ros.start(ActorNode, 'robot', task='pendulum', mode='deploy', trigger='timer',
              policy_file=str(tmp_path / 'policy.safetensors'), autostart=True,
              use_sim_time=True)
    robot.stream(50.0)
    assert ros.spin_until(lambda: sum(not np.all(c == 0.0) for c in robot.values()) >= 10,
                          TIMEOUT), 'the control timer runs'
    robot.stop()
    mark = len(robot.commands)
    assert ros.spin_until(lambda: len(robot.commands) >= mark + 10
                          and np.all(np.array(robot.values(mark + 5)) == 0.0), TIMEOUT), \
        'the watchdog sends safe commands when the state stops'
    # At least this trip (on a loaded machine a late state may have tripped it before).
    assert ros.spin_until(
        lambda: float(robot.actor_diagnostics().get('watchdog_trips', 0)) >= 1, TIMEOUT)

"""
The sim's diagnostics levels, and readable logs of the sim and the learner.

The sim reports ignored input at WARN (issue 8.14); the sim starts without PyBullet's banner
and the learner says what it learns in one line (issue 8.18).
"""
import os
import signal
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from std_msgs.msg import Float64MultiArray

from t3d_ros.ros import messages
from t3d_ros.nodes.sim_node import SimNode


def test_bad_commands_make_the_sim_warn_until_a_report_without_them(ros):
    levels = []
    probe = ros.plain_node('probe', 'robot_0')
    probe.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: levels.extend((s.level, s.message) for s in msg.status
                                  if s.name == 't3d/sim/robot_0'), 10)
    sim = ros.start(SimNode, 'robot_0', task='pendulum', mode='realtime')
    commands = probe.create_publisher(Float64MultiArray, sim.task.command_topic,
                                      messages.ROBOT_QOS)
    assert ros.spin_until(lambda: levels and commands.get_subscription_count(), timeout=15)
    assert levels[-1] == (DiagnosticStatus.OK, 'ok')
    commands.publish(Float64MultiArray(data=[0.1, 0.2]))  # two values for one joint
    assert ros.spin_until(lambda: levels[-1][0] == DiagnosticStatus.WARN, timeout=15)
    assert levels[-1][1] == '1 bad messages dropped (kept the last good command)'
    assert ros.spin_until(lambda: levels[-1] == (DiagnosticStatus.OK, 'ok'), timeout=15)


def test_a_sim_process_logs_no_pybullet_banner():
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    process = subprocess.Popen(
        [sys.executable, '-m', 't3d_ros.nodes.sim_node', '--ros-args', '-p', 'task:=pendulum'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if 'sim ready' in line or not line:
                break
        process.send_signal(signal.SIGINT)
        lines += process.communicate(timeout=30)[0].splitlines(keepends=True)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    output = ''.join(lines)
    assert 'sim ready' in output, output
    assert 'pybullet build time' not in output and 'argv[0]' not in output, output


def test_the_learner_says_what_it_learns_in_one_short_line(ros, capfd):
    from t3d_ros.nodes.learner_node import LearnerNode

    node = ros.start(LearnerNode, task='pendulum', hidden_sizes=[32, 32], batch_size=16,
                     replay_capacity=100, learning_starts=50)
    node.close()
    lines = [line for line in capfd.readouterr().err.splitlines() if 'learning pendulum' in line]
    assert len(lines) == 1 and 'TD3Config' not in lines[0] and len(lines[0]) < 160, lines
    assert '32-32 networks, batch 16' in lines[0]

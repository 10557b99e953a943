"""
The actor's reset call when the sim dies in the middle of it (issue 8 item 9).

The call times out and is made again, to the sim that comes back.
"""
import subprocess
import sys
import textwrap

from std_msgs.msg import Float32MultiArray
from std_srvs.srv import Trigger

from t3d_ros.ros import messages
from t3d_ros.nodes import reset_client
from test_actor_safety import NS, FakeRobot, start_train_actor

DYING_SIM = textwrap.dedent('''
    """A reset service that dies on its first request, before answering."""
    import os
    import sys
    import rclpy
    from std_srvs.srv import Trigger

    rclpy.init()
    node = rclpy.create_node('dying_sim', namespace=sys.argv[1])

    def die(request, response):
        print('request received: dying', flush=True)
        os._exit(3)
    node.create_service(Trigger, 'reset', die)
    print('ready', flush=True)
    rclpy.spin(node)
''')


def test_a_reset_call_to_a_sim_that_died_times_out_and_is_retried(ros, monkeypatch):
    monkeypatch.setattr(reset_client, 'RESET_TIMEOUT', 2.0)
    sim = subprocess.Popen([sys.executable, '-c', DYING_SIM, NS], stdout=subprocess.PIPE,
                           text=True)
    try:
        assert sim.stdout.readline().strip() == 'ready'
        robot = FakeRobot(ros)  # joint states, no reset service yet
        learner = ros.plain_node('learner_stand_in')
        learner.create_subscription(Float32MultiArray, '/t3d/transitions', lambda msg: None,
                                    messages.TRANSITIONS_QOS)
        actor = start_train_actor(ros)
        robot.stream()
        assert ros.spin_until(lambda: sim.poll() is not None, timeout=60), 'no reset call'
        assert sim.returncode == 3 and 'dying' in sim.stdout.read()
    finally:
        if sim.poll() is None:
            sim.kill()
        sim.wait()
    # The sim comes back (a new process would; here a service in this process).
    resets = []
    robot.node.create_service(Trigger, 'reset', lambda request, response: (
        resets.append(True), setattr(response, 'success', True), response)[-1])
    assert ros.spin_until(lambda: resets, timeout=60), actor.counters
    assert ros.spin_until(lambda: not actor.reset.awaiting, timeout=30)
    assert actor.counters['reset_timeouts'] >= 1
    assert ros.spin_until(lambda: robot.actor_diagnostics().get('reset_timeouts', '0') != '0',
                          timeout=10)
    robot.stop()

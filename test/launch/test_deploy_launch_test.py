"""
deploy.launch.py with use_sim:=true: the actor is a managed node that waits for an operator.

Launch configures the actor (it loads and checks the policy bundle, made here from a seeded
TD3), so it reaches 'inactive' and sends no command; activating it through its lifecycle
service makes it command the realtime sim with the policy; after shutdown every process has
exited cleanly. Run with `launch_test test/launch/test_deploy_launch_test.py` or pytest
(launch_testing's plugin); skipped where launch_testing is missing (the PyPI ROS wheels).
"""
import tempfile
import time
import unittest
from pathlib import Path

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not installed: it comes with a ROS 2 '
    'install (ros-<distro>-launch-testing-ros), not with the PyPI ROS wheels')
pytest.importorskip('launch_ros', reason='launch_ros is not installed (comes with ROS 2)')

import launch  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from lifecycle_msgs.msg import State, Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from t3d_ros.graph import domain as ros_domain  # noqa: E402
from t3d_ros.ros import messages  # noqa: E402
from t3d_ros.tasks import make_task  # noqa: E402
from t3d_ros.bundle.policy_bundle import PolicyBundle  # noqa: E402
from t3d_ros.td3.config import TD3Config  # noqa: E402
from t3d_ros.td3.td3 import TD3  # noqa: E402

DEPLOY_LAUNCH = Path(__file__).resolve().parents[2] / 'launch' / 'deploy.launch.py'
TASK = make_task('pendulum')  # no goal needed: the policy commands as soon as it is active
COMMAND_TOPIC = '/' + TASK.command_topic
TIMEOUT = 120.0
"""Seconds for the actor to be configured: two processes import torch and PyBullet on CI's CPUs."""


@pytest.mark.launch_test
def generate_test_description():
    # A private DDS domain, discovery on this machine only, for the launched nodes and for
    # this test's client node (same process as launch).
    ros_domain.isolate()
    policy_file = Path(tempfile.mkdtemp(prefix='t3d_deploy_test_')) / 'policy.safetensors'
    agent = TD3(TASK.obs_dim, TASK.action_low, TASK.action_high, TD3Config(seed=0))
    PolicyBundle.from_agent(agent, TASK, policy_version=1).save(policy_file)
    return launch.LaunchDescription([
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(DEPLOY_LAUNCH)),
            launch_arguments={'policy': str(policy_file), 'task': TASK.name,
                              'use_sim': 'true'}.items()),
        launch_testing.actions.ReadyToTest(),
    ])


class TestDeploy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.context = rclpy.Context()
        rclpy.init(context=cls.context, signal_handler_options=SignalHandlerOptions.NO)
        cls.node = rclpy.create_node('deploy_test_operator', context=cls.context)
        cls.executor = SingleThreadedExecutor(context=cls.context)
        cls.executor.add_node(cls.node)

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown()
        cls.node.destroy_node()
        rclpy.try_shutdown(context=cls.context)

    def spin_until(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return bool(condition())

    def call(self, client, request, timeout: float = 10.0):
        future = client.call_async(request)
        self.assertTrue(self.spin_until(future.done, timeout),
                        f'{client.srv_name}: no answer within {timeout} s')
        return future.result()

    def actor_state(self, client) -> str:
        return self.call(client, GetState.Request()).current_state.label

    def test_actor_is_configured_then_commands_once_activated(self):
        commands = []
        self.node.create_subscription(Float64MultiArray, COMMAND_TOPIC,
                                      lambda msg: commands.append(np.array(msg.data)),
                                      messages.ROBOT_QOS)
        get_state = self.node.create_client(GetState, '/actor/get_state')
        change_state = self.node.create_client(ChangeState, '/actor/change_state')
        self.assertTrue(self.spin_until(
            lambda: get_state.service_is_ready() and change_state.service_is_ready(), TIMEOUT),
            f'no lifecycle services of /actor within {TIMEOUT} s')

        # The launch file's configure event: the actor loads and checks the bundle.
        states = []
        self.assertTrue(self.spin_until(
            lambda: states.append(self.actor_state(get_state)) or states[-1] == 'inactive',
            TIMEOUT), f'actor not inactive within {TIMEOUT} s; states seen: {set(states)}')
        self.spin_until(lambda: False, 1.0)  # time for any (wrong) command to arrive
        self.assertEqual(commands, [], 'an inactive actor must not command the robot')

        # The operator activates it.
        request = ChangeState.Request()
        request.transition.id = Transition.TRANSITION_ACTIVATE
        self.assertTrue(self.call(change_state, request).success, 'activate was refused')
        self.assertEqual(self.actor_state(get_state), 'active')
        response = self.call(get_state, GetState.Request())
        self.assertEqual(response.current_state.id, State.PRIMARY_STATE_ACTIVE)

        # Commands from the policy (not only the safe zero command) reach the sim's topic.
        self.assertTrue(self.spin_until(lambda: any(np.any(c != 0) for c in commands), 30.0),
                        f'no policy command on {COMMAND_TOPIC} within 30 s of activation '
                        f'({len(commands)} commands)')
        for command in commands:
            self.assertEqual(command.shape, (TASK.num_joints,))
            self.assertTrue(np.all(np.isfinite(command)))
            self.assertTrue(np.all((command >= TASK.action_low) & (command <= TASK.action_high)),
                            f'command {command} outside {TASK.action_low}..{TASK.action_high}')


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_codes(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)

"""
A deploy-mode actor runs a relative position action from its bundle (issue 7).

The bundle of a task file with ``position_action: relative`` and a saturated actor (a constant
change of +-step per joint): each command moves the last one by the policy's change, clipped to
the command limits, while the robot stands still; e_stop sends the safe command (hold the
measured position), and after the release the target starts again from the measured position.
"""
import numpy as np
import torch
from geometry_msgs.msg import PointStamped
from std_msgs.msg import Bool

from fake_robot import FakeRobotBase
from t3d_ros.ros import messages
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.tasks import make_task
from t3d_ros.td3 import TD3, PolicyBundle, TD3Config

NS = 'arm'
STEP = 0.05
HIGH = np.array([1.5, 0.8, 0.9])  # the odd arm's command_high (task order)


class FakeArm(FakeRobotBase):
    def __init__(self, ros, task):
        super().__init__(ros, NS, task)
        self.names = list(task.joint_names)
        self.goal_pub = self.node.create_publisher(PointStamped, 'goal', messages.LATCHED_QOS)
        self.e_stop_pub = self.node.create_publisher(Bool, 'e_stop', messages.LATCHED_QOS)
        self.position = np.array([0.2, -0.1, 0.3])

    def publish_state(self):
        self.stamp_ns += 10_000_000
        self.state_pub.publish(messages.joint_state_msg(
            self.names, self.position, np.zeros(3), np.zeros(3), self.stamp_ns))


def saturated_bundle(task, path):
    """Save a bundle whose actor answers unit [1, -1, 1]: changes of [+step, -step, +step]."""
    agent = TD3(task.obs_dim, task.action_low, task.action_high, TD3Config(hidden_sizes=(8,)))
    with torch.no_grad():
        agent.actor.net[-1].weight.zero_()
        agent.actor.net[-1].bias.copy_(torch.tensor([20.0, -20.0, 20.0]))
    PolicyBundle.from_agent(agent, task, policy_version=1).save(path)


def test_deploy_moves_the_target_by_the_policy_and_restarts_it_after_a_safe_hold(
        ros, odd_arm, tmp_path):
    task_file = str(odd_arm(position_action='relative', position_step=STEP))
    task = make_task(task_file)
    saturated_bundle(task, tmp_path / 'policy.safetensors')
    robot = FakeArm(ros, task)
    robot.goal_pub.publish(messages.goal_msg(np.array([0.25, 0.0, 0.2]), 0))
    robot.e_stop_pub.publish(Bool(data=False))
    actor = ros.start(ActorNode, NS, task=task_file, mode='deploy', autostart=True,
                      policy_file=str(tmp_path / 'policy.safetensors'), trigger='state',
                      state_timeout=0.0)
    assert ros.spin_until(lambda: actor.core.goal is not None and actor.e_stop_gate.settled,
                          timeout=20)
    change = np.array([STEP, -STEP, STEP])

    def command_for_next_state():
        count = len(robot.commands)
        robot.publish_state()
        assert ros.spin_until(lambda: len(robot.commands) > count, timeout=10)
        return robot.commands[-1][1]

    # Joint order: the task's (no joint_order). The robot does not move: the target does.
    commands = [command_for_next_state() for _ in range(15)]
    expected = np.clip(robot.position + np.outer(np.arange(1, 16), change), -np.inf, HIGH)
    np.testing.assert_allclose(commands, expected, atol=1e-12)
    assert commands[-1][2] == HIGH[2]  # joint 3 reached its command limit and stays there

    robot.e_stop_pub.publish(Bool(data=True))
    assert ros.spin_until(lambda: actor.e_stop_gate.engaged, timeout=10)
    np.testing.assert_array_equal(command_for_next_state(), robot.position)  # hold measured
    robot.e_stop_pub.publish(Bool(data=False))
    assert ros.spin_until(lambda: not actor.e_stop_gate.engaged, timeout=10)
    ros.spin_for(0.3)  # every safe command has arrived
    robot.position = np.array([0.4, 0.0, -0.2])  # moved while held (pushed by hand)
    np.testing.assert_allclose(command_for_next_state(), robot.position + change, atol=1e-12)

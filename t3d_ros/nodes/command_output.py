"""An actor's joint commands out: through the safety layer, in the controller's joint order."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from rclpy.lifecycle import LifecycleNode
from std_msgs.msg import Float64MultiArray

from t3d_ros.acting.safety import CommandSafety
from t3d_ros.ros import messages
from t3d_ros.tasks.base import Task


def controller_order(task: Task, joint_order: Sequence[str]) -> np.ndarray:
    """
    Return the indices that put task-ordered commands into the controller's ``joint_order``.

    Empty: the task's order. Raise ValueError unless it lists exactly the task's joints.
    """
    if not joint_order:
        return np.arange(task.num_joints)
    if sorted(joint_order) != sorted(task.joint_names):
        raise ValueError(f'joint_order {list(joint_order)} must list exactly the task joints '
                         f'{list(task.joint_names)}')
    return np.array([task.joint_names.index(name) for name in joint_order])


class CommandOutput:
    """
    The command topic of one actor (a lifecycle publisher: silent unless active), counted.

    Every command goes through ``safety`` (set at configure): finite, within the limits, rate
    limited; ``order`` (:func:`controller_order`) puts it into the controller's joint order.
    """

    def __init__(self, order: np.ndarray):
        self.order = order
        self.writer = messages.CommandWriter(len(order))
        self.safety: CommandSafety | None = None
        self.publisher = None
        self.commands = 0
        self.safe_commands = 0

    def connect(self, node: LifecycleNode, topic: str) -> list:
        """Make the publisher on ``topic`` (configure); return it as (destroy, entity)."""
        self.publisher = node.create_lifecycle_publisher(Float64MultiArray, topic,
                                                         messages.ROBOT_QOS)
        return [(node.destroy_lifecycle_publisher, self.publisher)]

    def counters(self) -> dict:
        return dict(commands=self.commands, safe_commands=self.safe_commands)

    def send(self, command: np.ndarray, measured_position: np.ndarray) -> np.ndarray:
        """Clamp, rate-limit and publish; return the command actually sent (task order)."""
        command = self.safety.limit(command, measured_position)
        self.publisher.publish(self.writer.message(command[self.order]))
        self.commands += 1
        return command

    def send_safe(self, measured_position: np.ndarray | None) -> None:
        """Publish the safe command: zero effort or velocity, or hold the measured position."""
        command = self.safety.safe_command(measured_position)
        if command is not None:  # a position hold with nothing known: publish nothing
            self.publisher.publish(self.writer.message(command[self.order]))
            self.safe_commands += 1

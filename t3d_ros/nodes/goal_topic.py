"""An actor's ``goal`` topic (tasks with goals): each episode's goal out, or an operator's in."""
from __future__ import annotations

from typing import Callable

import numpy as np
from geometry_msgs.msg import PointStamped
from rclpy.node import Node

from t3d_ros.ros import messages
from t3d_ros.ros.any_qos import AnyQosListener
from t3d_ros.ros.drops import DropCounter


class GoalTopic:
    """
    The goal topic of one actor.

    Training: the actor publishes each episode's goal (latched: the sim shows it). Deploy: it
    takes an operator's goal, e.g. RViz's (volatile) clicked point, from a publisher of any
    QoS; ``on_goal(goal)`` gets each valid one, a bad one is counted in ``drops``.
    """

    def __init__(self, drops: DropCounter, on_goal: Callable[[np.ndarray], None]):
        self.drops = drops
        self.on_goal = on_goal
        self.publisher = None

    def connect(self, node: Node, training: bool) -> list:
        """Make the publisher (training) or subscriptions (deploy); return (destroy, entity)s."""
        if training:
            self.publisher = node.create_publisher(PointStamped, 'goal', messages.LATCHED_QOS)
            return [(node.destroy_publisher, self.publisher)]
        listener = AnyQosListener(node, PointStamped, 'goal', self._on_goal)
        return [(node.destroy_subscription, s) for s in listener.subscriptions]

    def publish(self, goal: np.ndarray, stamp_ns: int) -> None:
        self.publisher.publish(messages.goal_msg(goal, stamp_ns))

    def _on_goal(self, msg: PointStamped) -> None:
        try:
            goal = messages.parse_goal(msg)
        except messages.InvalidMessage as error:
            self.drops.drop(f'goal_{error.reason}', str(error))
            return
        self.on_goal(goal)

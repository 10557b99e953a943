"""A training actor's topics to and from the learner: its transition sender's transport."""
from __future__ import annotations

from typing import Callable, Sequence

from rclpy.duration import Duration
from rclpy.node import Node
from std_msgs.msg import Bool, Float32MultiArray

from t3d_ros.acting.transitions import Transition, TransitionBatch
from t3d_ros.ros import messages
from t3d_ros.tasks.base import Task

FLOW_WINDOW = messages.TRANSITIONS_DEPTH // 4
"""Train mode, follow_throttle: transition messages that may await the learner's (DDS)
acknowledgement before the actor waits (and that it holds before a learner first listens).
Well under the transitions depth, so a stalled learner loses none of them; and more than an
actor sends between two of its writer's heartbeats (every 3 s by Fast DDS's default: a reader
acknowledges when one comes), else the actor would stall until every heartbeat with the
learner keeping up (32 did)."""


class LearnerTopics:
    """
    ``/t3d/transitions`` out and ``/t3d/throttle`` in, for a ``TransitionSender``.

    Made at configure, destroyed at cleanup (``entities``). Each message carries the actor id
    and the version of the policy it runs when the message is made.
    """

    def __init__(self, node: Node, actor_id: str, task: Task, policy_version: Callable[[], int],
                 on_throttle: Callable[[bool], None]):
        self.actor_id = actor_id
        self.codec = messages.TransitionCodec(task.obs_dim, task.num_joints)
        self.policy_version = policy_version
        self.publisher = node.create_publisher(Float32MultiArray, '/t3d/transitions',
                                               messages.TRANSITIONS_QOS)
        self.throttle = node.create_subscription(
            Bool, '/t3d/throttle', lambda msg: on_throttle(bool(msg.data)), messages.LATCHED_QOS)
        self.entities = [(node.destroy_publisher, self.publisher),
                         (node.destroy_subscription, self.throttle)]

    def message(self, transitions: Sequence[Transition], seq: int) -> Float32MultiArray:
        return self.codec.encode(TransitionBatch.of(transitions, self.actor_id,
                                                    self.policy_version(), seq))

    def publish(self, message: Float32MultiArray) -> None:
        self.publisher.publish(message)

    def listening(self) -> bool:
        return self.publisher.get_subscription_count() > 0

    def acknowledged(self) -> bool:
        return self.publisher.wait_for_all_acked(Duration(seconds=0))

    def throttle_publishers(self) -> int:
        return self.throttle.get_publisher_count()

"""
Receiving a topic from a publisher of any reliability and durability (``e_stop``, ``goal``).

DDS matches a subscription with a publisher when the publisher offers at least what the
subscription requests: a reliable offer satisfies a best-effort request, a transient-local
offer a volatile one. So

- a best-effort, volatile subscription matches every publisher of the type (reliable or best
  effort, volatile or transient local; it requests no deadline and no liveliness, so no offer
  fails those either) and receives what they publish once matched;
- a reliable, transient-local subscription matches only reliable, transient-local publishers,
  and also receives what they published before it matched (the latched value at start).

:class:`AnyQosListener` holds both and hands each message to its callback once: a reliable,
transient-local publisher's messages arrive on both, and per publisher (its gid) a message
passes only if it is newer than the last one that passed (its publication sequence number).
Where rclpy gives no publisher gid (before rclpy 9: Jazzy), messages of different publishers
cannot be told apart that way (their sequence numbers each start at 1), so each message is
taken once by its source timestamp and sequence number instead: a message passes unless one
with the same pair passed among the last ``MAX_REMEMBERED``, whichever its publisher. An older
message of the same publisher is then no longer told from another publisher's, so neither
subscription may skip ahead of the other: both keep the same depth, and each hands a
publisher's messages on in order (with depth 1, the transient-local one handed on the last of
a burst of five while the other still held the first four: on Jazzy they came after it, and
the burst's last value was lost). Volatile and best-effort publishers log once that the second
subscription requests an incompatible QoS; they are heard through the first.

A publisher that neither subscription matches (another message type on the topic, or a QoS
the middleware refuses) cannot be heard: :meth:`AnyQosListener.unheard` counts such
publishers from the ROS graph, so that a node can treat a safety topic it cannot hear as an
error.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from t3d_ros.ros.message_info import (NO_PUBLISHER_GID, publication_order, publisher_gid,
                                      with_message_info)

ANY_PUBLISHER_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT,
                               durability=DurabilityPolicy.VOLATILE,
                               history=HistoryPolicy.KEEP_LAST)
LATCHED_VALUE_QOS = QoSProfile(depth=ANY_PUBLISHER_QOS.depth,
                               reliability=ReliabilityPolicy.RELIABLE,
                               durability=DurabilityPolicy.TRANSIENT_LOCAL,
                               history=HistoryPolicy.KEEP_LAST)
MAX_REMEMBERED = 256
"""Publishers whose last sequence number is remembered, or without publisher gids messages
(the oldest is forgotten first): a message's second copy comes right after the first."""


class AnyQosListener:
    """Two subscriptions to ``topic`` (module docstring); ``callback(msg)`` once per message."""

    def __init__(self, node: Node, msg_type: type, topic: str, callback: Callable[[Any], None]):
        self._node = node
        self._callback = callback
        self._last_sequence: OrderedDict[bytes | tuple[int, int], int] = OrderedDict()
        self.any_publisher = node.create_subscription(
            msg_type, topic, with_message_info(self._on_message), ANY_PUBLISHER_QOS)
        # Every volatile or best-effort publisher is incompatible with this one by design:
        # take the event, so rclpy does not warn about each of them.
        self.latched_value = node.create_subscription(
            msg_type, topic, with_message_info(self._on_message), LATCHED_VALUE_QOS,
            event_callbacks=SubscriptionEventCallbacks(incompatible_qos=lambda event: None))

    @property
    def topic_name(self) -> str:
        return self.any_publisher.topic_name

    @property
    def subscriptions(self) -> tuple:
        return self.any_publisher, self.latched_value

    def _on_message(self, msg, info) -> None:
        sequence = publication_order(info)
        key = publisher_gid(info)
        if key is None:  # module docstring: the message itself is the key
            self._node.get_logger().info(
                f'{NO_PUBLISHER_GID}: each message heard from any QoS ({self.topic_name} '
                'and the like) is taken once by its source timestamp and sequence number',
                once=True)
            key = (info['source_timestamp'], sequence)
        last = self._last_sequence.get(key)
        if last is not None and sequence <= last:
            return  # the same message through the other subscription (or an older one)
        self._last_sequence[key] = sequence
        self._last_sequence.move_to_end(key)
        while len(self._last_sequence) > MAX_REMEMBERED:
            self._last_sequence.popitem(last=False)
        self._callback(msg)

    def publishers(self) -> int:
        """Publish on the topic in the ROS graph, of any type and QoS."""
        return self._node.count_publishers(self.topic_name)

    def unheard(self) -> int:
        """Publish on the topic that no subscription of ours is matched with."""
        return max(0, self.publishers() - self.any_publisher.get_publisher_count())

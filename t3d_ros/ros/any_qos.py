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
Volatile and best-effort publishers log once that the second subscription requests an
incompatible QoS; they are heard through the first.

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

from t3d_ros.ros.message_info import with_message_info

ANY_PUBLISHER_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT,
                               durability=DurabilityPolicy.VOLATILE,
                               history=HistoryPolicy.KEEP_LAST)
LATCHED_VALUE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                               durability=DurabilityPolicy.TRANSIENT_LOCAL,
                               history=HistoryPolicy.KEEP_LAST)
MAX_PUBLISHERS = 64
"""Publishers whose last sequence number is remembered (the oldest is forgotten first)."""


class AnyQosListener:
    """Two subscriptions to ``topic`` (module docstring); ``callback(msg)`` once per message."""

    def __init__(self, node: Node, msg_type: type, topic: str, callback: Callable[[Any], None]):
        self._node = node
        self._callback = callback
        self._last_sequence: OrderedDict[bytes, int] = OrderedDict()
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
        gid = info.get('publisher_gid')
        key = bytes(gid['data']) if gid else b''
        sequence = info.get('publication_sequence_number')
        if sequence is None:  # an rmw without sequence numbers: the source time orders too
            sequence = info['source_timestamp']
        last = self._last_sequence.get(key)
        if last is not None and sequence <= last:
            return  # the same message through the other subscription (or an older one)
        self._last_sequence[key] = sequence
        self._last_sequence.move_to_end(key)
        while len(self._last_sequence) > MAX_PUBLISHERS:
            self._last_sequence.popitem(last=False)
        self._callback(msg)

    def publishers(self) -> int:
        """Publish on the topic in the ROS graph, of any type and QoS."""
        return self._node.count_publishers(self.topic_name)

    def unheard(self) -> int:
        """Publish on the topic that no subscription of ours is matched with."""
        return max(0, self.publishers() - self.any_publisher.get_publisher_count())

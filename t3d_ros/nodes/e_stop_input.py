"""An actor's ``e_stop`` topic, fed to its e_stop gate: what it hears and what it cannot."""
from __future__ import annotations

from typing import Callable

from rclpy.node import Node
from std_msgs.msg import Bool

from t3d_ros.acting.e_stop_gate import EStopGate
from t3d_ros.ros.any_qos import AnyQosListener

E_STOP_CHECK_PERIOD = 0.1
"""How often the node has the graph checked for e_stop publishers the actor cannot hear."""


class EStopInput:
    """
    The e_stop topic of one actor, feeding its ``gate``.

    Each e_stop value reaches the gate once, from a publisher of any reliability and durability
    (``ros/any_qos.py``); at each ``check_publishers``, so does the number of e_stop publishers
    in the graph that the actor cannot hear.

    ``on_stop()`` is called when e_stop engages and when such a publisher appears: the node
    sends a safe command at once.
    """

    def __init__(self, gate: EStopGate, logger, on_stop: Callable[[], None]):
        self.gate = gate
        self.logger = logger
        self.on_stop = on_stop
        self.listener: AnyQosListener | None = None

    def connect(self, node: Node) -> list:
        """Subscribe ``node`` to ``e_stop`` (configure); return (destroy, subscription)s."""
        self.listener = AnyQosListener(node, Bool, 'e_stop', self._on_e_stop)
        return [(node.destroy_subscription, s) for s in self.listener.subscriptions]

    def allows_policy(self) -> bool:
        """Whether the gate lets the policy command now."""
        return self.gate.allows_policy(self.listener.publishers)

    def _on_e_stop(self, msg: Bool) -> None:
        engaged = bool(msg.data)
        if self.gate.hear(engaged):
            self.logger.warning(f'e_stop {"ENGAGED" if engaged else "released"}')
        if engaged:
            self.on_stop()

    def check_publishers(self) -> None:
        """Count the e_stop publishers the actor cannot hear: an error, safe commands meanwhile."""
        unheard = self.listener.unheard()
        if unheard and not self.gate.unheard:
            self.on_stop()
        if self.gate.count_unheard(unheard):
            self.logger.error(
                f'{unheard} e_stop publisher(s) on {self.listener.topic_name} that this actor '
                'cannot hear (not std_msgs/Bool, or a QoS it cannot match): safe commands only '
                'until they are gone', throttle_duration_sec=5.0)

"""The entities a lifecycle node makes at configure and destroys at cleanup or shutdown."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from rclpy.node import Node

from t3d_ros.ros.clocks import steady_timer

Made = tuple[Callable[[Any], Any], Any]
"""An entity and the node's function that destroys it, e.g. (node.destroy_timer, timer)."""


class ConfiguredEntities:
    """
    What a lifecycle node made at configure: subscriptions, publishers, clients, timers.

    Its timers run on the steady clock (``ros/clocks.py``) and do nothing once destroyed:
    rclpy's events executor still runs a tick it queued before cleanup or shutdown destroyed
    the timer, and such a tick must not touch the destroyed subscriptions and publishers
    (seen: an e_stop check raised InvalidHandle out of the executor after a cleanup).
    """

    def __init__(self, node: Node):
        self._node = node
        self._made: list[Made] = []

    def __iter__(self) -> Iterator[Made]:
        return iter(self._made)

    def add(self, made: Iterable[Made]) -> None:
        self._made.extend(made)

    def timer(self, period: float, callback: Callable[[], None]) -> None:
        """Make a steady timer that calls ``callback`` every ``period`` s until destroyed."""
        def tick() -> None:
            if self._made:
                callback()
        self._made.append((self._node.destroy_timer, steady_timer(self._node, period, tick)))

    def destroy(self) -> None:
        made, self._made = self._made, []
        for destroy, entity in made:
            destroy(entity)

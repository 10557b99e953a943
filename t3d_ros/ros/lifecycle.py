"""A managed (lifecycle) node that refuses a transition its state has not, on every rclpy."""
from __future__ import annotations

from rclpy import lifecycle
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy


class LifecycleNode(lifecycle.LifecycleNode):
    """
    rclpy's ``LifecycleNode``, where a transition not available in the current state fails.

    Asked for one (``configure`` while active, from ``ros2 lifecycle set`` or a ``trigger_*``
    call), rclpy 9 (Kilted) logs it and returns ERROR, in the state it was in. rclpy 7 (Jazzy)
    raises ``RCLError`` out of the ``change_state`` service's callback instead: the request is
    never answered and the executor stops the process. Here every rclpy returns ERROR, which the
    service answers as ``success: false``.
    """

    def _LifecycleNodeMixin__change_state(self, transition_id: int):
        """Run rclpy's transition; its ``RCLError`` (rclpy 7) becomes ERROR, as in rclpy 9."""
        try:
            return super()._LifecycleNodeMixin__change_state(transition_id)
        except _rclpy.RCLError as error:
            self.get_logger().error(
                f'unable to make transition {transition_id} from state '
                f'{self._state_machine.current_state[1]!r}: {error}')
            return lifecycle.TransitionCallbackReturn.ERROR

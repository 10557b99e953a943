"""Subscription callbacks that take the message info, under any rclpy executor."""
from __future__ import annotations

import inspect
from typing import Any, Callable


def with_message_info(callback: Callable[[Any, dict], None]) -> Callable[..., None]:
    """
    ``callback(msg, info)`` as a subscription callback every rclpy executor calls right.

    rclpy 9's EventsExecutor hands a callback that takes the message info one ``(msg, info)``
    tuple instead of two arguments; the wait-set executors hand two. rclpy tells the kinds apart
    by the callback's signature, so this one shows two parameters and takes either call.
    """
    def on_message(*args) -> None:
        callback(*(args[0] if len(args) == 1 else args))

    on_message.__signature__ = inspect.signature(lambda msg, info: None)
    return on_message

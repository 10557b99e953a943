"""
Subscription callbacks that take the message info, under any rclpy executor, and what it holds.

Every rclpy with message-info callbacks gives the source timestamp and (where the middleware
counts them: Fast DDS does) the publication sequence number. Only rclpy 9 (Kilted) on gives the
publisher's gid; :func:`publisher_gid` is None without it (rclpy 7, Jazzy).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

NO_PUBLISHER_GID = ("this rclpy's message info has no publisher gid (it came with rclpy 9, "
                    'Kilted)')
"""The start of the one log line where a node falls back for want of a publisher gid."""


def with_message_info(callback: Callable[[Any, dict], None]) -> Callable[..., None]:
    """
    ``callback(msg, info)`` as a subscription callback every rclpy executor calls right.

    rclpy's EventsExecutor hands a callback that takes the message info one ``(msg, info)``
    tuple instead of two arguments; the wait-set executors hand two. rclpy tells the kinds apart
    by the callback's signature, so this one shows two parameters and takes either call.
    """
    def on_message(*args) -> None:
        callback(*(args[0] if len(args) == 1 else args))

    on_message.__signature__ = inspect.signature(lambda msg, info: None)
    return on_message


def publisher_gid(info: dict) -> bytes | None:
    """Return the gid of the message's publisher, as the ROS graph shows it; None if unknown."""
    gid = info.get('publisher_gid')
    return None if gid is None else bytes(gid['data'])


def publication_order(info: dict) -> int:
    """
    Return the message's place among its publisher's messages.

    Its publication sequence number, or its source timestamp for a middleware without them.
    """
    sequence = info.get('publication_sequence_number')
    return info['source_timestamp'] if sequence is None else sequence

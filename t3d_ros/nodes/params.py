"""Declaring typed, described, validated ROS 2 parameters in one call."""
from __future__ import annotations

from typing import Any, Sequence

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node


def declare(node: Node, name: str, default: Any, description: str, *,
            choices: Sequence | None = None, element_type: type = float,
            read_only: bool = True) -> Any:
    """Declare ``name`` and return its value, coerced to the default's type.

    Integers given for a float parameter (``rate_hz: 50`` in YAML) are accepted, as users
    expect; an empty-list default needs ``element_type``. ``choices`` restricts the value.
    Raises ValueError with the parameter's name on a value that cannot be used.
    """
    descriptor = ParameterDescriptor(description=description, read_only=read_only,
                                     dynamic_typing=True)
    if isinstance(default, (list, tuple)) and not default:
        # An empty list has no type to infer: declare it unset (any type) and read [] back.
        value = node.declare_parameter(name, None, descriptor).value
        value = [] if value is None else value
    else:
        value = node.declare_parameter(name, default, descriptor).value
    try:
        value = _coerce(value, default, element_type)
    except (TypeError, ValueError):
        raise ValueError(f'parameter {name!r}: {value!r} is not a {type(default).__name__}')
    if choices is not None and value not in choices:
        raise ValueError(f'parameter {name!r} must be one of {list(choices)}, not {value!r}')
    return value


def _coerce(value: Any, default: Any, element_type: type) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError
        return value
    if isinstance(default, (list, tuple)):
        kind = type(default[0]) if default else element_type
        return [_coerce(v, kind(), element_type) for v in value]
    if isinstance(default, float):
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    if isinstance(default, int) and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError
    if isinstance(default, str) and not isinstance(value, str):
        raise TypeError
    return value

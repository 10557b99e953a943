"""
Declaring typed, described, validated ROS 2 parameters in one call.

Each parameter is statically typed (its type is the default's), and its descriptor carries the
description, the range (``FloatingPointRange`` / ``IntegerRange``) and the choices, so
``ros2 param describe`` shows them; rcl refuses a value of another type or out of range, and
:func:`declare` turns that refusal (and a value outside the choices) into a ValueError naming
the parameter, which ``run_node`` prints before the process exits 1.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.node import Node
from rclpy.parameter import Parameter

INT64_MIN, INT64_MAX = -2**63, 2**63 - 1

_ARRAY_TYPES = {bool: Parameter.Type.BOOL_ARRAY, int: Parameter.Type.INTEGER_ARRAY,
                float: Parameter.Type.DOUBLE_ARRAY, str: Parameter.Type.STRING_ARRAY}


def declare(node: Node, name: str, default: Any, description: str, *,
            choices: Sequence | None = None, element_type: type = float,
            low: float | None = None, high: float | None = None,
            read_only: bool = True) -> Any:
    """
    Declare ``name`` with the default's type and return its value.

    ``low`` / ``high`` (inclusive; None = open) bound a number, or each element of a list;
    ``choices`` lists the allowed values. An empty-list default needs ``element_type``.
    Integers given for a float parameter (``rate_hz: 50`` in YAML) are read as floats, as
    users expect. Raises ValueError with the parameter's name on a value that cannot be used.
    """
    kind = _element_kind(default, element_type)
    is_list = isinstance(default, (list, tuple))
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if low is not None or high is not None:
        _add_range(descriptor, kind, low, high)
    if choices is not None:
        descriptor.additional_constraints = f'one of: {", ".join(map(str, choices))}'
    if is_list:  # an empty list has no type to infer: declare the type, unset
        declared = list(default) if default else _ARRAY_TYPES[kind]
    else:
        declared = default
    override = _float_override(node, name, kind, is_list)
    try:
        if override is not None:
            value = node.declare_parameter(name, override, descriptor, ignore_override=True)
        else:
            value = node.declare_parameter(name, declared, descriptor)
    except ParameterException as error:  # wrong type or out of range, as rcl says it
        raise ValueError(f'parameter {name!r}: {error}') from None
    value = value.value
    if is_list:
        value = [] if value is None else list(value)  # rcl reads [] in a file as unset
    for item in value if is_list else [value]:
        if (low is not None and item < low) or (high is not None and item > high):
            raise ValueError(f'parameter {name!r}: {item!r} is outside '
                             f'[{_bound(low, "-inf")}, {_bound(high, "inf")}]')
    if choices is not None and value not in choices:
        raise ValueError(f'parameter {name!r} must be one of {list(choices)}, not {value!r}')
    return value


def _element_kind(default: Any, element_type: type) -> type:
    if isinstance(default, (list, tuple)):
        return type(default[0]) if default else element_type
    return type(default)


def _add_range(descriptor: ParameterDescriptor, kind: type, low, high) -> None:
    if kind is float:
        descriptor.floating_point_range = [FloatingPointRange(
            from_value=-math.inf if low is None else float(low),
            to_value=math.inf if high is None else float(high), step=0.0)]
    elif kind is int:
        descriptor.integer_range = [IntegerRange(
            from_value=INT64_MIN if low is None else int(low),
            to_value=INT64_MAX if high is None else int(high), step=0)]
    else:
        raise TypeError(f'a range needs a number parameter, not {kind.__name__}')


def _float_override(node: Node, name: str, kind: type, is_list: bool):
    """
    Return the user's integer value(s) for a float parameter, as floats; else None.

    rcl types ``50`` in a params file as an integer, which a double parameter refuses. rclpy
    keeps the overrides of the command line and params files in ``_parameter_overrides``.
    """
    if kind is not float:
        return None
    override = getattr(node, '_parameter_overrides', {}).get(name)
    if override is None:
        return None
    if is_list and override.type_ == Parameter.Type.INTEGER_ARRAY:
        return [float(v) for v in override.value]
    if not is_list and override.type_ == Parameter.Type.INTEGER:
        return float(override.value)
    return None


def _bound(value, open_end: str) -> str:
    return open_end if value is None else repr(value)

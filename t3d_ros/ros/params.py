"""
Declaring typed, described, validated ROS 2 parameters from their schema.

Each parameter is statically typed (its type is the default's), and its descriptor carries the
description, the range (``FloatingPointRange`` / ``IntegerRange``), the read-only flag and, in
``additional_constraints``, every rule in words (choices, open ends, lengths), so ``ros2 param
describe`` shows them. rcl refuses a value of another type or out of range; the schema's
:meth:`~t3d_ros.param_schema.Param.check` refuses the rest. At declaration a refusal is a
ValueError naming the parameter, which ``run_node`` prints before the process exits 1; a
writable parameter set later is refused with the same reason.
"""
from __future__ import annotations

import math
from typing import Any

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.exceptions import ParameterException
from rclpy.node import Node
from rclpy.parameter import Parameter

from t3d_ros.param_schema import Param, ParamSchema

INT64_MIN, INT64_MAX = -2**63, 2**63 - 1

_ARRAY_TYPES = {bool: Parameter.Type.BOOL_ARRAY, int: Parameter.Type.INTEGER_ARRAY,
                float: Parameter.Type.DOUBLE_ARRAY, str: Parameter.Type.STRING_ARRAY}


def declare_schema(node: Node, schema: ParamSchema) -> dict[str, Any]:
    """Declare every parameter of ``schema`` on ``node``, in order; return {name: value}."""
    values: dict[str, Any] = {}
    for param in schema.params:
        values[param.name] = declare_param(node, param, values)
    node.add_on_set_parameters_callback(lambda changes: _check_changes(schema, changes))
    return values


def declare(node: Node, name: str, default: Any, description: str, **rules) -> Any:
    """Declare one parameter, ``Param(name, default, description, **rules)``; return its value."""
    return declare_param(node, Param(name, default, description, **rules))


def declare_param(node: Node, param: Param, declared: dict[str, Any] | None = None) -> Any:
    """
    Declare ``param`` and return its value, checked.

    ``declared`` holds the values declared before it, for a ``default_from``. Integers given
    for a float parameter (``rate_hz: 50`` in YAML) are read as floats, as users expect.
    Raises ValueError with the parameter's name on a value that cannot be used.
    """
    default = param.default if param.default_from is None else param.default_from(declared)
    if param.is_list:  # an empty list has no type to infer: declare the type, unset
        default = list(default) if default else _ARRAY_TYPES[param.kind]
    override = _float_override(node, param)
    try:
        if override is not None:
            value = node.declare_parameter(param.name, override, _descriptor(param),
                                           ignore_override=True)
        else:
            value = node.declare_parameter(param.name, default, _descriptor(param))
    except ParameterException as error:  # wrong type or out of range, as rcl says it
        raise ValueError(f'parameter {param.name!r}: {error}') from None
    value = value.value
    if param.is_list and value is None:
        value = []  # rcl reads [] in a file as unset
    return param.check(value)


def _descriptor(param: Param) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=param.description, read_only=param.read_only,
                                     additional_constraints='; '.join(param.constraints()))
    if param.low is None and param.high is None:
        return descriptor
    if param.kind is float:
        descriptor.floating_point_range = [FloatingPointRange(
            from_value=-math.inf if param.low is None else float(param.low),
            to_value=math.inf if param.high is None else float(param.high), step=0.0)]
    else:
        descriptor.integer_range = [IntegerRange(
            from_value=INT64_MIN if param.low is None else int(param.low),
            to_value=INT64_MAX if param.high is None else int(param.high), step=0)]
    return descriptor


def _check_changes(schema: ParamSchema, changes: list[Parameter]) -> SetParametersResult:
    """Refuse a set of a schema parameter to a value its ``check`` refuses, with the reason."""
    for change in changes:
        param = schema.by_name.get(change.name)
        if param is None:
            continue
        try:
            param.check(change.value)
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
    return SetParametersResult(successful=True)


def _float_override(node: Node, param: Param):
    """
    Return the user's integer value(s) for a float parameter, as floats; else None.

    rcl types ``50`` in a params file as an integer, which a double parameter refuses. rclpy
    keeps the overrides of the command line and params files in ``_parameter_overrides``.
    """
    if param.kind is not float:
        return None
    override = getattr(node, '_parameter_overrides', {}).get(param.name)
    if override is None:
        return None
    if param.is_list and override.type_ == Parameter.Type.INTEGER_ARRAY:
        return [float(v) for v in override.value]
    if not param.is_list and override.type_ == Parameter.Type.INTEGER:
        return float(override.value)
    return None

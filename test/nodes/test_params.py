"""Typed parameters with ranges and choices in their descriptors (issue 8.12)."""
import math

import pytest
from rcl_interfaces.msg import ParameterType
from rclpy.parameter import Parameter

from t3d_ros.ros.params import declare


@pytest.fixture
def make_node(ros):
    def make(**overrides):
        import rclpy
        return ros.add(rclpy.create_node(
            'params_test', context=ros.context,
            parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()]))
    return make


def test_descriptors_carry_type_range_choices_and_description(make_node):
    node = make_node()
    assert declare(node, 'rate', 1.5, 'A rate.', low=0.0) == 1.5
    assert declare(node, 'count', 3, 'A count.', low=1, high=10) == 3
    assert declare(node, 'mode', 'a', 'A mode.', choices=('a', 'b')) == 'a'
    assert declare(node, 'limits', [], 'Limits.', low=-5.0) == []
    assert declare(node, 'names', [], 'Names.', element_type=str) == []
    rate, count, mode, limits, names = node.describe_parameters(
        ['rate', 'count', 'mode', 'limits', 'names'])
    assert (rate.type, rate.description, rate.read_only, rate.dynamic_typing) == (
        ParameterType.PARAMETER_DOUBLE, 'A rate.', True, False)
    assert rate.floating_point_range[0].from_value == 0.0
    assert math.isinf(rate.floating_point_range[0].to_value)
    assert (count.type, count.integer_range[0].from_value, count.integer_range[0].to_value) == (
        ParameterType.PARAMETER_INTEGER, 1, 10)
    assert mode.type == ParameterType.PARAMETER_STRING
    assert mode.additional_constraints == 'one of: a, b'
    assert limits.type == ParameterType.PARAMETER_DOUBLE_ARRAY
    assert names.type == ParameterType.PARAMETER_STRING_ARRAY


def test_given_values_are_read_and_integers_count_as_floats(make_node):
    node = make_node(rate=50, limits=[1, 2], count=4, names=['x'], flag=False)
    assert declare(node, 'rate', 1.0, 'A rate.', low=0.0) == 50.0
    assert declare(node, 'limits', [], 'Limits.') == [1.0, 2.0]
    assert declare(node, 'count', 3, 'A count.') == 4
    assert declare(node, 'names', [], 'Names.', element_type=str) == ['x']
    assert declare(node, 'flag', True, 'A flag.') is False


@pytest.mark.parametrize('name,value,default,kwargs,message', [
    ('rate', -1.0, 1.0, dict(low=0.0), 'out of range'),
    ('count', 11, 3, dict(low=1, high=10), 'out of range'),
    ('count', 'many', 3, {}, "expecting type 'INTEGER'"),
    ('rate', 'fast', 1.0, {}, "expecting type 'DOUBLE'"),
    ('flag', 1, True, {}, "expecting type 'BOOL'"),
    ('mode', 'c', 'a', dict(choices=('a', 'b')), r"must be one of \['a', 'b'\]"),
    ('limits', [1.0, -9.0], [], dict(low=-5.0), r'-9.0 is outside \[-5.0, inf\]'),
])
def test_a_wrong_value_is_refused_with_the_parameter_named(make_node, name, value, default,
                                                           kwargs, message):
    node = make_node(**{name: value})
    with pytest.raises(ValueError, match=message) as error:
        declare(node, name, default, 'Something.', **kwargs)
    assert repr(name) in str(error.value)

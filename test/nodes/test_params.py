"""Typed parameters with ranges and choices in their descriptors (issues 8.12 and 17.3)."""
import math
import re

import pytest
from rcl_interfaces.msg import ParameterType
from rclpy.parameter import Parameter

from t3d_ros.param_schema import Param, ParamSchema
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


SCHEMA = ParamSchema('test', (
    Param('mode', 'a', 'A mode.', choices=('a', 'b'), read_only=False),
    Param('gain', 0.5, 'A gain.', low=0.0, high=1.0, low_open=True, read_only=False),
    Param('band', [1.0, 2.0], 'A band.', low=0.0, lengths=(2,), ascending=True,
          read_only=False),
    Param('offset', 0.0, 'Any finite number.', read_only=False),
    Param('fixed', 3, 'Set at start only.', low=1),
    Param('doubled', 0, 'Twice fixed.', default_from=lambda values: 2 * values['fixed'],
          default_text='2 x fixed'),
))


def test_a_schema_declares_its_rules_in_the_descriptors(make_node):
    node = make_node(fixed=4)
    assert SCHEMA.declare(node) == {'mode': 'a', 'gain': 0.5, 'band': [1.0, 2.0],
                                    'offset': 0.0, 'fixed': 4, 'doubled': 8}
    mode, gain, band, fixed = node.describe_parameters(['mode', 'gain', 'band', 'fixed'])
    assert (mode.read_only, fixed.read_only) == (False, True)
    assert mode.additional_constraints == 'one of: a, b'
    assert (gain.floating_point_range[0].from_value, gain.floating_point_range[0].to_value) == (
        0.0, 1.0)
    assert gain.additional_constraints == '(0.0, 1.0]'  # the open end, which a range cannot say
    assert band.additional_constraints == 'each in [0.0, inf]; 2 values; ascending'


@pytest.mark.parametrize('name,value,reason', [
    ('mode', 'c', r"parameter 'mode' must be one of \['a', 'b'\], not 'c'"),
    ('gain', 0.0, r"parameter 'gain': 0.0 is outside \(0.0, 1.0\]"),
    ('offset', math.inf, "parameter 'offset': inf is not a finite number"),
    ('band', [2.0, 1.0], "parameter 'band' must be ascending"),
    ('band', [1.0], "parameter 'band' needs 2 values, not 1"),
    ('band', [-1.0, 1.0], r"parameter 'band': -1.0 is outside \[0.0, inf\]"),
])
def test_a_wrong_value_is_refused_at_declaration_and_when_set(make_node, name, value, reason):
    with pytest.raises(ValueError, match=reason):
        SCHEMA.declare(make_node(**{name: value}))
    node = make_node()
    SCHEMA.declare(node)
    before = node.get_parameter(name).value
    result, = node.set_parameters([Parameter(name, value=value)])
    assert not result.successful
    assert re.search(reason, result.reason), result.reason
    assert node.get_parameter(name).value == before


def test_a_good_value_is_taken_when_set_and_a_read_only_one_never(make_node):
    node = make_node()
    SCHEMA.declare(node)
    gain, band, fixed = node.set_parameters([Parameter('gain', value=1.0),
                                             Parameter('band', value=[0.5, 0.5]),
                                             Parameter('fixed', value=5)])
    assert gain.successful and band.successful and not fixed.successful
    assert node.get_parameter('gain').value == 1.0
    assert list(node.get_parameter('band').value) == [0.5, 0.5]
    assert node.get_parameter('fixed').value == 3

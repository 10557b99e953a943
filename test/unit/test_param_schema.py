"""Parameter schemas without rclpy: checks, the settings dataclasses' ranges (issue 17.3)."""
import dataclasses
import math

import pytest

from t3d_ros.acting.core import ActorSettings
from t3d_ros.param_schema import Param, ParamSchema, settings_params
from t3d_ros.td3.config import TD3Config
from t3d_ros.training.learner import LearnerOptions, learner_settings


@pytest.mark.parametrize('param,value,expected', [
    (Param('rate', 1.0, 'A rate.', low=0.0), 50, 50.0),  # an integer is a float too
    (Param('count', 3, 'A count.', low=1, high=3), 3, 3),
    (Param('names', [], 'Names.', element_type=str), ('a', 'b'), ['a', 'b']),
    (Param('band', [1.0, 2.0], 'A band.', lengths=(0, 2), ascending=True), [], []),
    (Param('flag', True, 'A flag.'), False, False),
])
def test_a_usable_value_comes_back_as_the_parameters_type(param, value, expected):
    checked = param.check(value)
    assert checked == expected and type(checked) is type(expected)


@pytest.mark.parametrize('param,value,message', [
    (Param('rate', 1.0, 'A rate.', low=0.0), -1.0, r"'rate': -1.0 is outside \[0.0, inf\]"),
    (Param('lr', 1.0, 'A rate.', low=0.0, low_open=True), 0.0, r"'lr': 0.0 is outside \(0.0"),
    (Param('tau', 0.5, 'A rate.', high=1.0, high_open=True), 1.0,
     r"'tau': 1.0 is outside \[-inf, 1.0\)"),
    (Param('rate', 1.0, 'A rate.'), math.nan, "'rate': nan is not a finite number"),
    (Param('rate', 1.0, 'A rate.'), 'fast', "'rate': 'fast' is not of type double"),
    (Param('count', 3, 'A count.'), True, "'count': True is not of type integer"),
    (Param('count', 3, 'A count.'), 2.5, "'count': 2.5 is not of type integer"),
    (Param('mode', 'a', 'A mode.', choices=('a', 'b')), 'c', r"'mode' must be one of \['a', "),
    (Param('sizes', [1], 'Sizes.', low=1, min_length=1), [], "'sizes' needs at least 1 value"),
    (Param('sizes', [1], 'Sizes.', low=1), [4, 0], r"'sizes': 0 is outside \[1, inf\]"),
    (Param('sizes', [1], 'Sizes.'), 4, "'sizes': 4 is not of type integer_array"),
    (Param('band', [], 'A band.', lengths=(0, 2)), [1.0], "'band' needs 0 or 2 values, not 1"),
    (Param('band', [], 'A band.', ascending=True), [2.0, 1.0], "'band' must be ascending"),
])
def test_an_unusable_value_is_refused_naming_the_parameter(param, value, message):
    with pytest.raises(ValueError, match=f'parameter {message}'):
        param.check(value)


def test_a_declaration_that_contradicts_itself_is_refused():
    with pytest.raises(ValueError, match="parameter 'rate': -1.0 is outside"):
        Param('rate', -1.0, 'A rate.', low=0.0)  # its own default
    with pytest.raises(TypeError, match='a range needs numbers'):
        Param('name', 'a', 'A name.', low=0)
    with pytest.raises(TypeError, match='default_from needs a default_text'):
        Param('flag', True, 'A flag.', default_from=lambda values: False)
    with pytest.raises(ValueError, match=r"declared twice: \['a'\]"):
        ParamSchema('node', (Param('a', 1, 'A.'), Param('a', 2, 'A again.')))


def test_a_table_row_says_type_default_rules_and_meaning_with_pipes_escaped():
    schema = ParamSchema('node', (
        Param('band', [0.5, 1.0], 'Low | high.', low=0.0, low_open=True, lengths=(2,)),
        Param('auto', True, 'Starts.', default_from=lambda values: True,
              default_text='true in `train`', read_only=False),
    ))
    assert schema.markdown().splitlines() == [
        '| parameter | type | default | range | meaning |', '|---|---|---|---|---|',
        r'| `band` | double_array | `[0.5, 1.0]` | each in (0.0, inf]; 2 values | Low \| high. |',
        '| `auto` | bool | true in `train` |  | Starts. (settable at run time) |']


@pytest.mark.parametrize('make,message', [
    (lambda: TD3Config(tau=0.0), r"'tau': 0.0 is outside \(0.0, 1.0\]"),
    (lambda: TD3Config(actor_lr=0.0), "'actor_lr': 0.0 is outside"),
    (lambda: TD3Config(hidden_sizes=()), "'hidden_sizes' needs at least 1 value"),
    (lambda: TD3Config(policy_noise=math.inf), "'policy_noise': inf is not a finite number"),
    (lambda: LearnerOptions(device='tpu'), "'device' must be one of"),
    (lambda: LearnerOptions(publish_every=0), "'publish_every': 0 is outside"),
    (lambda: ActorSettings(start_steps=-1), "'start_steps': -1 is outside"),
    (lambda: ActorSettings(exploration_noise=math.nan), "'exploration_noise': nan is not"),
])
def test_the_settings_dataclasses_check_their_fields_ranges(make, message):
    with pytest.raises(ValueError, match=f'parameter {message}'):
        make()


def test_td3_config_checks_its_rules_across_fields_too():
    with pytest.raises(ValueError, match=r'replay_capacity \(8\) must be >= batch_size'):
        TD3Config.from_dict(dict(replay_capacity=8, batch_size=16))


def test_the_direct_trainer_gets_the_learner_nodes_checks():
    """``learner_settings`` (params files -> settings, no ROS) refuses what the node refuses."""
    with pytest.raises(ValueError, match="parameter 'gamma'"):
        learner_settings({'gamma': 1.5})
    with pytest.raises(ValueError, match="parameter 'max_ahead'"):
        learner_settings({'max_ahead': 0})
    config, options = learner_settings({'hidden_sizes': [64, 64], 'device': 'cpu'})
    assert config.hidden_sizes == (64, 64) and options.device == 'cpu'


@pytest.mark.parametrize('settings', [TD3Config, LearnerOptions, ActorSettings])
def test_a_settings_dataclass_is_a_list_of_parameters(settings):
    params = settings_params(settings)
    defaults = settings()
    assert [param.name for param in params] == [f.name for f in dataclasses.fields(settings)]
    for param in params:
        assert param.description, param.name
        assert param.check(param.default) == param.check(getattr(defaults, param.name))

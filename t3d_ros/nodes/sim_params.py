"""The sim node's parameters: one declaration each (``t3d_ros.param_schema``)."""
from t3d_ros.param_schema import Param, ParamSchema
from t3d_ros.tasks import TASK_DESCRIPTION

SIM_PARAMS = ParamSchema('sim', (
    Param('task', 'reacher', 'Task whose robot to simulate. ' + TASK_DESCRIPTION),
    Param('mode', 'lockstep', '`lockstep`: one control step per command; `realtime`: fixed '
          'rate, latest command.', choices=('lockstep', 'realtime')),
    Param('seed', 0, 'Seed of initial states (and of noise and dynamics randomisation).',
          low=0),
    Param('command_topic', '', "Command topic; '' = the task's forward command controller "
          'topic.'),
    Param('rate_hz', 0.0, "Realtime control rate; 0 = 1 / the task's control period.",
          low=0.0),
    Param('actuation_latency', 0.0, 'Realtime: delay (s) before a command takes effect.',
          low=0.0),
    Param('observation_noise', 0.0, 'Std of Gaussian noise on published joint positions and '
          'velocities (and on odom positions and twists; never on the orientation).', low=0.0),
    Param('mass_scale', [1.0, 1.0], 'Range [low, high] of the per-episode link mass scale '
          '(domain randomisation).', low=0.0, low_open=True, lengths=(2,), ascending=True),
    Param('friction_range', [], "Range [low, high] of the per-episode scale of the model's "
          'lateral friction ([] = unchanged).', low=0.0, low_open=True, lengths=(0, 2),
          ascending=True),
    Param('republish_period', 1.0, 'Lockstep: republish the last state after this long '
          'without a command (s; 0 = never).', low=0.0),
    Param('actor_node', 'actor', 'Lockstep: the node whose commands step the sim (a relative '
          "name is in the sim's namespace), known by each message's publisher; other "
          "publishers' commands are counted and ignored. '' = any publisher."),
    Param('publish_clock', False, "Publish /clock with this sim's time (one /clock source "
          'per graph at most).'),
))

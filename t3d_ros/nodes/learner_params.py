"""
The learner node's parameters: one declaration each (``t3d_ros.param_schema``).

The TD3 hyperparameters and the learner options are their dataclasses' fields, ranges and
docstrings (``TD3Config``, ``LearnerOptions``): declared there once.
"""
from t3d_ros.param_schema import Param, ParamSchema, settings_params
from t3d_ros.tasks import TASK_DESCRIPTION
from t3d_ros.td3.config import TD3Config
from t3d_ros.training.learner import LearnerOptions

LEARNER_PARAMS = ParamSchema('learner', (
    Param('task', 'reacher', 'Task to learn. ' + TASK_DESCRIPTION),
    *settings_params(TD3Config),
    *settings_params(LearnerOptions),
    Param('signing_key_file', '', 'Key file: sign every policy bundle (HMAC-SHA256) for '
          "actors given the same file; '' = unsigned."),
    Param('torch_threads', 1, 'Torch CPU threads for the updates.', low=1),
    Param('run_dir', '', "Run directory (metrics, checkpoints, policy); '' = none."),
    Param('resume', True, 'Continue from the newest checkpoint in run_dir if any.'),
))

"""The actor node's parameters: one declaration each (``t3d_ros.param_schema``)."""
from t3d_ros.acting.core import ActorSettings
from t3d_ros.ros import messages
from t3d_ros.param_schema import Param, ParamSchema, settings_params
from t3d_ros.tasks import TASK_DESCRIPTION


def autostart_default(values: dict) -> bool:
    """Return true in train mode; in deploy mode only a deliberate transition moves a robot."""
    return values['mode'] == 'train'


ACTOR_PARAMS = ParamSchema('actor', (
    Param('task', 'reacher', 'Observation, reward, joints and limits. ' + TASK_DESCRIPTION),
    Param('mode', 'train', '`train` (explore, send transitions, run episodes) or `deploy`.',
          choices=('train', 'deploy')),
    Param('seed', 0, 'Seed of goals and exploration noise.', low=0),
    Param('actor_id', '', "Id in transitions and diagnostics; '' = the namespace."),
    Param('command_topic', '', "Forward command controller topic; '' = the task's, e.g. "
          '`forward_effort_controller/commands`.'),
    Param('joint_order', [], "The controller's `joints` order for commands; [] = the task's "
          'joint order.', element_type=str),
    Param('state_qos', 'reliable', '`joint_states` (and `odom`) QoS: `reliable` (lockstep '
          'sim) or `best_effort` (sensor data).', choices=tuple(messages.STATE_QOS_CHOICES)),
    Param('odom_slop', 0.0, 'Floating-base tasks: largest stamp difference (s) between a '
          'joint state and the odom it is paired with; 0 = equal stamps (lockstep sim); on '
          'hardware, where two drivers stamp on their own, e.g. half a control period.',
          low=0.0),
    Param('trigger', 'state', '`state`: act on each new joint state; `timer`: act at '
          '`control_rate_hz` on the latest state.', choices=('state', 'timer')),
    Param('control_rate_hz', 0.0, "Control rate; 0 = 1 / the task's control period.",
          low=0.0),
    Param('state_timeout', -1.0, 'Watchdog: state older than this (s) -> safe command; < 0: '
          '3 control periods; 0: off.'),
    Param('max_delta', 0.0, 'Largest command change per tick, all joints (0 = no rate '
          'limit).', low=0.0),
    Param('command_low', [], "Per-joint lower command limits in the task's joint order (not "
          "joint_order), tighter than the policy's, never wider ([] = the policy's); for "
          'effort and velocity they must include 0, the safe command.'),
    Param('command_high', [], "Per-joint upper command limits in the task's joint order "
          "(not joint_order), tighter than the policy's, never wider ([] = the policy's); for "
          'effort and velocity they must include 0, the safe command.'),
    Param('policy_file', '', 'Policy bundle (.safetensors) to load at configure (deploy); '
          "'' in training (weights come on /t3d/policy)."),
    *settings_params(ActorSettings, note='train mode'),
    Param('reset', 'service', 'Train mode: how the robot is reset at episode end. `service`: '
          'call `reset` (std_srvs/Trigger, as the sim offers); `home`: drive it to the '
          "task's start pose (home plus the seeded initial noise) through the safety layer; "
          '`none`: the episode goes on from the current state.',
          choices=('service', 'home', 'none')),
    Param('home_tolerance', 0.02, '`reset: home`: done once every joint is this close to the '
          'pose (rad or m) and slower than this per s.', low=0.0, low_open=True),
    Param('home_timeout', 15.0, '`reset: home`: seconds before it gives up: safe commands and '
          'ERROR until `~/clear_fault` (std_srvs/Trigger) is called.', low=0.0, low_open=True),
    Param('home_speed', 0.5, '`reset: home`, position interface: how fast the target ramps '
          '(rad/s or m/s).', low=0.0, low_open=True),
    Param('home_kp', [], '`reset: home`, per joint: velocity P gain (1/s; [] = 2) or effort '
          "P gain ([] = the task's gains; required for a task without gains)."),
    Param('home_kd', [], "`reset: home`, effort D gain per joint ([] = the task's gains)."),
    # The learner refuses larger messages: a larger value would lose every one.
    Param('transitions_per_message', 64, 'Transitions sent per /t3d/transitions message (and '
          'at episode end).', low=1, high=messages.MAX_TRANSITIONS_PER_MESSAGE),
    Param('max_policy_bytes', 64 * 2**20, 'Larger policy messages (bytes) are dropped.', low=1),
    Param('signing_key_file', '', "Train mode: take only policy bundles signed with this key "
          "file (the learner's); '' = any bundle."),
    Param('follow_throttle', True, 'Train mode: wait while the learner asks on /t3d/throttle '
          '(lockstep sims); false on hardware.'),
    Param('autostart', True, 'Configure and activate at start; false leaves it to a '
          'lifecycle manager (`ros2 lifecycle set`); a failed transition ends the process '
          'with status 1 and the reason.', default_from=autostart_default,
          default_text='true in `train`, false in `deploy`'),
))

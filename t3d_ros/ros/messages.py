"""
The one place that builds and parses t3d_ros's ROS messages, and validates them.

Parsers raise :class:`InvalidMessage` with a short reason; nodes count the reason and drop
the message (see :class:`t3d_ros.ros.drops.DropCounter`), they never forward bad data.
"""
from __future__ import annotations

import array
import math
import re
from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PointStamped
from nav_msgs.msg import Odometry
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy,
                       qos_profile_sensor_data)
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Float32MultiArray, Float64MultiArray, MultiArrayDimension, UInt8MultiArray

from t3d_ros.acting.transitions import TRANSITION_FIELDS, TransitionBatch
from t3d_ros.bundle import signing
from t3d_ros.tasks.base import BaseState

if TYPE_CHECKING:  # torch is imported only by the nodes that handle policies
    from t3d_ros.bundle.policy_bundle import PolicyBundle

ABSURD = 1e6
"""Magnitude above which a joint position, velocity, goal or reward is rejected as absurd."""
QUATERNION_TOLERANCE = 1e-3
"""Largest deviation from 1 of an orientation quaternion's norm that is accepted."""
ODOM_FRAME = 'odom'
BASE_FRAME = 'base_link'
"""Frame ids of the odometry the sim publishes (REP 105): pose in odom, twist in base_link."""
MAX_TRANSITIONS_PER_MESSAGE = 10_000
MAX_ACTOR_ID_LENGTH = 256
TRANSITIONS_FORMAT = 't3d_transitions/1'

ROBOT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                       history=HistoryPolicy.KEEP_LAST)
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL,
                         history=HistoryPolicy.KEEP_LAST)
TRANSITIONS_DEPTH = 1000
"""Transition messages each side holds: a bounded buffer (a few MB) that outlasts a stalled
learner while waiting actors hold back (the actor's FLOW_WINDOW); what a non-waiting actor
sends beyond it is overwritten, and counted by the learner from the ``seq`` gaps."""
TRANSITIONS_QOS = QoSProfile(depth=TRANSITIONS_DEPTH, reliability=ReliabilityPolicy.RELIABLE,
                             history=HistoryPolicy.KEEP_LAST)
STATE_QOS_CHOICES = {'reliable': ROBOT_QOS, 'best_effort': qos_profile_sensor_data}


class InvalidMessage(ValueError):
    """A message that fails validation; ``reason`` is a short, countable key."""

    def __init__(self, reason: str, detail: str = ''):
        super().__init__(f'{reason}: {detail}' if detail else reason)
        self.reason = reason


def state_qos(name: str) -> QoSProfile:
    """Return the QoS of robot-facing state subscriptions: 'reliable' or 'best_effort'."""
    try:
        return STATE_QOS_CHOICES[name]
    except KeyError:
        raise ValueError(f'state_qos must be one of {sorted(STATE_QOS_CHOICES)}, not {name!r}')


def _array(typecode: str, values: np.ndarray, dtype) -> array.array:
    """Convert numpy to array.array, the fast way to fill a ROS sequence field."""
    out = array.array(typecode)
    out.frombytes(np.ascontiguousarray(values, dtype=dtype).tobytes())
    return out


def stamp_to_ns(stamp: Time) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def ns_to_stamp(ns: int) -> Time:
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def seconds_to_ns(seconds: float) -> int:
    return int(round(seconds * 1e9))


# --- joint_states -----------------------------------------------------------------------

def joint_state_msg(names: Sequence[str], position, velocity, effort, stamp_ns: int) -> JointState:
    msg = JointState()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.name = list(names)
    msg.position = _array('d', position, np.float64)
    msg.velocity = _array('d', velocity, np.float64)
    msg.effort = _array('d', effort, np.float64)
    return msg


def _values_view(field: array.array) -> np.ndarray:
    """Return a writable float64 view of a message's array.array field (writes go into it)."""
    return np.frombuffer(field, dtype=np.float64)


class JointStateWriter:
    """
    What :func:`joint_state_msg` returns, for fixed joints, written into one message per writer.

    Every call returns the same message, its values and stamp overwritten in place: no new
    message, header, name list and arrays per state. For a node that publishes each state as
    it is made (``publish`` converts the message at once): keep no returned message past the
    next call.
    """

    def __init__(self, names: Sequence[str]):
        zeros = [0.0] * len(names)
        self._msg = JointState(name=list(names), position=zeros, velocity=zeros, effort=zeros)
        self._position, self._velocity, self._effort = (
            _values_view(field) for field in (self._msg.position, self._msg.velocity,
                                              self._msg.effort))

    def message(self, position, velocity, effort, stamp_ns: int) -> JointState:
        """Return the message of this state (one value per joint in each array)."""
        self._position[:] = position
        self._velocity[:] = velocity
        self._effort[:] = effort
        stamp = self._msg.header.stamp
        stamp.sec, stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        return self._msg


class JointStateReading(NamedTuple):
    stamp_ns: int
    position: np.ndarray
    velocity: np.ndarray
    base: BaseState | None = None
    """The floating base's state of the same instant, once paired with odometry."""


class JointStateParser:
    """
    Picks the configured joints out of JointState messages, by name, in any order.

    Extra joints are ignored; a missing joint, mismatched array lengths, NaN/Inf or absurd
    values raise InvalidMessage. The name -> index map is cached per name list.
    """

    def __init__(self, joint_names: Sequence[str]):
        self.joint_names = tuple(joint_names)
        self._cached_names: tuple[str, ...] | None = None
        self._indices: np.ndarray | None = None

    def _index(self, names: Sequence[str]) -> np.ndarray:
        """
        Return the configured joints' indices in a message with ``names``: positions, velocities.

        They index the message's positions followed by its velocities, so one selection picks
        both and one check covers both.
        """
        names = tuple(names)
        if names != self._cached_names:
            if len(set(names)) != len(names):
                raise InvalidMessage('duplicate_joint_names', str(names))
            lookup = {name: i for i, name in enumerate(names)}
            missing = [name for name in self.joint_names if name not in lookup]
            if missing:
                raise InvalidMessage('missing_joints', f'{missing} not in {list(names)}')
            indices = np.array([lookup[name] for name in self.joint_names])
            self._indices = np.concatenate([indices, indices + len(names)])
            self._cached_names = names
        return self._indices

    def parse(self, msg: JointState) -> JointStateReading:
        count = len(msg.name)
        if len(msg.position) != count or len(msg.velocity) != count:
            raise InvalidMessage('bad_length', f'{count} names, {len(msg.position)} positions, '
                                 f'{len(msg.velocity)} velocities')
        index = self._index(msg.name)
        # array.array + array.array: the two fields' doubles in one buffer.
        values = np.frombuffer(msg.position + msg.velocity, dtype=np.float64)[index]
        joints = len(self.joint_names)
        position, velocity = values[:joints], values[joints:]
        if not _all_sane(values):
            _check_finite(position, 'position')
            _check_finite(velocity, 'velocity')
        return JointStateReading(stamp_to_ns(msg.header.stamp), position, velocity)


def _all_sane(values: np.ndarray) -> bool:
    """Whether every value is finite and within ABSURD: one pass (NaN fails the comparison)."""
    return bool(np.abs(values).max(initial=0.0) <= ABSURD)


def _check_finite(values: np.ndarray, what: str) -> None:
    if _all_sane(values):
        return
    if not np.all(np.isfinite(values)):
        raise InvalidMessage('not_finite', what)
    raise InvalidMessage('absurd_value', f'{what} beyond {ABSURD:g}')


# --- odom -------------------------------------------------------------------------------

def odometry_msg(base: BaseState, stamp_ns: int, frame_id: str = ODOM_FRAME,
                 child_frame_id: str = BASE_FRAME) -> Odometry:
    """
    Build REP 105 odometry of a floating base's state.

    The pose is ``child_frame_id``'s in ``frame_id``, the twist is in ``child_frame_id``.
    Covariances stay zero (the exact sim state).
    """
    msg = Odometry()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    pose, twist = msg.pose.pose, msg.twist.twist
    pose.position.x, pose.position.y, pose.position.z = (float(v) for v in base.position)
    (pose.orientation.x, pose.orientation.y, pose.orientation.z,
     pose.orientation.w) = (float(v) for v in base.orientation)
    twist.linear.x, twist.linear.y, twist.linear.z = (float(v) for v in base.linear_velocity)
    twist.angular.x, twist.angular.y, twist.angular.z = (
        float(v) for v in base.angular_velocity)
    return msg


class OdometryReading(NamedTuple):
    stamp_ns: int
    base: BaseState


def parse_odometry(msg: Odometry) -> OdometryReading:
    """
    Return the base state in ``msg``.

    NaN/Inf, absurd values or a quaternion that is not of unit norm (within
    QUATERNION_TOLERANCE) raise InvalidMessage. Frame ids are not checked: the twist is taken
    in the child frame, as REP 105 specifies.
    """
    pose, twist = msg.pose.pose, msg.twist.twist
    position = np.array([pose.position.x, pose.position.y, pose.position.z])
    orientation = np.array([pose.orientation.x, pose.orientation.y, pose.orientation.z,
                            pose.orientation.w])
    linear = np.array([twist.linear.x, twist.linear.y, twist.linear.z])
    angular = np.array([twist.angular.x, twist.angular.y, twist.angular.z])
    for values, what in ((position, 'odom position'), (orientation, 'odom orientation'),
                         (linear, 'odom linear velocity'), (angular, 'odom angular velocity')):
        _check_finite(values, what)
    norm = float(np.linalg.norm(orientation))
    if abs(norm - 1.0) > QUATERNION_TOLERANCE:
        raise InvalidMessage('bad_quaternion', f'orientation norm {norm:.6g}, not 1')
    return OdometryReading(stamp_to_ns(msg.header.stamp),
                           BaseState(position, orientation, linear, angular))


# --- commands ---------------------------------------------------------------------------

def command_msg(values: np.ndarray) -> Float64MultiArray:
    msg = Float64MultiArray()
    msg.data = _array('d', values, np.float64)
    return msg


class CommandWriter:
    """
    What :func:`command_msg` returns, for ``num_joints`` values, written into one message.

    As :class:`JointStateWriter`: every call returns the same message, overwritten in place.
    """

    def __init__(self, num_joints: int):
        self._msg = Float64MultiArray(data=[0.0] * num_joints)
        self._data = _values_view(self._msg.data)

    def message(self, values: np.ndarray) -> Float64MultiArray:
        """Return the message of the command ``values``: one per joint, else ValueError."""
        if np.shape(values) != self._data.shape:  # never one value broadcast to every joint
            raise ValueError(f'{np.shape(values)} command values for {self._data.size} joints')
        self._data[:] = values
        return self._msg


def parse_command(msg: Float64MultiArray, num_joints: int) -> np.ndarray:
    values = np.frombuffer(msg.data, dtype=np.float64) if len(msg.data) else np.zeros(0)
    if values.shape != (num_joints,):
        raise InvalidMessage('bad_length', f'{values.size} values for {num_joints} joints')
    _check_finite(values, 'command')
    return values.copy()


# --- goal -------------------------------------------------------------------------------

def goal_msg(point: np.ndarray, stamp_ns: int, frame_id: str = 'base_link') -> PointStamped:
    msg = PointStamped()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.header.frame_id = frame_id
    msg.point.x, msg.point.y, msg.point.z = (float(v) for v in point)
    return msg


def parse_goal(msg: PointStamped) -> np.ndarray:
    goal = np.array([msg.point.x, msg.point.y, msg.point.z])
    _check_finite(goal, 'goal')
    return goal


# --- clock ------------------------------------------------------------------------------

_EPISODE_STAMP = re.compile(r'\bepisode_stamp_ns=(\d+)\b')


def reset_reply(episode: int, stamp_ns: int) -> str:
    """
    Return the ``reset`` (std_srvs/Trigger) reply message of a sim.

    It names the stamp of the state that begins the episode, so the actor starts it on that
    state and on no copy of an older one still in flight.
    """
    return f'episode {episode} begins with the state stamped episode_stamp_ns={stamp_ns}'


def parse_reset_reply(message: str) -> int | None:
    """Return the episode's first stamp a ``reset`` reply names, or None (another sim)."""
    match = _EPISODE_STAMP.search(message)
    return int(match.group(1)) if match else None


def clock_msg(stamp_ns: int) -> Clock:
    return Clock(clock=ns_to_stamp(stamp_ns))


# --- transitions ------------------------------------------------------------------------

class TransitionCodec:
    """
    Encodes/decodes ``/t3d/transitions`` for one observation and action size.

    Layout: ``dim[0]`` is labelled ``t3d_transitions/1;actor=<id>;policy_version=<v>;seq=<n>``
    with size = number of transitions; ``dim[1:]`` name each field with its width, in row order
    (obs, action, reward, next_obs, terminated, truncated); ``data`` is row-major float32.
    ``seq`` numbers each actor's messages from 0 (the learner counts gaps); a label without it
    (older actors) still decodes, with ``seq`` None. Unknown ``key=value`` parts are ignored,
    so later additions stay readable.
    """

    def __init__(self, obs_dim: int, act_dim: int):
        self.widths = dict(zip(TRANSITION_FIELDS, (obs_dim, act_dim, 1, obs_dim, 1, 1)))
        self.row_width = sum(self.widths.values())
        bounds = np.cumsum([0, *self.widths.values()])
        self._slices = {name: slice(bounds[i], bounds[i + 1])
                        for i, name in enumerate(TRANSITION_FIELDS)}

    def encode(self, batch: TransitionBatch) -> Float32MultiArray:
        rows = np.concatenate([
            np.asarray(getattr(batch, name), dtype=np.float32).reshape(len(batch.reward), -1)
            for name in TRANSITION_FIELDS], axis=1)
        msg = Float32MultiArray()
        header = (f'{TRANSITIONS_FORMAT};actor={batch.actor_id};'
                  f'policy_version={batch.policy_version}')
        if batch.seq is not None:
            header += f';seq={batch.seq}'
        msg.layout.dim = [MultiArrayDimension(label=header, size=rows.shape[0], stride=rows.size)]
        msg.layout.dim += [MultiArrayDimension(label=name, size=width, stride=width)
                           for name, width in self.widths.items()]
        msg.data = _array('f', rows, np.float32)
        return msg

    def decode(self, msg: Float32MultiArray) -> tuple[TransitionBatch, int]:
        """Return the valid rows and the number of rows dropped as non-finite or absurd."""
        dims = msg.layout.dim
        if not dims:
            raise InvalidMessage('bad_layout', 'no dimensions')
        actor_id, policy_version, seq = _parse_transition_header(dims[0].label)
        fields = tuple((d.label, d.size) for d in dims[1:])
        if fields != tuple(self.widths.items()):
            raise InvalidMessage('bad_layout', f'fields {fields}, expected '
                                 f'{tuple(self.widths.items())}')
        count = dims[0].size
        if not 0 < count <= MAX_TRANSITIONS_PER_MESSAGE:
            raise InvalidMessage('bad_layout', f'{count} transitions')
        if len(msg.data) != count * self.row_width:
            raise InvalidMessage('bad_length', f'{len(msg.data)} values for {count} rows of '
                                 f'{self.row_width}')
        rows = np.frombuffer(msg.data, dtype=np.float32).reshape(count, self.row_width)
        flags = rows[:, [self._slices['terminated'].start, self._slices['truncated'].start]]
        valid = (np.all(np.isfinite(rows), axis=1) & np.all(np.abs(rows) <= ABSURD, axis=1)
                 & np.all((flags == 0) | (flags == 1), axis=1))
        rows = rows[valid]
        fields = {name: rows[:, s] for name, s in self._slices.items()}
        for name in ('reward', 'terminated', 'truncated'):
            fields[name] = fields[name][:, 0]
        fields['terminated'] = fields['terminated'].astype(bool)
        fields['truncated'] = fields['truncated'].astype(bool)
        return (TransitionBatch(actor_id, policy_version, **fields, seq=seq),
                int(count - valid.sum()))


def _parse_transition_header(label: str) -> tuple[str, int, int | None]:
    parts = label.split(';')
    if parts[0] != TRANSITIONS_FORMAT:
        raise InvalidMessage('bad_layout', f'format {parts[0]!r}, expected {TRANSITIONS_FORMAT}')
    try:
        values = dict(part.split('=', 1) for part in parts[1:])
        actor_id, policy_version = values['actor'], int(values['policy_version'])
        seq = int(values['seq']) if 'seq' in values else None
    except (KeyError, ValueError):
        raise InvalidMessage('bad_layout', f'header {label[:300]!r}') from None
    if not 0 < len(actor_id) <= MAX_ACTOR_ID_LENGTH or (seq is not None and seq < 0):
        raise InvalidMessage('bad_layout', f'header {label[:300]!r}')
    return actor_id, policy_version, seq


# --- policy -----------------------------------------------------------------------------

def policy_msg(bundle: PolicyBundle, key: bytes | None = None) -> UInt8MultiArray:
    """
    Return a bundle on ``/t3d/policy``; with ``key``, signed (t3d_ros.bundle.signing).

    The signature is ``layout.dim[0]``'s label, ``data`` stays the bundle bytes.
    """
    msg = UInt8MultiArray()
    data = bundle.to_bytes()
    msg.data = data
    if key is not None:
        msg.layout.dim = [MultiArrayDimension(label=signing.signature_label(key, data),
                                              size=len(data), stride=len(data))]
    return msg


def parse_policy(msg: UInt8MultiArray, max_bytes: int,
                 key: bytes | None = None) -> PolicyBundle:
    """
    Return the bundle in ``msg``.

    With ``key``, only if it is signed with that key (checked before the bytes are parsed). Raises
    InvalidMessage ('oversized', 'unsigned', 'bad_signature', 'bad_bundle').
    """
    from t3d_ros.bundle.policy_bundle import BundleError, PolicyBundle

    if len(msg.data) > max_bytes:
        raise InvalidMessage('oversized', f'{len(msg.data)} bytes > {max_bytes}')
    data = bytes(msg.data)
    if key is not None:
        label = msg.layout.dim[0].label if len(msg.layout.dim) == 1 else None
        try:
            signing.verify(key, data, label)
        except signing.SignatureError as error:
            raise InvalidMessage(error.reason, str(error)) from None
    try:
        return PolicyBundle.from_bytes(data, max_bytes=max_bytes)
    except BundleError as error:
        raise InvalidMessage('bad_bundle', str(error)) from None


# --- diagnostics ------------------------------------------------------------------------

def diagnostics_msg(stamp_ns: int, name: str, hardware_id: str, values: dict,
                    level: bytes = DiagnosticStatus.OK, message: str = 'ok') -> DiagnosticArray:
    """One DiagnosticStatus with ``values`` as key/value pairs (floats formatted compactly)."""
    status = DiagnosticStatus(level=level, name=name, hardware_id=hardware_id, message=message)
    status.values = [KeyValue(key=str(key), value=_format_value(value))
                     for key, value in values.items()]
    msg = DiagnosticArray(status=[status])
    msg.header.stamp = ns_to_stamp(stamp_ns)
    return msg


def diagnostic_level(errors: Sequence[str], warnings: Sequence[str] = ()) -> tuple[bytes, str]:
    """
    Return the status level and message of what is wrong with a node now.

    ERROR while anything needs fixing (a missing joint, a refused bundle, a dead thread), else
    WARN while the node runs degraded on purpose (stale state, e_stop, throttled), else OK; the
    message names every condition, errors first.
    """
    level = (DiagnosticStatus.ERROR if errors else DiagnosticStatus.WARN if warnings
             else DiagnosticStatus.OK)
    return level, '; '.join([*errors, *warnings]) or 'ok'


def _format_value(value) -> str:
    if isinstance(value, float):
        return 'nan' if math.isnan(value) else f'{value:.6g}'
    return str(value)


def diagnostic_values(msg: DiagnosticArray) -> dict[str, dict[str, str]]:
    """{status name: {key: value}}, for tools and tests that read /diagnostics."""
    return {status.name: {kv.key: kv.value for kv in status.values} for status in msg.status}

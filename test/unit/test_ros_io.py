"""Message building, parsing and validation at the edge (rclpy message types, no node)."""
import numpy as np
import pytest

pytest.importorskip('rclpy', reason='needs the ROS 2 message packages (requirements-ros.txt)')

from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Float32MultiArray, Float64MultiArray, UInt8MultiArray  # noqa: E402

from t3d_ros.ros import messages  # noqa: E402
from t3d_ros.tasks.base import BaseState  # noqa: E402

JOINTS = ('shoulder_joint', 'elbow_joint')


def joint_state(names, position, velocity, stamp_ns=5):
    return messages.joint_state_msg(names, position, velocity, np.zeros(len(names)), stamp_ns)


def test_joint_states_are_matched_by_name_in_any_order_with_extra_joints():
    parser = messages.JointStateParser(JOINTS)
    msg = joint_state(['gripper', 'elbow_joint', 'shoulder_joint'], [9.0, 2.0, 1.0],
                      [0.9, 0.2, 0.1], stamp_ns=3_000_000_001)
    reading = parser.parse(msg)
    np.testing.assert_array_equal(reading.position, [1.0, 2.0])
    np.testing.assert_array_equal(reading.velocity, [0.1, 0.2])
    assert reading.stamp_ns == 3_000_000_001


@pytest.mark.parametrize('names,position,velocity,reason', [
    (['shoulder_joint'], [1.0], [0.0], 'missing_joints'),
    (list(JOINTS), [1.0], [0.0, 0.0], 'bad_length'),
    (list(JOINTS), [1.0, 2.0], [], 'bad_length'),
    (list(JOINTS), [np.nan, 2.0], [0.0, 0.0], 'not_finite'),
    (list(JOINTS), [1.0, 2.0], [np.inf, 0.0], 'not_finite'),
    (list(JOINTS), [1e9, 2.0], [0.0, 0.0], 'absurd_value'),
    (['elbow_joint', 'elbow_joint', 'shoulder_joint'], [1.0, 2.0, 3.0], [0.0] * 3,
     'duplicate_joint_names'),
])
def test_bad_joint_states_are_refused_with_a_reason(names, position, velocity, reason):
    msg = JointState(name=names, position=position, velocity=velocity)
    with pytest.raises(messages.InvalidMessage) as error:
        messages.JointStateParser(JOINTS).parse(msg)
    assert error.value.reason == reason


def test_joint_state_values_are_checked_per_configured_joint_and_field():
    """Positions and velocities are checked in one pass: the reason and field still show."""
    parser = messages.JointStateParser(JOINTS)
    names = ['gripper', 'elbow_joint', 'shoulder_joint']
    # An extra joint's bad values are not the policy's concern.
    reading = parser.parse(joint_state(names, [np.nan, 2.0, 1.0], [1e9, 0.2, 0.1]))
    np.testing.assert_array_equal(reading.position, [1.0, 2.0])
    np.testing.assert_array_equal(reading.velocity, [0.1, 0.2])
    for position, velocity, reason, field in (
            ([0.0, -np.inf, 1.0], [0.0] * 3, 'not_finite', 'position'),
            ([0.0] * 3, [0.0, 0.0, np.nan], 'not_finite', 'velocity'),
            ([0.0] * 3, [0.0, -2e6, 0.0], 'absurd_value', 'velocity'),
            ([0.0, 0.0, 1e6], [0.0] * 3, None, None)):  # ABSURD itself is accepted
        if reason is None:
            parser.parse(joint_state(names, position, velocity))
            continue
        with pytest.raises(messages.InvalidMessage, match=field) as error:
            parser.parse(joint_state(names, position, velocity))
        assert error.value.reason == reason


def test_commands_round_trip_and_bad_ones_are_refused():
    np.testing.assert_array_equal(messages.parse_command(messages.command_msg([0.5, -1.0]), 2),
                                  [0.5, -1.0])
    for data, reason in (([1.0], 'bad_length'), ([], 'bad_length'),
                         ([np.nan, 0.0], 'not_finite'), ([0.0, np.inf], 'not_finite'),
                         ([-1e7, 0.0], 'absurd_value')):
        with pytest.raises(messages.InvalidMessage) as error:
            messages.parse_command(Float64MultiArray(data=data), 2)
        assert error.value.reason == reason


def make_batch(rows=5, obs_dim=3, act_dim=2, seed=0):
    rng = np.random.default_rng(seed)
    return messages.TransitionBatch(
        'robot_1', 42, rng.normal(size=(rows, obs_dim)), rng.uniform(-1, 1, (rows, act_dim)),
        rng.normal(size=rows), rng.normal(size=(rows, obs_dim)),
        np.arange(rows) == rows - 1, np.zeros(rows, bool))


def test_transitions_round_trip_with_self_describing_layout():
    codec = messages.TransitionCodec(3, 2)
    batch = make_batch()
    msg = codec.encode(batch)
    labels = [d.label for d in msg.layout.dim]
    assert labels[0] == 't3d_transitions/1;actor=robot_1;policy_version=42'
    assert labels[1:] == ['obs', 'action', 'reward', 'next_obs', 'terminated', 'truncated']
    assert [d.size for d in msg.layout.dim[1:]] == [3, 2, 1, 3, 1, 1]
    decoded, dropped = codec.decode(msg)
    assert dropped == 0 and decoded.actor_id == 'robot_1' and decoded.policy_version == 42
    for name in ('obs', 'action', 'reward', 'next_obs'):
        np.testing.assert_allclose(getattr(decoded, name), getattr(batch, name), rtol=1e-6)
    np.testing.assert_array_equal(decoded.terminated, batch.terminated)


def test_transitions_carry_a_sequence_number_and_older_labels_still_decode():
    codec = messages.TransitionCodec(3, 2)
    msg = codec.encode(make_batch()._replace(seq=17))
    assert msg.layout.dim[0].label == 't3d_transitions/1;actor=robot_1;policy_version=42;seq=17'
    assert codec.decode(msg)[0].seq == 17
    older = codec.encode(make_batch())  # an actor from before sequence numbers
    assert codec.decode(older)[0].seq is None
    later = codec.encode(make_batch()._replace(seq=3))  # a key this version does not know
    later.layout.dim[0].label += ';session=ab12'
    assert codec.decode(later)[0].seq == 3
    for label in ('t3d_transitions/1;actor=r;policy_version=1;seq=-1',
                  't3d_transitions/1;actor=r;policy_version=1;seq=x',
                  't3d_transitions/1;actor=;policy_version=1;seq=1',
                  f't3d_transitions/1;actor={"r" * 257};policy_version=1;seq=1'):
        bad = codec.encode(make_batch())
        bad.layout.dim[0].label = label
        with pytest.raises(messages.InvalidMessage, match='bad_layout'):
            codec.decode(bad)


def test_non_finite_transition_rows_are_dropped_and_counted():
    codec = messages.TransitionCodec(3, 2)
    msg = codec.encode(make_batch())
    msg.data[0] = float('nan')
    msg.data[codec.row_width + 5] = float('inf')
    msg.data[3 * codec.row_width - 2] = 0.5  # row 2's terminated flag: not 0/1
    decoded, dropped = codec.decode(msg)
    assert dropped == 3 and len(decoded.reward) == 2


@pytest.mark.parametrize('corrupt', ['format', 'fields', 'length', 'header', 'empty'])
def test_transitions_with_a_wrong_layout_are_refused(corrupt):
    codec = messages.TransitionCodec(3, 2)
    msg = codec.encode(make_batch())
    if corrupt == 'format':
        msg.layout.dim[0].label = 'other/1;actor=a;policy_version=1'
    elif corrupt == 'fields':
        msg = messages.TransitionCodec(4, 2).encode(make_batch(obs_dim=4))
    elif corrupt == 'length':
        msg.data = msg.data[:-1]
    elif corrupt == 'header':
        msg.layout.dim[0].label = 't3d_transitions/1;actor=a;policy_version=x'
    else:
        msg = Float32MultiArray()
    with pytest.raises(messages.InvalidMessage):
        codec.decode(msg)


def test_policy_bytes_that_are_garbage_or_oversized_are_refused():
    with pytest.raises(messages.InvalidMessage) as error:
        messages.parse_policy(UInt8MultiArray(data=bytes(100)), max_bytes=50)
    assert error.value.reason == 'oversized'
    with pytest.raises(messages.InvalidMessage) as error:
        messages.parse_policy(UInt8MultiArray(data=b'not a bundle at all'), max_bytes=1000)
    assert error.value.reason == 'bad_bundle'


def test_diagnostics_round_trip():
    msg = messages.diagnostics_msg(7, 't3d/learner', 'learner', {'updates': 3, 'loss': 0.25})
    assert messages.diagnostic_values(msg) == {'t3d/learner': {'updates': '3', 'loss': '0.25'}}


def test_state_qos_choices():
    assert messages.state_qos('reliable') is messages.ROBOT_QOS
    with pytest.raises(ValueError):
        messages.state_qos('fast')


def base_state(orientation=(0.0, 0.0, 0.0, 1.0)):
    return BaseState(np.array([1.0, -2.0, 0.5]), np.array(orientation, dtype=float),
                     np.array([0.3, 0.0, -0.1]), np.array([0.0, 0.7, 0.2]))


def test_odometry_round_trips_with_rep_105_frames():
    half = np.sqrt(0.5)
    base = base_state((0.0, half, 0.0, half))
    msg = messages.odometry_msg(base, 3_000_000_007)
    assert (msg.header.frame_id, msg.child_frame_id) == ('odom', 'base_link')
    reading = messages.parse_odometry(msg)
    assert reading.stamp_ns == 3_000_000_007
    for parsed, sent in zip(reading.base, base):
        np.testing.assert_array_equal(parsed, sent)


@pytest.mark.parametrize('field,value,reason', [
    ('pose.pose.position.x', np.nan, 'not_finite'),
    ('pose.pose.orientation.w', np.inf, 'not_finite'),
    ('twist.twist.linear.z', -np.inf, 'not_finite'),
    ('twist.twist.angular.y', 1e9, 'absurd_value'),
    ('pose.pose.orientation.w', 0.0, 'bad_quaternion'),  # all zero: no rotation at all
    ('pose.pose.orientation.w', 1.01, 'bad_quaternion'),
])
def test_bad_odometry_is_refused_with_a_reason(field, value, reason):
    msg = messages.odometry_msg(base_state(), 1)
    *path, name = field.split('.')
    target = msg
    for part in path:
        target = getattr(target, part)
    setattr(target, name, float(value))
    with pytest.raises(messages.InvalidMessage) as error:
        messages.parse_odometry(msg)
    assert error.value.reason == reason


def test_odometry_accepts_a_nearly_unit_quaternion():
    norm = 1 + 0.5 * messages.QUATERNION_TOLERANCE
    reading = messages.parse_odometry(messages.odometry_msg(base_state((0, 0, 0, norm)), 1))
    assert reading.base.orientation[3] == norm


def test_writers_return_what_the_message_builders_build_in_one_reused_message():
    writer = messages.JointStateWriter(JOINTS)
    first = writer.message(np.array([0.1, 0.2]), [0.3, 0.4], (0.5, 0.6), 5_000_000_123)
    assert first == messages.joint_state_msg(JOINTS, [0.1, 0.2], [0.3, 0.4], [0.5, 0.6],
                                             5_000_000_123)
    second = writer.message(np.array([-1.0, 2.0]), [3.0, -4.0], [0.0, 0.0], 7)
    assert second is first  # overwritten in place: a caller keeps no message past the next call
    assert second == messages.joint_state_msg(JOINTS, [-1.0, 2.0], [3.0, -4.0], [0.0, 0.0], 7)
    commands = messages.CommandWriter(2)
    assert commands.message(np.array([0.5, -1.0])) == messages.command_msg([0.5, -1.0])
    assert commands.message([np.float32(0.25), 1]) == messages.command_msg([0.25, 1.0])
    with pytest.raises(ValueError):
        commands.message(np.zeros(3))  # one value per joint, or none goes out
    with pytest.raises(ValueError):
        commands.message(np.ones(1))

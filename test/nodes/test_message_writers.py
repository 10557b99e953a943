"""The reused messages of the message writers go out as they were written, one after another."""
import numpy as np
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from t3d_ros.ros import messages

JOINTS = ('shoulder_joint', 'elbow_joint')


def test_each_state_and_command_written_into_the_reused_message_arrives_as_written(ros):
    node = ros.plain_node('listener')
    states, commands = [], []
    node.create_subscription(JointState, 'joint_states', states.append, messages.ROBOT_QOS)
    node.create_subscription(Float64MultiArray, 'commands', commands.append, messages.ROBOT_QOS)
    talker = ros.plain_node('talker')
    state_pub = talker.create_publisher(JointState, 'joint_states', messages.ROBOT_QOS)
    command_pub = talker.create_publisher(Float64MultiArray, 'commands', messages.ROBOT_QOS)
    assert ros.spin_until(lambda: state_pub.get_subscription_count() == 1
                          and command_pub.get_subscription_count() == 1)
    state_writer, command_writer = messages.JointStateWriter(JOINTS), messages.CommandWriter(2)
    sent = [(np.array([0.1 * i, -0.2 * i]), np.array([i, 2.0 * i]), np.array([-i, 0.5]),
             3_000_000_000 * i + 7) for i in range(1, 4)]
    for position, velocity, effort, stamp_ns in sent:  # each published before the next is written
        state_pub.publish(state_writer.message(position, velocity, effort, stamp_ns))
        command_pub.publish(command_writer.message(effort))
    assert ros.spin_until(lambda: len(states) == len(commands) == len(sent))
    parser = messages.JointStateParser(JOINTS)
    for (position, velocity, effort, stamp_ns), state, command in zip(sent, states, commands):
        assert state == messages.joint_state_msg(JOINTS, position, velocity, effort, stamp_ns)
        reading = parser.parse(state)
        assert reading.stamp_ns == stamp_ns
        np.testing.assert_array_equal(reading.position, position)
        np.testing.assert_array_equal(reading.velocity, velocity)
        np.testing.assert_array_equal(messages.parse_command(command, 2), effort)

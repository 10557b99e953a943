"""Subscription callbacks that take the message info get it in every executor the nodes run in."""
from std_msgs.msg import Float64MultiArray

from rclpy_variants import GIVES_PUBLISHER_GID, IN_EVERY_EXECUTOR
from t3d_ros.ros import messages
from t3d_ros.ros.message_info import publication_order, publisher_gid, with_message_info


@IN_EVERY_EXECUTOR
def test_a_callback_with_message_info_gets_the_message_and_its_publisher(ros):
    node = ros.plain_node('listener')
    received = []
    node.create_subscription(Float64MultiArray, 'commands',
                             with_message_info(lambda msg, info: received.append((msg, info))),
                             messages.ROBOT_QOS)
    publisher = ros.plain_node('talker').create_publisher(Float64MultiArray, 'commands',
                                                          messages.ROBOT_QOS)
    assert ros.spin_until(lambda: publisher.get_subscription_count() == 1)
    for value in (1.0, 2.0):
        publisher.publish(Float64MultiArray(data=[value]))
    assert ros.spin_until(lambda: len(received) == 2)
    assert [list(msg.data) for msg, _ in received] == [[1.0], [2.0]]
    (talker,) = node.get_publishers_info_by_topic(publisher.topic_name)
    assert {publisher_gid(info) for _, info in received} == {
        bytes(talker.endpoint_gid) if GIVES_PUBLISHER_GID else None}
    assert [publication_order(info) for _, info in received] == [1, 2]

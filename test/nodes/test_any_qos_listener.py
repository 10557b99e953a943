"""The listener of a topic from any QoS hands on each message once, in its publisher's order."""
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Int32

from rclpy_variants import IN_EVERY_EXECUTOR
from t3d_ros.ros.any_qos import AnyQosListener

TIMEOUT = 20.0


@IN_EVERY_EXECUTOR
def test_a_burst_from_a_latched_publisher_comes_once_each_in_order(ros):
    """
    Take each of a burst of messages heard on both subscriptions once, in order.

    Where the latched-value subscription kept only the last message, it handed that on before
    the other subscription's older ones; without publisher gids (Jazzy) those then came after
    it, and the burst ended on an old value.
    """
    listener = ros.plain_node('listener', 'robot')
    received = []
    AnyQosListener(listener, Int32, 'e_stop', lambda msg: received.append(msg.data))
    publisher = ros.plain_node('console', 'robot').create_publisher(Int32, 'e_stop', QoSProfile(
        depth=10, reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL))
    assert ros.spin_until(lambda: publisher.get_subscription_count() == 2, TIMEOUT)
    burst = list(range(1, 6))
    for value in burst:
        publisher.publish(Int32(data=value))
    assert ros.spin_until(lambda: burst[-1] in received, TIMEOUT)
    ros.spin_for(0.3)  # a second copy of any of them would come now
    assert received == burst

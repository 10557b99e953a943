"""
The sim latches the URDF it loaded on ``robot_description`` (issue 19.4), for RViz.

A subscriber that comes after the sim published (reliable, transient local, as
robot_state_publisher's users subscribe) still gets it, in the robot's namespace.
"""
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.paths import sim_model_path

TIMEOUT = 20.0
LATE_SUBSCRIBER_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)


def late_description(ros, namespace: str) -> list[String]:
    """Subscribe to ``robot_description`` in ``namespace`` now; return what arrives there."""
    received = []
    listener = ros.plain_node('description_listener', namespace)
    listener.create_subscription(String, 'robot_description', received.append,
                                 LATE_SUBSCRIBER_QOS)
    return received


def test_a_late_subscriber_gets_the_urdf_the_sim_loaded(ros):
    sim = ros.start(SimNode, 'robot_3', task='pendulum')
    assert sim.description_pub.topic_name == '/robot_3/robot_description'
    received = late_description(ros, 'robot_3')
    assert ros.spin_until(lambda: received, TIMEOUT)
    assert received[0].data == sim_model_path('pendulum.urdf').read_text()


def test_plain_mesh_file_names_become_file_uris(ros):
    sim = ros.start(SimNode, 'arm', task='iiwa_reach')  # meshes/link_0.obj, ...
    received = late_description(ros, 'arm')
    assert ros.spin_until(lambda: received, TIMEOUT)
    robot = ET.fromstring(received[0].data)
    assert robot.get('name') == ET.parse(sim.core.robot.urdf_path).getroot().get('name')
    meshes = [mesh.get('filename') for mesh in robot.iter('mesh')]
    assert meshes and all(uri.startswith('file:///') for uri in meshes)
    assert all(Path(urlparse(uri).path).is_file() for uri in meshes)


def test_an_mjcf_model_has_no_robot_description(ros):
    sim = ros.start(SimNode, 'cheetah', task='half_cheetah')
    assert sim.description_pub is None
    assert sim.get_publishers_info_by_topic('/cheetah/robot_description') == []

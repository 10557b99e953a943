"""
``robot_description`` (std_msgs/String, reliable, transient local): the URDF a sim loaded.

Published once, latched, in the robot's namespace, as ros2_control's controller manager and
robot_state_publisher do, so robot_state_publisher and RViz show the simulated robot. Mesh file
names without a URI scheme (absolute, or relative to the URDF's folder as PyBullet reads them)
become ``file://`` URIs, which RViz resolves (the file then goes out as re-written XML, without
its comments); ``package://`` and other URIs stay as they are, and a URDF without such names
goes out as it is.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from rclpy.node import Node
from rclpy.publisher import Publisher
from std_msgs.msg import String

from t3d_ros.ros.messages import LATCHED_QOS

TOPIC = 'robot_description'


def publish_robot_description(node: Node, model_path: str | Path) -> Publisher | None:
    """
    Publish the URDF at ``model_path`` on ``robot_description``; return the publisher.

    None, with a line in the log, for a model that is not a URDF (an MJCF file).
    """
    model_path = Path(model_path)
    text = model_path.read_text(encoding='utf-8')
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        node.get_logger().warning(f'no {TOPIC}: {model_path} is not XML ({error})')
        return None
    if root.tag != 'robot':
        node.get_logger().info(f'no {TOPIC}: {model_path.name} is not a URDF (<{root.tag}>)')
        return None
    plain = [mesh for mesh in root.iter('mesh')
             if mesh.get('filename') and '://' not in mesh.get('filename')]
    for mesh in plain:
        mesh.set('filename', (model_path.parent / mesh.get('filename')).resolve().as_uri())
    publisher = node.create_publisher(String, TOPIC, LATCHED_QOS)
    publisher.publish(String(data=ET.tostring(root, encoding='unicode') if plain else text))
    return publisher

"""The node graph: node specs, params files, processes, training over ROS, the private domain."""

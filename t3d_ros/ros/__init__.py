"""rclpy plumbing shared by the nodes: messages and QoS, parameters, spinning, clocks, counters."""

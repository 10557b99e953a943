"""
The actor's side of control in pure numpy (no ROS, no torch).

Episodes, exploration and action scaling. The actor node and the direct trainer both run it,
so the ROS path adds transport, never different numbers.
"""

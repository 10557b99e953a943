"""
From robot state to a safe command, in numpy: episodes, policy, exploration, safety.

No ROS, no torch: episodes, exploration, transitions, the numpy policy, the safety layer, the
e_stop gate, stamp order and the transition sender. The actor node, the gymnasium env and the
direct trainer all run the actor core, so the ROS path adds transport, never different numbers.
"""

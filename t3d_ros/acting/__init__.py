"""
From robot state to a safe command, in numpy: episodes, policy, exploration, safety.

No ROS, no torch: episodes, exploration, action scaling, the numpy policy, the safety layer,
the e_stop gate, stamp order and the transition sender. The actor node and the direct trainer
both run it, so the ROS path adds transport, never different numbers.
"""

"""The ROS nodes, one class per file: sim, actor (and its parts), learner, groups, parameters."""

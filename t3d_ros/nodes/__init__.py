"""The ROS nodes, one class per file: sim, actor, learner, their group processes and parameters."""

"""Training without ROS: the learner core, the direct trainer, evaluation and run directories."""

"""Training without ROS: the learner core, the direct trainer, evaluation, videos, run dirs."""

"""t3d_ros: train TD3 (Twin Delayed DDPG) policies for ROS 2 joint control and deploy them."""

"""``slider``: push a cart along its rail to a target and stop there."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from t3d_ros.tasks import ControlInterface, RobotState, Task


class SliderTask(Task):
    """
    A force on a cart (``slider.urdf``: 1 kg on a prismatic joint) to a goal on the rail.

    Observation: position, velocity and the goal's offset from the cart. Reward per step: minus
    the distance to the goal, minus a small force cost. Success: within 5 cm at the end.
    """

    name = 'slider'  # the entry point's name: stored in policy bundles
    joint_names = ('slider_joint',)
    interface = ControlInterface.EFFORT
    action_low = np.array([-5.0])
    action_high = np.array([5.0])
    obs_layout = (('position', 1), ('velocity', 1), ('goal_offset', 1))
    max_episode_steps = 100
    physics_dt = 0.01
    decimation = 2  # a 0.02 s control period
    has_goal = True
    reward_threshold = None
    GOAL_RANGE = 0.6
    """Goals and initial positions are drawn from [-0.6, 0.6] m."""

    def model_path(self) -> Path:
        """Return the model this package ships next to this module."""
        return Path(__file__).with_name('slider.urdf')

    def observation(self, state: RobotState) -> np.ndarray:
        position, velocity = state.position[0], state.velocity[0]
        return np.array([position, velocity, state.goal[0] - position], dtype=np.float32)

    def reward(self, state: RobotState, action: np.ndarray, next_state: RobotState) -> float:
        force = self.clip_action(action)[0] / self.action_high[0]
        return -abs(next_state.goal[0] - next_state.position[0]) - 0.01 * force ** 2

    def is_success(self, state: RobotState) -> bool:
        return abs(state.goal[0] - state.position[0]) < 0.05

    def sample_initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return np.array([rng.uniform(-self.GOAL_RANGE, self.GOAL_RANGE)]), np.zeros(1)

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """Return a point on the rail, at the cart's height (x, y, z in the rail's frame)."""
        return np.array([rng.uniform(-self.GOAL_RANGE, self.GOAL_RANGE), 0.0, 0.05])

"""Pendulum swing-up: gymnasium's Pendulum-v1 as a URDF joint-control task."""
from __future__ import annotations

import numpy as np

from t3d_ros.tasks.base import ControlInterface, RobotState, Task, joint_array


def angle_normalize(angle: float | np.ndarray) -> float | np.ndarray:
    """Angle wrapped to [-pi, pi), as in Pendulum-v1."""
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


class PendulumTask(Task):
    """
    Swing a torque-limited pendulum up and balance it (theta = 0 is upright).

    Observation, reward, initial states and limits are those of Pendulum-v1; ``sim/pendulum.urdf``
    with g = 10 and one 0.05 s physics step per control step reproduces its dynamics (PyBullet
    integrates semi-implicit Euler with the 8 rad/s speed clamp before the position update,
    exactly like Pendulum-v1's hand-written step): the angles agree to 1e-7 rad over 20 steps.
    The reward threshold of -200 is the usual "solved" level for Pendulum-v1; a good swing-up
    policy scores about -150.
    """

    name = 'pendulum'
    urdf = 'pendulum.urdf'
    joint_names = ('pendulum_joint',)
    interface = ControlInterface.EFFORT
    action_low = joint_array(-2.0)
    action_high = joint_array(2.0)
    obs_layout = (('cos_theta', 1), ('sin_theta', 1), ('theta_dot', 1))
    max_episode_steps = 200
    physics_dt = 0.05
    decimation = 1
    gravity = 10.0
    reward_threshold = -200.0

    def observation(self, state: RobotState) -> np.ndarray:
        theta, theta_dot = state.position[0], state.velocity[0]
        return np.array([np.cos(theta), np.sin(theta), theta_dot], dtype=np.float32)

    def reward(self, state: RobotState, action: np.ndarray, next_state: RobotState) -> float:
        """Pendulum-v1's negative cost of the state before the action and the action."""
        theta, theta_dot = state.position[0], state.velocity[0]
        torque = self.clip_action(action)[0]
        cost = angle_normalize(theta) ** 2 + 0.1 * theta_dot ** 2 + 0.001 * torque ** 2
        return -float(cost)

    def sample_initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        theta, theta_dot = rng.uniform(low=(-np.pi, -1.0), high=(np.pi, 1.0))
        return np.array([theta]), np.array([theta_dot])

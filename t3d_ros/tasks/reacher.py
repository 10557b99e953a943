"""Reacher: bring the fingertip of a two-link planar arm to a target, after MuJoCo's Reacher."""
from __future__ import annotations

import numpy as np

from t3d_ros.tasks.base import ControlInterface, RobotState, Task, joint_array


class ReacherTask(Task):
    """
    Move the fingertip of ``sim/reacher.urdf`` to a goal in the arm's horizontal plane.

    Episodes, goals and observations follow MuJoCo's Reacher-v5: 50 steps of 0.02 s, a goal
    uniform in the disc of radius 0.2 m, joints started within +-0.1 rad and +-0.005 rad/s,
    observation (cos q, sin q, goal xy, q_dot, fingertip - goal). The goal's z is ignored: the
    arm is planar and goals are taken in its plane.

    Reward: ``-|fingertip - goal| - control_cost_weight * sum(a_n^2)`` after the step, where
    ``a_n`` is the action normalised to [-1, 1] per joint, so the cost does not depend on the
    torque units. MuJoCo's weight of 1 is on actions whose full range (gear 200) is far more than
    the task needs, so its policies use a small fraction of it; here the full range is what a
    fast reach needs. A weight of 0.1 makes a full-effort step on both joints cost 0.2, as much
    as being 0.2 m away: pushing hard pays while far from the goal and not once close to it.

    Reward threshold -4.5 means "reaches the goal and holds it": over 200 episodes, doing
    nothing scores -11.9, an IK + joint PD controller at the effort limits -3.2, the same
    controller stopping 2 cm short of the goal -3.85 and 3 cm short -4.2. Far goals cost more,
    so a 10-episode mean spreads by about 0.5; the threshold leaves that margin. A plain TD3
    (sfujim hyperparameters, 5k random steps) scored -4.1 after 25k env steps and -3.6 to -4.3
    from 35k to 50k.
    """

    name = 'reacher'
    urdf = 'reacher.urdf'
    joint_names = ('shoulder_joint', 'elbow_joint')
    interface = ControlInterface.EFFORT
    action_low = joint_array(-1.0, -0.3)
    action_high = joint_array(1.0, 0.3)
    obs_layout = (
        ('cos_q', 2), ('sin_q', 2), ('goal_xy', 2), ('q_dot', 2), ('fingertip_to_goal', 2))
    max_episode_steps = 50
    physics_dt = 0.005
    decimation = 4
    has_goal = True
    reward_threshold = -4.5

    link_lengths = (0.1, 0.11)
    """Shoulder to elbow and elbow to fingertip, in m (as in the URDF)."""
    plane_height = 0.01
    """Height of the arm's plane above the base frame, in m (as in the URDF)."""
    goal_radius = 0.2
    """Goals are uniform in the disc of this radius around the shoulder, in m."""
    control_cost_weight = 0.1
    """Weight of the squared normalised action in the reward (see above)."""
    success_distance = 0.02
    """Fingertip-to-goal distance that counts as reached, in m."""

    def fingertip(self, position: np.ndarray) -> np.ndarray:
        """Fingertip position (x, y, z) in the base frame for joint positions ``position``."""
        upper, fore = self.link_lengths
        shoulder, elbow = position
        return np.array([
            upper * np.cos(shoulder) + fore * np.cos(shoulder + elbow),
            upper * np.sin(shoulder) + fore * np.sin(shoulder + elbow),
            self.plane_height,
        ])

    def goal_distance(self, state: RobotState) -> float:
        """Distance from the fingertip to the goal, in the arm's plane."""
        return float(np.linalg.norm(self._fingertip_to_goal(state)))

    def _fingertip_to_goal(self, state: RobotState) -> np.ndarray:
        return self.fingertip(state.position)[:2] - state.goal[:2]

    def observation(self, state: RobotState) -> np.ndarray:
        return np.concatenate([
            np.cos(state.position), np.sin(state.position), state.goal[:2], state.velocity,
            self._fingertip_to_goal(state),
        ]).astype(np.float32)

    def reward(self, state: RobotState, action: np.ndarray, next_state: RobotState) -> float:
        effort = self.normalize_action(self.clip_action(action))
        return -self.goal_distance(next_state) - self.control_cost_weight * float(effort @ effort)

    def is_success(self, state: RobotState) -> bool:
        return self.goal_distance(state) < self.success_distance

    def sample_initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        position = rng.uniform(-0.1, 0.1, size=2)
        velocity = rng.uniform(-0.005, 0.005, size=2)
        return position, velocity

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """Uniform in the disc of ``goal_radius``, by rejection from the square as MuJoCo does."""
        while True:
            xy = rng.uniform(-self.goal_radius, self.goal_radius, size=2)
            if np.linalg.norm(xy) < self.goal_radius:
                return np.array([xy[0], xy[1], self.plane_height])

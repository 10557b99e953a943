"""HalfCheetah: run forward with a planar two-legged body, after MuJoCo's HalfCheetah-v5."""
from __future__ import annotations

import numpy as np

from t3d_ros.tasks.base import (BaseState, ControlInterface, RobotState, Task, joint_array,
                                rotation_matrix)


def base_pitch(base: BaseState) -> float:
    """Rotation of the base about the world y axis, in [-pi, pi] (x forward, z up)."""
    rotation = rotation_matrix(base.orientation)
    return float(np.arctan2(rotation[0, 2], rotation[0, 0]))


class HalfCheetahTask(Task):
    """
    Make ``pybullet_data/mjcf/half_cheetah.xml`` run forward (+x) as fast as it can.

    The definition is gymnasium's HalfCheetah-v5 (MuJoCo), so returns are comparable in kind:
    0.05 s control steps (5 physics steps of 0.01 s), 1000-step episodes that are only ever
    truncated, reward ``forward_velocity - 0.1 * sum(a^2)`` with ``a`` the action normalised to
    [-1, 1] (MuJoCo's ctrlrange; here the torque is gear x a, the MJCF motors' gears), initial
    state the model's reference pose plus U(-0.1, 0.1) on every coordinate and 0.1 N(0, 1) on
    every velocity (root coordinates included), and the 17-value observation
    (torso z, torso pitch, 6 joint angles, torso x and z velocity, pitch rate, 6 joint rates)
    with the x position left out.

    The torso's state comes from the floating base (``RobotState.base``, the ``odom`` topic
    over ROS), the joints' from joint states. Heights are relative to the torso's reference
    height (0.7 m), as MuJoCo's root z coordinate is; velocities are in the world (odom) frame,
    as MuJoCo's root velocities are, so the twist, which odometry gives in the base frame, is
    rotated back. One difference: odometry gives the pitch as an orientation, so the angle is
    wrapped to [-pi, pi], where MuJoCo's hinge angle keeps counting when the cheetah flips.

    The physics is PyBullet's reading of the MJCF file, which differs from MuJoCo's: PyBullet
    ignores the joints' springs, damping and armature and the model's ``settotalmass``, so the
    body weighs 38 kg instead of 14 kg. Returns are therefore not MuJoCo's numbers, and
    gymnasium's "solved" threshold (4800) does not carry over: no threshold is set.
    """

    name = 'half_cheetah'
    urdf = 'pybullet_data/mjcf/half_cheetah.xml'
    joint_names = ('bthigh', 'bshin', 'bfoot', 'fthigh', 'fshin', 'ffoot')
    interface = ControlInterface.EFFORT
    gears = joint_array(120.0, 90.0, 60.0, 120.0, 60.0, 30.0)
    """The MJCF motors' gears: the torque, in N m, of a full (+-1) action."""
    effort_limits = gears
    action_low = joint_array(*-gears)
    action_high = gears
    odom_link = 'torso'
    root_joints = ('ignorex', 'ignorez', 'ignorey')
    obs_layout = (('torso_z', 1), ('torso_pitch', 1), ('q', 6), ('torso_velocity_xz', 2),
                  ('torso_pitch_rate', 1), ('q_dot', 6))
    max_episode_steps = 1000
    physics_dt = 0.01
    decimation = 5
    reward_threshold = None

    torso_height = 0.7
    """Height of the torso frame in the model's reference pose (MuJoCo's root z = 0), in m."""
    forward_reward_weight = 1.0
    control_cost_weight = 0.1
    reset_noise_scale = 0.1

    def observation(self, state: RobotState) -> np.ndarray:
        base = state.base
        rotation = rotation_matrix(base.orientation)
        velocity = rotation @ base.linear_velocity
        angular_velocity = rotation @ base.angular_velocity
        return np.concatenate([
            [base.position[2] - self.torso_height, base_pitch(base)], state.position,
            [velocity[0], velocity[2], angular_velocity[1]], state.velocity,
        ]).astype(np.float32)

    def forward_velocity(self, state: RobotState, next_state: RobotState) -> float:
        """Mean x velocity of the torso over the step, in m/s (MuJoCo's x_velocity)."""
        return float(next_state.base.position[0] - state.base.position[0]) / self.control_dt

    def reward(self, state: RobotState, action: np.ndarray, next_state: RobotState) -> float:
        effort = self.normalize_action(self.clip_action(action))
        return (self.forward_reward_weight * self.forward_velocity(state, next_state)
                - self.control_cost_weight * float(effort @ effort))

    def sample_initial_state(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Root (x, z, pitch) then joints, as MuJoCo's qpos and qvel: the reference pose is 0."""
        size = len(self.root_joints) + self.num_joints
        noise = self.reset_noise_scale
        position = rng.uniform(-noise, noise, size=size)
        velocity = noise * rng.standard_normal(size)
        return position, velocity

"""A URDF robot in its own PyBullet world, commanded like a ros2_control forward controller.

This is physics alone: no observation, reward or goal logic. The gymnasium env and the ROS
sim node both drive it, so the two produce the same joint trajectories for the same commands.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pybullet
from pybullet_utils.bullet_client import BulletClient

from t3d_ros.paths import sim_model_path
from t3d_ros.tasks.base import ControlInterface, Task

_MOTOR_MODES = {
    ControlInterface.EFFORT: (pybullet.TORQUE_CONTROL, 'forces'),
    ControlInterface.VELOCITY: (pybullet.VELOCITY_CONTROL, 'targetVelocities'),
    ControlInterface.POSITION: (pybullet.POSITION_CONTROL, 'targetPositions'),
}
"""PyBullet motor mode and the keyword that carries the command, per command interface."""


class BulletRobot:
    """A fixed-base URDF robot stepped in fixed time steps, in a private DIRECT-mode client.

    The base sits at the world origin, so its frame is the world frame. The physics is the
    URDF's: PyBullet's default link damping is removed, inertias are read from the file, and
    each joint's URDF velocity limit is enforced. Effort commands saturate at the effort
    limits; velocity and position commands drive PyBullet motors with the effort limits as
    their maximum force.
    """

    GOAL_MARKER_RADIUS = 0.01
    GOAL_MARKER_RGBA = (0.9, 0.2, 0.2, 0.8)

    def __init__(
        self,
        urdf_path: str | Path,
        joint_names: Sequence[str],
        interface: ControlInterface | str,
        physics_dt: float,
        decimation: int,
        effort_limits: Sequence[float] | None = None,
        gravity: float = 9.81,
    ):
        """``effort_limits`` default to the URDF's ``<limit effort>`` of each joint."""
        if physics_dt <= 0 or decimation < 1:
            raise ValueError('physics_dt must be > 0 and decimation >= 1')
        self.urdf_path = Path(urdf_path)
        if not self.urdf_path.is_file():
            raise FileNotFoundError(f'robot model {self.urdf_path} does not exist')
        self.joint_names = tuple(joint_names)
        self.interface = ControlInterface(interface)
        self.physics_dt = float(physics_dt)
        self.decimation = int(decimation)
        self._steps = 0
        self._goal_marker: int | None = None
        self._client = BulletClient(connection_mode=pybullet.DIRECT)
        self._connected = True
        try:
            self._load(effort_limits, gravity)
        except Exception:
            self.close()
            raise

    @classmethod
    def for_task(cls, task: Task) -> BulletRobot:
        """The robot model, joints, interface and timing that ``task`` declares."""
        return cls(sim_model_path(task.urdf), task.joint_names, task.interface,
                   task.physics_dt, task.decimation, gravity=task.gravity)

    def _load(self, effort_limits: Sequence[float] | None, gravity: float) -> None:
        client = self._client
        client.setGravity(0.0, 0.0, -gravity)
        client.setTimeStep(self.physics_dt)
        client.setRealTimeSimulation(0)
        self._body = client.loadURDF(
            str(self.urdf_path), useFixedBase=True, flags=pybullet.URDF_USE_INERTIA_FROM_FILE)
        num_joints = client.getNumJoints(self._body)
        infos = [client.getJointInfo(self._body, j) for j in range(num_joints)]
        movable = {info[1].decode(): info for info in infos if info[2] != pybullet.JOINT_FIXED}
        missing = [name for name in self.joint_names if name not in movable]
        if missing:
            raise ValueError(f'{self.urdf_path.name} has no movable joint named {missing}; '
                             f'its movable joints are {sorted(movable)}')
        joints = [movable[name] for name in self.joint_names]
        self._joint_indices = [info[0] for info in joints]
        self._movable_indices = [info[0] for info in movable.values()]
        self.effort_limits = self._resolve_effort_limits(effort_limits, joints)
        self.velocity_limits = np.array([info[11] if info[11] > 0 else np.inf for info in joints])

        self._links = range(-1, num_joints)
        for link in self._links:
            client.changeDynamics(self._body, link, linearDamping=0.0, angularDamping=0.0)
        for index, limit in zip(self._joint_indices, self.velocity_limits):
            if np.isfinite(limit):
                client.changeDynamics(self._body, index, maxJointVelocity=limit)
        dynamics = [client.getDynamicsInfo(self._body, link) for link in self._links]
        self._nominal_mass = np.array([info[0] for info in dynamics])
        self._nominal_friction = np.array([info[1] for info in dynamics])
        self._nominal_inertia = np.array([info[2] for info in dynamics])
        self._effort = np.zeros(self.num_joints)
        self._disable_default_motors()

    def _resolve_effort_limits(self, effort_limits, joints) -> np.ndarray:
        if effort_limits is None:
            limits = np.array([info[10] for info in joints], dtype=np.float64)
            unlimited = [name for name, limit in zip(self.joint_names, limits) if limit <= 0]
            if unlimited:
                raise ValueError(f'{self.urdf_path.name} gives no effort limit for {unlimited}; '
                                 'pass effort_limits')
            return limits
        limits = self._joint_vector(effort_limits, 'effort_limits')
        if np.any(limits <= 0):
            raise ValueError(f'effort_limits must be > 0, got {limits}')
        return limits

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def control_dt(self) -> float:
        return self.physics_dt * self.decimation

    @property
    def sim_time(self) -> float:
        """Simulated seconds since construction; keeps counting across resets."""
        return self._steps * self.control_dt

    @property
    def client(self) -> BulletClient:
        return self._client

    @property
    def body_id(self) -> int:
        return self._body

    def _joint_vector(self, values, what: str) -> np.ndarray:
        vector = np.asarray(values, dtype=np.float64)
        if vector.shape != (self.num_joints,):
            raise ValueError(f'{what} needs {self.num_joints} values {self.joint_names}, '
                             f'got shape {vector.shape}')
        if not np.all(np.isfinite(vector)):
            raise ValueError(f'{what} must be finite, got {vector}')
        return vector

    def _disable_default_motors(self) -> None:
        """Switch off the velocity motors PyBullet puts on every joint, so joints move freely."""
        self._client.setJointMotorControlArray(
            self._body, self._movable_indices, pybullet.VELOCITY_CONTROL,
            forces=[0.0] * len(self._movable_indices))

    def reset(self, position: Sequence[float], velocity: Sequence[float]) -> None:
        """Teleport the joints to ``position`` and ``velocity``; no command is applied after."""
        position = self._joint_vector(position, 'position')
        velocity = self._joint_vector(velocity, 'velocity')
        for index, q, q_dot in zip(self._joint_indices, position, velocity):
            self._client.resetJointState(self._body, index, q, q_dot)
        self._disable_default_motors()
        self._effort = np.zeros(self.num_joints)

    def step(self, command: Sequence[float]) -> None:
        """Hold ``command`` for ``decimation`` physics steps (one control step)."""
        command = self._joint_vector(command, 'command')
        mode, keyword = _MOTOR_MODES[self.interface]
        if self.interface is ControlInterface.EFFORT:
            self._effort = np.clip(command, -self.effort_limits, self.effort_limits)
            motor_args = {keyword: self._effort}
        else:
            motor_args = {keyword: command, 'forces': self.effort_limits}
        for _ in range(self.decimation):
            # PyBullet clears joint torques after every physics step, so re-apply each substep.
            self._client.setJointMotorControlArray(self._body, self._joint_indices, mode,
                                                   **motor_args)
            self._client.stepSimulation()
        self._steps += 1

    def joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Joint positions, velocities and efforts in ``joint_names`` order.

        The effort is the applied torque: the saturated command for the effort interface
        (PyBullet reports none for torque control), the motor torque otherwise.
        """
        states = self._client.getJointStates(self._body, self._joint_indices)
        position = np.array([state[0] for state in states])
        velocity = np.array([state[1] for state in states])
        if self.interface is ControlInterface.EFFORT:
            effort = self._effort.copy()
        else:
            effort = np.array([state[3] for state in states])
        return position, velocity, effort

    def show_goal(self, point: Sequence[float]) -> None:
        """Move a visual-only sphere (no collision, no mass) to ``point`` in the base frame."""
        point = np.asarray(point, dtype=np.float64)
        if point.shape != (3,) or not np.all(np.isfinite(point)):
            raise ValueError(f'goal must be 3 finite values, got {point}')
        if self._goal_marker is None:
            visual = self._client.createVisualShape(
                pybullet.GEOM_SPHERE, radius=self.GOAL_MARKER_RADIUS,
                rgbaColor=self.GOAL_MARKER_RGBA)
            self._goal_marker = self._client.createMultiBody(
                baseMass=0.0, baseVisualShapeIndex=visual)
        self._client.resetBasePositionAndOrientation(
            self._goal_marker, point.tolist(), (0.0, 0.0, 0.0, 1.0))

    def randomize_dynamics(
        self,
        rng: np.random.Generator,
        mass_scale: tuple[float, float] | None = (0.8, 1.2),
        friction: tuple[float, float] | None = (0.5, 1.5),
    ) -> None:
        """Scale each link's mass (and inertia) and lateral friction by uniform random factors.

        ``mass_scale`` and ``friction`` are (low, high) ranges of the factors applied to the
        URDF's values; None keeps the URDF's value. ``reset_dynamics`` restores them all.
        """
        self._set_dynamics(self._draw_scales(rng, mass_scale, 'mass_scale'),
                           self._draw_scales(rng, friction, 'friction'))

    def _draw_scales(self, rng: np.random.Generator, bounds: tuple[float, float] | None,
                     name: str) -> np.ndarray:
        if bounds is None:
            return np.ones(len(self._links))
        low, high = bounds
        if not 0 < low <= high:
            raise ValueError(f'{name} must be a range 0 < low <= high, got {bounds}')
        return rng.uniform(low, high, size=len(self._links))

    def reset_dynamics(self) -> None:
        """Restore the URDF's masses, inertias and friction."""
        self._set_dynamics(np.ones(len(self._links)), np.ones(len(self._links)))

    def _set_dynamics(self, mass_scale: np.ndarray, friction_scale: np.ndarray) -> None:
        for i, link in enumerate(self._links):
            self._client.changeDynamics(
                self._body, link,
                mass=self._nominal_mass[i] * mass_scale[i],
                localInertiaDiagonal=(self._nominal_inertia[i] * mass_scale[i]).tolist(),
                lateralFriction=self._nominal_friction[i] * friction_scale[i])

    def close(self) -> None:
        if self._connected:
            self._connected = False
            self._client.disconnect()

    def __enter__(self) -> BulletRobot:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

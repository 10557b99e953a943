"""
A URDF robot in its own PyBullet world, commanded like a ros2_control forward controller.

This is physics alone: no observation, reward or goal logic. The gymnasium env and the ROS
sim node both drive it, so the two produce the same joint trajectories for the same commands.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from t3d_ros.envs.bullet import BulletClient, connect_direct, pybullet
from t3d_ros.paths import pybullet_data_path
from t3d_ros.tasks.base import BaseState, ControlInterface, Task
from t3d_ros.tasks.task_file import default_gains


class BulletRobot:
    """
    A fixed-base URDF robot stepped in fixed time steps, in a private DIRECT-mode client.

    The model's root link sits at the world origin, so its frame is the world frame; goals
    are shown in the frame of ``base_link`` (default: the root). The physics is the URDF's:
    PyBullet's default link damping is removed, inertias are read from the file, and each
    joint's URDF velocity limit is enforced. The command interfaces behave like ros2_control
    hardware with the robot's own joint controllers:

    - effort: the command is the joint torque, saturated at the effort limits;
    - position: the command is a joint target, tracked by a PD (``gains``: kp, kd per joint)
      plus gravity and Coriolis compensation, the torque saturated at the effort limits;
    - velocity: the command is a joint velocity target, tracked by ``kd`` (the velocity loop
      gain) plus the same compensation and the URDF's viscous friction at the commanded
      velocity fed forward, with the same bound.

    The PD is the stable PD of Tan et al. (2011): it predicts the next step's state with the
    mass matrix, so stiff gains stay stable at the physics step. Gains default to
    :func:`~t3d_ros.tasks.task_file.default_gains` of the effort limits. Movable joints that
    are not controlled (e.g. gripper fingers) are held where ``reset`` put them.
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
        gains: tuple[Sequence[float], Sequence[float]] | None = None,
        base_link: str | None = None,
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
        self._client = connect_direct()
        self._connected = True
        # The client's calls of every step, looked up once (a lookup makes a new partial).
        self._set_torques = self._client.setJointMotorControlArray
        self._step_simulation = self._client.stepSimulation
        self._joint_states = self._client.getJointStates
        try:
            self._load(effort_limits, gravity)
            self._set_gains(gains)
            self._locate_base(base_link)
        except Exception:
            self.close()
            raise

    @classmethod
    def for_task(cls, task: Task) -> BulletRobot:
        """
        Build the robot model, joints, interface and timing that ``task`` declares.

        A floating-base task gets a :class:`FloatingBaseRobot`.
        """
        args = (task.model_path(), task.joint_names, task.interface, task.physics_dt,
                task.decimation, task.effort_limits, task.gravity, task.gains, task.base_link)
        if task.floating_base:
            return FloatingBaseRobot(*args, odom_link=task.odom_link,
                                     root_joints=task.root_joints)
        return cls(*args)

    @property
    def reset_joint_names(self) -> tuple[str, ...]:
        """Name the joints ``reset`` takes positions and velocities of, in order."""
        return self.joint_names

    def _load_model(self) -> int:
        """Load the model into the client; return its body id."""
        return self._client.loadURDF(
            str(self.urdf_path), useFixedBase=True, flags=pybullet.URDF_USE_INERTIA_FROM_FILE)

    def _load(self, effort_limits: Sequence[float] | None, gravity: float) -> None:
        client = self._client
        client.setGravity(0.0, 0.0, -gravity)
        client.setTimeStep(self.physics_dt)
        client.setRealTimeSimulation(0)
        self._body = self._load_model()
        num_joints = client.getNumJoints(self._body)
        infos = [client.getJointInfo(self._body, j) for j in range(num_joints)]
        movable = {info[1].decode(): info for info in infos if info[2] != pybullet.JOINT_FIXED}
        missing = [name for name in self.reset_joint_names if name not in movable]
        if missing:
            raise ValueError(f'{self.urdf_path.name} has no movable joint named {missing}; '
                             f'its movable joints are {sorted(movable)}')
        joints = [movable[name] for name in self.joint_names]
        self._joint_indices = [info[0] for info in joints]
        self._reset_indices = [movable[name][0] for name in self.reset_joint_names]
        self._link_indices = {info[12].decode(): info[0] for info in infos}
        self._movable_indices = [info[0] for info in movable.values()]
        # Where each controlled joint is among the movable ones (PyBullet's dynamics order).
        self._dof = np.array([self._movable_indices.index(j) for j in self._joint_indices])
        held = [info for info in movable.values() if info[0] not in self._reset_indices]
        self._held = [(info, client.getJointState(self._body, info[0])[0]) for info in held]
        self.effort_limits = self._resolve_effort_limits(effort_limits, joints)
        self.velocity_limits = np.array([info[11] if info[11] > 0 else np.inf for info in joints])
        self._joint_damping = np.zeros(self.num_joints)
        self._damping_torque = np.zeros(self.num_joints)
        if self.interface is not ControlInterface.EFFORT:
            # PyBullet applies joint damping explicitly, which is unstable on light links
            # (the iiwa's flange: 0.5 N m s/rad on 0.001 kg m^2 at 5 ms). With a joint
            # controller the damping joins the PD's implicit step instead (_tracking_torque).
            self._joint_damping = np.array([info[6] for info in joints], dtype=np.float64)
            for index in self._joint_indices:
                client.changeDynamics(self._body, index, jointDamping=0.0)

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

    def _set_gains(self, gains) -> None:
        if gains is None:
            self.kp, self.kd = default_gains(self.effort_limits)
        else:
            self.kp = self._joint_vector(gains[0], 'gains kp')
            self.kd = self._joint_vector(gains[1], 'gains kd')
        if np.any(self.kp < 0) or np.any(self.kd < 0):
            raise ValueError(f'gains must be >= 0, got kp {self.kp}, kd {self.kd}')

    def _locate_base(self, base_link: str | None) -> None:
        """Return the pose of ``base_link`` in the world (it is fixed to the root link)."""
        self._base_position = np.zeros(3)
        self._base_rotation = np.eye(3)
        root = self._client.getBodyInfo(self._body)[0].decode()
        if base_link is None or base_link == root:
            return
        links = {self._client.getJointInfo(self._body, j)[12].decode(): j
                 for j in range(self._client.getNumJoints(self._body))}
        if base_link not in links:
            raise ValueError(f'{self.urdf_path.name} has no link {base_link!r}')
        state = self._client.getLinkState(self._body, links[base_link],
                                          computeForwardKinematics=True)
        self._base_position = np.array(state[4])
        rotation = self._client.getMatrixFromQuaternion(state[5])
        self._base_rotation = np.array(rotation).reshape(3, 3)

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

    def _joint_vector(self, values, what: str, names: tuple[str, ...] | None = None
                      ) -> np.ndarray:
        names = self.joint_names if names is None else names
        vector = np.asarray(values, dtype=np.float64)
        if vector.shape != (len(names),):
            raise ValueError(f'{what} needs {len(names)} values {names}, '
                             f'got shape {vector.shape}')
        if not np.all(np.isfinite(vector)):
            raise ValueError(f'{what} must be finite, got {vector}')
        return vector

    def _disable_default_motors(self) -> None:
        """
        Switch off PyBullet's default velocity motors on the controlled (and root) joints.

        They then move only by the commands; the other movable joints are held where they are.
        """
        self._client.setJointMotorControlArray(
            self._body, self._reset_indices, pybullet.VELOCITY_CONTROL,
            forces=[0.0] * len(self._reset_indices))
        for info, position in self._held:
            self._client.setJointMotorControl2(self._body, info[0], pybullet.POSITION_CONTROL,
                                               targetPosition=position, force=max(info[10], 0.0))

    def reset(self, position: Sequence[float], velocity: Sequence[float]) -> None:
        """
        Teleport the ``reset_joint_names`` joints to ``position`` and ``velocity``.

        The uncontrolled ones go to where they were at load, at rest; no command is applied
        after.
        """
        position = self._joint_vector(position, 'position', self.reset_joint_names)
        velocity = self._joint_vector(velocity, 'velocity', self.reset_joint_names)
        for index, q, q_dot in zip(self._reset_indices, position, velocity):
            self._client.resetJointState(self._body, index, q, q_dot)
        for info, q in self._held:
            self._client.resetJointState(self._body, info[0], q, 0.0)
        self._disable_default_motors()
        self._effort = np.zeros(self.num_joints)

    def step(self, command: Sequence[float]) -> None:
        """Hold ``command`` for ``decimation`` physics steps (one control step)."""
        command = self._joint_vector(command, 'command')
        tracking = self.interface is not ControlInterface.EFFORT
        forces = None
        for _ in range(self.decimation):
            # PyBullet clears joint torques after every physics step, so re-apply each substep:
            # a tracking controller's new torques, or an effort command's same ones.
            if tracking or forces is None:
                torque = self._tracking_torque(command) if tracking else command
                self._effort = np.clip(torque, -self.effort_limits, self.effort_limits)
                forces = (self._effort + self._damping_torque).tolist()
            self._set_torques(self._body, self._joint_indices, pybullet.TORQUE_CONTROL,
                              forces=forces)
            self._step_simulation()
        self._steps += 1

    def _tracking_torque(self, target: np.ndarray) -> np.ndarray:
        """Stable PD (position) or velocity-loop torque, plus gravity and Coriolis."""
        client, body, dt = self._client, self._body, self.physics_dt
        states = client.getJointStates(body, self._movable_indices)
        q_all = [state[0] for state in states]
        qd_all = [state[1] for state in states]
        bias = client.calculateInverseDynamics(body, q_all, qd_all, [0.0] * len(q_all))
        bias = np.array(bias)[self._dof]
        mass = np.array(client.calculateMassMatrix(body, q_all))[np.ix_(self._dof, self._dof)]
        q, qd = np.array(q_all)[self._dof], np.array(qd_all)[self._dof]
        damping = self._joint_damping
        if self.interface is ControlInterface.POSITION:
            drive = self.kp * (target - q - qd * dt) - self.kd * qd
        else:  # feeds the joint's viscous friction at the commanded velocity forward
            drive = self.kd * (target - qd) + damping * target
        # The next step's acceleration under this torque and the joints' viscous damping:
        # (M + (kd + damping) dt) qdd = drive - damping qd.
        qdd = np.linalg.solve(mass + np.diag(self.kd + damping) * dt, drive - damping * qd)
        self._damping_torque = -damping * (qd + qdd * dt)
        return bias + drive - self.kd * qdd * dt

    def joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """
        Joint positions, velocities and efforts in ``joint_names`` order.

        The effort is the torque applied in the last physics step (saturated at the effort
        limits); PyBullet reports none for torque control.
        """
        states = self._joint_states(self._body, self._joint_indices)
        position = np.array([state[0] for state in states])
        velocity = np.array([state[1] for state in states])
        return position, velocity, self._effort.copy()

    def base_state(self) -> BaseState | None:
        """Return the floating base's pose and twist (odometry); None: the base is fixed."""
        return None

    def show_goal(self, point: Sequence[float]) -> None:
        """Move a visual-only sphere (no collision, no mass) to ``point`` in the base frame."""
        point = np.asarray(point, dtype=np.float64)
        if point.shape != (3,) or not np.all(np.isfinite(point)):
            raise ValueError(f'goal must be 3 finite values, got {point}')
        point = self._base_position + self._base_rotation @ point
        if self._goal_marker is None:
            visual = self._client.createVisualShape(
                pybullet.GEOM_SPHERE, radius=self.GOAL_MARKER_RADIUS,
                rgbaColor=self.GOAL_MARKER_RGBA)
            self._goal_marker = self._client.createMultiBody(
                baseMass=0.0, baseVisualShapeIndex=visual)
        self._client.resetBasePositionAndOrientation(
            self._goal_marker, point.tolist(), (0.0, 0.0, 0.0, 1.0))

    def shown_goal(self) -> np.ndarray | None:
        """Return where ``show_goal`` put the goal marker, in the world frame; None: nowhere."""
        if self._goal_marker is None:
            return None
        return np.array(self._client.getBasePositionAndOrientation(self._goal_marker)[0])

    def randomize_dynamics(
        self,
        rng: np.random.Generator,
        mass_scale: tuple[float, float] | None = (0.8, 1.2),
        friction: tuple[float, float] | None = (0.5, 1.5),
    ) -> None:
        """
        Scale each link's mass (and inertia) and lateral friction by uniform random factors.

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


class FloatingBaseRobot(BulletRobot):
    """
    A robot whose base moves over a ground plane: a locomotion model from an MJCF file.

    The MJCF locomotion models in ``pybullet_data/mjcf`` (half_cheetah, hopper, walker2d)
    carry their base on a planar root: unactuated slide x, slide z and hinge y joints
    (``root_joints``) between the world and the base link. ``reset`` takes those joints'
    coordinates first, then the controlled joints', as MuJoCo's qpos does; ``base_state`` reads
    the base link's pose and twist, which is what a robot's odometry reports. Self-collision is
    off, as in the models (their geoms have conaffinity 0): limbs touch only the ground.
    """

    GROUND = 'plane.urdf'
    """The ground, from ``pybullet_data``."""

    def __init__(self, *args, odom_link: str, root_joints: Sequence[str], **kwargs):
        """
        Load the model; ``args`` and ``kwargs`` are :class:`BulletRobot`'s.

        ``odom_link`` is the base link whose state ``base_state`` reads.
        """
        self.odom_link = odom_link
        self.root_joints = tuple(root_joints)
        super().__init__(*args, **kwargs)
        if odom_link not in self._link_indices:
            self.close()
            raise ValueError(f'{self.urdf_path.name} has no link named {odom_link!r}; its '
                             f'links are {sorted(self._link_indices)}')
        self._odom_index = self._link_indices[odom_link]

    @property
    def reset_joint_names(self) -> tuple[str, ...]:
        return self.root_joints + self.joint_names

    def _load_model(self) -> int:
        # Contacts are solved pair by pair; unsorted, the pair order depends on memory
        # layout, and two worlds given the same commands drift apart at the first contacts.
        self._client.setPhysicsEngineParameter(deterministicOverlappingPairs=1)
        self._client.loadURDF(str(pybullet_data_path(self.GROUND)))
        bodies = self._client.loadMJCF(str(self.urdf_path))
        if len(bodies) != 1:
            raise ValueError(f'{self.urdf_path.name} holds {len(bodies)} bodies; a robot '
                             'model must hold exactly one')
        return bodies[0]

    def base_state(self) -> BaseState:
        """
        Return the base link's pose in the world (odom) frame and its twist in its own axes.

        The twist is in REP 105's ``base_link`` child frame.
        """
        state = self._client.getLinkState(self._body, self._odom_index, computeLinkVelocity=1,
                                          computeForwardKinematics=1)
        com, frame, orientation = np.array(state[0]), np.array(state[4]), np.array(state[5])
        com_velocity, angular_velocity = np.array(state[6]), np.array(state[7])
        # PyBullet reports the velocity of the link's centre of mass; the frame's origin
        # moves with it plus the rotation's share.
        velocity = com_velocity + np.cross(angular_velocity, frame - com)
        to_world = np.array(self._client.getMatrixFromQuaternion(orientation)).reshape(3, 3)
        return BaseState(frame, orientation, to_world.T @ velocity,
                         to_world.T @ angular_velocity)

"""
Forward kinematics of a serial chain from its URDF, with Pinocchio (no PyBullet).

The actor next to a real robot computes the end-effector position from the same URDF text as
the simulator loads, so the task side and the sim agree by construction (a unit test checks
this against PyBullet's link states). Pinocchio parses the URDF; nothing here reads XML.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pinocchio


class KinematicsError(ValueError):
    """The URDF, links or joints do not form the chain a task asks for."""

    def __init__(self, field: str, message: str):
        super().__init__(f'{field}: {message}')
        self.field = field


@dataclass(frozen=True)
class JointLimits:
    """The URDF ``<limit>`` of each controlled joint (inf where the URDF gives none)."""

    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray


class ChainKinematics:
    """
    End-effector position in the base frame for the joint positions of a serial chain.

    :param urdf_text: the robot's URDF (XML text; meshes are not needed).
    :param base_link, end_effector: link names; ``end_effector`` must lie below ``base_link``
        and no movable joint may sit between the model's root and ``base_link``.
    :param joint_names: the controlled joints, in command order. They must be exactly the
        movable joints of the chain from ``base_link`` to ``end_effector`` (any order);
        movable joints outside the chain (e.g. gripper fingers) are held at zero.
    """

    def __init__(self, urdf_text: str, base_link: str, end_effector: str,
                 joint_names: Sequence[str]):
        try:
            self.model = pinocchio.buildModelFromXML(urdf_text)
        except (RuntimeError, ValueError) as error:
            raise KinematicsError('robot', f'not a URDF Pinocchio can read: {error}') from None
        self.data = self.model.createData()
        self.joint_names = tuple(joint_names)
        model = self.model
        self._base_frame = self._link_frame(base_link, 'base_link')
        self._ee_frame = self._link_frame(end_effector, 'end_effector')
        base_joint = model.frames[self._base_frame].parentJoint
        ee_joint = model.frames[self._ee_frame].parentJoint
        if base_joint != 0:
            raise KinematicsError('base_link', f'{base_link!r} moves with joint '
                                  f'{model.names[base_joint]!r}; it must be fixed to the root')
        chain = [int(j) for j in model.supports[ee_joint] if j != 0]
        chain_names = [model.names[j] for j in chain]
        self._joint_ids = [self._joint_id(name, chain_names, end_effector)
                           for name in self.joint_names]
        uncontrolled = [name for name in chain_names if name not in self.joint_names]
        if uncontrolled:
            raise KinematicsError('joints', f'the chain {base_link} -> {end_effector} also '
                                  f'moves with {uncontrolled}; list every movable joint of '
                                  'the chain')
        self._idx_q = [model.joints[j].idx_q for j in self._joint_ids]
        self._unbounded = [model.joints[j].nq == 2 for j in self._joint_ids]
        self._q = pinocchio.neutral(model)
        # The base is fixed to the root, so its pose is the same in every configuration.
        pinocchio.framesForwardKinematics(model, self.data, self._q)
        self._base_inverse = self.data.oMf[self._base_frame].inverse()

    def _link_frame(self, link: str, field: str) -> int:
        if not self.model.existFrame(link, pinocchio.FrameType.BODY):
            links = sorted(f.name for f in self.model.frames
                           if f.type == pinocchio.FrameType.BODY)
            raise KinematicsError(field, f'the URDF has no link {link!r}; its links are '
                                  f'{links}')
        return self.model.getFrameId(link, pinocchio.FrameType.BODY)

    def _joint_id(self, name: str, chain_names: list[str], end_effector: str) -> int:
        model = self.model
        if not model.existJointName(name):
            if model.existFrame(name, pinocchio.FrameType.FIXED_JOINT):
                raise KinematicsError('joints', f'{name!r} is a fixed joint, not a movable one')
            movable = [model.names[j] for j in range(1, model.njoints)]
            raise KinematicsError('joints', f'the URDF has no joint {name!r}; its movable '
                                  f'joints are {movable}')
        if name not in chain_names:
            raise KinematicsError('joints', f'{name!r} is not in the chain to {end_effector!r} '
                                  f'(the chain has {chain_names})')
        joint_id = model.getJointId(name)
        joint = model.joints[joint_id]
        if joint.nv != 1:
            raise KinematicsError('joints', f'{name!r} is a {joint.shortname()} joint; only '
                                  'revolute, continuous and prismatic joints are supported')
        return joint_id

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def limits(self) -> JointLimits:
        """Return the controlled joints' URDF limits; continuous joints have no position limit."""
        model = self.model
        lower, upper, velocity, effort = [], [], [], []
        for joint_id, unbounded in zip(self._joint_ids, self._unbounded):
            joint = model.joints[joint_id]
            if unbounded:
                lower.append(-np.inf)
                upper.append(np.inf)
            else:
                lower.append(model.lowerPositionLimit[joint.idx_q])
                upper.append(model.upperPositionLimit[joint.idx_q])
            velocity.append(model.velocityLimit[joint.idx_v])
            effort.append(model.effortLimit[joint.idx_v])
        arrays = [np.array(values, dtype=np.float64) for values in
                  (lower, upper, velocity, effort)]
        for values in arrays[2:]:  # Pinocchio's "no limit" for velocity and effort is 0
            values[values <= 0] = np.inf
        return JointLimits(*arrays)

    def _configuration(self, position: np.ndarray) -> np.ndarray:
        position = np.asarray(position, dtype=np.float64)
        if position.shape != (self.num_joints,):
            raise ValueError(f'need {self.num_joints} joint positions {self.joint_names}, '
                             f'got shape {position.shape}')
        q = self._q
        for idx, unbounded, value in zip(self._idx_q, self._unbounded, position):
            if unbounded:  # Pinocchio stores a continuous joint's angle as (cos, sin)
                q[idx], q[idx + 1] = np.cos(value), np.sin(value)
            else:
                q[idx] = value
        return q

    def end_effector_pose(self, position: np.ndarray) -> pinocchio.SE3:
        """Return the end-effector link frame in the base frame."""
        pinocchio.forwardKinematics(self.model, self.data, self._configuration(position))
        ee = pinocchio.updateFramePlacement(self.model, self.data, self._ee_frame)
        return self._base_inverse * ee

    def end_effector_position(self, position: np.ndarray) -> np.ndarray:
        """Return the end-effector link origin (x, y, z) in the base frame, in m."""
        return np.array(self.end_effector_pose(position).translation)

    def base_to_root(self) -> tuple[np.ndarray, np.ndarray]:
        """Position and rotation matrix of the base frame in the model's root frame."""
        base = self._base_inverse.inverse()
        return np.array(base.translation), np.array(base.rotation)

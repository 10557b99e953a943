"""
Pictures of a simulated robot, headless: PyBullet's CPU renderer (``ER_TINY_RENDERER``).

:class:`Camera` frames the robot once, from the pose it is in when made (an episode's start),
so that every pose it can reach stays in view, and follows a floating base.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from t3d_ros.envs.bullet import pybullet
from t3d_ros.envs.robot import BulletRobot

FIELD_OF_VIEW = 45.0
"""Vertical field of view, degrees."""
MARGIN = 1.25
"""Room around the robot's reach, as a factor of its radius."""
ELEVATION = 0.2
"""How far above the plane of a planar robot the camera looks from (rise per unit run)."""
THREE_QUARTER_VIEW = (1.0, -1.0, 0.7)
"""Where the camera is, seen from the robot, when the robot moves in no single plane."""


class Camera:
    """
    A view of ``robot`` at ``width`` x ``height`` pixels.

    Framing: the camera looks at the model's root (a floating base's odometry link, followed
    in x and y) from far enough to see a sphere of the robot's reach: the farthest point of any
    link from the root, in the pose at construction, each link counted over its whole length
    (its centre of mass plus its largest half extent), since joints swing links about. A robot
    that moves in a plane is seen square onto it (:meth:`_view_direction`).
    """

    def __init__(self, robot: BulletRobot, width: int = 480, height: int = 320):
        if width < 16 or height < 16:
            raise ValueError(f'a picture needs at least 16 x 16 pixels, not {width} x {height}')
        self.robot, self.width, self.height = robot, int(width), int(height)
        client, body = robot.client, robot.body_id
        self._root = np.array(client.getBasePositionAndOrientation(body)[0])
        radius = MARGIN * self._reach()
        self._distance = radius / np.sin(np.radians(FIELD_OF_VIEW) / 2)
        self._direction = self._view_direction()
        self._projection = client.computeProjectionMatrixFOV(
            FIELD_OF_VIEW, self.width / self.height, self._distance / 100, self._distance * 3)

    def render(self) -> np.ndarray:
        """Return the robot as it is now: an RGB picture, (height, width, 3) uint8."""
        _, _, pixels, _, _ = self.robot.client.getCameraImage(
            self.width, self.height, self._view(), self._projection,
            renderer=pybullet.ER_TINY_RENDERER)
        return np.asarray(pixels, dtype=np.uint8).reshape(self.height, self.width, 4)[..., :3]

    def project(self, point: Sequence[float]) -> tuple[float, float] | None:
        """Return the pixel (column, row) where the world ``point`` is seen; None: behind."""
        view = np.array(self._view()).reshape(4, 4).T  # PyBullet's matrices are column-major
        projection = np.array(self._projection).reshape(4, 4).T
        clip = projection @ view @ np.append(np.asarray(point, dtype=np.float64), 1.0)
        if clip[3] <= 0:
            return None
        x, y = clip[:2] / clip[3]
        return (x + 1) / 2 * self.width, (1 - y) / 2 * self.height

    def _target(self) -> np.ndarray:
        base = self.robot.base_state()
        if base is None:
            return self._root
        return np.array([base.position[0], base.position[1], self._root[2]])

    def _view(self) -> list[float]:
        target = self._target()
        return self.robot.client.computeViewMatrix(
            (target + self._distance * self._direction).tolist(), target.tolist(), (0, 0, 1))

    def _links(self) -> range:
        return range(-1, self.robot.client.getNumJoints(self.robot.body_id))

    def _reach(self) -> float:
        """Return how far from the root any part of the robot can be (in this pose's sizes)."""
        client, body = self.robot.client, self.robot.body_id
        half_extent = {link: 0.0 for link in self._links()}
        for shape in client.getVisualShapeData(body):
            half_extent[shape[1]] = max(half_extent[shape[1]], _half_extent(shape[2], shape[3]))
        reach = 0.0
        for link in self._links():
            low, high = (np.array(corner) for corner in client.getAABB(body, link))
            corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1])
                                for z in (low[2], high[2])])
            centre = (np.array(client.getBasePositionAndOrientation(body)[0]) if link == -1
                      else np.array(client.getLinkState(body, link)[0]))
            reach = max(reach, np.linalg.norm(corners - self._root, axis=1).max(),
                        np.linalg.norm(centre - self._root) + half_extent[link])
        return reach or 1.0

    def _view_direction(self) -> np.ndarray:
        """
        Return the unit vector from the target to the camera.

        Square onto the plane the controlled joints move in, where they all turn about one axis
        or all slide along one, from a little above, on the side facing -y (the front); else a
        three-quarter view.
        """
        client, body = self.robot.client, self.robot.body_id
        kinds, axes = set(), []
        for joint in range(client.getNumJoints(body)):
            info = client.getJointInfo(body, joint)
            if info[1].decode() in self.robot.joint_names:
                rotation = np.array(client.getMatrixFromQuaternion(
                    client.getLinkState(body, joint)[5])).reshape(3, 3)
                kinds.add(info[2])
                axes.append(rotation @ np.array(info[13]))
        if len(kinds) != 1 or not all(abs(abs(axis @ axes[0]) - 1.0) < 1e-6 for axis in axes):
            direction = np.array(THREE_QUARTER_VIEW)
        else:
            axis = axes[0]
            if kinds == {pybullet.JOINT_PRISMATIC}:  # seen from the side of the line it slides on
                axis = np.cross(axis, (0.0, 0.0, 1.0)) if abs(axis[2]) < 0.9 else np.array(
                    (0.0, -1.0, 0.0))
            axis = axis / np.linalg.norm(axis)
            if abs(axis[2]) > 0.9:  # turning about the vertical: from above, tilted to the front
                direction = np.array([0.0, -ELEVATION, 1.0])
            else:
                direction = (-axis if axis[1] > 0 else axis) + np.array([0.0, 0.0, ELEVATION])
        return direction / np.linalg.norm(direction)


def _half_extent(geometry: int, dimensions: Sequence[float]) -> float:
    """Return the largest distance from its centre to a point of a primitive visual shape."""
    if geometry == pybullet.GEOM_BOX:
        return float(np.linalg.norm(dimensions[:3])) / 2
    if geometry == pybullet.GEOM_SPHERE:
        return float(dimensions[0])
    if geometry in (pybullet.GEOM_CYLINDER, pybullet.GEOM_CAPSULE):
        return float(np.hypot(dimensions[0] / 2, dimensions[1]))
    return 0.0  # a mesh's dimensions are its scale: the collision box counts instead

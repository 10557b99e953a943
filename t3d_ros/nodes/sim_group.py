"""
sim_group: the sims of several robots in one process, each in its own namespace.

    python -m t3d_ros.nodes.sim_group robot_0 robot_1 --ros-args --params-file ...

Each robot is an ordinary :class:`~t3d_ros.nodes.sim_node.SimNode` (its own PyBullet world,
topics, ``reset`` service and seed) named ``<namespace>/sim``; its parameters come from the
params files' sections that match that name, as a lone sim's do. All of them share one
executor, so one process and one DDS participant serve every robot.
"""
from __future__ import annotations

from t3d_ros.nodes.sim_node import SimNode
from t3d_ros.ros.spin import run_group


def main(args=None) -> int:
    return run_group(lambda namespace: SimNode(namespace=namespace), args)


if __name__ == '__main__':
    raise SystemExit(main())

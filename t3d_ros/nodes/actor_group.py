"""
actor_group: the training actors of several robots in one process, each in its namespace.

    python -m t3d_ros.nodes.actor_group robot_0 robot_1 --ros-args --params-file ...

Each robot is an ordinary :class:`~t3d_ros.nodes.actor_node.ActorNode` named
``<namespace>/actor`` with its own topics, seeds and episodes, its parameters from the params
files' sections that match that name. They share one executor, one ``/t3d/policy``
subscription and one copy of the weights, and the robots whose states arrive together are
acted on with one forward pass (:mod:`t3d_ros.nodes.actor_batch`).
"""
from __future__ import annotations

from t3d_ros.nodes.actor_batch import ActorBatch
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.ros.spin import run_group


def main(args=None) -> int:
    batch = ActorBatch()
    return run_group(lambda namespace: ActorNode(batch, namespace=namespace), args)


if __name__ == '__main__':
    raise SystemExit(main())

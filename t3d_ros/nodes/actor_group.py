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

import sys

from t3d_ros.nodes.actor_batch import ActorBatch
from t3d_ros.nodes.actor_node import ActorNode
from t3d_ros.nodes.spin import group_namespaces, run_node


def main(args=None) -> int:
    try:
        namespaces = group_namespaces(args)
    except ValueError as error:
        print(f'[t3d_ros] {error}', file=sys.stderr)
        return 1
    batch = ActorBatch()
    return run_node(lambda: (ActorNode(batch, namespace=namespace) for namespace in namespaces),
                    args)


if __name__ == '__main__':
    raise SystemExit(main())

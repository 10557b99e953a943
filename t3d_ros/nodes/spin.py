"""The thin ``main()`` every node shares: init, spin, clean shutdown on Ctrl-C/SIGTERM."""
from __future__ import annotations

import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def run_node(make_node: Callable[[], Node], args=None) -> int:
    """Spin the node until shutdown; ``node.close()`` (if defined) runs before destruction.

    A node that cannot start (bad parameters, a policy that does not match) logs why and the
    process exits with status 1, so launch and the `t3d-ros` command report it.
    """
    rclpy.init(args=args)
    node = None
    status = 0
    try:
        node = make_node()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except ValueError as error:  # configuration errors: say what is wrong, no traceback
        print(f'[t3d_ros] {error}', file=sys.stderr)
        status = 1
    finally:
        if node is not None:
            close = getattr(node, 'close', None)
            if close is not None:
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return status

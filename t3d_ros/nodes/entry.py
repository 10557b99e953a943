"""
The node executables, with a prompt, clean stop.

``sim_node``, ``actor_node``, ``learner_node``, ``sim_group`` and ``actor_group``.

This module imports nothing heavy on purpose. It makes the stop signals (SIGINT, SIGTERM,
SIGHUP: :mod:`t3d_ros.ros.stop_signals`) end the process cleanly (status 0, no traceback) while
the node module is still importing torch or PyBullet, which takes seconds on a loaded machine;
from ``run_node`` on, the node's own handlers take over (stop the spin, ``close()``: safe
command, final checkpoint). A node started by ``t3d-ros`` or by a launch file with
``end_with_launch`` gets SIGTERM when that process dies, however it dies
(:mod:`t3d_ros.nodes.parent_death`). Once the node has stopped,
the process ends at once: tearing down an interpreter with torch loaded takes 2-4 s on a
loaded 2-core machine, which alone would break ``ros2 launch``'s 5 s between SIGINT and
SIGTERM. Nothing is lost by skipping that teardown: by then every file is written and closed
and the ROS context is shut down.

``python -m t3d_ros.nodes.entry <executable> [--ros-args ...]`` is what ``t3d-ros`` runs.
"""
from __future__ import annotations

import ctypes
import importlib
import os
import sys
from typing import NoReturn

from t3d_ros.nodes.parent_death import ParentGone, end_with_parent
from t3d_ros.ros.stop_signals import on_stop_signals

EXECUTABLES = ('sim_node', 'actor_node', 'learner_node', 'sim_group', 'actor_group')


def _exit_while_starting(signum, frame) -> NoReturn:
    """
    Return the stop handler until ``run_node`` installs the node's own.

    Nothing exists yet that would need closing or saving (no DDS participant, no file), so end at
    once. (Raising in the middle of an import instead would leave half-imported modules to the code
    that goes on importing, and some libraries catch what their imports raise.)
    """
    exit_now(0)


def run(executable: str) -> NoReturn:
    """
    Import and run ``t3d_ros.nodes.<executable>``'s ``main()``; exit with its status.

    Status 1 without starting where the process it was to end with is gone already.
    """
    if executable not in EXECUTABLES:
        raise SystemExit(f'unknown node executable {executable!r}: one of {EXECUTABLES}')
    on_stop_signals(_exit_while_starting)  # before the death signal is asked for: it is one
    try:
        end_with_parent()
    except (ParentGone, ValueError) as error:
        print(f'[t3d_ros] not starting {executable}: {error}', file=sys.stderr)
        exit_now(1)
    exit_now(importlib.import_module(f't3d_ros.nodes.{executable}').main())


def exit_now(status: int) -> NoReturn:
    """
    Flush the standard streams and end the process without interpreter teardown.

    Python's and C's streams: rcutils logs through C stdio.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, RuntimeError):  # closed, or interrupted mid-write
            pass
    ctypes.CDLL(None).fflush(None)
    os._exit(status)


def sim_node() -> NoReturn:
    run('sim_node')


def actor_node() -> NoReturn:
    run('actor_node')


def learner_node() -> NoReturn:
    run('learner_node')


def sim_group() -> NoReturn:
    run('sim_group')


def actor_group() -> NoReturn:
    run('actor_group')


if __name__ == '__main__':
    if len(sys.argv) < 2:
        raise SystemExit(f'usage: python -m t3d_ros.nodes.entry {{{",".join(EXECUTABLES)}}} '
                         '[--ros-args ...]')
    node = sys.argv.pop(1)  # rclpy reads the rest (--ros-args ...) from sys.argv
    run(node)

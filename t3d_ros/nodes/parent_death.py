"""
A node process ends when the process that started it dies, however it dies.

``t3d-ros`` (:class:`~t3d_ros.graph.supervisor.ProcessGroup`) and the launch files (argument
``end_with_launch``) put their own pid in the node's environment under :data:`PARENT_PID_ENV`.
The node's entry (:mod:`t3d_ros.nodes.entry`) then asks Linux for SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG)``): the stop a node already handles, so an actor sends its safe
command and a learner saves, even after a SIGKILL of the parent, which can do nothing itself.

The kernel ties the signal to the thread that forked the node, so the parent must start its
nodes from a thread that lives as long as they should (the main thread does). The request is
made in the child, after the fork: a parent that died before it is caught by comparing
``getppid()`` with the pid recorded before the fork. This module imports nothing heavy, as the
entry must not.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import MutableMapping

PARENT_PID_ENV = 'T3D_ROS_PARENT_PID'
"""The environment variable naming the process whose death ends the node."""

PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""

DEATH_SIGNAL = signal.SIGTERM


class ParentGone(RuntimeError):
    """The process the node was to end with is not its parent: it died before the node started."""


def parent_environment() -> dict[str, str]:
    """Return the environment entry that makes nodes started by this process end with it."""
    return {PARENT_PID_ENV: str(os.getpid())}


def end_with_parent(environ: MutableMapping[str, str] = os.environ) -> int | None:
    """
    Have the kernel send :data:`DEATH_SIGNAL` to this process when its parent dies.

    Only where ``environ`` names a parent (:data:`PARENT_PID_ENV`, removed there so that the
    node's own children do not inherit it); returns that pid, else None. ParentGone if this
    process's parent is not that one any more (or never was, e.g. a launch prefix in between);
    ValueError for a value that is not a pid. Outside Linux, says once that the node will
    outlive its parent and goes on.
    """
    value = environ.pop(PARENT_PID_ENV, None)
    if value is None:
        return None
    try:
        parent = int(value)
    except ValueError:
        raise ValueError(f'{PARENT_PID_ENV}={value!r} is not a process id') from None
    if not sys.platform.startswith('linux'):
        print(f'[t3d_ros] {PARENT_PID_ENV}: no parent-death signal on {sys.platform}; this '
              f'node outlives process {parent} if it dies', file=sys.stderr)
        return parent
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f'prctl(PR_SET_PDEATHSIG): {os.strerror(error)}')
    if os.getppid() != parent:
        raise ParentGone(f'this node was to end with process {parent}, which is not its parent '
                         f'({os.getppid()}): it died before the node started, or a launch '
                         'prefix stands between them')
    return parent

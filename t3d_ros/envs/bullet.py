"""
PyBullet without its banner: ``pybullet build time: ...`` and ``argv[0]=`` lines.

PyBullet's C code prints them when it is imported and when a client connects, once per sim
process, where they bury the log lines a user reads. ``quiet_output`` sends the process's
stdout and stderr (file descriptors 1 and 2, where C code writes) to /dev/null meanwhile.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import sys


@contextlib.contextmanager
def quiet_output():
    """Silence stdout and stderr at the file-descriptor level (C code included) inside."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    sys.stderr.flush()
    libc.fflush(None)  # what C code buffered before the block still goes out
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no stdout or stderr at all: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        libc.fflush(None)  # C's buffered banner goes to /dev/null, not to the restored fds
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


with quiet_output():
    import pybullet  # noqa: E402  (its import prints the banner)
    from pybullet_utils.bullet_client import BulletClient  # noqa: E402


def connect_direct() -> BulletClient:
    """Connect quietly to a new private physics server in DIRECT mode (no GUI)."""
    with quiet_output():
        return BulletClient(connection_mode=pybullet.DIRECT)


__all__ = ['BulletClient', 'connect_direct', 'pybullet', 'quiet_output']

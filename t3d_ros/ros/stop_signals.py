"""
The signals that stop a node process cleanly.

SIGINT (Ctrl-C; the first stop of ``t3d-ros`` and of launch), SIGTERM (their second; the
parent-death signal; systemd, docker stop) and SIGHUP (a closed terminal: under ``ros2 launch``
the nodes share its process group, so they get the hang-up too). A node takes SIGINT and SIGTERM
even where they were ignored (a background job ignores SIGINT, and the supervisor stops its
nodes with it), but leaves an ignored SIGHUP ignored: ``nohup`` asks for exactly that. Imports
nothing heavy (the nodes' entry uses it).
"""
from __future__ import annotations

import signal
from typing import Callable


def stop_signals() -> tuple[signal.Signals, ...]:
    """Return the signals that stop this node process (SIGHUP unless it is ignored)."""
    hangup = () if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN else (signal.SIGHUP,)
    return (signal.SIGINT, signal.SIGTERM, *hangup)


def on_stop_signals(handler: Callable) -> None:
    """Make ``handler`` (a Python signal handler) the handler of every stop signal."""
    for signum in stop_signals():
        signal.signal(signum, handler)

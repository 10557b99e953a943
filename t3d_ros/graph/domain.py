"""
A private ROS 2 domain for a test session or a benchmark, so two on one host never meet.

ROS documents domain IDs 0-101 as safe on Linux (higher ones collide with ephemeral ports).
Domain 0 is everyone's default, so private domains come from 1-101. A domain is claimed with
an exclusive ``flock`` on a file in the temp directory, held until the process exits, so two
sessions on one host never pick the same one. A domain the user set is never overridden.
"""
from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

PRIVATE_DOMAINS = range(1, 102)
_ENV = ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_STATIC_PEERS')
_held: dict[int, IO] = {}


def claim_domain(lock_dir: str | os.PathLike | None = None) -> int:
    """
    Return a domain in PRIVATE_DOMAINS that no other process on this host holds.

    This process holds it until it exits. RuntimeError when all are taken.
    """
    if _held:
        return next(iter(_held))
    directory = Path(lock_dir or tempfile.gettempdir())
    start = os.getpid() % len(PRIVATE_DOMAINS)
    for offset in range(len(PRIVATE_DOMAINS)):
        domain = PRIVATE_DOMAINS[(start + offset) % len(PRIVATE_DOMAINS)]
        lock = open(directory / f't3d_ros-domain-{domain}.lock', 'a')
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        if not _held:
            atexit.register(_release)
        _held[domain] = lock
        return domain
    raise RuntimeError(f'every ROS domain in {PRIVATE_DOMAINS} is held by another process')


def _release() -> None:
    for lock in _held.values():
        lock.close()
    _held.clear()


def isolate() -> str:
    """
    Claim a private domain, unless ROS_DOMAIN_ID is set; return the domain.

    The domain comes with localhost-only discovery and no static peers, for this process and every
    process it starts.
    """
    if os.environ.get('ROS_DOMAIN_ID'):
        return os.environ['ROS_DOMAIN_ID']
    os.environ['ROS_DOMAIN_ID'] = str(claim_domain())
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ.pop('ROS_STATIC_PEERS', None)
    return os.environ['ROS_DOMAIN_ID']


@contextlib.contextmanager
def private_domain() -> Iterator[str]:
    """:func:`isolate` for the duration of a ``with`` block, the environment restored after."""
    saved = {name: os.environ.get(name) for name in _ENV}
    try:
        yield isolate()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

"""Crash-safe writes: a reader sees the old file or the new one, never half of one."""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


_TEMPORARY = re.compile(r'\..+\.[0-9a-f]{32}\.tmp')
"""The names ``write_atomic`` gives its temporary files."""


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename or a new entry in directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write`` on a temporary file beside ``path``, fsync it, rename it over ``path``."""
    path = Path(path)
    tmp = path.with_name(f'.{path.name}.{uuid.uuid4().hex}.tmp')  # see _TEMPORARY
    try:
        with open(tmp, 'xb') as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    write_atomic(path, lambda file: file.write(data))


def remove_temporary_files(directory: str | os.PathLike) -> list[Path]:
    """
    Delete the temporary files a crashed ``write_atomic`` left in ``directory``; returns them.

    Call it only where no write into ``directory`` is under way.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = [entry for entry in directory.iterdir()
               if entry.is_file() and _TEMPORARY.fullmatch(entry.name)]
    for entry in removed:
        entry.unlink(missing_ok=True)
    return removed

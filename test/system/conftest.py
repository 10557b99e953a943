"""Fixtures of the system tests: the `t3d-ros` command in a subprocess (cli_process.py)."""
import pytest

from cli_process import Cli


@pytest.fixture
def cli():
    """Return a maker of :class:`Cli`; every command and node it started is killed at the end."""
    started = []

    def make() -> Cli:
        started.append(Cli())
        return started[-1]
    yield make
    for c in started:
        c.kill_all()

"""
The random streams of a run, each named, all derived from one seed.

A stream is the generator of ``SeedSequence(seed, spawn_key=(stream,))``: independent of the
other streams, and of how much any of them was drawn. The sim and the actor of one robot share
the robot's seed and each draws its own streams, so the sim node and the actor node together
reproduce the gymnasium env of the same seed, which draws the same streams in one process.

The learner's generators (network initialisation, target-policy noise, replay sampling) are
torch's and numpy's, seeded with the learner's seed itself.
"""
from __future__ import annotations

import enum

import numpy as np


class SeedStream(enum.IntEnum):
    """The spawn key of each stream. Never renumber: a seed would give other episodes."""

    INITIAL_STATES = 0
    """The sim: each episode's initial joint positions and velocities."""
    GOALS = 1
    """The actor: each episode's goal (tasks that have one)."""
    EXPLORATION = 2
    """The actor: the uniform random ``start_steps`` actions and the exploration noise."""
    SIM_NOISE = 3
    """The sim: observation noise and the per-episode dynamics randomisation."""


EVAL_SEED_OFFSET = 1_000_003
"""Evaluation episodes use seed + this offset, so they never replay training episodes."""


def stream_rng(seed: int, stream: SeedStream) -> np.random.Generator:
    """Return the generator of ``stream`` under ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(stream),)))


def episode_rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """
    Return the generators of initial states and of goals under ``seed``.

    The gymnasium env draws both; over ROS the sim node draws initial states and the actor
    draws goals, so the two paths see the same episodes for the same seed.
    """
    return stream_rng(seed, SeedStream.INITIAL_STATES), stream_rng(seed, SeedStream.GOALS)


def robot_seed(seed: int, index: int) -> int:
    """
    Seed of robot ``index`` of a run seeded ``seed``, as a 32-bit int.

    Child ``index`` of ``SeedSequence(seed)``, as ``SeedSequence(seed).spawn(n)[index]``:
    deterministic, independent of how many robots there are, and statistically independent of
    the other robots' seeds and of ``seed`` itself (the learner's). The robot's sim and actor
    draw their streams from it.
    """
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1)[0])


def evaluation_seed(seed: int) -> int:
    """Return the seed of the evaluation episodes of a run seeded ``seed``."""
    return seed + EVAL_SEED_OFFSET

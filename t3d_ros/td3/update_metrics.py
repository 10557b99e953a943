"""What one TD3 update reports, reduced and copied from the device only when looked at."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch

METRICS = ('critic_loss', 'q1_mean', 'q2_mean', 'target_q_mean', 'actor_loss')
"""What ``TD3.update`` reports (``actor_loss`` on delayed updates only)."""


class UpdateMetrics(Mapping):
    """
    The losses and Q means of one update, as floats, computed when first looked at.

    The update leaves its per-sample values in one tensor, a row each (rows of any shape with B
    elements): Q1(s, a), Q2(s, a), the target, and on delayed updates Q1(s, actor(s)). The
    losses and means are made of them when read: updates that nobody reads cost no reduction and
    no device-to-host copy (no sync on a GPU).
    """

    def __init__(self, values: torch.Tensor):
        self._values = values
        self._names = METRICS[:len(values) + 1]
        self._floats: dict[str, float] | None = None

    def _read(self) -> dict[str, float]:
        if self._floats is None:
            per_sample = self._values.flatten(1)
            squared_errors = (per_sample[:2] - per_sample[2]).square()
            mse_1, mse_2, *means = torch.cat([squared_errors, per_sample]).mean(1).tolist()
            floats = [mse_1 + mse_2, *means[:3], *(-q for q in means[3:])]
            self._floats = dict(zip(self._names, floats))
        return self._floats

    def __getitem__(self, name: str) -> float:
        return self._read()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f'UpdateMetrics({self._read()})'

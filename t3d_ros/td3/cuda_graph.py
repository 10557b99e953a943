"""
The TD3 update replayed as CUDA graphs: its few hundred small kernels launched as one.

At these network sizes a GPU update is bound by kernel launches, not arithmetic; a CUDA graph
records the launches of one update once and replays them with one call. A graph replays fixed
kernels on fixed memory, so

- the batch and the noise are copied into static tensors before each replay, and the
  metrics out of the graph's static output after it (all on the device, no host sync);
- there is one graph for critic-only updates and one for delayed (actor + target) updates;
- the first ``warmup`` updates of each kind run eagerly (on a side stream, as CUDA graph
  capture wants): they create the optimiser state and let cuBLAS choose its kernels;
- ``reset`` drops the graphs when the tensors they point at are replaced (a state dict load
  gives the optimisers new state tensors); the next updates warm up and capture again.

Everything in the update that changes is updated in place (parameters, Adam moments and step
counts on the device), which is what lets a replay continue where the last one stopped.
"""
from __future__ import annotations

from typing import Callable

import torch

from .replay import Batch

Step = Callable[[Batch, torch.Tensor, bool], torch.Tensor]


class CudaGraphs:
    """
    How graphs are made on a CUDA device.

    Warm-up on a side stream, capture into one memory pool shared by the graphs.
    """

    def __init__(self):
        self.stream = torch.cuda.Stream()
        self.pool = None

    def warm_up(self, call: Callable[[], torch.Tensor]) -> torch.Tensor:
        self.stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self.stream):
            result = call()
        torch.cuda.current_stream().wait_stream(self.stream)
        return result

    def capture(self, call: Callable[[], None]) -> Callable[[], None]:
        """Record ``call``'s kernels (recording does not run them); return the replay."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            call()
        self.pool = graph.pool()
        return graph.replay


class CapturedUpdate:
    """``step(batch, noise, delayed)`` (``FastUpdate.step``) run through captured graphs."""

    def __init__(self, step: Step, graphs, warmup: int = 3):
        self.step, self.graphs, self.warmup = step, graphs, warmup
        self.reset()

    def reset(self) -> None:
        self.replays: dict[bool, Callable[[], None]] = {}
        self.eager_calls = {False: 0, True: 0}
        self._inputs: tuple[Batch, torch.Tensor] | None = None
        self._outputs: dict[bool, torch.Tensor] = {}

    def run(self, batch: Batch, noise: torch.Tensor, delayed: bool) -> torch.Tensor:
        """One update; the metrics tensor (a copy: the next replay overwrites the graph's)."""
        if delayed not in self.replays and self.eager_calls[delayed] < self.warmup:
            self.eager_calls[delayed] += 1
            return self.graphs.warm_up(lambda: self.step(batch, noise, delayed))
        if self._inputs is None:
            self._inputs = (Batch(*(torch.empty_like(field) for field in batch)),
                            torch.empty_like(noise))
        static_batch, static_noise = self._inputs
        for static, field in zip(static_batch, batch, strict=True):
            static.copy_(field)
        static_noise.copy_(noise)
        if delayed not in self.replays:
            def record() -> None:
                self._outputs[delayed] = self.step(static_batch, static_noise, delayed)
            self.replays[delayed] = self.graphs.capture(record)
        self.replays[delayed]()
        return self._outputs[delayed].clone()

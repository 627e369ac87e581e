"""What one engine reports for one workload run: times in seconds and the numbers to check."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

# Times are CPU seconds of the calling thread, not wall-clock seconds: this 2-core machine is
# shared, and wall time swings with other jobs' load, while CPU time counts only the work
# done. Every engine works on the calling thread (torch runs CPU autograd there too).
clock = time.thread_time
# CPU seconds of every thread of the process: for engines that compute on threads of their own
# (XLA's), where the calling thread only waits.
cpu_clock = time.process_time


@dataclass
class ChainRun:
    """One chain y = y·a + b of n steps: times, y_n and dy_n/dy_0."""

    forward: float
    backward: float
    value: float
    grad: float


PARTS = ("forward", "backward", "update", "release")  # the timed parts of a training step


@dataclass
class StepRun:
    """One moons training step: times, the loss and every parameter's gradient before the update.

    `release` is the time to drop the step's graph (or tape), as a training loop does before the
    next step; reference counting frees ours and torch's there, micrograd's cycles wait for
    the collector, whose passes land in later allocations.
    """

    forward: float
    backward: float
    update: float
    release: float
    loss: float
    grads: list[float] = field(repr=False)


class Trainer(Protocol):
    """An engine's model on the moons data, ready to take SGD steps."""

    def step(self) -> StepRun:
        """Forward, backward, update and dropping the graph, each timed."""
        ...

    def graph(self) -> tuple[Any, int]:
        """The forward graph (kept alive by the caller) and its number of nodes (0: no nodes)."""
        ...


class Engine(Protocol):
    """The workloads as one engine runs them."""

    name: str

    def version(self) -> str:
        """The version of the package under test."""
        ...

    def chain(self, n: int) -> ChainRun:
        """Build y = y·a + b n times from a leaf x, then backpropagate dy/dx."""
        ...

    def trainer(self, moons: Any) -> Trainer:
        """The MLP with the shared initial weights on the shared data."""
        ...

    def binary_nodes(self, out: list[Any]) -> Any:
        """Fill `out` with products a·b of two leaves (or return an array of them)."""
        ...

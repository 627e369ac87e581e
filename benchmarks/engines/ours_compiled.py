"""autograd_core.compile: each workload traced once (untimed, measured by the `compile` task),
then replayed; one call does forward and backward, so its whole time is reported as forward."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_core
from autograd_core import Value, compile
from autograd_core.compile import Program

from ..data import CHAIN_A, CHAIN_B, LR, Moons
from ..runs import ChainRun, StepRun, clock
from .ours import Ours, PausedTrainer


def chain_function(n: int) -> Callable[[Value], Value]:
    """The shared chain y = y·a + b, n times, as a function to compile."""
    def chain(x: Value) -> Value:
        y = x
        for _ in range(n):
            y = y * CHAIN_A + CHAIN_B
        return y
    return chain


class OursCompiled:
    """The eager engine's graphs, compiled once and replayed as programs."""

    name = "ours-compiled"
    backend = "numpy"
    reassociate = False  # compile(..., reassociate=True): a layer's sums as matrix products
    clock = staticmethod(clock)  # the calling thread's CPU time (numpy runs on it)
    # Chains whose program's memory is measured (tracemalloc: what it holds, and its peak).
    measured: tuple[int, ...] = (10**4, 10**6)

    def __init__(self) -> None:
        self._chains: dict[int, Program] = {}

    def version(self) -> str:
        """The package version."""
        return autograd_core.__version__

    def program(self, n: int) -> Program:
        """The chain of n steps, compiled and run once (a process compiles it once)."""
        if n not in self._chains:
            self._chains[n] = compile(chain_function(n), 1.0, backend=self.backend)
            self._chains[n](1.0)
        return self._chains[n]

    def chain(self, n: int) -> ChainRun:
        """One replay of the compiled chain: value and dy/dx in one call."""
        program = self.program(n)
        t0 = self.clock()
        y, (g,) = program(1.0)
        t1 = self.clock()
        return ChainRun(t1 - t0, 0.0, y, g)

    def trainer(self, moons: Moons) -> CompiledTrainer:
        """The shared MLP's loss, compiled with the weights as its arguments."""
        return CompiledTrainer(moons, self.backend, self.clock, self.reassociate)

    def binary_nodes(self, out: list[Any]) -> None:
        """Products a·b of two leaves: tracing builds the eager engine's nodes."""
        Ours().binary_nodes(out)

    def compile_costs(self, points: int, sizes: tuple[int, ...]) -> dict[str, Any]:
        """Seconds to compile (trace, build, first replay) the moons loss and each chain; for
        the `measured` chains also the bytes the program holds per op node, and the peak
        while compiling it (tracemalloc, in a second, untimed compile)."""
        from ..data import moons
        t0 = self.clock()
        CompiledTrainer(moons(points), self.backend, self.clock, self.reassociate).step()
        t1 = self.clock()
        chains, held, peak = {}, {}, {}
        for n in sizes:
            t2 = self.clock()
            compile(chain_function(n), 1.0, backend=self.backend)(1.0)
            chains[str(n)] = self.clock() - t2
        for n in (n for n in self.measured if n in sizes):
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            program = compile(chain_function(n), 1.0, backend=self.backend)
            program(1.0)
            now, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            held[str(n)], peak[str(n)] = (now - before) / (2 * n), (top - before) / (2 * n)
            del program
        return {"moons": t1 - t0, "chains": chains, "held": held, "peak": peak}


class CompiledTrainer:
    """The shared MLP step: the loss of the eager engine's graph, compiled once with every
    weight as an argument; a step is one replay (loss and gradient) and a numpy SGD update."""

    def __init__(self, moons: Moons, backend: str = "numpy",
                 timer: Callable[[], float] = clock, reassociate: bool = False) -> None:
        self.backend = backend
        self.reassociate = reassociate
        self.clock = timer
        self.eager = PausedTrainer(Ours(), moons)  # the same graph as `ours` builds
        self.theta = np.array([p.data for p in self.eager.params])
        self.program = self.compiled()

    def compiled(self) -> Program:
        """The loss compiled, with every weight as an argument, and replayed once."""
        program = compile(lambda *params: self.eager.loss(), *self.eager.params,
                          backend=self.backend, reassociate=self.reassociate)
        program(*self.theta.tolist())
        return program

    def step(self) -> StepRun:
        """Replay (forward and backward in one call), then the update."""
        t0 = self.clock()
        loss, grads = self.program(*self.theta.tolist())
        t1 = self.clock()
        self.theta -= LR * np.array(grads)
        t2 = self.clock()
        return StepRun(t1 - t0, 0.0, t2 - t1, 0.0, loss, list(grads))

    def graph(self) -> tuple[Any, int]:
        """A program compiled afresh (what a compiled step keeps) and its graph's node count."""
        program = self.compiled()
        return program, program.traces[0].tape.n_slots


ENGINE = OursCompiled()

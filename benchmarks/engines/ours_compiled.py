"""autograd_core.compile: each workload traced once (untimed, measured by the `compile` task),
then replayed; one call does forward and backward, so its whole time is reported as forward."""

from __future__ import annotations

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

    def __init__(self) -> None:
        self._chains: dict[int, Program] = {}

    def version(self) -> str:
        """The package version."""
        return autograd_core.__version__

    def program(self, n: int) -> Program:
        """The chain of n steps, compiled and run once (a process compiles it once)."""
        if n not in self._chains:
            self._chains[n] = compile(chain_function(n), 1.0)
            self._chains[n](1.0)
        return self._chains[n]

    def chain(self, n: int) -> ChainRun:
        """One replay of the compiled chain: value and dy/dx in one call."""
        program = self.program(n)
        t0 = clock()
        y, (g,) = program(1.0)
        t1 = clock()
        return ChainRun(t1 - t0, 0.0, y, g)

    def trainer(self, moons: Moons) -> CompiledTrainer:
        """The shared MLP's loss, compiled with the weights as its arguments."""
        return CompiledTrainer(moons)

    def binary_nodes(self, out: list[Any]) -> None:
        """Products a·b of two leaves: tracing builds the eager engine's nodes."""
        Ours().binary_nodes(out)

    def compile_costs(self, points: int, sizes: tuple[int, ...]) -> dict[str, Any]:
        """Seconds to compile (trace, build, first replay) the moons loss and each chain."""
        from ..data import moons
        t0 = clock()
        CompiledTrainer(moons(points)).step()
        t1 = clock()
        chains = {}
        for n in sizes:
            t2 = clock()
            compile(chain_function(n), 1.0)(1.0)
            chains[str(n)] = clock() - t2
        return {"moons": t1 - t0, "chains": chains}


class CompiledTrainer:
    """The shared MLP step: the loss of the eager engine's graph, compiled once with every
    weight as an argument; a step is one replay (loss and gradient) and a numpy SGD update."""

    def __init__(self, moons: Moons) -> None:
        self.eager = PausedTrainer(Ours(), moons)  # the same graph as `ours` builds
        self.theta = np.array([p.data for p in self.eager.params])
        self.program = self.compiled()

    def compiled(self) -> Program:
        """The loss compiled, with every weight as an argument, and replayed once."""
        program = compile(lambda *params: self.eager.loss(), *self.eager.params)
        program(*self.theta.tolist())
        return program

    def step(self) -> StepRun:
        """Replay (forward and backward in one call), then the update."""
        t0 = clock()
        loss, grads = self.program(*self.theta.tolist())
        t1 = clock()
        self.theta -= LR * np.array(grads)
        t2 = clock()
        return StepRun(t1 - t0, 0.0, t2 - t1, 0.0, loss, list(grads))

    def graph(self) -> tuple[Any, int]:
        """A program compiled afresh (what a compiled step keeps) and its graph's node count."""
        program = self.compiled()
        return program, program.traces[0].tape.n_slots


ENGINE = OursCompiled()

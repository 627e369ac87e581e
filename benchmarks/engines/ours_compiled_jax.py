"""autograd_core.compile(..., backend="jax"): the traces `ours-compiled` replays, lowered to
jax.numpy and jax.jit-ed (float64, CPU). The moons step only: XLA compiles one step per level
of a graph, and a chain of 1,000 levels takes minutes to compile, so chains are not run."""

from __future__ import annotations

from typing import Any

import jax  # noqa: F401 — the worker reports this engine skipped when JAX is missing

from ..runs import ChainRun, cpu_clock
from .ours_compiled import OursCompiled

jax.config.update("jax_cpu_enable_async_dispatch", False)  # as the `jax` engine: no threads


class OursCompiledJax(OursCompiled):
    """The eager engine's graphs, compiled once to XLA programs and replayed."""

    name = "ours-compiled-jax"
    backend = "jax"
    measured = ()
    # XLA may compute on threads of its own: timed in CPU time of the whole process, as `jax`
    clock = staticmethod(cpu_clock)

    def version(self) -> str:
        """The package version and the JAX it runs on."""
        return f"{super().version()} on jax {jax.__version__}"

    def chain(self, n: int) -> ChainRun:
        """Not run: a chain has a level per node, and XLA compiles a program per level."""
        raise NotImplementedError("XLA compiles one step per level: a long chain is not "
                                  "this backend's workload")

    def compile_costs(self, points: int, sizes: tuple[int, ...]) -> dict[str, Any]:
        """Seconds to compile the moons loss (tracing, lowering, XLA's compile, first call)."""
        return super().compile_costs(points, ())


ENGINE = OursCompiledJax()

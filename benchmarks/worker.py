"""One engine, one workload, in a fresh process: `python -m benchmarks.worker ENGINE TASK SIZE`.

Prints one JSON object: the runs' times and the numbers the runner checks across engines, or
{"skipped": why} when the engine's package is not installed, or {"error": what} when it fails.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from .data import moons
from .runs import PARTS, Engine

ENGINES = {  # name → module under benchmarks.engines
    "ours": "ours",  # steps and chains inside collector_paused(), as nn.fit and value_and_grad
    "ours-plain": "ours_plain",  # the same in a bare loop, the collector running
    "ours-compiled": "ours_compiled",  # traced once with autograd_core.compile, then replayed
    "ours-compiled-jax": "ours_compiled_jax",  # the same traces on compile's jax backend
    # the moons traces with reassociate=True: a layer's sums as matrix products (BLAS, a dot)
    "ours-compiled-reassociate": "ours_compiled_reassociate",
    "ours-compiled-jax-reassociate": "ours_compiled_jax_reassociate",
    "micrograd": "micrograd",
    "torch": "torch_scalar",
    "floats": "floats",
    "numpy": "numpy_vectorised",
    "torch-vectorised": "torch_vectorised",  # whole float64 tensors, torch's autograd
    "jax": "jax_jit",  # the hand-written step in one jax.jit, float64
    "ours@base": "ours_base",  # `ours` at an earlier commit (run --base COMMIT)
    "ours-plain@base": "ours_base_plain",  # `ours-plain` at that commit
}


def repeated(run: Callable[[], Any], repeat: int, budget: float, collect: bool = True
             ) -> list[Any]:
    """Up to `repeat` runs, stopping early once `budget` seconds are spent (at least one run).

    With `collect`, a full collection before each run, untimed, so that independent runs do
    not pay for each other's garbage. The harness leaves the cyclic GC on; an engine that
    pauses it (`ours`) does so inside its own runs, as its library does.
    """
    results: list[Any] = []
    start = time.perf_counter()
    gc.collect()
    while len(results) < repeat and (not results or time.perf_counter() - start < budget):
        if collect:
            gc.collect()
        results.append(run())
    return results


def chain(engine: Engine, n: int, repeat: int, budget: float) -> dict[str, Any]:
    """Forward and backward times of the chain; y_n and dy_n/dy_0 from the first run."""
    if n <= 10_000:
        engine.chain(n)  # warm-up: first-call costs are not per-node costs
    runs = repeated(lambda: engine.chain(n), repeat, budget)
    return {"forward": [r.forward for r in runs], "backward": [r.backward for r in runs],
            "value": runs[0].value, "grad": runs[0].grad}


def moons_step(engine: Engine, points: int, repeat: int, budget: float) -> dict[str, Any]:
    """One checked step from the initial weights, then timed steps (the weights move on).

    The steps run back to back, as in a training loop, with no forced collection between
    them: each step drops its graph (timed as `release`), and whatever the collector still has
    to do for it (micrograd's graphs are cycles) lands in the following steps' allocations.
    """
    trainer = engine.trainer(moons(points))
    first = trainer.step()
    runs = repeated(trainer.step, repeat, budget, collect=False)
    return {"loss": first.loss, "grads": first.grads,
            **{part: [asdict(r)[part] for r in runs] for part in PARTS}}


def rss_kib(field: str = "VmRSS") -> int:
    """This process's resident set (VmRSS) or its peak since the last reset (VmHWM), in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def traced_bytes(make: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes that tracemalloc sees allocated and still held after make(); and make()'s result."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = make()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, kept


def memory(engine: Engine, nodes: int, points: int) -> dict[str, Any]:
    """Bytes per a·b node (tracemalloc, and RSS for what it cannot see) and for the moons graph."""
    rss_out: list[Any] = [None] * nodes  # allocated before measuring: not part of a node
    gc.collect()
    rss0 = rss_kib()
    rss_kept = engine.binary_nodes(rss_out)
    rss_bytes = (rss_kib() - rss0) * 1024
    del rss_kept, rss_out
    out: list[Any] = [None] * nodes
    traced, _ = traced_bytes(lambda: engine.binary_nodes(out))
    trainer = engine.trainer(moons(points))
    graph_bytes, (_, count) = traced_bytes(trainer.graph)
    return {"binary_traced": traced / nodes, "binary_rss": rss_bytes / nodes,
            "graph_traced": graph_bytes, "graph_nodes": count}


def peak(engine: Engine, n: int) -> dict[str, Any]:
    """Peak resident memory added by building and backpropagating an n-step chain."""
    gc.collect()
    try:  # Linux: reset VmHWM so the peak is this run's, not the imports'
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = rss_kib()
    engine.chain(n)
    return {"peak_bytes": (rss_kib("VmHWM") - base) * 1024,
            "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main(argv: list[str] | None = None) -> None:
    """Run one task and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("task", choices=("chain", "moons", "memory", "peak", "compile"))
    parser.add_argument("size", type=int, help="chain steps, or moons points")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds before stopping")
    parser.add_argument("--points", type=int, default=100, help="moons points for memory")
    parser.add_argument("--sizes", default="1000", help="chain sizes to compile, comma-separated")
    args = parser.parse_args(argv)
    try:
        module = importlib.import_module(f"benchmarks.engines.{ENGINES[args.engine]}")
    except ImportError as err:
        package = (err.name or str(err)).split(".")[0]
        print(json.dumps({"skipped": f"{package} is not installed (`make bench` installs it)"}))
        return
    engine: Engine = module.ENGINE
    result: dict[str, Any] = {"version": engine.version()}
    try:
        if args.task == "chain":
            result.update(chain(engine, args.size, args.repeat, args.budget))
        elif args.task == "moons":
            result.update(moons_step(engine, args.size, args.repeat, args.budget))
        elif args.task == "compile":  # engines that compile: what compiling costs
            sizes = tuple(int(n) for n in args.sizes.split(",") if n)
            result.update(engine.compile_costs(args.size, sizes))  # type: ignore[attr-defined]
        elif args.task == "memory":
            result.update(memory(engine, args.size, args.points))
        else:
            result.update(peak(engine, args.size))
    except (RecursionError, MemoryError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
    except NotImplementedError as err:  # a workload the engine is not meant for
        result["not_run"] = str(err)
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

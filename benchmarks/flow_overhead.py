"""What recording gradient flow costs: micrograd's moons demo trained by `fit` with flow off
and on, in alternating rounds, in one process; prints the CPU time per step and the overhead,
and the recorder's own time per step (which round-to-round noise cannot hide).

`python -m benchmarks.flow_overhead [--rounds 5] [--steps 100]`
"""

from __future__ import annotations

import argparse
import statistics
import time

from autograd_core.nn import MLP, SGD, fit, linear_schedule
from autograd_core.nn.flow import FlowRecorder
from autograd_core.nn.recipes import RECIPES, SEED


def train_seconds(flow: bool, steps: int) -> float:
    """CPU seconds of one fit of the moons recipe (the machine is shared: wall time swings)."""
    recipe = RECIPES["moons"]
    X, y = recipe.data(SEED)
    model = MLP(2, list(recipe.sizes), seed=SEED)
    optimizer = SGD(model.parameters(), lr=linear_schedule(1.0, 0.1, steps))
    start = time.process_time()
    fit(model, recipe.objective, (X, 2 * y - 1), optimizer, steps=steps, progress=False,
        flow=flow)
    return time.process_time() - start


def recorder_seconds(repeat: int = 200) -> float:
    """CPU seconds per step of the recorder alone (before_step and after_step) on the moons MLP."""
    recipe = RECIPES["moons"]
    X, _ = recipe.data(SEED)
    recorder = FlowRecorder(MLP(2, list(recipe.sizes), seed=SEED))
    start = time.process_time()
    for _ in range(repeat):
        recorder.before_step(X)
        recorder.after_step()
    return (time.process_time() - start) / repeat


def main() -> None:
    """Alternate flow off / on for `rounds` rounds; the overhead is the median of the rounds'."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    overheads, off, on = [], [], []
    for k in range(args.rounds):
        # Alternating order within a round, so that a slow spell does not favour one side.
        first, second = (False, True) if k % 2 == 0 else (True, False)
        times = {first: train_seconds(first, args.steps), second: train_seconds(second, args.steps)}
        off.append(times[False])
        on.append(times[True])
        overheads.append(times[True] / times[False] - 1.0)
        print(f"round {k}: flow off {times[False] / args.steps * 1e3:.1f} ms/step, "
              f"on {times[True] / args.steps * 1e3:.1f} ms/step, "
              f"overhead {overheads[-1]:+.1%}")
    print(f"median over {args.rounds} rounds of {args.steps} steps: flow off "
          f"{statistics.median(off) / args.steps * 1e3:.1f} ms/step, on "
          f"{statistics.median(on) / args.steps * 1e3:.1f} ms/step, overhead "
          f"{statistics.median(overheads):+.1%}")
    alone = recorder_seconds()
    print(f"the recorder alone: {alone * 1e3:.2f} ms/step, "
          f"{alone / (statistics.median(off) / args.steps):.1%} of a step without it")


if __name__ == "__main__":
    main()

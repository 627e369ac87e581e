"""micrograd's demo: MLP(2, [16, 16, 1]) learns two moons with an SVM hinge loss and plain SGD.

`python -m nn.demo --out out` trains it, prints the result and writes the decision boundary,
the loss curve and the model into the output folder.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from .data import make_moons
from .layers import MLP
from .losses import hinge
from .optim import SGD, linear_schedule
from .plot import plot_decision_boundary, plot_loss
from .train import History, fit, objective

SEED = 1337  # micrograd's demo seeds both of its generators with 1337


@dataclass
class MoonsResult:
    """A finished moons run: the model, its history, the files written and the time taken."""

    model: MLP
    history: History
    files: list[Path]
    seconds_per_step: float


def train_moons(out: str | Path | None = "out", steps: int = 100, n: int = 100,
                noise: float = 0.1, seed: int = SEED, progress: bool = True,
                resolution: int = 60) -> MoonsResult:
    """Hinge loss + 1e-4·Σθ² on two moons, SGD with lr 1.0 → 0.1 over `steps` (micrograd's
    1.0 − 0.9·k/100); writes moons_boundary.png (a resolution² grid), moons_loss.png and
    moons_model.json to `out` (nothing if out is None)."""
    X, y = make_moons(n, noise=noise, seed=seed)
    y = 2 * y - 1  # the hinge loss wants labels ±1
    model = MLP(2, [16, 16, 1], seed=seed)
    optimizer = SGD(model.parameters(), lr=linear_schedule(1.0, 0.1, steps))
    start = time.perf_counter()
    history = fit(model, objective(hinge, alpha=1e-4), (X, y), optimizer, steps=steps,
                  progress=progress)
    seconds = (time.perf_counter() - start) / max(len(history.loss), 1)
    files = []
    if out is not None:
        boundary, curve = Path(out) / "moons_boundary.png", Path(out) / "moons_loss.png"
        plot_decision_boundary(model, X, y, boundary, resolution=resolution)
        plot_loss(history, curve)
        files = [boundary, curve, model.save(Path(out) / "moons_model.json")]
    return MoonsResult(model, history, files, seconds)


def main(argv: list[str] | None = None) -> MoonsResult:
    """Command line: train on the moons and print loss, accuracy and where the files went."""
    parser = argparse.ArgumentParser(prog="python -m nn.demo", description=__doc__)
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    result = train_moons(args.out, steps=args.steps, seed=args.seed,
                         progress=not args.no_progress)
    h = result.history
    perfect = h.first_step_reaching(1.0)
    print(f"{result.model!r}: {result.model.num_parameters()} parameters")
    print(f"last step {len(h.loss) - 1}: loss {h.loss[-1]:.4f}, accuracy {h.accuracy[-1]:.0%}")
    print(f"after training: loss {h.final_loss:.4f}, accuracy {h.final_accuracy:.0%}")
    print(f"first 100% training accuracy at step {perfect}")
    print(f"{result.seconds_per_step:.3f} s per training step")
    for path in result.files:
        print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()

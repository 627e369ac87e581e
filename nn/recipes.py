"""Training recipes for the 2-D datasets, starting with micrograd's demo: MLP(2, [16, 16, 1])
learns two moons with an SVM hinge loss and plain SGD.

`autograd-core train NAME` runs a recipe, prints the result and writes the decision boundary,
the loss curve and the model into the output folder (with --flow, also the gradient flow per
layer and a picture of the network).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd_core.examples import SEED
from autograd_core.export import image_bytes
from autograd_core.files import check_folder, check_target, write_files

from .data import make_circles, make_moons, make_spiral, make_xor
from .flow import has_gradients
from .layers import MLP
from .losses import cross_entropy, hinge_loss
from .network import draw_network
from .optim import SGD, linear_schedule
from .plot import plot_decision_boundary, plot_gradient_flow, plot_loss, png_bytes
from .train import History, LossFn, fit, objective


@dataclass(frozen=True)
class Recipe:
    """How to learn one 2-D dataset: the data (from a seed), the hidden and output sizes, and
    the objective; binary sets use labels ±1 and the hinge loss, as micrograd does."""

    data: Callable[[int], tuple[np.ndarray, np.ndarray]]
    sizes: tuple[int, ...]
    objective: LossFn
    binary: bool = True


RECIPES = {
    "moons": Recipe(lambda seed: make_moons(100, noise=0.1, seed=seed), (16, 16, 1),
                    objective(hinge_loss, alpha=1e-4)),
    "xor": Recipe(lambda seed: make_xor(40, noise=0.1, seed=seed), (8, 8, 1),
                  objective(hinge_loss, alpha=1e-4)),
    "circles": Recipe(lambda seed: make_circles(100, noise=0.05, seed=seed), (16, 16, 1),
                      objective(hinge_loss, alpha=1e-4)),
    "spiral": Recipe(lambda seed: make_spiral(40, classes=3, noise=0.1, seed=seed), (16, 16, 3),
                     objective(cross_entropy, alpha=1e-4), binary=False),
}
"""The datasets `train` knows, by name."""


@dataclass
class TrainResult:
    """A finished run: the model, its history, the files written and the time taken."""

    model: MLP
    history: History
    files: list[Path]
    seconds_per_step: float


def train(name: str, out: str | Path | None = "out", steps: int = 100, seed: int = SEED,
          progress: bool = True, resolution: int = 60, flow: bool = False,
          compile: bool = False) -> TrainResult:
    """Train recipe `name` with SGD, lr 1.0 → 0.1 over `steps` (micrograd's 1.0 − 0.9·k/100);
    writes NAME_boundary.png (a resolution² grid), NAME_loss.png and NAME_model.json to `out`
    (nothing if out is None); flow=True records gradient flow and adds NAME_flow.png and
    NAME_network.svg (the trained network on the training data); compile=True replays the
    loss as a compiled program (fit(..., compile=True)): the same steps, without the nodes.

    `out` and the files are checked before training starts. They are written as one set
    (autograd_core.files.write_files): all from this run, or none replaced.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(RECIPES)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    targets = output_files(name, out, flow)
    recipe = RECIPES[name]
    X, y = recipe.data(seed)
    if recipe.binary:
        y = 2 * y - 1  # the hinge loss wants labels ±1
    model = MLP(2, list(recipe.sizes), seed=seed)
    optimizer = SGD(model.parameters(), lr=linear_schedule(1.0, 0.1, steps))
    start = time.perf_counter()
    history = fit(model, recipe.objective, (X, y), optimizer, steps=steps, progress=progress,
                  flow=flow, compile=compile)
    seconds = (time.perf_counter() - start) / max(len(history.loss), 1)
    files: list[Path] = []
    if targets:
        # Everything is made in memory first, so a failure here replaces no file.
        boundary, curve, checkpoint, *flow_files = targets
        contents = {boundary: png_bytes(plot_decision_boundary(
                        model, X, y, resolution=resolution, dataset=name)),
                    curve: png_bytes(plot_loss(history, dataset=name)),
                    checkpoint: model.dumps()}
        if flow_files:
            flow_plot, network = flow_files
            contents[flow_plot] = png_bytes(plot_gradient_flow(history))
            # The last step's gradients; a run whose every grad ended at 0 shows its weights.
            show = "grad" if has_gradients(model) else "weight"
            contents[network] = image_bytes(draw_network(model, X, show=show), ".svg")
        files = write_files(contents, make_folders=True)
    return TrainResult(model, history, files, seconds)


def output_files(name: str, out: str | Path | None, flow: bool = False) -> list[Path]:
    """The files `train(name, out, flow=flow)` writes (none if out is None), checked: out is a
    folder or can be made one, we can write in it, and no file there is a folder or a device."""
    if out is None:
        return []
    folder = check_folder(out)
    kinds = ["boundary.png", "loss.png", "model.json"] + ["flow.png", "network.svg"] * flow
    return [check_target(folder / f"{name}_{kind}") for kind in kinds]


def train_moons(out: str | Path | None = "out", steps: int = 100, seed: int = SEED,
                progress: bool = True, resolution: int = 60) -> TrainResult:
    """micrograd's demo: hinge loss + 1e-4·Σθ² on 100 two-moons points (noise 0.1)."""
    return train("moons", out, steps=steps, seed=seed, progress=progress, resolution=resolution)


def report(name: str, result: TrainResult) -> None:
    """Print what a run reached: loss, accuracy, the first perfect step, time, files."""
    h = result.history
    print(f"{name}: {result.model!r}, {result.model.num_parameters()} parameters")
    print(f"last step {len(h.loss) - 1}: loss {h.loss[-1]:.4f}, accuracy {h.accuracy[-1]:.0%}")
    print(f"after training: loss {h.final_loss:.4f}, accuracy {h.final_accuracy:.0%}")
    print(_first_perfect_step(h))
    print(f"{result.seconds_per_step:.3f} s per training step")
    for path in result.files:
        print(f"wrote {path}")


def _first_perfect_step(h: History) -> str:
    step = h.first_step_reaching(1.0)
    if step is not None:
        return f"first 100% training accuracy at step {step}"
    scores = [acc for acc in h.accuracy if acc is not None]
    if not scores:
        return "no training accuracy recorded"
    return f"training accuracy never reached 100% (best {max(scores):.0%})"

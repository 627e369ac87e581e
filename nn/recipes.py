"""Training recipes for the 2-D datasets, starting with micrograd's demo: MLP(2, [16, 16, 1])
learns two moons with an SVM hinge loss and plain SGD.

`autograd-core train NAME` runs a recipe, prints the result and writes the decision boundary,
the loss curve and the model into the output folder (with --flow, also the gradient flow per
layer and a picture of the network; with --scrubber, a page to scrub through training). The
activation, hidden sizes, learning rate, optimizer and loss can be changed, for the lessons
that compare them.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd_core.examples import SEED
from autograd_core.export import image_bytes
from autograd_core.files import check_folder, check_target, write_files

from .data import make_circles, make_moons, make_spiral, make_xor
from .flow import has_gradients
from .layers import ACTIVATIONS, MLP
from .losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
    multiclass_hinge_loss,
)
from .network import draw_network
from .optim import SGD, Adam, Optimizer, Schedule, linear_schedule
from .plot import plot_decision_boundary, plot_gradient_flow, plot_loss, png_bytes
from .scrubber import scrubber_page
from .train import History, LossFn, fit, objective


@dataclass(frozen=True)
class Recipe:
    """How to learn one 2-D dataset: the data (from a seed), the hidden and output sizes, and
    the objective; binary sets use labels ±1 and the hinge loss, as micrograd does."""

    data: Callable[[int], tuple[np.ndarray, np.ndarray]]
    sizes: tuple[int, ...]
    objective: LossFn
    binary: bool = True
    loss: str = "hinge"  # its objective's name in LOSSES


@dataclass(frozen=True)
class Loss:
    """A loss `train` can use: the function, whether it is for two classes (one score) or
    several (one score per class), and for two classes whether it wants labels ±1 or 0/1."""

    function: Callable[..., Any]
    binary: bool
    signed: bool = True


LOSSES = {
    "hinge": Loss(hinge_loss, binary=True),
    "logistic": Loss(binary_cross_entropy_with_logits, binary=True, signed=False),
    "mse": Loss(mse_loss, binary=True),
    "cross_entropy": Loss(cross_entropy, binary=False),
    "multiclass_hinge": Loss(multiclass_hinge_loss, binary=False),
}
"""The losses `train --loss` offers: hinge, logistic (BCE on the score) and MSE on ±1 for two
classes; cross-entropy and the multiclass hinge for several."""


def _sgd(params: list[Any], lr: Schedule) -> Optimizer:
    return SGD(params, lr=lr)


def _momentum(params: list[Any], lr: Schedule) -> Optimizer:
    return SGD(params, lr=lr, momentum=0.9)


def _adam(params: list[Any], lr: Schedule) -> Optimizer:
    return Adam(params, lr=lr)


OPTIMIZERS: dict[str, tuple[Callable[[list[Any], Schedule], Optimizer], float]] = {
    "sgd": (_sgd, 1.0),
    "momentum": (_momentum, 0.1),
    "adam": (_adam, 0.05),
}
"""The optimizers `train --optimizer` offers, each with its default starting learning rate:
SGD (micrograd's 1.0), SGD with momentum 0.9, Adam; every rate decays linearly to a tenth."""


RECIPES = {
    "moons": Recipe(lambda seed: make_moons(100, noise=0.1, seed=seed), (16, 16, 1),
                    objective(hinge_loss, alpha=1e-4)),
    "xor": Recipe(lambda seed: make_xor(40, noise=0.1, seed=seed), (8, 8, 1),
                  objective(hinge_loss, alpha=1e-4)),
    "circles": Recipe(lambda seed: make_circles(100, noise=0.05, seed=seed), (16, 16, 1),
                      objective(hinge_loss, alpha=1e-4)),
    "spiral": Recipe(lambda seed: make_spiral(40, classes=3, noise=0.1, seed=seed), (16, 16, 3),
                     objective(cross_entropy, alpha=1e-4), binary=False, loss="cross_entropy"),
}
"""The datasets `train` knows, by name."""


@dataclass
class TrainResult:
    """A finished run: the model, its history, the files written and the time taken."""

    model: MLP
    history: History
    files: list[Path]
    seconds_per_step: float
    network_step: int | None = None  # the step NAME_network.svg draws (with flow)


def train(name: str, out: str | Path | None = "out", steps: int = 100, seed: int = SEED,
          progress: bool = True, resolution: int = 60, flow: bool = False,
          compile: bool = False, *, activation: str = "relu",
          hidden: Sequence[int] | None = None, lr: float | None = None,
          optimizer: str = "sgd", loss: str | None = None,
          scrubber: str | Path | None = None, flow_step: int | None = None) -> TrainResult:
    """Train recipe `name`: an MLP with `hidden` sizes (the recipe's, 16,16 for moons) and
    `activation`, by `optimizer` (sgd, momentum, adam) from learning rate `lr` (the
    optimizer's default: 1.0 for sgd, micrograd's 1.0 − 0.9·k/100) decaying linearly to a
    tenth over `steps`, on `loss` (the recipe's: hinge for two classes, cross_entropy for
    several) + 1e-4·Σθ².

    Writes NAME_boundary.png (a resolution² grid), NAME_loss.png and NAME_model.json to `out`
    (nothing if out is None); flow=True records gradient flow and adds NAME_flow.png and
    NAME_network.svg: the network on the training data at step `flow_step` (default: the step
    whose weight gradients were largest, as the gradient-flow plot shows them; the last step
    has mostly the L2 term's left), with its weights and the grads of that step's loss, the
    step named in the picture's title and in `TrainResult.network_step`; scrubber=PATH records the
    flow and every step's parameters and writes the training scrubber page there
    (nn.scrubber); compile=True replays the loss as a compiled program (fit(...,
    compile=True)): the same steps, without the nodes.

    Every argument, `out`, the scrubber and the files are checked before training starts.
    They are written as one set (autograd_core.files.write_files): all from this run, or none
    replaced.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(RECIPES)}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    recipe = RECIPES[name]
    chosen = _choose(name, recipe, activation, hidden, lr, optimizer, loss)
    sizes, loss_name, rate = chosen
    flow = flow or scrubber is not None
    if flow_step is not None and (not isinstance(flow_step, int) or isinstance(flow_step, bool)
                                  or not 0 <= flow_step < steps):
        raise ValueError(f"flow_step (--flow-step) must be a step of the run, an integer in "
                         f"[0, {steps}), got {flow_step!r}")
    if flow_step is not None and not flow:
        raise ValueError("flow_step (--flow-step) chooses the step NAME_network.svg draws: it "
                         "needs flow=True (--flow)")
    targets = output_files(name, out, flow)
    page = _scrubber_target(scrubber)
    X, y = recipe.data(seed)
    if recipe.binary and LOSSES[loss_name].signed:
        y = 2 * y - 1  # the hinge loss (and MSE on ±1) wants labels ±1
    model = MLP(2, list(sizes), activation=activation, seed=seed)
    make, _ = OPTIMIZERS[optimizer]
    opt = make(model.parameters(), linear_schedule(rate, rate / 10, steps))
    fn = recipe.objective if loss_name == recipe.loss else objective(
        LOSSES[loss_name].function, alpha=1e-4)
    start = time.perf_counter()
    history = fit(model, fn, (X, y), opt, steps=steps, progress=progress,
                  flow=flow, compile=compile, record=1 if page is not None or flow else 0)
    seconds = (time.perf_counter() - start) / max(len(history.loss), 1)
    files: list[Path] = []
    contents: dict[Path, bytes] = {}
    network_step = None
    if flow:
        network_step = flow_step if flow_step is not None else max(
            range(len(history.flow)), key=lambda k: sum(f.grad_max for f in history.flow[k]))
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
            assert network_step is not None  # flow is on
            at = _model_at(model, history, network_step, fn, (X, y))
            # A step whose every grad is 0 (all units dead) shows its weights instead.
            show = "grad" if has_gradients(at) else "weight"
            title = (f"step {network_step}"
                     f"{'' if flow_step is not None else ' (its weight gradients the largest)'}")
            contents[network] = image_bytes(draw_network(at, X, show=show, title=title), ".svg")
    if page is not None:
        contents[page] = scrubber_page(history, model, (X, y),
                                       title=f"{name}: training {model!r}")
    if contents:
        files = write_files(contents, make_folders=True)
    return TrainResult(model, history, files, seconds, network_step)


def _model_at(model: MLP, history: History, step: int, fn: Any, data: tuple[Any, Any]) -> MLP:
    """A copy of the model with the weights it had at `step` and the grads of that step's loss
    (the full batch: the recipes train on all of it)."""
    at = copy.deepcopy(model)
    weights = dict(history.snapshots)[step]
    for p, w in zip(at.parameters(), weights, strict=True):
        p.data = w
    at.zero_grad()
    loss, _ = fn(at, *data)
    loss.backward()
    return at


def _choose(name: str, recipe: Recipe, activation: str, hidden: Sequence[int] | None,
            lr: float | None, optimizer: str, loss: str | None
            ) -> tuple[tuple[int, ...], str, float]:
    """The hidden and output sizes, the loss's name and the starting learning rate, each
    checked, with a message naming the argument and the choices."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(OPTIMIZERS)}")
    loss = recipe.loss if loss is None else loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if LOSSES[loss].binary != recipe.binary:
        fits = [k for k, v in LOSSES.items() if v.binary == recipe.binary]
        kind = "two classes (one score)" if recipe.binary else "several classes"
        raise ValueError(f"the {loss} loss does not fit {name}, which has {kind}; choose one "
                         f"of {', '.join(fits)}")
    sizes = tuple(recipe.sizes[:-1] if hidden is None else hidden)
    if not sizes or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                            for n in sizes):
        raise ValueError(f"hidden sizes must be one or more positive whole numbers, got "
                         f"{hidden!r}")
    rate = OPTIMIZERS[optimizer][1] if lr is None else lr
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (
            math.isfinite(rate) and rate > 0):
        raise ValueError(f"the learning rate must be a positive number, got {lr!r}")
    return sizes + recipe.sizes[-1:], loss, float(rate)


def _scrubber_target(path: str | Path | None) -> Path | None:
    """The scrubber page's path, checked before training: an .html file we can write."""
    if path is None:
        return None
    target = check_target(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the scrubber is an HTML page: give a path ending in .html, got "
                         f"{str(path)!r}")
    if target.parent.exists():
        check_folder(target.parent)
    return target


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
    if result.network_step is not None:
        print(f"the network picture shows step {result.network_step}")
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

"""Plots with matplotlib: the loss curve of a training run, a 2-D classifier's decision
boundary and each layer's gradient flow during training, saved to PNG atomically.

Figures are made with matplotlib's object API and the Agg canvas, never pyplot: no window, no
display needed, and the caller's pyplot backend is left alone.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograd_core import Value, compile, no_grad
from autograd_core.files import write_atomic

from .module import Module
from .train import History


def _figure(figsize: tuple[float, float] = (6, 4.5)) -> Figure:
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as a PNG image, in memory (to write several files as one set)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _save(fig: Figure, path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        write_atomic(path, png_bytes(fig), make_folders=True)


def plot_loss(history: History, path: str | os.PathLike[str] | None = None, *,
              dataset: str | None = None) -> Figure:
    """Training loss per step (and accuracy, if recorded, on a second axis), titled by the
    dataset if named; saved if path."""
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(history.loss, color="tab:blue", label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    if history.loss and min(history.loss) > 0:
        ax.set_yscale("log")  # losses shrink by orders of magnitude; a log axis shows all of it
    accs = [np.nan if a is None else a for a in history.accuracy]
    if any(a is not None for a in history.accuracy):
        twin = ax.twinx()
        twin.plot(accs, color="tab:orange", label="accuracy")
        twin.set_ylabel("accuracy", color="tab:orange")
        twin.set_ylim(0, 1.05)
    ax.set_title(f"training on {dataset}: loss per step" if dataset else "training loss per step")
    fig.tight_layout()
    _save(fig, path)
    return fig


# One colour per class, each distinct from the others and from a white background (the middle
# class of a diverging map is grey, and vanishes into it).
CLASS_COLORS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04",
                "#4b5563")


def _grid_scores(model: Module, grid: np.ndarray) -> np.ndarray:
    """The model's scores at every grid point, one row each: its graph traced once and
    replayed over the whole grid as a batch (autograd_core.compile); point by point if the
    model cannot be traced."""
    def scores_of(a: Value, b: Value) -> tuple[Value, list[Value]]:
        out = model([a, b])
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        return outs[0], outs

    try:
        program = compile(scores_of, *grid[0], has_aux=True)
        (_, columns), _ = program(grid[:, 0], grid[:, 1])
    except (TypeError, ValueError):
        with no_grad():  # thousands of forward passes: no graph needed
            return np.array([_scores(model(p)) for p in grid])
    return np.column_stack(columns)


def plot_decision_boundary(model: Module, X: np.ndarray, y: np.ndarray,
                           path: str | os.PathLike[str] | None = None, resolution: int = 60,
                           threshold: float = 0.0, *, dataset: str | None = None) -> Figure:
    """The class model(x) predicts over a grid around the 2-D points X, with X coloured by its
    class y (one score: class 1 where score > threshold, labels ±1 or 0/1; several: argmax).

    The regions are contours of the scores, interpolated between grid points, so the boundary
    is smooth at a coarse grid; a class legend, axis labels, and the dataset in the title."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points (shape (n, 2)), got {X.shape}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution!r}")
    (x0, y0), (x1, y1) = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    xs, ys = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    was_training = model.training
    model.eval()
    try:
        scores = _grid_scores(model, grid)
    finally:
        model.train(was_training)
    # Each class's margin: how far its score is above the best other one (one score: above
    # the threshold, or below it for class 0). A class's region is where its margin is > 0.
    if scores.shape[1] == 1:
        s = scores[:, 0] - threshold
        margins = np.column_stack([-s, s])
        point_class = (y > 0).astype(int) if y.min() < 0 else y.astype(int)
    else:
        best_other = np.array([np.max(np.delete(row, c)) for row in scores
                               for c in range(len(row))]).reshape(scores.shape)
        margins = scores - best_other
        point_class = y.astype(int)
    fig = _figure()
    ax = fig.add_subplot()
    for c in range(margins.shape[1]):
        colour = CLASS_COLORS[c % len(CLASS_COLORS)]
        margin = margins[:, c].reshape(xs.shape)
        if (margin > 0).any():
            ax.contourf(xs, ys, margin, levels=[0.0, np.inf], colors=[colour], alpha=0.22)
            ax.contour(xs, ys, margin, levels=[0.0], colors=[colour], linewidths=1.0)
    for c, label in enumerate(_class_names(y, margins.shape[1])):
        chosen = point_class == c
        ax.scatter(X[chosen, 0], X[chosen, 1], s=25, color=CLASS_COLORS[c % len(CLASS_COLORS)],
                   edgecolors="k", linewidths=0.5, label=label)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x₀ (first input)")
    ax.set_ylabel("x₁ (second input)")
    ax.legend(loc="best", fontsize="small", framealpha=0.9, title="class")
    # The model on a line of its own, smaller: an MLP's description is as wide as the plot.
    what = f"{dataset}: decision boundary" if dataset else "decision boundary"
    ax.set_title(f"{what}\n{model!r}", fontsize="medium")
    fig.tight_layout()
    _save(fig, path)
    return fig


def _scores(output: Any) -> list[float]:
    """A model's output as a list of numbers: one score, or one per class."""
    items = output if isinstance(output, (list, tuple)) else [output]
    return [item.data if isinstance(item, Value) else float(item) for item in items]


def _class_names(y: np.ndarray, n: int) -> list[str]:
    """What each class is called in the legend: its label as given (−1 and 1, or 0, 1, 2)."""
    if n == 2 and y.size and y.min() < 0:  # one score, labels ±1 (the hinge loss's)
        return ["−1", "+1"]
    return [str(c) for c in range(n)]


# The panels of plot_gradient_flow: (LayerFlow field, title, log scale).
_FLOW_PANELS = (
    ("grad_mean", "mean |∂L/∂w|", True),
    ("grad_max", "max |∂L/∂w|", True),
    ("update_ratio", "update ratio ‖Δw‖ / ‖w‖", True),
    ("dead", "fraction dead (solid), saturated (dashed)", False),
)


def plot_gradient_flow(history: History, path: str | os.PathLike[str] | None = None
                       ) -> Figure:
    """Each layer's gradient flow per step from fit(..., flow=True): mean and max |∂L/∂w| and
    ‖Δw‖/‖w‖ on log axes, the fractions of dead and saturated units; saved if path."""
    if not history.flow:
        raise ValueError("this history has no gradient-flow statistics: train with "
                         "fit(..., flow=True)")
    fig = _figure((10, 7))
    axes = fig.subplots(2, 2, sharex=True).ravel()
    colors = [f"C{k % 10}" for k in range(len(history.flow[0]))]
    for ax, (name, title, log) in zip(axes, _FLOW_PANELS):
        series = np.array([[getattr(layer, name) for layer in step] for step in history.flow])
        for k, color in enumerate(colors):
            ax.plot(series[:, k], color=color, label=f"layer {k + 1}")
        if name == "dead":
            saturated = np.array([[layer.saturated for layer in step] for step in history.flow])
            for k, color in enumerate(colors):
                ax.plot(saturated[:, k], color=color, linestyle="--")
            ax.set_ylim(-0.05, 1.05)
        if log and (series > 0).any():
            ax.set_yscale("log")  # gradients span orders of magnitude; zeros are left out
        ax.set_title(title)
    axes[2].axhline(1e-3, color="grey", linestyle=":", linewidth=1, label="10⁻³, a rule of thumb")
    axes[0].legend(fontsize="small")
    axes[2].legend(handles=axes[2].lines[-1:], fontsize="small")
    for ax in axes[2:]:
        ax.set_xlabel("step")
    fig.tight_layout()
    _save(fig, path)
    return fig

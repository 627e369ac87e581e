"""Plots with matplotlib: the loss curve of a training run, a 2-D classifier's decision
boundary and each layer's gradient flow during training, saved to PNG atomically.

Figures are made with matplotlib's object API and the Agg canvas, never pyplot: no window, no
display needed, and the caller's pyplot backend is left alone.
"""

from __future__ import annotations

import io
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograd_core import no_grad
from autograd_core.files import write_atomic

from .module import Module
from .train import History, predict


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


def plot_loss(history: History, path: str | os.PathLike[str] | None = None) -> Figure:
    """Training loss per step (and accuracy, if recorded, on a second axis); saved if path."""
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
    ax.set_title("training")
    fig.tight_layout()
    _save(fig, path)
    return fig


def plot_decision_boundary(model: Module, X: np.ndarray, y: np.ndarray,
                           path: str | os.PathLike[str] | None = None, resolution: int = 60,
                           threshold: float = 0.0) -> Figure:
    """The class model(x) predicts over a grid around the 2-D points X, with X coloured by y."""
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
        with no_grad():  # thousands of forward passes: no graph needed
            classes = np.array([predict(model(p), threshold) for p in grid])
    finally:
        model.train(was_training)
    fig = _figure()
    ax = fig.add_subplot()
    # One filled band per class: levels halfway between the class numbers.
    levels = np.arange(max(classes.max(), y.max()) + 2) - 0.5
    ax.contourf(xs, ys, classes.reshape(xs.shape), levels=levels, alpha=0.35, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=25, cmap="coolwarm", edgecolors="k", linewidths=0.5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"decision boundary of {model!r}")
    fig.tight_layout()
    _save(fig, path)
    return fig


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

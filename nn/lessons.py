"""The lectures' pictures of what a network computes: a 1-D fit as a linear spline with each
ReLU's kink, any function of two inputs as contours or a surface, the data as a hidden layer
sees it, and a loss landscape (Li et al. 2018) with optimizers' paths drawn on it.

Each picture has a function that computes its numbers (tested) and one that draws them. Models
are evaluated on many points at once by replaying one traced graph (autograd_core.compile);
where a function cannot be traced, point by point under no_grad.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from autograd_core import Value, compile, no_grad

from .data import RandomSeed, _random_state
from .flow import forward_layers
from .layers import MLP, Layer, Neuron
from .losses import l2_regularization
from .module import Module
from .optim import Optimizer
from .plot import CLASS_COLORS, _figure, _save
from .train import LossFn, Objective, fit

Path = str | os.PathLike[str] | None
Limits = tuple[float, float]


# --- evaluating a function of Values on many points ---------------------------------------------

def _outputs(result: Any) -> list[Any]:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _number(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def evaluate_many(f: Callable[..., Any], columns: Sequence[np.ndarray]) -> np.ndarray:
    """f(column₀[i], column₁[i], …) for every row i, as an (n, k) array: one column per output
    of f (a Value, a number, or a list of them). Traced once and replayed as a batch; point by
    point under no_grad where f cannot be traced."""
    columns = [np.asarray(c, dtype=float).ravel() for c in columns]
    n = len(columns[0])

    def traced(*args: Value) -> tuple[Value, list[Any]]:
        outs = _outputs(f(*args))
        head = outs[0] if isinstance(outs[0], Value) else Value(float(outs[0]))
        return head, outs

    def eager(i: int) -> list[float]:
        return [_number(o) for o in _outputs(f(*(Value(float(c[i])) for c in columns)))]

    try:
        program = compile(traced, *[float(c[0]) for c in columns], has_aux=True)
        (_, outs), _ = program(*columns)
        values = np.column_stack([np.broadcast_to(np.asarray(o, dtype=float), (n,))
                                  for o in outs])
    except (TypeError, ValueError):
        values = None
    with no_grad():  # many forward passes: no graph needed
        # A function that reads .data escapes the trace and would replay as a constant: the
        # last row, eagerly, must agree, or every row is computed eagerly.
        if values is not None and np.allclose(values[-1], eager(n - 1), rtol=1e-9, atol=1e-12,
                                              equal_nan=True):
            return values
        return np.array([eager(i) for i in range(n)])


def model_inputs(model: Module) -> int | None:
    """How many inputs a model reads (an nn.Neuron, nn.Layer or nn.MLP; None if it cannot say)."""
    if isinstance(model, (Neuron, Layer)):
        return model.nin
    if isinstance(model, MLP):
        return model.layers[0].nin
    nin = getattr(model, "nin", None)
    return nin if isinstance(nin, int) else None


def _check_fits(model: Module, n: int, who: str) -> None:
    nin = model_inputs(model)
    if nin is not None and nin != n:
        raise ValueError(f"{who} needs a model with {n} input{'s' * (n != 1)}, but {model!r} "
                         f"takes {nin}")


def _check_resolution(resolution: Any) -> int:
    if not isinstance(resolution, int) or isinstance(resolution, bool) or resolution < 2:
        raise ValueError(f"resolution must be an int ≥ 2, got {resolution!r}")
    return resolution


def _check_limits(name: str, limits: Any) -> Limits:
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {limits!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high, got {limits!r}")
    return low, high


# --- a 1-D model as a linear spline ----------------------------------------------------------

def relu_kinks(model: Module) -> np.ndarray:
    """Where each unit of the first layer of a 1-input model bends: x = −b/w (its
    pre-activation w·x + b crosses 0); nan for a unit with w = 0, which never bends.

    For a one-hidden-layer ReLU MLP, f(x) = c + Σⱼ vⱼ·max(0, wⱼx + bⱼ) is linear between
    consecutive kinks: a linear spline with one knot per unit."""
    _check_fits(model, 1, "relu_kinks")
    first = model.layers[0] if isinstance(model, MLP) else model
    if isinstance(first, Layer):
        neurons = first.neurons
    elif isinstance(first, Neuron):
        neurons = [first]
    else:
        raise TypeError(f"relu_kinks reads an nn.Neuron, nn.Layer or nn.MLP, got "
                        f"{type(model).__name__}: {model!r}")
    w = np.array([n.w[0].data for n in neurons])
    b = np.array([n.b.data for n in neurons])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w != 0.0, -b / np.where(w != 0.0, w, 1.0), np.nan)


def plot_fit(model: Module, X: Any, y: Any, path: Path = None, *, resolution: int = 400,
             truth: Callable[[np.ndarray], np.ndarray] | None = None,
             title: str | None = None) -> Figure:
    """A 1-input model's curve f(x) over the data (x, y), with each first-layer unit's kink
    x = −b/w marked on the curve (the spline view of a ReLU network); below, each hidden
    unit's term vⱼ·act(wⱼx + bⱼ) for a one-hidden-layer MLP, whose sum (+ c) is f."""
    _check_fits(model, 1, "plot_fit")
    X = np.asarray(X, dtype=float)
    if X.ndim == 2 and X.shape[1] != 1:
        raise ValueError(f"plot_fit needs 1-D inputs: X has {X.shape[1]} columns but the model "
                         f"takes 1 input")
    x, y = X.ravel(), np.asarray(y, dtype=float).ravel()
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"X and y must have the same non-zero length, got {len(x)} and {len(y)}")
    resolution = _check_resolution(resolution)
    pad = 0.05 * (x.max() - x.min() or 1.0)
    grid = np.linspace(x.min() - pad, x.max() + pad, resolution)
    curve = evaluate_many(lambda t: model([t]), [grid])[:, 0]
    # A model that is not made of nn neurons has no weights to read kinks from: its curve only.
    kinks = relu_kinks(model) if isinstance(model, (Neuron, Layer, MLP)) else np.array([])
    inside = kinks[np.isfinite(kinks) & (kinks >= grid[0]) & (kinks <= grid[-1])]
    two_layers = isinstance(model, MLP) and len(model.layers) == 2 and \
        len(model.layers[1].neurons) == 1
    fig = _figure((7, 6.5) if two_layers else (7, 4.5))
    axes = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1]) if two_layers else \
        [fig.add_subplot()]
    ax = axes[0]
    ax.scatter(x, y, s=14, color="#9ca3af", label="data", zorder=2)
    if truth is not None:
        ax.plot(grid, truth(grid), color="#6b7280", linestyle=":", label="true curve")
    ax.plot(grid, curve, color=CLASS_COLORS[0], linewidth=2, label="model f(x)", zorder=3)
    if len(inside):
        at = evaluate_many(lambda t: model([t]), [inside])[:, 0]
        for k in inside:
            ax.axvline(k, color=CLASS_COLORS[1], linewidth=0.6, alpha=0.35)
        ax.scatter(inside, at, marker="D", s=30, color=CLASS_COLORS[1], zorder=4,
                   label=f"kinks x = −b/w ({len(inside)} of {len(kinks)} units)")
    ax.set_ylabel("y")
    ax.legend(fontsize="small", loc="best")
    ax.set_title(title or f"fit of {model!r}", fontsize="medium")
    if two_layers:
        assert isinstance(model, MLP)
        hidden, out = model.layers
        a = evaluate_many(lambda t: hidden([t]), [grid])
        v = np.array([w.data for w in out.neurons[0].w])
        for j in range(len(v)):
            axes[1].plot(grid, v[j] * a[:, j], linewidth=1, color=f"C{j % 10}")
        axes[1].axhline(0.0, color="k", linewidth=0.5)
        axes[1].set_ylabel("unit terms vⱼ·act(wⱼx+bⱼ)", fontsize="small")
        axes[1].set_title(f"the {len(v)} hidden units' terms; f = {out.neurons[0].b.data:+.2f} "
                          "+ their sum", fontsize="small")
    axes[-1].set_xlabel("x")
    fig.tight_layout()
    _save(fig, path)
    return fig


# --- any function of two inputs --------------------------------------------------------------

def _as_two_input_function(f: Any, who: str) -> Callable[[Value, Value], Any]:
    if isinstance(f, Module):
        _check_fits(f, 2, who)
        return lambda a, b: f([a, b])
    if not callable(f):
        raise TypeError(f"{who} needs a function of two Values or a model with 2 inputs, got "
                        f"{type(f).__name__}: {f!r}")
    return f


def function_grid(f: Any, xlim: Limits = (-2.0, 2.0), ylim: Limits = (-2.0, 2.0),
                  resolution: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X₀, X₁, Z): a resolution² grid over xlim × ylim and f there, Z[k, i, j] =
    f(X₀[i, j], X₁[i, j])[k], for f a function of two Values (returning a Value or a list of
    them) or a model with 2 inputs."""
    g = _as_two_input_function(f, "function_grid")
    (x0, x1), (y0, y1) = _check_limits("xlim", xlim), _check_limits("ylim", ylim)
    resolution = _check_resolution(resolution)
    xs, ys = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    values = evaluate_many(g, [xs.ravel(), ys.ravel()])
    return xs, ys, values.T.reshape(-1, *xs.shape)


def plot_function(f: Any, xlim: Limits = (-2.0, 2.0), ylim: Limits = (-2.0, 2.0),
                  path: Path = None, *, resolution: int = 60, kind: str = "contour",
                  levels: int = 12, paths: Mapping[str, Any] | None = None,
                  points: tuple[Any, Any] | None = None, log: bool = False,
                  labels: tuple[str, str] = ("x₀", "x₁"), title: str | None = None) -> Figure:
    """f(x₀, x₁) over xlim × ylim: filled contours (kind="contour") or a surface
    (kind="surface") of a function of two Values or a 2-input model.

    One output: its level sets f = c. Two outputs (a 2 → 2 map (u, v)): the isocontours u = c
    and v = c drawn over each other, the image of a square grid. More: one panel per output.
    paths {label: (n, 2) points} draws trajectories (start ○, end ★); points (X, y) scatters
    data coloured by class; log draws log₁₀ f (for a loss spanning orders of magnitude)."""
    if kind not in ("contour", "surface"):
        raise ValueError(f"kind must be 'contour' or 'surface', got {kind!r}")
    if not isinstance(levels, int) or isinstance(levels, bool) or levels < 2:
        raise ValueError(f"levels must be an int ≥ 2, got {levels!r}")
    _as_two_input_function(f, "plot_function")  # its refusal names what the user called
    xs, ys, Z = function_grid(f, xlim, ylim, resolution)
    if log:
        if (Z <= 0).any():
            raise ValueError(f"log=True needs f > 0 everywhere; its smallest value on the grid "
                             f"is {Z.min():.3g}")
        Z = np.log10(Z)
    what = "log₁₀ f" if log else "f"
    overlay = kind == "contour" and len(Z) == 2
    panels = 1 if overlay or len(Z) == 1 else len(Z)
    fig = _figure((5.5 * panels + 0.5, 4.8))
    for k in range(panels):
        if kind == "surface":
            ax = fig.add_subplot(1, panels, k + 1, projection="3d")
            ax.plot_surface(xs, ys, Z[k], cmap="viridis", linewidth=0, antialiased=True)
            ax.set_zlabel(what if len(Z) == 1 else f"{what}{_sub(k)}")
        else:
            ax = fig.add_subplot(1, panels, k + 1)
            if overlay:
                for j, colour in enumerate(CLASS_COLORS[:2]):
                    lines = ax.contour(xs, ys, Z[j], levels=levels, colors=[colour],
                                       linewidths=1.0)
                    ax.clabel(lines, fontsize=7)
                    ax.plot([], [], color=colour, label=f"{'uv'[j]} = const (output {j})")
                ax.legend(fontsize="small", loc="upper right", framealpha=0.9)
            else:
                filled = ax.contourf(xs, ys, Z[k], levels=levels, cmap="viridis")
                ax.contour(xs, ys, Z[k], levels=filled.levels, colors="k", linewidths=0.4,
                           alpha=0.5)
                fig.colorbar(filled, ax=ax, label=what if len(Z) == 1 else f"output {k}")
            _draw_overlays(ax, paths, points)
            ax.set_xlim(xs[0, 0], xs[0, -1])
            ax.set_ylim(ys[0, 0], ys[-1, 0])
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        if panels > 1:
            ax.set_title(f"output {k}", fontsize="medium")
    if title is None:
        title = repr(f) if isinstance(f, Module) else getattr(f, "__name__", "f")
        title = ("isocontours of the 2 → 2 map " if overlay else "") + title
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    _save(fig, path)
    return fig


def _sub(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(d)] for d in str(k))


def _draw_overlays(ax: Any, paths: Mapping[str, Any] | None,
                   points: tuple[Any, Any] | None) -> None:
    if points is not None:
        X, y = np.asarray(points[0], dtype=float), np.asarray(points[1])
        classes = (y > 0).astype(int) if y.size and y.min() < 0 else y.astype(int)
        for c in np.unique(classes):
            ax.scatter(X[classes == c, 0], X[classes == c, 1], s=18,
                       color=CLASS_COLORS[c % len(CLASS_COLORS)], edgecolors="k",
                       linewidths=0.4)
    for k, (label, p) in enumerate((paths or {}).items()):
        p = np.asarray(p, dtype=float)
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"path {label!r} must be points of shape (n, 2), got {p.shape}")
        colour = f"C{(k + 1) % 10}"
        ax.plot(p[:, 0], p[:, 1], color=colour, linewidth=1.4, label=label)
        ax.plot(*p[0], marker="o", color=colour, markersize=6, markeredgecolor="k")
        ax.plot(*p[-1], marker="*", color=colour, markersize=11, markeredgecolor="k")
    if paths:
        ax.legend(fontsize="small", loc="best", framealpha=0.9)


def descent_path(f: Callable[..., Any], start: Sequence[float],
                 optimizer: Callable[[list[Value]], Optimizer], steps: int) -> np.ndarray:
    """The points θ₀ = start, θ₁, …, θ_steps an optimizer visits minimising f(*θ): per step
    f → zero_grad → backward → step; returns a (steps + 1, len(start)) array."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be an int ≥ 1, got {steps!r}")
    params = [Value(float(s)) for s in start]
    opt = optimizer(params)
    path = [[p.data for p in params]]
    for _ in range(steps):
        loss = f(*params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append([p.data for p in params])
    return np.array(path)


# --- the data as a hidden layer sees it ------------------------------------------------------

@dataclass(frozen=True)
class HiddenSpace:
    """The rows of X as layer `layer` of an MLP sees them (its activations `features`), their
    2-D `coords` = (features − mean) @ basisᵀ, and the last layer's score s = readout·h + bias
    with its boundary in those coords, {c : normal·c + offset = 0} (None where it does not
    apply)."""

    layer: int
    features: np.ndarray  # (n, units)
    coords: np.ndarray  # (n, 2)
    mean: np.ndarray  # (units,)
    basis: np.ndarray  # (2, units): orthonormal rows
    explained: float  # the fraction of the features' variance the two coords keep
    projection: str  # "units" (2 units, drawn directly), "pca" or "one unit"
    readout: np.ndarray | None  # (units,): w of s = w·h + b
    bias: float | None
    normal: np.ndarray | None  # (2,)
    offset: float | None

    def readout_accuracy(self, y: Any) -> float | None:
        """How many rows the last layer classifies right from these features alone:
        class 1 where w·h + b > 0 on all the units (not only the 2-D coords), labels 0/1 or
        ±1; None where the last layer is not one score on this layer."""
        if self.readout is None or self.bias is None:
            return None
        labels = np.asarray(y)
        if labels.shape != (len(self.features),):
            raise ValueError(f"y must have one label per row ({len(self.features)}), got shape "
                             f"{labels.shape}")
        score = self.features @ self.readout + self.bias
        return float(np.mean((score > 0) == (labels > 0)))


def hidden_space(model: MLP, X: Any, layer: int | None = None) -> HiddenSpace:
    """Layer `layer`'s activations h = act(Wh₋₁ + b) on the rows of X (default: the last
    hidden layer), in 2-D: two units as they are; more by PCA (the top two right singular
    vectors of the centred features, numpy's SVD); one unit against 0.

    When the chosen layer feeds the last one and that has one output s = w·h + b (or two:
    s = s₁ − s₀), its boundary s = 0 is a hyperplane in h; drawn where it meets the plane of
    the coords (exactly the boundary for 2 units)."""
    if not isinstance(model, MLP):
        raise TypeError(f"hidden_space reads an nn.MLP, got {type(model).__name__}: {model!r}")
    X = np.asarray(X, dtype=float)
    nin = model.layers[0].nin
    if X.ndim != 2 or X.shape[1] != nin:
        raise ValueError(f"{model!r} takes {nin} inputs, but X has shape {X.shape}")
    hidden = len(model.layers) - 1
    if hidden == 0:
        raise ValueError(f"{model!r} has no hidden layer to look into")
    if layer is None:
        layer = hidden - 1
    if not isinstance(layer, int) or not -hidden <= layer < hidden:
        raise ValueError(f"layer must index one of the {hidden} hidden layers "
                         f"(0 … {hidden - 1}), got {layer!r}")
    layer %= hidden
    H = forward_layers(model, X)[layer][1]
    units = H.shape[1]
    mean = H.mean(axis=0)
    if units == 1:
        basis, projection, mean = np.array([[1.0], [0.0]]), "one unit", np.zeros(1)
    elif units == 2:
        basis, projection, mean = np.eye(2), "units", np.zeros(2)
    else:
        # Rows of Vt are the principal directions, by decreasing singular value.
        _, _, Vt = np.linalg.svd(H - mean, full_matrices=False)
        basis, projection = Vt[:2], "pca"
    centred = H - mean
    coords = centred @ basis.T
    total = float((centred**2).sum())
    explained = float((coords**2).sum()) / total if total > 0 else 1.0
    normal: np.ndarray | None = None
    offset: float | None = None
    w: np.ndarray | None = None
    b: float | None = None
    if layer == hidden - 1 and len(model.layers[-1].neurons) <= 2:
        out = model.layers[-1].neurons
        w = np.array([p.data for p in out[-1].w])
        b = out[-1].b.data
        if len(out) == 2:
            w, b = w - np.array([p.data for p in out[0].w]), b - out[0].b.data
        # h = mean + cᵀbasis on the plane: w·h + b = (basis w)·c + (w·mean + b).
        normal, offset = basis @ w, float(w @ mean + b)
    return HiddenSpace(layer, H, coords, mean, basis, explained, projection, w, b, normal,
                       offset)


def plot_hidden_space(model: MLP, X: Any, y: Any, path: Path = None, *,
                      layer: int | None = None, title: str | None = None) -> Figure:
    """The data in input space (2-D inputs) beside the same rows as `hidden_space` sees them,
    coloured by class y, with the last layer's separating line where it applies."""
    space = hidden_space(model, X, layer)
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    classes = (y > 0).astype(int) if y.size and y.min() < 0 else y.astype(int)
    show_inputs = X.shape[1] == 2
    fig = _figure((11, 4.8) if show_inputs else (6, 4.8))
    axes = fig.subplots(1, 2) if show_inputs else [fig.add_subplot()]
    panels = [(axes[0], X)] if show_inputs else []
    panels.append((axes[-1], space.coords))
    for ax, P in panels:
        for c in np.unique(classes):
            ax.scatter(P[classes == c, 0], P[classes == c, 1], s=22, edgecolors="k",
                       linewidths=0.4, color=CLASS_COLORS[c % len(CLASS_COLORS)],
                       label=f"class {c}")
    if show_inputs:
        axes[0].set_title("input space", fontsize="medium")
        axes[0].set_xlabel("x₀")
        axes[0].set_ylabel("x₁")
    ax = axes[-1]
    if space.normal is not None and space.offset is not None:
        _draw_line(ax, space.coords, space.normal, space.offset)
        acc = space.readout_accuracy(y)
        ax.plot([], [], color="k", linestyle="--", label=f"last layer: s = 0 ({acc:.0%} right)")
    names = {"units": ("unit 0 (h₀)", "unit 1 (h₁)"), "one unit": ("unit 0 (h₀)", "—"),
             "pca": ("principal direction 1", "principal direction 2")}[space.projection]
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    units = space.features.shape[1]
    how = {"units": "its 2 units", "one unit": "its 1 unit",
           "pca": f"PCA of its {units} units ({space.explained:.0%} of the variance)"}
    ax.set_title(f"hidden layer {space.layer + 1}: {how[space.projection]}", fontsize="medium")
    ax.legend(fontsize="small", loc="best", framealpha=0.9)
    fig.suptitle(title or f"{model!r}", fontsize="medium")
    fig.tight_layout()
    _save(fig, path)
    return fig


def _draw_line(ax: Any, P: np.ndarray, normal: np.ndarray, offset: float) -> None:
    """The line normal·c + offset = 0 across the points' box (padded)."""
    (x0, y0), (x1, y1) = P.min(axis=0), P.max(axis=0)
    pad = 0.1 * max(x1 - x0, y1 - y0, 1e-9)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    a, b = normal
    if abs(b) >= abs(a) and b != 0:
        xs = np.array([x0, x1])
        ax.plot(xs, -(a * xs + offset) / b, color="k", linestyle="--")
    elif a != 0:
        ys = np.array([y0, y1])
        ax.plot(-(b * ys + offset) / a, ys, color="k", linestyle="--")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


# --- the loss landscape ----------------------------------------------------------------------

def _parameters(model: Module, who: str) -> list[Value]:
    params = model.parameters()
    if not params:
        raise ValueError(f"{who}: {model!r} has no parameters, so there is no parameter space "
                         "to slice")
    return params


def filter_normalized_directions(model: Module, seed: RandomSeed = None) -> np.ndarray:
    """Two random directions d₁, d₂ in parameter space, filter-normalised (Li et al. 2018):
    each neuron's weights get dᵢ ~ N(0, I) rescaled to ‖dᵢ‖ = ‖wᵢ‖, biases 0; a parameter in
    no neuron is a filter of its own (d = ±|θ|). Shape (2, number of parameters)."""
    params = _parameters(model, "filter_normalized_directions")
    index = {p: i for i, p in enumerate(params)}
    theta = np.array([p.data for p in params])
    rng = _random_state(seed)
    d = rng.normal(size=(2, len(params)))
    done = np.zeros(len(params), dtype=bool)
    for module in model.modules():
        if isinstance(module, Neuron):
            rows = [index[w] for w in module.w]
            norm = np.linalg.norm(theta[rows])
            d[:, rows] *= norm / np.linalg.norm(d[:, rows], axis=1, keepdims=True)
            d[:, index[module.b]] = 0.0  # Li et al.: biases stay where they are
            done[rows] = done[index[module.b]] = True
    rest = ~done
    d[:, rest] = np.sign(d[:, rest]) * np.abs(theta[rest])
    return d


def pca_directions(trajectories: Sequence[Any], center: Any) -> np.ndarray:
    """The two directions along which the points θ_t of the trajectories (arrays (steps, P))
    move most around `center`: the top right singular vectors of the stacked θ_t − center.
    Random directions in many dimensions are nearly orthogonal to a path (Li et al. §7)."""
    center = np.asarray(center, dtype=float)
    rows = np.concatenate([np.asarray(t, dtype=float) for t in trajectories]) - center
    if rows.ndim != 2 or rows.shape[1] != len(center):
        raise ValueError(f"trajectories must be (steps, {len(center)}) arrays of parameters, got "
                         f"stacked shape {rows.shape}")
    _, _, Vt = np.linalg.svd(rows, full_matrices=False)
    if len(Vt) < 2:
        raise ValueError("pca_directions needs at least two distinct points off the center")
    return Vt[:2]


@dataclass(frozen=True)
class Landscape:
    """The loss L(θ* + α·d₁ + β·d₂) on a grid: loss[i, j] at (alphas[j], betas[i])."""

    center: np.ndarray  # θ*, (P,)
    directions: np.ndarray  # (2, P)
    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray

    def coordinates(self, thetas: Any) -> np.ndarray:
        """(α, β) of each θ on this landscape's plane (plane_coordinates)."""
        return plane_coordinates(thetas, self.center, self.directions)


def plane_coordinates(thetas: Any, center: Any, directions: Any) -> np.ndarray:
    """(α, β) of each θ (rows of an (n, P) array): the least-squares solution of
    θ − center ≈ α·d₁ + β·d₂, i.e. the point of the plane nearest θ."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    center, directions = np.asarray(center, dtype=float), np.asarray(directions, dtype=float)
    if thetas.shape[1] != len(center):
        raise ValueError(f"parameters have {thetas.shape[1]} entries but the landscape's "
                         f"model has {len(center)}")
    solution, *_ = np.linalg.lstsq(directions.T, (thetas - center).T, rcond=None)
    return np.asarray(solution.T)


def loss_landscape(model: Module, loss_fn: LossFn, data: tuple[Any, Any], *,
                   directions: Any = None, center: Any = None, span: float = 1.0,
                   resolution: int = 25, seed: RandomSeed = 0) -> Landscape:
    """L(θ* + α·d₁ + β·d₂) for α, β ∈ [−span, span] (Li et al. 2018, "Visualizing the Loss
    Landscape of Neural Nets"): θ* the model's parameters (or `center`), d₁, d₂
    filter-normalised random directions (or `directions`, a (2, P) array). The model's
    parameters are left as they were."""
    params = _parameters(model, "loss_landscape")
    theta = np.array([p.data for p in params]) if center is None else \
        np.asarray(center, dtype=float)
    if theta.shape != (len(params),):
        raise ValueError(f"center has {theta.size} entries but {model!r} has {len(params)} "
                         "parameters")
    d = filter_normalized_directions(model, seed) if directions is None else \
        np.asarray(directions, dtype=float)
    if d.shape != (2, len(params)):
        raise ValueError(f"directions must have shape (2, {len(params)}) for {model!r}'s "
                         f"{len(params)} parameters, got {d.shape}")
    if not isinstance(span, (int, float)) or not 0 < span < math.inf:
        raise ValueError(f"span must be a positive number, got {span!r}")
    resolution = _check_resolution(resolution)
    X, y = data
    alphas = np.linspace(-span, span, resolution)
    A, B = np.meshgrid(alphas, alphas)
    grid = theta[:, None] + np.outer(d[0], A.ravel()) + np.outer(d[1], B.ravel())
    saved = [p.data for p in params]
    try:
        def loss_at(*_: Value) -> Value:
            return loss_fn(model, X, y)[0]  # the model reads its parameters: the traced leaves

        def at(k: int, loss: Callable[[], float]) -> float:
            for p, v in zip(params, grid[:, k]):
                p.data = float(v)
            return loss()

        def eager() -> float:
            with no_grad():
                return float(loss_fn(model, X, y)[0].data)

        # Every path is checked against the loss itself at the last point: a loss that
        # escapes the trace (reads .data) would replay as a constant, and a custom network
        # or loss may differ from what the numpy path assumes.
        last = grid.shape[1] - 1
        truth = at(last, eager)
        losses = None
        numeric = _numpy_loss(model, loss_fn, X, y)
        if numeric is not None and np.isclose(at(last, numeric), truth, rtol=1e-9, atol=1e-12):
            losses = np.array([at(k, numeric) for k in range(grid.shape[1])])
        if losses is None:
            # A ReLU network's guards flip across the plane and compile cannot retrace at
            # parameters it reads by closure: then it raises, and every point goes eagerly.
            try:
                values, _ = compile(loss_at, *params)(*grid)
                losses = np.asarray(values, dtype=float)
            except (TypeError, ValueError):
                losses = None
            if losses is None or not np.isclose(losses[last], truth, rtol=1e-9, atol=1e-12):
                losses = np.array([at(k, eager) for k in range(grid.shape[1])])
    finally:
        for p, v in zip(params, saved):
            p.data = v
    return Landscape(theta, d, alphas, alphas.copy(), losses.reshape(A.shape))


def _numpy_loss(model: Module, loss_fn: LossFn, X: Any, y: Any) -> Callable[[], float] | None:
    """An Objective's loss on an MLP (or one Layer) at its parameters' current data, with the
    network's forward pass in numpy (`forward_layers`: one matrix product per layer for every
    row) and only the loss and its L2 term on Values: a landscape's hundreds of points in
    milliseconds each, where building the graph of every row costs tens. None for any other
    model or loss."""
    # Exactly these classes: a subclass may change forward, which the numpy pass would miss.
    if (not isinstance(loss_fn, Objective) or not isinstance(model, (MLP, Layer))
            or type(model) not in (MLP, Layer)):
        return None
    network = model
    scalar = isinstance(network, MLP) and len(network.layers[-1].neurons) == 1
    rows = np.asarray(X, dtype=float)
    labels = list(y)

    def loss() -> float:
        with no_grad():
            last = forward_layers(network, rows)[-1][1]
            outputs: list[Any] = [Value(float(r[0])) if scalar else [Value(float(v)) for v in r]
                                  for r in last]
            value = loss_fn.loss(outputs, labels)
            if loss_fn.alpha:
                value = value + l2_regularization(model.parameters(), loss_fn.alpha)
            return float(value.data)

    return loss


@dataclass(frozen=True)
class Trajectory:
    """The parameters after each step of a training run (row 0: before the first) and the
    loss at each step."""

    params: np.ndarray  # (steps + 1, P)
    loss: np.ndarray  # (steps,)

    def steps_to(self, loss: float) -> int | None:
        """The first step whose loss is ≤ `loss` (counted from 1), or None if none is."""
        below = np.nonzero(self.loss <= loss)[0]
        return int(below[0]) + 1 if len(below) else None


def record_trajectory(model: Module, loss_fn: LossFn, data: tuple[Any, Any],
                      optimizer: Optimizer, steps: int, compile: bool = False) -> Trajectory:
    """Train with nn.fit (full batch, no progress bar; compile as fit's) and keep θ after
    every step."""
    params = _parameters(model, "record_trajectory")
    rows = [[p.data for p in params]]

    def keep(step: int, loss: float, acc: float | None) -> None:
        rows.append([p.data for p in params])

    history = fit(model, loss_fn, data, optimizer, steps=steps, progress=False, callback=keep,
                  compile=compile)
    return Trajectory(np.array(rows), np.array(history.loss))


def plot_landscape(landscape: Landscape, trajectories: Mapping[str, Any] | None = None,
                   path: Path = None, *, log: bool = True, levels: int = 20,
                   title: str | None = None) -> Figure:
    """The landscape's loss as filled contours (log₁₀ by default) over (α, β), with each
    trajectory (a Trajectory or (steps, P) parameters) projected onto the plane, start ○,
    end ★. A projected path is the nearest point of the plane at each step: the loss drawn
    under it is the plane's, not the one training saw off the plane."""
    Z = landscape.loss
    if log:
        # A loss of exactly 0 (a hinge loss with every margin met) has no logarithm: drawn at
        # the floor, 10⁻⁸ of the largest loss or the smallest positive one if that is higher.
        positive = Z[Z > 0]
        floor = max(positive.min(), 1e-8 * positive.max()) if positive.size else 1.0
        Z = np.log10(np.maximum(Z, floor))
    fig = _figure((6.5, 5.2))
    ax = fig.add_subplot()
    A, B = np.meshgrid(landscape.alphas, landscape.betas)
    filled = ax.contourf(A, B, Z, levels=levels, cmap="viridis")
    ax.contour(A, B, Z, levels=filled.levels, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(filled, ax=ax, label="log₁₀ loss (0 at the floor)" if log and
                 (landscape.loss <= 0).any() else "log₁₀ loss" if log else "loss")
    paths = {label: landscape.coordinates(t.params if isinstance(t, Trajectory) else t)
             for label, t in (trajectories or {}).items()}
    _draw_overlays(ax, paths, None)
    ax.plot(0, 0, marker="+", color="w", markersize=12)
    ax.set_xlim(landscape.alphas[0], landscape.alphas[-1])
    ax.set_ylim(landscape.betas[0], landscape.betas[-1])
    ax.set_xlabel("α (direction d₁)")
    ax.set_ylabel("β (direction d₂)")
    ax.set_title(title or "loss on the plane θ* + α·d₁ + β·d₂ (+: θ*)", fontsize="medium")
    fig.tight_layout()
    _save(fig, path)
    return fig

"""Pictures of a whole MLP as the classic diagram: input nodes, one node per neuron and one edge
per weight, layers in columns. Edges are coloured by sign and as wide as |w| or |∂L/∂w|; each
neuron shows its mean activation and ∂L/∂b; dead units are grey, saturated ones amber.

Rendered by the Graphviz program autograd_core's own pictures use (`export.image_bytes`).
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

import numpy as np

from autograd_core.export import FORMATS, image_bytes
from autograd_core.files import write_atomic
from autograd_core.render import DotText, renderer

from .flow import (
    BOUNDS,
    DYING,
    SATURATION_MARGIN,
    activation_slopes,
    as_batch,
    dead_units,
    forward_layers,
    has_gradients,
    network_layers,
    saturated_units,
)
from .layers import Layer

SHOWS = ("grad", "weight", None)
DEFAULT_MAX_EDGES = 2000  # 2,000 edges lay out in seconds; far more crowd into a grey block
POSITIVE = "#2563eb"  # blue: the edge's number (w or ∂L/∂w) is > 0
NEGATIVE = "#dc2626"  # red: < 0
ZERO = "#9ca3af"  # grey: exactly 0, or structure only
DEAD = "#d1d5db"  # a dead unit and every edge into or out of it: no gradient flows there
SATURATED = "#fcd34d"
INPUT = "#bfdbfe"
UNIT = "#ffffff"
MIN_WIDTH, MAX_WIDTH = 0.3, 4.0  # penwidth of the smallest and the largest |number| drawn


class NetworkDrawing(str):
    """The DOT text of a network picture; Jupyter shows it as SVG (export.image_bytes)."""

    def __repr__(self) -> str:
        return ("<network picture: Jupyter shows it inline; save_network(model, 'net.svg') "
                "writes it (.svg, .png or .dot); str() of it is its DOT text>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any
                          ) -> dict[str, str]:
        if renderer() is None:
            return {"text/plain": repr(DotText(self))}
        # The DOT text stays out of the bundle: a notebook would store it beside the picture.
        # A PNG beside the SVG, for viewers that show no SVG (an untrusted notebook).
        png = base64.b64encode(image_bytes(self, ".png")).decode("ascii")
        return {"image/svg+xml": image_bytes(self, ".svg").decode(), "image/png": png,
                "text/plain": repr(self)}


def draw_network(model: Any, x: Any = None, *, show: str | None = "grad", fmt: str = ".2g",
                 max_edges: int = DEFAULT_MAX_EDGES, title: str = "") -> NetworkDrawing:
    """The MLP (or one Layer) as inputs → neurons, one edge per weight wⱼᵢ: colour = sign and
    width ∝ |wⱼᵢ| (show="weight") or |∂L/∂wⱼᵢ| (show="grad", from the last backward()), or
    plain (show=None). Given inputs x (one vector or a batch), each neuron shows its mean
    activation and is marked dead (relu, z ≤ 0 on every row) or saturated (σ, tanh). `title`
    is written after the model's name in the legend ("step 12: ∂L/∂w")."""
    layers = network_layers(model, "draw_network")
    _check_options(model, layers, show, fmt, max_edges)
    if not isinstance(title, str):
        raise TypeError(f"draw_network: title must be a str, got {type(title).__name__}: "
                        f"{title!r}")
    if x is None:
        acts: list[np.ndarray] = []
        slopes: list[np.ndarray] = []
        dead = saturated = [np.zeros(len(layer.neurons), dtype=bool) for layer in layers]
        inputs = None
    else:
        inputs = as_batch(x, layers[0].nin)
        with np.errstate(over="ignore", invalid="ignore"):
            acts = [a.mean(axis=0) for _, a in forward_layers(model, inputs)]
            slopes = activation_slopes(model, inputs)
        _check_finite(acts, slopes)
        dead, saturated = dead_units(model, inputs), saturated_units(model, inputs)
    picture = _Picture(layers, show, fmt, inputs, acts, dead, saturated, slopes)
    picture.title = title
    return NetworkDrawing(picture.dot(model))


def _check_finite(acts: list[np.ndarray], slopes: list[np.ndarray]) -> None:
    """Refuse, as backward does, a picture that would show inf or nan."""
    for k, (a, s) in enumerate(zip(acts, slopes)):
        if not (np.isfinite(a).all() and np.isfinite(s).all()):
            raise ValueError(f"layer {k + 1}'s activations overflow on these inputs (inf or "
                             f"nan): its weights are too large to draw their units' numbers; "
                             f"draw without inputs, draw_network(model), to see the weights")


def save_network(model: Any, path: str | os.PathLike[str], x: Any = None, *,
                 show: str | None = "grad", fmt: str = ".2g",
                 max_edges: int = DEFAULT_MAX_EDGES) -> Path:
    """Write draw_network(model, x, ...) to a .svg, .png or .dot file atomically; its path."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"save_network writes {', '.join(FORMATS)} files; {str(target)!r} has "
                         f"{'no extension' if not suffix else repr(target.suffix)}")
    source = draw_network(model, x, show=show, fmt=fmt, max_edges=max_edges)
    data = source.encode() if suffix == ".dot" else image_bytes(source, suffix)
    return write_atomic(target, data)


def _check_options(model: Any, layers: list[Layer], show: Any, fmt: Any, max_edges: Any
                   ) -> None:
    """Refuse a bad argument by name and value, before any drawing."""
    if show not in SHOWS:
        raise ValueError(f"show must be one of {SHOWS}, got {show!r}")
    try:
        format(-1.5, fmt)
    except (TypeError, ValueError):
        raise ValueError(f"fmt must be a format spec for floats such as '.2g', got {fmt!r}"
                         ) from None
    if isinstance(max_edges, bool) or not isinstance(max_edges, int) or max_edges < 1:
        raise ValueError(f"max_edges must be a positive int, got {max_edges!r}")
    edges = sum(layer.nin * len(layer.neurons) for layer in layers)
    if edges > max_edges:
        raise ValueError(f"{model!r} has {edges:,} weights, more than max_edges={max_edges:,} "
                         f"edges: too many to lay out quickly or to read. Draw one layer, "
                         f"draw_network(model.layers[i]), or pass max_edges={edges} and wait")
    if show == "grad" and not has_gradients(model):
        raise ValueError(f"{model!r} has no gradients yet (every grad is 0), so show='grad' "
                         f"would draw nothing: run backward() on a loss first, or draw "
                         f"show='weight'")


class _Picture:
    """One drawing's numbers: each weight's shown number, and each unit's activation and marks."""

    def __init__(self, layers: list[Layer], show: str | None, fmt: str,
                 inputs: np.ndarray | None, acts: list[np.ndarray], dead: list[np.ndarray],
                 saturated: list[np.ndarray], slopes: list[np.ndarray]) -> None:
        self.layers, self.show, self.fmt, self.inputs = layers, show, fmt, inputs
        self.acts, self.dead, self.saturated, self.slopes = acts, dead, saturated, slopes
        self.title = ""
        numbers = [self._edge_number(w) for layer in layers for n in layer.neurons for w in n.w]
        # Widths are relative to the largest |number| in this picture, so that two layers can be
        # compared within one picture (not across pictures).
        self.largest = max((abs(v) for v in numbers), default=0.0)

    def _edge_number(self, w: Any) -> float:
        return float(w.grad if self.show == "grad" else w.data)

    def _num(self, v: float) -> str:
        return format(v, self.fmt)

    def dot(self, model: Any) -> str:
        lines = ["digraph {",
                 # Edges first, so that the filled neurons cover the mesh of lines behind them.
                 '  graph [rankdir=LR, splines=line, outputorder=edgesfirst, nodesep=0.08, '
                 'ranksep=1.6, fontname=Helvetica, labelloc=b, labeljust=l, '
                 f'label={self._legend(model)}];',
                 '  node [shape=circle, style=filled, fixedsize=true, width=0.72, '
                 'fontname=Helvetica, fontsize=9, penwidth=1];',
                 '  edge [arrowhead=none];']
        lines += self._column("x", "inputs", [self._input(i) for i in range(self.layers[0].nin)])
        for k, layer in enumerate(self.layers):
            heading = f"layer {k + 1}\n{layer.neurons[0].activation}"
            lines += self._column(f"h{k + 1}_", heading,
                                  [self._unit(k, j) for j in range(len(layer.neurons))])
        for k, layer in enumerate(self.layers):
            source = "x" if k == 0 else f"h{k}_"
            for j, neuron in enumerate(layer.neurons):
                for i, w in enumerate(neuron.w):
                    lines.append(f"  {source}{i} -> h{k + 1}_{j} [{self._edge(k, j, i, w)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _column(self, prefix: str, heading: str, nodes: list[str]) -> list[str]:
        """A heading and the column's nodes, kept in index order by invisible edges."""
        head = f"{prefix}head"
        lines = [f"  {head} [shape=plaintext, style=solid, fixedsize=false, fontsize=11, "
                 f"label={_quote(heading)}];"]
        lines += [f"  {prefix}{i} [{attrs}];" for i, attrs in enumerate(nodes)]
        chain = " -> ".join([head] + [f"{prefix}{i}" for i in range(len(nodes))])
        lines.append(f"  {{ rank=same; {chain} [style=invis]; }}")
        return lines

    def _input(self, i: int) -> str:
        label = f"x{i}"
        if self.inputs is not None:
            label += f"\n{self._num(float(self.inputs[:, i].mean()))}"
        return f"label={_quote(label)}, fillcolor=\"{INPUT}\""

    def _unit(self, k: int, j: int) -> str:
        neuron = self.layers[k].neurons[j]
        lines, fill, extra = [], UNIT, ""
        if self.dead[k][j]:
            lines.append("dead")
            fill, extra = DEAD, ', style="filled,dashed", fontcolor="#6b7280"'
        elif self.saturated[k][j]:
            lines.append("saturated")
            fill, extra = SATURATED, ", peripheries=2"
        if self.acts:
            lines.append(f"a {self._num(float(self.acts[k][j]))}")
            lines.append(f"a′ {self._num(float(self.slopes[k][j]))}")  # what dead is judged on
        if self.show == "grad" and not self.dead[k][j]:
            lines.append(f"∂ {self._num(float(neuron.b.grad))}")
        elif self.show == "weight" or not self.acts:
            lines.append(f"b {self._num(neuron.b.data)}")
        tip = (f"layer {k + 1}, neuron {j} ({neuron.activation}): b = {neuron.b.data:.6g}, "
               f"∂L/∂b = {float(neuron.b.grad):.6g}")
        if self.dead[k][j]:
            tip += (" (none of it from these inputs: a′ = 0 on every one; what is left comes "
                    "from other terms of the loss, such as L2)")
        return f"label={_quote(chr(10).join(lines))}, fillcolor=\"{fill}\", " \
               f"tooltip={_quote(tip)}{extra}"

    def _edge(self, k: int, j: int, i: int, w: Any) -> str:
        v = self._edge_number(w)
        quiet = self.dead[k][j] or (k > 0 and self.dead[k - 1][i])
        if self.show is None or quiet:
            color, width = (DEAD if quiet else ZERO), MIN_WIDTH
        else:
            t = abs(v) / self.largest if self.largest > 0 else 0.0
            base = POSITIVE if v > 0 else NEGATIVE if v < 0 else ZERO
            # Faint and thin when small, so that the few large numbers stand out of the mesh.
            color = f"{base}{round(255 * (0.2 + 0.8 * t)):02x}"
            width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * t
        tip = (f"w[{k + 1}][{j}][{i}] = {w.data:.6g}, ∂L/∂w = {float(w.grad):.6g}")
        return f'color="{color}", penwidth={width:.2f}, tooltip={_quote(tip)}'

    def _legend(self, model: Any) -> str:
        """An HTML-like table under the picture: what each colour, width and number means."""
        what = {"grad": "∂L/∂w", "weight": "w", None: ""}[self.show]
        rows = [f"<b>{html.escape(repr(model), quote=False)}</b>"]
        if self.title:  # a row of its own: a run after the bold one loses its leading space
            rows.append(f"<b>{html.escape(self.title, quote=False)}</b>")
        if self.show is None:
            rows.append("structure only: every weight drawn alike")
        else:
            rows.append(f'<font color="{POSITIVE}"><b>blue</b></font> {what} &gt; 0, '
                        f'<font color="{NEGATIVE}"><b>red</b></font> {what} &lt; 0; '
                        f"width grows with |{what}| (widest {self._num(self.largest)})")
        if self.show == "grad":
            rows.append("∂ = ∂L/∂b, the gradient at the neuron's weighted sum "
                        "(from the last backward(); not shown on a dead unit)")
        elif self.show == "weight":
            rows.append("b = the neuron's bias")
        if self.inputs is not None:
            n = len(self.inputs)
            rows.append(f"a = activation, a′ = its slope act′(z), the factor that passes "
                        f"∂L/∂a back to the unit{' (averaged ' if n > 1 else ' ('}over {n} "
                        f"input{'s' if n > 1 else ''}); inputs show their mean")
            dead = int(sum(d.sum() for d in self.dead))
            saturated = int(sum(s.sum() for s in self.saturated))
            units = sum(len(layer.neurons) for layer in self.layers)
            rows.append(f'<font color="#6b7280"><b>grey, dashed</b></font>: dead, '
                        f"{'/'.join(DYING)} with a′ = 0 on every input: no gradient flows "
                        f"from the data ({dead} of {units} units)")
            rows.append(f'<font color="#b45309"><b>amber, double ring</b></font>: saturated, '
                        f"{'/'.join(BOUNDS)} with a′ under "
                        f"{4 * SATURATION_MARGIN * (1 - SATURATION_MARGIN):.0%} of its peak on "
                        f"most inputs ({saturated} of {units} units)")
        cells = "".join(f'<tr><td align="left">{row}</td></tr>' for row in rows)
        return f'<<table border="0" cellspacing="1">{cells}</table>>'


def _quote(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, newlines as centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

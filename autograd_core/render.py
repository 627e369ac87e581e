"""Pictures of the graph: DOT text, graphviz drawings, and frames of the backward pass.

Built on Value's public API, `topological_order`, the op records and the stepper only. The
`graphviz` package is imported lazily, in `draw`; files are written by `autograd_core.export`.
"""

from __future__ import annotations

import functools
import math
import shutil
import sysconfig
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import Value, topological_order
from .ops import BLOCKER, DISTRIBUTOR, ROUTER, SCALER, SWAPPER
from .stepper import Step, backward_steps, local_partials

if TYPE_CHECKING:
    import graphviz

DEFAULT_MAX_NODES = 2000  # dot lays out ~2k nodes in seconds; a training step's 65k takes hours
RANKDIRS = ("LR", "TB")
COLORS = ("role", "grad", "none")
RENDERER_HINT = ("no Graphviz renderer found: `pip install graphviz-pure` (or install Graphviz) "
                 "to see the picture; here is its DOT text")

# What a value node is, for its colour: the root is the output; leaves are parameters (passed in
# `params`), inputs (labelled) or constants (unlabelled: numbers lifted into the graph).
OUTPUT, PARAMETER, INPUT, CONSTANT, INTERMEDIATE = (
    "output", "parameter", "input", "constant", "intermediate")
_KIND_FILL = {OUTPUT: "#bbf7d0", PARAMETER: "#fde68a", INPUT: "#bfdbfe", CONSTANT: "#f3f4f6",
              INTERMEDIATE: "#ffffff"}
_GATE_FILL = {DISTRIBUTOR: "#c7d2fe", SWAPPER: "#fbcfe8", ROUTER: "#fed7aa", SCALER: "#e9d5ff",
              BLOCKER: "#d1d5db"}
_ACTIVE = "#dc2626"  # the node, gate and edges of the step being shown
_RECEIVING = "#f97316"  # the parents the shown step adds to
_FORWARD = "#2563eb"  # the node, gate and edges a forward frame computes


class DotText(str):
    """The DOT source of a drawing, shown as text with a hint where no renderer is installed."""

    def __repr__(self) -> str:
        return f"{RENDERER_HINT}\n{self}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any
                          ) -> dict[str, str]:
        return {"text/plain": repr(self)}


def renderer() -> str | None:
    """The Graphviz program to run: system `dot`, else PyPI's `graphviz-pure`, else None."""
    found = shutil.which("dot")
    if found:
        return found
    # A kernel or a Makefile may not have the environment's bin/ on PATH: look there first.
    return (shutil.which("graphviz-pure", path=sysconfig.get_path("scripts"))
            or shutil.which("graphviz-pure"))


def to_dot(root: Value, *, step: int | None = None, forward: int | None = None,
           **options: Any) -> str:
    """DOT text of the graph below root: value records, op gates, grad = d(root)/d(node).

    step=k draws the backward pass as it stands after its step k (see `backward_steps`;
    negative k counts from the end): grads not computed yet are blank, the step is highlighted
    and its arithmetic is written under the picture. forward=k draws the forward pass after
    its step k (0: the leaves; then one op at a time, in topological order). Options, keyword:
    rankdir "LR" or "TB"; fmt a float format such as ".4f"; edge_partials=True writes the local
    derivative on every edge; params, Values drawn as parameters; color "role" (output, parameter,
    input, constant, intermediate, and each gate by its role in backward), "grad" (value nodes
    redder as |grad| grows) or "none"; max_nodes, above which drawing is refused.
    """
    picture = _Picture(root, **options)
    if step is not None and forward is not None:
        raise ValueError(f"draw one pass at a time: step={step!r} or forward={forward!r}")
    if step is not None:
        return picture.dot(picture.nth(step))
    if forward is not None:
        return picture.dot(picture.nth(forward, forward=True))
    return picture.dot(_Frame(0, {node: node.grad for node in picture.order}))


def draw(root: Value, *, step: int | None = None, forward: int | None = None,
         **options: Any) -> graphviz.Digraph | DotText:
    """The graph as a graphviz.Digraph (inline in Jupyter); DOT text if no renderer is installed.

    Arguments are those of `to_dot`.
    """
    source = to_dot(root, step=step, forward=forward, **options)
    program = renderer()
    if program is None:
        return DotText(source)
    import graphviz

    # graphviz runs this module-level path; an absolute one works without bin/ on PATH.
    graphviz.backend.dot_command.DOT_BINARY = Path(program)
    body = source.splitlines(keepends=True)[1:-1]  # between "digraph {" and "}"
    return _drawing_class()(body=body)


@functools.cache
def _drawing_class() -> type[graphviz.Digraph]:
    import graphviz

    class Drawing(graphviz.Digraph):
        """A Digraph whose picture in Jupyter leaves the renderer's warnings out of the cell."""

        # graphviz-pure warns on stderr for every non-ASCII label (×, ∂), as export's runs
        # already hide; a failed render still raises, with its stderr.
        def _repr_image_svg_xml(self) -> str:
            return self.pipe(format="svg", encoding="utf-8", quiet=True)

    Drawing.__qualname__ = "Drawing"  # repr: <autograd_core.render.Drawing at 0x...>
    return Drawing


def steps_dot(root: Value, *, forward: bool = False, **options: Any
              ) -> Iterator[tuple[str, int, str]]:
    """(pass, k, to_dot of its step k) for every backward step; forward=True puts forward first."""
    picture = _Picture(root, **options)  # checked now, not at the first next()
    passes = [("backward", picture.frames())]
    if forward:
        passes.insert(0, ("forward", picture.forward_frames()))
    return ((name, frame.index, picture.dot(frame)) for name, frames in passes
            for frame in frames)


@dataclass
class _Frame:
    """What one picture shows: grads (and uses still to add), or values known in a forward pass."""

    index: int
    grads: Mapping[Value, Any]
    pending: Mapping[Value, int] | None = None  # backward frames: a grad is final at 0
    step: Step | None = None  # backward frames: the step just applied
    known: set[Value] | None = None  # forward frames: nodes whose data is computed
    computing: Value | None = None  # forward frames: the op node just computed

    def active(self) -> tuple[Value | None, str]:
        """The node this frame is about and its highlight colour (red back, blue forward)."""
        if self.step is not None:
            return self.step.node, _ACTIVE
        return self.computing, _FORWARD


class _Picture:
    """One graph, validated and named once; writes the DOT text for any state of its grads."""

    def __init__(self, root: Value, *, rankdir: str = "LR", fmt: str = ".4f",
                 edge_partials: bool = False, params: Iterable[Value] = (), color: str = "role",
                 max_nodes: int = DEFAULT_MAX_NODES) -> None:
        _check_options(root, rankdir, fmt, color, max_nodes)
        self.order = topological_order(root)
        if len(self.order) > max_nodes:
            raise ValueError(
                f"the graph below this Value has {len(self.order)} nodes, more than "
                f"max_nodes={max_nodes}; Graphviz would take minutes or hours on it. Draw less: "
                f"the loss of one sample instead of a batch, or a sub-graph from a chosen "
                f"intermediate node (to_dot(node) draws only what node depends on), or pass a "
                f"larger max_nodes if you really mean it")
        self.root, self.rankdir, self.fmt = root, rankdir, fmt
        self.edge_partials, self.color = edge_partials, color
        params = set(params)
        self.index = {node: i for i, node in enumerate(self.order)}
        self.kind = {node: _kind(node, root, params) for node in self.order}
        self.name = {node: node.label or f"n{i}" for i, node in enumerate(self.order)}
        # How many times each node is used: its grad is final once that many steps added to it.
        self.uses = dict.fromkeys(self.order, 0)
        for node in self.order:
            for parent in node.parents:
                self.uses[parent] += 1
        self.n_steps = 1 + sum(node.op is not None for node in self.order)  # the seed + one per op

    # --- the passes as frames -------------------------------------------------------------

    def frames(self) -> Iterator[_Frame]:
        """The picture after each step of the backward pass: running grads, active step."""
        grads: dict[Value, Any] = {}  # the walk's running sums, as backward adds them
        pending = dict(self.uses)
        for s in backward_steps(self.root, grads):
            for parent in s.parents:
                pending[parent] -= 1
            yield _Frame(s.index, grads, pending, step=s)

    def forward_frames(self) -> Iterator[_Frame]:
        """The picture after each step of the forward pass: the leaves, then one op at a time."""
        known = {node for node in self.order if node.op is None}
        yield _Frame(0, {}, known=known)
        ops = (node for node in self.order if node.op is not None)
        for k, node in enumerate(ops, start=1):
            known.add(node)
            yield _Frame(k, {}, known=known, computing=node)

    def nth(self, k: int, forward: bool = False) -> _Frame:
        """Frame k of the backward (or forward) pass; negative k counts from the end."""
        what = "forward" if forward else "step"
        n = self.n_steps  # both passes: one frame to start (seed or leaves), one per op
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"{what} must be an int, got {k!r}")
        if not -n <= k < n:
            raise IndexError(f"{what} {k} is out of range: this graph's passes have {n} "
                             f"steps (0 to {n - 1})")
        k %= n
        for frame in self.forward_frames() if forward else self.frames():
            if frame.index == k:
                return frame
        raise AssertionError("unreachable: each pass has one frame per op node plus one")

    # --- DOT ------------------------------------------------------------------------------

    def dot(self, frame: _Frame) -> str:
        """The whole DOT text of the graph as this frame shows it."""
        caption = _quote(self._caption(frame), left=True)
        # ordering=in keeps each gate's inputs in operand order (x above y in x − y).
        lines = [(f"\tgraph [rankdir={self.rankdir} ordering=in fontname=Helvetica fontsize=11 "
                  f"labelloc=b labeljust=l label={caption}]\n"),
                 "\tnode [fontname=Helvetica fontsize=11 style=filled]\n",
                 "\tedge [fontname=Helvetica fontsize=9 color=\"#6b7280\"]\n"]
        active, mark = frame.active()
        receiving = set(frame.step.parents) if frame.step is not None else set()
        scale = max((abs(_number(g)) for g in frame.grads.values()), default=0.0)
        for i, node in enumerate(self.order):
            attrs = self._value_attrs(node, frame, scale)
            if node is active:
                attrs += f" color=\"{mark}\" penwidth=2.5"
            elif node in receiving and self.kind[node] != CONSTANT:
                attrs += f" color=\"{_RECEIVING}\" penwidth=2"
            lines.append(f"\tv{i} [{attrs}]\n")
            if node.op is not None:
                lines.extend(self._gate_lines(i, node, frame))
        return "digraph {\n" + "".join(lines) + "}\n"

    def _value_attrs(self, node: Value, frame: _Frame, scale: float) -> str:
        kind = self.kind[node]
        fill = _KIND_FILL[kind] if self.color == "role" else "#ffffff"
        if kind == CONSTANT:  # a number in the formula: its grad means nothing to the reader
            return f"shape=box style=\"filled,rounded\" fillcolor=\"{fill}\" " \
                   f"label={_quote(self._num(node.data))} tooltip=\"constant\""
        known = frame.known is None or node in frame.known
        data = self._num(node.data) if known else ""  # blank until the forward pass gets here
        if node not in frame.grads:
            grad = ""  # not computed yet in this frame
        else:
            grad = self._num(frame.grads[node])
            if frame.pending is not None and frame.pending[node] > 0:
                grad += " so far"
        if self.color == "grad" and scale > 0.0 and node in frame.grads:
            fill = _heat(abs(_number(frame.grads[node])) / scale)
        fields = " | ".join(_record_escape(f) for f in
                            (self.name[node], f"data {data}", f"grad {grad}"))
        return (f"shape=record fillcolor=\"{fill}\" label=\"{{ {fields} }}\" "
                f"tooltip=\"{kind}\"")

    def _gate_lines(self, i: int, node: Value, frame: _Frame) -> list[str]:
        rec = node.op
        assert rec is not None
        fill = _GATE_FILL.get(rec.role, "#e5e7eb") if self.color != "none" else "#ffffff"
        active, colour = frame.active()
        seed = frame.step is not None and frame.step.seed  # the seed runs no gate
        live = node is active and not seed
        backward = live and frame.step is not None  # its partials are the step's arithmetic
        mark = f" color=\"{colour}\" penwidth=2.5" if live else ""
        lines = [(f"\tg{i} [shape=circle fillcolor=\"{fill}\" label={_quote(rec.label)} "
                  f"xlabel={_quote(rec.role)} fontsize=12 "
                  f"tooltip={_quote(f'{rec.name} ({rec.role}): {rec.doc}')}{mark}]\n"),
                 f"\tg{i} -> v{i}{' [' + mark.strip() + ']' if mark else ''}\n"]
        partials = self._edge_partials(node, backward)
        for k, parent in enumerate(node.parents):
            attrs = []
            if partials is not None:
                attrs.append(f"label={_quote(self._partial_text(node, parent, partials[k]))}")
            if live:
                attrs.append(f"color=\"{colour}\" fontcolor=\"{colour}\" penwidth=2")
            tail = f" [{' '.join(attrs)}]" if attrs else ""
            lines.append(f"\tv{self.index[parent]} -> g{i}{tail}\n")
        return lines

    def _edge_partials(self, node: Value, live: bool) -> tuple[float, ...] | None:
        if not (self.edge_partials or live):
            return None
        try:
            return local_partials(node)
        except (ArithmeticError, ValueError):  # e.g. √ at 0: draw the graph, mark the edge
            return (float("nan"),) * len(node.parents)

    def _partial_text(self, node: Value, parent: Value, d: Any) -> str:
        if d is None:  # a constant input: no partial is taken
            return ""
        if math.isnan(_number(d)):
            return f"∂{self.name[node]}/∂{self.name[parent]} undefined"
        if self.kind[parent] == CONSTANT:
            return self._num(d)
        return f"∂{self.name[node]}/∂{self.name[parent]} = {self._num(d)}"

    def _caption(self, frame: _Frame) -> str:
        """The text under the picture: a warning before backward, or the arithmetic of a step."""
        r = self.name[self.root]
        last = self.n_steps - 1
        if frame.known is not None:
            node = frame.computing
            if node is None:
                return f"forward step 0 of {last}: the inputs"
            return (f"forward step {frame.index} of {last}: {self.name[node]} = "
                    f"{self._formula(node)} = {self._formula(node, numbers=True)} = "
                    f"{self._num(node.data)}")
        s = frame.step
        if s is None:
            if all(_number(g) == 0.0 for g in frame.grads.values()):
                return (f"no backward yet: every grad is 0. Call {r}.backward() to fill in "
                        f"grad = d{r}/d(node)")
            return f"grad = d{r}/d(node)"
        head = f"backward step {s.index} of {last}"
        if s.seed:
            return f"{head}: the seed, d{r}/d{r} = 1"
        rec = s.node.op
        assert rec is not None
        n = self.name[s.node]
        lines = [f"{head}: {n} = {self._formula(s.node)}   ({rec.name}, a {rec.role})"]
        g = self._num(s.grad)
        for parent, d, c in zip(s.parents, s.partials, s.contributions):
            if c is None or self.kind[parent] == CONSTANT:
                continue
            p = self.name[parent]
            lines.append(f"d{r}/d{p} += ∂{n}/∂{p} · d{r}/d{n} = "
                         f"{self._num(d)} · {g} = {self._num(c)}")
        return "\n".join(lines)

    def _formula(self, node: Value, numbers: bool = False) -> str:
        """The node's op as the user writes it: x + y, x ** 2, tanh(x), clamp(x, lo, hi)."""
        rec = node.op
        assert rec is not None
        args = [self._num(p.data) if numbers or self.kind[p] == CONSTANT else self.name[p]
                for p in node.parents]
        return rec.written(*args)

    def _num(self, x: Any) -> str:
        return format(_number(x), self.fmt)


def _check_options(root: Value, rankdir: str, fmt: str, color: str, max_nodes: int) -> None:
    """Refuse a bad argument by name and value, before any work on the graph."""
    if not isinstance(root, Value):
        raise TypeError(f"drawing needs a Value, got {type(root).__name__}: {root!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format spec string such as '.4f', got {fmt!r}")
    try:
        format(-1.5, fmt)
    except ValueError:
        raise ValueError(f"fmt must be a format spec for floats such as '.4f' or '.3g', "
                         f"got {fmt!r}") from None
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def _kind(node: Value, root: Value, params: set[Value]) -> str:
    if node is root:
        return OUTPUT
    if node in params:
        return PARAMETER
    if node.op is not None:
        return INTERMEDIATE
    return CONSTANT if node.constant else INPUT


def _number(x: Any) -> float:
    # After backward(create_graph=True) grads are Values: draw their numbers.
    return x.data if isinstance(x, Value) else float(x)


def _heat(t: float) -> str:
    """White for |grad| = 0 up to a strong red for the largest |grad| in the picture."""
    level = round(255 - 170 * t)
    return f"#ff{level:02x}{level:02x}"


def _record_escape(text: str) -> str:
    # Record labels give { } | < > a meaning; backslash and quote matter to DOT itself.
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def _quote(text: str, left: bool = False) -> str:
    """A DOT string; left=True ends each line with \\l (left-justified)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    if left:
        return '"' + "".join(line + "\\l" for line in text.split("\n")) + '"'
    return '"' + text.replace("\n", "\\n") + '"'

"""Pictures of the graph: DOT text, graphviz drawings, and frames of the backward pass.

Built on Value's public API, `topological_order`, the op records and the stepper only. The
`graphviz` package is imported lazily, in `draw`. A stepper's frames share one layout: the graph
is laid out once with room for every text any frame shows, and each frame is that one picture
with its own colours and texts (`stepper_frames`), so nothing moves from frame to frame.
"""

from __future__ import annotations

import base64
import copy
import difflib
import functools
import html
import inspect
import itertools
import math
import re
import shutil
import subprocess
import sysconfig
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    ParamSpec,
    Protocol,
    TypedDict,
    TypeVar,
    runtime_checkable,
)

from .engine import Value, topological_order
from .ops import BLOCKER, CUSTOM, DISTRIBUTOR, ROUTER, SCALER, SWAPPER
from .stepper import Step, backward_steps, local_partials

if TYPE_CHECKING:
    import graphviz
    from typing_extensions import Unpack  # typing's own from Python 3.11

DEFAULT_MAX_NODES = 2000  # dot lays out ~2k nodes in seconds; a training step's 65k takes hours
MAX_FRAMES = 60  # a stepper draws the whole graph once per frame: its files grow as nodes²
RANKDIRS = ("LR", "TB")
COLORS = ("role", "grad", "none")
MAX_NAME = 16  # characters of a name in a record, an edge or a caption; the tooltip keeps all
ROOT_NAME = "f"  # the slides' names: f for the output, q, r, s, ... for the others
NAMES = "qrstuvpmnkabcdeghjl"
RENDERER_HINT = ("no Graphviz renderer found: `pip install graphviz-pure` (or install Graphviz) "
                 "to see the picture; here is its DOT text")

# What a value node is, for its colour: the root is the output; leaves are parameters (passed in
# `params`), constants (numbers lifted from Python literals) or inputs (every other leaf).
OUTPUT, PARAMETER, INPUT, CONSTANT, INTERMEDIATE = (
    "output", "parameter", "input", "constant", "intermediate")
KIND_FILL = {OUTPUT: "#bbf7d0", PARAMETER: "#fde68a", INPUT: "#bfdbfe", CONSTANT: "#f3f4f6",
             INTERMEDIATE: "#ffffff"}
GATE_FILL = {DISTRIBUTOR: "#c7d2fe", SWAPPER: "#fbcfe8", ROUTER: "#fed7aa", SCALER: "#e9d5ff",
             BLOCKER: "#d1d5db", CUSTOM: "#99f6e4"}
# What each kind of node and each gate role means, for legends (pictures and pages).
KIND_MEANING = {OUTPUT: "the output (root)", PARAMETER: "a parameter",
                INPUT: "an input (a leaf you made)", CONSTANT: "a number from the formula",
                INTERMEDIATE: "an intermediate value"}
ROLE_MEANING = {DISTRIBUTOR: "passes the gradient to every input unchanged",
                SWAPPER: "each input gets the gradient times the other input",
                ROUTER: "the whole gradient goes to one input",
                SCALER: "multiplies the gradient by a local slope",
                BLOCKER: "passes no gradient",
                CUSTOM: "maps the gradient by a rule of its own (vjp)"}
ROLE_SHORT = {DISTRIBUTOR: "grad to each input", SWAPPER: "grad × the other input",
              ROUTER: "grad to one input", SCALER: "grad × local slope",
              BLOCKER: "no grad", CUSTOM: "grad mapped by its vjp"}
ACTIVE = "#dc2626"  # the node, gate and edges of the step being shown
RECEIVING = "#f97316"  # the parents the shown step adds to
FORWARD = "#2563eb"  # the node, gate and edges a forward frame computes
HEAT = "#a78bfa"  # color="grad": the largest |grad|; violet, so it never reads as "active"

_SVG, _XLINK = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
# Serialise frames as <svg>, not <ns0:svg>: an HTML page's parser knows only the plain names.
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", _XLINK)
_SHAPES = {f"{{{_SVG}}}{tag}" for tag in ("polygon", "polyline", "ellipse", "path")}
_TEXT = f"{{{_SVG}}}text"
_SIMPLE_NAME = re.compile(r"[\w′'.]+")  # x, w0, x₁, q': read as one symbol without brackets

Rankdir = Literal["LR", "TB"]
Color = Literal["role", "grad", "none"]


@runtime_checkable
class NamedParameters(Protocol):
    """A model that names its parameters, such as any autograd_core.nn.Module."""

    def named_parameters(self) -> Iterable[tuple[str, Value]]:
        """(dotted name, Value) for every parameter."""
        ...


Params = Iterable[Value] | Mapping[str, Value] | NamedParameters
"""What `params=` takes: Values, {name: Value}, or a model whose named_parameters() name them."""

class DrawKeywords(TypedDict, total=False):
    """The drawing options as keywords: the fields of `DrawOptions`."""

    rankdir: Rankdir
    fmt: str
    edge_partials: bool
    params: Params
    color: Color
    max_nodes: int


@dataclass(frozen=True)
class DrawOptions:
    """How a graph is drawn: one set of options, taken as keywords by to_dot, draw, save,
    save_steps, show_steps and stepper_frames, and checked once, here.

    rankdir        "LR" (left to right) or "TB" (top to bottom)
    fmt            a float format for data, grads and partials, such as ".4f" or ".3g"
    edge_partials  True writes the local derivative ∂out/∂in on every edge
    params         Values drawn as parameters: a model (its named_parameters() name them),
                   {name: Value}, or Values
    color          "role" (node kinds and gate roles), "grad" (more violet as |grad| grows),
                   or "none"
    max_nodes      above this many nodes drawing is refused (Graphviz would take hours)
    """

    rankdir: Rankdir = "LR"
    fmt: str = ".4f"
    edge_partials: bool = False
    params: Params = ()
    color: Color = "role"
    max_nodes: int = DEFAULT_MAX_NODES

    def __post_init__(self) -> None:
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be one of {RANKDIRS}, got {self.rankdir!r}")
        if self.color not in COLORS:
            raise ValueError(f"color must be one of {COLORS}, got {self.color!r}")
        if not isinstance(self.fmt, str):
            raise TypeError(f"fmt must be a format spec string such as '.4f', got {self.fmt!r}")
        try:
            format(-1.5, self.fmt)
        except ValueError:
            raise ValueError(f"fmt must be a format spec for floats such as '.4f' or '.3g', "
                             f"got {self.fmt!r}") from None
        if not isinstance(self.edge_partials, bool):
            raise TypeError(f"edge_partials must be True or False, got {self.edge_partials!r}")
        if (isinstance(self.max_nodes, bool) or not isinstance(self.max_nodes, int)
                or self.max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive int, got {self.max_nodes!r}")


OPTION_NAMES = tuple(f.name for f in fields(DrawOptions))

_P = ParamSpec("_P")
_R = TypeVar("_R")


def keywords_checked(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """function, where an unknown keyword is a TypeError naming it, the nearest valid one and
    every valid one (Python's own error names only the bad one). A function that takes
    **options takes the drawing options (`DrawOptions`) there."""
    parameters = inspect.signature(function).parameters.values()
    valid = [p.name for p in parameters if p.kind is not p.VAR_KEYWORD]
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        valid += OPTION_NAMES

    @functools.wraps(function)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        unknown = [key for key in kwargs if key not in valid]
        if unknown:
            near = difflib.get_close_matches(unknown[0], valid, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TypeError(f"{function.__name__}() got an unexpected keyword argument "
                            f"{unknown[0]!r}{hint} It takes: {', '.join(valid)}")
        return function(*args, **kwargs)

    return checked


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


def image_bytes(source: str, suffix: str) -> bytes:
    """DOT text through the Graphviz program `renderer()` picks, as .svg or .png bytes."""
    program = renderer()
    if program is None:
        raise RuntimeError(RENDERER_HINT.split(";")[0] + f" to write {suffix} files")
    done = subprocess.run([program, f"-T{suffix.lstrip('.').lower()}"], input=source.encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{program} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")
    if suffix.lstrip(".").lower() == "svg":
        return svg_style(done.stdout.decode(), OWN_COLOURS).encode()
    return done.stdout


# A picture paints its own white background, so its colours are its own in every theme: a
# browser's forced dark mode (Chromium's auto dark theme, which lightens dark text and strokes)
# would otherwise turn its labels white on that white. Chromium honours `only light` on the
# <svg> itself, in a file of its own and inline in a page alike; plain `light` it ignores.
OWN_COLOURS = "color-scheme: only light"
# A wide picture shrinks to fit its cell down to this scale, then scrolls: 11 pt text stays
# at least 11 px.
READABLE_SCALE = 0.75
_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_STYLE = re.compile(r'\sstyle="([^"]*)"')


def svg_style(svg: str, css: str) -> str:
    """svg with css added to its root <svg> element's style attribute (made if missing)."""
    tag = _SVG_TAG.search(svg)
    if tag is None:
        raise ValueError(f"not an SVG picture (no <svg> element): {svg[:80]!r}")
    old = _STYLE.search(tag.group())
    if old is None:
        new = tag.group()[:4] + f' style="{css}"' + tag.group()[4:]
    elif css in old.group(1):
        return svg
    else:
        new = tag.group().replace(old.group(), f' style="{old.group(1).rstrip("; ")}; {css}"', 1)
    return svg[:tag.start()] + new + svg[tag.end():]


@keywords_checked
def to_dot(root: Value, *, step: int | None = None, forward: int | None = None,
           **options: Unpack[DrawKeywords]) -> str:
    """DOT text of the graph below root: value records, op gates, grad = d(root)/d(node), and
    a legend of what the colours, kinds and gates mean.

    step=k draws the backward pass as it stands after its step k (see `backward_steps`;
    negative k counts from the end): grads not computed yet are blank, the step is highlighted
    and its arithmetic is written under the picture. forward=k draws the forward pass after
    its step k (0: the leaves; then one op at a time, in topological order). Unlabelled nodes
    are named as the slides name them: the root f, the others q, r, s, ... in the order they
    are computed. Drawing options are keywords: see `DrawOptions`.
    """
    return _picture_dot(root, DrawOptions(**options), step=step, forward=forward)


def _picture_dot(root: Value, options: DrawOptions, *, step: int | None = None,
                 forward: int | None = None, legend: bool = True, caption: bool = True) -> str:
    picture = _Picture(root, options)
    if step is not None and forward is not None:
        raise ValueError(f"draw one pass at a time: step={step!r} or forward={forward!r}")
    if step is not None:
        frame = picture.nth(step)
    elif forward is not None:
        frame = picture.nth(forward, forward=True)
    else:
        frame = _Frame(0, {node: node.grad for node in picture.order})
    marks = ("backward" if step is not None and frame.step is not None and not frame.step.seed
             else "forward" if forward else "")
    return picture.dot(picture.looks(frame), picture.caption(frame) if caption else None,
                       legend=legend, marks=marks)


@keywords_checked
def draw(root: Value, *, step: int | None = None, forward: int | None = None,
         **options: Unpack[DrawKeywords]) -> graphviz.Digraph | DotText:
    """The graph as a graphviz.Digraph (inline in Jupyter, as SVG with a PNG beside it for
    viewers that show no SVG); DOT text if no renderer is installed.

    Arguments are those of `to_dot`. Outside Jupyter, save(root, "graph.svg") writes the
    picture and `.view()` on the drawing opens it.
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
            svg = self.pipe(format="svg", encoding="utf-8", quiet=True)
            # Never wider than the cell: a wide graph scales down (its viewBox keeps it whole)
            # instead of being cut at the cell's right edge, but no further than a readable
            # size; beyond that the output area scrolls.
            width = re.search(r'<svg\b[^>]*\bwidth="([\d.]+)pt"', svg)
            least = f"; min-width: {float(width.group(1)) * READABLE_SCALE:.0f}pt" if width else ""
            return svg_style(svg, f"{OWN_COLOURS}; max-width: 100%; height: auto{least}")

        # A PNG beside the SVG: JupyterLab shows no SVG of an untrusted notebook (one opened
        # before it was run here), and some viewers show no SVG at all.
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any
                              ) -> dict[str, str]:
            png = self.pipe(format="png", quiet=True)
            return {"image/svg+xml": self._repr_image_svg_xml(),
                    "image/png": base64.b64encode(png).decode("ascii"),
                    "text/plain": repr(self)}

        # Outside Jupyter the picture cannot show itself: say how to get it.
        def __repr__(self) -> str:
            return ("<drawing of a graph: Jupyter shows it inline; elsewhere save(root, "
                    "'graph.svg') writes it (.svg, .png or .dot), or drawing.view() opens it>")

    Drawing.__qualname__ = "Drawing"
    return Drawing


# --- the stepper: every frame of one layout ---------------------------------------------------

@dataclass(frozen=True)
class StepFrame:
    """One frame of a stepper: pass ("forward" or "backward"), its step k of last, the
    arithmetic of that step, and the picture (SVG text, the same layout in every frame)."""

    pass_name: str
    index: int
    last: int
    caption: str
    svg: str
    active: str = ""  # the id (in svg) of the value node the frame is about; "" for none


@dataclass(frozen=True)
class Stepper:
    """A pass (or both) as frames of one layout, and what a legend needs to explain them."""

    frames: tuple[StepFrame, ...]
    names: tuple[str, ...]  # each op node's name and expression in full: "q = x + y"
    kinds: tuple[str, ...]  # the kinds of value node drawn (output, input, ...)
    roles: tuple[str, ...]  # the gate roles drawn (distributor, swapper, ...)
    color: str  # the color option the frames were drawn with


@keywords_checked
def stepper_frames(root: Value, *, forward: bool = False, captions: bool = True,
                   ids: str = "", **options: Unpack[DrawKeywords]) -> Stepper:
    """Every frame of the backward pass (forward=True: the forward pass's first), all drawn on
    one layout: the graph is laid out once with the widest text each place shows in any frame,
    and each frame repaints only colours and texts, so every node stays where it is.

    captions=False leaves the arithmetic out of the pictures (a page writes it as text); ids
    prefixes every id in the SVGs, so several steppers can share one HTML page. Drawing
    options are keywords: see `DrawOptions`.
    """
    return frames_of(root, DrawOptions(**options), forward=forward, captions=captions, ids=ids)


def frames_of(root: Value, options: DrawOptions, *, forward: bool = False,
              captions: bool = True, ids: str = "") -> Stepper:
    """`stepper_frames` with its options already checked."""
    # Checked (node limit included) before any work.
    picture = _Picture(root, options)
    passes: list[tuple[str, Iterator[_Frame]]] = [("backward", picture.frames())]
    if forward:
        passes.insert(0, ("forward", picture.forward_frames()))
    states = [(name, frame.index, picture.looks(frame), picture.caption(frame),
               picture.active_id(frame)) for name, frames in passes for frame in frames]
    lines = [caption.split("\n") for *_, caption, _ in states]
    layout_lines = _widest_lines(lines) if captions else None
    layout_looks = _widest([looks for _, _, looks, _, _ in states])
    source = picture.dot(layout_looks, None if layout_lines is None else "\n".join(layout_lines))
    text = image_bytes(source, ".svg").decode()
    layout = ET.fromstring(text[text.find("<svg"):])  # without the XML declaration and DOCTYPE
    prefixes = [f"{ids}f{n}-" if ids else "" for n in range(len(states))]
    frames = tuple(
        StepFrame(name, k, picture.n_steps - 1, caption,
                  _paint(layout, looks, caption_lines if captions else None, prefix),
                  prefix + active if active else "")
        for (name, k, looks, caption, active), caption_lines, prefix
        in zip(states, lines, prefixes))
    kinds = tuple(dict.fromkeys(picture.kind[node] for node in picture.order))
    roles = tuple(dict.fromkeys(node.op.role for node in picture.order if node.op is not None))
    return Stepper(frames, picture.names(), kinds, roles, picture.color)


def frame_count(root: Value, forward: bool = False) -> int:
    """How many frames a stepper of root has: per pass, a first one (the seed, or the leaves)
    and one per op node."""
    ops = sum(1 for node in topological_order(root) if node.op is not None)
    return (1 + forward) * (1 + ops)


def check_frames(root: Value, forward: bool, max_frames: int, max_nodes: int) -> None:
    """Refuse a stepper of more than max_nodes nodes or max_frames frames before drawing any,
    naming both numbers."""
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(f"max_frames must be a positive int, got {max_frames!r}")
    if not isinstance(root, Value):
        raise TypeError(f"drawing needs a Value, got {type(root).__name__}: {root!r}")
    order = topological_order(root)
    _check_size(order, max_nodes)
    n = (1 + forward) * (1 + sum(1 for node in order if node.op is not None))
    if n > max_frames:
        raise ValueError(f"this stepper would draw {n} frames, more than max_frames="
                         f"{max_frames} (each frame draws the whole graph): step through a "
                         f"smaller graph, or pass a larger max_frames")


def _check_size(order: Sequence[Value], max_nodes: int) -> None:
    if len(order) > max_nodes:
        raise ValueError(
            f"the graph below this Value has {len(order)} nodes, more than "
            f"max_nodes={max_nodes}; Graphviz would take minutes or hours on it. Draw less: "
            f"the loss of one sample instead of a batch, or a sub-graph from a chosen "
            f"intermediate node (to_dot(node) draws only what node depends on), or pass a "
            f"larger max_nodes if you really mean it")


@dataclass(frozen=True)
class _Look:
    """How one drawn element looks in one frame: its texts, fill, outline colour and width
    ("" and 0: the layout's own)."""

    texts: tuple[str, ...]
    fill: str = ""
    color: str = ""
    width: float = 0.0


def _width(text: str) -> int:
    return len(text)  # Helvetica's digits and letters are near enough one width for this


def _widest(states: list[dict[str, _Look]]) -> dict[str, _Look]:
    """Per element, the widest text each of its places shows in any frame, in plain colours."""
    merged = {key: replace(look, color="", width=0.0) for key, look in states[0].items()}
    for looks in states[1:]:
        for key, look in looks.items():
            old = merged[key]
            texts = tuple(max(a, b, key=_width) for a, b in zip(old.texts, look.texts))
            merged[key] = replace(old, texts=texts)
    return merged


def _widest_lines(captions: list[list[str]]) -> list[str]:
    """The widest line of any caption at each line number, for as many lines as the longest."""
    rows = max(len(lines) for lines in captions)
    return [max((lines[i] for lines in captions if i < len(lines)), key=_width)
            for i in range(rows)]


def _paint(layout: ET.Element, looks: Mapping[str, _Look], caption: list[str] | None,
           prefix: str) -> str:
    """The laid-out SVG repainted with one frame's looks and caption lines; ids get prefix."""
    svg = copy.deepcopy(layout)
    groups = {el.get("id"): el for el in svg.iter() if el.get("id")}
    for key, look in looks.items():
        group = groups.get(key)
        if group is not None:
            _restyle(group, look, edge=group.get("class") == "edge")
    if caption is not None:
        graph = svg.find(f"{{{_SVG}}}g")
        assert graph is not None
        lines = [el for el in graph if el.tag == _TEXT]  # the caption: the graph's own texts
        for k, el in enumerate(lines):
            el.text = caption[k] if k < len(caption) else ""
    if prefix:
        for el in svg.iter():
            if el.get("id"):
                el.set("id", prefix + el.get("id", ""))
    return ET.tostring(svg, encoding="unicode")


def _restyle(group: ET.Element, look: _Look, edge: bool) -> None:
    for el in group.iter():
        if el.tag in _SHAPES:
            if look.fill and el.get("fill") not in (None, "none"):
                el.set("fill", look.fill)
            if look.color:
                el.set("stroke", look.color)
                if edge and el.get("fill") not in (None, "none"):
                    el.set("fill", look.color)  # the arrowhead
            if look.width:
                el.set("stroke-width", f"{look.width:g}")
    texts = [el for el in group.iter() if el.tag == _TEXT]
    for el, text in zip(texts, look.texts):
        el.text = text
        if edge and look.color:
            el.set("fill", look.color)


# --- one graph, as frames ----------------------------------------------------------------------

@dataclass
class _Frame:
    """What one picture shows: grads (and uses still to add), or values known in a forward pass."""

    index: int
    grads: Mapping[Value, Any]
    pending: Mapping[Value, int] | None = None  # backward frames: a grad is final at 0
    step: Step | None = None  # backward frames: the step just applied
    before: Mapping[Value, Any] | None = None  # backward frames: parents' grads before the step
    known: set[Value] | None = None  # forward frames: nodes whose data is computed
    computing: Value | None = None  # forward frames: the op node just computed

    def active(self) -> tuple[Value | None, str]:
        """The node this frame is about and its highlight colour (red back, blue forward)."""
        if self.step is not None:
            return self.step.node, ACTIVE
        return self.computing, FORWARD


class _Picture:
    """One graph, validated and named once; writes the DOT text for any state of its grads."""

    def __init__(self, root: Value, options: DrawOptions) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"drawing needs a Value, got {type(root).__name__}: {root!r}")
        self.order = topological_order(root)
        _check_size(self.order, options.max_nodes)
        self.root, self.rankdir, self.fmt = root, options.rankdir, options.fmt
        self.edge_partials, self.color = options.edge_partials, options.color
        named = _named(options.params)
        self.index = {node: i for i, node in enumerate(self.order)}
        self.kind = {node: _kind(node, root, named) for node in self.order}
        # A node is named by its label, else by its name in params' model, else as the slides
        # name it (f, q, r, ...); constants by their number. Records and captions show a short
        # form of a long name (unique, or else the whole name); tooltips and legends all of it.
        given = {node: node.label or named.get(node, "") for node in self.order
                 if self.kind[node] != CONSTANT}
        unnamed = [node for node, name in given.items() if not name]
        self.full = {**{node: format(_number(node.data), self.fmt) for node in self.order},
                     **given,
                     **slide_names(unnamed, root, set(given.values()))}
        self.name = {**self.full, **short_names({n: self.full[n] for n in given})}
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
        last: dict[Value, Any] = {}  # each parent's grad as the last step that added left it
        for s in backward_steps(self.root, grads):
            before = {parent: last.get(parent) for parent in s.parents}
            for parent in s.parents:
                pending[parent] -= 1
            yield _Frame(s.index, grads, pending, step=s, before=before)
            for parent in s.parents:
                last[parent] = grads.get(parent)

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

    def active_id(self, frame: _Frame) -> str:
        """The DOT id of the value node this frame is about, or "" (a forward pass's start)."""
        node, _ = frame.active()
        return "" if node is None else f"v{self.index[node]}"

    def names(self) -> tuple[str, ...]:
        """Each op node's name and what it is, in full, in forward order: "q = x + y"."""
        return tuple(f"{self.full[node]} = {self._formula(node, self.full)}"
                     for node in self.order if node.op is not None)

    # --- what each element shows in a frame ---------------------------------------------------

    def looks(self, frame: _Frame) -> dict[str, _Look]:
        """Every element's texts and colours in this frame, keyed by its id in the DOT."""
        looks: dict[str, _Look] = {}
        active, mark = frame.active()
        receiving = set(frame.step.parents) if frame.step is not None else set()
        seed = frame.step is not None and frame.step.seed  # the seed runs no gate
        scale = max((abs(_number(g)) for g in frame.grads.values()), default=0.0)
        for i, node in enumerate(self.order):
            looks[f"v{i}"] = self._value_look(node, frame, scale, active, mark, receiving)
            if node.op is None:
                continue
            rec = node.op
            live = node is active and not seed
            pen = (mark, 2.5) if live else ("", 0.0)
            fill = GATE_FILL.get(rec.role, "#e5e7eb") if self.color != "none" else "#ffffff"
            looks[f"g{i}"] = _Look((rec.label, rec.role), fill, *pen)
            looks[f"o{i}"] = _Look((), "", *pen)
            # On the step's own edges, its partials: the backward frame's arithmetic.
            partials = self._edge_partials(node, live and frame.step is not None)
            adds = frame.step.contributions if live and rec.vjp is not None and frame.step else ()
            for k, parent in enumerate(node.parents):
                text = "" if partials is None else self._partial_text(node, parent, partials[k])
                if adds and adds[k] is not None:  # a custom rule: what it adds, no partial
                    text = f"custom rule: +{self._num(adds[k])}"
                looks[f"e{i}_{k}"] = _Look((text,), "", mark if live else "",
                                           2.0 if live else 0.0)
        return looks

    def _value_look(self, node: Value, frame: _Frame, scale: float, active: Value | None,
                    mark: str, receiving: set[Value]) -> _Look:
        kind = self.kind[node]
        fill = KIND_FILL[kind] if self.color == "role" else "#ffffff"
        if kind == CONSTANT:  # a number in the formula: its grad means nothing to the reader
            return _Look((self._num(node.data),), fill)
        known = frame.known is None or node in frame.known
        data = self._num(node.data) if known else ""  # blank until the forward pass gets here
        grad = ""  # not computed yet in this frame
        if node in frame.grads:
            grad = self._num(frame.grads[node])
            if frame.pending is not None and frame.pending[node] > 0:
                grad += " so far"
            if self.color == "grad" and scale > 0.0:
                fill = _heat(abs(_number(frame.grads[node])) / scale)
        texts = (self.name[node], f"data {data}", f"grad {grad}")
        if node is active:
            return _Look(texts, fill, mark, 2.5)
        if node in receiving:
            return _Look(texts, fill, RECEIVING, 2.0)
        return _Look(texts, fill)

    def _edge_partials(self, node: Value, live: bool) -> tuple[float, ...] | None:
        if not (self.edge_partials or live):
            return None
        if node.op is not None and node.op.vjp is not None:
            return None  # a custom rule has no partials: its caption says what it added
        try:
            return local_partials(node)
        except (ArithmeticError, ValueError):  # e.g. √ at 0: draw the graph, mark the edge
            return (float("nan"),) * len(node.parents)

    def _partial_text(self, node: Value, parent: Value, d: Any) -> str:
        if d is None:  # a constant input: no partial is taken
            return ""
        partial = f"∂{_bracket(self.name[node])}/∂{_bracket(self.name[parent])}"
        if math.isnan(_number(d)):
            return f"{partial} undefined"
        return f"{partial} = {self._num(d)}"

    # --- DOT ------------------------------------------------------------------------------

    def dot(self, looks: Mapping[str, _Look], caption: str | None, legend: bool = False,
            marks: str = "") -> str:
        """The whole DOT text of the graph with these looks (and the caption under it, and
        legend=True: a legend of the colours and gates under that, with the outlines of a
        "backward" or "forward" step where marks says so)."""
        if legend:
            label = f" labelloc=b labeljust=l label={self._legend(caption, marks)}"
        elif caption is not None:
            label = f" labelloc=b labeljust=l label={_quote(caption, True)}"
        else:
            label = ""
        # ordering=in keeps each gate's inputs in operand order (x above y in x − y).
        lines = [(f"\tgraph [rankdir={self.rankdir} ordering=in fontname=Helvetica fontsize=11"
                  f"{label}]\n"),
                 "\tnode [fontname=Helvetica fontsize=11 style=filled]\n",
                 "\tedge [fontname=Helvetica fontsize=10 color=\"#6b7280\"]\n"]
        for i, node in enumerate(self.order):
            look = looks[f"v{i}"]
            if self.kind[node] == CONSTANT:
                lines.append(f"\tv{i} [id=\"v{i}\" shape=box style=\"filled,rounded\" "
                             f"fillcolor=\"{look.fill}\" label={_quote(look.texts[0])} "
                             f"tooltip=\"constant\"]\n")
            else:
                fields = " | ".join(_record_escape(text) for text in look.texts)
                lines.append(f"\tv{i} [id=\"v{i}\" shape=record fillcolor=\"{look.fill}\" "
                             f"label=\"{{ {fields} }}\" tooltip={_quote(self._tooltip(node))}"
                             f"{_pen(look)}]\n")
            if node.op is not None:
                lines.extend(self._gate_lines(i, node, looks))
        return "digraph {\n" + "".join(lines) + "}\n"

    def _legend(self, caption: str | None, marks: str = "") -> str:
        """An HTML-like label: the caption's lines, then what each colour and gate means."""
        rows = []
        if caption:
            text = "".join(html.escape(line, quote=False) + '<BR ALIGN="LEFT"/>'
                           for line in caption.split("\n"))
            rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{text}</TD></TR>')
        kinds = dict.fromkeys(self.kind[node] for node in self.order)
        roles = dict.fromkeys(node.op.role for node in self.order if node.op is not None)
        if self.color == "role":
            cells = [(KIND_FILL[kind], KIND_MEANING[kind]) for kind in kinds]
            cells += [(GATE_FILL.get(role, "#e5e7eb"), f"{role}: {ROLE_SHORT.get(role, role)}")
                      for role in roles]
        elif self.color == "grad":
            cells = [("#ffffff", "grad 0"), (HEAT, "the largest |grad|")]
        else:
            cells = []
        key = "".join(f'<TD BGCOLOR="{fill}">{html.escape(meaning, quote=False)}</TD>'
                      for fill, meaning in cells)
        outlines = {"backward": [(ACTIVE, "this step"), (RECEIVING, "the inputs it adds to")],
                    "forward": [(FORWARD, "just computed")]}.get(marks, [])
        key += "".join(f'<TD COLOR="{colour}" BORDER="2">{meaning}</TD>'
                       for colour, meaning in outlines)
        head = "{ name | data | grad }"
        rows.append(f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" '
                    f'CELLPADDING="2"><TR><TD BORDER="0">{html.escape(head)}</TD>{key}</TR>'
                    f'</TABLE></TD></TR>')
        return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'

    def _gate_lines(self, i: int, node: Value, looks: Mapping[str, _Look]) -> list[str]:
        rec = node.op
        assert rec is not None
        gate = looks[f"g{i}"]
        symbol, role = (html.escape(text, quote=False) for text in gate.texts)
        # The role is written inside the gate, under its symbol: a label beside it (xlabel)
        # is placed after layout and can land on a neighbouring node.
        label = (f"<<FONT POINT-SIZE=\"13\">{symbol}</FONT><BR/>"
                 f"<FONT POINT-SIZE=\"8\">{role}</FONT>>")
        tooltip = _quote(f"{rec.name} ({rec.role}): {rec.formula}")
        lines = [(f"\tg{i} [id=\"g{i}\" shape=ellipse margin=\"0.03,0.01\" "
                  f"fillcolor=\"{gate.fill}\" label={label} tooltip={tooltip}{_pen(gate)}]\n"),
                 f"\tg{i} -> v{i} [id=\"o{i}\"{_pen(looks[f'o{i}'])}]\n"]
        for k, parent in enumerate(node.parents):
            edge = looks[f"e{i}_{k}"]
            label = f" label={_quote(edge.texts[0])}" if edge.texts[0] else ""
            font = f" fontcolor=\"{edge.color}\"" if edge.color else ""
            lines.append(f"\tv{self.index[parent]} -> g{i} [id=\"e{i}_{k}\"{label}"
                         f"{_pen(edge)}{font}]\n")
        return lines

    def _tooltip(self, node: Value) -> str:
        what = self.full[node]
        if node.op is not None and what != self._formula(node, self.full):
            what += f" = {self._formula(node, self.full)}"
        return f"{what} ({self.kind[node]})"

    # --- captions -------------------------------------------------------------------------

    def caption(self, frame: _Frame) -> str:
        """The text under the picture: a warning before backward, or the arithmetic of a step."""
        r = self.name[self.root]
        last = self.n_steps - 1
        if frame.known is not None:
            node = frame.computing
            if node is None:
                return f"forward step 0 of {last}: the inputs"
            return (f"forward step {frame.index} of {last}: {self._defines(node)} = "
                    f"{self._formula(node, numbers=True)} = {self._num(node.data)}")
        s = frame.step
        if s is None:
            if all(_number(g) == 0.0 for g in frame.grads.values()):
                return (f"no backward yet: every grad is 0. Call {r}.backward() to fill in "
                        f"grad = d{_bracket(r)}/d(node)")
            return f"grad = d{_bracket(r)}/d(node)"
        head = f"backward step {s.index} of {last}"
        if s.seed:
            return f"{head}: the seed, {_d(r, r)} = 1"
        rec = s.node.op
        assert rec is not None and frame.before is not None and frame.pending is not None
        n = self.name[s.node]
        lines = [f"{head}: {self._defines(s.node)}   ({rec.name}, a {rec.role})"]
        g = self._term(s.grad)
        added: dict[Value, list[Any]] = {}  # each parent's terms from this step, in order
        for k, (parent, d, c) in enumerate(zip(s.parents, s.partials, s.contributions)):
            if c is None or self.kind[parent] == CONSTANT:
                continue
            p = self.name[parent]
            lines.append(f"{_d(r, p)} += {rec.name}'s custom rule (vjp) of {_d(r, n)} = {g} "
                         f"→ {self._num(c)}" if d is None else
                         f"{_d(r, p)} += ∂{_bracket(n)}/∂{_bracket(p)} · {_d(r, n)} = "
                         f"{self._num(d)} · {g} = {self._num(c)}")
            added.setdefault(parent, []).append(c)
            if parent not in s.parents[k + 1:]:  # its last term of this step: now the sum
                lines.extend(self._sum(frame, parent, added[parent]))
                left = frame.pending[parent]
                if len(added[parent]) == 1 and left and frame.before.get(parent) is None:
                    lines[-1] += f"   (so far: {left} more use{'s' * (left > 1)} of {p} to add)"
        return "\n".join(lines)

    def _sum(self, frame: _Frame, parent: Value, terms: list[Any]) -> list[str]:
        """A grad's sum written out once it has a second term: dh/dx = 1 (so far) + (-4) = -3;
        the numbers are the walk's own running sums, never added up again here."""
        assert frame.before is not None and frame.pending is not None  # a backward frame
        before = frame.before.get(parent)
        if before is None and len(terms) == 1:
            return []  # its first term: the line above says it all
        parts = [] if before is None else [f"{self._num(before)} (so far)"]
        parts += [self._num(terms[0]) if not parts else self._term(terms[0])]
        parts += [self._term(t) for t in terms[1:]]
        total = self._num(frame.grads[parent])
        if frame.pending[parent] > 0:
            total += " (so far)"
        else:
            total += f"   (complete: the sum over its {self.uses[parent]} uses)"
        return [f"{_d(self.name[self.root], self.name[parent])} = {' + '.join(parts)} = {total}"]

    def _defines(self, node: Value) -> str:
        """"q = x + y", or just "x + y" where the node's name is its expression already."""
        formula = self._formula(node)
        name = self.name[node]
        return formula if name == formula else f"{name} = {formula}"

    def _formula(self, node: Value, names: Mapping[Value, str] | None = None,
                 numbers: bool = False) -> str:
        """The node's op as the user writes it: x + y, x ** 2, tanh(x), (x + y) * z."""
        rec = node.op
        assert rec is not None
        names = self.name if names is None else names
        args = [self._term(p.data) if numbers or self.kind[p] == CONSTANT else _group(names[p])
                for p in node.parents]
        return rec.written(*args)

    def _num(self, x: Any) -> str:
        # + 0.0 turns an exact −0.0 (−0.35 · 0.0) into 0.0: "-0.0000" would read as a number
        # below zero; a tiny negative number keeps its sign.
        return format(_number(x) + 0.0, self.fmt)

    def _term(self, x: Any) -> str:
        """A number as an operand: a negative one in parentheses, so (-3) ** 2 reads right."""
        text = self._num(x)
        return f"({text})" if text.startswith("-") else text


def slide_names(nodes: Sequence[Value], root: Value, taken: Set[str]) -> dict[Value, str]:
    """Names for nodes (unnamed, in topological order) as the slides write them: the root f,
    the others q, r, s, ... in the order they are computed, skipping taken names; the root
    named last when f is taken, so that names never run backwards."""
    pool = (name for name in itertools.chain(NAMES, (f"n{k}" for k in itertools.count(1)))
            if name not in taken and name != ROOT_NAME)
    names = {node: next(pool) for node in nodes if node is not root}
    if root in nodes:
        names[root] = ROOT_NAME if ROOT_NAME not in taken else next(pool)
    return names


def short_names(names: Mapping[Value, str]) -> dict[Value, str]:
    """Each name in at most MAX_NAME characters, keeping its informative tail: a dotted model
    name as l0.n3.w1, another as head…tail. Names whose short forms would meet keep their
    whole text, so that two different names never read alike."""
    short = {node: _short(name) for node, name in names.items()}
    sources: dict[str, set[str]] = {}
    for node, text in short.items():
        sources.setdefault(text, set()).add(names[node])
    return {node: text if len(sources[text]) == 1 else names[node]
            for node, text in short.items()}


def _short(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    if "." in name:  # layers.0.neurons.3.w.1: the words to initials, each index kept
        words = name.split(".")
        parts: list[str] = []
        for k, word in enumerate(words):
            if word.isdigit() and parts:
                parts[-1] += word
            else:
                parts.append(word if k == len(words) - 1 else word[:1])
        name = ".".join(parts)
        if len(name) <= MAX_NAME:
            return name
    head = (MAX_NAME - 1) // 3
    return name[:head] + "…" + name[len(name) - (MAX_NAME - 1 - head):]


def _bracket(name: str) -> str:
    """A name as one symbol in derivative notation: ∂f/∂q, but ∂f/∂[x + y]."""
    return name if _SIMPLE_NAME.fullmatch(name) else f"[{name}]"


def _group(name: str) -> str:
    """A name as an operand of a formula: q * z, but (x + y) * z."""
    return name if _SIMPLE_NAME.fullmatch(name) else f"({name})"


def _d(top: str, bottom: str) -> str:
    """d(top)/d(bottom) in Leibniz's notation, compound names bracketed: df/dx, df/d[x + y]."""
    return f"d{_bracket(top)}/d{_bracket(bottom)}"


def _pen(look: _Look) -> str:
    colour = f" color=\"{look.color}\"" if look.color else ""
    return colour + (f" penwidth={look.width:g}" if look.width else "")


def _named(params: Params) -> dict[Value, str]:
    """Each parameter with its name ("" for a Value passed without one)."""
    if isinstance(params, NamedParameters):
        return {p: name for name, p in params.named_parameters()}
    if isinstance(params, Mapping):
        return {p: name for name, p in params.items()}
    return dict.fromkeys(params, "")


def _kind(node: Value, root: Value, params: Mapping[Value, str]) -> str:
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
    """White for |grad| = 0 up to HEAT (violet) for the largest |grad| in the picture."""
    low = (0xa7, 0x8b, 0xfa)
    return "#" + "".join(f"{round(255 - (255 - c) * t):02x}" for c in low)


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

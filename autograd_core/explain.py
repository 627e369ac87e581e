"""Why is this gradient zero, or tiny? `explain(node, root)` walks every path from root down to
node and names the gates where the gradient stops (a local slope of 0) or fades (below 1e-3),
reading each gate's role, name and partial rules from the op record its node carries.

d(root)/d(node) = Σ over paths root → node of the product of the local slopes on the path: it
is 0 when every path crosses a slope of 0, or when the paths' terms cancel; it is tiny when a
path's slopes multiply to a tiny number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .engine import Link, Value, chain_rule, local_partials, topological_order
from .ops import BLOCKER, ROUTER, SCALER, SWAPPER

TINY = 1e-3  # a grad, or a local slope, smaller than this in size is "tiny" (a rule of thumb)

# What a Reason says happened, one word each.
DEAD = "dead"  # a one-input router on its flat side (relu with pre-activation ≤ 0)
ROUTED = "routed elsewhere"  # a router (max, min, clamp) sent the whole gradient to another input
BLOCKED = "blocked"  # a blocker gate (step): slope 0 everywhere
SATURATED = "saturated"  # a scaler (σ, tanh, ...) whose local slope is below TINY
TIMES_ZERO = "multiplied by zero"  # a swapper (x·y) whose other input is 0
FLAT = "flat"  # any other gate with slope 0 at this point (|x| at 0, x ** 0)
SMALL = "small slope"  # any other gate with a slope below TINY (w·x with a tiny w)
UNUSED = "unused"  # the node is not in the graph below root
CONSTANT = "constant"  # a Constant, or an input an op record takes as a number
CANCELLED = "cancelled"  # open paths whose terms sum to 0
VANISHING = "vanishing"  # no single tiny slope: the product along the best path is tiny
CUSTOM_RULE = "custom rule"  # a custom rule (vjp) passed nothing, or little, of its grad on


@dataclass(frozen=True)
class Reason:
    """One cause: `kind` (DEAD, ROUTED, ...), the gate where it happens and the input of that
    gate on the path (None for a cause about the node itself), the local slope ∂gate/∂input
    there, and the sentence that says it with names and numbers."""

    kind: str
    gate: Value | None
    input: Value | None
    slope: float | None
    text: str


@dataclass(frozen=True)
class Explanation:
    """Why d(root)/d(node) = grad: how many paths join them, how many cross no slope of 0
    (open), and the reasons; str() is the whole explanation as text."""

    node: Value
    root: Value
    grad: float
    paths: int
    open_paths: int
    summary: str
    reasons: tuple[Reason, ...]
    tiny: float = TINY

    @property
    def zero(self) -> bool:
        """d(root)/d(node) is exactly 0."""
        return self.grad == 0.0

    @property
    def small(self) -> bool:
        """d(root)/d(node) is 0, or below `tiny` in size."""
        return abs(self.grad) < self.tiny

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of the reasons, each once, in order."""
        return tuple(dict.fromkeys(r.kind for r in self.reasons))

    def __str__(self) -> str:
        return "\n".join([self.summary] + [f"  - {r.text}" for r in self.reasons])

    def __repr__(self) -> str:
        return f"<Explanation: {self.summary} (print it for the reasons)>"


Names = Mapping[str, Value] | Iterable[tuple[str, Value]] | Any


def explain(node: Value, root: Value, *, params: Names = (), tiny: float = TINY) -> Explanation:
    """Why d(root)/d(node) is 0 or tiny: the gates on the paths from root to node where a local
    slope ∂gate/∂input is 0 (dead relu, max routed elsewhere, step, times zero) or below
    `tiny` (a saturated σ or tanh), an unused input, a Constant, or terms that cancel.

    Nodes are named by label, else by their name in `params` (a model, a {name: Value} dict or
    (name, Value) pairs), else n0, n1, ... in topological order, as the pictures name them.
    Reads the forward values only; no grad is changed.
    """
    if not isinstance(node, Value) or not isinstance(root, Value):
        bad = node if not isinstance(node, Value) else root
        raise TypeError(f"explain(node, root) needs two Values, got {type(bad).__name__}: "
                        f"{bad!r}")
    if isinstance(tiny, bool) or not isinstance(tiny, (int, float)) or not tiny > 0:
        raise ValueError(f"tiny must be a positive number, got {tiny!r}")
    order = topological_order(root)
    return explain_in(node, root, order, node_names(order, root, params), float(tiny))


def node_names(order: list[Value], root: Value, params: Names = ()) -> dict[Value, str]:
    """Each node's name as the pictures write it: its label, its name in params, a number of
    the formula by its value, else as the slides name it (root f; the others q, r, s, ... in
    the order they are computed)."""
    from .render import slide_names  # the pictures' own scheme, so the two never disagree

    named = _named(params)
    given = {n: n.label or named.get(n, "") for n in order if not n.constant}
    unnamed = [n for n, name in given.items() if not name]
    return {**{n: n.label or _num(n.data) for n in order if n.constant},
            **{n: name for n, name in given.items() if name},
            **slide_names(unnamed, root, set(given.values()))}


def _named(params: Names) -> dict[Value, str]:
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    elif isinstance(params, Mapping):
        params = params.items()
    named: dict[Value, str] = {}
    for item in params:
        if isinstance(item, Value):  # Values passed without names: they keep theirs
            continue
        name, value = item
        named[value] = str(name)
    return named


def explain_in(node: Value, root: Value, order: list[Value], names: Mapping[Value, str],
               tiny: float = TINY) -> Explanation:
    """`explain` on a graph already in topological order with its nodes named (the stepper
    page explains several nodes of one graph, with its picture's names)."""
    n, r = names.get(node, node.label or "the node"), names.get(root, root.label or "the root")
    d = f"d{r}/d{n}"
    if node is root:
        return Explanation(node, root, 1.0, 1, 1, f"{d} = 1: {n} is the root itself", ())
    if node not in names:
        text = (f"{n} is not in the graph below {r}: {r} does not use it (an unused input), so "
                f"no path carries a gradient to it")
        return Explanation(node, root, 0.0, 0, 0, f"{d} = 0: {n} is unused",
                           (Reason(UNUSED, None, node, None, text),))
    if node.constant:
        value = _num(node.data)
        text = (f"{n if n == value else f'{n} = {value}'} is a Constant, a number from the "
                f"formula: it takes no gradient")
        return Explanation(node, root, 0.0, 0, 0, f"{d} = 0: {n} is a Constant",
                           (Reason(CONSTANT, None, node, None, text),))

    # The walk backward computes: the final grads, and each gate's local slopes.
    grads: dict[Value, Any] = {}
    links = {link.node: link for link in chain_rule(root, grads=grads)}
    slopes = {v: link.partials if v.op.vjp is None else _factors(link)  # type: ignore[union-attr]
              for v, link in links.items()}
    grad = float(grads.get(node, 0.0))
    # The nodes on some path from root to node: those that depend on node (parents first).
    on_path = {node}
    for v in order:
        if any(p in on_path for p in v.parents):
            on_path.add(v)
    # Paths from root (repeats count: x * x reaches x twice), all of them and the open ones.
    paths = {root: 1}
    open_paths = {root: 1}
    for v in reversed(order):
        if v not in on_path or v.op is None:
            continue
        for p, slope in zip(v.parents, slopes[v]):
            if p in on_path:
                paths[p] = paths.get(p, 0) + paths.get(v, 0)
                if slope is not None and slope != 0.0:
                    open_paths[p] = open_paths.get(p, 0) + open_paths.get(v, 0)
    total, live = paths.get(node, 0), open_paths.get(node, 0)
    # The gates where a gradient that reached them stops or fades, nearest the root first.
    stops: list[Reason] = []
    fades: list[Reason] = []
    for v in reversed(order):
        if v.op is None or v not in on_path or not open_paths.get(v, 0):
            continue
        for k, (p, slope) in enumerate(zip(v.parents, slopes[v])):
            if p not in on_path or v.parents.index(p) != k:
                continue  # off the path, or the same input a second time (x * x)
            if slope is None:
                stops.append(_constant_input(v, k, names))
            elif v.op.vjp is not None:
                if abs(slope) < tiny:
                    (stops if slope == 0.0 else fades).append(_custom(v, k, links[v], names))
            elif slope == 0.0:
                stops.append(_stop(v, k, names))
            elif abs(slope) < tiny:
                fades.append(_fade(v, k, float(slope), names, tiny))
    count = f"{total} path{'s' * (total != 1)}"
    if grad == 0.0 and live == 0:
        every = "the one path" if total == 1 else f"every one of the {count}"
        summary = (f"{d} = 0: {every} from {r} to {n} crosses a gate that passes no "
                   f"gradient")
        reasons = tuple(stops)
    elif grad == 0.0:
        summary = (f"{d} = 0: {live} of the {count} from {r} to {n} carry a gradient, and "
                   f"their terms cancel")
        reasons = (_cancelled(node, root, order, grads, slopes, names, d), *stops)
    elif abs(grad) < tiny:
        summary = f"{d} = {_num(grad)}: tiny (below {tiny:g} in size)"
        if not fades:
            fades.append(_vanishing(node, root, order, slopes, on_path, names, tiny))
        reasons = (*fades, *stops)
    else:
        summary = f"{d} = {_num(grad)}: neither 0 nor tiny (below {tiny:g} in size)"
        if stops:
            summary += f"; {total - live} of the {count} are blocked"
        reasons = tuple(stops)
    return Explanation(node, root, grad, total, live, summary, reasons, tiny)


def _num(x: float) -> str:
    return f"{x:.4g}"


def _written(gate: Value, names: Mapping[Value, str]) -> str:
    """The gate as the user writes it, with its inputs named: relu(z), w * x."""
    assert gate.op is not None
    args = [_num(p.data) if p.constant else _operand(names.get(p, "?")) for p in gate.parents]
    return f"{names.get(gate, '?')} = {gate.op.written(*args)}"


def _operand(name: str) -> str:
    return name if name.replace("_", "").replace(".", "").isalnum() else f"({name})"


def _inputs(gate: Value, names: Mapping[Value, str]) -> str:
    """Each input with its value: "z = -0.7", "x = 0.3, y = 1.2"."""
    return ", ".join(f"{names.get(p, '?')} = {_num(p.data)}" for p in gate.parents
                     if not p.constant)


def _stop(gate: Value, k: int, names: Mapping[Value, str]) -> Reason:
    """Why the slope ∂gate/∂(input k) = 0 stops the gradient, by the role of the gate's op."""
    op = gate.op
    assert op is not None
    p = gate.parents[k]
    pn, g = names.get(p, "?"), names.get(gate, "?")
    where = f"{_written(gate, names)} at {_inputs(gate, names)}"
    rule = _rule(gate, k, names)
    slope = (f"∂{g}/∂{pn} = {rule} = 0" if rule not in ("", "0") else
             f"∂{g}/∂{pn} = 0" if rule else f"∂{g}/∂{pn} = 0 ({op.doc})")
    if op.role == BLOCKER:
        return Reason(BLOCKED, gate, p, 0.0,
                      f"a {_called(op)} gate: {where}; its slope is 0 everywhere, {slope}, so no "
                      f"gradient passes to {pn}")
    if op.role == ROUTER:
        taken = [q for q, s in zip(gate.parents, _slopes(gate)) if s and not q.constant
                 and q is not p]
        if taken:
            to = ", ".join(names.get(q, "?") for q in taken)
            return Reason(ROUTED, gate, p, 0.0,
                          f"{_called(op)} routed the gradient elsewhere: {where}; it all goes to "
                          f"{to}, and {slope}")
        return Reason(DEAD, gate, p, 0.0,
                      f"a dead {_called(op)}: {where}; its input {pn} is on the side where "
                      f"{_called(op)} passes nothing, {slope}")
    if op.role == SWAPPER:
        others = [q for j, q in enumerate(gate.parents) if j != k]
        other = ", ".join(f"{names.get(q, '?')} = {_num(q.data)}" for q in others)
        return Reason(TIMES_ZERO, gate, p, 0.0,
                      f"multiplied by zero: {where}; {slope} because the other input is 0 "
                      f"({other})")
    return Reason(FLAT, gate, p, 0.0, f"{_called(op)} is flat here: {where}; {slope}")


def _fade(gate: Value, k: int, slope: float, names: Mapping[Value, str], tiny: float) -> Reason:
    """A slope that is not 0 but below tiny: a saturated σ or tanh, or a tiny factor."""
    op = gate.op
    assert op is not None
    p = gate.parents[k]
    rule = _rule(gate, k, names)
    where = (f"{_written(gate, names)} at {_inputs(gate, names)} (= {gate.data:.7g}): "
             f"∂{names.get(gate, '?')}/∂{names.get(p, '?')} = {rule + ' = ' if rule else ''}"
             f"{_num(slope)}, below {tiny:g}{'' if rule else f' ({op.doc})'}")
    if op.role == SCALER:
        return Reason(SATURATED, gate, p, slope, f"a saturated {_called(op)}: {where}")
    return Reason(SMALL, gate, p, slope, f"a small slope through {_called(op)}: {where}")


def _called(op: Any) -> str:
    """The op as a user writes it: relu, max, sigmoid by name; x ** n, x * y by their syntax
    (its record's name, powc or mul, is internal)."""
    if op.syntax.startswith(op.name + "("):
        return str(op.name)
    return str(op.syntax.format(*op.inputs))


def _rule(gate: Value, k: int, names: Mapping[Value, str]) -> str:
    """∂gate/∂(input k) as its op's rule writes it in these names ("[q > 0]", "s·(1 − s)"); ""
    where the rule cannot be written on symbols, or has a number by definition in it."""
    op = gate.op
    assert op is not None
    if any(q.constant and j in op.constant for j, q in enumerate(gate.parents)):
        return ""  # x ** n: the rule's n would read as the number's digits
    written = op.partial_written(k, out=names.get(gate, "out"),
                                 inputs=tuple(names.get(q, "?") for q in gate.parents))
    return "" if not written or "∂" in written else written


def _factors(link: Link) -> tuple[Any, ...]:
    """A custom rule's step as slopes: what it passed to each input per unit of upstream grad
    in this pass (it has no local partials; its rule may not even be linear in g)."""
    g = float(link.grad)
    return tuple(None if c is None else float(c) / g if g else float(c != 0.0)
                 for c in link.contributions)


def _custom(gate: Value, k: int, link: Link, names: Mapping[Value, str]) -> Reason:
    """A custom rule (vjp) that passed little or nothing of its upstream grad to input k."""
    op = gate.op
    assert op is not None
    p = gate.parents[k]
    c = float(link.contributions[k])
    return Reason(CUSTOM_RULE, gate, p, c / float(link.grad) if link.grad else 0.0,
                  f"a custom rule: {_written(gate, names)} at {_inputs(gate, names)}; its vjp "
                  f"turned its upstream grad {_num(float(link.grad))} into {_num(c)} for "
                  f"{names.get(p, '?')}")


def _constant_input(gate: Value, k: int, names: Mapping[Value, str]) -> Reason:
    op = gate.op
    assert op is not None
    return Reason(CONSTANT, gate, gate.parents[k], None,
                  f"{_written(gate, names)} takes its input {op.inputs[k]} as a number by "
                  f"definition: no gradient flows to {names.get(gate.parents[k], '?')} "
                  f"({op.doc})")


def _slopes(gate: Value) -> tuple[Any, ...]:
    """The gate's local slopes at its forward values (0 for an input that takes none)."""
    return tuple(0.0 if s is None else s for s in local_partials(gate))


def _cancelled(node: Value, root: Value, order: list[Value], grads: Mapping[Value, Any],
               slopes: Mapping[Value, tuple[Any, ...]], names: Mapping[Value, str],
               d: str) -> Reason:
    """The terms each use of node adds to its grad (slope · upstream grad), which sum to 0."""
    terms = []
    for v in order:
        if v.op is None:
            continue
        for p, slope in zip(v.parents, slopes[v]):
            if p is node and slope is not None:
                g = float(grads.get(v, 0.0))
                gate, r = names.get(v, "?"), names.get(root, "?")
                terms.append(f"{v.op.name}'s custom rule of d{r}/d{gate} = {_num(g)} → "
                             f"{_num(slope * g)}" if v.op.vjp is not None else
                             f"∂{gate}/∂{names.get(node, '?')} · d{r}/d{gate} = "
                             f"{_num(slope)} · {_num(g)} = {_num(slope * g)}")
    return Reason(CANCELLED, None, node, None,
                  f"{names.get(node, '?')} is used {len(terms)} time{'s' * (len(terms) != 1)}; "
                  f"{d} is the sum of one term per use, and they cancel: " + "; ".join(terms))


def _vanishing(node: Value, root: Value, order: list[Value],
               slopes: Mapping[Value, tuple[Any, ...]], on_path: set[Value],
               names: Mapping[Value, str], tiny: float) -> Reason:
    """No single slope is tiny: name the path with the largest |product| and its factors."""
    # Largest Σ log|slope| from root to each node, with the step that achieved it.
    best: dict[Value, float] = {root: 0.0}
    back: dict[Value, tuple[Value, float]] = {}
    for v in reversed(order):
        if v not in best or v.op is None:
            continue
        for p, slope in zip(v.parents, slopes[v]):
            if p in on_path and slope:
                score = best[v] + math.log(abs(slope))
                if score > best.get(p, -math.inf):
                    best[p], back[p] = score, (v, float(slope))
    factors = []
    at = node
    while at in back:
        gate, slope = back[at]
        assert gate.op is not None
        factors.append((gate.op.name, names.get(gate, "?"), slope))
        at = gate
    factors.reverse()
    product = math.exp(best.get(node, -math.inf))
    shown = sorted(factors, key=lambda f: abs(f[2]))[:6]
    smallest = ", ".join(f"{op} at {g}: {_num(s)}" for op, g, s in shown)
    return Reason(VANISHING, None, node, product,
                  f"no single slope is below {tiny:g}, but the strongest path from "
                  f"{names.get(root, '?')} to {names.get(node, '?')} multiplies "
                  f"{len(factors)} slopes to {_num(product)}; the smallest: {smallest}")

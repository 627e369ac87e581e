"""Hypothesis strategies built from the op table's test ranges, for our tests and for yours.

`values(op)` draws inputs for one op; `expressions()` draws whole expression DAGs over every op.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from hypothesis import assume
from hypothesis import strategies as st

from . import ops
from .gradcheck import gradcheck
from .ops import OPS, Op

KINK_MARGIN = 1e-2  # central differences straddle a kink closer than this


def values(op: Op, margin: float = KINK_MARGIN) -> st.SearchStrategy[tuple[float, ...]]:
    """Input tuples for `op` inside its test range and at least `margin` from its kinks."""
    if not 0 <= margin < float("inf"):
        raise ValueError(f"margin must be a finite distance ≥ 0, got {margin!r}")
    per_input = [st.floats(lo, hi, allow_nan=False, allow_infinity=False)
                 for lo, hi in op.test_range]

    @st.composite
    def inputs(draw: Any) -> tuple[float, ...]:
        xs = tuple(draw(s) for s in per_input)
        assume(op.kink is None or op.kink(*xs) > margin)
        return xs

    return inputs()


# --- random expression DAGs ---------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class Term:
    """One term of a drawn expression: `op` applied to earlier terms; a constant if op is None."""

    op: Op | None
    args: tuple[int, ...] = ()  # indices of earlier nodes; inputs are nodes 0 .. n_inputs-1
    constant: float = 0.0

    def __repr__(self) -> str:
        return f"Term({self.op.name}, {self.args})" if self.op else f"Term({self.constant!r})"


@dataclass(frozen=True, repr=False)
class Expression:
    """A drawn DAG over `len(inputs)` variables; `build(*xs)` rebuilds it on numbers or Values.

    Nodes may be used many times (fan-out, diamonds); the last node is the root.
    """

    inputs: tuple[float, ...]
    terms: tuple[Term, ...]

    def build(self, *xs: Any) -> Any:
        """The root, computed from xs: a Value graph on Values, a float on floats."""
        if len(xs) != len(self.inputs):
            raise TypeError(f"expression takes {len(self.inputs)} inputs, got {len(xs)}")
        nodes = list(xs)
        for term in self.terms:
            if term.op is None:
                nodes.append(term.constant)
            else:
                nodes.append(term.op(*(nodes[i] for i in term.args)))
        return nodes[-1]

    __call__ = build

    @property
    def ops(self) -> list[Op]:
        """The ops of the graph in build order, repeats kept."""
        return [term.op for term in self.terms if term.op is not None]

    def __repr__(self) -> str:
        n = len(self.inputs)
        names = [f"x{i}" for i in range(n)]
        lines = [f"Expression(inputs={self.inputs!r}) where"]
        for k, term in enumerate(self.terms, start=n):
            if term.op is None:  # constants are written in place, not as nodes
                names.append(repr(term.constant))
                continue
            names.append(f"n{k}")
            args = ", ".join(names[i] for i in term.args)
            lines.append(f"    n{k} = {term.op.name}({args})")
        lines.append(f"    root = {names[-1]}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis prints falsifying examples with this hook: use the equations.
        printer.text(repr(self))


def _slopes(op: Op, xs: Sequence[float]) -> tuple[float, ...]:
    out = op.forward(*xs)
    return tuple(0.0 if rule is None else abs(rule if type(rule) is float else rule(out, *xs))
                 for rule in op.partials)


class _Builder:
    """The graph being drawn: every node's value at the inputs, its depth and its slope.

    The slope of a node bounds |∂node/∂inputs| (the sum of |local partial| × slope of each
    argument); it tells how far a finite-difference step can move the node.
    """

    def __init__(self, inputs: Sequence[float]) -> None:
        self.inputs = tuple(inputs)
        self.terms: list[Term] = []
        self.data = list(self.inputs)
        self.depth = [0] * len(self.inputs)
        self.slope = [1.0] * len(self.inputs)

    def variables(self) -> list[int]:
        """Indices of the inputs and op nodes (constants are numbers in the built graph)."""
        return [k for k in range(len(self.data))
                if k < len(self.inputs) or self.terms[k - len(self.inputs)].op is not None]

    def rollback(self, size: int) -> None:
        """Forget every node from index `size` on."""
        del self.terms[size - len(self.inputs):], self.data[size:], self.depth[size:]
        del self.slope[size:]

    def constant(self, c: float) -> int:
        self.terms.append(Term(None, (), c))
        self.data.append(c)
        self.depth.append(0)
        self.slope.append(0.0)
        return len(self.data) - 1

    def apply(self, op: Op, args: tuple[int, ...], max_slope: float) -> int | None:
        """Add op(args) and return its index; None (nothing added) if the result is too steep."""
        xs = [self.data[i] for i in args]
        slope = sum(d * self.slope[i] for d, i in zip(_slopes(op, xs), args))
        if not slope <= max_slope:
            return None
        self.terms.append(Term(op, args))
        self.data.append(op.forward(*xs))
        self.depth.append(1 + max(self.depth[i] for i in args))
        self.slope.append(slope)
        return len(self.data) - 1


def _inner(lo: float, hi: float, margin: float) -> tuple[float, float]:
    """The part of [lo, hi] at least margin·(hi − lo) from either end."""
    pad = margin * (hi - lo)
    return lo + pad, hi - pad


def _moderate(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Numbers in [lo, hi] rounded to six decimals, which also reads well in failure reports."""
    # No subnormals or 1e-300s: their products underflow and round differently in each order,
    # so exact properties (grad of f + f is 2·grad f) would fail on arithmetic, not on bugs.
    return st.floats(lo, hi).map(lambda c: min(max(round(c, 6), lo), hi))


def _inside(op: Op, i: int, x: float) -> bool:
    lo, hi = op.test_range[i]
    return lo <= x <= hi


def _squash(g: _Builder, j: int, lo: float, hi: float, max_slope: float) -> int | None:
    """Node j mapped smoothly into (lo, hi) by a + span·σ(node), every op inside its domain.

    The span is capped so that the constants and the product stay inside mul's and add's own
    domains; None if they cannot (the caller then uses a constant).
    """
    span = min(hi - lo, 0.45 * (ops.MUL.test_range[1][1] - ops.MUL.test_range[1][0]))
    a = max(lo, (lo + hi - span) / 2)
    if not (_inside(ops.MUL, 1, span) and _inside(ops.ADD, 1, a) and _inside(ops.ADD, 0, span)):
        return None
    s = g.apply(ops.SIGMOID, (j,), max_slope)
    scaled = None if s is None else g.apply(ops.MUL, (s, g.constant(span)), max_slope)
    return None if scaled is None else g.apply(ops.ADD, (scaled, g.constant(a)), max_slope)


def _argument(draw: Any, g: _Builder, lo: float, hi: float, max_depth: int, margin: float,
              max_slope: float) -> int:
    """A node whose value lies in [lo, hi]: an earlier one, a squashed one, or a constant."""
    if draw(st.integers(0, 5)) < 5:  # shrinks towards reusing nodes, not constants
        # Any earlier node that fits, reused freely: this is where fan-out and diamonds come from.
        fits = [k for k in g.variables() if lo <= g.data[k] <= hi and g.depth[k] < max_depth]
        if fits:
            return fits[-1 - draw(st.integers(0, len(fits) - 1))]
        # Nothing fits: squash a node into the domain (three levels deeper).
        s_lo, s_hi = _inner(*ops.SIGMOID.test_range[0], margin)
        movable = [k for k in g.variables()
                   if s_lo <= g.data[k] <= s_hi and g.depth[k] < max_depth - 3]
        if movable:
            size = len(g.data)
            squashed = _squash(g, movable[-1 - draw(st.integers(0, len(movable) - 1))], lo, hi,
                               max_slope)
            if squashed is not None:
                return squashed
            g.rollback(size)
    return g.constant(draw(_moderate(lo, hi)))


@st.composite
def _expressions(draw: Any, inputs: st.SearchStrategy[tuple[float, ...]], table: tuple[Op, ...],
                 max_ops: int, max_depth: int, margin: float, max_slope: float) -> Expression:
    g = _Builder(draw(inputs))
    n_ops = draw(st.integers(1, max_ops))
    made: list[int] = []
    for _ in range(4 * n_ops):  # attempts: a step near a kink or too steep is dropped
        if len(made) >= n_ops:
            break
        size = len(g.data)
        op = draw(st.sampled_from(table))
        args = []
        for i, (lo, hi) in enumerate(op.test_range):
            lo, hi = _inner(lo, hi, margin)
            if i in op.constant:
                args.append(g.constant(draw(_moderate(lo, hi))))
            else:
                args.append(_argument(draw, g, lo, hi, max_depth, margin, max_slope))
        # Away from kinks by more than a finite-difference step can move the arguments.
        reach = 1.0 + max(g.slope[k] for k in args)
        near_kink = op.kink is not None and not op.kink(*(g.data[k] for k in args)) > margin * reach
        # An op of constants only would be a number, not a node, in the built graph.
        variables = set(g.variables())
        node = None
        if not near_kink and any(k in variables for k in args):
            node = g.apply(op, tuple(args), max_slope)
        if node is None:
            g.rollback(size)
        else:
            made.append(node)
    # Sum the unused op nodes into the root, so no drawn op is dead code (while the sum stays
    # inside add's domain). Each sum is the newest node, so the root stays the last node.
    used = {k for term in g.terms for k in term.args}
    if not made:  # every attempt was near a kink or too steep: the root is x0 + 0
        made.append(g.apply(ops.ADD, (0, g.constant(0.0)), max_slope) or 0)
    root = made[-1]
    for k in made[:-1]:
        if k not in used and _inside(ops.ADD, 0, g.data[root]) and _inside(ops.ADD, 1, g.data[k]):
            root = g.apply(ops.ADD, (root, k), max_slope) or root
    return Expression(g.inputs, tuple(g.terms))


def expressions(n_inputs: int | tuple[int, int] = (1, 3), *, inputs: Sequence[float] | None = None,
                max_ops: int = 8, max_depth: int = 6, table: Iterable[Op] | None = None,
                margin: float = 0.05, max_slope: float = 1e3) -> st.SearchStrategy[Expression]:
    """Random expression DAGs over every op of the table, safe for finite differences.

    Each op gets arguments at least `margin`·width inside its domain (earlier nodes, reused
    freely, or constants; a node squashed through σ when none fits) and further than
    `margin`·(1 + slope) from its kinks; no node's |∂node/∂inputs| exceeds `max_slope`.
    Up to `max_ops` ops are drawn, at most `max_depth` deep; op nodes nothing uses are then
    added into the root. `inputs` fixes the variables' values (to draw several expressions at
    the same point); else `n_inputs` (a count or a (min, max) range) values are drawn in
    [-3, 3].
    """
    # Checked here, where the caller passed them: inside the strategy a bad value would surface
    # as a puzzling hypothesis error far from its cause.
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin is a fraction of each domain's width in [0, 0.5), "
                         f"got {margin!r}")
    if not max_slope > 0:
        raise ValueError(f"max_slope must be > 0 (inf for no limit), got {max_slope!r}")
    if inputs is not None:
        bad = [x for x in inputs if not isinstance(x, numbers.Real) or isinstance(x, bool)
               or not math.isfinite(x)]
        if bad:
            raise ValueError(f"inputs must be finite numbers, got {bad[0]!r} in {list(inputs)!r}")
    chosen = tuple(OPS if table is None else table)
    if not chosen:
        raise ValueError("expressions needs at least one op")
    custom = [op.name for op in chosen if op.vjp is not None]
    if custom:  # its slope bounds the steps of finite differences; a vjp has none to read
        raise TypeError(f"expressions: op record {custom[0]!r} is a custom rule (vjp) with no "
                        f"partials, so no slope bound and no derivative to check against")
    if max_ops < 1 or max_depth < 1:
        raise ValueError(f"max_ops and max_depth must be ≥ 1, got {max_ops} and {max_depth}")
    lo, hi = (n_inputs, n_inputs) if isinstance(n_inputs, int) else n_inputs
    if (len(inputs) if inputs is not None else lo) < 1 or hi < lo:
        raise ValueError(f"expressions needs at least one input, got {inputs or n_inputs!r}")
    if inputs is not None:
        variables = st.just(tuple(float(x) for x in inputs))
    else:
        coordinate = _moderate(-3.0, 3.0)
        variables = st.integers(lo, hi).flatmap(lambda n: st.tuples(*[coordinate] * n))
    return _expressions(variables, chosen, max_ops, max_depth, margin, max_slope)


def assert_gradients_close(f: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6,
                           atol: float = 1e-5, rtol: float = 1e-3,
                           second_order: bool = False) -> None:
    """Assert backward's ∂f/∂xᵢ (and ∂²f/∂xᵢ∂xⱼ) equal central differences at `inputs`."""
    gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol, second_order=second_order)

"""Value, the iterative topological order, backward, grad modes, the collector pause and the
functional grad API.

The engine knows ops only through their records in `autograd_core.ops`.
"""

from __future__ import annotations

import gc
import math
import numbers
from contextlib import ContextDecorator
from contextvars import ContextVar
from typing import Any, Callable

from . import ops
from .ops import Op

_ZERO = 0.0  # the zero every fresh node starts with: `grad is _ZERO` means "nothing yet"
_new = object.__new__
_finite = math.isfinite  # one C call: half the time of the chained comparison -inf < x < inf


# --- grad modes (the only mutable global state: per thread) ---------------------------------

# A ContextVar, not a threading.local: every thread starts in a context of its own, so the
# mode is per thread (and per asyncio task), and it is read for every node built, where
# `get()` takes ~30 ns and a threading.local attribute ~90 ns.
_grad_enabled: ContextVar[bool] = ContextVar("autograd_core.grad_enabled", default=True)


class _Scoped(ContextDecorator):
    # As a decorator, every call enters a fresh instance: a recursive or concurrent call
    # sharing one instance would overwrite the state the outer call restores on exit.
    def _recreate_cm(self) -> _Scoped:
        return type(self)()


class _SetGradMode(_Scoped):
    enabled: bool

    def __enter__(self) -> _SetGradMode:
        self._prev = _grad_enabled.get()
        _grad_enabled.set(self.enabled)
        return self

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.set(self._prev)


class no_grad(_SetGradMode):
    """Within this block (or decorated function) ops record nothing: results are leaves."""

    enabled = False


class enable_grad(_SetGradMode):
    """Within this block ops record the graph again, even inside `no_grad`."""

    enabled = True


def is_grad_enabled() -> bool:
    """True unless inside `no_grad` (per thread)."""
    return _grad_enabled.get()


# --- the cycle collector ----------------------------------------------------------------------

class collector_paused(_Scoped):
    """Pause CPython's cycle collector in this block (or decorated function), then restore it.

    Our graphs hold no reference cycles, so reference counting frees them, yet while a graph
    is alive the collector rescans its nodes every 700 allocations: a fifth to a quarter of a
    moons training step, and the cost per node grows with the graph. Wrap a whole step
    (build, backward, update, drop the graph) so its nodes die before the collector wakes;
    `fit`, `grad` and `value_and_grad` do. A collector already off (the caller's choice, or
    an outer block) stays off. Like `gc.disable`, it holds for every thread while it lasts.
    """

    def __enter__(self) -> collector_paused:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()


# --- making nodes -----------------------------------------------------------------------------

def _as_float(x: Any) -> float:
    """Coerce ints, floats and numpy real scalars; refuse everything else by name."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"Value needs a real number, got {type(x).__name__}: {x!r}")


def _forward_error(op: Op, x: Value, y: Value | None, err: Exception | None) -> Exception:
    """The error for a bad input: names the op, the values and where the op is defined."""
    args = (x.data,) if y is None else (x.data, y.data)
    call = f"{op.name}({', '.join(repr(a) for a in args)})"
    if err is None or isinstance(err, OverflowError):
        return OverflowError(f"{call} overflows a float (|result| > 1.8e308)")
    return type(err)(f"{call} is undefined: {op.needs or err}")


def _lift(x: Any) -> Value | None:
    """A Value as it is; a real number as a constant leaf; None for anything else."""
    if isinstance(x, Value):
        return x
    if type(x) is float or type(x) is int or isinstance(x, numbers.Real):
        return Value(x)
    return None


_ONE_INPUT = object()  # the default second argument of a one-input op's method


def _op_method(op: Op, reflected: bool = False) -> Callable[..., Value]:
    """`x.f()` for a one-input op, `x ∘ y` for a two-input one; reflected gives `y ∘ x`.

    Forward, overflow check and node construction are inline in this one function: building
    a graph is mostly these calls, and a helper call per node cost ~15% of the forward pass.
    """
    forward = op.forward
    binary = op.arity == 2

    def method(x: Any, y: Any = _ONE_INPUT) -> Value:
        if reflected:
            x, y = y, x
        if not binary:
            if y is not _ONE_INPUT:
                raise TypeError(f"{op.name}() takes no arguments")
            y = None
        elif type(x) is not Value or type(y) is not Value:
            x, y = _lift(x), _lift(y)
            if x is None or y is None:
                return NotImplemented
        try:
            data = forward(x.data) if y is None else forward(x.data, y.data)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(op, x, y, err) from None
        if not _finite(data):  # finite inputs, non-finite result: an overflow
            raise _forward_error(op, x, y, None)
        out = _new(Value)
        out.data = data
        out.grad = _ZERO
        out.label = ""
        if _grad_enabled.get():
            out._op = op
            out._x = x
            out._y = y
        else:  # under no_grad the result is a plain leaf
            out._op = out._x = out._y = None
        return out

    method.__name__ = op.name
    method.__doc__ = op.doc
    return method


def apply(op: Op, *args: Any) -> Value:
    """Apply an op record to Values or numbers: `apply(ops.TANH, x)`, or a record of your own."""
    if len(args) != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} inputs, got {len(args)}")
    method = _METHODS.get(op) or _op_method(op)  # a record of your own works too
    if op.arity == 1:
        x = _lift(args[0])
        out = method(x) if x is not None else NotImplemented
    else:
        out = method(*args)
    if out is NotImplemented:
        names = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"{op.name} needs numbers or Values, got {names}")
    return out


_METHODS = {op: _op_method(op) for op in ops.OPS.values()}


class Value:
    """A graph scalar: `data` from the forward pass; `grad` = d(root)/d(self) after backward."""

    # The inputs sit in two slots, not in a tuple: a tuple per node is a second object for the
    # cycle collector to track, and its passes over big graphs were most of the forward time.
    __slots__ = ("data", "grad", "label", "_op", "_x", "_y", "__weakref__")

    def __init__(self, data: Any, label: str = "") -> None:
        data = _as_float(data)
        # No NaN or inf ever enters a graph, so none can come out of a forward pass silently.
        if not _finite(data):
            raise ValueError(f"Value needs a finite number, got {data!r}")
        self.data = data
        self.grad: Any = _ZERO  # a float; a Value after backward(create_graph=True)
        self.label = label
        self._op: Op | None = None
        self._x: Value | None = None  # first input (None for a leaf)
        self._y: Value | None = None  # second input (None for a leaf or a one-input op)

    @property
    def op(self) -> str | None:
        """The name of the op that made this value; None for a leaf."""
        return self._op.name if self._op is not None else None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op, in order, repeats kept (x*x has two entries)."""
        if self._op is None:
            return ()
        return (self._x,) if self._y is None else (self._x, self._y)  # type: ignore[return-value]

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={_fmt(self.grad)}{label})"

    # Hashed by identity (the default) so a Value can key a dict; == stays identity too.
    # Ordering compares data, so kink rules read like maths (`x > 0`) on floats and Values.
    def __lt__(self, other: Any) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Any) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> bool:
        return self.data >= _data(other)

    # numpy: never turn a Value into an array; defer to our reflected operators instead.
    __array_ufunc__ = None

    # --- the op table as operators and methods -----------------------------------------------
    __add__ = _METHODS[ops.ADD]
    __radd__ = _op_method(ops.ADD, reflected=True)
    __sub__ = _METHODS[ops.SUB]
    __rsub__ = _op_method(ops.SUB, reflected=True)
    __mul__ = _METHODS[ops.MUL]
    __rmul__ = _op_method(ops.MUL, reflected=True)
    __truediv__ = _METHODS[ops.DIV]
    __rtruediv__ = _op_method(ops.DIV, reflected=True)
    __rpow__ = _op_method(ops.POW, reflected=True)
    __neg__ = _METHODS[ops.NEG]
    __abs__ = abs = _METHODS[ops.ABS]
    exp = _METHODS[ops.EXP]
    log = _METHODS[ops.LOG]
    sqrt = _METHODS[ops.SQRT]
    tanh = _METHODS[ops.TANH]
    sigmoid = _METHODS[ops.SIGMOID]
    relu = _METHODS[ops.RELU]
    sin = _METHODS[ops.SIN]
    cos = _METHODS[ops.COS]
    step = _METHODS[ops.STEP]
    max = _METHODS[ops.MAX]
    min = _METHODS[ops.MIN]

    def __pow__(self, other: Any) -> Value:
        """x ** y: `powc` when y is a number (no gradient for it), `pow` when y is a Value."""
        return _METHODS[ops.POW if isinstance(other, Value) else ops.POWC](self, other)

    def leaky_relu(self, slope: Any = 0.01) -> Value:
        """x for x > 0, slope·x otherwise (slope may be a Value, to learn it)."""
        return _METHODS[ops.LEAKY_RELU](self, slope)

    def __pos__(self) -> Value:
        return self

    @staticmethod
    def apply(op: Op, *args: Any) -> Value:
        """Apply any op record to Values or numbers (what `Op.__call__` uses on Values)."""
        return apply(op, *args)

    # --- graph-wide operations -----------------------------------------------------------
    def backward(self, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to `grad` of every node below self (grads accumulate, as in PyTorch).

        With create_graph=True the grads are Values, so they can be differentiated again.
        """
        _, saved = _backward_pass(self, create_graph)
        for node, g in saved:
            node.grad = g + node.grad

    def zero_grad(self) -> None:
        """Set `grad` to 0 on every node of the graph below (and including) self."""
        for node in topological_order(self):
            node.grad = _ZERO

    def detach(self) -> Value:
        """A new leaf with the same data, cut from the graph."""
        return Value(self.data, self.label)


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


def _fmt(x: Any) -> str:
    return f"{x.data:.6g}" if isinstance(x, Value) else f"{x:.6g}"


# --- backward -------------------------------------------------------------------------------

def topological_order(root: Value) -> list[Value]:
    """Every node below root exactly once, parents before children (iterative, no recursion)."""
    # Depth-first with an explicit stack: a node waiting for a parent is pushed again under a
    # marker (None) and placed when the marker comes back up, after its parents were placed.
    # A visited parent is already placed (in a DAG it cannot still be waiting below us), so a
    # leaf, or a node whose parents are all visited (w·x of a weight and a seen input), is
    # placed at once: half of an MLP's nodes skip the marker round trip.
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
        elif node not in visited:
            visited.add(node)
            x = node._x
            if x is None:
                order.append(node)
                continue
            y = node._y
            wait_y = y is not None and y not in visited
            wait_x = x not in visited
            if not (wait_x or wait_y):
                order.append(node)
                continue
            stack.append(node)
            stack.append(None)
            if wait_y:  # pushed before x, so x (the first parent) is placed first
                stack.append(y)
            if wait_x:
                stack.append(x)
    return order


def _backward_pass(root: Value, create_graph: bool
                   ) -> tuple[list[Value], list[tuple[Value, Any]]]:
    """Put this pass's d(root)/d(node) in every node's grad.

    Returns the nodes, and (node, old grad) for each node whose grad was not the fresh zero.
    """
    order = topological_order(root)
    # A fresh node holds _ZERO already; only the others (leaves from an earlier step, every
    # node on a second backward) need their grad saved and zeroed, so one filtering pass
    # replaces a save pass and a zeroing pass over every node.
    saved = [(node, node.grad) for node in order if node.grad is not _ZERO]
    for node, _ in saved:
        node.grad = _ZERO
    root.grad = 1.0
    if create_graph:
        with enable_grad():
            _propagate_values(order)
    else:
        _propagate_floats(order)
    return order, saved


def _propagate_floats(order: list[Value]) -> None:
    # The hot loop: the chain rule, parent.grad += ∂node/∂parent · node.grad, on floats.
    node = None
    try:
        for node in reversed(order):
            op = node._op
            if op is None:
                continue
            g = node.grad
            x: Any = node._x  # a Value: only leaves have none, and they were skipped
            y = node._y
            if y is not None:
                dx, dy = op.partials(node.data, x.data, y.data)
                x.grad += dx * g
                y.grad += dy * g
            else:
                x.grad += op.partials(node.data, x.data)[0] * g
    except (ArithmeticError, ValueError) as err:
        raise _backward_error(node, err) from None


def _propagate_values(order: list[Value]) -> None:
    # The same chain rule on Values: the partials become graph nodes, so grads can be
    # differentiated again.
    node = None
    try:
        for node in reversed(order):
            if node._op is None:
                continue
            g = node.grad
            parents = node.parents
            for parent, d in zip(parents, node._op.partials(node, *parents)):
                step = d * g
                parent.grad = step if parent.grad is _ZERO else parent.grad + step
    except (ArithmeticError, ValueError) as err:
        raise _backward_error(node, err) from None


def _backward_error(node: Value | None, err: Exception) -> Exception:
    assert node is not None and node._op is not None
    args = ", ".join(repr(p.data) for p in node.parents)
    return type(err)(f"backward through {node._op.name}({args}): the derivative is undefined "
                     f"there ({node._op.needs or err})")


# --- functional API (HIPS autograd / JAX style) ---------------------------------------------

def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0
                   ) -> Callable[..., tuple[Any, Any]]:
    """(f(*args), ∂f/∂args[argnums]): an int gives one gradient, a tuple gives a tuple."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @collector_paused()  # the graph lives and dies inside the call (unless a grad is nested)
    def wrapped(*args: Any) -> tuple[Any, Any]:
        for i in nums:
            if not -len(args) <= i < len(args):
                raise IndexError(f"argnums {i} is out of range for {len(args)} arguments")
        # Values passed in (from an outer grad) are used as they are, so the result stays
        # connected to them and the outer grad can differentiate through it.
        nested = any(isinstance(args[i], Value) for i in nums)
        inputs = list(args)
        for i in nums:
            inputs[i] = _as_value(inputs[i])
        with enable_grad():
            out = _as_value(f(*inputs))
        wrt = [inputs[i] for i in nums]
        saved = [x.grad for x in wrt]
        for x in wrt:  # an input that f ignored is not in the graph: it must read 0
            x.grad = _ZERO
        order, held = _backward_pass(out, create_graph=nested)
        grads = tuple(x.grad for x in wrt)
        for node in order:  # leave every grad as it was: this is functional
            node.grad = _ZERO
        for node, g in held:
            node.grad = g
        for x, g in zip(wrt, saved):
            x.grad = g
        value = out if nested else out.data
        return value, grads[0] if isinstance(argnums, int) else grads

    return wrapped


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The function args ↦ ∂f/∂args[argnums]; composes with itself for higher derivatives."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return grad_f

"""Reverse-mode autodiff, top to bottom: `Value` (its operators and named methods, each one op
record applied), the one node builder `apply`, `topological_order`, and the chain rule — written
once — with backward, zero_grad and detach on top.

The engine knows ops only through the records of `autograd_core.ops`, read from each node; grad
modes live in `modes`, messages in `checks`, pickling in `persist`, grad(f) in `functional`.
"""

from __future__ import annotations

import math
import numbers
import threading
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any, Callable, NamedTuple

from . import ops, rules
from .checks import (
    ReadsRefused,
    as_real,
    backward_error,
    check_call,
    checked_cotangents,
    checked_partial,
    checked_result,
    forward_error,
    written_call,
)
from .modes import grad_mode, made_at, recording, tracer, tracing
from .ops import (
    ABS,
    ACOS,
    ADD,
    ASIN,
    ATAN,
    CLAMP,
    COS,
    COSH,
    DIV,
    EXP,
    EXPM1,
    LEAKY_RELU,
    LOG,
    LOG1P,
    MAX,
    MIN,
    MUL,
    NEG,
    POS,
    POW,
    POWC,
    RELU,
    SIGMOID,
    SIN,
    SINH,
    SOFTPLUS,
    SQRT,
    STEP,
    SUB,
    TAN,
    TANH,
    Op,
)

__all__ = ["Constant", "Link", "Value", "apply", "as_real", "chain_rule", "cotangents",
           "grads_of", "local_partials", "topological_order"]

_finite = math.isfinite
_new = object.__new__


class Value:
    """A graph scalar: `data` from the forward pass; `grad` = d(root)/d(self) after backward."""

    # A node's inputs sit in two slots: a tuple per node would be a second object to allocate,
    # free and show the cycle collector. What few nodes have (a label, hooks, a third input, no
    # grad) shares one slot, `_rare`: None for the rest, since every slot costs every node, in
    # memory, in construction and in each pass of the cycle collector.
    __slots__ = ("_data", "_grad", "_acc", "_op", "_x", "_y", "_rare", "__weakref__")

    def __init__(self, data: Any, label: str = "", *, requires_grad: bool = True) -> None:
        # A leaf. Op nodes are made by `apply`, which sets the same fields.
        self._data = data if type(data) is float and _finite(data) else as_real(data, "Value")
        self._grad: Any = 0.0  # a float; a Value after backward(create_graph=True)
        self._acc = 0.0  # backward's running sum for this node: 0.0 between passes
        self._op: Op | None = None
        self._x: Value | None = None  # the first input (None for a leaf)
        self._y: Value | None = None  # the second input (None for a leaf or a one-input op)
        self._rare: Rare | None = None
        self.label = label  # checked by its setter
        if requires_grad is not True:
            self.requires_grad_(requires_grad)
        _report("created", self)  # a leaf f makes while compiled is f's own number

    # --- the fields, checked where a user sets them --------------------------------------------
    @property
    def data(self) -> float:
        """The number this node holds: always a finite float."""
        if tracing() is not None:  # compile's trace turns the read into a guard
            _report("read", self, "data")
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        # An optimizer's update sets every parameter each step: a float needs no conversion.
        self._data = value if type(value) is float and _finite(value) else as_real(value, "data")

    @property
    def grad(self) -> Any:
        """d(root)/d(self) after root.backward(): a float, or a Value with create_graph=True."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        self._grad = value if isinstance(value, Value) else as_real(value, "grad")

    @property
    def label(self) -> str:
        """The node's name in drawings, tables and messages ("" for none)."""
        rare = self._rare
        return "" if rare is None else rare.label

    @label.setter
    def label(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"label needs a str, got {type(value).__name__}: {value!r}")
        change(self, label=value)

    @property
    def op(self) -> Op | None:
        """The op record that made this node (`node.op.name`, `.partials`, ...); None for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op, in order, repeats kept (x*x has two entries)."""
        x = self._x
        if x is None:
            return ()
        y = self._y
        rare = self._rare
        return (x,) if y is None else (x, y) if rare is None else (x, y, *rare.rest)

    @property
    def constant(self) -> bool:
        """True for a number lifted into the graph (the 2 of x * 2): it takes no gradient."""
        return type(self) is Constant

    @property
    def requires_grad(self) -> bool:
        """Whether backward gives this node a grad: leaves unless frozen (a Constant never);
        op nodes when some input requires one."""
        return _requires(self)

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> Value:
        """Freeze (False) or unfreeze a leaf, as PyTorch's `requires_grad_`; returns self."""
        if not isinstance(flag, bool):
            raise TypeError(f"requires_grad needs a bool, got {type(flag).__name__}: {flag!r}")
        if self._op is not None:
            raise ValueError("requires_grad can be set only on leaves; an op node requires a "
                             "grad exactly when one of its inputs does (use detach() to cut it)")
        if flag and type(self) is Constant:
            raise ValueError(f"a Constant ({self._data!r}) takes no gradient: use Value(...)")
        change(self, requires=flag)
        return self

    def register_hook(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        """Call hook(grad) when this node's grad is complete in a backward pass or grad(); a
        number it returns replaces the grad (clip, log, rescale). Returns a handle to remove it."""
        if not callable(hook):
            raise TypeError(f"register_hook needs a function, got {type(hook).__name__}: "
                            f"{hook!r}")
        if not _requires(self):
            raise ValueError("register_hook on a node that requires no grad: its hook would "
                             "never run")
        change(self, hooks=(*_rare(self).hooks, hook))
        return RemovableHandle(self, hook)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        grad = self._grad._data if isinstance(self._grad, Value) else self._grad  # a graph's number
        return f"Value(data={self._data!r}, grad={grad!r}{label})"

    # --- Python and PyTorch habits ---------------------------------------------------------
    # Hashed and compared (==) by identity, so a Value can key a dict; ordering compares data,
    # so kink rules read like maths (`x > 0`) on floats and Values. Truth is by value, as for
    # PyTorch's 0-d tensors: `if v:` means v.data != 0.
    # While a function is traced for compiling, each comparison and each read of the number
    # is reported to the tracer, so a replay can check that it still comes out the same.
    def __lt__(self, other: Any) -> bool:
        return _compared(self, "<", other, self._data < _data(other))

    def __le__(self, other: Any) -> bool:
        return _compared(self, "<=", other, self._data <= _data(other))

    def __gt__(self, other: Any) -> bool:
        return _compared(self, ">", other, self._data > _data(other))

    def __ge__(self, other: Any) -> bool:
        return _compared(self, ">=", other, self._data >= _data(other))

    def __bool__(self) -> bool:
        return _compared(self, "!=", 0.0, self._data != 0.0)

    def __float__(self) -> float:
        _report("read", self, "float")
        return self._data

    def item(self) -> float:
        """The data as a Python float (as PyTorch's `tensor.item()`)."""
        _report("read", self, "item")
        return self._data

    def __format__(self, spec: str) -> str:
        return format(self._data, spec) if spec else repr(self)

    def __round__(self, ndigits: int | None = None) -> float:
        _report("read", self, "round")
        return round(self._data, ndigits)

    # numpy: never turn a Value into an array; defer to our reflected operators instead.
    __array_ufunc__ = None

    # --- the operators and named methods: each one record of the op table, applied -----------
    def __add__(self, other: Any) -> Value:
        return apply(ADD, self, other) if isinstance(other, _OPERAND) else NotImplemented

    def __radd__(self, other: Any) -> Value:
        return apply(ADD, other, self) if isinstance(other, _OPERAND) else NotImplemented

    def __sub__(self, other: Any) -> Value:
        return apply(SUB, self, other) if isinstance(other, _OPERAND) else NotImplemented

    def __rsub__(self, other: Any) -> Value:
        return apply(SUB, other, self) if isinstance(other, _OPERAND) else NotImplemented

    def __mul__(self, other: Any) -> Value:
        return apply(MUL, self, other) if isinstance(other, _OPERAND) else NotImplemented

    def __rmul__(self, other: Any) -> Value:
        return apply(MUL, other, self) if isinstance(other, _OPERAND) else NotImplemented

    def __truediv__(self, other: Any) -> Value:
        return apply(DIV, self, other) if isinstance(other, _OPERAND) else NotImplemented

    def __rtruediv__(self, other: Any) -> Value:
        return apply(DIV, other, self) if isinstance(other, _OPERAND) else NotImplemented

    def __pow__(self, other: Any) -> Value:
        # x ** n with n a number is powc (no gradient for n); x ** y with y a Value is pow.
        if not isinstance(other, _OPERAND):
            return NotImplemented
        return apply(POW if isinstance(other, Value) else POWC, self, other)

    def __rpow__(self, other: Any) -> Value:
        return apply(POW, other, self) if isinstance(other, _OPERAND) else NotImplemented

    def __neg__(self) -> Value:
        return apply(NEG, self)

    def __pos__(self) -> Value:
        return apply(POS, self)

    def __abs__(self) -> Value:
        return apply(ABS, self)

    def max(self, y: Any) -> Value:
        return apply(MAX, self, y)

    def min(self, y: Any) -> Value:
        return apply(MIN, self, y)

    def leaky_relu(self, slope: Any = LEAKY_RELU.defaults[0]) -> Value:
        return apply(LEAKY_RELU, self, slope)

    def clamp(self, lo: Any, hi: Any) -> Value:
        return apply(CLAMP, self, lo, hi)

    def abs(self) -> Value:
        return apply(ABS, self)

    def exp(self) -> Value:
        return apply(EXP, self)

    def expm1(self) -> Value:
        return apply(EXPM1, self)

    def log(self) -> Value:
        return apply(LOG, self)

    def log1p(self) -> Value:
        return apply(LOG1P, self)

    def sqrt(self) -> Value:
        return apply(SQRT, self)

    def sigmoid(self) -> Value:
        return apply(SIGMOID, self)

    def softplus(self) -> Value:
        return apply(SOFTPLUS, self)

    def tanh(self) -> Value:
        return apply(TANH, self)

    def relu(self) -> Value:
        return apply(RELU, self)

    def step(self) -> Value:
        return apply(STEP, self)

    def sin(self) -> Value:
        return apply(SIN, self)

    def cos(self) -> Value:
        return apply(COS, self)

    def tan(self) -> Value:
        return apply(TAN, self)

    def atan(self) -> Value:
        return apply(ATAN, self)

    def asin(self) -> Value:
        return apply(ASIN, self)

    def acos(self) -> Value:
        return apply(ACOS, self)

    def sinh(self) -> Value:
        return apply(SINH, self)

    def cosh(self) -> Value:
        return apply(COSH, self)

    # --- graph-wide operations -----------------------------------------------------------
    def backward(self, gradient: Any = 1.0, *, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Add gradient · d(self)/d(node) to the grad of every node below self (grads accumulate).

        With inputs=[...] only those nodes' grads change (and only the walk towards them runs).
        retain_graph is accepted for PyTorch's sake: graphs are always kept. With
        create_graph=True the grads are Values, to differentiate again; each refers back to its
        node (x.grad depends on x): call zero_grad() when done, or use grad(), which makes none.
        A pass that fails, or would leave a grad that is not finite, changes nothing.
        """
        if retain_graph is not None and not isinstance(retain_graph, bool):
            raise TypeError(f"retain_graph needs a bool, got {retain_graph!r}")
        if not isinstance(create_graph, bool):
            raise TypeError(f"create_graph needs a bool, got {create_graph!r}")
        if not isinstance(gradient, Value):
            gradient = as_real(gradient, "backward's gradient")
        if not _requires(self):
            raise RuntimeError(f"backward of {self!r}, which requires no grad: none of its "
                               f"inputs does (Constants, or leaves frozen by requires_grad_)")
        wanted = None if inputs is None else _inputs_of(inputs)
        order = topological_order(self)
        needed = None if wanted is None else _needed(order, wanted)
        if create_graph:
            warnings.warn("backward(create_graph=True) makes each grad a graph that refers back "
                          "to its node (x.grad depends on x): a reference cycle, freed only by "
                          "the cycle collector. Call zero_grad() when done, or use grad(), which "
                          "makes none", stacklevel=2)
            grads = _dict_grads(self, gradient, needed, create_graph=True)
            _commit(grads if wanted is None else {n: g for n, g in grads.items() if n in wanted})
        else:
            _float_grads(order, float(gradient), needed, wanted, commit=True)

    def zero_grad(self) -> None:
        """Set `grad` to 0 on every node of the graph below (and including) self."""
        for node in topological_order(self):
            node._grad = 0.0

    def detach(self) -> Value:
        """A new leaf with the same data, cut from the graph."""
        out = Value(self._data, self.label)
        _report("detached", self, out)
        return out

    # pickling and deep copies are flat lists, made next door (autograd_core.persist)
    def __reduce__(self) -> tuple[Any, ...]:
        from .persist import reduce
        return reduce(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        from .persist import deepcopy
        return deepcopy(self, memo)


class Constant(Value):
    """A number lifted into the graph from a Python literal (the 2 of x * 2): it takes no grad."""

    __slots__ = ()

    def __init__(self, data: Any, label: str = "") -> None:
        super().__init__(data, label)
        change(self, requires=False)


class Rare(NamedTuple):
    """What few nodes have, in one slot of theirs (`_rare`: None when all are as here)."""

    label: str = ""
    hooks: tuple[Callable[[Any], Any], ...] = ()  # register_hook's, in order
    rest: tuple[Value, ...] = ()  # the inputs after the second (ops of three or more)
    requires: bool = True  # False: a Constant, a frozen leaf, or an op on such nodes only


_PLAIN = Rare()
_NO_GRAD = Rare(requires=False)  # shared by every Constant: a literal has no label


def _rare(node: Value) -> Rare:
    rare = node._rare
    return _PLAIN if rare is None else rare


def _requires(node: Value) -> bool:
    rare = node._rare
    return rare is None or rare.requires


def change(node: Value, **fields: Any) -> None:
    """Set some of node's rare fields (a Rare is shared: it is replaced, never changed)."""
    new = _rare(node)._replace(**fields)
    node._rare = None if new == _PLAIN else _NO_GRAD if new == _NO_GRAD else new


class RemovableHandle:
    """What register_hook returns: `handle.remove()` takes the hook off its node."""

    __slots__ = ("_node", "_hook")

    def __init__(self, node: Value, hook: Callable[[Any], Any]) -> None:
        self._node: Value | None = node
        self._hook = hook

    def remove(self) -> None:
        """Take the hook off (a second call does nothing)."""
        node, self._node = self._node, None
        if node is not None:
            hooks = list(_rare(node).hooks)
            if self._hook in hooks:
                hooks.remove(self._hook)
                change(node, hooks=tuple(hooks))


# Every record with a method documents it with its own formula, read off its rules.
for _op in ops.OPS:
    if _op.method:
        getattr(Value, _op.name).__doc__ = _op.formula
for _name, _op in (("__add__", ADD), ("__sub__", SUB), ("__mul__", MUL), ("__truediv__", DIV),
                   ("__neg__", NEG), ("__pos__", POS), ("__abs__", ABS)):
    getattr(Value, _name).__doc__ = _op.formula

_ONE = object()  # apply's second input when there is none: a one-input op

# What an operator accepts; anything else gets NotImplemented, so Python asks the other side.
_OPERAND = (Value, float, int, numbers.Real)


def _data(x: Any) -> float:
    return x._data if isinstance(x, Value) else x


def _report(event: str, *args: Any) -> None:
    """Tell the trace in progress (if any) that a Value was read or detached (compile)."""
    trace = tracing()
    if trace is not None:
        tell = getattr(trace, event, None)
        if tell is not None:
            tell(*args)


def _compared(x: Value, symbol: str, other: Any, result: bool) -> bool:
    """result, reported to the trace in progress (if any) as a guard: `x symbol other`."""
    trace = tracing()
    if trace is not None:
        trace.compared(x, symbol, other, result)
    return result


# --- the one node builder --------------------------------------------------------------------

@rules.interpreter(Value)
def apply(op: Op, x: Any, y: Any = _ONE, *rest: Any) -> Value:
    """op.forward(*inputs) as a new node with parents = inputs (numbers become Constants).

    Under no_grad the result is a leaf. Any op record works, the table's or one of your own.
    """
    # One input and two (nearly every node) are spelled out: a star-call, a tuple of the
    # inputs, a count of them, each costs more than the whole of this. `forward = op.forward`
    # first, because a call `op.forward(...)` of an instance attribute is never specialised.
    if type(op) is not Op:
        check_call(op, 1 + (y is not _ONE) + len(rest))
    if y is _ONE:
        if op.arity != 1:
            check_call(op, 1)
        if type(x) is not Value:
            x = _lift(op, x)
        forward = op.forward
        try:
            data = forward(x._data)
        except (ArithmeticError, ValueError) as err:
            raise forward_error(op, (x._data,), err) from None
        rare = x._rare  # the result's: None (it requires a grad) if its input does
        if rare is not None:
            rare = None if rare.requires else _NO_GRAD
        y = None
    elif not rest:
        if op.arity != 2:
            check_call(op, 2)
        if type(x) is not Value:
            x = _lift(op, x)
        if type(y) is not Value:
            y = _lift(op, y)
        forward = op.forward
        try:
            data = forward(x._data, y._data)
        except (ArithmeticError, ValueError) as err:
            raise forward_error(op, (x._data, y._data), err) from None
        rare = x._rare  # the result's: None (it requires a grad) if an input does
        if rare is not None:
            other = y._rare
            rare = None if other is None or rare.requires or other.requires else _NO_GRAD
    else:
        check_call(op, 2 + len(rest))
        x, y, rest = _lift(op, x), _lift(op, y), tuple([_lift(op, a) for a in rest])
        values = tuple([a._data for a in (x, y, *rest)])
        try:
            data = op.forward(*values)
        except (ArithmeticError, ValueError) as err:
            raise forward_error(op, values, err) from None
        rare = Rare(rest=rest, requires=any([_requires(a) for a in (x, y, *rest)]))
    if type(data) is not float or not _finite(data):
        inputs = (x,) if y is None else (x, y, *rest)
        data = checked_result(op, tuple([a._data for a in inputs]), data)
    # Built here rather than by Value(...): a Python __init__ call per node costs more than the
    # slots it would set. Leaves come from Value.__init__, which sets the same fields.
    out = _new(Value)
    out._data = data
    out._grad = 0.0
    out._acc = 0.0
    mode = recording()
    if mode:
        out._op = op
        out._x = x
        out._y = y
        out._rare = rare
        if mode is not True:  # compile's trace in progress: it keeps every node f makes
            mode.recorded(out)
    else:  # under no_grad the result is a plain leaf
        out._op = None
        out._x = out._y = None
        out._rare = None
        _report("unrecorded", op, (x,) if y is None else (x, y, *rest), out)
    return out


def link(node: Value, op: Op, parents: tuple[Value, ...]) -> None:
    """Make node the result of op on parents, as apply records it (persist rebuilds graphs so)."""
    node._op = op
    node._x = parents[0]
    node._y = parents[1] if len(parents) > 1 else None
    change(node, rest=tuple(parents[2:]), requires=any([_requires(p) for p in parents]))


def _lift(op: Op, a: Any) -> Value:
    """An input as a Value: a number lifted into a Constant (built as apply builds nodes: a
    literal of f is no leaf of its own); anything else refused, naming the op."""
    if isinstance(a, Value):
        return a
    if type(a) is not float or not _finite(a):
        try:
            a = as_real(a, "Value")
        except (TypeError, ValueError) as err:
            raise type(err)(f"{op.written(*op.inputs)}: {err}") from None
    out = _new(Constant)
    out._data = a
    out._grad = 0.0
    out._acc = 0.0
    out._op = None
    out._x = out._y = None
    out._rare = _NO_GRAD
    return out


# --- the graph, in order ------------------------------------------------------------------------

def topological_order(root: Value) -> list[Value]:
    """Every node below root exactly once, parents before children (iterative, no recursion)."""
    # Depth-first with an explicit stack: a node that must wait for a parent is pushed back
    # under a marker (None), then the parents it waits for; when the marker comes back up, they
    # have all been placed, so the node is. A visited parent is already placed (in a DAG it
    # cannot still be waiting below us), so a node whose parents are all visited (w·x of a
    # weight and a seen input: half of an MLP) is placed at once, and so is a leaf.
    if not isinstance(root, Value):
        raise TypeError(f"topological_order needs a Value, got {type(root).__name__}: {root!r}")
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
            continue
        if node in visited:
            continue
        visited.add(node)
        x, y = node._x, node._y
        if x is None:  # a leaf
            order.append(node)
        elif y is None:  # one input
            if x in visited:
                order.append(node)
            else:
                stack += (node, None, x)
        elif node._rare is None or not node._rare.rest:  # two inputs (most nodes): the fastest
            if x in visited:
                if y in visited:
                    order.append(node)
                else:
                    stack += (node, None, y)
            elif y in visited:
                stack += (node, None, x)
            else:
                stack += (node, None, y, x)  # x on top: the first parent is placed first
        else:  # a parent already visited is skipped when it comes back up
            stack.append(node)
            stack.append(None)
            stack.extend(node.parents[::-1])
    return order


def _needed(order: list[Value], wanted: set[Value]) -> set[Value]:
    """The nodes from which some wanted node is reachable: the only ones a walk towards the
    wanted grads must visit (a rule off these paths is never evaluated)."""
    needed = set(wanted)
    for node in order:
        if node not in needed and any([p in needed for p in node.parents]):
            needed.add(node)
    return needed


# --- the chain rule, once ----------------------------------------------------------------------

def local_partials(node: Value, *, create_graph: bool = False,
                   needed: set[Value] | None = None) -> tuple[Any, ...]:
    """∂node/∂parent for each parent, by the rules of node.op at the forward values.

    None where a parent takes no gradient (it requires none, its input is a number by
    definition, or it is not `needed`): its rule is never evaluated. With create_graph=True the
    partials are Values.
    """
    op = node._op
    if op is None:
        return ()
    if op.vjp is not None:
        raise TypeError(f"{_written(node)} is made by op record {op.name!r}, a custom rule that "
                        f"sees the upstream gradient (vjp): it has no local partials; its "
                        f"step's contributions are in chain_rule's Links")
    parents = node.parents
    args = parents if create_graph else [p._data for p in parents]
    out = node if create_graph else node._data
    takes = [rule is not None and (p in needed if needed is not None else _requires(p))
             for p, rule in zip(parents, op.partials)]
    try:
        with grad_mode(True) if create_graph else nullcontext():
            partials = tuple(None if not take else rule if type(rule) is float
                             else rule(out, *args)
                             for take, rule in zip(takes, op.partials))
    except (ArithmeticError, ValueError) as err:
        raise backward_error(op, tuple(p._data for p in parents), err) from None
    for i, d in enumerate(partials):
        if d is not None and type(d) is not float and not isinstance(d, (Value, int)):
            checked_partial(op, i, d)
    return partials


def cotangents(node: Value, g: Any, *, create_graph: bool = False,
               needed: set[Value] | None = None) -> tuple[Any, ...]:
    """What node's custom rule adds to each parent's grad: node.op.vjp(g, out, *inputs), checked.

    None where a parent takes no gradient (it requires none, the rule says None, or it is not
    `needed`). With create_graph=True the rule runs on Values, and a rule that reads a Value's
    number (float(x), x.data, math.cos(x)) is refused: the next derivative would miss it.
    """
    op: Op = node._op  # type: ignore[assignment]
    parents = node.parents
    values = tuple([p._data for p in parents])
    try:
        if create_graph:
            with grad_mode(True):
                token = tracer.set(ReadsRefused(op))
                try:
                    cts = op.vjp(g, node, *parents)  # type: ignore[misc]
                finally:
                    tracer.reset(token)
        else:
            cts = op.vjp(g, node._data, *values)  # type: ignore[misc]
    except (ArithmeticError, ValueError) as err:
        raise backward_error(op, values, err) from None
    takes = [p in needed if needed is not None else _requires(p) for p in parents]
    return checked_cotangents(op, values, g, cts, takes, Value if create_graph else None)


class Link(NamedTuple):
    """One node's step of the chain rule: parent.grad += partial · grad, for each parent."""

    node: Value
    grad: Any  # d(root)/d(node), complete: every node that uses `node` came before it
    partials: tuple[Any, ...]  # ∂node/∂parent, from node.op; None where a parent takes no grad,
    # and everywhere for a custom rule (node.op.vjp), which has no partials
    contributions: tuple[Any, ...]  # partial · grad (or the custom rule's cotangents), what this
    # step adds to each parent's grad; None where a parent takes no grad


def chain_rule(root: Value, seed: Any = 1.0, *, create_graph: bool = False,
               grads: dict[Value, Any] | None = None,
               needed: set[Value] | None = None) -> Iterator[Link]:
    """The chain rule over the graph below root, one Link per op node in reversed topological
    order: grads[parent] += ∂node/∂parent · grads[node], with grads[root] = seed.

    The running sums live in `grads` (a dict you may pass in), never in the nodes: a walk that
    fails has changed nothing. Each node's hooks see its grad once it is complete. On floats;
    with create_graph=True the partials are graph nodes, so the grads can be differentiated
    again. Backward, the stepper and the pictures all consume this walk.
    """
    grads = {} if grads is None else grads
    grads[root] = seed
    for node in reversed(topological_order(root)):
        if node._rare is not None and node._rare.hooks and node in grads:
            grads[node] = _hooked(node, grads[node], create_graph)
        op = node._op
        if op is None or (needed is not None and node not in needed):
            continue
        g = grads.get(node, 0.0)  # nothing yet: reached only through inputs taking no grad
        try:
            if op.vjp is None:
                partials = local_partials(node, create_graph=create_graph, needed=needed)
            else:  # a custom rule: no partials, its cotangents are the contributions
                partials = (None,) * op.arity
                contributions = cotangents(node, g, create_graph=create_graph, needed=needed)
        except (ArithmeticError, ValueError, TypeError) as err:
            raise _located(err, node) from None
        try:
            with grad_mode(True) if create_graph else nullcontext():
                if op.vjp is None:
                    contributions = tuple(None if d is None else d * g for d in partials)
                for parent, c in zip(node.parents, contributions):
                    if c is not None:  # floats start from 0.0, as backward's sums do (so -0.0 is 0)
                        old = grads.get(parent)
                        grads[parent] = (old + c if old is not None else c if create_graph
                                         else 0.0 + c)
        except ArithmeticError as err:  # on Values: a product or a sum overflowed
            raise OverflowError(f"backward through {_written(node)}: {err}{made_at(node)}"
                                ) from None
        yield Link(node, g, partials, contributions)


def _located(err: Exception, node: Value) -> Exception:
    """err, naming the line of the user's that made node when detect_anomaly saw it made."""
    site = made_at(node)
    try:
        return type(err)(f"{err}{site}") if site else err
    except TypeError:  # an exception type that takes more than a message
        return err


def _walk_floats(order: list[Value], seed: float, needed: set[Value] | None = None,
                 keep: set[Value] | None = None) -> dict[Value, float]:
    """`chain_rule` on floats, specialised for speed: the same steps in the same order, each
    running sum in its node's `_acc` slot (0.0 between passes); nothing yielded; one- and
    two-input nodes spelled out. The caller holds `_walk_lock` and `_commit_lock`.

    With keep=None each node's sum is added to its grad as the walk passes it (a pass that then
    fails takes every addition back); with a set, the sums of its nodes are returned and no
    grad changes. Proven equal to the general walk by tests/test_chain_rule.py on random DAGs.
    Raises, naming the op and its values, where a rule fails or a grad is not finite.
    """
    kept: dict[Value, float] = {}
    carried: dict[Value, Any] = {}  # each grad that was not 0 before the pass, to take back
    total = 0.0  # the sum of every grad: finite only if each of them is (inf − inf is nan)
    overflow = None  # a grad plus this pass's sum that is not finite
    order[-1]._acc = seed
    node, written = order[-1], None  # the node being passed, and the last whose grad it set
    try:
        for node in reversed(order):
            # A node that requires no grad (a Constant, an op on them) or leads to no wanted
            # one is passed by: no gradient reaches it, none of its rules runs.
            g = node._acc
            node._acc = 0.0
            rare = node._rare
            if not (node in needed if needed is not None else rare is None or rare.requires):
                continue
            if rare is not None and rare.hooks:
                g = _hooked(node, g, False)
            total += g
            if keep is None:
                old = node._grad
                if old == 0.0:
                    node._grad = g
                else:  # a second backward adds to the first
                    carried[node] = old
                    node._grad = old + g
                    if type(node._grad) is float and not _finite(node._grad) and _finite(g):
                        node._grad = old
                        overflow = _sum_overflow(node, old, g)
                        raise overflow
                written = node
            elif node in keep:
                kept[node] = g
            op = node._op
            if op is None:
                continue
            if op.vjp is not None:  # a custom rule: it adds its cotangents itself
                for parent, c in zip(node.parents, cotangents(node, g, needed=needed)):
                    if c is not None:
                        parent._acc += c
                continue
            x: Any = node._x  # a Value: an op node has one input at least
            y: Any = node._y
            out = node._data
            # A partial that is a number, or a product's (its inputs swapped, ∂(x·y)/∂x = y, as
            # its rules say: op.product is read off them), is added without asking whether the
            # parent takes a grad: a parent that takes none empties its sum when passed. A rule
            # that is a function runs only for a parent that takes a grad.
            if y is not None and (rare is None or not rare.rest):
                rx, ry = op.partials
                if rx is not None:
                    if type(rx) is float:
                        x._acc += rx * g
                    elif op.product:
                        x._acc += y._data * g
                    elif (x in needed if needed is not None
                          else x._rare is None or x._rare.requires):
                        x._acc += rx(out, x._data, y._data) * g
                if ry is not None:
                    if type(ry) is float:
                        y._acc += ry * g
                    elif op.product:
                        y._acc += x._data * g
                    elif (y in needed if needed is not None
                          else y._rare is None or y._rare.requires):
                        y._acc += ry(out, x._data, y._data) * g
            elif y is None:
                rx = op.partials[0]
                if rx is not None:
                    if type(rx) is float:
                        x._acc += rx * g
                    elif (x in needed if needed is not None
                          else x._rare is None or x._rare.requires):
                        x._acc += rx(out, x._data) * g
            else:
                for parent, d in zip(node.parents, local_partials(node, needed=needed)):
                    if d is not None:
                        parent._acc += d * g
        order[-1]._acc = 0.0  # the seed, if no wanted grad depends on the root
        if not _finite(total):
            raise ArithmeticError
    except BaseException as err:
        # Take back what this pass added: the walk wrote the grads of the nodes after `node`
        # in topological order, and `node`'s own if it got that far; and empty every sum.
        if keep is None:
            for n in order[order.index(node) + (written is not node):]:
                if n in needed if needed is not None else _requires(n):
                    n._grad = carried.get(n, 0.0)
        for n in order:
            n._acc = 0.0
        if err is not overflow and isinstance(err, (ArithmeticError, ValueError, TypeError)):
            # A slow second walk names the step: the general walk checks each partial and sum.
            _raise_first_problem(order[-1], seed, needed)
        raise
    return kept


# The float walk keeps its running sums in the nodes, so one pass at a time may run it. A pass
# that finds it taken (another thread's, or a backward that a hook starts inside a pass) runs
# the general walk instead, whose sums are its own: slower, and never blocked or mixed up.
_walk_lock = threading.Lock()


def _float_grads(order: list[Value], seed: float, needed: set[Value] | None = None,
                 wanted: set[Value] | None = None, commit: bool = False) -> dict[Value, float]:
    """The float grads of the walk from order[-1] (of the wanted nodes only, if given): added to
    the nodes' grads with commit=True, else returned."""
    if not _walk_lock.acquire(blocking=False):
        grads = _dict_grads(order[-1], seed, needed)
    else:
        try:
            with _commit_lock:
                grads = _walk_floats(order, seed, needed,
                                     keep=None if commit and wanted is None else wanted)
        finally:
            _walk_lock.release()
        if commit and wanted is None:
            return {}  # added as the walk went
    if wanted is not None:
        grads = {n: g for n, g in grads.items() if n in wanted}
    if commit:
        _commit(grads)
    return grads


def _raise_first_problem(root: Value, seed: Any, needed: set[Value] | None) -> None:
    """Walk again and raise at the first step whose partial, contribution or sum is wrong."""
    grads: dict[Value, Any] = {}
    for link in chain_rule(root, seed, grads=grads, needed=needed):  # changes no node
        parents = link.node.parents
        for parent, d, c in zip(parents, link.partials, link.contributions):
            if c is None or (_finite(c) and _finite(grads[parent])):
                continue
            name = link.node._op.inputs[parents.index(parent)]  # type: ignore[union-attr]
            what = (f"its partial ∂/∂{name} = {d!r}" if d is not None and not _finite(d)
                    else f"the contribution {d!r} · {link.grad!r} = {c!r}" if not _finite(c)
                    else f"the grads of its input add up to {grads[parent]!r}")
            raise OverflowError(f"backward through {_written(link.node)}: {what}, not a finite "
                                f"number{made_at(link.node)}")
    for node, g in grads.items():
        if not _finite(g):  # a hook returned it
            raise ValueError(f"a hook on {node!r} returned {g!r}, not a finite number")
    raise AssertionError("a grad that no step of the chain rule produced")


def _hooked(node: Value, g: Any, create_graph: bool) -> Any:
    """g after node's hooks, in the order registered: a returned number replaces it."""
    for hook in _rare(node).hooks:
        new = hook(g)
        if new is None:
            continue
        if isinstance(new, Value) and create_graph:
            g = new
            continue
        try:
            g = as_real(new, "a hook's result")
        except (TypeError, ValueError) as err:
            name = getattr(hook, "__qualname__", repr(hook))
            raise type(err)(f"hook {name} on {node!r}: {err}") from None
    return g


def _dict_grads(root: Value, seed: Any, needed: set[Value] | None = None,
                create_graph: bool = False) -> dict[Value, Any]:
    """Every grad of the general walk, checked finite: Values as they are built (create_graph),
    floats at the end."""
    grads: dict[Value, Any] = {}
    for _ in chain_rule(root, seed, create_graph=create_graph, grads=grads, needed=needed):
        pass
    if not create_graph and not all(map(_finite, grads.values())):
        _raise_first_problem(root, seed, needed)
    return grads


# The general walk needs no lock (its sums are its own); adding them to the nodes does, so that
# two threads running backward on a shared graph both count (PyTorch locks its accumulation
# too). Reentrant: a hook may run a backward of its own inside a pass.
_commit_lock = threading.RLock()


def _commit(grads: dict[Value, Any]) -> None:
    """Add a finished walk's grads to the nodes' grads, all or none: a sum that overflows
    (a second backward adding to the first) raises naming the node, and nothing changes."""
    with _commit_lock:
        sums = {node: node._grad + g for node, g in grads.items() if node._grad != 0.0}
        for node, total in sums.items():
            if not isinstance(total, Value) and not _finite(total):
                raise _sum_overflow(node, node._grad, grads[node])
        grads.update(sums)
        for node, g in grads.items():
            node._grad = g


def _sum_overflow(node: Value, old: Any, g: Any) -> OverflowError:
    """The error for a grad that this pass's sum would take past the largest float."""
    return OverflowError(f"backward: the grad of {node!r} would be {old!r} + {g!r} = "
                         f"{old + g!r}, not a finite number; call zero_grad() between passes")


def _inputs_of(inputs: Any) -> set[Value]:
    """backward's `inputs=`: a Value or an iterable of Values that require grad."""
    items = [inputs] if isinstance(inputs, Value) else inputs
    try:
        wanted = list(items)
    except TypeError:
        raise TypeError(f"backward's inputs needs Values, got {inputs!r}") from None
    for v in wanted:
        if not isinstance(v, Value):
            raise TypeError(f"backward's inputs needs Values, got {type(v).__name__}: {v!r}")
    if not wanted:
        raise ValueError("backward's inputs is empty: name the Values whose grads you want")
    return set(wanted)


def _written(node: Value) -> str:
    return written_call(node._op, tuple(p._data for p in node.parents))  # type: ignore[arg-type]


def grads_of(root: Value, wrt: list[Value], seed: Any = 1.0, *, create_graph: bool = False
             ) -> list[Any]:
    """d(root)/d(w) for each w in wrt (0.0 where root does not depend on w); no grad changes.

    Only the nodes from which some w is reachable are walked: no rule off those paths runs.
    With create_graph=True the grads are Values (a graph the caller can differentiate again).
    A walk that fails or yields a non-finite grad raises, naming the op and its values.
    """
    order = topological_order(root)
    needed = _needed(order, set(wrt))
    if create_graph:
        grads = _dict_grads(root, seed, needed, create_graph=True)
    else:
        grads = _float_grads(order, float(seed), needed, set(wrt))
    return [grads.get(w, 0.0) for w in wrt]

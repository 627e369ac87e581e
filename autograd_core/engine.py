"""Value and its one node builder `apply`, the iterative topological order, the one chain-rule
walk (backward, the stepper and the pictures all consume it), grad modes, the collector pause
and the functional grad API.

The engine knows ops only through the records in `autograd_core.ops`, read from each node.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import threading
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from . import ops, rules
from .modes import (
    grad_mode,
    recording,
    tracing,
)
from .ops import ABS, ADD, DIV, MUL, NEG, POS, POW, POWC, SUB, Op

_finite = math.isfinite
_new = object.__new__


# --- values -----------------------------------------------------------------------------------

def as_real(x: Any, what: str) -> float:
    """x as a finite float; a TypeError or ValueError naming `what` and the value otherwise."""
    if type(x) is not float:
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{what} needs a real number, got {type(x).__name__}: {x!r}")
        try:
            x = float(x)
        except OverflowError:
            raise ValueError(f"{what} needs a finite number, got {x!r:.40} (too large for a "
                             f"float)") from None
    if not _finite(x):
        raise ValueError(f"{what} needs a finite number, got {x!r}")
    return x


class Value:
    """A graph scalar: `data` from the forward pass; `grad` = d(root)/d(self) after backward."""

    __slots__ = ("_data", "_grad", "_label", "_op", "_parents", "_constant", "__weakref__")

    def __init__(self, data: Any, label: str = "") -> None:
        # A leaf. Op nodes are made by `apply`, which sets the same six fields.
        self._data = data if type(data) is float and _finite(data) else as_real(data, "Value")
        self._grad: Any = 0.0  # a float; a Value after backward(create_graph=True)
        self.label = label  # checked by its setter
        self._op: Op | None = None
        self._parents: tuple[Value, ...] = ()
        self._constant = False

    @property
    def data(self) -> float:
        """The number this node holds: always a finite float."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = as_real(value, "data")

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
        return self._label

    @label.setter
    def label(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"label needs a str, got {type(value).__name__}: {value!r}")
        self._label = value

    @property
    def op(self) -> Op | None:
        """The op record that made this node (`node.op.name`, `.partials`, ...); None for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op, in order, repeats kept (x*x has two entries)."""
        return self._parents

    @property
    def constant(self) -> bool:
        """True for a number lifted into the graph (the 2 of x * 2): it takes no gradient."""
        return self._constant

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data:.6g}, grad={self._grad:.6g}{label})"  # a Value formats too

    # --- Python and PyTorch habits ---------------------------------------------------------
    # Hashed and compared (==) by identity, so a Value can key a dict; ordering compares data,
    # so kink rules read like maths (`x > 0`) on floats and Values. Truth is by value, as for
    # PyTorch's 0-d tensors: `if v:` means v.data != 0.
    # While a function is traced for compiling, each comparison is reported to the tracer, so
    # a replay can check that it still comes out the same (a guard).
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
        return self._data

    def item(self) -> float:
        """The data as a Python float (as PyTorch's `tensor.item()`)."""
        return self._data

    def __format__(self, spec: str) -> str:
        return format(self._data, spec) if spec else repr(self)

    def __round__(self, ndigits: int | None = None) -> float:
        return round(self._data, ndigits)

    # numpy: never turn a Value into an array; defer to our reflected operators instead.
    __array_ufunc__ = None

    if TYPE_CHECKING:  # for mypy and IDEs: the table's methods (x.tanh(), ...) made below
        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    # --- operators: each one record of the op table, applied --------------------------------
    # Other named ops (x.tanh(), x.max(y), ...) are methods made from the table below the class.
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
        """x ** n with n a number is `powc` (no gradient for n); x ** y with y a Value, `pow`."""
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

    # --- graph-wide operations -----------------------------------------------------------
    def backward(self, gradient: Any = 1.0, *, create_graph: bool = False) -> None:
        """Add gradient · d(self)/d(node) to the grad of every node below self (grads accumulate).

        With create_graph=True the grads are Values, so they can be differentiated again; each
        grad is then a graph that refers back to its node (x.grad depends on x): call
        zero_grad() or drop both to free them without the cycle collector.
        """
        if not isinstance(gradient, Value):
            gradient = as_real(gradient, "backward's gradient")
        if not create_graph:
            _backward_floats(self, float(gradient))
            return
        warnings.warn("backward(create_graph=True) makes each grad a graph that refers back to "
                      "its node (x.grad depends on x): a reference cycle, freed only by the "
                      "cycle collector. Call zero_grad() when done, or use grad(), which "
                      "makes none", stacklevel=2)
        grads = _graph_grads(self, gradient)
        with _walk_lock:  # nothing is changed until every grad is known
            for node, g in grads.items():
                old = node._grad
                node._grad = g if type(old) is float and not old else old + g

    def zero_grad(self) -> None:
        """Set `grad` to 0 on every node of the graph below (and including) self."""
        for node in topological_order(self):
            node._grad = 0.0

    def detach(self) -> Value:
        """A new leaf with the same data, cut from the graph."""
        return Value(self._data, self.label)

    # --- pickle and deepcopy: flat, so a graph of any depth works (no recursion) -------------
    def __reduce__(self) -> tuple[Any, ...]:
        # A leaf pickles as itself; an op node as its leaves (objects, so a model's parameters
        # stay shared with the graphs built on them) plus its graph as a flat list.
        if self._op is None:
            return _leaf, (type(self), self._data, _plain_grad(self), self.label)
        order = topological_order(self)
        leaves = [n for n in order if n._op is None]
        index = {n: i for i, n in enumerate(leaves)}
        spec: list[tuple[Op, tuple[int, ...], float, float, str]] = []
        for node in order:
            if node._op is not None:
                index[node] = len(leaves) + len(spec)
                spec.append((node._op, tuple(index[p] for p in node._parents), node._data,
                             _plain_grad(node), node.label))
        return _graph, (leaves, spec)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        made = []
        for node in topological_order(self):  # parents first: each copy finds its parents'
            if id(node) not in memo:
                new = _leaf(type(node), node._data, 0.0, node.label)
                if node._op is not None:
                    new._op = node._op
                    new._parents = tuple(memo[id(p)] for p in node._parents)
                memo[id(node)] = new
                made.append((node, new))
        # Grads last: a grad from create_graph=True is a graph that may hold these very nodes.
        for node, new in made:
            new._grad = copy.deepcopy(node._grad, memo)
        return memo[id(self)]  # type: ignore[no-any-return]


class Constant(Value):
    """A number lifted into the graph from a Python literal (the 2 of x * 2): it takes no grad."""

    __slots__ = ()

    def __init__(self, data: Any, label: str = "") -> None:
        super().__init__(data, label)
        self._constant = True


def _plain_grad(node: Value) -> float:
    if isinstance(node._grad, Value):
        raise TypeError(f"{node!r} holds a grad that is a graph (from create_graph=True), which "
                        f"does not pickle: call zero_grad() first, or pickle its number")
    return node._grad  # type: ignore[no-any-return]


def _leaf(cls: type[Value], data: float, grad: Any, label: str) -> Value:
    """A leaf (or Constant) with these fields: what pickle and deepcopy rebuild."""
    node = cls(data, label)
    node._grad = grad
    return node


def _graph(leaves: list[Value], spec: list[tuple[Op, tuple[int, ...], float, float, str]]
           ) -> Value:
    """The last node of a graph pickled by Value.__reduce__, rebuilt in order."""
    nodes = list(leaves)
    for op, parents, data, grad, label in spec:
        node = _leaf(Value, data, grad, label)
        node._op = op
        node._parents = tuple(nodes[i] for i in parents)
        nodes.append(node)
    return nodes[-1]


# What an operator accepts; anything else gets NotImplemented, so Python asks the other side.
_OPERAND = (Value, float, int, numbers.Real)


def _compared(x: Value, symbol: str, other: Any, result: bool) -> bool:
    """result, reported to the trace in progress (if any) as a guard: `x symbol other`."""
    trace = tracing()
    if trace is not None:
        trace.compared(x, symbol, other, result)
    return result


def _data(x: Any) -> float:
    return x._data if isinstance(x, Value) else x


# --- the one node builder --------------------------------------------------------------------

@rules.interpreter(Value)
def apply(op: Op, *args: Any) -> Value:
    """op.forward(*inputs) as a new node with parents = inputs (numbers become Constants).

    Under no_grad the result is a leaf. Any op record works, the table's or one of your own.
    """
    n = len(args)
    if type(op) is not Op or n != op.arity:
        _check_call(op, n)
    # One and two inputs (nearly every node) are spelled out: unpacking a list costs more.
    if n == 2:
        x, y = args
        if type(x) is not Value or type(y) is not Value:
            args = x, y = _inputs(op, args)
        try:
            data = op.forward(x._data, y._data)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(op, args, err) from None
    else:
        if n != 1 or type(args[0]) is not Value:
            args = _inputs(op, args)
        try:
            data = op.forward(*[a._data for a in args]) if n > 1 else op.forward(args[0]._data)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(op, args, err) from None
    if type(data) is not float or not _finite(data):
        data = _result(op, args, data)
    # Built here rather than by Value(...): a Python __init__ call per node costs more than the
    # six slots it would set. Leaves come from Value.__init__, which sets the same six fields.
    out = _new(Value)
    out._data = data
    out._grad = 0.0
    out._label = ""
    out._constant = False
    if recording():
        out._op = op
        out._parents = args
    else:  # under no_grad the result is a plain leaf
        out._op = None
        out._parents = ()
    return out


def _check_call(op: Any, n: int) -> None:
    """Refuse anything but an op record (or a subclass's) and a wrong number of inputs."""
    if not isinstance(op, Op):
        raise TypeError(f"apply needs an op record (autograd_core.Op), got {op!r}")
    if n != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} input{'s' * (op.arity > 1)} "
                        f"({', '.join(op.inputs)}), got {n}")


def _inputs(op: Op, args: tuple[Any, ...]) -> tuple[Value, ...]:
    """The inputs as Values: numbers lifted into Constants; anything else refused by name."""
    try:
        return tuple([a if isinstance(a, Value) else Constant(a) for a in args])
    except (TypeError, ValueError) as err:
        raise type(err)(f"{op.written(*op.inputs)}: {err}") from None


def _result(op: Op, parents: tuple[Value, ...], data: Any) -> float:
    """A forward result that is not a finite float: an overflow, an int, or a broken record."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"op record {op.name!r}: forward returned {data!r}, not a real number")
    try:
        data = float(data)
    except OverflowError:
        raise _forward_error(op, parents, None) from None
    if not _finite(data):  # from finite inputs: an overflow
        raise _forward_error(op, parents, None)
    return data


def _call(op: Op, args: tuple[Any, ...]) -> str:
    """The op as the user wrote it, at these inputs: `0.0 ** -1.0`, `log(-1.0)`."""
    return op.written(*(repr(_data(a)) for a in args))


def _forward_error(op: Op, parents: tuple[Value, ...], err: Exception | None) -> Exception:
    """The error for a bad input: names the op as written, the values and where it is defined."""
    call = _call(op, parents)
    if err is None or isinstance(err, OverflowError):
        return OverflowError(f"{call} overflows a float (|result| > 1.8e308)")
    return type(err)(f"{call} is undefined: {op.defined or err}")


def _make_method(op: Op) -> Callable[..., Value]:
    """`x.name(...)` for a record: x is the first input, the others follow (with defaults)."""
    method: Any = _one_input_method(op) if op.arity == 1 else _inputs_method(op)
    # help() and IDEs show the record's input names: leaky_relu(self, slope=0.01).
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    defaults = dict(zip(op.inputs[op.arity - len(op.defaults):], op.defaults))
    method.__signature__ = inspect.Signature(
        [inspect.Parameter("self", kind)]
        + [inspect.Parameter(name, kind, default=defaults.get(name, inspect.Parameter.empty))
           for name in op.inputs[1:]],
        return_annotation="Value")
    method.__name__ = op.name
    method.__qualname__ = f"Value.{op.name}"  # so pickle finds it, as it would a def
    method.__doc__ = op.formula
    return method


def _one_input_method(op: Op) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        return apply(op, self)
    return method


def _inputs_method(op: Op) -> Callable[..., Value]:
    rest = op.arity - 1

    def method(self: Value, *others: Any) -> Value:
        missing = rest - len(others)
        if 0 < missing <= len(op.defaults):
            others += op.defaults[-missing:]
        elif missing:
            raise TypeError(f"{op.name}() takes {rest} argument{'s' * (rest > 1)} "
                            f"({', '.join(op.inputs[1:])}), got {len(others)}")
        return apply(op, self, *others)
    return method


# Every record with a method gets one: adding a record to the table adds `x.name()`.
for _op in ops.OPS:
    if _op.method:
        setattr(Value, _op.name, _make_method(_op))
for _name, _op in (("__add__", ADD), ("__sub__", SUB), ("__mul__", MUL), ("__truediv__", DIV),
                   ("__neg__", NEG), ("__pos__", POS), ("__abs__", ABS)):
    getattr(Value, _name).__doc__ = _op.formula


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
        parents = node._parents
        if len(parents) == 2:  # most nodes: spelled out, the fastest form
            x, y = parents
            if x in visited:
                if y in visited:
                    order.append(node)
                else:
                    stack += (node, None, y)
            elif y in visited:
                stack += (node, None, x)
            else:
                stack += (node, None, y, x)  # x on top: the first parent is placed first
        elif parents:  # a parent already visited is skipped when it comes back up
            stack.append(node)
            stack.append(None)
            stack.extend(parents[::-1])
        else:
            order.append(node)
    return order


# --- the chain rule, once ----------------------------------------------------------------------

def local_partials(node: Value, *, create_graph: bool = False) -> tuple[Any, ...]:
    """∂node/∂parent for each parent, by the rules of node.op at the forward values.

    None where a parent takes no gradient (a Constant, or an input the record marks constant):
    its rule is never evaluated. With create_graph=True the partials are Values.
    """
    op = node._op
    if op is None:
        return ()
    parents = node._parents
    args = parents if create_graph else [p._data for p in parents]
    out = node if create_graph else node._data
    try:
        with grad_mode(True) if create_graph else nullcontext():
            return tuple(None if rule is None or parent._constant
                         else rule if type(rule) is float else rule(out, *args)
                         for parent, rule in zip(parents, op.partials))
    except (ArithmeticError, ValueError) as err:
        raise _backward_error(node, err) from None


class Link(NamedTuple):
    """One node's step of the chain rule: parent.grad += partial · grad, for each parent."""

    node: Value
    grad: Any  # d(root)/d(node), complete: every node that uses `node` came before it
    partials: tuple[Any, ...]  # ∂node/∂parent, from node.op; None where a parent takes no grad
    contributions: tuple[Any, ...]  # partial · grad, what this step adds; None likewise


def chain_rule(root: Value, seed: Any = 1.0, *, create_graph: bool = False,
               grads: dict[Value, Any] | None = None) -> Iterator[Link]:
    """The chain rule over the graph below root, one Link per op node in reversed topological
    order: grads[parent] += ∂node/∂parent · grads[node], with grads[root] = seed.

    The running sums live in `grads` (a dict you may pass in), never in the nodes. On floats;
    with create_graph=True the partials are graph nodes, so the grads can be differentiated
    again. Backward, the stepper and the pictures all consume this walk.
    """
    grads = {} if grads is None else grads
    grads[root] = seed
    for node in reversed(topological_order(root)):
        op = node._op
        if op is None:
            continue
        g = grads.get(node, 0.0)  # nothing yet: reached only through inputs taking no grad
        partials = local_partials(node, create_graph=create_graph)
        try:
            with grad_mode(True) if create_graph else nullcontext():
                contributions = tuple(None if d is None else d * g for d in partials)
                for parent, c in zip(node._parents, contributions):
                    if c is not None:
                        old = grads.get(parent)
                        grads[parent] = c if old is None else old + c
        except ArithmeticError as err:  # on Values: a product or a sum overflowed
            raise OverflowError(f"backward through {_call(op, node._parents)}: {err}") from None
        yield Link(node, g, partials, contributions)


def _chain_rule_floats(order: list[Value]) -> None:
    """`chain_rule` on floats, specialised for speed: the same steps, in order, with the
    running sums kept in the nodes' grad slots (faster than a dict) and nothing yielded;
    the one- and two-input cases (nearly every node) spelled out.

    Proven equal to the general walk by tests/test_chain_rule.py on random DAGs.
    """
    node = None
    try:
        for node in reversed(order):
            op = node._op
            if op is None:
                continue
            g = node._grad
            parents = node._parents
            out = node._data
            if len(parents) == 2:
                x, y = parents
                rx, ry = op.partials
                xd, yd = x._data, y._data
                if rx is not None and not x._constant:
                    x._grad += (rx if type(rx) is float else rx(out, xd, yd)) * g
                if ry is not None and not y._constant:
                    y._grad += (ry if type(ry) is float else ry(out, xd, yd)) * g
            elif len(parents) == 1:
                x = parents[0]
                rx = op.partials[0]
                if rx is not None and not x._constant:
                    x._grad += (rx if type(rx) is float else rx(out, x._data)) * g
            else:
                args = [p._data for p in parents]
                for parent, rule in zip(parents, op.partials):
                    if rule is not None and not parent._constant:
                        parent._grad += (rule if type(rule) is float else rule(out, *args)) * g
    except (ArithmeticError, ValueError) as err:
        raise _backward_error(node, err) from None


# One float walk at a time: it keeps its running sums in the nodes, so two threads walking a
# shared graph at once would mix them. Reentrant, for a rule of a user's own that walks too.
_walk_lock = threading.RLock()


def _backward_floats(root: Value, seed: float, read: list[Value] | None = None
                     ) -> list[float]:
    """Run the float walk in the nodes' grad slots and add its grads to the old ones (backward);
    or, given nodes to read, return their grads from this walk and leave every grad as it was
    (functional grad: nodes to read that are not in the graph must be fresh, at 0).

    A walk that fails, or yields a grad that is not finite, changes nothing and raises.
    """
    order = topological_order(root)
    with _walk_lock:
        # Only grads that are not 0 need keeping aside: fresh nodes (most of them) skip it.
        saved = [(n, n._grad) for n in order if n._grad != 0.0]  # a Value grad is != 0.0
        for node, _ in saved:
            node._grad = 0.0
        root._grad = seed
        try:
            _chain_rule_floats(order)
            if not all([_finite(n._grad) for n in order]):
                _raise_first_non_finite(root, seed)
        except BaseException:
            _restore(order, saved)
            raise
        if read is not None:
            grads = [n._grad for n in read]
            _restore(order, saved)
            return grads
        for node, old in saved:
            node._grad = old + node._grad
        return []


def _restore(order: list[Value], saved: list[tuple[Value, Any]]) -> None:
    for node in order:
        node._grad = 0.0
    for node, old in saved:
        node._grad = old


def _graph_grads(root: Value, seed: Any) -> dict[Value, Any]:
    """Every grad of the walk with create_graph=True: Values, each checked finite when built."""
    grads: dict[Value, Any] = {}
    for _ in chain_rule(root, seed, create_graph=True, grads=grads):
        pass
    return grads


def _raise_first_non_finite(root: Value, seed: Any) -> None:
    """Walk again and name the first step whose partial, contribution or sum is not finite."""
    grads: dict[Value, Any] = {}
    for link in chain_rule(root, seed, grads=grads):  # changes no node
        for parent, d, c in zip(link.node._parents, link.partials, link.contributions):
            if c is None or (_finite(c) and _finite(grads[parent])):
                continue
            what = (f"its partial ∂/∂{_input_name(link.node, parent)} = {d!r}" if not _finite(d)
                    else f"the contribution {d!r} · {link.grad!r} = {c!r}" if not _finite(c)
                    else f"the grads of its input add up to {grads[parent]!r}")
            raise OverflowError(f"backward through {_call(link.node._op, link.node._parents)}: "  # type: ignore[arg-type]
                                f"{what}, not a finite number")
    raise AssertionError("a non-finite grad that no step of the chain rule produced")


def _input_name(node: Value, parent: Value) -> str:
    assert node._op is not None
    return node._op.inputs[node._parents.index(parent)]


def _backward_error(node: Value | None, err: Exception) -> Exception:
    assert node is not None and node._op is not None
    op = node._op
    return type(err)(f"backward through {_call(op, node._parents)}: the derivative is undefined "
                     f"there ({op.defined or err})")


def grads_of(root: Value, wrt: list[Value], seed: Any = 1.0, *, create_graph: bool = False
             ) -> list[Any]:
    """d(root)/d(w) for each w in wrt (0.0 where root does not depend on w); no grad changes.

    With create_graph=True the grads are Values (a graph the caller can differentiate again).
    A walk that fails or yields a non-finite grad raises, naming the op and its values.
    """
    if create_graph:
        grads = _graph_grads(root, seed)
        return [grads.get(w, 0.0) for w in wrt]
    return _backward_floats(root, float(seed), read=wrt)

"""The functional API, as JAX and torch.autograd spell it: `grad`, `value_and_grad`, `vjp`,
`jacobian`, `hessian` transform a function of numbers, Values or pytrees of them; `gradients`
differentiates a graph that already exists. They compose, and change no node's grad.
`custom_vjp` gives a function a backward rule of your own (one node per call, its record's vjp).
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, Callable

import numpy as np

from .engine import Constant, Value, apply, as_real, grads_of, topological_order
from .modes import grad_level, grad_mode, is_grad_enabled, pause_collector
from .ops import CUSTOM, POS, Op
from .pytree import TreeDef, leaf_paths, tree_flatten, tree_map, tree_unflatten

Argnums = int | Sequence[int]

# What a transform hands back. NUMBER: plain floats (called at the top level on numbers).
# GRAPH: Values connected to the graph, so an outer grad (or a backward) can differentiate
# them (called inside another transform, or handed Values). LEAF: Values cut from the graph
# (handed Values under no_grad: as PyTorch's function transforms, the gradient is still
# computed — f runs with grad enabled — but nothing outside records it).
NUMBER, LEAF, GRAPH = range(3)


# --- the transforms -----------------------------------------------------------------------------

def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
                   ) -> Callable[..., tuple[Any, Any]]:
    """args ↦ (f(args), ∂f/∂args[argnums]); with has_aux, f returns (value, aux) and the result
    is ((value, aux), gradient). An int argnums gives one gradient, a tuple a tuple of them; a
    pytree argument (tuples, lists, dicts, arrays) gets a gradient of the same shape. Keyword
    arguments go to f and are never differentiated.
    """
    return _value_and_grad("value_and_grad", f, argnums, has_aux)


def _value_and_grad(who: str, f: Callable[..., Any], argnums: Argnums, has_aux: bool
                    ) -> Callable[..., tuple[Any, Any]]:
    nums = _check_transform(who, f, argnums, has_aux)
    one = not isinstance(argnums, Sequence)

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        mode = _mode(args, kwargs)
        level = grad_level.set(grad_level.get() + 1)
        try:
            with pause_collector(), grad_mode(True):
                inputs, flat, shapes = _fresh_inputs(who, f, nums, args)
                out = f(*inputs, **kwargs)
                aux = None
                if has_aux:
                    out, aux = _pair(who, f, out)
                out = _scalar(who, f, out, flat, nums)
                grads = grads_of(out, flat, create_graph=mode == GRAPH) if flat else []
        finally:
            grad_level.reset(level)
        trees = _split(grads, shapes, mode)
        value = _export(out, mode)
        return ((value, _export(aux, mode)) if has_aux else value), (trees[0] if one else trees)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
         ) -> Callable[..., Any]:
    """args ↦ ∂f/∂args[argnums] (with has_aux: (gradient, aux)); composes with itself for
    higher derivatives. As value_and_grad, without the value."""
    vg = _value_and_grad("grad", f, argnums, has_aux)

    if has_aux:
        @functools.wraps(f)
        def grad_aux_f(*args: Any, **kwargs: Any) -> Any:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return grad_aux_f

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """(f(primals), vjp_fn) where vjp_fn(ct) = ctᵀ·∂f/∂primals: one cotangent tree per primal,
    as a tuple; ct has the shape of f's output. With has_aux: (out, vjp_fn, aux)."""
    _check_transform("vjp", f, 0, has_aux)
    nums = tuple(range(len(primals)))
    mode = _mode(primals, {})
    level = grad_level.set(grad_level.get() + 1)
    try:
        with pause_collector(), grad_mode(True):
            inputs, flat, shapes = _fresh_inputs("vjp", f, nums, primals)
            out = f(*inputs)
            aux = None
            if has_aux:
                out, aux = _pair("vjp", f, out)
            outs, out_def = tree_flatten(out)
            outs = _outputs("vjp", f, outs, out, flat, nums)
    finally:
        grad_level.reset(level)

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        """ctᵀ·∂f/∂primals, one tree per primal (the primals' shapes)."""
        cts, ct_def = tree_flatten(ct)
        if ct_def != out_def:
            raise ValueError(f"vjp_fn needs a cotangent shaped like f's output {out_def!r}, got "
                             f"{ct_def!r}")
        cts = _seeds("vjp_fn's cotangent", cts, leaf_paths(ct))
        now = mode if mode != NUMBER else _mode((ct,), {})
        if now != NUMBER:  # the grad mode of this call decides, as for the transforms
            now = GRAPH if is_grad_enabled() else LEAF
        with pause_collector():
            grads = _pullback(outs, cts, flat, now == GRAPH) if flat else []
        return _split(grads, shapes, now)

    value = _export(out, mode)
    return (value, vjp_fn, _export(aux, mode)) if has_aux else (value, vjp_fn)


def jacobian(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
             ) -> Callable[..., Any]:
    """args ↦ ∂f/∂args[argnums] for f returning a pytree of Values (a list, a tuple, an array):
    the output's shape with, at each output, its gradient (a list of rows for a list out and
    a list in; an array of shape out.shape + in.shape for arrays). Reverse mode: one walk per
    output. With has_aux: (jacobian, aux)."""
    nums = _check_transform("jacobian", f, argnums, has_aux)
    one = not isinstance(argnums, Sequence)

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        mode = _mode(args, kwargs)
        level = grad_level.set(grad_level.get() + 1)
        try:
            with pause_collector(), grad_mode(True):
                inputs, flat, shapes = _fresh_inputs("jacobian", f, nums, args)
                out = f(*inputs, **kwargs)
                aux = None
                if has_aux:
                    out, aux = _pair("jacobian", f, out)
                outs, out_def = tree_flatten(out)
                outs = _outputs("jacobian", f, outs, out, flat, nums)
                rows = [grads_of(o, flat, create_graph=mode == GRAPH) if flat else []
                        for o in outs]
        finally:
            grad_level.reset(level)
        trees = [_split(row, shapes, mode) for row in rows]
        jac = tree_unflatten(out_def, [t[0] if one else t for t in trees])
        return (jac, _export(aux, mode)) if has_aux else jac

    return jacobian_f


def hessian(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
            ) -> Callable[..., Any]:
    """args ↦ ∂²f/∂args[argnums]²: the jacobian of the gradient (an n×n list of rows for a list
    argument, an array for an array; nested tuples for a tuple argnums, as JAX)."""
    _check_transform("hessian", f, argnums, has_aux)
    return jacobian(grad(f, argnums, has_aux), argnums, has_aux)


def gradients(outputs: Value | Sequence[Value], inputs: Value | Sequence[Value],
              grad_outputs: Any = None, *, create_graph: bool = False,
              allow_unused: bool = False) -> tuple[Any, ...]:
    """Σₖ grad_outputs[k]·∂outputs[k]/∂inputs[i] for each input, on a graph already built
    (torch.autograd.grad): a tuple, one per input; no node's grad changes. An input the outputs
    do not reach raises, or gives None with allow_unused=True; create_graph=True gives Values
    that can be differentiated again."""
    outs = _values("outputs", outputs)
    ins = _values("inputs", inputs)
    for name, flag in (("create_graph", create_graph), ("allow_unused", allow_unused)):
        if not isinstance(flag, bool):
            raise TypeError(f"gradients: {name} needs a bool, got {type(flag).__name__}: "
                            f"{flag!r}")
    if not outs or not ins:
        raise ValueError(f"gradients needs at least one output and one input, got "
                         f"{len(outs)} and {len(ins)}")
    if grad_outputs is None:
        seeds: list[Any] = [1.0] * len(outs)
    else:
        given = (list(grad_outputs) if isinstance(grad_outputs, (list, tuple))
                 else [grad_outputs])
        if len(given) != len(outs):
            raise ValueError(f"gradients: grad_outputs has {len(given)} entries for "
                             f"{len(outs)} outputs; give one per output (or None for 1.0)")
        seeds = _seeds("gradients: grad_outputs", [1.0 if s is None else s for s in given],
                       [f"[{k}]" for k in range(len(given))])
    reached: set[Value] = set()
    for out in outs:
        reached.update(topological_order(out))
    for i, w in enumerate(ins):
        if w.constant:
            raise ValueError(f"gradients: inputs[{i}] is a Constant ({w!r}): it takes no "
                             f"gradient")
        if w not in reached and not allow_unused:
            raise ValueError(f"gradients: inputs[{i}] ({w!r}) is not used by the outputs; "
                             f"pass allow_unused=True to get None for it")
    used = [w for w in ins if w in reached]
    with pause_collector():
        grads = dict(zip(used, _pullback(outs, seeds, used, create_graph))) if used else {}
    return tuple(None if w not in reached else
                 _as_value(grads[w]) if create_graph else grads[w] for w in ins)


# --- arguments ---------------------------------------------------------------------------------

def _check_transform(who: str, f: Any, argnums: Any, has_aux: Any) -> tuple[int, ...]:
    """Refuse a bad f, argnums or has_aux when the transform is made, naming it."""
    if not callable(f):
        raise TypeError(f"{who} needs a function, got {type(f).__name__}: {f!r}")
    if not isinstance(has_aux, bool):
        raise TypeError(f"{who}: has_aux needs a bool, got {type(has_aux).__name__}: "
                        f"{has_aux!r}")
    if _is_index(argnums):
        return (int(argnums),)
    if not isinstance(argnums, Sequence) or isinstance(argnums, str):
        raise TypeError(f"{who}: argnums needs an int or a tuple of ints, got "
                        f"{type(argnums).__name__}: {argnums!r}")
    if not argnums:
        raise ValueError(f"{who}: argnums={argnums!r} asks for no gradient; give at least one "
                         f"argument position")
    for i in argnums:
        if not _is_index(i):
            raise TypeError(f"{who}: argnums needs ints, got {type(i).__name__}: {i!r} in "
                            f"{argnums!r}")
    return tuple(int(i) for i in argnums)


def _is_index(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _mode(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """What to hand back: a graph when called inside another transform or handed Values."""
    handed = grad_level.get() > 0 or _holds_value(args) or (bool(kwargs) and
                                                             _holds_value(kwargs))
    if not handed:
        return NUMBER
    return GRAPH if is_grad_enabled() else LEAF


def _numeric_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.dtype != object


def _holds_value(tree: Any) -> bool:
    """Is there a Value anywhere in tree? A walk that stops at the first (no shape is built)."""
    stack = [tree]
    seen: set[int] = set()  # containers already scanned: a list that holds itself ends
    while stack:
        x = stack.pop()
        if type(x) is float or type(x) is int:
            continue
        if isinstance(x, Value):
            return True
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, (tuple, list)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, np.ndarray) and x.dtype == object:
            stack.extend(x.ravel().tolist())
    return False


Shapes = list[tuple[int, TreeDef]] | None  # per argnum: (leaf count, shape); None: one leaf each


def _fresh_inputs(who: str, f: Any, nums: tuple[int, ...], args: tuple[Any, ...]
                  ) -> tuple[list[Any], list[Value], Shapes]:
    """f's arguments with a fresh node at every leaf to differentiate, those nodes in argnums
    order (repeated for a repeated argnum), and each argnum's shape (None when every one is a
    single number or Value, the common case)."""
    n = len(args)
    inputs = list(args)
    flat: list[Value] = []
    made: dict[int, tuple[list[Value], TreeDef | None]] = {}
    for i in nums:
        if not -n <= i < n:
            raise IndexError(f"{who}: argnums {i} is out of range for {n} positional "
                             f"arguments (keyword arguments are passed to f, never "
                             f"differentiated)")
        i %= n
        if i not in made:
            arg = args[i]
            if type(arg) is float or isinstance(arg, (Value, int)):
                node = _fresh(arg, who, f, i, "")
                inputs[i] = node
                made[i] = ([node], None)
            else:
                leaves, treedef = tree_flatten(arg)
                paths = (leaf_paths(arg) if not all(type(x) is float for x in leaves)
                         else [""] * len(leaves))
                nodes = [_fresh(x, who, f, i, p) for x, p in zip(leaves, paths)]
                inputs[i] = tree_unflatten(treedef, nodes)
                made[i] = (nodes, treedef)
        flat += made[i][0]
    if all(treedef is None for _, treedef in made.values()):
        return inputs, flat, None
    return inputs, flat, [(len(made[i % n][0]), made[i % n][1] or _SCALAR) for i in nums]


_SCALAR = tree_flatten(0.0)[1]  # the shape of one leaf


def _fresh(x: Any, who: str, f: Any, i: int, path: str) -> Value:
    # A fresh node per input, even for a Value: this derivative is with respect to it alone,
    # not to the outer variable it was made from (no perturbation confusion).
    if isinstance(x, Value):
        return apply(POS, x)
    if type(x) is float and math.isfinite(x):
        return Value(x)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{who}: {_arg_name(f, i)}{path} needs a real number or a Value to "
                        f"differentiate, got {type(x).__name__}: {x!r}")
    return Value(as_real(x, f"{who}: {_arg_name(f, i)}{path}"))


def _arg_name(f: Any, i: int) -> str:
    """The name of f's positional parameter i, for messages ("x"), or "argument i"."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return f"argument {i}"
    if i < len(params) and params[i].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                              inspect.Parameter.POSITIONAL_OR_KEYWORD):
        return params[i].name
    return f"argument {i}"


def _values(name: str, xs: Any) -> list[Value]:
    items = [xs] if isinstance(xs, Value) else xs
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"gradients: {name} needs a Value or a list or tuple of Values, got "
                        f"{type(xs).__name__}: {xs!r}")
    for k, x in enumerate(items):
        if not isinstance(x, Value):
            raise TypeError(f"gradients: {name}[{k}] needs a Value, got {type(x).__name__}: "
                            f"{x!r}")
    return list(items)


def _seeds(what: str, xs: list[Any], paths: list[str]) -> list[Any]:
    """Cotangents: Values kept (they may be differentiated), numbers as finite floats."""
    return [x if isinstance(x, Value) else as_real(x, f"{what}{p}") for x, p in zip(xs, paths)]


# --- results -----------------------------------------------------------------------------------

def _name(f: Any) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _pair(who: str, f: Any, out: Any) -> tuple[Any, Any]:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = (f"a {type(out).__name__} of {len(out)}" if isinstance(out, (tuple, list))
               else f"a {type(out).__name__}")
        raise TypeError(f"{who}(has_aux=True) needs {_name(f)} to return a pair (value, aux), "
                        f"but it returned {got}: {out!r:.200}")
    return out[0], out[1]


def _dropped(who: str, f: Any, out: Any, where: str, nums: tuple[int, ...]) -> TypeError:
    x = _arg_name(f, nums[0])
    return TypeError(
        f"{who}: {_name(f)}{where} returned a plain {type(out).__name__} ({out!r}), not a "
        f"Value, while {x} was being differentiated: a Value was turned into a number "
        f"(math.sin({x}), float({x}), {x}.data, {x}.item()), which drops the graph. Use the "
        f"Value's methods instead ({x}.sin(), {x}.exp(), {x}.tanh(), ...); for an output that "
        f"is truly constant, return Constant(c), whose gradient is 0")


def _scalar(who: str, f: Any, out: Any, wrt: list[Value], nums: tuple[int, ...]) -> Value:
    """f's result as the Value to differentiate; a plain number or a collection is refused."""
    if isinstance(out, Value):
        return out
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        if wrt:
            raise _dropped(who, f, out, "", nums)
        return Constant(as_real(out, f"the result of {_name(f)}"))  # nothing to differentiate
    if isinstance(out, (tuple, list, dict, np.ndarray)):
        raise TypeError(f"{who} needs {_name(f)} to return one scalar Value (a gradient is "
                        f"defined for scalar-output functions), but it returned a "
                        f"{type(out).__name__}: use jacobian for several outputs, or "
                        f"has_aux=True if the rest is auxiliary data")
    raise TypeError(f"{who} needs {_name(f)} to return a Value, got {type(out).__name__}: "
                    f"{out!r:.200}")


def _outputs(who: str, f: Any, outs: list[Any], out: Any, wrt: list[Value],
             nums: tuple[int, ...]) -> list[Value]:
    """The leaves of f's output as Values; a plain number among them is refused as by _scalar."""
    result = []
    paths: list[str] | None = None
    for k, o in enumerate(outs):
        if isinstance(o, Value):
            result.append(o)
            continue
        paths = paths if paths is not None else leaf_paths(out)
        if isinstance(o, numbers.Real) and not isinstance(o, bool):
            if wrt:
                raise _dropped(who, f, o, f"'s output{paths[k]}", nums)
            result.append(Constant(as_real(o, f"{_name(f)}'s output{paths[k]}")))
            continue
        raise TypeError(f"{who} needs {_name(f)} to return Values (or a pytree of them), got "
                        f"{type(o).__name__} at output{paths[k]}: {o!r:.200}")
    return result


def _pullback(outs: list[Value], cts: list[Any], wrt: list[Value], create_graph: bool
              ) -> list[Any]:
    """Σₖ ctₖ·∂outₖ/∂w for each w: one walk from Σₖ ctₖ·outₖ (a node per output), not one
    walk per output."""
    if not create_graph:
        cts = [c.data if isinstance(c, Value) else c for c in cts]
    if len(outs) == 1:
        return grads_of(outs[0], wrt, cts[0], create_graph=create_graph)
    with grad_mode(True):
        root = outs[0] * cts[0]
        for o, c in zip(outs[1:], cts[1:]):
            root = root + o * c
    return grads_of(root, wrt, create_graph=create_graph)


def _as_value(g: Any) -> Value:
    return g if isinstance(g, Value) else Constant(g)


def _export(tree: Any, mode: int) -> Any:
    """Values as numbers (NUMBER), cut from the graph (LEAF) or as they are (GRAPH)."""
    if mode == GRAPH or tree is None:
        return tree
    if isinstance(tree, Value):
        return tree.data if mode == NUMBER else tree.detach()
    return tree_map(lambda x: _export(x, mode) if isinstance(x, Value) else x, tree,
                    is_leaf=_numeric_array)


def _split(grads: list[Any], shapes: Shapes, mode: int) -> tuple[Any, ...]:
    """The flat gradients back into one tree per argnum, each shaped as its argument: numbers
    (NUMBER), Values (GRAPH: a gradient that is a number becomes a Constant, so every result
    can be differentiated again) or leaf Values (LEAF)."""
    if mode == GRAPH:
        grads = [_as_value(g) for g in grads]
    elif mode == LEAF:
        grads = [Value(g.data if isinstance(g, Value) else g) for g in grads]
    if shapes is None:
        return tuple(grads)
    trees = []
    start = 0
    for count, treedef in shapes:
        trees.append(tree_unflatten(treedef, grads[start:start + count]))
        start += count
    return tuple(trees)


# --- custom rules: jax.custom_vjp ------------------------------------------------------------

# The custom_vjp functions whose fwd is running in this context (per thread and task, as the
# grad mode): JAX's idiom `def f_fwd(x): return f(x), res` calls f inside its own fwd, where f
# means the plain function.
_in_fwd: ContextVar[tuple[Any, ...]] = ContextVar("autograd_core.custom_fwd", default=())


class custom_vjp:  # noqa: N801 — a decorator, spelled as JAX spells it
    """f with a backward rule of yours: `@custom_vjp def f(x, ...)`, then `f.defvjp(fwd, bwd)`
    with fwd(*args) = (f(*args), residuals) and bwd(residuals, g) = (ct₀, ct₁, …), what each
    argument's grad gains from the upstream gradient g (None for an argument that takes none).

    Written with Value arithmetic, bwd differentiates again (grad of grad, create_graph=True):
    the residuals are then the Values fwd made, and g is a Value. On numbers, or under no_grad,
    a call is f itself.
    """

    def __init__(self, fun: Callable[..., Any]) -> None:
        if not callable(fun):
            raise TypeError(f"custom_vjp needs a function, got {type(fun).__name__}: {fun!r}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        name = getattr(fun, "__name__", "")
        self._name = name if name.isidentifier() else "custom"
        try:
            params = inspect.signature(fun).parameters.values()
            self._params = tuple(p.name for p in params if p.kind in (
                p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        except (TypeError, ValueError):  # a builtin without a signature
            self._params = ()

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the rule: fwd(*args) -> (out, residuals); bwd(residuals, g) -> cotangents."""
        for what, rule in (("fwd", fwd), ("bwd", bwd)):
            if not callable(rule):
                raise TypeError(f"{self._name}.defvjp: {what} must be a function, got "
                                f"{type(rule).__name__}: {rule!r}")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"{self._name} is a custom_vjp function: pass its arguments by "
                            f"position (one cotangent each), got keywords {sorted(kwargs)}")
        if self.fwd is None or self.bwd is None:
            raise TypeError(f"custom_vjp function {self._name} has no backward rule: call "
                            f"{self._name}.defvjp(fwd, bwd) before calling it")
        if not args:
            raise TypeError(f"{self._name} is a custom_vjp function: it needs an argument")
        for i, a in enumerate(args):
            if not isinstance(a, (Value, numbers.Real)) or isinstance(a, bool):
                raise TypeError(f"{self._name}: argument {i} must be a number or a Value (one "
                                f"cotangent each), got {type(a).__name__}: {a!r}")
        if (not is_grad_enabled() or not any(isinstance(a, Value) for a in args)
                or self in _in_fwd.get()):
            return self.fun(*args)  # nothing records it (or fwd calls f): the function itself
        token = _in_fwd.set((*_in_fwd.get(), self))
        try:
            result = self.fwd(*args)
        finally:
            _in_fwd.reset(token)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(f"{self._name}'s fwd must return a pair (out, residuals), got "
                            f"{result!r}")
        out, residuals = result
        if not isinstance(out, (Value, numbers.Real)) or isinstance(out, bool):
            raise TypeError(f"{self._name}'s fwd must return a number or a Value as out, got "
                            f"{type(out).__name__}: {out!r}")
        record = Op(self._name, self._name, CUSTOM, f"f = {self._name}(…)",
                    forward=_Forward(self.fun, args, out), vjp=_Backward(self.bwd, residuals),
                    inputs=self._inputs(len(args)))
        return apply(record, *args)

    def _inputs(self, n: int) -> tuple[str, ...]:
        if len(self._params) == n:
            return self._params
        return ("x", "y", "z")[:n] if n <= 3 else tuple(f"x{i}" for i in range(n))

    def __repr__(self) -> str:
        return f"custom_vjp({self._name})"


def _plain_number(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


class _Forward:
    """The record's forward: fwd's out at the call's inputs (computed once), f elsewhere."""

    __slots__ = ("fun", "at", "out")

    def __init__(self, fun: Callable[..., Any], args: tuple[Any, ...], out: Any) -> None:
        self.fun = fun
        self.at = tuple(_plain_number(a) for a in args)
        self.out = _plain_number(out)

    def __call__(self, *xs: float) -> Any:
        return self.out if xs == self.at else _plain_number(self.fun(*xs))


class _Backward:
    """The record's vjp: bwd(residuals, g) — on Values for create_graph, on their numbers else."""

    __slots__ = ("bwd", "residuals")

    def __init__(self, bwd: Callable[..., Any], residuals: Any) -> None:
        self.bwd = bwd
        self.residuals = residuals

    def __call__(self, g: Any, out: Any, *inputs: Any) -> Any:
        graph = isinstance(out, Value)  # the walk runs rules on Values only for create_graph
        return self.bwd(self.residuals if graph else tree_map(_plain_number, self.residuals), g)

"""The program: a function's traces, one per pattern of guard outcomes, replayed at numbers or
batches of them; a retrace where a guard flips, up to a cap past which it runs eagerly (with
one warning naming the guard that keeps flipping); eager's own error where replay finds one."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Value, apply, as_real, grads_of
from ..modes import collector_paused, enable_grad, grad_level, tracing
from ..ops import ADD, POS, SUB
from ..pytree import TreeDef, leaf_paths, tree_flatten, tree_leaves, tree_unflatten
from . import compose
from .codegen import MAX_EQUATIONS, MAX_KERNELS, GeneratedArrays, GeneratedFloats
from .execute import ArrayExecutor, FloatExecutor
from .matmul import products_to_matmul
from .passes import Levels, Schedule, Sums, fuse_sums, group_by_level, narrow, plan_blocks
from .roll import Loop, deepens, find_loops
from .tape import Guard, Tape
from .trace import Uncompilable, flatten, trace
from .xla import XlaExecutor, load

# "numpy": generated float code for narrow tapes, numpy over the schedule for wide ones (and
# batches); "jax": the schedule lowered to jax.numpy and jax.jit-ed (see compile.xla).
BACKENDS = ("numpy", "jax")

# As torch.compile's default cache_size_limit: a function whose guards keep flipping past this
# many traces is data-dependent in a way replay cannot capture; it then runs eagerly.
MAX_TRACES = 8


# Tapes shorter than this group by level before looking for loops (which only the float
# executor of a narrow tape needs); longer ones look for loops first.
_LEVELS_FIRST = 100_000


class GuardError(RuntimeError):
    """A comparison made while tracing comes out the other way at these arguments."""


@dataclass
class Traced:
    """One trace of f ready to replay: its tape, the aux rebuilder, which executor suits it,
    and the executors (each built on first use)."""

    tape: Tape
    rebuild: Callable[[list[Any]], Any]
    _sums: Sums | None
    _levels: Levels | None
    narrow: bool
    loops: list[Loop] = field(default_factory=list)
    _schedule: Schedule | None = field(default=None, repr=False)
    _floats: FloatExecutor | GeneratedFloats | None = field(default=None, repr=False)
    _plan: ArrayExecutor | None = field(default=None, repr=False)
    _arrays: ArrayExecutor | GeneratedArrays | None = field(default=None, repr=False)
    _xla: XlaExecutor | None = field(default=None, repr=False)
    _wide: Traced | None = field(default=None, repr=False)
    reassociate: bool = False  # a layer's weighted sums as one matrix product (see compile)

    @classmethod
    def of(cls, tape: Tape, rebuild: Callable[[list[Any]], Any]) -> Traced:
        """The passes that choose the executor: fuse sums and group by level decide narrow or
        wide, and a narrow tape's loops are rolled. A long tape that is mostly one loop
        carrying its value is narrow at once (levels cost a Python step per equation)."""
        loops = find_loops(tape) if tape.n_eqns >= _LEVELS_FIRST else None
        if loops is not None:
            # A loop whose value is carried through an op other than + and − (which
            # fuse_sums would make one sum) has a level per iteration.
            c = tape.columns
            carried = sum(lp.count for lp in loops if deepens(
                lp, [c.ops[c.code[k]] in (ADD, SUB) for k in range(lp.start, lp.start + lp.body)]))
            if carried * 32 > tape.n_eqns:  # at least that many levels: narrow
                return cls(tape, rebuild, None, None, True, loops)
        sums = fuse_sums(tape)
        levels = group_by_level(tape, sums)
        wide = not narrow(tape, levels)
        if wide:
            return cls(tape, rebuild, sums, levels, False, loops or [])
        # narrow: the float executor runs it; the passes' results are made again if asked
        return cls(tape, rebuild, None, None, True, find_loops(tape) if loops is None else loops)

    def widened(self) -> Traced:
        """This trace with the Values f read from outside (closure, an enclosing grad) as
        inputs, so that a replay gives their gradients too: the same slots, since they come
        right after the arguments (built on first use)."""
        if self._wide is None:
            tape = self.tape
            wide = dataclasses.replace(tape, n_in=tape.n_in + len(tape.captured), captured=[])
            self._wide = Traced.of(wide, self.rebuild)
            self._wide.reassociate = self.reassociate
        return self._wide

    @property
    def sums(self) -> Sums:
        """fuse_sums's result (on first use for a narrow tape)."""
        if self._sums is None:
            self._sums = fuse_sums(self.tape)
        return self._sums

    @property
    def levels(self) -> Levels:
        """group_by_level's result (on first use for a narrow tape)."""
        if self._levels is None:
            self._levels = group_by_level(self.tape, self.sums)
        return self._levels

    @property
    def schedule(self) -> Schedule:
        """The numpy executor's plan: blocks per group, layers as matrix products (on first use)."""
        if self._schedule is None:
            self._schedule = products_to_matmul(plan_blocks(self.tape, self.sums, self.levels),
                                                self.tape.n_leaves)
        return self._schedule

    @property
    def floats(self) -> FloatExecutor | GeneratedFloats:
        """One point over floats: generated straight-line code, or for a tape too long to be
        worth compiling to source, the interpreter's flat loop (built on first use)."""
        if self._floats is None:
            straight = self.tape.n_eqns - sum(lp.stop - lp.start for lp in self.loops)
            self._floats = GeneratedFloats(self.tape, self.loops) if straight <= MAX_EQUATIONS \
                else FloatExecutor(self.tape)
        return self._floats

    @property
    def plan(self) -> ArrayExecutor:
        """The numpy interpreter over the schedule: the plan the others are generated from."""
        if self._plan is None:
            self._plan = ArrayExecutor(self.tape, self.schedule)
        return self._plan

    @property
    def arrays(self) -> ArrayExecutor | GeneratedArrays:
        """The numpy executor over the schedule (a point or a batch): generated source, or
        for a schedule of very many kernels (a deep graph) the interpreter."""
        if self._arrays is None:
            kernels = sum(len(step.kernels) for step in self.plan.steps)
            self._arrays = GeneratedArrays(self.plan, self.reassociate) \
                if kernels <= MAX_KERNELS else self.plan
        return self._arrays

    @property
    def xla(self) -> XlaExecutor:
        """The schedule as one jitted XLA program (backend="jax"; built on first use)."""
        if self._xla is None:
            self._xla = XlaExecutor(self.plan, self.reassociate)
        return self._xla


class Variant:
    """f's traces at one value of its static arguments: `variant(*args)` = (f(*args), (∂f/∂arg
    for each arg)) by replaying the newest trace whose guards hold; arrays of one shape give a
    value and gradients per point. A guard that flips retraces, up to `max_traces` traces;
    past that the variant warns once and runs f eagerly.

    A leaf Value passed as an argument when first traced stays bound to that argument (f may
    read it by closure, as a model reads its weights): every retrace maps it there, and a call
    may pass it again (its data is read). Other leaf Values f closes over are read at each
    replay (their current data), taking no gradient."""

    def __init__(self, f: Callable[..., Any], name: str, params: list[str], arity: int | None,
                 *, has_aux: bool, strict: bool, max_traces: int, eager_calls: int = 0,
                 backend: str = "numpy", reassociate: bool = False) -> None:
        self.f = f
        self.backend = backend
        self.reassociate = reassociate
        self.name = name
        self._params = params
        self.arity = arity
        self.has_aux = has_aux
        self.strict = strict
        self.max_traces = max_traces
        self.eager_calls = eager_calls  # calls taken eagerly before the first trace
        self.eager_only: str | None = None  # why f cannot be replayed, once a trace found out
        self.traces: list[Traced] = []
        self._bound: dict[Value, int] = {}  # leaf Values given as arguments: their argument
        self._warned = False
        self.reads_graph = False  # some trace read a node of an outside graph
        self._rebuild: Callable[[list[Any]], Any] | None = None  # aux numbers into f's structure
        self.key: Any = ()  # the static arguments' values it was made for
        self.n_positional = sys.maxsize  # how many of its gradients the program returns
        self.layout: list[tuple[int, TreeDef | None]] | None = None  # per positional argument

    def regroup(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        """The flat gradients put back in the arguments' shapes (a pytree's in its tree)."""
        if self.layout is None or all(treedef is None for _, treedef in self.layout):
            return grads
        out: list[Any] = []
        at = 0
        for count, treedef in self.layout:
            chunk = list(grads[at:at + count])
            at += count
            out.append(chunk[0] if treedef is None else tree_unflatten(treedef, chunk))
        return tuple(out)

    def __repr__(self) -> str:
        return f"Variant({self.name}, {len(self.traces)} trace{'s' * (len(self.traces) != 1)})"

    # --- tracing ---
    def trace(self, *args: Any) -> Traced:
        """Run f once on Values at args (numbers, or leaf Values that become bound inputs)."""
        if any(isinstance(a, np.ndarray) for a in args):  # a batch: trace at its first point
            args = tuple(np.asarray(a).flat[0] if isinstance(a, np.ndarray) else a for a in args)
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument"
                            f"{'s' * (self.arity != 1)}, got {len(args)}")
        inputs: list[Value] = []
        names: dict[Value, str] = {}
        if not self.traces:
            for i, a in enumerate(args):
                if isinstance(a, Value):
                    if a.op is not None or a.constant or a in self._bound:
                        raise TypeError(f"{self.name}: argument {i} is a Value made by an op, a "
                                        f"constant or passed twice; pass a leaf or a number")
                    self._bound[a] = i
        by_arg = {i: v for v, i in self._bound.items()}
        for i, a in enumerate(args):
            x = a.data if isinstance(a, Value) else _number(a, self._arg_name(i))
            w = by_arg.get(i)
            # The bound Value itself when it holds this number: f sees exactly what eager sees.
            leaf = w if w is not None and w.data == x else Value(x)
            names[leaf] = w.label if w is not None and w.label else self._arg_name(i)
            inputs.append(leaf)
        bound = {v: i for v, i in self._bound.items() if inputs[i] is not v}
        recorded = trace(self.f, inputs, names, has_aux=self.has_aux, bound=bound,
                         name=self.name, as_number=_number)
        traced = Traced.of(recorded.tape, recorded.rebuild)
        traced.reassociate = self.reassociate
        self._rebuild = recorded.rebuild
        self.traces.append(traced)
        # f read a node of a graph built outside it (one that takes a gradient): as eager's
        # result would, every call's result belongs to that graph (see _composes)
        self.reads_graph |= any(v.op is not None and v.requires_grad
                                for v in traced.tape.captured)
        self.arity = len(args)
        return traced

    def _arg_name(self, i: int) -> str:
        return self._params[i] if i < len(self._params) else f"x{i}"

    def listing(self) -> str:
        """The latest trace's forward and backward passes, one line per step."""
        if not self.traces:
            raise ValueError(f"{self.name} has not been traced yet: call it once first")
        traced = self.traces[-1]
        return traced.tape.listing(traced.loops)

    # --- replay ---
    def __call__(self, *args: Any) -> tuple[Any, Any]:
        """(f(*args), tuple of ∂f/∂argᵢ); for arrays, each is an array of the args' shape.
        Inside a differentiation (see `_composes`) the results are graph nodes instead."""
        if (grad_level.get() or tracing() is not None or self.reads_graph or
                Value in set(map(type, args))) and self._composes(args):
            return self._compose(args)
        if not self.traces:  # the first trace may find f reading an outside graph
            result = self._replay_call(args)
            return self._compose(args) if self.reads_graph else result
        return self._replay_call(args)

    def call_floats(self, args: tuple[float, ...]) -> tuple[Any, Any]:
        """As `variant(*args)` for arguments the caller found to be all Python floats (a
        training loop's call): one conversion and one finiteness check, no per-argument
        Python work; anything unusual takes the general path, which names the problem."""
        if not self.traces or self.reads_graph or grad_level.get() or tracing() is not None \
                or len(args) != self.arity:
            return self(*args)
        x = np.fromiter(args, float, len(args))
        if not _finite(x):  # the general path names the argument
            return self(*args)
        return self._replay_at(x, None)

    def _replay_call(self, args: Sequence[Any]) -> tuple[Any, Any]:
        """(value, gradients) as numbers (arrays for a batch), replayed."""
        x, shape = self._inputs(args)
        return self._replay_at(x, shape)

    def _replay_at(self, x: np.ndarray, shape: tuple[int, ...] | None) -> tuple[Any, Any]:
        """(value, gradients) at the checked inputs x: a row per argument (a batch's points
        along its columns, of this shape; None: one point)."""
        eager = self.eager_only is not None or not self.traces and self.eager_calls > 0
        if eager and self.eager_only is None:
            self.eager_calls -= 1
        try:
            if shape is None:
                value, aux, grads = self._eager(x) if eager else self._point(x)
                out: Any = (value, self._aux(aux)) if self.has_aux else value
                return out, tuple(grads)
            columns = x.reshape(len(x), -1)
            value_b, aux_b, grads_b = (self._eager_batch(columns) if eager
                                       else self._batch(columns))
        except Uncompilable as err:  # the first trace found f cannot be replayed
            self._run_eagerly(err)
            return self._replay_at(x, shape)
        value_a = value_b.reshape(shape)
        grads_t = tuple(g.reshape(shape) for g in grads_b)
        if self.has_aux:
            return (value_a, self._aux([a.reshape(shape) for a in aux_b])), grads_t
        return value_a, grads_t

    # --- composition: the call as nodes of an enclosing differentiation ---
    def _composes(self, args: Sequence[Any]) -> bool:
        """Whether this call is part of a differentiation: inside grad/value_and_grad (a
        closed-over Value may be its variable), inside another program's trace, reading a
        node of a graph built outside f (`h = x * 2` closed over: eager's result would hang
        from it), or given a Value that takes a gradient and is not bound to its argument (a
        leaf given before the first trace binds itself: a model's weight, as
        `fit(compile=True)` passes it). A closed-over leaf alone (a model's weight read by
        closure) does not make one: such a call returns numbers."""
        if grad_level.get() or tracing() is not None or self.reads_graph:
            return True
        for i, a in enumerate(args):
            if isinstance(a, Value) and a.requires_grad and self._bound.get(a) != i and not (
                    not self.traces and a.op is None and a not in self._bound):
                return True
        return False

    def _compose(self, args: Sequence[Any]) -> tuple[Any, Any]:
        """The call as graph nodes: inlined (f run on the Values) inside another trace, which
        then records f's own ops; else the value, each gradient and each aux output as a node
        whose partials come from the replay (first order) or from f run eagerly (the rest)."""
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument"
                            f"{'s' * (self.arity != 1)}, got {len(args)}")
        if tracing() is not None:
            return self._inline(args)
        shape: tuple[int, ...] | None = None
        for i, a in enumerate(args):
            if isinstance(a, (np.ndarray, list, tuple)):
                s = _shape(a, self._arg_name(i))
                if shape is not None and s != shape:
                    raise ValueError(f"{self.name}: argument {self._arg_name(i)} has shape "
                                     f"{s}, the others {shape}: batched arguments share one "
                                     f"shape")
                shape = s
        if shape is None:
            return self._compose_point(args)
        arrays = [np.broadcast_to(_array(a, self._arg_name(i)), shape)
                  if isinstance(a, (np.ndarray, list, tuple)) else a for i, a in enumerate(args)]
        points = [self._compose_point([a[j] if isinstance(a, np.ndarray) else a
                                       for a in arrays]) for j in np.ndindex(shape)]
        value = _objects([p[0][0] if self.has_aux else p[0] for p in points], shape)
        grads = tuple(_objects([p[1][i] for p in points], shape) for i in range(len(args)))
        if self.has_aux:  # each aux output: an array of nodes, one per point
            aux = [flatten(p[0][1], _number)[0] for p in points]
            return (value, self._aux([_objects([a[k] for a in aux], shape)
                                      for k in range(len(aux[0]))])), grads
        return value, grads

    def _compose_point(self, args: Sequence[Any]) -> tuple[Any, Any]:
        x = np.array([a._data if isinstance(a, Value) else _number(a, self._arg_name(i))
                      for i, a in enumerate(args)], dtype=float)
        if self.eager_only is not None:
            return self._inline(args)
        if not self.traces and self.eager_calls > 0:
            self.eager_calls -= 1
            return self._inline(args)
        try:
            traced = self._fitting(x)
        except Uncompilable as err:
            self._run_eagerly(err)
            return self._inline(args)
        if traced is None:  # past the cap: f itself, on the Values
            return self._inline(args)
        n = len(args)
        captured = list(traced.tape.captured)

        def trace_at(xs: compose.Point) -> Traced:
            """The trace whose guards hold at xs (the call's, unless a parent has moved)."""
            point = np.array(xs[:n])
            if traced.tape.guards and not self._accepts(traced, point):
                fits = self._fitting(point)
                if fits is None or fits.tape.captured != captured:
                    raise RuntimeError(f"{self.name}: its arguments moved since the call to "
                                       f"where no trace of it fits; differentiate a new call")
                return fits
            return traced

        def replay(xs: compose.Point) -> compose.Replay:
            fits = trace_at(xs)
            tape, wide = fits.tape, fits.widened().floats
            vals = wide.forward(list(xs))
            grads = wide.backward(vals) if vals.finite else [math.nan]
            if not vals.finite or not all(map(math.isfinite, grads)):
                raise ArithmeticError("not finite")
            return vals[tape.out], [vals[s] for s in tape.aux], grads[:n + len(captured)]

        point = (*x.tolist(), *[v._data for v in captured])
        try:
            first = replay(point)
        except ArithmeticError:  # eager raises its own error (naming the op), or agrees
            return self._inline(args)
        by_arg = {i: v for v, i in self._bound.items()}
        parents = [a if isinstance(a, Value) else by_arg[i] if i in by_arg and
                   by_arg[i]._data == x[i] else float(x[i]) for i, a in enumerate(args)]
        parents += captured
        names = [self._arg_name(i) for i in range(n)] + traced.tape.names[n:n + len(captured)]
        call = compose.Call(self.name, names, replay, trace_at, point, first)
        out = compose.node(call, parents, 0, ())
        grads = tuple(compose.gradients(call, parents, n))
        if self.has_aux:
            aux = [compose.node(call, parents, 1 + k, ()) for k in range(len(first[1]))]
            return (out, self._aux(aux)), grads
        return out, grads

    def _fitting(self, x: np.ndarray) -> Traced | None:
        """The newest trace whose guards hold at the point x, traced anew if none does (strict:
        GuardError); None past the trace cap (one warning)."""
        flipped: Guard | None = None
        for traced in reversed(self.traces):
            if self._accepts(traced, x):
                return traced
            vals = traced.floats.forward(x.tolist())
            flipped = self._flipped(traced.tape, vals.__getitem__, x)
        if len(self.traces) >= self.max_traces:
            self._warn_eager(flipped)
            return None
        self.trace(*x.tolist())
        if not self._accepts(self.traces[-1], x):
            self._not_a_function(x)
        return self.traces[-1]

    def _inline(self, args: Sequence[Any]) -> tuple[Any, Any]:
        """f run eagerly on the arguments as Values (a fresh node for each Value given, so its
        gradient is w.r.t. this argument alone; a bound Value itself), its gradients built as
        a graph (create_graph): exact at every order, and recorded by an enclosing trace."""
        by_arg = {i: v for v, i in self._bound.items()}
        inputs: list[Value] = []
        for i, a in enumerate(args):
            if isinstance(a, (np.ndarray, list, tuple)):
                raise TypeError(f"{self.name}: argument {self._arg_name(i)} is a batch, and "
                                f"this call is traced by another compiled program; call it "
                                f"on one point at a time there")
            if isinstance(a, Value):
                inputs.append(a if by_arg.get(i) is a else apply(POS, a))
            else:
                inputs.append(Value(_number(a, self._arg_name(i))))
        level = grad_level.set(grad_level.get() + 1)
        try:
            with collector_paused(), enable_grad():
                result = self.f(*inputs)
                if self.has_aux:
                    if not isinstance(result, (tuple, list)) or len(result) != 2:
                        raise TypeError(f"{self.name} was compiled with has_aux=True, so it "
                                        f"must return a pair (value, aux); got "
                                        f"{type(result).__name__}")
                    out, aux = result
                else:
                    out, aux = result, None
                if not isinstance(out, Value):
                    out = Value(_number(out, f"the result of {self.name}"))
                slopes = grads_of(out, inputs, create_graph=True)
        finally:
            grad_level.reset(level)
        grads = tuple(g if isinstance(g, Value) else Value(g) for g in slopes)
        return ((out, aux) if self.has_aux else out), grads

    def _aux(self, values: list[Any]) -> Any:
        return self._rebuild(values) if self._rebuild is not None else None

    def _inputs(self, args: Sequence[Any]) -> tuple[np.ndarray, tuple[int, ...] | None]:
        """The arguments as one float array (a row each), and the batch shape (None: numbers)."""
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument"
                            f"{'s' * (self.arity != 1)}, got {len(args)}")
        if set(map(type, args)) == {float}:  # the common case, checked in one pass
            x = np.array(args, dtype=float)
            if _finite(x):
                return x, None
        if any(isinstance(a, Value) for a in args):
            args = self._bind(args)
        shape: tuple[int, ...] | None = None
        for i, a in enumerate(args):
            if isinstance(a, Value):  # not bound, yet not composed: never, by _composes
                raise TypeError(f"{self.name}: argument {self._arg_name(i)} is a Value that "
                                f"is neither bound to it nor part of a differentiation")
            if isinstance(a, (np.ndarray, list, tuple)):
                s = _shape(a, self._arg_name(i))
                if shape is not None and s != shape:
                    raise ValueError(f"{self.name}: argument {self._arg_name(i)} has shape {s}, "
                                     f"the others {shape}: batched arguments share one shape")
                shape = s
        rows: list[Any] = []
        for i, a in enumerate(args):
            name = self._arg_name(i)
            rows.append(_number(a, name) if shape is None else
                        np.broadcast_to(_array(a, name), shape))
        x = np.array(rows, dtype=float)
        if shape is not None and x.size == 0:
            raise ValueError(f"{self.name}: the batch is empty (shape {shape})")
        return x, shape

    def _bind(self, args: Sequence[Any]) -> list[Any]:
        """Leaf Values given as arguments, as their data: the Values bound to those arguments
        (before the first trace, a leaf Value given binds itself). Others are left for
        `_inputs` to refuse."""
        out = list(args)
        for i, a in enumerate(args):
            if not isinstance(a, Value):
                continue
            if not a.requires_grad:  # a Constant or a frozen Value: its number, no gradient
                out[i] = a.data
            elif self._bound.get(a) == i:
                out[i] = a.data
            elif not self.traces and a.op is None and not a.constant and a not in self._bound:
                self._bound[a] = i
                out[i] = a.data
        return out

    def _point(self, x: np.ndarray) -> tuple[float, list[float], list[float]]:
        """Value, aux values and input grads at one point: the newest trace whose guards hold."""
        flipped: Guard | None = None
        for traced in reversed(self.traces):  # the newest first: made for the current branch
            tape = traced.tape
            if traced.narrow and self.backend == "numpy":
                vals = traced.floats.forward(x.tolist())
                if tape.guards and not tape.check_guards(vals.__getitem__):
                    flipped = self._flipped(tape, vals.__getitem__, x)
                    continue
                if not vals.finite:
                    self._raise_eager(x, None)
                try:
                    grads = traced.floats.backward(vals)
                except (ArithmeticError, ValueError):  # a rule undefined here: eager says so
                    grads = [math.nan]
                if not all(map(math.isfinite, grads)):
                    self._raise_eager(x, None)
                return vals[tape.out], [vals[s] for s in tape.aux], grads[:tape.n_in]
            if self.backend == "numpy":
                # One point as 1-d rows: np.add.at is much faster on them than on columns.
                ex = traced.arrays
                v, saved = ex.forward(x)
                if tape.guards and not tape.check_guards(lambda s: v[ex.at(s)]):
                    flipped = self._flipped(tape, lambda s: v[ex.at(s)], x)
                    continue
                if not _finite(v[tape.n_in:ex.size]):
                    self._raise_eager(x, None)
                G = ex.backward(v, saved)
                if not (_finite(G[:tape.n_in]) and _finite(G[tape.n_leaves:ex.size])):
                    self._raise_eager(x, None)
                return (float(v[ex.at(tape.out)]), [float(v[ex.at(s)]) for s in tape.aux],
                        G[:tape.n_in].tolist())
            ok, value_b, aux_b, grads_b, flip = self._replay_xla(traced, x, None)
            if ok[0]:
                return (float(value_b[0]), [float(a[0]) for a in aux_b],
                        grads_b[:, 0].tolist())
            flipped = flip
        if len(self.traces) >= self.max_traces:
            self._warn_eager(flipped)
            return self._eager(x)
        self.trace(*x.tolist())
        if not self._accepts(self.traces[-1], x):
            self._not_a_function(x)
        return self._point(x)  # the newest trace, which holds here, comes first

    def _batch(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """Values, aux values and input grads at every column of x: each trace replays the
        points no newer trace took, and a retrace replays only the points still left."""
        n = x.shape[1]
        value = np.empty(n)
        grads = np.empty((x.shape[0], n))
        aux: list[np.ndarray] | None = None
        todo = np.arange(n)
        if not self.traces:
            self.trace(*x[:, 0].tolist())
        fresh = list(reversed(self.traces))
        flipped: Guard | None = None
        while todo.size:
            for traced in fresh:
                ok, val, aux_t, g, flip = self._replay(traced, x[:, todo], todo) if not \
                    traced.narrow or self.backend == "jax" else \
                    self._replay_floats(traced, x[:, todo], todo)
                flipped = flip if flip is not None else flipped
                if aux is None:
                    aux = [np.empty(n) for _ in aux_t]
                done = todo[ok]
                value[done] = val[ok]
                grads[:, done] = g[:, ok]
                for a, b in zip(aux, aux_t):
                    a[done] = b[ok]
                todo = todo[~ok]
                if not todo.size:
                    break
            if not todo.size:
                break
            if len(self.traces) >= self.max_traces:  # the rest eagerly, point by point
                self._warn_eager(flipped)
                for j in todo:
                    v, a_j, g_j = self._eager(x[:, j])
                    value[j] = v
                    grads[:, j] = g_j
                    if aux is None:
                        aux = [np.empty(n) for _ in a_j]
                    for column, number in zip(aux, a_j):
                        column[j] = number
                break
            point = x[:, todo[0]]
            self.trace(*point.tolist())
            if not self._accepts(self.traces[-1], point):
                self._not_a_function(x if x.ndim == 1 else point)
            fresh = [self.traces[-1]]
        return value, aux or [], grads

    def _replay(self, traced: Traced, x: np.ndarray, index: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray, Guard | None]:
        """(guards hold, value, aux, input grads, a guard that flipped) per column of x (x 1-d:
        one point, index None), by the numpy executor; raises the eager engine's error at the
        first point whose guards hold but whose values or gradients are not finite."""
        if self.backend == "jax":
            return self._replay_xla(traced, x, index)
        tape, ex = traced.tape, traced.arrays
        v, saved = ex.forward(x)
        if x.ndim == 1:
            x = x[:, None]
        cols = v.reshape(len(v), -1)  # a view: one column per point
        ok = np.ones(x.shape[1], dtype=bool)
        flip = None
        if tape.guards:
            ok &= tape.check_guards(lambda s: cols[ex.at(s)])
            if not ok.all():
                flip = self._flipped(tape, lambda s: cols[ex.at(s)][~ok], x[:, ~ok][:, 0])
        # One pass over the whole block first (contiguous rows); per point only if it fails.
        values = cols[tape.n_in:ex.size]
        if not _finite(values):
            bad = ok & ~np.isfinite(values).all(axis=0)
            if bad.any():
                first = int(np.argmax(bad))
                self._raise_eager(x[:, first], None if index is None else index[first])
        G = ex.backward(v, saved).reshape(cols.shape)
        if not (_finite(G[:tape.n_in]) and _finite(G[tape.n_leaves:ex.size])):
            bad = ok & ~(np.isfinite(G[:tape.n_in]).all(axis=0) &
                         np.isfinite(G[tape.n_leaves:ex.size]).all(axis=0))
            if bad.any():
                first = int(np.argmax(bad))
                self._raise_eager(x[:, first], None if index is None else index[first])
        return ok, cols[ex.at(tape.out)], [cols[ex.at(s)] for s in tape.aux], G[:tape.n_in], flip

    def _replay_xla(self, traced: Traced, x: np.ndarray, index: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray,
                               Guard | None]:
        """As _replay, by the trace's jitted XLA program: one call per batch."""
        tape = traced.tape
        columns = x[:, None] if x.ndim == 1 else x
        ok, value, aux, grads, bad_forward, bad_backward = traced.xla(columns)
        flip = None
        if tape.guards and not ok.all():  # which guard: numpy's replay of the first such point
            at = columns[:, ~ok][:, :1]
            v, _ = traced.arrays.forward(at)
            if not np.all(tape.check_guards(lambda s: v[traced.arrays.at(s)])):
                flip = self._flipped(tape, lambda s: v[traced.arrays.at(s)], at[:, 0])
        for bad in (bad_forward, bad_backward):
            if np.count_nonzero(bad):
                first = int(np.argmax(bad))
                self._raise_eager(columns[:, first], None if index is None else index[first])
        return ok, value, aux, grads, flip

    def _replay_floats(self, traced: Traced, x: np.ndarray, index: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray,
                                  Guard | None]:
        """As _replay, point by point with the float executor: a narrow graph (a long chain)
        has one equation per level, where numpy's cost per call exceeds a float's."""
        tape, ex = traced.tape, traced.floats
        n = x.shape[1]
        ok = np.zeros(n, dtype=bool)
        value = np.zeros(n)
        aux = [np.zeros(n) for _ in tape.aux]
        grads = np.zeros((tape.n_in, n))
        flip = None
        for j, point in enumerate(x.T.tolist()):
            vals = ex.forward(point)
            if tape.guards and not tape.check_guards(vals.__getitem__):
                flip = self._flipped(tape, vals.__getitem__, x[:, j])
                continue
            if not vals.finite:
                self._raise_eager(x[:, j], index[j])
            try:
                g = ex.backward(vals)
            except (ArithmeticError, ValueError):
                g = [math.nan]
            if not all(map(math.isfinite, g)):
                self._raise_eager(x[:, j], index[j])
            ok[j] = True
            value[j] = vals[tape.out]
            for column, s in zip(aux, tape.aux):
                column[j] = vals[s]
            grads[:, j] = g[:tape.n_in]
        return ok, value, aux, grads, flip

    def _flipped(self, tape: Tape, value: Callable[[int], Any], x: np.ndarray) -> Guard:
        """The guard that flipped at x; strict: raise GuardError naming it, unless eager itself
        fails at x (a domain error is eager's error, not a flipped guard)."""
        g = tape.first_flip(value)
        if self.strict:
            self._raise_eager(x, None, quiet=True)
            raise GuardError(f"{self.name}: the comparison {g.text} was {g.outcome} when traced "
                             f"and is {not g.outcome} at {_args(x)} ({g.where}); "
                             f"compile without strict=True to retrace instead")
        return g

    def _accepts(self, traced: Traced, x: np.ndarray) -> bool:
        """Whether a trace's guards hold at the point x (true of the point it was traced at)."""
        tape = traced.tape
        if not tape.guards:
            return True
        if traced.narrow:
            return bool(tape.check_guards(traced.floats.forward(x.tolist()).__getitem__))
        v, _ = traced.arrays.forward(x[:, None])
        return bool(np.all(tape.check_guards(lambda s: v[traced.arrays.at(s)])))

    def _not_a_function(self, x: np.ndarray) -> Any:
        moved = [i for v, i in self._bound.items() if v.data != float(x[i])]
        if moved:  # f read a bound Value by closure at its own data, not at x's number
            raise ValueError(f"{self.name}: a guard depends on the Value bound to argument "
                             f"{self._arg_name(moved[0])}, which f reads by closure and which "
                             f"holds {self._bound_value(moved[0])!r}, not {float(x[moved[0]])!r}"
                             f": a retrace there cannot see the new number without writing "
                             f"it; pass numbers f itself reads, or call at the Value's data")
        raise RuntimeError(f"{self.name} takes a different branch each time it is traced at the "
                           "same arguments: it depends on more than its arguments (random "
                           "numbers? state?), so it cannot be compiled")

    def _bound_value(self, i: int) -> float:
        return next(v.data for v, j in self._bound.items() if j == i)

    def _run_eagerly(self, err: Uncompilable) -> None:
        """From now on every call runs f eagerly (one warning), or, strict, the error."""
        if self.strict:
            raise TypeError(f"{err}; strict=True, so it does not run eagerly either: call "
                            f"{self.name} without compile (grad and backward run it)") from None
        self.eager_only = str(err)
        warnings.warn(f"{err}: every call runs {self.name} eagerly (the same numbers, at the "
                      f"eager engine's speed)", RuntimeWarning, stacklevel=_caller_level())

    def _warn_eager(self, flipped: Guard | None) -> None:
        if not self._warned:
            self._warned = True
            which = f"the guard {flipped.text} ({flipped.where})" if flipped else "a guard"
            warnings.warn(f"{self.name}: {self.max_traces} traces and {which} keeps flipping: "
                          f"points no trace fits now run eagerly (max_traces raises the cap)",
                          RuntimeWarning, stacklevel=_caller_level())

    # --- eager: fresh leaves, never the user's Values written ---
    def _eager(self, x: np.ndarray) -> tuple[float, list[float], list[float]]:
        """f and its gradient at the point x by the eager engine. A bound Value holding x's
        number is passed itself (f may read it by closure); otherwise a fresh leaf."""
        by_arg = {i: v for v, i in self._bound.items()}
        inputs = []
        for i, a in enumerate(x.tolist()):
            w = by_arg.get(i)
            inputs.append(w if w is not None and w.data == a else Value(a))
        with collector_paused(), enable_grad():
            result = self.f(*inputs)
            out, aux = result if self.has_aux else (result, None)
            flat, rebuild = flatten(aux, _number)
            if self._rebuild is None:
                self._rebuild = rebuild
            if not isinstance(out, Value):
                return _number(out, f"the result of {self.name}"), [v.data for v in flat], \
                    [0.0] * len(inputs)
            grads = grads_of(out, inputs)
            return out.data, [v.data for v in flat], [float(g) for g in grads]

    def _eager_batch(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """Values, aux values and input grads at every column of x, eagerly, point by point."""
        points = [self._eager(x[:, j]) for j in range(x.shape[1])]
        value = np.array([v for v, _, _ in points])
        aux = [np.array(column) for column in zip(*(a for _, a, _ in points))]
        grads = np.array([g for _, _, g in points]).T.reshape(x.shape)
        return value, aux, grads

    def _raise_eager(self, x: np.ndarray, index: Any, quiet: bool = False) -> None:
        """Run f eagerly at the point x so that the engine raises its own error there (naming
        the op and its values), with the batch index added; else say what replay found."""
        try:
            self._eager(x)
        except (ArithmeticError, ValueError) as err:
            where = f" (batch index {index})" if index is not None else ""
            raise type(err)(f"{err}{where}") from None
        if quiet:
            return
        raise ArithmeticError(f"{self.name}: replay at {_args(x)} gave a value or gradient that "
                              f"is not finite, but the eager engine computes it: a record's "
                              f"array forward or rule disagrees with its scalar one")


class Program:
    """f compiled: `program(*args, **kwargs)` = (f(*args, **kwargs), (∂f/∂arg for each
    positional argument that is not static)), by replaying a trace of f.

    Static arguments — the positions in static_argnums, the names in static_argnames, and any
    argument that is not a number, an array or a Value (a bool, a str, None, …) — are fixed
    while tracing: each new value (by type and ==; arrays by content) gets its own traces (a
    variant; the `keep` newest are kept), an equal one reuses them. Numeric keyword arguments
    are replayed like positional ones but return no gradient. `trace_after` calls of a new
    variant run eagerly before it is traced (a batch seen once costs no compiling)."""

    def __init__(self, f: Callable[..., Any], *, has_aux: bool = False, strict: bool = False,
                 max_traces: int = MAX_TRACES, static_argnums: int | Sequence[int] = (),
                 static_argnames: str | Sequence[str] = (), keep: int = 16,
                 trace_after: int = 0, backend: str = "numpy", reassociate: bool = False
                 ) -> None:
        if not callable(f):
            raise TypeError(f"compile needs a function, got {type(f).__name__}: {f!r:.60}")
        for what, number, least in (("max_traces", max_traces, 1), ("keep", keep, 1),
                                    ("trace_after", trace_after, 0)):
            if isinstance(number, bool) or not isinstance(number, int) or number < least:
                raise ValueError(f"{what} must be an int ≥ {least}, got {number!r}")
        for what, flag in (("has_aux", has_aux), ("strict", strict),
                           ("reassociate", reassociate)):
            if not isinstance(flag, bool):
                raise TypeError(f"{what} must be True or False, got {flag!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got "
                             f"{backend!r}")
        if backend == "jax":
            load()  # the ImportError naming the extra comes now, not at the first call
        self.backend = backend
        self.reassociate = reassociate
        self.f = f
        self.has_aux, self.strict, self.max_traces = has_aux, strict, max_traces
        self.keep, self.trace_after = keep, trace_after
        self.name = getattr(f, "__name__", "f")
        if not self.name.isidentifier():
            self.name = "f"
        try:
            params = list(inspect.signature(f).parameters.values())
            self._params = [p.name for p in params
                            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            self._star = any(p.kind is p.VAR_POSITIONAL for p in params)
        except (TypeError, ValueError):
            self._params, self._star = [], True
        nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in nums):
            raise TypeError(f"static_argnums must be ints ≥ 0, got {static_argnums!r}")
        names = (static_argnames,) if isinstance(static_argnames, str) else \
            tuple(static_argnames)
        if not all(isinstance(n, str) for n in names):
            raise TypeError(f"static_argnames must be strs, got {static_argnames!r}")
        self.static_argnums = frozenset(nums)
        self.static_argnames = frozenset(names)
        self.variants: dict[Any, Variant] = {}
        self._last: Variant | None = None
        functools.update_wrapper(self, f)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        n = len(self.traces)
        return f"Program({self.name}, {n} trace{'s' * (n != 1)})"

    @property
    def traces(self) -> list[Traced]:
        """The traces of the variant used last (its static arguments' values)."""
        return self._last.traces if self._last is not None else []

    def listing(self, generated: bool = False) -> str:
        """The latest trace's forward and backward passes, one line per step; generated=True:
        the Python source that replays it (floats for a narrow tape, numpy for a wide one)."""
        if self._last is not None and self._last.eager_only is not None:
            raise ValueError(f"{self.name} runs eagerly, so it has no listing: "
                             f"{self._last.eager_only}")
        if self._last is None or not self._last.traces:
            raise ValueError(f"{self.name} has not been traced yet: call it once first")
        traced = self._last.traces[-1]
        if not generated:
            return traced.tape.listing(traced.loops)
        executor = traced.floats if traced.narrow else traced.arrays
        if not isinstance(executor, (GeneratedFloats, GeneratedArrays)):
            raise ValueError(f"{self.name}'s trace is too large to be worth generating source "
                             f"for: the interpreter replays it")
        return executor.source

    def trace(self, *args: Any, **kwargs: Any) -> Traced:
        """Run f once on Values at these arguments (numbers, or leaf Values that stay bound)."""
        variant, dynamic = self._variant(args, kwargs)
        return self._atomic(variant, lambda: variant.trace(*dynamic), args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """(f(*args, **kwargs), gradient per positional non-static argument, shaped as it)."""
        last = self._last
        if last is not None and last.key == () and not kwargs and not self.static_argnums:
            kinds = set(map(type, args))  # the one pass over the arguments' types
            if kinds == _FLOATS:
                return last.call_floats(args)  # a training loop's call: floats only
            if kinds <= _NUMBERS:
                return last(*args)  # numbers only, no static argument
        variant, dynamic = self._variant(args, kwargs)
        out, grads = self._atomic(variant, lambda: variant(*dynamic), args, kwargs)
        return out, variant.regroup(grads[:variant.n_positional])

    def _atomic(self, variant: Variant, run: Callable[[], Any], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        """run(), after which a new variant is kept and becomes the last used; if it fails,
        the program is as it was (no variant added or dropped, no Value newly bound)."""
        bound = dict(variant._bound) if not variant.traces else None
        try:
            with _hint_pytrees(self.name, args, kwargs, self._params):
                result = run()
        except BaseException:
            if bound is not None:
                variant._bound = bound
            raise
        if variant.key not in self.variants:
            if len(self.variants) >= self.keep:
                del self.variants[next(iter(self.variants))]
            self.variants[variant.key] = variant
        self._last = variant
        return result

    def _variant(self, args: tuple[Any, ...], kwargs: dict[str, Any]
                 ) -> tuple[Variant, list[Any]]:
        """The variant for these static arguments and pytree shapes (made, and the oldest
        dropped past `keep`, when new), and the dynamic arguments flattened in order:
        positional, then keyword by name, each pytree as its leaves."""
        static_pos: list[tuple[int, Any]] = []
        dynamic: list[Any] = []
        names: list[str] = []
        layout: list[tuple[int, TreeDef | None]] = []  # per dynamic positional argument
        for i, a in enumerate(args):
            name = self._params[i] if i < len(self._params) else f"x{i}"
            if i in self.static_argnums or name in self.static_argnames or _is_static(a):
                static_pos.append((i, a))
            else:
                layout.append(_put(a, name, dynamic, names))
        n_positional = len(dynamic)
        static_kw: list[tuple[str, Any]] = []
        dynamic_kw: list[tuple[str, int, TreeDef | None]] = []
        for k in sorted(kwargs):
            if k in self.static_argnames or _is_static(kwargs[k]):
                static_kw.append((k, kwargs[k]))
            else:
                dynamic_kw.append((k, *_put(kwargs[k], k, dynamic, names)))
        trees = tuple(treedef for _, treedef in layout)
        key: Any = ()
        if static_pos or static_kw or dynamic_kw or any(t is not None for t in trees):
            key = (tuple((i, _static_key(a, f"argument {i}")) for i, a in static_pos),
                   tuple((k, _static_key(a, k)) for k, a in static_kw), tuple(dynamic_kw),
                   trees, len(args))
        variant = self.variants.get(key)
        if variant is None:  # kept once a call on it succeeds (see _atomic)
            variant = self._make(key, static_pos, static_kw, dynamic_kw, len(args), names,
                                 n_positional, layout)
        return variant, dynamic

    def _make(self, key: Any, static_pos: list[tuple[int, Any]],
              static_kw: list[tuple[str, Any]], dynamic_kw: list[tuple[str, int, Any]],
              n_args: int, names: list[str], n_positional: int,
              layout: list[tuple[int, TreeDef | None]]) -> Variant:
        """A variant: f with these static values filled in and its pytrees rebuilt, over the
        dynamic arguments' leaves."""
        f = self.f
        if key == ():
            arity = None if self._star else len(self._params)
            g = f
        else:
            fixed = dict(static_pos)
            fixed_kw = dict(static_kw)

            def g(*xs: Any) -> Any:  # f's arguments put back in their places and shapes
                at = 0

                def take(count: int, treedef: TreeDef | None) -> Any:
                    nonlocal at
                    chunk = xs[at:at + count]
                    at += count
                    return chunk[0] if treedef is None else tree_unflatten(treedef, list(chunk))

                parts = iter(layout)
                positional = [fixed[i] if i in fixed else take(*next(parts))
                              for i in range(n_args)]
                keywords = {k: take(count, treedef) for k, count, treedef in dynamic_kw}
                return f(*positional, **fixed_kw, **keywords)
            arity = len(names)
        variant = Variant(g, self.name, names if key != () else self._params, arity,
                          has_aux=self.has_aux, strict=self.strict, max_traces=self.max_traces,
                          eager_calls=self.trace_after, backend=self.backend,
                          reassociate=self.reassociate)
        variant.key = key
        if key != ():
            variant.n_positional = n_positional
            variant.layout = layout
        return variant


def _put(a: Any, name: str, dynamic: list[Any], names: list[str]
         ) -> tuple[int, TreeDef | None]:
    """A dynamic argument's leaves appended to `dynamic` (a number, a Value or a batch array
    is one; a pytree gives its leaves, each named by its path: "params['w']"); (how many,
    its shape or None for one leaf)."""
    if not isinstance(a, (tuple, list, dict)):
        dynamic.append(a)
        names.append(name)
        return 1, None
    leaves, treedef = tree_flatten(a)
    dynamic += leaves
    names += [f"{name}{path}" for path in leaf_paths(a)]
    return len(leaves), treedef


@contextlib.contextmanager
def _hint_pytrees(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                  params: list[str]) -> Iterator[None]:
    """A TypeError from f given a list or tuple gets a note: compile reads it as a pytree
    (it read one as a batch of points before), and a batch is spelled as a numpy array."""
    try:
        yield
    except TypeError as err:
        given = [(params[i] if i < len(params) else f"x{i}", a) for i, a in enumerate(args)]
        given += list(kwargs.items())
        for arg, a in given:
            if not isinstance(a, (list, tuple, dict)):
                continue
            kind = type(a).__name__
            if _is_static(a):  # a leaf that is not a number: the whole container is fixed
                leaf, path = next((x, p) for x, p in zip(tree_leaves(a), leaf_paths(a))
                                  if not _is_number(x))
                raise TypeError(f"{err} — note: {name}'s argument {arg} is a {kind} holding "
                                f"{arg}{path} = {leaf!r:.40}, not a number, so compile passes "
                                f"it to f as a static argument, unchanged") from err
            if isinstance(a, (list, tuple)):
                raise TypeError(f"{err} — note: {name}'s argument {arg} is a {kind}, which "
                                f"compile reads as a pytree (f receives it with a Value at "
                                f"each number, and its gradient comes back in its shape); to "
                                f"replay f at many points, pass a numpy array: "
                                f"np.array([...])") from err
        raise


_NUMBERS = {float, Value}  # argument types that are never static
_FLOATS = {float}


def _is_static(a: Any) -> bool:
    """Fixed while tracing: anything but a number, a Value, a numpy array (a batch) or a
    pytree (tuples, lists, dicts) whose leaves are all numbers and Values — a bool, a str,
    None, or a container holding one, such as ("relu", 2.0)."""
    if isinstance(a, (bool, np.bool_)) or a is None or isinstance(a, str):
        return True
    if isinstance(a, (tuple, list, dict)):
        return not all(map(_is_number, tree_leaves(a)))
    return not isinstance(a, (int, float, np.integer, np.floating, np.ndarray, Value))


def _is_number(x: Any) -> bool:
    """A pytree leaf a program takes as an input: a real number (not a bool) or a Value."""
    return isinstance(x, (int, float, np.integer, np.floating, Value)) and \
        not isinstance(x, (bool, np.bool_))


def _static_key(a: Any, what: str) -> Any:
    """A static argument as a cache key: its type and value (arrays by content; a container
    by its shape and its leaves' keys, so a dict of options is a static argument too)."""
    if isinstance(a, np.ndarray):
        return ("ndarray", a.shape, a.dtype.str, a.tobytes())
    if isinstance(a, (list, dict)) or (isinstance(a, tuple) and not _hashable(a)):
        leaves, treedef = tree_flatten(a)
        return ("tree", treedef, tuple(_static_key(x, f"{what}{path}")
                                       for x, path in zip(leaves, leaf_paths(a))))
    try:
        hash(a)
    except TypeError:
        raise TypeError(f"static {what} must be hashable (or an array), got "
                        f"{type(a).__name__}: {a!r:.60}") from None
    return (type(a).__qualname__, a)


def _hashable(a: Any) -> bool:
    try:
        hash(a)
    except TypeError:
        return False
    return True


def _caller_level() -> int:
    """The stacklevel of the first frame outside this package (the user's call)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_HERE):
        frame, level = frame.f_back, level + 1
    return level


_HERE = os.path.dirname(__file__)  # autograd_core/compile


def _objects(items: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """Items (Values) as an object array of the batch's shape."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def _finite(a: np.ndarray) -> bool:
    """Whether every number in a is finite (count_nonzero skips a ufunc reduction's set-up,
    which costs more than the check on a point's few hundred numbers)."""
    return int(np.count_nonzero(np.isfinite(a))) == a.size


def _args(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{float(a)!r}" for a in x) + ")"


def _number(a: Any, what: str) -> float:
    """a as a finite float, refused by name (as Value refuses it) otherwise."""
    if isinstance(a, np.bool_):
        raise TypeError(f"{what} needs a real number, got bool: {a!r}")
    return as_real(a, what)


def _shape(a: Any, what: str) -> tuple[int, ...]:
    """The shape of a batch argument; a ragged one is refused by name."""
    try:
        return np.shape(a)
    except ValueError:
        raise ValueError(f"{what} is ragged (rows of different lengths): a batch is an array "
                         f"of one shape") from None


def _array(a: Any, what: str) -> np.ndarray:
    """a as a float array with every element finite, refused by name and index otherwise."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{what} needs real numbers, got an array of {arr.dtype}")
    try:
        arr = arr.astype(float)
    except OverflowError:
        raise ValueError(f"{what} needs finite numbers, got one too large for a float") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise ValueError(f"{what} needs finite numbers, got {float(arr[i])!r} at index "
                         f"{i[0] if len(i) == 1 else i}")
    return arr


def compile(f: Callable[..., Any] | None = None, /, *example_args: Any, has_aux: bool = False,
            strict: bool = False, max_traces: int = MAX_TRACES,
            static_argnums: int | Sequence[int] = (), static_argnames: str | Sequence[str] = (),
            keep: int = 16, trace_after: int = 0, backend: str = "numpy",
            reassociate: bool = False) -> Any:
    """f as a Program: program(*args) = (f(*args), ∇f(args)) by replaying f's tape.

    Traces at example_args now, or at the first call (`@compile`, `@compile(strict=True)`).
    has_aux: f returns (value, aux), aux Values (nested in lists/tuples/dicts) as numbers.
    strict: a guard that flips raises GuardError instead of retracing.
    max_traces: past this many traces, points no trace fits run eagerly (one warning).
    static_argnums, static_argnames: arguments fixed while tracing (see Program), as are any
    that are not numbers (bool, str, None); keep: variants kept; trace_after: calls of a new
    variant run eagerly before it is traced.
    backend: "numpy" (generated Python and numpy, the default) or "jax" (the same tape
    lowered to jax.numpy and jax.jit-ed in float64; needs the jax extra).
    reassociate: let a layer's weighted sums b + Σᵢ wᵢxᵢ run as one BLAS matrix product,
    adding in another order: faster on wide graphs, values equal to eager's to rounding
    instead of bit for bit (see docs/compile.md). Off by default.
    """
    options: dict[str, Any] = dict(has_aux=has_aux, strict=strict, max_traces=max_traces,
                   static_argnums=static_argnums, static_argnames=static_argnames, keep=keep,
                   trace_after=trace_after, backend=backend, reassociate=reassociate)
    if f is None:
        return functools.partial(compile, **options)
    program = Program(f, **options)
    if example_args:
        try:
            program.trace(*example_args)
        except Uncompilable as err:  # a first call will find the same, and run f eagerly
            if strict:
                raise TypeError(f"{err}; strict=True, so it does not run eagerly either") from None
    return program

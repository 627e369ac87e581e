"""The XLA backend (`compile(f, ..., backend="jax")`): a trace's schedule — the numpy
executor's plan after our passes — lowered to jax.numpy as one pure function (forward, the
guards, and the chain rule backward with each partial the record's own rule) and `jax.jit`-ed.

JAX is imported only here, when a program asks for it. float64 is enabled only while our
program compiles (`jax.enable_x64(True)`, a thread-local setting), so other JAX users in the
process keep their own default; its float64 arguments and result cross as raw 32-bit words,
so a call needs no switch. Records run on jax arrays through the same code as on numpy arrays: a
record's `array` forward and its partial rules are called with numpy's names (`np`, `where`,
`nonzero`, the table's ops) bound to their jax.numpy counterparts — the one rule, interpreted
over jax. A record whose forward or rules cannot run on jax arrays (no `array`, math.* on an
element, an `if`) runs through numpy outside XLA (`jax.pure_callback`), with one warning
naming it."""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import rules
from ..ops import Op
from .execute import ArrayExecutor, Slots, _ax, _on_arrays
from .matmul import grid_backward, grid_forward

EXTRA = "pip install 'autograd-core[jax]'"
# Sums of up to this many terms are unrolled (XLA fuses the adds); longer ones run as a loop
# over the terms, in eager's order either way. A loop keeps XLA from fusing the terms' making
# into the sum; unrolled, sums of a thousand terms compile as fast as the loop.
UNROLL = 1024


def load() -> types.ModuleType:
    """The jax module, or one ImportError saying which extra to install."""
    try:
        import jax
        import jax.numpy  # noqa: F401
    except ImportError as err:
        raise ImportError(f"compile(..., backend='jax') needs JAX, which is not installed: "
                          f"{EXTRA} (or pip install jax)") from err
    return jax


class OnJax:
    """Records' array forwards and partial rules made to run on jax arrays (per program)."""

    def __init__(self, jax: types.ModuleType) -> None:
        self.jax = jax
        self.jnp = jax.numpy
        self._forwards: dict[Op, Callable[..., Any]] = {}
        self._globals: dict[int, dict[str, Any]] = {}
        self.callbacks = False  # some record runs through numpy, called back from XLA

    def where(self, cond: Any, yes: Any, no: Any) -> Any:
        """rules.where on jax arrays: both branches evaluated, then chosen."""
        return self.jnp.where(cond, yes() if callable(yes) else yes, no() if callable(no) else no)

    def nonzero(self, x: Any) -> Any:
        """rules.nonzero on jax arrays."""
        return x != 0.0

    def rebound(self, fn: Any) -> Any:
        """fn with numpy's names bound to jax's: a numpy ufunc becomes jax.numpy's of the same
        name; a Python function keeps its code, read with `np`, `where`, `nonzero` and the
        table's ops meaning their jax versions. None where there is no such version."""
        if isinstance(fn, np.ufunc):
            return getattr(self.jnp, fn.__name__, None)
        if not isinstance(fn, types.FunctionType):
            return None
        namespace = self._globals.get(id(fn.__globals__))
        if namespace is None:
            swap = {id(np): self.jnp, id(rules.where): self.where,
                    id(rules.nonzero): self.nonzero}
            namespace = {name: swap.get(id(value), value) for name, value in
                         fn.__globals__.items()}
            for name, value in namespace.items():
                if isinstance(value, Op):  # a rule calling LOG(x): the op, on jax arrays
                    namespace[name] = functools.partial(self._call, value)
            self._globals[id(fn.__globals__)] = namespace
        return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                                  fn.__closure__)

    def _call(self, op: Op, *args: Any) -> Any:
        return self.forward(op)(*args)

    def forward(self, op: Op) -> Callable[..., Any]:
        """op's forward on jax arrays: its array forward rebound, or numpy through a callback."""
        if op not in self._forwards:
            fn = self.rebound(op.array) if op.array is not None else None
            self._forwards[op] = self._guarded(op, "array forward", fn,
                                               lambda *a: rules.run(op, a))
        return self._forwards[op]

    def partial(self, op: Op, i: int) -> Any:
        """∂op/∂input i on jax arrays: the record's rule rebound (a float stays a float)."""
        rule = op.partials[i]
        if rule is None or type(rule) is float:
            return rule
        return self._guarded(op, f"rule for ∂/∂{op.inputs[i]}", self.rebound(rule),
                             _on_arrays(rule, op.arity + 1))

    def _guarded(self, op: Op, what: str, fn: Any, numpy: Callable[..., Any]
                 ) -> Callable[..., Any]:
        """fn, falling back to `numpy` through jax.pure_callback where fn fails on tracers."""
        jax, jnp = self.jax, self.jnp

        def callback(*args: Any) -> Any:
            shape = jnp.broadcast_shapes(*(jnp.shape(a) for a in args))
            spec = jax.ShapeDtypeStruct(shape, jnp.float64)

            def host(*arrays: Any) -> np.ndarray:
                with np.errstate(all="ignore"):
                    out = numpy(*[np.asarray(a, dtype=float) for a in arrays])
                return np.broadcast_to(np.asarray(out, dtype=float), shape).copy()
            return jax.pure_callback(host, spec, *args, vmap_method="broadcast_all")

        def run(*args: Any) -> Any:
            if fn is not None:
                try:
                    return fn(*args)
                except Exception as err:  # noqa: BLE001 — any failure of a user's code on jax
                    reason = f"{type(err).__name__}"
            else:
                reason = "no array forward"
            self.callbacks = True
            warnings.warn(f"backend='jax': op record {op.name!r} ({what}) does not run on jax "
                          f"arrays ({reason}); it runs through numpy outside XLA, slower",
                          RuntimeWarning, stacklevel=2)
            return callback(*args)
        return run


def _words(a: Any) -> np.ndarray:
    """float64 numbers as pairs of 32-bit words: shape (..., 2), the same bytes."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a.view(np.uint32).reshape(a.shape + (2,))


class XlaExecutor:
    """A trace replayed by one jitted XLA program: `executor(x)` with x of shape (n_in, batch)
    gives, per point, (guards hold, value, aux values, input grads, forward not finite,
    backward not finite) as numpy arrays. Forward adds each sum's terms in eager's order;
    backward adds a gradient's parts in XLA's order (scatter-adds, matrix products)."""

    def __init__(self, plan: ArrayExecutor, reassociate: bool = False) -> None:
        self.jax = load()
        self.reassociate = reassociate
        self.jnp = self.jax.numpy
        self.plan = plan
        self.tape = plan.tape
        self.on = OnJax(self.jax)
        self.forwards = [[None if k.op is None else self.on.forward(k.op) for k in step.kernels]
                         for step in plan.steps]
        self.partials = [[() if k.op is None else
                          tuple(self.on.partial(k.op, i) for i in range(k.op.arity))
                          for k in step.kernels] for step in plan.steps]
        self.parts = Parts(plan, self.jnp, self.jax.lax)
        # The program's float64 arguments and result cross as their raw 32-bit words, and it
        # is compiled ahead of time (per batch shape) under float64: calling it then needs no
        # x64 switch, which would knock jax's dispatch off its fast path at every call.
        self._programs: dict[tuple[int, ...], Any] = {}
        self._numbers = _words(plan.numbers)
        self._leaves = _words(plan.leaves)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray],
                                               np.ndarray, np.ndarray, np.ndarray]:
        tape = self.tape
        leaves = self._leaves
        if tape.captured:  # their data may have changed since the last call
            leaves = _words(np.array([*(v.data for v in tape.captured), *tape.constants]))
        words = _words(x)
        program = self._programs.get(x.shape)
        if program is None:
            with self.jax.enable_x64(True):
                program = self.jax.jit(self._on_words).lower(words, leaves,
                                                              self._numbers).compile()
            self._programs[x.shape] = program
        if self.on.callbacks:  # numpy called back from inside XLA: float64 on the way
            with self.jax.enable_x64(True):
                out = program(words, leaves, self._numbers)
        else:
            out = program(words, leaves, self._numbers)
        packed = np.asarray(out).view(np.float64)[..., 0]
        n_aux = len(tape.aux)
        ok = packed[0] != 0.0
        return (ok, packed[3], list(packed[4:4 + n_aux]), packed[4 + n_aux:],
                packed[1] != 0.0, packed[2] != 0.0)

    def _on_words(self, x: Any, leaves: Any, numbers: Any) -> Any:
        """_lowered, its float64 arguments and result as pairs of 32-bit words."""
        lax, f64 = self.jax.lax, self.jnp.float64
        out = self._lowered(lax.bitcast_convert_type(x, f64),
                            lax.bitcast_convert_type(leaves, f64),
                            lax.bitcast_convert_type(numbers, f64))
        return lax.bitcast_convert_type(out, self.jnp.uint32)

    def _lowered(self, x: Any, leaves: Any, numbers: Any) -> Any:
        """The program XLA compiles: rows (guards hold, forward bad, backward bad, value,
        aux..., input grads...) with a column per point. Each group's values are an array of
        their own (XLA compiles a chain of updates to one big buffer very slowly)."""
        jnp, plan, tape, parts = self.jnp, self.plan, self.tape, self.parts
        batch = x.shape[1:]
        ones = (1,) * len(batch)
        values: list[Any] = [x, jnp.broadcast_to(leaves.reshape((-1,) + ones),
                                                 (len(leaves),) + batch)]
        values += [None] * len(plan.steps)
        values.append(jnp.broadcast_to(numbers.reshape((-1,) + ones),
                                       (len(plan.numbers),) + batch))
        saved: list[list[tuple[list[Any], Any]]] = []
        for s, (step, forwards) in enumerate(zip(plan.steps, self.forwards)):
            m = step.stop - step.start
            if step.rows is None:
                k = step.kernels[0]
                ins = [parts.read(values, r) for r in k.reads]
                values[2 + s] = jnp.broadcast_to(forwards[0](*ins),  # type: ignore[misc]
                                                 (m,) + batch)
                saved.append([(ins, None)])
                continue
            T: list[Any] = [None] * step.rows  # the sum's terms, row by row
            kept: list[tuple[list[Any], Any]] = []
            for k, fwd in zip(step.kernels, forwards):
                ins = [parts.read(values, r) for r in k.reads]
                where = range(step.rows)[k.rows] if isinstance(k.rows, slice) else k.rows
                if k.grid is not None and self.reassociate:  # one row: Σ over terms, a dot
                    a, c = ins[k.grid.outer], ins[1 - k.grid.outer]
                    if k.signs is not None:
                        c = c * _ax(k.signs, 2, batch)
                    summed = jnp.einsum("to...,ti...->oi...", a, c).reshape((m,) + batch)
                    T[int(where[0])] = summed
                    for row in where[1:]:
                        T[int(row)] = None
                    kept.append((ins, None))
                    continue
                if k.grid is not None:
                    out = grid_forward(fwd, k.grid, ins)
                    part = out.reshape((len(where), m) + batch)
                else:
                    out = ins[0] if fwd is None else fwd(*ins)
                    part = jnp.broadcast_to(out, (len(where), m) + batch)
                if k.signs is not None:
                    part = part * _ax(k.signs, 2, batch)
                for i, row in enumerate(where):
                    T[int(row)] = part[i]
                kept.append((ins, out))
            values[2 + s] = self._add_rows(T)
            saved.append(kept)
        ok = jnp.broadcast_to(jnp.asarray(tape.check_guards(
            lambda slot: parts.at(values, plan.at(slot)))), batch)
        made = values[2:2 + len(plan.steps)]
        # every value and gradient checked at once (one array: one fused check for XLA)
        bad_forward = ok & ~jnp.isfinite(jnp.concatenate(made)).all(axis=0) if made \
            else ok & False
        grads = self._backward(values, saved, batch)
        finite = jnp.isfinite(jnp.concatenate([g for g in grads if g is not None])).all(axis=0)
        bad_backward = ok & ~finite
        rows = [ok, bad_forward, bad_backward, parts.at(values, plan.at(tape.out)),
                *(parts.at(values, plan.at(s)) for s in tape.aux)]
        return jnp.concatenate([jnp.stack(rows).astype(jnp.float64), grads[0]])

    def _add_rows(self, T: list[Any]) -> Any:
        """T[0] + T[1] + … in that order, as eager's chain of adds (rows None: summed
        elsewhere, by a matrix product)."""
        T = [row for row in T if row is not None]
        if len(T) <= UNROLL:
            return functools.reduce(lambda a, b: a + b, T)
        rows = self.jnp.stack(T)
        # unrolled by 32 inside the loop: the same adds in the same order, 32× fewer trips
        total, _ = self.jax.lax.scan(lambda acc, row: (acc + row, None), rows[0], rows[1:],
                                     unroll=32)
        return total

    def _backward(self, values: list[Any], saved: list[Any], batch: tuple[int, ...]
                  ) -> list[Any]:
        """d(out)/d(slot) per part (the arguments', then each group's; None for leaves and
        numbers): each kernel adds partial · grad into the parts its inputs read."""
        jnp, plan, parts = self.jnp, self.plan, self.parts
        pending: list[list[Any]] = [[] for _ in values]
        p, row = parts.where(plan.at(self.tape.out))
        pending[p].append(parts.onehot(p, row, batch))
        grads: list[Any] = [None] * len(values)
        for s in reversed(range(len(plan.steps))):
            step, kept, partials = plan.steps[s], saved[s], self.partials[s]
            m = step.stop - step.start
            up = functools.reduce(lambda a, b: a + b, pending[2 + s]) if pending[2 + s] \
                else jnp.zeros((m,) + batch)
            grads[2 + s] = up
            if not step.live:
                continue
            for k, (ins, out), rules_ in zip(step.kernels, kept, partials):
                if k.grid is not None:
                    shares = grid_backward(k.grid, ins, up, batch, k.grad)
                    for table, share in zip(k.reads, shares):
                        if share is not None:
                            parts.add(pending, table, share if k.signs is None else
                                      share * _ax(k.signs, 2, batch), batch)
                    continue
                d = up if k.signs is None else up * _ax(k.signs, 2, batch)
                if step.rows is None:
                    out = values[2 + s]
                for rule, table, takes in zip(rules_ or (1.0,), k.reads, k.grad):
                    if takes:
                        p_ = rule if type(rule) is float else rule(out, *ins)
                        parts.add(pending, table,
                                  d if type(p_) is float and p_ == 1.0 else p_ * d, batch)
        grads[0] = functools.reduce(lambda a, b: a + b, pending[0]) if pending[0] \
            else jnp.zeros(values[0].shape)
        return grads


class Parts:
    """The executor's slots as separate arrays — the arguments, the leaves, each group's
    values, the guards' numbers — and how a table of slots reads from them and adds into
    their gradients (static slices where it can, gathers and scatter-adds where it must)."""

    def __init__(self, plan: ArrayExecutor, jnp: Any, lax: Any) -> None:
        self.jnp, self.lax = jnp, lax
        tape = plan.tape
        bounds = [0, tape.n_in, tape.n_leaves, *(s.stop for s in plan.steps),
                  plan.size + len(plan.numbers)]
        self.starts = np.array(bounds[:-1])
        self.sizes = np.diff(bounds)
        self.takes_grad = [True, False, *([True] * len(plan.steps)), False]

    def where(self, slot: int) -> tuple[int, int]:
        """(part, row) of an executor slot."""
        p = int(np.searchsorted(self.starts, slot, side="right")) - 1
        return p, slot - int(self.starts[p])

    def at(self, values: list[Any], slot: int) -> Any:
        p, row = self.where(slot)
        return values[p][row]

    def onehot(self, p: int, row: int, batch: tuple[int, ...]) -> Any:
        return self.jnp.zeros((int(self.sizes[p]),) + batch).at[row].set(1.0)

    def _owners(self, flat: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, flat, side="right") - 1

    def read(self, values: list[Any], table: Slots) -> Any:
        """values at a table's slots, shaped like the table (plus the batch axes)."""
        jnp = self.jnp
        flat = table.slots.ravel()
        owners = self._owners(flat)
        batch = values[0].shape[1:]
        if (owners == owners[0]).all():
            p = int(owners[0])
            start = int(self.starts[p])
            if table.run is not None:
                a = table.run.start - start
                rows = values[p][a:a + flat.size]
                if table.flipped:
                    return rows.reshape(table.shape[::-1] + batch).swapaxes(0, 1)
                return rows.reshape(table.shape + batch)
            return values[p][table.slots - start]
        involved = sorted(set(owners.tolist()))
        offset = {p: 0 for p in involved}
        at = 0
        for p in involved:
            offset[p] = at
            at += int(self.sizes[p])
        local = np.array([offset[int(p)] + s - int(self.starts[p]) for s, p in
                          zip(flat.tolist(), owners)]).reshape(table.shape)
        return jnp.concatenate([values[p] for p in involved])[local]

    def add(self, pending: list[list[Any]], table: Slots, c: Any, batch: tuple[int, ...]
            ) -> None:
        """Queue c (shaped like the table) to be added into the gradients of the parts its
        slots are in; repeated slots add up."""
        jnp = self.jnp
        c = jnp.broadcast_to(c, table.shape + batch)
        if table.run is not None and table.flipped:
            flat = table.slots.T.ravel()
            c = c.swapaxes(0, 1)
        else:
            flat = table.slots.ravel()
        c = c.reshape((-1,) + batch)
        owners = self._owners(flat)
        for p in sorted(set(owners.tolist())):
            if not self.takes_grad[p]:
                continue
            size = int(self.sizes[p])
            mine = owners == p
            local = flat[mine] - int(self.starts[p])
            share = c if mine.all() else c[np.nonzero(mine)[0]]
            if np.array_equal(local, np.arange(local[0], local[0] + local.size)):
                pad = [(int(local[0]), size - int(local[-1]) - 1, 0)] + [(0, 0, 0)] * len(batch)
                pending[p].append(share if local.size == size else
                                  self.lax.pad(share, 0.0, pad))
            else:
                pending[p].append(jnp.zeros((size,) + batch).at[local].add(
                    share, unique_indices=len(np.unique(local)) == local.size))

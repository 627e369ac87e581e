"""The XLA backend (`compile(f, ..., backend="jax")`): a trace's schedule — the numpy
executor's plan after our passes — lowered to jax.numpy as one pure function (forward, the
guards, and the chain rule backward with each partial the record's own rule) and `jax.jit`-ed.

JAX is imported only here, when a program asks for it. float64 is enabled only around our own
calls (`jax.enable_x64(True)`, a thread-local setting), so other JAX users in the process keep
their own default. Records run on jax arrays through the same code as on numpy arrays: a
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
# over the terms, in eager's order either way.
UNROLL = 256


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
            warnings.warn(f"backend='jax': op record {op.name!r} ({what}) does not run on jax "
                          f"arrays ({reason}); it runs through numpy outside XLA, slower",
                          RuntimeWarning, stacklevel=2)
            return callback(*args)
        return run


class XlaExecutor:
    """A trace replayed by one jitted XLA program: `executor(x)` with x of shape (n_in, batch)
    gives, per point, (guards hold, value, aux values, input grads, forward not finite,
    backward not finite) as numpy arrays. Forward adds each sum's terms in eager's order;
    backward adds a gradient's parts in XLA's order (scatter-adds, matrix products)."""

    def __init__(self, plan: ArrayExecutor) -> None:
        self.jax = load()
        self.jnp = self.jax.numpy
        self.plan = plan
        self.tape = plan.tape
        self.on = OnJax(self.jax)
        self.forwards = [[None if k.op is None else self.on.forward(k.op) for k in step.kernels]
                         for step in plan.steps]
        self.partials = [[() if k.op is None else
                          tuple(self.on.partial(k.op, i) for i in range(k.op.arity))
                          for k in step.kernels] for step in plan.steps]
        with self.jax.enable_x64(True):
            self._program = self.jax.jit(self._lowered)
            self._numbers = self.jnp.asarray(plan.numbers, dtype=self.jnp.float64)
            self._leaves = self.jnp.asarray(plan.leaves, dtype=self.jnp.float64)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray],
                                               np.ndarray, np.ndarray, np.ndarray]:
        tape = self.tape
        with self.jax.enable_x64(True):
            leaves = self._leaves
            if tape.captured:  # their data may have changed since the last call
                leaves = np.array([*(v.data for v in tape.captured), *tape.constants])
            packed = np.asarray(self._program(x, leaves, self._numbers))
        n_aux = len(tape.aux)
        ok = packed[0] != 0.0
        return (ok, packed[3], list(packed[4:4 + n_aux]), packed[4 + n_aux:],
                packed[1] != 0.0, packed[2] != 0.0)

    def _lowered(self, x: Any, leaves: Any, numbers: Any) -> Any:
        """The program XLA compiles: rows (guards hold, forward bad, backward bad, value,
        aux..., input grads...) with a column per point."""
        jnp, plan, tape = self.jnp, self.plan, self.tape
        batch = x.shape[1:]
        ones = (1,) * len(batch)
        v = jnp.concatenate([
            x, jnp.broadcast_to(leaves.reshape((-1,) + ones), (len(leaves),) + batch),
            jnp.zeros((plan.size - tape.n_leaves,) + batch),
            jnp.broadcast_to(numbers.reshape((-1,) + ones), (len(plan.numbers),) + batch)])
        saved: list[list[tuple[list[Any], Any]]] = []
        for step, forwards in zip(plan.steps, self.forwards):
            m = step.stop - step.start
            if step.rows is None:
                k = step.kernels[0]
                ins = [r.read(v) for r in k.reads]
                v = self._set(v, step.start,
                              jnp.broadcast_to(forwards[0](*ins), (m,) + batch))  # type: ignore[misc]
                saved.append([(ins, None)])
                continue
            T: list[Any] = [None] * step.rows  # the sum's terms, row by row
            kept = []
            for k, fwd in zip(step.kernels, forwards):
                ins = [r.read(v) for r in k.reads]
                where = range(step.rows)[k.rows] if isinstance(k.rows, slice) else k.rows
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
            v = self._set(v, step.start, self._add_rows(T))
            saved.append(kept)
        cols = v
        ok = jnp.broadcast_to(jnp.asarray(tape.check_guards(lambda s: cols[plan.at(s)])), batch)
        bad_forward = ok & ~jnp.isfinite(v[tape.n_in:plan.size]).all(axis=0)
        G = self._backward(v, saved)
        bad_backward = ok & ~(jnp.isfinite(G[:tape.n_in]).all(axis=0) &
                              jnp.isfinite(G[tape.n_leaves:plan.size]).all(axis=0))
        rows = [ok, bad_forward, bad_backward, v[plan.at(tape.out)],
                *(v[plan.at(s)] for s in tape.aux)]
        return jnp.concatenate([jnp.stack(rows).astype(jnp.float64), G[:tape.n_in]])

    def _add_rows(self, T: list[Any]) -> Any:
        """T[0] + T[1] + … in that order, as eager's chain of adds."""
        if len(T) <= UNROLL:
            return functools.reduce(lambda a, b: a + b, T)
        rows = self.jnp.stack(T)
        total, _ = self.jax.lax.scan(lambda acc, row: (acc + row, None), rows[0], rows[1:])
        return total

    def _set(self, v: Any, start: int, rows: Any) -> Any:
        """v with rows written from `start` on (an in-place update to XLA, not a scatter)."""
        return self.jax.lax.dynamic_update_slice_in_dim(v, rows, start, axis=0)

    def _backward(self, v: Any, saved: list[Any]) -> Any:
        """d(out)/d(slot) for every slot: each kernel adds partial · grad into its inputs."""
        plan = self.plan
        G = self.jnp.zeros_like(v).at[plan.at(self.tape.out)].set(1.0)
        for step, kept, partials in zip(reversed(plan.steps), reversed(saved),
                                        reversed(self.partials)):
            if not step.live:
                continue
            up = G[step.start:step.stop]
            batch = up.shape[1:]
            for k, (ins, out), rules_ in zip(step.kernels, kept, partials):
                if k.grid is not None:
                    shares = grid_backward(k.grid, ins, up, batch, k.grad)
                    for table, share in zip(k.reads, shares):
                        if share is not None:
                            G = self._add(G, table, share if k.signs is None else
                                          share * _ax(k.signs, 2, batch))
                    continue
                d = up if k.signs is None else up * _ax(k.signs, 2, batch)
                if step.rows is None:
                    out = v[step.start:step.stop]
                for rule, table, takes in zip(rules_ or (1.0,), k.reads, k.grad):
                    if takes:
                        p = rule if type(rule) is float else rule(out, *ins)
                        G = self._add(G, table, d if type(p) is float and p == 1.0 else p * d)
        return G

    def _add(self, G: Any, table: Slots, c: Any) -> Any:
        """G[slots] += c (repeated slots adding up), functionally: Slots.add for jax."""
        jnp = self.jnp
        batch = G.shape[1:]
        c = jnp.broadcast_to(c, table.shape + batch)
        if table.run is not None:
            if table.flipped:
                c = c.swapaxes(0, 1)
            run = table.run
            return self._set(G, run.start, G[run] + c.reshape((-1,) + batch))
        return G.at[table.slots.ravel()].add(c.reshape((-1,) + batch),
                                             unique_indices=table.once)


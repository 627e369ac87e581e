"""Generated code: a tape turned into straight-line Python — over floats for a narrow tape (one
statement per equation forward, one per gradient term backward), or whole-array numpy
statements for a wide one (the schedule's groups, a few statements each) — exec'd once, so a
replay is two function calls with no per-equation or per-kernel dispatch. The source holds
only our own text: slots are named by index (v12, g12, v[740:741]), numbers by repr, and
functions and index tables are reached by generated names (F3, R3_0, I5)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .execute import ArrayExecutor, FloatExecutor, Kernel, Slots, _add_rows
from .matmul import _mm
from .tape import Tape

# Above this many equations the interpreter runs instead: compiling the source would cost
# more than it saves (CPython's compiler is superlinear in a function's length).
MAX_EQUATIONS = 5_000

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*"}


class GeneratedFloats:
    """The float executor as generated code: `forward(x)` gives every slot's value (as the
    interpreter's FloatExecutor does) and `backward(vals)` every slot's gradient — the same
    operations in the same order, so the numbers are eager's exactly."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.source, namespace = _source(tape)
        code = compile(self.source, f"<compiled tape of {len(tape.eqns)} equations>", "exec")
        exec(code, namespace)  # our own text only: see the module's docstring
        self._forward: Callable[..., list[float]] = namespace["forward"]
        self._backward: Callable[[list[float]], list[float]] = namespace["backward"]
        self._interpreter: FloatExecutor | None = None

    def forward(self, x: list[float]) -> list[float]:
        """Every slot's value; where an op is undefined the interpreter finds and marks it."""
        try:
            vals = self._forward(*x, *self.tape.leaf_values())
        except (ArithmeticError, ValueError, TypeError):
            if self._interpreter is None:
                self._interpreter = FloatExecutor(self.tape)
            return self._interpreter.forward(x)
        vals += self.tape.numbers
        return vals

    def backward(self, vals: list[float]) -> list[float]:
        """d(out)/d(slot) for every slot."""
        return self._backward(vals)


def _source(tape: Tape) -> tuple[str, dict[str, Any]]:
    """The module text defining forward(*leaves) and backward(vals), and its namespace."""
    namespace: dict[str, Any] = {}
    leaves = ", ".join(f"v{i}" for i in range(tape.n_leaves))
    fwd = [f"def forward({leaves}):"]
    for k, (op, inputs, out, _) in enumerate(tape.eqns):
        args = [f"v{i}" for i in inputs]
        infix = _INFIX.get(op.forward) if len(args) == 2 else None
        if infix is not None:
            fwd.append(f"    v{out} = {args[0]} {infix} {args[1]}")
        elif op.forward is operator.neg:
            fwd.append(f"    v{out} = -{args[0]}")
        else:
            namespace[f"F{k}"] = op.forward
            fwd.append(f"    v{out} = F{k}({', '.join(args)})")
    fwd.append(f"    return [{', '.join(f'v{i}' for i in range(tape.n_slots))}]")
    back = ["def backward(vals):",
            f"    {', '.join(f'v{i}' for i in range(tape.n_slots))}, = vals[:{tape.n_slots}]"]
    started: set[int] = set()
    back.append(f"    g{tape.out} = 1.0")
    started.add(tape.out)
    for k in reversed(range(len(tape.eqns))):
        op, inputs, out, live = tape.eqns[k]
        if not live or out not in started:
            continue  # no gradient reaches it
        for i, (p, rule) in enumerate(zip(inputs, op.partials)):
            if rule is None or not tape.takes_gradient(p):
                continue
            if type(rule) is float:
                partial = repr(rule)
            elif op.product:  # ∂(x·y)/∂x = y, ∂(x·y)/∂y = x, as the rule itself says
                partial = f"v{inputs[1 - i]}"
            else:
                namespace[f"R{k}_{i}"] = rule
                partial = f"R{k}_{i}(v{out}, {', '.join(f'v{j}' for j in inputs)})"
            # eager starts every grad at 0.0 and adds: 0.0 + t keeps t's sign rules exactly
            lhs = f"g{p} = {'g' + str(p) if p in started else '0.0'} + "
            back.append(f"    {lhs}{partial} * g{out}")
            started.add(p)
    grads = ", ".join(f"g{i}" if i in started else "0.0" for i in range(tape.n_slots))
    back.append(f"    return [{grads}]")
    return "\n".join(fwd + back) + "\n", namespace


# --- whole arrays: the numpy executor's schedule as generated source ---------------------------

# Above this many kernels the numpy interpreter runs instead (a deep graph, where compiling
# the source would cost more than it saves).
MAX_KERNELS = 2_000


class GeneratedArrays:
    """The numpy executor (ArrayExecutor) as generated code: each group's kernels become a few
    whole-array statements, with every choice the interpreter makes per call — how a table of
    slots is read and added into, which rule, which signs, one point or a batch — made once,
    here (a point's source at once, a batch's at the first batch). Products are written
    straight into the sum's table of terms (`out=`), and rows are added into the values
    themselves. Forward and backward are the interpreter's, operation for operation, so the
    numbers are its exactly: the forward makes eager's products and adds them in eager's
    order. With `reassociate`, a layer's weighted sums are one BLAS matrix product instead
    (another order of the adds: eager's values to rounding, not bit for bit)."""

    def __init__(self, plan: ArrayExecutor, reassociate: bool = False) -> None:
        self.plan = plan
        self.tape = plan.tape
        self.size = plan.size
        self.at = plan.at
        self.reassociate = reassociate
        self._made: dict[bool, tuple[Callable[..., Any], Callable[..., Any]]] = {}
        self.source = self._make(batched=False)

    def _make(self, batched: bool) -> str:
        """Generate, compile and keep the point's (or the batch's) forward and backward."""
        plan = self.plan
        source, namespace = _array_source(plan, batched, self.reassociate)
        what = "a batch" if batched else "a point"
        code = compile(source, f"<compiled schedule of {len(plan.steps)} groups for {what}>",
                       "exec")
        exec(code, namespace)  # our own text only: slots and tables by index
        self._made[batched] = namespace["forward"], namespace["backward"]
        return source

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """Every slot's value (rows; a column per point of a batch), and what backward reuses."""
        tape, leaves = self.tape, self.plan.leaves
        if tape.captured:  # read at each call: the namespace holds this same array
            leaves[:len(tape.captured)] = [w.data for w in tape.captured]
        batched = x.ndim > 1
        if batched not in self._made:
            self._make(batched)
        if x.ndim > 2:  # batch axes beyond one: run as one axis, and give back their shape
            v, saved = self._made[True][0](x.reshape(len(x), -1))
            return v.reshape((len(v),) + x.shape[1:]), saved
        return self._made[batched][0](x)  # type: ignore[no-any-return]

    def backward(self, v: np.ndarray, saved: Any) -> np.ndarray:
        """d(out)/d(slot) for every slot."""
        if v.ndim > 2:
            G = self._made[True][1](v.reshape(len(v), -1), saved)
            return G.reshape(v.shape)  # type: ignore[no-any-return]
        return self._made[v.ndim > 1][1](v, saved)  # type: ignore[no-any-return]


class _Text:
    """Helpers writing one version's source: shapes with the batch axis `n` or without it,
    and the namespace's constants, each named by index."""

    def __init__(self, batched: bool, namespace: dict[str, Any]) -> None:
        self.batched = batched
        self.ns = namespace
        self.count = 0

    def shape(self, *dims: int) -> str:
        """A shape's text: (a, b) for a point, (a, b, n) for a batch of n."""
        parts = [str(d) for d in dims] + (["n"] if self.batched else [])
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def const(self, prefix: str, value: Any) -> str:
        """A table, function or rule, in the namespace under a generated name."""
        self.count += 1
        name = f"{prefix}{self.count}"
        self.ns[name] = value
        return name

    def signs(self, signs: np.ndarray) -> str:
        """±1 per term (and column), shaped to multiply a block's rows (and batch axis)."""
        extra = 2 - signs.ndim + self.batched
        return self.const("S", signs.reshape(signs.shape + (1,) * extra))


def _array_source(plan: ArrayExecutor, batched: bool, reassociate: bool
                  ) -> tuple[str, dict[str, Any]]:
    """The module text defining forward(x) → (v, saved) and backward(v, saved) → G, for one
    point (rows of v are numbers) or a batch (rows of v have a column per point)."""
    tape = plan.tape
    ns: dict[str, Any] = {"empty": np.empty, "zeros_like": np.zeros_like,
                          "errstate": np.errstate, "add_rows": _add_rows,
                          "broadcast_to": np.broadcast_to, "bincount": np.bincount,
                          "add_at": np.add.at, "contiguous": np.ascontiguousarray,
                          "reduce": np.add.reduce, "add": np.add, "matmul": np.matmul, "mm": _mm,
                          "LEAVES": plan.leaves, "NUMBERS": plan.numbers}
    t = _Text(batched, ns)
    column = "[:, None]" if batched else ""
    n_line = ["    n = x.shape[1]"] if batched else []
    fwd = ["def forward(x):", *n_line,
           f"    v = empty({t.shape(plan.size + len(plan.numbers))})",
           f"    v[:{tape.n_in}] = x"]
    if tape.n_leaves > tape.n_in:
        fwd.append(f"    v[{tape.n_in}:{tape.n_leaves}] = LEAVES{column}")
    if len(plan.numbers):
        fwd.append(f"    v[{plan.size}:] = NUMBERS{column}")
    fwd.append("    with errstate(all='ignore'):")
    saved: list[str] = []
    steps_back: list[list[str]] = []
    for s, step in enumerate(plan.steps):
        body = _step(t, s, step, fwd, saved, reassociate)
        if step.live and body:
            steps_back.append([f"        up = G[{step.start}:{step.stop}]", *body])
    if not plan.steps:
        fwd.append("        pass")
    fwd.append(f"    return v, ({''.join(n + ', ' for n in saved)})")
    back = ["def backward(v, saved):",
            f"    {''.join(n + ', ' for n in saved)}= saved" if saved else "    pass",
            *(["    n = v.shape[1]"] if batched else []),
            "    G = zeros_like(v)",
            f"    G[{plan.at(tape.out)}] = 1.0",
            "    with errstate(all='ignore'):"]
    for lines in reversed(steps_back):
        back += lines
    if not steps_back:
        back.append("        pass")
    back.append("    return G")
    return "\n".join(fwd + back) + "\n", ns


def _step(t: _Text, s: int, step: Any, fwd: list[str], saved: list[str], reassociate: bool
          ) -> list[str]:
    """Append one group's forward statements to fwd (and what its backward reads to saved);
    its backward statements, in order."""
    span = f"{step.start}:{step.stop}"
    m = step.stop - step.start
    body: list[str] = []
    if step.rows is None:  # a plain group: one op over tables of m slots
        k = step.kernels[0]
        ins = _reads(t, s, 0, k, fwd)
        plain = _forward_of(k)
        if isinstance(plain, np.ufunc) and plain.nout == 1:
            fwd.append(f"        {t.const('F', plain)}({', '.join(ins)}, out=v[{span}])")
        else:
            fwd.append(f"        v[{span}] = {t.const('F', plain)}({', '.join(ins)})")
        if step.live:
            body += _partials(t, k, ins, f"v[{span}]", "up", m, saved)
        return body
    # A sum: each block fills its rows of T (rows × m), and the rows are added in order. With
    # `reassociate`, a grid block is one row: its products summed by a matrix product.
    merged = reassociate and all(isinstance(k.rows, slice) for k in step.kernels) and \
        any(k.grid is not None for k in step.kernels)
    placed = _merged_rows(step) if merged else [k.rows for k in step.kernels]
    n_rows = max(_stop(r, step.rows) for r in placed)
    fwd.append(f"        T = empty({t.shape(n_rows, m)})")
    for j, (k, rows) in enumerate(zip(step.kernels, placed)):
        ins = _reads(t, s, j, k, fwd)
        count = len(range(step.rows)[k.rows]) if isinstance(k.rows, slice) else len(k.rows)
        at = _rows_text(t, rows)
        signs = None if k.signs is None else t.signs(k.signs)
        fn: Callable[..., Any] | None = None if k.forward is None else _forward_of(k)
        ufunc = isinstance(fn, np.ufunc) and fn.nout == 1 and isinstance(rows, slice)
        out = f"o{s}_{j}"
        if k.grid is not None and merged:
            a, c = ins[k.grid.outer], ins[1 - k.grid.outer]
            if signs is not None:
                c = f"({c} * {signs})"
            product = f"{a}.T, {c}, out=T[{at}].reshape({t.shape(*k.grid.shape)})" \
                if not t.batched else f"{a}.swapaxes(0, 1), {c}"
            fwd.append(f"        matmul({product})" if not t.batched else
                       f"        T[{at}] = mm({product}).reshape({t.shape(1, m)})")
        elif k.grid is not None:
            spread = _SPREAD_TEXT[k.grid.outer]
            pair = f"{ins[0]}{spread[0]}, {ins[1]}{spread[1]}"
            if ufunc and signs is None:
                fwd.append(f"        {t.const('F', fn)}({pair}, out=T[{at}].reshape("
                           f"{t.shape(count, *k.grid.shape)}))")
            else:
                fwd.append(f"        {out} = {t.const('F', fn)}({pair})")
                fwd.append(f"        T[{at}] = {out}.reshape({t.shape(count, m)})")
        elif fn is None and k.reads[0].run is None and isinstance(rows, slice):
            fwd[-1] = f"        v.take({t.const('I', k.reads[0].slots)}, axis=0, out=T[{at}], " \
                "mode='clip')"  # gathered straight into its rows (indices are in range)
        elif fn is None:
            fwd.append(f"        T[{at}] = {ins[0]}")
        elif ufunc and signs is None:
            fwd.append(f"        {out} = T[{at}]")
            fwd.append(f"        {t.const('F', fn)}({', '.join(ins)}, out={out})")
        else:
            fwd.append(f"        {out} = {t.const('F', fn)}({', '.join(ins)})")
            fwd.append(f"        T[{at}] = {out}")
        if signs is not None and not (k.grid is not None and merged):
            fwd.append(f"        T[{at}] *= {signs}")
        if not step.live:
            continue
        d = "up" if signs is None else f"(up * {signs})"
        if k.grid is not None:
            body += _grid_back(t, k, ins, signs, saved)
        else:
            body += _partials(t, k, ins, out, d, m, saved)
    if n_rows == 2:  # one add
        fwd.append(f"        add(T[0], T[1], out=v[{span}])")
    elif m > 1 and t.batched:  # rows of many numbers: numpy adds whole rows, in order
        fwd.append(f"        reduce(T, axis=0, out=v[{span}])")
    elif m > 1:  # (into a new row, then copied: faster than out= for one point's rows)
        fwd.append(f"        v[{span}] = reduce(T, axis=0)")
    else:
        fwd.append(f"        v[{span}] = add_rows(T)")
    return body


def _merged_rows(step: Any) -> list[slice]:
    """The blocks' rows when each grid block is one row (its products summed), in order."""
    order = sorted(range(len(step.kernels)), key=lambda j: _start(step.kernels[j].rows))
    placed: list[slice] = [slice(0)] * len(step.kernels)
    at = 0
    for j in order:
        k = step.kernels[j]
        count = 1 if k.grid is not None else len(range(step.rows)[k.rows])
        placed[j] = slice(at, at + count)
        at += count
    return placed


def _start(rows: slice) -> int:
    return 0 if rows.start is None else int(rows.start)


def _stop(rows: Any, n: int) -> int:
    return len(range(n)) if isinstance(rows, slice) and rows.stop is None else \
        int(rows.stop) if isinstance(rows, slice) else int(max(rows)) + 1


def _reads(t: _Text, s: int, j: int, k: Kernel, fwd: list[str]) -> list[str]:
    """Statements reading the kernel's inputs; their names."""
    names = [f"i{s}_{j}_{i}" for i in range(len(k.reads))]
    for name, table in zip(names, k.reads):
        fwd.append(f"        {name} = {_read(t, table)}")
    return names


def _grid_back(t: _Text, k: Kernel, ins: list[str], signs: str | None, saved: list[str]
               ) -> list[str]:
    """Σᵢ aᵢₒ·cᵢᵤ backward: ∂/∂a = c @ upᵀ, ∂/∂c = a @ up, as two matrix products."""
    assert k.grid is not None
    lines = [f"        d = up.reshape({t.shape(*k.grid.shape)})"]
    a, c = k.grid.outer, 1 - k.grid.outer
    made = {a: (ins[c], "d.T" if not t.batched else "d.swapaxes(0, 1)"), c: (ins[a], "d")}
    for i, table in enumerate(k.reads):
        if not k.grad[i]:
            continue
        x, y = made[i]
        saved.append(x)
        share = f"{x} @ {y}" if not t.batched else f"mm({x}, {y})"
        lines += _add(t, table, share if signs is None else f"({share}) * {signs}", True)
    return lines


def _partials(t: _Text, k: Kernel, ins: list[str], out: str, d: str, m: int,
              saved: list[str]) -> list[str]:
    """Each input's partial · upstream, added into its slots."""
    lines: list[str] = []
    for i, (rule, table, takes) in enumerate(zip(k.partials, k.reads, k.grad)):
        if not takes:
            continue
        if type(rule) is float:
            c = d if rule == 1.0 else f"{rule!r} * {d}"
            full = table.slots.size == m  # up's numbers, one per slot of the table
        elif k.op is not None and k.op.product:  # ∂(x·y)/∂x = y, as the rule itself says
            other = ins[1 - i]
            saved += [other] if other not in saved else []
            c = f"{other} * {d}"
            full = None
        else:
            saved += [n for n in (out, *ins) if n.startswith(("i", "o")) and n not in saved]
            c = f"{t.const('R', _rule_of(k, i))}({out}, {', '.join(ins)}) * {d}"
            full = None  # as the rule makes it: checked
        lines += _add(t, table, c, full)
    return lines


_SPREAD_TEXT = (("[:, :, None]", "[:, None]"), ("[:, None]", "[:, :, None]"))


def _rows_text(t: _Text, rows: Any) -> str:
    if isinstance(rows, slice):
        return f"{'' if rows.start is None else rows.start}:" \
               f"{'' if rows.stop is None else rows.stop}"
    return t.const("P", rows)


def _read(t: _Text, table: Slots) -> str:
    """The expression reading a table of slots out of v (as Slots.read does)."""
    if table.run is None:
        return f"v.take({t.const('I', table.slots)}, axis=0)"
    run = f"v[{table.run.start}:{table.run.stop}]"
    if table.flipped:
        return f"{run}.reshape({t.shape(*table.shape[::-1])}).swapaxes(0, 1)"
    return run if len(table.shape) == 1 else f"{run}.reshape({t.shape(*table.shape)})"


def _add(t: _Text, table: Slots, c: str, full: bool | None) -> list[str]:
    """Statements adding c into G at a table of slots, repeats adding up (as Slots.add): c
    broadcasts against the table where the add allows it, and is made full where it must
    be (full: c has the table's numbers; False: it does not; None: as it comes)."""
    shape = t.shape(*table.shape)
    if table.run is not None or table.once:  # each slot once: numpy broadcasts c
        if table.run is None:
            return [f"        G[{t.const('I', table.slots)}] += {c}"]
        run = f"G[{table.run.start}:{table.run.stop}]"
        if table.flipped:
            return [f"        g = {run}.reshape({t.shape(*table.shape[::-1])}).swapaxes(0, 1)",
                    f"        g += {c}"]
        if len(table.shape) == 1 or full:
            return [f"        {run} += ({c}).reshape({t.shape(table.slots.size)})"
                    if len(table.shape) > 1 else f"        {run} += {c}"]
        return [f"        g = {run}.reshape({shape})", f"        g += {c}"]
    lines = [] if full and c.isidentifier() else [f"        c = {c}"]
    c = c if full and c.isidentifier() else "c"
    if full is False:
        lines.append(f"        c = broadcast_to(c, {shape})")
    elif full is None:
        lines += [f"        if c.shape != {shape}:",
                  f"            c = broadcast_to(c, {shape})"]
    flat = t.shape(-1)
    if len(table.distinct) == 1:
        lines.append(f"        G[{int(table.distinct[0])}] += {c}.reshape({flat}).sum(axis=0)")
    elif t.batched:
        lines.append(f"        add_at(G, {t.const('I', table.slots)}, contiguous({c}))")
    else:
        lines.append(f"        G[{t.const('D', table.distinct)}] += bincount("
                     f"{t.const('V', table.inverse)}, {c}.ravel(), {len(table.distinct)})")
    return lines


def _forward_of(k: Kernel) -> Callable[..., Any]:
    """The kernel's array forward: the record's `array` itself, when it has one."""
    assert k.op is not None and k.forward is not None
    return k.op.array if k.op.array is not None else k.forward


def _rule_of(k: Kernel, i: int) -> Callable[..., Any]:
    """The rule for input i on arrays: the record's rule itself where it runs on arrays (as
    every table rule does), else the interpreter's wrapper (element by element)."""
    assert k.op is not None
    rule = k.op.partials[i]
    probe = [np.linspace(lo, hi, 3) for lo, hi in k.op.test_range]
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(rule(k.op.forward(*(p[1] for p in probe)) + probe[0] * 0, *probe))
        if got.dtype.kind == "f" and got.ndim <= 1:
            return rule  # type: ignore[no-any-return]
    except (TypeError, ValueError, ArithmeticError):
        pass
    return k.partials[i]  # type: ignore[no-any-return]

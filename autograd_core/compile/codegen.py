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
from .matmul import grid_backward
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
    slots is read and added into, which rule, which signs — made once, here. Forward and
    backward are the interpreter's, operation for operation, so the numbers are its exactly
    (the forward makes eager's products and adds them in eager's order; no BLAS reordering)."""

    def __init__(self, plan: ArrayExecutor) -> None:
        self.plan = plan
        self.tape = plan.tape
        self.size = plan.size
        self.at = plan.at
        self.source, namespace = _array_source(plan)
        code = compile(self.source, f"<compiled schedule of {len(plan.steps)} groups>", "exec")
        exec(code, namespace)  # our own text only: slots and tables by index
        self._forward: Callable[..., Any] = namespace["forward"]
        self.backward: Callable[[np.ndarray, Any], np.ndarray] = namespace["backward"]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """Every slot's value (rows; a column per point of a batch), and what backward reuses."""
        tape, leaves = self.tape, self.plan.leaves
        if tape.captured:  # read at each call: the namespace holds this same array
            leaves[:len(tape.captured)] = [w.data for w in tape.captured]
        return self._forward(x)


def _array_source(plan: ArrayExecutor) -> tuple[str, dict[str, Any]]:
    """The module text defining forward(x) → (v, saved) and backward(v, saved) → G."""
    tape = plan.tape
    ns: dict[str, Any] = {"empty": np.empty, "zeros_like": np.zeros_like,
                          "errstate": np.errstate, "add_rows": _add_rows,
                          "broadcast_to": np.broadcast_to, "bincount": np.bincount,
                          "add_at": np.add.at, "contiguous": np.ascontiguousarray,
                          "grid_backward": grid_backward, "mm": np.matmul,
                          "LEAVES": plan.leaves, "NUMBERS": plan.numbers}
    counter = [0]

    def const(prefix: str, value: Any) -> str:  # a table, function or rule, named by index
        counter[0] += 1
        name = f"{prefix}{counter[0]}"
        ns[name] = value
        return name

    fwd = ["def forward(x):",
           "    B = x.shape[1:]",
           "    b = len(B)",
           f"    v = empty(({plan.size + len(plan.numbers)},) + B)",
           f"    v[:{tape.n_in}] = x",
           f"    v[{tape.n_in}:{tape.n_leaves}] = LEAVES.reshape((-1,) + (1,) * b)",
           f"    v[{plan.size}:] = NUMBERS.reshape((-1,) + (1,) * b)",
           "    with errstate(all='ignore'):"]
    back = ["def backward(v, saved):",
            "    B = v.shape[1:]",
            "    b = len(B)",
            "    G = zeros_like(v)",
            f"    G[{plan.at(tape.out)}] = 1.0",
            "    with errstate(all='ignore'):"]
    saved: list[str] = []
    steps_back: list[list[str]] = []
    for s, step in enumerate(plan.steps):
        span = f"{step.start}:{step.stop}"
        m = step.stop - step.start
        body: list[str] = []  # this step's backward, in order
        if step.rows is not None:
            fwd.append(f"        T = empty(({step.rows}, {m}) + B)")
        for j, k in enumerate(step.kernels):
            ins = [f"i{s}_{j}_{i}" for i in range(len(k.reads))]
            for name, table in zip(ins, k.reads):
                fwd.append(f"        {name} = {_read(table, const)}")
            saved += ins
            signs = None if k.signs is None else const(
                "S", tuple(k.signs.reshape(k.signs.shape + (1,) * (2 - k.signs.ndim + b))
                           for b in (0, 1)))
            out = f"o{s}_{j}"
            fn = None if k.forward is None else const("F", _forward_of(k))
            if step.rows is None:
                fwd.append(f"        v[{span}] = {fn}({', '.join(ins)})")
                out = f"v[{span}]"
            else:
                rows = _rows(k.rows, const)
                n_rows = len(range(step.rows)[k.rows]) if isinstance(k.rows, slice) \
                    else len(k.rows)
                if k.grid is not None:
                    spread = _SPREAD_TEXT[k.grid.outer]
                    fwd.append(f"        {out} = {fn}({ins[0]}{spread[0]}, {ins[1]}{spread[1]})")
                    fwd.append(f"        T[{rows}] = {out}.reshape(({n_rows}, {m}) + B)")
                else:
                    made = ins[0] if fn is None else f"{fn}({', '.join(ins)})"
                    fwd.append(f"        {out} = {made}")
                    fwd.append(f"        T[{rows}] = {out}")
                if signs is not None:
                    fwd.append(f"        T[{rows}] *= {signs}[b]")
                saved.append(out)
            if not step.live:
                continue
            if k.grid is not None:
                grid = const("GRID", k.grid)
                body.append(f"        shares = grid_backward({grid}, [{', '.join(ins)}], up, B, "
                            f"{k.grad!r})")
                for i, table in enumerate(k.reads):
                    if k.grad[i]:
                        share = "shares[%d]" % i if signs is None else \
                            f"shares[{i}] * {signs}[b]"
                        body += _add(table, share, const, full=True)
                continue
            d = "up" if signs is None else f"(up * {signs}[b])"
            for i, (rule, table, takes) in enumerate(zip(k.partials, k.reads, k.grad)):
                if not takes:
                    continue
                if type(rule) is float:
                    c = d if rule == 1.0 else f"{rule!r} * {d}"
                else:
                    c = f"{const('R', _rule_of(k, i))}({out}, {', '.join(ins)}) * {d}"
                body += _add(table, c, const, full=step.rows is None)
        if step.rows is not None:
            fwd.append(f"        v[{span}] = add_rows(T)")
        if step.live and body:
            steps_back.append([f"        up = G[{span}]", *body])
    if not plan.steps:
        fwd.append("        pass")
    fwd.append(f"    return v, ({''.join(n + ', ' for n in saved)})")
    back.insert(1, f"    {''.join(n + ', ' for n in saved)}= saved" if saved else "    pass")
    for lines in reversed(steps_back):
        back += lines
    if not steps_back:
        back.append("        pass")
    back.append("    return G")
    return "\n".join(fwd + back) + "\n", ns


_SPREAD_TEXT = (("[:, :, None]", "[:, None]"), ("[:, None]", "[:, :, None]"))


def _rows(rows: Any, const: Callable[[str, Any], str]) -> str:
    if isinstance(rows, slice):
        return f"{'' if rows.start is None else rows.start}:" \
               f"{'' if rows.stop is None else rows.stop}"
    return const("P", rows)


def _read(table: Slots, const: Callable[[str, Any], str]) -> str:
    """The expression reading a table of slots out of v (as Slots.read does)."""
    if table.run is None:
        return f"v.take({const('I', table.slots)}, axis=0)"
    run = f"v[{table.run.start}:{table.run.stop}]"
    if table.flipped:
        return f"{run}.reshape({table.shape[::-1]!r} + B).swapaxes(0, 1)"
    return run if len(table.shape) == 1 else f"{run}.reshape({table.shape!r} + B)"


def _add(table: Slots, c: str, const: Callable[[str, Any], str], full: bool) -> list[str]:
    """Statements adding c into G at a table of slots, repeats adding up (as Slots.add)."""
    lines = [f"        c = {c}"]
    if not full:
        lines.append(f"        c = broadcast_to(c, {table.shape!r} + B)")
    if table.run is not None:
        run = f"G[{table.run.start}:{table.run.stop}]"
        if table.flipped:
            lines.append(f"        g = {run}.reshape({table.shape[::-1]!r} + B)")
            lines.append("        g += c.swapaxes(0, 1)")
        else:
            lines.append(f"        {run} += c.reshape((-1,) + B)")
    elif table.once:
        lines.append(f"        G[{const('I', table.slots)}] += c")
    elif len(table.distinct) == 1:
        lines.append(f"        G[{int(table.distinct[0])}] += c.reshape((-1,) + B).sum(axis=0)")
    else:
        slots, distinct = const("I", table.slots), const("D", table.distinct)
        inverse = const("V", table.inverse)
        lines += ["        if b:",
                  f"            add_at(G, {slots}, contiguous(c))",
                  "        else:",
                  f"            G[{distinct}] += bincount({inverse}, c.ravel(), "
                  f"{len(table.distinct)})"]
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

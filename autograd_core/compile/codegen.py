"""Generated code: a tape turned into Python — over floats for a narrow tape (one statement per
equation forward, one per gradient term backward, each rolled region a loop), or whole-array numpy
statements for a wide one (the schedule's groups, a few statements each) — exec'd once, so a
replay is two function calls with no per-equation or per-kernel dispatch. The source holds
only our own text: slots are named by index (v12, g12, v[740:741]), numbers by repr, and
functions and index tables are reached by generated names (F3, R3_0, I5)."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .execute import ArrayExecutor, FloatExecutor, FloatValues, Kernel, Slots, _add_rows
from .matmul import _mm
from .roll import Loop, Read
from .tape import Tape

# Above this many equations outside loops the interpreter runs instead: compiling the source
# would cost more than it saves (CPython's compiler is superlinear in a function's length).
MAX_EQUATIONS = 5_000

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*"}
# Ops whose result is not finite whenever an input is not: a value read by one of them is
# checked through its result, so a replay checks only the values nothing else checks.
_SPREADS = {operator.add, operator.sub, operator.mul, operator.neg, operator.pos}


class GeneratedFloats:
    """The float executor as generated code: straight-line statements, and each rolled region
    (see `roll`) as a loop over its per-iteration constants, forward and backward — the same
    operations in the same order as eager, so the numbers are eager's exactly. `forward(x)`
    gives the values read after it (FloatValues); `backward(values)` the inputs' gradients."""

    def __init__(self, tape: Tape, loops: Sequence[Loop] = ()) -> None:
        self.tape = tape
        self.loops = list(loops)
        self.source, namespace, self._exposed = _source(tape, self.loops)
        code = compile(self.source, f"<compiled tape of {tape.n_eqns} equations>", "exec")
        exec(code, namespace)  # our own text only: see the module's docstring
        self._forward: Callable[..., tuple[Any, ...]] = namespace["forward"]
        self._backward: Callable[[tuple[Any, ...]], list[float]] = namespace["backward"]
        self._interpreter: FloatExecutor | None = None

    def forward(self, x: list[float]) -> FloatValues:
        """The values read after the replay; where an op is undefined, or a value is not
        finite, the interpreter replays instead and marks it (nan)."""
        tape = self.tape
        try:
            state = self._forward(*x, [v.data for v in tape.captured])
        except (ArithmeticError, ValueError, TypeError):
            state = None
        if state is None or not state[0]:
            if self._interpreter is None:
                self._interpreter = FloatExecutor(tape)
            return self._interpreter.forward(x)
        return FloatValues(tape, state, self._exposed)

    def backward(self, values: FloatValues) -> list[float]:
        """d(out)/d(argument) for every argument."""
        if values.state is None:
            assert self._interpreter is not None
            return self._interpreter.backward(values)
        return self._backward(values.state[1])


def _source(tape: Tape, loops: list[Loop]) -> tuple[str, dict[str, Any], dict[int, int]]:
    """The module text defining forward(*args, captured) → (finite, state, *exposed) and
    backward(state) → the arguments' gradients; its namespace; where each slot read after
    the replay sits in forward's result."""
    ns: dict[str, Any] = {"isfinite": math.isfinite, "total": sum, "islice": itertools.islice,
                          "reversed": reversed, "zip": zip}
    c = tape.columns
    base, n_in, n_cap = tape.n_leaves, tape.n_in, len(tape.captured)
    first_constant = n_in + n_cap
    constants = tape.constants
    ops_ = c.ops
    for code, op in enumerate(ops_):
        ns[f"F{code}"] = op.forward
        for i, rule in enumerate(op.partials):
            if rule is not None and type(rule) is not float:
                ns[f"R{code}_{i}"] = rule

    def val(s: int) -> str:  # a slot read outside a loop (or fixed inside one)
        if first_constant <= s < base:
            return repr(constants[s - first_constant])
        return f"v{s}"

    # Which values a replay must check for being finite: those no spreading op reads.
    checked = _checked(tape, loops)
    fwd = [f"def forward({''.join(f'v{i}, ' for i in range(n_in))}CAP):"]
    for s in range(n_in, first_constant):  # captured Values: read at each call
        fwd.append(f"    v{s} = CAP[{s - n_in}]")
    explicit: list[str] = []
    finite_cols: list[str] = []
    state_names: list[str] = []  # what backward reads from forward
    k = 0
    m = len(c.code)
    table_count = [0]

    def table(r: Read, count: int) -> str:
        table_count[0] += 1
        name = f"T{table_count[0]}"
        if r.slot >= first_constant:
            at = r.slot - first_constant
            ns[name] = constants[at:at + r.stride * (count - 1) + 1:r.stride].tolist() \
                if r.stride > 0 else [constants[at + r.stride * i] for i in range(count)]
        else:  # captured Values: read at each call
            fwd.append(f"    {name} = [CAP[t] for t in range({r.slot - n_in}, "
                       f"{r.slot - n_in + r.stride * count}, {r.stride})]")
            state_names.append(name)
        return name

    segments: list[tuple[str, Any]] = []
    for n, lp in enumerate(loops):  # straight runs between the loops (in order, disjoint)
        if k < lp.start:
            segments.append(("line", (k, lp.start)))
        segments.append(("loop", (n, lp)))
        k = lp.stop
    if k < m:
        segments.append(("line", (k, m)))
    loop_info: dict[int, dict[str, Any]] = {}
    for kind, what in segments:
        if kind == "line":
            for k in range(*what):
                out = base + k
                code = c.code[k]
                args = [val(p) for p in c.inputs(k)]
                fwd.append(f"    v{out} = {_expr(ops_[code], code, args)}")
                if out in checked:
                    explicit.append(f"v{out}")
            continue
        n, lp = what
        B, count = lp.body, lp.count
        last = [lp.slot(base, j, count - 1) for j in range(B)]
        live = [bool(c.live[lp.start + j]) and lp.slot(base, j, 0) not in tape.stops
                for j in range(B)]
        tables: dict[tuple[int, int], str] = {}
        for j, row in enumerate(lp.reads):
            for p, r in enumerate(row):
                if r.kind == "table":
                    tables[j, p] = table(r, count)
        # A value of the previous iteration read after its own body equation has been
        # written again in this one is copied at the start of the iteration.
        carried = {r.j for row in lp.reads for r in row if r.kind == "body" and r.lag == 1}
        copied = {r.j for j, row in enumerate(lp.reads) for r in row
                  if r.kind == "body" and r.lag == 1 and r.j < j}
        for j in sorted(carried):  # the entry: what iteration 0 reads
            entry = next(r.slot for row in lp.reads for r in row
                         if r.kind == "body" and r.lag == 1 and r.j == j)
            fwd.append(f"    v{last[j]} = {val(entry)}")
        # Values backward reads per iteration: stored as columns.
        need: set[int] = set()
        for j, row in enumerate(lp.reads):
            if not live[j]:
                continue
            op = ops_[c.code[lp.start + j]]
            for p, (r, rule) in enumerate(zip(row, op.partials)):
                if rule is None or type(rule) is float or not _takes(tape, r):
                    continue
                wanted = [row[1 - p]] if op.product else list(row)
                need.update(w.j for w in wanted if w.kind == "body")
                if not op.product:
                    need.add(j)
        unchecked = {j for j in range(B) if lp.slot(base, j, 0) in checked}
        cols = need | unchecked
        for j in sorted(cols):
            fwd.append(f"    C{n}_{j} = []")
            fwd.append(f"    c{n}_{j} = C{n}_{j}.append")
        tnames = [tables[key] for key in sorted(tables)]
        tvars = [f"t{n}_{j}_{p}" for (j, p) in sorted(tables)]
        if tvars:
            head = f"    for {', '.join(tvars)}{',' if len(tvars) == 1 else ''} in " + (
                f"zip({', '.join(tnames)}):" if len(tnames) > 1 else f"{tnames[0]}:")
        else:
            head = f"    for _ in range({count}):"
        fwd.append(head)
        for j in sorted(copied):
            fwd.append(f"        p{n}_{j} = v{last[j]}")

        def fread(j: int, p: int, r: Read) -> str:
            if r.kind == "fixed":
                return val(r.slot)
            if r.kind == "table":
                return f"t{n}_{j}_{p}"
            if r.lag == 1 and r.j in copied and r.j < j:
                return f"p{n}_{r.j}"
            return f"v{last[r.j]}"
        for j, row in enumerate(lp.reads):
            code = c.code[lp.start + j]
            fwd.append(f"        v{last[j]} = "
                       f"{_expr(ops_[code], code, [fread(j, p, r) for p, r in enumerate(row)])}")
            if j in cols:
                fwd.append(f"        c{n}_{j}(v{last[j]})")
        finite_cols += [f"C{n}_{j}" for j in sorted(unchecked)]
        explicit += [f"v{s}" for s in last]
        state_names += [f"C{n}_{j}" for j in sorted(need)]
        loop_info[n] = dict(last=last, live=live, tables=tables, need=need)
    # The check, and what backward reads.
    checks = [f"isfinite(total(({', '.join(explicit[i:i + 200])},)))"
              for i in range(0, len(explicit), 200)]
    checks += [f"isfinite(total({col}))" for col in finite_cols]
    back, reads = _backward(tape, segments, loop_info, val, ns)
    state_names += sorted(reads - set(state_names), key=_natural)
    exposed_slots = sorted({tape.out, *tape.aux, *(g.left for g in tape.guards),
                            *(g.right for g in tape.guards if g.right < tape.n_slots)})
    exposed = {s: 2 + i for i, s in enumerate(exposed_slots)}
    fwd.append(f"    return ({' and '.join(checks) or 'True'}, "
               f"({''.join(n + ', ' for n in state_names)}), "
               f"{''.join(val(s) + ', ' for s in exposed_slots)})")
    back.insert(1, f"    {''.join(n + ', ' for n in state_names)}= S" if state_names
                else "    pass")
    return "\n".join(fwd + back) + "\n", ns, exposed


def _backward(tape: Tape, segments: list[tuple[str, Any]], info: dict[int, dict[str, Any]],
              val: Callable[[int], str], ns: dict[str, Any]) -> tuple[list[str], set[str]]:
    """backward(S): the chain rule over the segments, newest first — a loop's iterations in
    reverse (the last to the second), then its first written out, so that what it adds to
    the slots read before the loop is added as eager adds it. Every gradient starts at 0.0
    and takes its contributions in eager's order. Returns the lines and the forward names
    it reads."""
    c = tape.columns
    base, ops_ = tape.n_leaves, c.ops
    lines = ["def backward(S):"]
    reads: set[str] = set()
    started: set[int] = set()

    def use(name: str) -> str:  # a name of forward's (not a number written out)
        if name[:1] in ("v", "C", "T") and name[1:2].isdigit():
            reads.add(name)
        return name

    def add(slot: int, term: str, ind: str) -> None:
        lines.append(f"{ind}g{slot} = {f'g{slot}' if slot in started else '0.0'} + {term}")
        started.add(slot)

    lines.append(f"    g{tape.out} = 1.0")
    started.add(tape.out)
    for kind, what in reversed(segments):
        if kind == "line":
            for k in reversed(range(*what)):
                out = base + k
                if not c.live[k] or out not in started:
                    continue  # no gradient reaches it
                code = c.code[k]
                op = ops_[code]
                ins = c.inputs(k)
                for i, (p, rule) in enumerate(zip(ins, op.partials)):
                    if rule is None or not tape.takes_gradient(p):
                        continue
                    if type(rule) is float:
                        partial = repr(rule)
                    elif op.product:  # ∂(x·y)/∂x = y, ∂(x·y)/∂y = x, as the rule itself says
                        partial = use(val(ins[1 - i]))
                    else:
                        args = ", ".join(use(val(q)) for q in ins)
                        partial = f"R{code}_{i}({use(f'v{out}')}, {args})"
                    add(p, _term(partial, f"g{out}"), "    ")
            continue
        n, lp = what
        inf = info[n]
        last, live = inf["last"], inf["live"]
        B, count = lp.body, lp.count
        for j in range(B):
            if live[j]:
                lines.append(f"    a{n}_{j} = {f'g{last[j]}' if last[j] in started else '0.0'}")
        for j, row in enumerate(lp.reads):  # slots read every iteration gather from all
            if live[j]:
                for r in row:
                    if r.kind == "fixed" and tape.takes_gradient(r.slot) and \
                            r.slot not in started:
                        lines.append(f"    g{r.slot} = 0.0")
                        started.add(r.slot)
        streams: dict[tuple[str, int, int], str] = {}

        def stream(what: str, ident: int, shift: int) -> str:
            key = (what, ident, shift)
            if key not in streams:
                streams[key] = f"b{n}_{len(streams)}"
            return streams[key]

        def body(mode: str, ind: str) -> list[str]:
            out_lines: list[str] = []
            fresh: set[int] = set()  # lag-1 sums begun in this iteration

            def value(j: int, p: int, r: Read) -> str:
                if r.kind == "fixed":
                    return use(val(r.slot))
                if r.kind == "table":
                    name = inf["tables"][j, p]
                    if mode == "peel":
                        if name not in ns:
                            use(name)
                        return f"{name}[0]"
                    return stream("T", j * 64 + p, 0)
                if r.lag == 0:
                    if mode == "peel":
                        return f"{use(f'C{n}_{r.j}')}[0]"
                    return stream("C", r.j, 0)
                if mode == "peel":
                    return use(val(r.slot))
                return stream("C", r.j, 1)

            for j in reversed(range(B)):
                if not live[j]:
                    continue
                code = c.code[lp.start + j]
                op = ops_[code]
                row = lp.reads[j]
                for p, (r, rule) in enumerate(zip(row, op.partials)):
                    if rule is None or not _takes(tape, r) or \
                            (r.kind == "body" and not live[r.j]):
                        continue
                    if type(rule) is float:
                        partial = repr(rule)
                    elif op.product:
                        partial = value(j, 1 - p, row[1 - p])
                    else:
                        own = f"{use(f'C{n}_{j}')}[0]" if mode == "peel" else stream("C", j, 0)
                        args = ", ".join(value(j, q, rq) for q, rq in enumerate(row))
                        partial = f"R{code}_{p}({own}, {args})"
                    term = _term(partial, f"a{n}_{j}")
                    if r.kind == "fixed":
                        out_lines.append(f"{ind}g{r.slot} = g{r.slot} + {term}")
                    elif r.lag == 0:
                        out_lines.append(f"{ind}a{n}_{r.j} = a{n}_{r.j} + {term}")
                    elif mode == "peel":
                        before = len(lines)
                        add(r.slot, term, ind)
                        out_lines.append(lines.pop(before))
                    else:
                        begun = r.j in fresh
                        fresh.add(r.j)
                        out_lines.append(f"{ind}n{n}_{r.j} = "
                                         f"{f'n{n}_{r.j}' if begun else '0.0'} + {term}")
            if mode == "loop":
                for j in range(B):
                    if live[j]:
                        out_lines.append(f"{ind}a{n}_{j} = {f'n{n}_{j}' if j in fresh else '0.0'}")
            return out_lines

        inner = body("loop", "        ")
        sources = []
        for (what, ident, shift), name in streams.items():
            if what == "T":
                tname = inf["tables"][ident // 64, ident % 64]
                if tname not in ns:
                    use(tname)
                src = tname
            else:
                src = use(f"C{n}_{ident}")
            sources.append(f"islice(reversed({src}), {shift}, {count - 1 + shift})")
        names = list(streams.values())
        if not names:
            lines.append(f"    for _ in range({count - 1}):")
        elif len(names) == 1:
            lines.append(f"    for {names[0]} in {sources[0]}:")
        else:
            lines.append(f"    for {', '.join(names)} in zip({', '.join(sources)}):")
        lines += inner or ["        pass"]
        lines += body("peel", "    ")
    grads = ", ".join(f"g{i}" if i in started else "0.0" for i in range(tape.n_in))
    lines.append(f"    return [{grads}]")
    return lines, reads


def _natural(name: str) -> tuple[str, int]:
    head = name.rstrip("0123456789")
    return head, int(name[len(head):] or 0)


def _takes(tape: Tape, r: Read) -> bool:
    """Whether the input a Read names takes a gradient (tables never do)."""
    return r.kind == "body" or (r.kind == "fixed" and tape.takes_gradient(r.slot))


def _expr(op: Any, code: int, args: list[str]) -> str:
    """op applied to the arguments' names, as Python."""
    infix = _INFIX.get(op.forward) if len(args) == 2 else None
    if infix is not None:
        return f"{args[0]} {infix} {args[1]}"
    if op.forward is operator.neg and len(args) == 1:
        return f"-{args[0]}"
    return f"F{code}({', '.join(args)})"


def _term(partial: str, g: str) -> str:
    """partial · g, the 1s left out (exact: 1.0·g is g, −1.0·g is −g)."""
    if partial == "1.0":
        return g
    if partial == "-1.0":
        return f"-{g}"
    return f"{partial} * {g}"


def _checked(tape: Tape, loops: list[Loop]) -> set[int]:
    """The equations' slots a replay checks for being finite: those no op reads that spreads
    a value that is not finite into its result (+, −, ·), itself checked or so read."""
    c = tape.columns
    base, m = tape.n_leaves, len(c.code)
    spreads = [op.forward in _SPREADS for op in c.ops]
    covered = bytearray(tape.n_slots)
    loop_at = {lp.stop - 1: lp for lp in loops}  # a loop is met at its last equation
    out: set[int] = set()
    k = m - 1
    while k >= 0:
        lp = loop_at.get(k)
        if lp is None:
            if not covered[base + k]:
                out.add(base + k)
            if spreads[c.code[k]]:
                for p in c.inputs(k):
                    covered[p] = 1
            k -= 1
            continue
        # A body equation read by a spreading one of the body (this iteration or the next)
        # is checked through it, and so on up to the last iteration, which is checked whole.
        B = lp.body
        body_cov = [False] * B
        for j, row in enumerate(lp.reads):
            if spreads[c.code[lp.start + j]]:
                for r in row:
                    if r.kind == "body":
                        body_cov[r.j] = True
        for j in range(B):
            if not body_cov[j]:
                out.add(lp.slot(base, j, 0))
        for j, row in enumerate(lp.reads):
            if spreads[c.code[lp.start + j]]:
                for r in row:
                    if r.kind == "fixed":
                        covered[r.slot] = 1
                    elif r.kind == "body" and r.lag == 1:
                        covered[r.slot] = 1
        k = lp.start - 1
    return out


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

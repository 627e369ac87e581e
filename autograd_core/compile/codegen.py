"""Generated code: a tape turned into straight-line Python over floats — one statement per
equation forward, one per gradient term backward — exec'd once, so a replay is two function
calls with no per-equation dispatch. The source holds only our own text: slots are named by
index (v12, g12), numbers by repr, and each op's functions are reached by index (F3, R3_0)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .execute import FloatExecutor
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

"""Coercions and messages in the user's syntax: `as_real` for every number that enters, and the
errors of a forward or backward step that name the op as written and the values it met.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .ops import Op

_finite = math.isfinite


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


def _number(x: float, infix: bool) -> str:
    # (-8.0) ** 0.5, never -8.0 ** 0.5, which Python reads as -(8.0 ** 0.5)
    text = repr(x)
    return f"({text})" if infix and text.startswith("-") else text


def written_call(op: Op, values: tuple[float, ...]) -> str:
    """The op as the user wrote it, at these inputs: `0.0 ** -1.0`, `log(-1.0)`."""
    infix = not op.syntax.startswith(f"{op.name}(")
    return op.written(*(_number(v, infix) for v in values))


def forward_error(op: Op, values: tuple[float, ...], err: Exception | None) -> Exception:
    """The error for a bad input: names the op as written, the values and where it is defined."""
    call = written_call(op, values)
    if err is None or isinstance(err, OverflowError):
        return OverflowError(f"{call} overflows a float (|result| > 1.8e308)")
    return type(err)(f"{call} is undefined: {op.defined or err}")


def backward_error(op: Op, values: tuple[float, ...], err: Exception) -> Exception:
    """The error for a partial that cannot be evaluated at these inputs."""
    return type(err)(f"backward through {written_call(op, values)}: the derivative is "
                     f"undefined there ({op.defined or err})")


def checked_result(op: Op, values: tuple[float, ...], data: Any) -> float:
    """A forward result that is not a finite float: an overflow, an int, or a broken record."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"op record {op.name!r}: forward returned {data!r}, not a real number")
    try:
        data = float(data)
    except OverflowError:
        raise forward_error(op, values, None) from None
    if not _finite(data):  # from finite inputs: an overflow
        raise forward_error(op, values, None)
    return data


def check_call(op: Any, n: int) -> None:
    """Refuse anything but an op record and a wrong number of inputs."""
    if not isinstance(op, Op):
        raise TypeError(f"apply needs an op record (autograd_core.Op), got {op!r}")
    if n != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} input{'s' * (op.arity > 1)} "
                        f"({', '.join(op.inputs)}), got {n}")


def checked_partial(op: Op, i: int, d: Any) -> Any:
    """A partial a rule returned that is not a float or a Value: named with the record."""
    raise TypeError(f"op record {op.name!r}: the partial ∂f/∂{op.inputs[i]} returned "
                    f"{type(d).__name__}: {d!r}, not a real number")


def checked_cotangents(op: Op, values: tuple[float, ...], g: Any, cts: Any,
                       takes: list[bool], graph: type | None) -> tuple[Any, ...]:
    """A custom rule's result, checked: one finite number (or, for `graph`, a Value) per input;
    None where an input takes no gradient."""
    call = written_call(op, values)
    g = getattr(g, "_data", g)  # a Value's number (create_graph): the message shows numbers
    n = op.arity
    if not isinstance(cts, (tuple, list)) or len(cts) != n:
        raise TypeError(f"op record {op.name!r}: its vjp must return a tuple of {n} "
                        f"cotangent{'s' * (n > 1)}, one per input ({', '.join(op.inputs)}); "
                        f"at {call} with g = {g!r} it returned {cts!r}")
    checked = []
    for name, c, take in zip(op.inputs, cts, takes):
        if c is not None and not (graph is not None and isinstance(c, graph)):
            if hasattr(c, "_data") and graph is None:  # a Value a float rule closed over
                c = c._data
            if isinstance(c, bool) or not isinstance(c, numbers.Real):
                raise TypeError(f"op record {op.name!r}: its vjp returned {type(c).__name__}: "
                                f"{c!r} for {name} at {call} with g = {g!r}, not a real number")
            c = float(c)
            if not _finite(c):
                raise ValueError(f"op record {op.name!r}: its vjp returned {c!r} for {name} at "
                                 f"{call} with g = {g!r}, not a finite number")
        checked.append(c if take else None)
    return tuple(checked)


class ReadsRefused:
    """The trace while a custom rule runs on Values (create_graph): reading a Value's number
    (float(x), x.data, math.cos(x)) raises, since the next derivative would take it for a
    constant; comparisons pick a branch, as where() does, and pass."""

    __slots__ = ("op",)

    def __init__(self, op: Op) -> None:
        self.op = op

    def read(self, v: Any, how: str) -> None:
        raise TypeError(f"op record {self.op.name!r}: its vjp read the number of {v!r} ({how}) "
                        f"while running on Values for create_graph=True, so the next derivative "
                        f"would take it for a constant and come out wrong. Write the rule with "
                        f"Value arithmetic (x * x, x.exp(), where(...)), or differentiate once")

    def compared(self, *args: Any) -> None:
        pass

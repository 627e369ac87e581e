"""The rule language: a local partial is arithmetic, the table's ops, `where(cond, yes, no)` and
`nonzero(x)`. One rule runs on floats (backward), Values (higher order), numpy arrays (compiled
replay) and `Symbol`s (the formulas in listings, captions and docstrings).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

# How each kind of argument runs an op record: numbers use the record's forward, arrays its array
# forward, symbols write it down. The engine adds Value (apply) when it is imported: the op
# table sits below the engine, so it cannot name Value itself.
_INTERPRETERS: dict[type, Callable[..., Any]] = {}


def interpreter(kind: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register how arguments of `kind` (and its subclasses) run an op: `f(op, *args)`."""
    def register(run: Callable[..., Any]) -> Callable[..., Any]:
        _INTERPRETERS[kind] = run
        return run
    return register


def run(op: Any, args: tuple[Any, ...]) -> Any:
    """op applied to args, by the interpreter of the first argument that is not a number."""
    for a in args:
        kind = type(a)
        if kind is float or kind is int:
            continue
        for cls in kind.__mro__:
            found = _INTERPRETERS.get(cls)
            if found is not None:
                return found(op, *args)
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, float, np.number)):
            raise TypeError(f"{op.name}: cannot run on {kind.__name__}: {a!r}")
    return op.forward(*args)


def _pick(branch: Any) -> Any:
    return branch() if callable(branch) else branch


def where(cond: Any, yes: Any, no: Any) -> Any:
    """yes where cond holds, else no. A branch that may be undefined where it is not taken
    (x ** (y − 1) at x = 0) is written as a function of no arguments: numbers and Values
    evaluate only the branch taken; arrays evaluate both, with errors silenced, then choose."""
    if type(cond) is np.ndarray:
        with np.errstate(all="ignore"):
            return np.where(cond, _pick(yes), _pick(no))
    if isinstance(cond, Symbol):
        return _written_where(cond, _pick(yes), _pick(no))
    return _pick(yes) if cond else _pick(no)  # bool, float, or a Value (its data ≠ 0)


def nonzero(x: Any) -> Any:
    """[x ≠ 0], on every backend (a Value compares by identity, so `x != 0` cannot say it)."""
    if type(x) is np.ndarray:
        return x != 0.0
    if isinstance(x, Symbol):
        return Symbol(f"{x.text} ≠ 0", _COMPARISON, condition=True)
    return bool(x)


# --- symbols: a rule written down ---------------------------------------------------------------

# Precedence, loosest first: a written expression is parenthesised where it binds looser than
# the place it is put.
_CHOICE, _OR, _AND, _COMPARISON, _SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(9)
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _number(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


class Symbol:
    """A rule's argument or result written as text: `out`, `1 − out²`, `[x > 0]`."""

    __slots__ = ("text", "precedence", "condition")

    def __init__(self, text: str, precedence: int = _ATOM, *, condition: bool = False) -> None:
        self.text = text
        self.precedence = precedence
        self.condition = condition

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        raise TypeError("a rule branches with where(cond, yes, no), not if/and/or/not, so that "
                        "it also runs on arrays and symbols")

    def inside(self, precedence: int) -> str:
        """The text, in brackets if it binds looser than `precedence`."""
        return f"({self.text})" if self.precedence < precedence else self.text

    # arithmetic: the result is a new symbol, simplified only where the reading is unchanged
    def __add__(self, other: Any) -> Symbol:
        return _infix(self, " + ", other, _SUM)

    def __radd__(self, other: Any) -> Symbol:
        return _infix(other, " + ", self, _SUM)

    def __sub__(self, other: Any) -> Symbol:
        return _infix(self, " − ", other, _SUM, right=_PRODUCT)

    def __rsub__(self, other: Any) -> Symbol:
        return _infix(other, " − ", self, _SUM, right=_PRODUCT)

    def __mul__(self, other: Any) -> Symbol:
        return _product(self, other)

    def __rmul__(self, other: Any) -> Symbol:
        return _product(other, self)

    def __truediv__(self, other: Any) -> Symbol:
        return _infix(self, "/", other, _PRODUCT, right=_UNARY)

    def __rtruediv__(self, other: Any) -> Symbol:
        return _infix(other, "/", self, _PRODUCT, right=_UNARY)

    def __pow__(self, other: Any) -> Symbol:
        return _infix(self, " ** ", other, _POWER, left=_ATOM)

    def __rpow__(self, other: Any) -> Symbol:
        return _infix(other, " ** ", self, _POWER, left=_ATOM)

    def __neg__(self) -> Symbol:
        return Symbol(f"−{self.inside(_UNARY)}", _UNARY)

    def __pos__(self) -> Symbol:
        return self

    def __abs__(self) -> Symbol:
        return Symbol(f"|{self.text}|")

    # comparisons and logic: conditions, written as the slides write them
    def __lt__(self, other: Any) -> Symbol:
        return _compare(self, "<", other)

    def __le__(self, other: Any) -> Symbol:
        return _compare(self, "≤", other)

    def __gt__(self, other: Any) -> Symbol:
        return _compare(self, ">", other)

    def __ge__(self, other: Any) -> Symbol:
        return _compare(self, "≥", other)

    def __and__(self, other: Any) -> Symbol:
        return _infix(self, " and ", other, _AND)

    def __rand__(self, other: Any) -> Symbol:
        return _infix(other, " and ", self, _AND)

    def __or__(self, other: Any) -> Symbol:
        return _infix(self, " or ", other, _OR)

    def __ror__(self, other: Any) -> Symbol:
        return _infix(other, " or ", self, _OR)


def symbol(x: Any) -> Symbol:
    """x as a Symbol: a number is written as Python writes it, without a needless `.0`."""
    if isinstance(x, Symbol):
        return x
    if isinstance(x, (int, float)):
        return Symbol(_number(x)) if x >= 0 else Symbol(f"−{_number(-x)}", _UNARY)
    raise TypeError(f"a rule produced {type(x).__name__}: {x!r}, not a number or a symbol")


def _infix(a: Any, sign: str, b: Any, precedence: int, *, left: int | None = None,
           right: int | None = None) -> Symbol:
    a, b = symbol(a), symbol(b)
    condition = sign in (" and ", " or ")
    return Symbol(f"{a.inside(precedence if left is None else left)}{sign}"
                  f"{b.inside(precedence if right is None else right + 0)}", precedence,
                  condition=condition)


def _product(a: Any, b: Any) -> Symbol:
    if isinstance(a, (int, float)) and a == 1.0:
        return symbol(b)
    if isinstance(b, (int, float)) and b == 1.0:
        return symbol(a)
    a, b = symbol(a), symbol(b)
    if a.text == b.text:  # out·out is written out²
        return Symbol(f"{a.inside(_ATOM)}²", _POWER)
    if b.precedence == _UNARY:  # y·(−x), never y·−x
        return Symbol(f"{a.inside(_PRODUCT)}·({b.text})", _PRODUCT)
    return Symbol(f"{a.inside(_PRODUCT)}·{b.inside(_UNARY)}", _PRODUCT)


def _compare(a: Any, sign: str, b: Any) -> Symbol:
    return Symbol(f"{symbol(a).inside(_SUM)} {sign} {symbol(b).inside(_SUM)}", _COMPARISON,
                  condition=True)


def _written_where(cond: Symbol, yes: Any, no: Any) -> Symbol:
    """`[cond]` for an indicator (1 where cond holds, else 0); `yes if cond else no` otherwise."""
    if not cond.condition:
        cond = nonzero(cond)
    if isinstance(yes, (int, float)) and isinstance(no, (int, float)):
        if (yes, no) == (1.0, 0.0):
            return Symbol(f"[{cond.text}]")
        if (yes, no) == (0.0, 1.0):
            return Symbol(f"[not ({cond.text})]")
    yes, no = symbol(yes), symbol(no)
    return Symbol(f"{yes.inside(_OR)} if {cond.text} else {no.inside(_CHOICE)}", _CHOICE)


@interpreter(Symbol)
def _write(op: Any, *args: Any) -> Symbol:
    """An op on symbols: written in the user's syntax, its inputs bracketed where they must be."""
    written = [symbol(a) for a in args]
    precedence = _SYNTAX_PRECEDENCE.get(op.syntax.replace("{}", "").strip(), _ATOM)
    if precedence == _ATOM:  # a call, name(...): its arguments need no brackets
        return Symbol(op.written(*(w.text for w in written)))
    return Symbol(op.written(*(w.inside(precedence + 1) for w in written)), precedence)


_SYNTAX_PRECEDENCE = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "**": _POWER}


# --- arrays: the record's array forward, or its forward element by element ---------------------

def or_nan(forward: Callable[..., float], *args: float) -> float:
    """forward(*args), or nan where it raises: a replay turns nan into the scalar error."""
    try:
        return float(forward(*args))
    except (ArithmeticError, ValueError, TypeError):
        return float("nan")


def elementwise(f: Callable[..., float], arity: int) -> Callable[..., np.ndarray]:
    """A scalar function made to run over arrays, one element at a time (nan where undefined)."""
    ufunc = np.frompyfunc(functools.partial(or_nan, f), arity, 1)

    def each(*arrays: Any) -> np.ndarray:
        return np.asarray(ufunc(*arrays), dtype=float)
    return each


@interpreter(np.ndarray)
def _on_arrays(op: Any, *args: Any) -> Any:
    with np.errstate(all="ignore"):  # a domain error is nan or inf, named later by the replay
        if op.array is not None:
            return op.array(*args)
        return elementwise(op.forward, op.arity)(*args)


for _kind in (np.floating, np.integer):
    _INTERPRETERS[_kind] = _on_arrays

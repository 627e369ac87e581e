"""The op table: one record per op — forward, one local-derivative rule per input, gate label,
role in backward, maths doc, where it is defined and its conventions at kinks.

Everything else (Value's methods, backward, higher-order gradients, the stepper, drawings, the
CLI's functions, the table-driven tests) reads these records, from the node that carries one.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import rules
from .rules import nonzero, where

# Roles say what a gate does to the gradient flowing back through it (the slides' names).
DISTRIBUTOR = "distributor"  # passes the upstream gradient to every input unchanged (add)
SWAPPER = "swapper"  # each input gets the upstream gradient times the *other* input (mul)
ROUTER = "router"  # the whole gradient goes to one input, the rest get 0 (max, relu)
SCALER = "scaler"  # multiplies the upstream gradient by a local slope (exp, tanh, ...)
BLOCKER = "blocker"  # passes no gradient at all (step)
CUSTOM = "custom rule"  # a rule of its own maps the upstream gradient to the inputs' (vjp)

# A partial rule: (out, *inputs) -> ∂out/∂(one input), written in the rule language
# (autograd_core.rules: arithmetic, the table's ops, where and nonzero), so the same rule runs on
# floats, Values, arrays and symbols; or a float, for a partial that is the same everywhere (1 for
# each input of +), read without a call; or None, for an input that is a number by definition.
# (Typed Any: engines test `type(rule) is float` in their hot loops, which mypy cannot narrow.)
Rule = Any


@dataclass(frozen=True, eq=False, repr=False)
class Op:
    """One op: out = forward(*inputs); ∂out/∂inputᵢ = partials[i](out, *inputs), or, for a
    custom rule, (ct₀, ct₁, …) = vjp(g, out, *inputs) given the upstream gradient g.

    Each rule is written once, in the rule language, and every consumer evaluates it: backward
    on floats, higher order on Values, replay on arrays, formulas on symbols. A rule that is a
    float is that partial everywhere; None marks an input that is a number by definition (the n
    of xⁿ): it takes no gradient. `array` computes the forward on numpy arrays (JAX's
    impl/lowering split: a second way to compute f, never a second derivative); without it an
    array replay runs `forward` element by element.

    A record with `vjp` (JAX's custom_vjp, PyTorch's Function.backward) has no partials: its
    rule sees the upstream gradient g and returns one cotangent per input (None for an input
    that takes none), what each input's grad gains — clip g, or pass it straight through a
    rounding. Run on Values it gives Values, so it differentiates again when written with
    Value arithmetic. It names its inputs (`inputs=`) instead of writing partials.
    """

    name: str
    label: str  # the gate's symbol in drawings
    role: str  # what the gate does to the gradient (see the role constants above)
    doc: str  # one line of maths defining f: "f = max(0, x)"; the partials are written from rules
    forward: Callable[..., float] = field(kw_only=True)
    partials: tuple[Rule, ...] = field(default=(), kw_only=True)
    test_range: tuple[tuple[float, float], ...] = field(default=(), kw_only=True)  # smooth, finite
    vjp: Callable[..., Any] | None = field(default=None, kw_only=True)  # (g, out, *inputs) -> cts
    array: Callable[..., Any] | None = field(default=None, kw_only=True)  # forward on arrays
    defined: str = field(default="", kw_only=True)  # where f is defined: "log x needs x > 0"
    kink: Callable[..., float] | None = field(default=None, kw_only=True)  # distance to a kink
    convention: str = field(default="", kw_only=True)  # the partials chosen at a kink or edge
    syntax: str = field(default="", kw_only=True)  # as a user writes it: "{} ** {}"
    method: bool = field(default=True, kw_only=True)  # Value gets a method of this name
    inputs: tuple[str, ...] = field(default=(), kw_only=True)  # input names: ("x", "lo", "hi")
    defaults: tuple[float, ...] = field(default=(), kw_only=True)  # for the last inputs
    arity: int = field(init=False)  # number of inputs: one partial rule each
    product: bool = field(init=False)  # out = x·y, read off the rules: ∂/∂x = y, ∂/∂y = x

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise TypeError(f"op record name must be an identifier (a str), got {self.name!r}")
        try:
            n = len(self.partials)
        except TypeError:
            raise TypeError(f"op record {self.name!r}: partials must be a tuple of rules, got "
                            f"{self.partials!r}") from None
        if not n and self.vjp is None:
            raise TypeError(f"op record {self.name!r} needs its derivative: partials=(rule, ...) "
                            f"with one rule per input, or a custom rule vjp=...")
        if self.vjp is not None:
            # One rule per record: partials or a vjp, never both spellings of one derivative.
            if not callable(self.vjp) or n:
                raise TypeError(f"op record {self.name!r}: vjp must be a function (g, out, "
                                f"*inputs) -> cotangents, given instead of partials, got "
                                f"vjp={self.vjp!r}, partials={self.partials!r}")
            n = len(self.inputs) or len(self.test_range)
            if not n:
                raise ValueError(f"op record {self.name!r}: a vjp record names its inputs, "
                                 f"inputs=('x', ...), since it has no partials to count")
            if not self.test_range:
                object.__setattr__(self, "test_range", ((-5.0, 5.0),) * n)
        object.__setattr__(self, "arity", n)
        if not self.inputs:
            object.__setattr__(self, "inputs", ("x", "y", "z")[:n] if n <= 3 else
                               tuple(f"x{i}" for i in range(n)))
        if not self.syntax:
            object.__setattr__(self, "syntax", f"{self.name}({', '.join(['{}'] * n)})")
        if not (len(self.inputs) == len(self.test_range) == n >= 1):
            raise ValueError(f"op record {self.name!r}: {n} {'inputs' if self.vjp else 'partials'}"
                             f", {len(self.inputs)} input names and {len(self.test_range)} test "
                             f"ranges must agree (≥ 1)")
        if not callable(self.forward) or not all(r is None or type(r) is float or callable(r)
                                                 for r in self.partials):
            raise TypeError(f"op record {self.name!r}: forward must be callable, and each "
                            f"partial a callable rule, a float, or None (a constant input)")
        if self.array is not None and not callable(self.array):
            raise TypeError(f"op record {self.name!r}: array must be callable, got {self.array!r}")
        if len(self.defaults) >= n:
            raise ValueError(f"op record {self.name!r}: the first input cannot have a default")
        placeholders = self.syntax.count("{}")
        if placeholders != n:
            raise ValueError(f"op record {self.name!r}: syntax {self.syntax!r} has "
                             f"{placeholders} placeholders for {n} inputs")
        object.__setattr__(self, "product", n == 2 and self.vjp is None and tuple(
            self.partial_written(i) for i in range(2)) == self.inputs[::-1])

    @property
    def constant(self) -> tuple[int, ...]:
        """Inputs that are numbers by definition: no gradient, never checked against one."""
        return tuple(i for i, rule in enumerate(self.partials) if rule is None)

    def partial_written(self, i: int, out: str = "out", inputs: tuple[str, ...] = ()) -> str:
        """∂out/∂input i as a formula, the rule run on symbols: `1 − out²`, `[x > 0]`.

        A rule that cannot run on symbols (a user's rule that branches with `if`) is written
        ∂name/∂input; a custom rule (vjp) has no partial to write: "".
        """
        if self.vjp is not None:
            return ""
        rule = self.partials[i]
        if rule is None:
            return ""
        if type(rule) is float:
            return str(rules.symbol(rule))
        names = inputs or self.inputs
        try:
            return str(rules.symbol(rule(rules.Symbol(out), *map(rules.Symbol, names))))
        except Exception:  # noqa: BLE001 — any rule of a user's that symbols cannot run
            return f"∂{self.name}/∂{names[i]}"

    @property
    def formula(self) -> str:
        """f and its partials, written from the rules: "f = max(0, x); ∂f/∂x = [x > 0]"."""
        if "∂" in self.doc:  # a record of a user's that writes its partials itself
            return self.doc
        if self.vjp is not None:
            return f"{self.doc}; backward: a custom rule of the upstream gradient g (vjp)"
        parts = [f"∂f/∂{name} = {self.partial_written(i, 'f')}"
                 for i, name in enumerate(self.inputs) if self.partials[i] is not None]
        return f"{self.doc}; {', '.join(parts)}"

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.written(*self.inputs)})"

    # A record is immutable and holds functions: copies share it, and pickle stores a table
    # record as a reference to its name in this module (MUL for "mul").
    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Op:
        return self

    def __reduce__(self) -> str:
        if globals().get(self.name.upper()) is not self:
            raise TypeError(f"op record {self.name!r} is not one of autograd_core.ops' records, "
                            f"so it does not pickle (its rules are functions of yours); "
                            f"detach() the nodes it made, or rebuild the graph after loading")
        return self.name.upper()

    def written(self, *args: str) -> str:
        """The op as the user writes it, with args in place: `written("x", "2")` → "x ** 2"."""
        return self.syntax.format(*args)

    def __call__(self, *args: Any) -> Any:
        """On numbers, the forward; on Values a new graph node; on arrays the array forward;
        on symbols the op written down."""
        return rules.run(self, args)


def _power(x: float, y: float) -> float:
    # float ** float silently returns a complex for (-8) ** (1/3); math.pow raises instead.
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0 cannot be raised to a negative power")
    return math.pow(x, y)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: σ(x) = 1/(1+e^-x) = e^x/(1+e^x).
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x: float) -> float:
    # log(1 + eˣ) = max(x, 0) + log(1 + e^-|x|): no overflow for large x, no loss for small.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _clamp(x: float, lo: float, hi: float) -> float:
    if lo > hi:
        raise ValueError(f"lo = {lo!r} is above hi = {hi!r}")
    return min(max(x, lo), hi)


def _tan_pole(x: float) -> float:
    return abs(math.cos(x))


# Array forwards for replay: each mirrors its scalar twin element for element (the same branch
# at ties), and gives nan where the scalar one raises, so the replay can name the error.

def _sigmoid_array(x: Any) -> Any:
    z = np.exp(-np.abs(x))  # the scalar's two branches: e^-x for x ≥ 0, e^x below
    return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def _clamp_array(x: Any, lo: Any, hi: Any) -> Any:
    above = np.where(lo > x, lo, x)  # Python's max(x, lo) keeps x unless lo is larger
    return np.where(lo > hi, np.nan, np.where(hi < above, hi, above))


# Rules branch only with where(cond, yes, no) and test for zero with nonzero(x): `if`, `and` and
# `x == 0` would not run on arrays and symbols, and a Value compares by identity.

# --- binary arithmetic ---------------------------------------------------------------------

ADD = Op("add", "+", DISTRIBUTOR, "f = x + y",
         forward=operator.add, partials=(1.0, 1.0), array=np.add,
         test_range=((-5.0, 5.0), (-5.0, 5.0)), syntax="{} + {}", method=False)

SUB = Op("sub", "−", DISTRIBUTOR, "f = x − y",
         forward=operator.sub, partials=(1.0, -1.0), array=np.subtract,
         test_range=((-5.0, 5.0), (-5.0, 5.0)), syntax="{} - {}", method=False)

MUL = Op("mul", "×", SWAPPER, "f = x·y",
         forward=operator.mul, partials=(lambda out, x, y: y, lambda out, x, y: x),
         array=np.multiply,
         test_range=((-5.0, 5.0), (-5.0, 5.0)), syntax="{} * {}", method=False)

# The test range keeps y away from 0 through `kink`, the distance to the pole.
DIV = Op("div", "÷", SCALER, "f = x / y",
         forward=operator.truediv,
         partials=(lambda out, x, y: 1.0 / y, lambda out, x, y: -out / y), array=np.divide,
         test_range=((-5.0, 5.0), (-5.0, 5.0)), defined="x / y needs y ≠ 0",
         kink=lambda x, y: abs(y), syntax="{} / {}", method=False)

# x ** n with n a number: no gradient for n. The rule calls POWC again, so second derivatives
# stay defined for negative x; n = 0 is a constant function, slope 0 everywhere (even at x = 0,
# where n·x⁻¹ would divide by zero).
POWC: Op = Op("powc", "xⁿ", SCALER, "f = xⁿ (n a number)",
              forward=_power,
              partials=(lambda out, x, n: where(nonzero(n), lambda: n * POWC(x, n - 1), 0.0),
                        None),
              array=np.power,
              test_range=((0.2, 4.0), (-3.0, 3.0)),
              defined="x ** n needs x > 0, or an integer n when x < 0, or n ≥ 0 when x = 0; "
                      "its slope at x = 0 needs n = 0 or n ≥ 1",
              convention="∂(x ** 0)/∂x = 0 everywhere, x = 0 included",
              syntax="{} ** {}", method=False, inputs=("x", "n"))

# x ** y with y a Value: ∂/∂y = xʸ·ln x is real only for x > 0; at x = 0 (y > 0) xʸ is 0 on a
# whole side of y, and PyTorch takes 0 there. At x = y = 0, x⁰ = 1 is flat in x: ∂/∂x = 0 (the
# rule y·xʸ⁻¹ would divide by zero); elsewhere that rule stays a graph in y, for ∂²/∂x∂y.
POW: Op = Op("pow", "xʸ", SCALER, "f = xʸ",
             forward=_power,
             partials=(lambda out, x, y: where(nonzero(x) | nonzero(y),
                                               lambda: y * POW(x, y - 1), 0.0),
                       lambda out, x, y: where(nonzero(x) | (y <= 0), lambda: out * LOG(x), 0.0)),
             array=np.power,
             test_range=((0.2, 4.0), (-3.0, 3.0)),
             defined="x ** y needs x > 0, or an integer y when x < 0 (then y has no gradient)",
             convention="∂/∂x = 0 at x = y = 0; ∂/∂y = 0 when x = 0 and y > 0 (as PyTorch)",
             syntax="{} ** {}", method=False)

# Ties go to x: the whole gradient is routed to exactly one input, never 1 to both.
MAX = Op("max", "max", ROUTER, "f = max(x, y)",
         forward=max,
         partials=(lambda out, x, y: where(x >= y, 1.0, 0.0),
                   lambda out, x, y: where(x < y, 1.0, 0.0)),
         array=lambda x, y: np.where(y > x, y, x),  # max(x, y) keeps x unless y is larger
         test_range=((-5.0, 5.0), (-5.0, 5.0)), kink=lambda x, y: abs(x - y),
         convention="a tie routes the whole gradient to x")

MIN = Op("min", "min", ROUTER, "f = min(x, y)",
         forward=min,
         partials=(lambda out, x, y: where(x <= y, 1.0, 0.0),
                   lambda out, x, y: where(x > y, 1.0, 0.0)),
         array=lambda x, y: np.where(y < x, y, x),
         test_range=((-5.0, 5.0), (-5.0, 5.0)), kink=lambda x, y: abs(x - y),
         convention="a tie routes the whole gradient to x")

# leaky_relu(x, a) = x for x > 0, a·x otherwise; the slope a is an input, so it can be learned.
LEAKY_RELU = Op("leaky_relu", "lrelu", ROUTER, "f = x if x > 0 else slope·x",
                forward=lambda x, a: x if x > 0.0 else a * x,
                partials=(lambda out, x, a: where(x > 0, 1.0, a),
                          lambda out, x, a: where(x > 0, 0.0, x)),
                array=lambda x, a: np.where(x > 0.0, x, a * x),
                test_range=((-5.0, 5.0), (0.0, 0.5)), kink=lambda x, a: abs(x),
                convention="x = 0 takes the left branch, like relu: ∂f/∂x = slope",
                inputs=("x", "slope"), defaults=(0.01,))

# --- three inputs ----------------------------------------------------------------------------

# As PyTorch's clamp: x at either bound still passes its gradient; a bound gets it only when x
# is beyond it.
CLAMP = Op("clamp", "clamp", ROUTER, "f = min(max(x, lo), hi)",
           forward=_clamp,
           partials=(lambda out, x, lo, hi: where((lo <= x) & (x <= hi), 1.0, 0.0),
                     lambda out, x, lo, hi: where(x < lo, 1.0, 0.0),
                     lambda out, x, lo, hi: where(x > hi, 1.0, 0.0)),
           array=_clamp_array,
           test_range=((-5.0, 5.0), (-3.0, -1.0), (1.0, 3.0)),
           defined="clamp(x, lo, hi) needs lo ≤ hi",
           kink=lambda x, lo, hi: min(abs(x - lo), abs(x - hi)),
           convention="x on a bound routes the gradient to x", inputs=("x", "lo", "hi"))

# --- unary -------------------------------------------------------------------------------

# +x: a new node equal to x. `grad` wraps each argument that is already a Value in one, so an
# inner derivative is taken with respect to its own input, never to the outer one it came from.
POS = Op("pos", "+x", DISTRIBUTOR, "f = +x",
         forward=operator.pos, partials=(1.0,), array=np.positive, test_range=((-5.0, 5.0),),
         syntax="+{}", method=False)

NEG = Op("neg", "−x", SCALER, "f = −x",
         forward=operator.neg, partials=(-1.0,), array=np.negative, test_range=((-5.0, 5.0),),
         syntax="-{}", method=False)

ABS = Op("abs", "|x|", SCALER, "f = |x|",
         forward=abs, partials=(lambda out, x: where(x > 0, 1.0, where(x < 0, -1.0, 0.0)),),
         array=np.abs, test_range=((-5.0, 5.0),), kink=lambda x: abs(x),
         convention="∂f/∂x = 0 at x = 0 (the subgradient PyTorch and JAX pick)")

EXP = Op("exp", "exp", SCALER, "f = eˣ",
         forward=math.exp, partials=(lambda out, x: out,), array=np.exp,
         test_range=((-5.0, 5.0),))

EXPM1 = Op("expm1", "expm1", SCALER, "f = eˣ − 1",
           forward=math.expm1, partials=(lambda out, x: out + 1.0,), array=np.expm1,
           test_range=((-5.0, 5.0),))

LOG: Op = Op("log", "log", SCALER, "f = ln x",
             forward=math.log, partials=(lambda out, x: 1.0 / x,), array=np.log,
             test_range=((0.1, 10.0),), defined="log x needs x > 0")

LOG1P = Op("log1p", "log1p", SCALER, "f = ln(1 + x)",
           forward=math.log1p, partials=(lambda out, x: 1.0 / (1.0 + x),), array=np.log1p,
           test_range=((-0.9, 10.0),), defined="log1p x needs x > −1")

SQRT = Op("sqrt", "√", SCALER, "f = √x",
          forward=math.sqrt, partials=(lambda out, x: 1.0 / (2.0 * out),), array=np.sqrt,
          test_range=((0.1, 10.0),), defined="√x needs x ≥ 0, and its derivative x > 0")

SIGMOID = Op("sigmoid", "σ", SCALER, "f = σ(x) = 1/(1+e⁻ˣ)",
             forward=_sigmoid, partials=(lambda out, x: out * (1.0 - out),),
             array=_sigmoid_array, test_range=((-5.0, 5.0),))

SOFTPLUS = Op("softplus", "softplus", SCALER, "f = ln(1 + eˣ)",
              forward=_softplus, partials=(lambda out, x: SIGMOID(x),),
              array=lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
              test_range=((-5.0, 5.0),))

TANH = Op("tanh", "tanh", SCALER, "f = tanh x",
          forward=math.tanh, partials=(lambda out, x: 1.0 - out * out,), array=np.tanh,
          test_range=((-3.0, 3.0),))

RELU = Op("relu", "relu", ROUTER, "f = max(0, x)",
          forward=lambda x: x if x > 0.0 else 0.0,
          partials=(lambda out, x: where(x > 0, 1.0, 0.0),),
          array=lambda x: np.where(x > 0.0, x, 0.0),
          test_range=((-5.0, 5.0),), kink=lambda x: abs(x),
          convention="∂f/∂x = 0 at x = 0 (the flat side), as in PyTorch")

# The slides' perceptron: step(0) = 0, and the gradient is 0 everywhere, so it cannot learn.
STEP = Op("step", "step", BLOCKER, "f = [x > 0]",
          forward=lambda x: 1.0 if x > 0.0 else 0.0, partials=(0.0,),
          array=lambda x: np.where(x > 0.0, 1.0, 0.0),
          test_range=((-5.0, 5.0),), kink=lambda x: abs(x),
          convention="step(0) = 0; the slope is 0 everywhere, the jump included")

SIN = Op("sin", "sin", SCALER, "f = sin x",
         forward=math.sin, partials=(lambda out, x: COS(x),), array=np.sin,
         test_range=((-5.0, 5.0),))

COS: Op = Op("cos", "cos", SCALER, "f = cos x",
             forward=math.cos, partials=(lambda out, x: -SIN(x),), array=np.cos,
             test_range=((-5.0, 5.0),))

TAN = Op("tan", "tan", SCALER, "f = tan x",
         forward=math.tan, partials=(lambda out, x: 1.0 + out * out,), array=np.tan,
         test_range=((-1.3, 1.3),), defined="tan x needs cos x ≠ 0", kink=_tan_pole)

ATAN = Op("atan", "atan", SCALER, "f = atan x",
          forward=math.atan, partials=(lambda out, x: 1.0 / (1.0 + x * x),), array=np.arctan,
          test_range=((-5.0, 5.0),))

ASIN = Op("asin", "asin", SCALER, "f = asin x",
          forward=math.asin, partials=(lambda out, x: 1.0 / SQRT(1.0 - x * x),),
          array=np.arcsin,
          test_range=((-0.9, 0.9),), defined="asin x needs −1 ≤ x ≤ 1, and its derivative |x| < 1",
          kink=lambda x: 1.0 - abs(x))

ACOS = Op("acos", "acos", SCALER, "f = acos x",
          forward=math.acos, partials=(lambda out, x: -1.0 / SQRT(1.0 - x * x),),
          array=np.arccos,
          test_range=((-0.9, 0.9),), defined="acos x needs −1 ≤ x ≤ 1, and its derivative |x| < 1",
          kink=lambda x: 1.0 - abs(x))

SINH: Op = Op("sinh", "sinh", SCALER, "f = sinh x",
              forward=math.sinh, partials=(lambda out, x: COSH(x),), array=np.sinh,
              test_range=((-5.0, 5.0),))

COSH: Op = Op("cosh", "cosh", SCALER, "f = cosh x",
              forward=math.cosh, partials=(lambda out, x: SINH(x),), array=np.cosh,
              test_range=((-5.0, 5.0),))

OPS: tuple[Op, ...] = (ADD, SUB, MUL, DIV, POWC, POW, MAX, MIN, LEAKY_RELU, CLAMP, POS, NEG, ABS,
                       EXP, EXPM1, LOG, LOG1P, SQRT, SIGMOID, SOFTPLUS, TANH, RELU, STEP, SIN,
                       COS, TAN, ATAN, ASIN, ACOS, SINH, COSH)
"""Every op of the table: what Value, the CLI and the table-driven tests are built from."""

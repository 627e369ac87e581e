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

# Roles say what a gate does to the gradient flowing back through it (the slides' names).
DISTRIBUTOR = "distributor"  # passes the upstream gradient to every input unchanged (add)
SWAPPER = "swapper"  # each input gets the upstream gradient times the *other* input (mul)
ROUTER = "router"  # the whole gradient goes to one input, the rest get 0 (max, relu)
SCALER = "scaler"  # multiplies the upstream gradient by a local slope (exp, tanh, ...)
BLOCKER = "blocker"  # passes no gradient at all (step)

# A partial rule: (out, *inputs) -> ∂out/∂(one input), on floats or on Values; or a float, for
# a partial that is the same everywhere (1 for each input of +), read without a call; or None,
# for an input that is a number by definition. (Typed Any: engines test `type(rule) is float`
# in their hot loops, which mypy cannot narrow.)
Rule = Any


@dataclass(frozen=True, eq=False, repr=False)
class Op:
    """One op: out = forward(*inputs); ∂out/∂inputᵢ = partials[i](out, *inputs).

    Each rule is written once with arithmetic that works on floats (plain backward) and on
    Values (create_graph=True), so higher-order derivatives come from the same rule; a rule
    that is a float is that partial everywhere. A rule of None marks an input that is a number
    by definition (the n of xⁿ): it takes no gradient.
    """

    name: str
    label: str  # the gate's symbol in drawings
    role: str  # what the gate does to the gradient (see the role constants above)
    doc: str  # one line of maths: f and its partials
    forward: Callable[..., float] = field(kw_only=True)
    partials: tuple[Rule, ...] = field(kw_only=True)
    test_range: tuple[tuple[float, float], ...] = field(kw_only=True)  # per input: smooth, finite
    defined: str = field(default="", kw_only=True)  # where f is defined: "log x needs x > 0"
    kink: Callable[..., float] | None = field(default=None, kw_only=True)  # distance to a kink
    convention: str = field(default="", kw_only=True)  # the partials chosen at a kink or edge
    syntax: str = field(default="", kw_only=True)  # as a user writes it: "{} ** {}"
    method: bool = field(default=True, kw_only=True)  # Value gets a method of this name
    inputs: tuple[str, ...] = field(default=(), kw_only=True)  # input names: ("x", "lo", "hi")
    defaults: tuple[float, ...] = field(default=(), kw_only=True)  # for the last inputs
    # For a compiled program's replay (autograd_core.compile), on numpy arrays of many nodes
    # at once: the forward, and one partial rule per input as in `partials` (a callable
    # (out, *inputs) -> array, a float, or None where `partials` has None). Domain errors
    # come out as nan or inf, which the replay turns into the scalar forward's error. A
    # record without them still replays, through its scalar rules, one element at a time.
    vforward: Callable[..., Any] | None = field(default=None, kw_only=True)
    vpartials: tuple[Rule, ...] | None = field(default=None, kw_only=True)
    # How a program's listing writes each partial: "{y}" for ∂(x·y)/∂x, with the input names
    # and {out}; a float partial needs none. Missing: the listing writes ∂name/∂input.
    partials_written: tuple[str, ...] = field(default=(), kw_only=True)
    # out = x·y (∂out/∂x = y, ∂out/∂y = x): a replay may take a sum of such terms over every
    # pair of weights and inputs (a layer) back through two matrix products.
    product: bool = field(default=False, kw_only=True)
    arity: int = field(init=False)  # number of inputs: one partial rule each

    def __post_init__(self) -> None:
        n = len(self.partials)
        object.__setattr__(self, "arity", n)
        if not self.inputs:
            object.__setattr__(self, "inputs", ("x", "y", "z")[:n] if n <= 3 else
                               tuple(f"x{i}" for i in range(n)))
        if not self.syntax:
            object.__setattr__(self, "syntax", f"{self.name}({', '.join(['{}'] * n)})")
        if not (len(self.inputs) == len(self.test_range) == n >= 1):
            raise ValueError(f"op record {self.name!r}: {n} partials, {len(self.inputs)} input "
                             f"names and {len(self.test_range)} test ranges must agree (≥ 1)")
        if not callable(self.forward) or not all(r is None or type(r) is float or callable(r)
                                                 for r in self.partials):
            raise TypeError(f"op record {self.name!r}: forward must be callable, and each "
                            f"partial a callable rule, a float, or None (a constant input)")
        if len(self.defaults) >= n:
            raise ValueError(f"op record {self.name!r}: the first input cannot have a default")
        if self.vpartials is not None and (
                len(self.vpartials) != n or
                [r is None for r in self.vpartials] != [r is None for r in self.partials]):
            raise ValueError(f"op record {self.name!r}: vpartials needs one rule per input, "
                             f"None exactly where partials has None")
        if self.product and n != 2:
            raise ValueError(f"op record {self.name!r}: a product has two inputs, not {n}")
        if self.partials_written and len(self.partials_written) != n:
            raise ValueError(f"op record {self.name!r}: partials_written needs one per input")

    @property
    def constant(self) -> tuple[int, ...]:
        """Inputs that are numbers by definition: no gradient, never checked against one."""
        return tuple(i for i, rule in enumerate(self.partials) if rule is None)

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
        """On numbers, the forward; if any argument is a Value, a new graph node."""
        for a in args:
            if not isinstance(a, (int, float)):
                return a.apply(self, *args)
        return self.forward(*args)


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


# Vectorised forwards for replay: each mirrors its scalar twin element for element, and gives
# nan where the scalar one raises, so the replay can name the error.

def _sigmoid_array(x: Any) -> Any:
    z = np.exp(-np.abs(x))  # the scalar's two branches: e^-x for x ≥ 0, e^x below
    return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def _clamp_array(x: Any, lo: Any, hi: Any) -> Any:
    above = np.where(lo > x, lo, x)  # Python's max(x, lo) keeps x unless lo is larger
    return np.where(lo > hi, np.nan, np.where(hi < above, hi, above))


def _where(condition: Any, yes: Any, no: Any) -> Any:
    return np.where(condition, yes, no)


# Rules compare inputs with `<`, `>`, and test them with `not x` (zero): both read the data of a
# Value, so one rule serves floats and Values. Never `x == 0`: Values compare by identity.

# --- binary arithmetic ---------------------------------------------------------------------

ADD = Op("add", "+", DISTRIBUTOR, "f = x + y; ∂f/∂x = 1, ∂f/∂y = 1",
         forward=operator.add, partials=(1.0, 1.0),
         vforward=np.add, vpartials=(1.0, 1.0),
         test_range=((-5.0, 5.0), (-5.0, 5.0)), syntax="{} + {}", method=False)

SUB = Op("sub", "−", DISTRIBUTOR, "f = x − y; ∂f/∂x = 1, ∂f/∂y = −1",
         forward=operator.sub, partials=(1.0, -1.0),
         vforward=np.subtract, vpartials=(1.0, -1.0),
         test_range=((-5.0, 5.0), (-5.0, 5.0)), syntax="{} - {}", method=False)

MUL = Op("mul", "×", SWAPPER, "f = x·y; ∂f/∂x = y, ∂f/∂y = x",
         forward=operator.mul, partials=(lambda out, x, y: y, lambda out, x, y: x),
         vforward=np.multiply, vpartials=(lambda out, x, y: y, lambda out, x, y: x),
         partials_written=("{y}", "{x}"), product=True,
         test_range=((-5.0, 5.0), (-5.0, 5.0)), syntax="{} * {}", method=False)

# The test range keeps y away from 0 through `kink`, the distance to the pole.
DIV = Op("div", "÷", SCALER, "f = x / y; ∂f/∂x = 1/y, ∂f/∂y = −x/y² = −f/y",
         forward=operator.truediv,
         partials=(lambda out, x, y: 1.0 / y, lambda out, x, y: -out / y),
         vforward=np.divide, vpartials=(lambda out, x, y: 1.0 / y, lambda out, x, y: -out / y),
         partials_written=("1/{y}", "-{out}/{y}"),
         test_range=((-5.0, 5.0), (-5.0, 5.0)), defined="x / y needs y ≠ 0",
         kink=lambda x, y: abs(y), syntax="{} / {}", method=False)

# x ** n with n a number: no gradient for n. The rule calls POWC again, so second derivatives
# stay defined for negative x; n = 0 is a constant function, slope 0 everywhere (even at x = 0,
# where n·x⁻¹ would divide by zero).
POWC: Op = Op("powc", "xⁿ", SCALER, "f = xⁿ (n a number); ∂f/∂x = n·xⁿ⁻¹",
              forward=_power, partials=(lambda out, x, n: n * POWC(x, n - 1) if n else 0.0, None),
              vforward=np.power,
              vpartials=(lambda out, x, n: _where(n != 0.0, n * np.power(x, n - 1.0), 0.0), None),
              partials_written=("{n}·{x}^({n} - 1)", ""),
              test_range=((0.2, 4.0), (-3.0, 3.0)),
              defined="x ** n needs x > 0, or an integer n when x < 0, or n ≥ 0 when x = 0; "
                      "its slope at x = 0 needs n = 0 or n ≥ 1",
              convention="∂(x ** 0)/∂x = 0 everywhere, x = 0 included",
              syntax="{} ** {}", method=False, inputs=("x", "n"))

# x ** y with y a Value: ∂/∂y = xʸ·ln x is real only for x > 0; at x = 0 (y > 0) xʸ is 0 on a
# whole side of y, and PyTorch takes 0 there. At x = y = 0, x⁰ = 1 is flat in x: ∂/∂x = 0 (the
# rule y·xʸ⁻¹ would divide by zero); elsewhere that rule stays a graph in y, for ∂²/∂x∂y.
POW: Op = Op("pow", "xʸ", SCALER, "f = xʸ; ∂f/∂x = y·xʸ⁻¹, ∂f/∂y = xʸ·ln x",
             forward=_power,
             partials=(lambda out, x, y: y * x ** (y - 1) if x or y else 0.0,
                       lambda out, x, y: 0.0 if not x and y > 0 else out * LOG(x)),
             vforward=np.power,
             vpartials=(lambda out, x, y: _where((x != 0.0) | (y != 0.0),
                                                 y * np.power(x, y - 1.0), 0.0),
                        lambda out, x, y: _where((x == 0.0) & (y > 0.0), 0.0, out * np.log(x))),
             partials_written=("{y}·{x}^({y} - 1)", "{out}·ln {x}"),
             test_range=((0.2, 4.0), (-3.0, 3.0)),
             defined="x ** y needs x > 0, or an integer y when x < 0 (then y has no gradient)",
             convention="∂/∂x = 0 at x = y = 0; ∂/∂y = 0 when x = 0 and y > 0 (as PyTorch)",
             syntax="{} ** {}", method=False)

# Ties go to x: the whole gradient is routed to exactly one input, never 1 to both.
MAX = Op("max", "max", ROUTER, "f = max(x, y); ∂f/∂x = [x ≥ y], ∂f/∂y = [x < y]",
         forward=max,
         partials=(lambda out, x, y: 1.0 if x >= y else 0.0,
                   lambda out, x, y: 0.0 if x >= y else 1.0),
         vforward=lambda x, y: _where(y > x, y, x),  # max(x, y) keeps x unless y is larger
         vpartials=(lambda out, x, y: _where(x >= y, 1.0, 0.0),
                    lambda out, x, y: _where(x >= y, 0.0, 1.0)),
         partials_written=("[{x} ≥ {y}]", "[{x} < {y}]"),
         test_range=((-5.0, 5.0), (-5.0, 5.0)), kink=lambda x, y: abs(x - y),
         convention="a tie routes the whole gradient to x")

MIN = Op("min", "min", ROUTER, "f = min(x, y); ∂f/∂x = [x ≤ y], ∂f/∂y = [x > y]",
         forward=min,
         partials=(lambda out, x, y: 1.0 if x <= y else 0.0,
                   lambda out, x, y: 0.0 if x <= y else 1.0),
         vforward=lambda x, y: _where(y < x, y, x),
         vpartials=(lambda out, x, y: _where(x <= y, 1.0, 0.0),
                    lambda out, x, y: _where(x <= y, 0.0, 1.0)),
         partials_written=("[{x} ≤ {y}]", "[{x} > {y}]"),
         test_range=((-5.0, 5.0), (-5.0, 5.0)), kink=lambda x, y: abs(x - y),
         convention="a tie routes the whole gradient to x")

# leaky_relu(x, a) = x for x > 0, a·x otherwise; the slope a is an input, so it can be learned.
LEAKY_RELU = Op("leaky_relu", "lrelu", ROUTER,
                "f = x if x > 0 else a·x; ∂f/∂x = 1 or a, ∂f/∂a = 0 or x",
                forward=lambda x, a: x if x > 0.0 else a * x,
                partials=(lambda out, x, a: 1.0 if x > 0 else a,
                          lambda out, x, a: 0.0 if x > 0 else x),
                vforward=lambda x, a: _where(x > 0.0, x, a * x),
                vpartials=(lambda out, x, a: _where(x > 0.0, 1.0, a),
                           lambda out, x, a: _where(x > 0.0, 0.0, x)),
                partials_written=("1 if {x} > 0 else {slope}", "0 if {x} > 0 else {x}"),
                test_range=((-5.0, 5.0), (0.0, 0.5)), kink=lambda x, a: abs(x),
                convention="x = 0 takes the left branch, like relu: ∂f/∂x = a",
                inputs=("x", "slope"), defaults=(0.01,))

# --- three inputs ----------------------------------------------------------------------------

# As PyTorch's clamp: x at either bound still passes its gradient; a bound gets it only when x
# is beyond it.
CLAMP = Op("clamp", "clamp", ROUTER,
           "f = min(max(x, lo), hi); ∂f/∂x = [lo ≤ x ≤ hi], ∂f/∂lo = [x < lo], ∂f/∂hi = [x > hi]",
           forward=_clamp,
           partials=(lambda out, x, lo, hi: 1.0 if lo <= x <= hi else 0.0,
                     lambda out, x, lo, hi: 1.0 if x < lo else 0.0,
                     lambda out, x, lo, hi: 1.0 if x > hi else 0.0),
           vforward=_clamp_array,
           vpartials=(lambda out, x, lo, hi: _where((lo <= x) & (x <= hi), 1.0, 0.0),
                      lambda out, x, lo, hi: _where(x < lo, 1.0, 0.0),
                      lambda out, x, lo, hi: _where(x > hi, 1.0, 0.0)),
           partials_written=("[{lo} ≤ {x} ≤ {hi}]", "[{x} < {lo}]", "[{x} > {hi}]"),
           test_range=((-5.0, 5.0), (-3.0, -1.0), (1.0, 3.0)),
           defined="clamp(x, lo, hi) needs lo ≤ hi",
           kink=lambda x, lo, hi: min(abs(x - lo), abs(x - hi)),
           convention="x on a bound routes the gradient to x", inputs=("x", "lo", "hi"))

# --- unary -------------------------------------------------------------------------------

# +x: a new node equal to x. `grad` wraps each argument that is already a Value in one, so an
# inner derivative is taken with respect to its own input, never to the outer one it came from.
POS = Op("pos", "+x", DISTRIBUTOR, "f = +x; ∂f/∂x = 1",
         forward=operator.pos, partials=(1.0,), vforward=np.positive, vpartials=(1.0,),
         test_range=((-5.0, 5.0),),
         syntax="+{}", method=False)

NEG = Op("neg", "−x", SCALER, "f = −x; ∂f/∂x = −1",
         forward=operator.neg, partials=(-1.0,), vforward=np.negative, vpartials=(-1.0,),
         test_range=((-5.0, 5.0),),
         syntax="-{}", method=False)

ABS = Op("abs", "|x|", SCALER, "f = |x|; ∂f/∂x = sign x (0 at x = 0)",
         forward=abs, partials=(lambda out, x: 1.0 if x > 0 else -1.0 if x < 0 else 0.0,),
         vforward=np.abs, vpartials=(lambda out, x: np.sign(x),), partials_written=("sign {x}",),
         test_range=((-5.0, 5.0),), kink=lambda x: abs(x),
         convention="∂f/∂x = 0 at x = 0 (the subgradient PyTorch and JAX pick)")

EXP = Op("exp", "exp", SCALER, "f = eˣ; ∂f/∂x = eˣ = f",
         forward=math.exp, partials=(lambda out, x: out,),
         vforward=np.exp, vpartials=(lambda out, x: out,), partials_written=("{out}",),
         test_range=((-5.0, 5.0),))

EXPM1 = Op("expm1", "expm1", SCALER, "f = eˣ − 1; ∂f/∂x = eˣ = f + 1",
           forward=math.expm1, partials=(lambda out, x: out + 1.0,),
           vforward=np.expm1, vpartials=(lambda out, x: out + 1.0,),
           partials_written=("{out} + 1",),
           test_range=((-5.0, 5.0),))

LOG: Op = Op("log", "log", SCALER, "f = ln x; ∂f/∂x = 1/x",
             forward=math.log, partials=(lambda out, x: 1.0 / x,),
             vforward=np.log, vpartials=(lambda out, x: 1.0 / x,), partials_written=("1/{x}",),
             test_range=((0.1, 10.0),),
             defined="log x needs x > 0")

LOG1P = Op("log1p", "log1p", SCALER, "f = ln(1 + x); ∂f/∂x = 1/(1 + x)",
           forward=math.log1p, partials=(lambda out, x: 1.0 / (1.0 + x),),
           vforward=np.log1p, vpartials=(lambda out, x: 1.0 / (1.0 + x),),
           partials_written=("1/(1 + {x})",),
           test_range=((-0.9, 10.0),), defined="log1p x needs x > −1")

SQRT = Op("sqrt", "√", SCALER, "f = √x; ∂f/∂x = 1/(2√x) = 1/(2f)",
          forward=math.sqrt, partials=(lambda out, x: 0.5 / out,),
          vforward=np.sqrt, vpartials=(lambda out, x: 0.5 / out,),
          partials_written=("1/(2·{out})",),
          test_range=((0.1, 10.0),),
          defined="√x needs x ≥ 0, and its derivative x > 0")

SIGMOID = Op("sigmoid", "σ", SCALER, "f = σ(x) = 1/(1+e⁻ˣ); ∂f/∂x = σ(1−σ) = f(1−f)",
             forward=_sigmoid, partials=(lambda out, x: out * (1.0 - out),),
             vforward=_sigmoid_array, vpartials=(lambda out, x: out * (1.0 - out),),
             partials_written=("{out}·(1 − {out})",),
             test_range=((-5.0, 5.0),))

SOFTPLUS = Op("softplus", "softplus", SCALER, "f = ln(1 + eˣ); ∂f/∂x = σ(x)",
              forward=_softplus, partials=(lambda out, x: SIGMOID(x),),
              vforward=lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
              vpartials=(lambda out, x: _sigmoid_array(x),), partials_written=("σ({x})",),
              test_range=((-5.0, 5.0),))

TANH = Op("tanh", "tanh", SCALER, "f = tanh x; ∂f/∂x = 1 − f²",
          forward=math.tanh, partials=(lambda out, x: 1.0 - out * out,),
          vforward=np.tanh, vpartials=(lambda out, x: 1.0 - out * out,),
          partials_written=("1 − {out}²",),
          test_range=((-3.0, 3.0),))

RELU = Op("relu", "relu", ROUTER, "f = max(0, x); ∂f/∂x = [x > 0]",
          forward=lambda x: x if x > 0.0 else 0.0, partials=(lambda out, x: 1.0 if x > 0 else 0.0,),
          vforward=lambda x: _where(x > 0.0, x, 0.0),
          vpartials=(lambda out, x: _where(x > 0.0, 1.0, 0.0),), partials_written=("[{x} > 0]",),
          test_range=((-5.0, 5.0),), kink=lambda x: abs(x),
          convention="∂f/∂x = 0 at x = 0 (the flat side), as in PyTorch")

# The slides' perceptron: step(0) = 0, and the gradient is 0 everywhere, so it cannot learn.
STEP = Op("step", "step", BLOCKER, "f = [x > 0]; ∂f/∂x = 0",
          forward=lambda x: 1.0 if x > 0.0 else 0.0, partials=(0.0,),
          vforward=lambda x: _where(x > 0.0, 1.0, 0.0), vpartials=(0.0,),
          test_range=((-5.0, 5.0),), kink=lambda x: abs(x),
          convention="step(0) = 0; the slope is 0 everywhere, the jump included")

SIN = Op("sin", "sin", SCALER, "f = sin x; ∂f/∂x = cos x",
         forward=math.sin, partials=(lambda out, x: COS(x),),
         vforward=np.sin, vpartials=(lambda out, x: np.cos(x),), partials_written=("cos {x}",),
         test_range=((-5.0, 5.0),))

COS: Op = Op("cos", "cos", SCALER, "f = cos x; ∂f/∂x = −sin x",
             forward=math.cos, partials=(lambda out, x: -SIN(x),),
             vforward=np.cos, vpartials=(lambda out, x: -np.sin(x),),
             partials_written=("−sin {x}",),
             test_range=((-5.0, 5.0),))

TAN = Op("tan", "tan", SCALER, "f = tan x; ∂f/∂x = 1 + tan² x = 1 + f²",
         forward=math.tan, partials=(lambda out, x: 1.0 + out * out,),
         vforward=np.tan, vpartials=(lambda out, x: 1.0 + out * out,),
         partials_written=("1 + {out}²",),
         test_range=((-1.3, 1.3),), defined="tan x needs cos x ≠ 0", kink=_tan_pole)

ATAN = Op("atan", "atan", SCALER, "f = atan x; ∂f/∂x = 1/(1 + x²)",
          forward=math.atan, partials=(lambda out, x: 1.0 / (1.0 + x * x),),
          vforward=np.arctan, vpartials=(lambda out, x: 1.0 / (1.0 + x * x),),
          partials_written=("1/(1 + {x}²)",),
          test_range=((-5.0, 5.0),))

ASIN = Op("asin", "asin", SCALER, "f = asin x; ∂f/∂x = 1/√(1 − x²)",
          forward=math.asin, partials=(lambda out, x: 1.0 / SQRT(1.0 - x * x),),
          vforward=np.arcsin, vpartials=(lambda out, x: 1.0 / np.sqrt(1.0 - x * x),),
          partials_written=("1/√(1 − {x}²)",),
          test_range=((-0.9, 0.9),), defined="asin x needs −1 ≤ x ≤ 1, and its derivative |x| < 1",
          kink=lambda x: 1.0 - abs(x))

ACOS = Op("acos", "acos", SCALER, "f = acos x; ∂f/∂x = −1/√(1 − x²)",
          forward=math.acos, partials=(lambda out, x: -1.0 / SQRT(1.0 - x * x),),
          vforward=np.arccos, vpartials=(lambda out, x: -1.0 / np.sqrt(1.0 - x * x),),
          partials_written=("−1/√(1 − {x}²)",),
          test_range=((-0.9, 0.9),), defined="acos x needs −1 ≤ x ≤ 1, and its derivative |x| < 1",
          kink=lambda x: 1.0 - abs(x))

SINH: Op = Op("sinh", "sinh", SCALER, "f = sinh x; ∂f/∂x = cosh x",
              forward=math.sinh, partials=(lambda out, x: COSH(x),),
              vforward=np.sinh, vpartials=(lambda out, x: np.cosh(x),),
              partials_written=("cosh {x}",),
              test_range=((-5.0, 5.0),))

COSH: Op = Op("cosh", "cosh", SCALER, "f = cosh x; ∂f/∂x = sinh x",
              forward=math.cosh, partials=(lambda out, x: SINH(x),),
              vforward=np.cosh, vpartials=(lambda out, x: np.sinh(x),),
              partials_written=("sinh {x}",),
              test_range=((-5.0, 5.0),))

OPS: tuple[Op, ...] = (ADD, SUB, MUL, DIV, POWC, POW, MAX, MIN, LEAKY_RELU, CLAMP, POS, NEG, ABS,
                       EXP, EXPM1, LOG, LOG1P, SQRT, SIGMOID, SOFTPLUS, TANH, RELU, STEP, SIN,
                       COS, TAN, ATAN, ASIN, ACOS, SINH, COSH)
"""Every op of the table: what Value, the CLI and the table-driven tests are built from."""

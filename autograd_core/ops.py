"""The op table: one record per op — forward, local partials, gate label, role, maths doc, domain.

Everything else (backward, higher-order gradients, drawings, property tests) reads these records.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

# Roles say what a gate does to the gradient flowing back through it (the slides' names).
DISTRIBUTOR = "distributor"  # passes the upstream gradient to every input unchanged (add)
SWAPPER = "swapper"  # each input gets the upstream gradient times the *other* input (mul)
ROUTER = "router"  # the whole gradient goes to one input, the rest get 0 (max, relu)
SCALER = "scaler"  # multiplies the upstream gradient by a local slope (exp, tanh, ...)
BLOCKER = "blocker"  # passes no gradient at all (step)


@dataclass(frozen=True, eq=False)
class Op:
    """One op: f = forward(*inputs), ∂f/∂inputs = partials(out, *inputs).

    `partials` is written once with arithmetic that works on floats (plain backward) and on
    Values (create_graph=True), so higher-order derivatives come from the same rule.
    """

    name: str
    label: str  # the gate's symbol in drawings
    role: str  # what the gate does to the gradient (see the role constants above)
    doc: str  # one line of maths: f and its partials
    forward: Callable[..., float]
    partials: Callable[..., tuple[Any, ...]]
    domain: tuple[tuple[float, float], ...]  # per-input test range: smooth, no overflow
    needs: str = ""  # where f is defined, for error messages ("x > 0")
    kink: Callable[..., float] | None = None  # distance from the inputs to a kink or pole
    constant: tuple[int, ...] = ()  # inputs that are numbers by definition: partial 0, unchecked

    @property
    def arity(self) -> int:
        """Number of inputs."""
        return len(self.domain)

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


def _leaky_relu_partials(out: Any, x: Any, slope: Any) -> tuple[Any, Any]:
    # At x = 0 we take the left branch, like relu: ∂/∂x = slope.
    return (1.0, 0.0) if x > 0 else (slope, x)


# --- binary arithmetic ---------------------------------------------------------------------

ADD = Op("add", "+", DISTRIBUTOR, "f = x + y; ∂f/∂x = 1, ∂f/∂y = 1",
         operator.add, lambda out, x, y: (1.0, 1.0), ((-5.0, 5.0), (-5.0, 5.0)))

SUB = Op("sub", "−", DISTRIBUTOR, "f = x − y; ∂f/∂x = 1, ∂f/∂y = −1",
         operator.sub, lambda out, x, y: (1.0, -1.0), ((-5.0, 5.0), (-5.0, 5.0)))

MUL = Op("mul", "×", SWAPPER, "f = x·y; ∂f/∂x = y, ∂f/∂y = x",
         operator.mul, lambda out, x, y: (y, x), ((-5.0, 5.0), (-5.0, 5.0)))

DIV = Op("div", "÷", SCALER, "f = x / y; ∂f/∂x = 1/y, ∂f/∂y = −x/y² = −f/y",
         operator.truediv, lambda out, x, y: (1.0 / y, -out / y), ((-5.0, 5.0), (-5.0, 5.0)),
         needs="x / y needs y ≠ 0", kink=lambda x, y: abs(y))

# Records whose rules call themselves or a later record are annotated, for mypy.
# x ** c with c a number: the exponent is a constant, so its partial is 0 by definition, and
# the rule calls POWC again so that second derivatives stay defined for negative x.
POWC: Op = Op("powc", "xⁿ", SCALER, "f = xⁿ (n a number); ∂f/∂x = n·xⁿ⁻¹",
              _power, lambda out, x, n: (n * POWC(x, n - 1), 0.0), ((0.2, 4.0), (-3.0, 3.0)),
              needs="x ** n needs x > 0, or an integer n when x < 0, or n ≥ 0 when x = 0",
              constant=(1,))

# x ** y with y a Value: real only for x > 0 (the y-partial needs log x).
POW = Op("pow", "xʸ", SCALER, "f = xʸ; ∂f/∂x = y·xʸ⁻¹, ∂f/∂y = xʸ·ln x",
         _power, lambda out, x, y: (y * x ** (y - 1), out * LOG(x)), ((0.2, 4.0), (-3.0, 3.0)),
         needs="x ** y needs x > 0 (or an integer y when x < 0, with no gradient for y)")

# Ties go to x: the whole gradient is routed to exactly one input, never 1 to both.
MAX = Op("max", "max", ROUTER, "f = max(x, y); ∂f/∂x = [x ≥ y], ∂f/∂y = [x < y]",
         max, lambda out, x, y: (1.0, 0.0) if x >= y else (0.0, 1.0),
         ((-5.0, 5.0), (-5.0, 5.0)), kink=lambda x, y: abs(x - y))

MIN = Op("min", "min", ROUTER, "f = min(x, y); ∂f/∂x = [x ≤ y], ∂f/∂y = [x > y]",
         min, lambda out, x, y: (1.0, 0.0) if x <= y else (0.0, 1.0),
         ((-5.0, 5.0), (-5.0, 5.0)), kink=lambda x, y: abs(x - y))

# leaky_relu(x, a) = x for x > 0, a·x otherwise; the slope a is an input, so it can be learned.
LEAKY_RELU = Op("leaky_relu", "lrelu", ROUTER,
                "f = x if x > 0 else a·x; ∂f/∂x = 1 or a, ∂f/∂a = 0 or x",
                lambda x, a: x if x > 0.0 else a * x, _leaky_relu_partials,
                ((-5.0, 5.0), (0.0, 0.5)), kink=lambda x, a: abs(x))

# --- unary -------------------------------------------------------------------------------

NEG = Op("neg", "−x", SCALER, "f = −x; ∂f/∂x = −1",
         operator.neg, lambda out, x: (-1.0,), ((-5.0, 5.0),))

# |x| at 0: the partial is 0 (the subgradient PyTorch and JAX also pick).
ABS = Op("abs", "|x|", SCALER, "f = |x|; ∂f/∂x = sign x (0 at x = 0)",
         abs, lambda out, x: (1.0 if x > 0 else -1.0 if x < 0 else 0.0,), ((-5.0, 5.0),),
         kink=lambda x: abs(x))

EXP = Op("exp", "exp", SCALER, "f = eˣ; ∂f/∂x = eˣ = f",
         math.exp, lambda out, x: (out,), ((-5.0, 5.0),))

LOG: Op = Op("log", "log", SCALER, "f = ln x; ∂f/∂x = 1/x",
             math.log, lambda out, x: (1.0 / x,), ((0.1, 10.0),), needs="log x needs x > 0")

SQRT = Op("sqrt", "√", SCALER, "f = √x; ∂f/∂x = 1/(2√x) = 1/(2f)",
          math.sqrt, lambda out, x: (0.5 / out,), ((0.1, 10.0),),
          needs="√x needs x ≥ 0, and its derivative x > 0")

TANH = Op("tanh", "tanh", SCALER, "f = tanh x; ∂f/∂x = 1 − f²",
          math.tanh, lambda out, x: (1.0 - out * out,), ((-3.0, 3.0),))

SIGMOID = Op("sigmoid", "σ", SCALER, "f = σ(x) = 1/(1+e⁻ˣ); ∂f/∂x = σ(1−σ) = f(1−f)",
             _sigmoid, lambda out, x: (out * (1.0 - out),), ((-5.0, 5.0),))

# relu at 0: the partial is 0 (x = 0 counts as the flat side), as in PyTorch.
RELU = Op("relu", "relu", ROUTER, "f = max(0, x); ∂f/∂x = [x > 0]",
          lambda x: x if x > 0.0 else 0.0, lambda out, x: (1.0 if x > 0 else 0.0,),
          ((-5.0, 5.0),), kink=lambda x: abs(x))

SIN = Op("sin", "sin", SCALER, "f = sin x; ∂f/∂x = cos x",
         math.sin, lambda out, x: (COS(x),), ((-5.0, 5.0),))

COS: Op = Op("cos", "cos", SCALER, "f = cos x; ∂f/∂x = −sin x",
             math.cos, lambda out, x: (-SIN(x),), ((-5.0, 5.0),))

# The slides' perceptron: step(0) = 0, and the gradient is 0 everywhere, so it cannot learn.
STEP = Op("step", "step", BLOCKER, "f = [x > 0]; ∂f/∂x = 0",
          lambda x: 1.0 if x > 0.0 else 0.0, lambda out, x: (0.0,), ((-5.0, 5.0),),
          kink=lambda x: abs(x))

OPS: dict[str, Op] = {op.name: op for op in list(globals().values()) if isinstance(op, Op)}
"""Every op by name, in the order defined above."""

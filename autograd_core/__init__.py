"""autograd-core: a scalar reverse-mode autodiff engine you can see and trust."""

from .engine import (
    Value,
    apply,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    topological_order,
    value_and_grad,
)
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .ops import OPS, Op

__all__ = [
    "OPS",
    "GradcheckError",
    "Op",
    "Value",
    "apply",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "numerical_gradient",
    "topological_order",
    "value_and_grad",
]
__version__ = "0.1.0"

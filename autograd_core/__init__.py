"""autograd-core: a scalar reverse-mode autodiff engine you can see and trust."""

from .compile import GuardError, Program, compile
from .engine import (
    Constant,
    Value,
    apply,
    chain_rule,
    local_partials,
    topological_order,
)
from .explain import Explanation, explain
from .export import save, save_steps
from .functional import (
    custom_vjp,
    grad,
    gradients,
    hessian,
    jacobian,
    value_and_grad,
    vjp,
)
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .modes import (
    collector_paused,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops import OPS, Op
from .page import show_steps
from .pytree import TreeDef, tree_flatten, tree_leaves, tree_map, tree_unflatten
from .render import draw, to_dot
from .stepper import Step, backward_steps

__all__ = [
    "OPS",
    "Constant",
    "Explanation",
    "GradcheckError",
    "GuardError",
    "Op",
    "Program",
    "Step",
    "TreeDef",
    "Value",
    "apply",
    "backward_steps",
    "chain_rule",
    "collector_paused",
    "compile",
    "custom_vjp",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "explain",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "local_partials",
    "no_grad",
    "numerical_gradient",
    "save",
    "save_steps",
    "set_grad_enabled",
    "show_steps",
    "to_dot",
    "topological_order",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"

"""nn: neurons, layers and MLPs built on autograd_core.Value, with losses, optimizers, toy
datasets, JSON checkpoints, a training loop with a progress bar, and gradient flow: network
pictures and per-layer statistics."""

from .data import (
    make_circles,
    make_line,
    make_moons,
    make_patterns,
    make_spiral,
    make_xor,
    minibatches,
)
from .flow import LayerFlow, dead_units, forward_layers, gradient_flow, saturated_units
from .layers import ACTIVATIONS, MLP, Layer, Neuron
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_loss,
    l2_regularization,
    log_softmax,
    mse_loss,
    multiclass_hinge_loss,
    softmax,
    softplus,
)
from .module import CheckpointError, IncompatibleKeys, Module
from .network import draw_network, save_network
from .optim import SGD, Adam, Optimizer, linear_schedule
from .plot import plot_decision_boundary, plot_gradient_flow, plot_loss
from .train import (
    CompiledLoss,
    History,
    Objective,
    accuracy,
    evaluate,
    fit,
    objective,
    predict,
)

__all__ = [
    "ACTIVATIONS", "MLP", "SGD", "Adam", "CheckpointError", "CompiledLoss", "History",
    "IncompatibleKeys", "Layer", "LayerFlow", "Objective",
    "Module", "Neuron", "Optimizer", "accuracy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "dead_units", "draw_network",
    "evaluate", "fit", "forward_layers", "gradient_flow", "hinge_loss", "l1_loss",
    "l2_regularization", "linear_schedule", "log_softmax", "make_circles", "make_line",
    "make_moons", "make_patterns",
    "make_spiral", "make_xor", "minibatches", "mse_loss", "multiclass_hinge_loss", "objective",
    "plot_decision_boundary", "plot_gradient_flow", "plot_loss", "predict", "saturated_units",
    "save_network", "softmax", "softplus",
]


def __getattr__(name: str) -> object:
    # The losses' old short names, deprecated: nn.losses warns and gives the new function.
    if name in ("mse", "l1", "hinge", "multiclass_hinge"):
        from . import losses

        return getattr(losses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

from .data import CURVES, make_curve  # noqa: E402
from .lessons import (  # noqa: E402
    HiddenSpace,
    Landscape,
    Trajectory,
    descent_path,
    evaluate_many,
    filter_normalized_directions,
    function_grid,
    hidden_space,
    loss_landscape,
    pca_directions,
    plane_coordinates,
    plot_fit,
    plot_function,
    plot_hidden_space,
    plot_landscape,
    record_trajectory,
    relu_kinks,
)

__all__ += [
    "CURVES", "HiddenSpace", "Landscape", "Trajectory", "descent_path", "evaluate_many",
    "filter_normalized_directions", "function_grid", "hidden_space", "loss_landscape",
    "make_curve", "pca_directions", "plane_coordinates", "plot_fit", "plot_function",
    "plot_hidden_space", "plot_landscape", "record_trajectory", "relu_kinks",
]

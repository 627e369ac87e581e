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
    hinge,
    l1,
    l2_regularization,
    log_softmax,
    mse,
    multiclass_hinge,
    softmax,
    softplus,
)
from .module import CheckpointError, Module
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
    "ACTIVATIONS", "MLP", "SGD", "Adam", "CheckpointError", "CompiledLoss", "History", "Layer",
    "LayerFlow", "Objective",
    "Module", "Neuron", "Optimizer", "accuracy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "dead_units", "draw_network",
    "evaluate", "fit", "forward_layers", "gradient_flow", "hinge", "l1", "l2_regularization",
    "linear_schedule", "log_softmax", "make_circles", "make_line", "make_moons", "make_patterns",
    "make_spiral", "make_xor", "minibatches", "mse", "multiclass_hinge", "objective",
    "plot_decision_boundary", "plot_gradient_flow", "plot_loss", "predict", "saturated_units",
    "save_network", "softmax", "softplus",
]

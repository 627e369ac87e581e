"""nn: neurons, layers and MLPs built on autograd_core.Value, with losses, optimizers, toy
datasets, JSON checkpoints and a training loop with a progress bar."""

from .data import (
    make_circles,
    make_line,
    make_moons,
    make_patterns,
    make_spiral,
    make_xor,
    minibatches,
)
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
from .optim import SGD, Adam, Optimizer, linear_schedule
from .plot import plot_decision_boundary, plot_loss
from .train import History, accuracy, evaluate, fit, objective, predict

__all__ = [
    "ACTIVATIONS", "MLP", "SGD", "Adam", "CheckpointError", "History", "Layer", "Module",
    "Neuron", "Optimizer", "accuracy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "evaluate", "fit", "hinge", "l1", "l2_regularization", "linear_schedule",
    "log_softmax", "make_circles", "make_line", "make_moons", "make_patterns", "make_spiral",
    "make_xor", "minibatches", "mse", "multiclass_hinge", "objective", "plot_decision_boundary",
    "plot_loss", "predict", "softmax", "softplus",
]

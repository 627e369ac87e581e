"""nn: neurons, layers and MLPs built on autograd_core.Value, with losses, optimizers, toy
datasets, JSON checkpoints and a training loop with a progress bar."""

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

__all__ = [
    "ACTIVATIONS", "MLP", "SGD", "Adam", "CheckpointError", "Optimizer", "linear_schedule", "Layer", "Module", "Neuron",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "hinge", "l1",
    "l2_regularization", "log_softmax", "mse", "multiclass_hinge", "softmax", "softplus",
]

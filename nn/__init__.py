"""nn: neurons, layers and MLPs built on autograd_core.Value, with losses, optimizers, toy
datasets, JSON checkpoints and a training loop with a progress bar."""

from .layers import ACTIVATIONS, MLP, Layer, Neuron
from .module import CheckpointError, Module

__all__ = ["ACTIVATIONS", "MLP", "CheckpointError", "Layer", "Module", "Neuron"]

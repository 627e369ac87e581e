"""to_torch / from_torch: the same network as a PyTorch nn.Sequential of Linear and activation
modules in float64, with the same weights: the way out when a model outgrows a scalar engine
(more data, GPUs, many machines). PyTorch is an optional extra, imported only when called."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from typing import Any

from autograd_core import Value

from .layers import ACTIVATIONS, MLP, Layer, Neuron
from .module import Module

EXTRA = "pip install 'autograd-core[torch]'"

# nn's activation → the torch.nn class that computes the same function; "linear" adds none.
# LeakyReLU's slope is read off our own leaky_relu (see _leaky_slope), never written twice.
TORCH_ACTIVATIONS = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "tanh": "Tanh",
                     "sigmoid": "Sigmoid"}


def _torch(who: str) -> Any:
    """torch, imported now; an ImportError naming the extra to install when it is missing."""
    try:
        # import_module, not `import torch`: the type checker then does not read all of torch.
        return importlib.import_module("torch")
    except ImportError as err:
        raise ImportError(f"{who} needs PyTorch, which is not installed: {EXTRA} "
                          f"(its CPU build is enough)") from err


def _leaky_slope() -> float:
    """The slope of nn's leaky_relu on the negative side: −leaky_relu(−1)."""
    act = ACTIVATIONS["leaky_relu"]
    assert act is not None
    return -act(Value(-1.0)).data


def _layers(model: Module) -> list[tuple[str, list[Neuron]]]:
    """(dotted name, neurons) per layer of an MLP, a Layer or a Neuron (a layer of one)."""
    if isinstance(model, MLP):
        return [(f"layers.{i}", layer.neurons) for i, layer in enumerate(model.layers)]
    if isinstance(model, Layer):
        return [("", model.neurons)]
    if isinstance(model, Neuron):
        return [("", [model])]
    raise TypeError(f"to_torch translates an MLP, a Layer or a Neuron, got "
                    f"{type(model).__name__}: {model!r}")


def _trains(name: str, what: str, params: list[Any]) -> bool:
    """Whether a layer's weights (or biases) take gradients: all of them, or none (frozen)."""
    frozen = sum(not p.requires_grad for p in params)
    if 0 < frozen < len(params):
        raise ValueError(f"to_torch cannot translate {_dotted(name)}: {frozen} of its "
                         f"{len(params)} {what} are frozen, and torch freezes a whole tensor "
                         f"(freeze all of the layer's {what} or none)")
    return frozen == 0


def _dotted(*names: str) -> str:
    return ".".join(name for name in names if name) or "(model)"


def _layer_activation(name: str, neurons: list[Neuron]) -> str:
    """The activation every neuron of the layer shares, or a ValueError naming one that differs."""
    first = neurons[0].activation
    for j, neuron in enumerate(neurons):
        if neuron.activation != first:
            raise ValueError(
                f"to_torch cannot translate {_dotted(name)}: neuron {j} uses "
                f"{neuron.activation!r} but neuron 0 uses {first!r} (a torch Linear layer is "
                f"followed by one activation)")
    if first != "linear" and first not in TORCH_ACTIVATIONS:
        raise ValueError(f"to_torch cannot translate activation {first!r} of {_dotted(name)}: "
                         f"it knows {', '.join(['linear', *TORCH_ACTIVATIONS])}")
    return first


def _finite(where: str, values: list[float]) -> None:
    """A ValueError naming the first non-finite number: a Value holds only finite ones."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError(f"from_torch cannot translate {where}[{i}] = {v}: nn's parameters "
                             f"are finite numbers")


def to_torch(model: Module) -> Any:
    """The model as torch.nn.Sequential(Linear, activation, …) in float64 with the same weights:
    Linear(nin, nout).weight[j, i] = neuron j's wᵢ, .bias[j] = its b; `linear` adds no module."""
    layers = _layers(model)  # a refusal needs no torch
    plan = []
    width = None
    for name, neurons in layers:
        activation = _layer_activation(name, neurons)
        nin = neurons[0].nin
        if width is not None and nin != width:
            raise ValueError(f"to_torch cannot translate {_dotted(name)}: it reads {nin} inputs "
                             f"but the layer before it gives {width}")
        weights = []
        for j, neuron in enumerate(neurons):
            if neuron.nin != nin:
                raise ValueError(f"to_torch cannot translate {_dotted(name)}: neuron {j} reads "
                                 f"{neuron.nin} inputs but neuron 0 reads {nin}")
            weights.append([w.data for w in neuron.w])  # a Value's data is always finite
        trains = (_trains(name, "weights", [w for n in neurons for w in n.w]),
                  _trains(name, "biases", [n.b for n in neurons]))
        plan.append((weights, [n.b.data for n in neurons], activation, trains))
        width = len(neurons)
    torch = _torch("to_torch")
    modules = []
    for weights, biases, activation, (weight_trains, bias_trains) in plan:
        linear = torch.nn.Linear(len(weights[0]), len(weights), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        linear.weight.requires_grad_(weight_trains)
        linear.bias.requires_grad_(bias_trains)
        modules.append(linear)
        if activation == "leaky_relu":
            modules.append(torch.nn.LeakyReLU(_leaky_slope()))
        elif activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules).train(model.training)


def _parts(torch: Any, module: Any) -> Iterator[tuple[str, Any]]:
    """(dotted name, module) of every leaf of nested Sequentials, in order, without recursion."""
    stack: list[tuple[str, Any]] = [("", module)]
    while stack:
        name, part = stack.pop()
        if type(part) is torch.nn.Sequential:
            children = [(f"{name}.{child}" if name else child, sub)
                        for child, sub in part.named_children()]
            stack.extend(reversed(children))
        else:
            yield name or "(module)", part


def _our_activation(torch: Any, part: Any) -> str | None:
    """nn's name for a torch activation module (exact classes only: a subclass may compute
    something else), "linear" for Identity, or None if the part is not an activation."""
    if type(part) is torch.nn.Identity:
        return "linear"
    if type(part) is torch.nn.LeakyReLU and part.negative_slope != _leaky_slope():
        raise ValueError(f"from_torch cannot translate LeakyReLU(negative_slope="
                         f"{part.negative_slope}): nn's leaky_relu has slope {_leaky_slope()}")
    for ours, theirs in TORCH_ACTIVATIONS.items():
        if type(part) is getattr(torch.nn, theirs):
            return ours
    return None


def _tensor_list(torch: Any, tensor: Any, where: str) -> list[Any]:
    """The tensor's numbers in float64 as (nested) lists, checked finite."""
    values: list[Any] = tensor.detach().to(device="cpu", dtype=torch.float64).tolist()
    rows = values if values and isinstance(values[0], list) else [values]
    for i, row in enumerate(rows):
        _finite(f"{where}[{i}]" if rows is values else where, row)
    return values


def from_torch(module: Any) -> MLP:
    """An MLP computing what `module` computes: an nn.Sequential (nested ones are flattened) of
    Linear layers, each followed by at most one of ReLU, LeakyReLU(0.01), Tanh, Sigmoid or
    Identity, hidden layers sharing one activation; or one Linear. Weights are read in float64;
    a Linear without bias gets b = 0."""
    torch = _torch("from_torch")
    if not isinstance(module, (torch.nn.Sequential, torch.nn.Linear)):
        raise TypeError(f"from_torch translates an nn.Sequential of Linear and activation "
                        f"modules, or one nn.Linear; got {type(module).__name__}")
    known = "Linear, " + ", ".join(TORCH_ACTIVATIONS.values()) + " and Identity"
    layers: list[dict[str, Any]] = []  # per Linear: its part name, weights, biases, activation
    for name, part in _parts(torch, module):
        if type(part) is torch.nn.Linear:
            if part.in_features < 1 or part.out_features < 1:
                raise ValueError(f"from_torch cannot translate part {name} ({part}): a layer "
                                 f"needs at least one input and one output")
            width = layers[-1]["out"] if layers else None
            if width is not None and part.in_features != width:
                raise ValueError(f"from_torch cannot translate part {name} ({part}): it reads "
                                 f"{part.in_features} inputs but the Linear before it gives "
                                 f"{width}")
            weights = _tensor_list(torch, part.weight, f"part {name} weight")
            biases = (_tensor_list(torch, part.bias, f"part {name} bias") if part.bias is not None
                      else [0.0] * part.out_features)
            layers.append({"name": name, "weights": weights, "biases": biases,
                           "out": part.out_features, "activation": None,
                           "trains": (part.weight.requires_grad,
                                      part.bias is None or part.bias.requires_grad)})
            continue
        activation = _our_activation(torch, part)
        if activation is None:
            raise ValueError(f"from_torch cannot translate part {name} ({part}): nn's MLP is "
                             f"made of {known}")
        if activation == "linear":
            continue  # Identity computes nothing
        if not layers:
            raise ValueError(f"from_torch cannot translate part {name} ({part}): an activation "
                             f"before any Linear layer")
        if layers[-1]["activation"] is not None:
            raise ValueError(f"from_torch cannot translate part {name} ({part}): it follows "
                             f"another activation, and an MLP layer has one")
        layers[-1]["activation"] = (activation, name)
    if not layers:
        raise ValueError("from_torch cannot translate an empty nn.Sequential: it has no Linear")
    acts = [layer["activation"] or ("linear", layer["name"]) for layer in layers]
    for act, name in acts[1:-1]:
        if act != acts[0][0]:
            raise ValueError(
                f"from_torch cannot translate part {name}: an MLP's hidden layers share one "
                f"activation, but part {acts[0][1]} is {acts[0][0]} and part {name} is {act}")
    model = MLP(len(layers[0]["weights"][0]), [layer["out"] for layer in layers],
                activation=acts[0][0] if len(layers) > 1 else "relu",
                output_activation=acts[-1][0], seed=0)
    # Everything was read and checked above; from here on nothing can fail half way.
    for ours, layer in zip(model.layers, layers):
        for neuron, row, b in zip(ours.neurons, layer["weights"], layer["biases"], strict=True):
            for w, v in zip(neuron.w, row, strict=True):
                w.data = float(v)
                w.requires_grad_(layer["trains"][0])
            neuron.b.data = float(b)
            neuron.b.requires_grad_(layer["trains"][1])
    return model.train(module.training)

"""to_torch / from_torch: the same network in PyTorch (float64), outputs and gradients equal to
1e-12 both ways for every activation nn has; what cannot be translated is refused by name."""

import subprocess
import sys

import numpy as np
import pytest

from autograd_core.nn import ACTIVATIONS, MLP, Layer, Module, Neuron, from_torch, to_torch

TOL = 1e-12
NEEDS = "PyTorch is an optional extra: pip install 'autograd-core[torch]'"


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=NEEDS)


def ours(model, X):
    """The model's outputs on the batch X as an (n, nout) array."""
    return np.array([[v.data for v in (o if isinstance(o, list) else [o])] for o in model(X)])


def theirs(torch, module, X):
    return module(torch.tensor(X, dtype=torch.float64)).detach().numpy().reshape(len(X), -1)


def torch_activation(torch, name):
    if name == "linear":
        return torch.nn.Identity()
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(0.01)
    return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[name]()


def random_inputs(n=64, width=3, seed=0):
    # Scale 3: tanh and sigmoid saturate on part of it, relu sees both sides.
    return np.random.default_rng(seed).normal(scale=3.0, size=(n, width))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_to_torch_outputs_and_gradients_equal_ours_for_every_activation(torch, activation):
    model = MLP(3, [16, 16, 2], activation=activation, output_activation=activation, seed=1)
    module = to_torch(model)
    X = random_inputs()
    assert np.abs(ours(model, X) - theirs(torch, module, X)).max() <= TOL
    # The same network also backpropagates the same: ∂(Σ outputs)/∂ every weight.
    sum(v for o in model(X) for v in o).backward()
    module(torch.tensor(X)).sum().backward()
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(model.layers, linears, strict=True):
        for j, neuron in enumerate(layer.neurons):
            assert np.abs(np.array([w.grad for w in neuron.w])
                          - linear.weight.grad[j].numpy()).max() <= TOL * len(X)
            assert abs(neuron.b.grad - linear.bias.grad[j].item()) <= TOL * len(X)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_from_torch_outputs_equal_torch_for_every_activation(torch, activation):
    torch.manual_seed(2)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 16, dtype=torch.float64), torch_activation(torch, activation),
        torch.nn.Linear(16, 16, dtype=torch.float64), torch_activation(torch, activation),
        torch.nn.Linear(16, 2, dtype=torch.float64), torch_activation(torch, activation))
    model = from_torch(module)
    assert repr(model) == (f"MLP(3 → 16 → 16 → 2, activation={activation!r}, "
                           f"output_activation={activation!r})")
    X = random_inputs(seed=3)
    assert np.abs(ours(model, X) - theirs(torch, module, X)).max() <= TOL


def test_every_activation_has_a_torch_module(torch):
    # A new entry in ACTIVATIONS must be taught to the bridge, or the tests above fail too.
    for activation in ACTIVATIONS:
        to_torch(MLP(2, [2], output_activation=activation))


def test_round_trip_ours_torch_ours_is_exact_with_its_architecture(torch):
    model = MLP(2, [8, 4, 1], activation="tanh", output_activation="sigmoid", seed=5)
    back = from_torch(to_torch(model))
    assert back.state_dict() == model.state_dict()
    assert back.architecture() == model.architecture()


def test_round_trip_torch_ours_torch_is_exact(torch):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 6, dtype=torch.float64), torch.nn.ReLU(),
                                 torch.nn.Linear(6, 3, dtype=torch.float64))
    again = to_torch(from_torch(module))
    assert [type(m) for m in again] == [type(m) for m in module]
    for a, b in zip(module.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert all(p.dtype == torch.float64 for p in again.parameters())


def test_layer_and_neuron_translate_as_one_linear_layer(torch):
    X = random_inputs(width=4)
    layer, neuron = Layer(4, 3, "tanh", seed=0), Neuron(4, "sigmoid", seed=1)
    assert np.abs(ours(layer, X) - theirs(torch, to_torch(layer), X)).max() <= TOL
    assert np.abs(ours(neuron, X) - theirs(torch, to_torch(neuron), X)).max() <= TOL
    assert [type(m).__name__ for m in to_torch(neuron)] == ["Linear", "Sigmoid"]


def test_training_mode_is_carried_both_ways(torch):
    assert to_torch(MLP(2, [3, 1]).eval()).training is False
    assert from_torch(torch.nn.Sequential(torch.nn.Linear(2, 1)).eval()).training is False
    assert from_torch(torch.nn.Linear(2, 1)).training is True


def test_frozen_layers_are_carried_both_ways(torch):
    model = MLP(2, [3, 1], seed=1)
    model.layers[0].requires_grad_(False)
    model.layers[1].neurons[0].b.requires_grad_(False)
    module = to_torch(model)
    assert [p.requires_grad for p in module.parameters()] == [False, False, True, False]
    back = from_torch(module)
    assert back.frozen() == model.frozen()


def test_to_torch_refuses_a_partly_frozen_tensor_naming_the_layer():
    model = MLP(2, [3, 1], seed=1)
    model.layers[0].neurons[1].w[0].requires_grad_(False)
    with pytest.raises(ValueError, match=r"layers\.0: 1 of its 6 weights are frozen"):
        to_torch(model)


def test_float32_module_is_read_exactly_in_float64(torch):
    torch.manual_seed(1)
    linear = torch.nn.Linear(3, 2)  # float32 by default
    model = from_torch(linear)
    assert [w.data for w in model.layers[0].neurons[1].w] == linear.weight[1].double().tolist()
    assert model.layers[0].neurons[0].b.data == linear.bias[0].item()


def test_linear_without_bias_gets_zero_biases(torch):
    linear = torch.nn.Linear(3, 2, bias=False, dtype=torch.float64)
    model = from_torch(linear)
    assert [n.b.data for n in model.layers[0].neurons] == [0.0, 0.0]
    X = random_inputs()
    assert np.abs(ours(model, X) - theirs(torch, linear, X)).max() <= TOL


def test_nested_sequentials_are_flattened_and_identity_is_skipped(torch):
    torch.manual_seed(3)
    module = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(2, 5, dtype=torch.float64), torch.nn.Tanh()),
        torch.nn.Identity(),
        torch.nn.Sequential(torch.nn.Linear(5, 1, dtype=torch.float64)))
    model = from_torch(module)
    assert repr(model) == "MLP(2 → 5 → 1, activation='tanh', output_activation='linear')"
    X = random_inputs(width=2)
    assert np.abs(ours(model, X) - theirs(torch, module, X)).max() <= TOL


def test_two_linears_in_a_row_are_a_linear_hidden_activation(torch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1), torch.nn.ReLU())
    assert repr(from_torch(module)) == (
        "MLP(2 → 3 → 1, activation='linear', output_activation='relu')")


@pytest.mark.parametrize("parts, words", [
    (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 1)],
     r"part 2 \(Dropout\(p=0.5.*nn's MLP is made of Linear, ReLU"),
    (lambda nn: [nn.Linear(2, 3), nn.GELU()], r"part 1 \(GELU"),
    (lambda nn: [nn.Linear(2, 3), nn.LeakyReLU(0.2)], r"negative_slope=0.2.*slope 0.01"),
    (lambda nn: [nn.ReLU(), nn.Linear(2, 3)], r"part 0 \(ReLU\(\)\): an activation before"),
    (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Tanh()], r"part 2 \(Tanh\(\)\): it follows"),
    (lambda nn: [nn.Linear(2, 3), nn.Linear(4, 1)],
     r"part 1 .* reads 4 inputs but the Linear before it gives 3"),
    (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)],
     r"part 3: .* part 1 is relu and part 3 is tanh"),
    (lambda nn: [], r"empty nn.Sequential"),
], ids=["dropout", "gelu", "leaky-slope", "activation-first", "two-activations", "widths",
        "mixed-hidden", "empty"])
def test_from_torch_refuses_what_an_mlp_cannot_be_naming_the_part(torch, parts, words):
    with pytest.raises(ValueError, match=words):
        from_torch(torch.nn.Sequential(*parts(torch.nn)))


def test_from_torch_refuses_a_subclass_of_an_activation(torch):
    class Shifted(torch.nn.ReLU):
        def forward(self, x):
            return super().forward(x) + 1.0

    with pytest.raises(ValueError, match=r"part 1 \(Shifted\(\)\)"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 1), Shifted()))


def test_from_torch_refuses_a_module_that_is_not_a_sequential(torch):
    with pytest.raises(TypeError, match=r"nn.Sequential .* got Conv1d"):
        from_torch(torch.nn.Conv1d(1, 1, 3))


def test_from_torch_refuses_a_nan_weight_naming_it(torch):
    linear = torch.nn.Linear(2, 3, dtype=torch.float64)
    with torch.no_grad():
        linear.weight[1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"part \(module\) weight\[1\]\[0\] = nan"):
        from_torch(linear)


def test_to_torch_refuses_a_module_it_does_not_know_naming_it():
    class Twice(Module):
        def __init__(self):
            self.inner = MLP(2, [1])

    with pytest.raises(TypeError, match="MLP, a Layer or a Neuron, got Twice"):
        to_torch(Twice())


def test_to_torch_refuses_a_layer_whose_neurons_differ_naming_the_neuron():
    model = MLP(2, [3, 1])
    model.layers[0].neurons[2].activation = "tanh"
    with pytest.raises(ValueError, match=r"layers.0: neuron 2 uses 'tanh' but neuron 0 uses "
                                         r"'relu'"):
        to_torch(model)


def test_without_torch_both_say_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r"to_torch needs PyTorch.*autograd-core\[torch\]"):
        to_torch(MLP(2, [1]))
    with pytest.raises(ImportError, match=r"from_torch needs PyTorch.*autograd-core\[torch\]"):
        from_torch(object())


def test_importing_nn_does_not_import_torch():
    code = "import sys, autograd_core.nn; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "False"

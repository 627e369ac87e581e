"""nn.Module, Neuron, Layer, MLP: the slides' counts, dotted names, seeding, checkpoints."""

import json
import math
import os
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value
from autograd_core.nn import MLP, CheckpointError, Layer, Module, Neuron


def test_slides_mlp_3_4_2_counts():
    model = MLP(3, [4, 2])
    neurons = [n for layer in model.layers for n in layer.neurons]
    assert len(neurons) == 6
    assert sum(len(n.w) for n in neurons) == 20
    assert model.num_parameters() == len(model.parameters()) == 26


def test_repr_shows_the_shape():
    assert repr(MLP(3, [4, 2])) == "MLP(3 → 4 → 2, activation='relu', output_activation='linear')"
    assert repr(MLP(2, [8, 1], activation="tanh")) == (
        "MLP(2 → 8 → 1, activation='tanh', output_activation='linear')")
    assert repr(MLP(2, [1], output_activation="sigmoid")) == (
        "MLP(2 → 1, output_activation='sigmoid')")
    assert repr(Layer(3, 4, "sigmoid")) == "Layer(3 → 4, sigmoid)"
    assert repr(Neuron(2, "linear")) == "Neuron(2, linear)"


def test_named_parameters_are_dotted_names_from_the_module_tree():
    model = MLP(3, [4, 2], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:5] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.w.2", "layers.0.neurons.0.b",
                         "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.1.b"
    assert "layers.0.neurons.1.w.2" in names
    assert all(p.label == "" for p in model.parameters())  # names are asked for, not stored
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_last_layer_is_linear_by_default():
    model = MLP(2, [3, 3, 1])
    assert [layer.neurons[0].activation for layer in model.layers] == ["relu", "relu", "linear"]
    model = MLP(2, [3, 1], activation="tanh", output_activation="sigmoid")
    assert [layer.neurons[0].activation for layer in model.layers] == ["tanh", "sigmoid"]


def test_same_seed_same_weights_and_random_instances_are_shared():
    assert MLP(2, [4, 1], seed=7).state_dict() == MLP(2, [4, 1], seed=7).state_dict()
    assert MLP(2, [4, 1], seed=7).state_dict() != MLP(2, [4, 1], seed=8).state_dict()
    a = MLP(2, [4, 1], seed=random.Random(3))
    b = MLP(2, [4, 1], seed=random.Random(3))
    assert a.state_dict() == b.state_dict()
    # micrograd's initialisation: w ~ U(-1, 1) in creation order, b = 0.
    rng = random.Random(5)
    n = Neuron(3, seed=5)
    assert [w.data for w in n.w] == [rng.uniform(-1, 1) for _ in range(3)]
    assert n.b.data == 0.0


@pytest.mark.parametrize("act, f", [
    ("relu", lambda s: max(s, 0.0)),
    ("tanh", np.tanh),
    ("sigmoid", lambda s: 1 / (1 + np.exp(-s))),
    ("leaky_relu", lambda s: s if s > 0 else 0.01 * s),
    ("linear", lambda s: s),
])
def test_neuron_is_activation_of_weighted_sum(act, f):
    n = Neuron(3, activation=act, seed=1)
    n.b.data = -0.3
    x = [0.5, -1.5, 2.0]
    s = sum(w.data * xi for w, xi in zip(n.w, x)) - 0.3
    out = n(x)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(f(s))


def test_calling_returns_a_value_or_a_list():
    assert isinstance(MLP(2, [3, 1])([1.0, 2.0]), Value)
    out = MLP(2, [3, 2])(np.array([1.0, 2.0]))
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, Value) for v in out)
    assert len(Layer(2, 1)([Value(1.0), 2])) == 1


def test_backward_reaches_every_parameter():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    model([0.3, -0.7]).backward()
    assert all(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_return_self_and_reach_every_module():
    model = MLP(2, [3, 1])
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    assert len(model.modules()) == 1 + 2 + 4  # the MLP, its layers, their neurons


def test_shared_parameter_is_listed_once():
    class Tied(Module):
        def __init__(self):
            self.a = Neuron(2)
            self.b = self.a

    assert Tied().num_parameters() == 3


@pytest.mark.parametrize("make, error, words", [
    (lambda: Neuron(0), ValueError, "nin must be at least 1, got 0"),
    (lambda: Neuron(2.5), TypeError, "nin must be an int"),
    (lambda: Neuron(2, "softmax"), ValueError, "unknown activation 'softmax'; choose one of"),
    (lambda: Layer(2, 0), ValueError, "nout must be at least 1"),
    (lambda: MLP(2, []), ValueError, "sizes must be a non-empty list"),
    (lambda: MLP(2, [3, -1]), ValueError, "sizes[1] must be at least 1, got -1"),
    (lambda: MLP(2, [3], seed="x"), TypeError, "seed must be an int"),
    (lambda: MLP(2, [3])([1.0]), ValueError, "takes 2 inputs, got 1"),
])
def test_bad_arguments_say_what_is_wrong(make, error, words):
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)


# --- checkpoints -------------------------------------------------------------------------

def test_save_load_round_trip_is_exact(tmp_path):
    model = MLP(3, [4, 2], seed=1)
    for p in model.parameters():
        p.data = random.Random(id(p)).gauss(0, 1) / 3  # numbers with full binary expansions
    path = model.save(tmp_path / "model.json")
    other = MLP(3, [4, 2], seed=2)
    assert other.load(path) is other
    assert other.state_dict() == model.state_dict()
    assert [f.name for f in tmp_path.iterdir()] == ["model.json"]  # no temp file left behind


def test_frozen_parameters_are_saved_and_loaded_frozen(tmp_path):
    model = MLP(2, [3, 1], seed=1)
    model.layers[0].requires_grad_(False)  # fine-tune the last layer only
    frozen = model.frozen()
    assert len(frozen) == 9 and all(name.startswith("layers.0.") for name in frozen)
    path = model.save(tmp_path / "model.json")
    other = MLP(2, [3, 1], seed=2).load(path)
    assert other.frozen() == frozen
    assert MLP(2, [3, 1], seed=3).requires_grad_(False).load(path).frozen() == frozen


@pytest.mark.parametrize("frozen", [{"layers.0.neurons.0.b": 1}, ["nope"], [3], "layers"])
def test_a_malformed_frozen_list_is_refused_and_changes_nothing(tmp_path, frozen):
    model = MLP(2, [3, 1], seed=1)
    checkpoint = json.loads(model.dumps())
    checkpoint["frozen"] = frozen
    path = tmp_path / "model.json"
    path.write_text(json.dumps(checkpoint))
    other = MLP(2, [3, 1], seed=2)
    before = other.state_dict()
    with pytest.raises(CheckpointError, match="malformed 'frozen'"):
        other.load(path)
    assert other.state_dict() == before and other.frozen() == []


def test_requires_grad_on_a_module_needs_a_bool():
    with pytest.raises(TypeError, match="flag must be a bool"):
        MLP(2, [3]).requires_grad_("no")


def test_state_dict_round_trip():
    a, b = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()


def _tamper(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _drop_one(doc):
    del doc["parameters"]["layers.0.neurons.0.b"]


def _drop_one_and_recount(doc):
    _drop_one(doc)
    doc["num_parameters"] -= 1


def _rename(doc):
    doc["parameters"]["layers.9.neurons.0.b"] = doc["parameters"].pop("layers.0.neurons.0.b")


@pytest.mark.parametrize("change, words", [
    (_drop_one, "says it holds 13 parameters but lists 12"),
    (_drop_one_and_recount, "missing layers.0.neurons.0.b"),
    (_rename, "unexpected layers.9.neurons.0.b"),
    (lambda d: d["parameters"].update({"layers.1.neurons.0.b": "0.5"}),
     "layers.1.neurons.0.b='0.5'"),
    (lambda d: d["parameters"].update({"layers.1.neurons.0.b": True}), "finite numbers"),
    (lambda d: d["parameters"].update({"layers.1.neurons.0.w.2": 1e999}), "inf"),
    (lambda d: d["parameters"].update({"layers.1.neurons.0.w.2": 10**400}), "finite numbers"),
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d.update(format="pickle"), "not an autograd-core.nn checkpoint"),
    (lambda d: d.pop("parameters"), "no 'parameters'"),
])
def test_tampered_checkpoint_raises_and_changes_nothing(tmp_path, change, words):
    path = MLP(2, [3, 1], seed=1).save(tmp_path / "m.json")
    _tamper(path, change)
    model = MLP(2, [3, 1], seed=2)
    before = model.state_dict()
    with pytest.raises(CheckpointError) as info:
        model.load(path)
    assert words in str(info.value)
    assert model.state_dict() == before


def test_nan_in_a_later_parameter_leaves_earlier_ones_alone(tmp_path):
    path = MLP(2, [3, 1], seed=1).save(tmp_path / "m.json")
    text = path.read_text()
    name = '"layers.1.neurons.0.b": '
    start = text.index(name) + len(name)
    end = text.index("\n", start)
    path.write_text(text[:start] + "NaN" + text[end:])
    model = MLP(2, [3, 1], seed=2)
    before = model.state_dict()
    with pytest.raises(CheckpointError, match="nan"):
        model.load(path)
    assert model.state_dict() == before


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_truncated_checkpoint_raises_and_changes_nothing(tmp_path, keep):
    path = MLP(2, [3, 1], seed=1).save(tmp_path / "m.json")
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    model = MLP(2, [3, 1], seed=2)
    before = model.state_dict()
    with pytest.raises(CheckpointError, match="truncated"):
        model.load(path)
    assert model.state_dict() == before


def test_checkpoint_of_another_shape_is_refused(tmp_path):
    path = MLP(2, [3, 1]).save(tmp_path / "m.json")
    with pytest.raises(CheckpointError,
                       match="holds MLP.2 → 3 → 1, .*, but this model is MLP.2 → 4 → 1, "):
        MLP(2, [4, 1]).load(path)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = MLP(2, [3, 1], seed=1).save(tmp_path / "m.json")
    old = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dumps", crash)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3, 1], seed=2).save(path)
    assert path.read_bytes() == old
    assert [f.name for f in tmp_path.iterdir()] == ["m.json"]


def test_saved_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = MLP(2, [1]).save(tmp_path / "m.json")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_corrupted_byte_loads_or_raises_checkpoint_error(tmp_path_factory, data):
    path = MLP(2, [2, 1], seed=1).save(tmp_path_factory.mktemp("c") / "m.json")
    raw = bytearray(path.read_bytes())
    where = data.draw(st.integers(0, len(raw) - 1))
    raw[where] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))
    model = MLP(2, [2, 1], seed=2)
    before = model.state_dict()
    try:
        model.load(path)
    except CheckpointError:
        assert model.state_dict() == before
    else:  # a changed digit is still a valid checkpoint, of other numbers
        assert all(math.isfinite(v) for v in model.state_dict().values())


# --- like PyTorch: forward, names from the tree, strict loading ------------------------------

class Classifier(Module):
    """A user's own model: our MLP inside, and a scale of its own."""

    def __init__(self) -> None:
        self.mlp = MLP(2, [3, 1], seed=0)
        self.scale = Value(2.0)

    def forward(self, x):
        return self.mlp(x) * self.scale


def test_a_user_module_wrapping_an_mlp_has_dotted_names_in_parameters_state_and_drawing():
    from autograd_core import to_dot

    model = Classifier()
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == ["mlp.layers.0.neurons.0.w.0", "mlp.layers.0.neurons.0.w.1",
                         "mlp.layers.0.neurons.0.b", "mlp.layers.0.neurons.1.w.0"]
    assert names[-1] == "scale"
    assert list(model.state_dict()) == names
    # The inner MLP, asked on its own, names from itself down.
    assert next(iter(model.mlp.named_parameters()))[0] == "layers.0.neurons.0.w.0"
    dot = to_dot(model([1.0, -1.0]), params=model, max_nodes=100)
    assert "mlp.layers.0.neurons.0.w.0" in dot and "scale" in dot


def test_calling_a_module_checks_its_input_once_then_runs_the_public_forward():
    model = MLP(2, [2, 1], seed=0)
    assert model([1.0, 2.0]).data == model.forward(model.check_input([1.0, 2.0])).data
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):  # forward alone never drops an input silently
        model.layers[0].neurons[0].forward([Value(1.0)])
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        Module()(1.0)


def test_load_state_dict_strict_false_loads_what_fits_and_returns_the_rest():
    model = MLP(2, [1], seed=0)
    state = {"layers.0.neurons.0.w.0": 0.5, "extra": 1.0}
    with pytest.raises(CheckpointError, match="missing layers.0.neurons.0.w.1"):
        model.load_state_dict(state)
    assert model.parameters()[0].data != 0.5  # strict: nothing changed
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert result.unexpected_keys == ["extra"]
    assert model.parameters()[0].data == 0.5
    full = model.load_state_dict(model.state_dict())
    assert full == ([], []) and full.missing_keys == [] and full.unexpected_keys == []


def test_models_pickle_and_come_back_equal():
    import pickle

    model = Classifier()
    again = pickle.loads(pickle.dumps(model))
    assert again.state_dict() == model.state_dict()
    assert again([0.5, 0.5]).data == model([0.5, 0.5]).data

"""nn.flow and fit(flow=True): dead and saturated units on hand-built networks whose answer is
known, gradient statistics equal to hand-computed means, and the per-step record of training."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_core import Value
from autograd_core.nn import (
    ACTIVATIONS,
    MLP,
    SGD,
    Layer,
    Neuron,
    dead_units,
    fit,
    forward_layers,
    gradient_flow,
    make_xor,
    mse_loss,
    objective,
    plot_gradient_flow,
    saturated_units,
)
from autograd_core.nn.flow import NUMPY_ACTIVATIONS


def set_layer(layer, weights, biases):
    for neuron, w, b in zip(layer.neurons, weights, biases):
        for wi, v in zip(neuron.w, w):
            wi.data = v
        neuron.b.data = b


def tiny_net():
    """2 → 2 relu → 1 linear; at x = (1, 2) unit 0 has z = 2 and unit 1 has z = −3 (dead)."""
    model = MLP(2, [2, 1], seed=0)
    set_layer(model.layers[0], [[1.0, 0.5], [-1.0, -1.0]], [0.0, 0.0])
    set_layer(model.layers[1], [[3.0, -2.0]], [0.0])
    return model


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_numpy_activations_match_the_value_ops(name):
    zs = np.linspace(-30.0, 30.0, 121)
    op = ACTIVATIONS[name]
    expected = [z if op is None else op(Value(float(z))).data for z in zs]
    assert np.allclose(NUMPY_ACTIVATIONS[name](zs), expected, rtol=1e-12, atol=1e-15)


def test_forward_layers_equal_the_models_own_forward():
    model = MLP(3, [4, 4, 2], activation="tanh", seed=3)
    X = np.random.RandomState(0).randn(5, 3)
    (_, a), *_ = forward_layers(model.layers[0], X)
    last = forward_layers(model, X)[-1][1]
    for row, x in enumerate(X):
        assert np.allclose(last[row], [v.data for v in model(list(x))])
        assert np.allclose(a[row], [v.data for v in model.layers[0](list(x))])


def test_neuron_with_large_negative_bias_is_dead():
    layer = Layer(2, 3, "relu", seed=1)
    layer.neurons[1].b.data = -100.0  # w ∈ (−1, 1) and |x| ≤ 1: z < 0 for every input
    X = np.random.RandomState(2).uniform(-1, 1, size=(50, 2))
    (dead,) = dead_units(layer, X)
    assert dead.tolist() == [False, True, False]


def test_leaky_relu_with_the_same_bias_is_not_dead():
    layer = Layer(2, 3, "leaky_relu", seed=1)
    layer.neurons[1].b.data = -100.0  # slope 0.01 on the negative side: gradient still flows
    X = np.random.RandomState(2).uniform(-1, 1, size=(50, 2))
    assert dead_units(layer, X)[0].tolist() == [False, False, False]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_huge_weights_saturate_and_small_ones_do_not(activation):
    layer = Layer(2, 2, activation, seed=1)
    set_layer(layer, [[100.0, 100.0], [0.1, -0.1]], [0.0, 0.0])
    X = np.random.RandomState(2).uniform(-1, 1, size=(50, 2))
    assert saturated_units(layer, X)[0].tolist() == [True, False]
    assert dead_units(layer, X)[0].tolist() == [False, False]  # saturated is not dead


def test_saturation_needs_most_of_the_batch():
    neuron_layer = Layer(1, 1, "sigmoid", seed=1)
    set_layer(neuron_layer, [[100.0]], [0.0])
    # |100·x| > 4.6 (σ within 0.01 of a bound) for |x| > 0.046: all rows but one, then one of 3
    assert saturated_units(neuron_layer, [[0.5], [-0.5], [0.0]])[0].tolist() == [True]
    assert saturated_units(neuron_layer, [[0.5], [0.0], [0.01]])[0].tolist() == [False]


def test_stats_equal_hand_computed_means_on_a_tiny_net():
    model = tiny_net()
    model([1.0, 2.0]).backward()  # L = 3·relu(2) − 2·relu(−3)
    hidden, out = gradient_flow(model, [1.0, 2.0])
    # ∂L/∂w₀ = 3·relu'(2)·x = (3, 6); unit 1 is dead: (0, 0); ∂L/∂v = a = (2, 0)
    assert (hidden.grad_mean, hidden.grad_max, hidden.dead, hidden.saturated) == (2.25, 6, .5, 0)
    assert (out.grad_mean, out.grad_max, out.dead, out.saturated) == (1.0, 2.0, 0.0, 0.0)
    assert math.isnan(hidden.update_ratio)  # no step was taken


def test_stats_on_a_model_without_gradients_say_so():
    with pytest.raises(ValueError, match="no gradients yet"):
        gradient_flow(tiny_net(), [1.0, 2.0])


@pytest.mark.parametrize("model", [Neuron(2), "MLP", None])
def test_stats_on_what_is_not_an_mlp_name_what_is_accepted(model):
    with pytest.raises(TypeError, match=r"nn\.MLP or one nn\.Layer"):
        dead_units(model, [[1.0, 2.0]])


def test_stats_refuse_inputs_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"shape \(n, 2\), got shape \(1, 3\)"):
        dead_units(tiny_net(), [[1.0, 2.0, 3.0]])


def test_fit_records_each_layers_flow_at_every_step():
    model = tiny_net()
    X, y = np.array([[1.0, 2.0]]), np.array([5.0])
    before = np.array([w.data for w in model.layers[1].neurons[0].w])
    history = fit(model, objective(mse_loss, classify=False), (X, y),
                  SGD(model.parameters(), lr=0.1), steps=3, progress=False, flow=True)
    assert len(history.flow) == 3 and all(len(step) == 2 for step in history.flow)
    first = history.flow[0]
    # mse: L = (ŷ − 5)² with ŷ = 6 at step 0, so every ∂L/∂w above doubles (2·(ŷ − y) = 2)
    assert (first[0].grad_mean, first[0].grad_max, first[0].dead) == (4.5, 12.0, 0.5)
    # SGD: Δv = −0.1·∂L/∂v = −0.1·(4, 0); ‖Δv‖ / ‖v‖ = 0.4 / ‖(3, −2)‖
    assert first[1].update_ratio == pytest.approx(0.4 / np.linalg.norm(before))


def test_fit_without_flow_records_none_and_flow_needs_an_mlp():
    X, y = make_xor()
    model = MLP(2, [4, 1], seed=0)
    loss_fn = objective(mse_loss, classify=False)
    assert fit(model, loss_fn, (X, y), SGD(model.parameters(), lr=0.1), steps=2,
               progress=False).flow == []
    neuron = Neuron(2)
    with pytest.raises(TypeError, match=r"fit\(\.\.\., flow=True\) works on an nn\.MLP"):
        fit(neuron, loss_fn, (X, y), SGD(neuron.parameters(), lr=0.1), steps=1, progress=False,
            flow=True)


def test_plot_gradient_flow_writes_a_png_atomically_and_needs_flow(tmp_path):
    X, y = make_xor()
    model = MLP(2, [4, 4, 1], seed=0)
    loss_fn = objective(mse_loss, classify=False)
    history = fit(model, loss_fn, (X, y), SGD(model.parameters(), lr=0.1), steps=5,
                  progress=False, flow=True)
    fig = plot_gradient_flow(history, tmp_path / "flow.png")
    assert (tmp_path / "flow.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["flow.png"]  # no temporary file left
    assert [len(ax.lines) for ax in fig.axes] == [3, 3, 4, 6]  # a line per layer (+ guides)
    plain = fit(model, loss_fn, (X, y), SGD(model.parameters(), lr=0.1), steps=1, progress=False)
    with pytest.raises(ValueError, match=r"no gradient-flow statistics.*flow=True"):
        plot_gradient_flow(plain)


def test_overhead_benchmark_runs_end_to_end():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.flow_overhead", "--rounds", "1",
                           "--steps", "2"], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "overhead" in proc.stdout and "the recorder alone" in proc.stdout

"""nn.lessons and make_curve: each picture's numbers on hand-built models whose answer is known
(kinks at −b/w, features = relu(XWᵀ + b), a landscape equal to the loss at its points), and
the refusals a user meets first (wrong input size, no parameters)."""

import math

import numpy as np
import pytest

from autograd_core import Value
from autograd_core.nn import (
    CURVES,
    MLP,
    SGD,
    Adam,
    Layer,
    Module,
    Neuron,
    descent_path,
    evaluate_many,
    filter_normalized_directions,
    function_grid,
    hidden_space,
    loss_landscape,
    make_curve,
    mse_loss,
    objective,
    pca_directions,
    plot_fit,
    plot_function,
    plot_hidden_space,
    plot_landscape,
    record_trajectory,
    relu_kinks,
)


def set_layer(layer, weights, biases):
    for neuron, w, b in zip(layer.neurons, weights, biases):
        for wi, v in zip(neuron.w, w):
            wi.data = v
        neuron.b.data = b


def spline_net():
    """f(x) = 1·relu(2x − 1) − 1·relu(−x − 0.5) + 0·relu(0·x + 1) + 0.25: kinks at ½ and −½."""
    model = MLP(1, [3, 1], seed=0)
    set_layer(model.layers[0], [[2.0], [-1.0], [0.0]], [-1.0, -0.5, 1.0])
    set_layer(model.layers[1], [[1.0, -1.0, 0.0]], [0.25])
    return model


class NoParameters(Module):
    def forward(self, x):
        return x[0] * 2.0


mse = objective(mse_loss, classify=False)


# --- make_curve ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sine", "abs", "step"])
def test_make_curve_is_the_curve_at_evenly_spaced_points(kind):
    X, y = make_curve(kind, n=11)
    assert X.shape == (11, 1) and np.allclose(X[:, 0], np.linspace(-1, 1, 11))
    assert np.array_equal(y, CURVES[kind](X[:, 0]))


def test_make_curve_noisy_adds_seeded_noise_of_the_default_size():
    X, y = make_curve("noisy", n=2000, seed=3)
    residual = y - CURVES["noisy"](X[:, 0])
    assert 0.09 < residual.std() < 0.11
    assert np.array_equal(y, make_curve("noisy", n=2000, seed=3)[1])
    assert np.array_equal(make_curve("noisy", n=5, noise=0.0)[1],
                          CURVES["noisy"](np.linspace(-1, 1, 5)))


def test_make_curve_refuses_an_unknown_kind_naming_the_choices():
    with pytest.raises(ValueError, match="'cosine'.*sine, abs, step, noisy"):
        make_curve("cosine")
    with pytest.raises(ValueError, match="noise"):
        make_curve("sine", noise=-1.0)


# --- the spline view --------------------------------------------------------------------------

def test_relu_kinks_are_minus_b_over_w_and_nan_where_w_is_zero():
    kinks = relu_kinks(spline_net())
    assert kinks[0] == 0.5 and kinks[1] == -0.5 and math.isnan(kinks[2])
    neuron = Neuron(1, seed=0)
    neuron.w[0].data, neuron.b.data = 4.0, 1.0
    assert relu_kinks(neuron).tolist() == [-0.25]


def test_one_hidden_layer_relu_net_is_linear_between_its_kinks():
    model = spline_net()
    xs = np.linspace(-1.0, 1.0, 201)
    f = evaluate_many(lambda t: model([t]), [xs])[:, 0]
    second = np.abs(np.diff(f, 2))
    bends = xs[1:-1][second > 1e-9]
    assert np.allclose(bends, [-0.5, 0.5])  # the grid holds both kinks exactly
    assert f[100] == pytest.approx(0.25) and f[-1] == pytest.approx(1.25)


def test_relu_kinks_and_plot_fit_refuse_a_model_with_two_inputs_naming_both_sizes():
    with pytest.raises(ValueError, match=r"1 input, but MLP\(2 .* takes 2"):
        relu_kinks(MLP(2, [3, 1], seed=0))
    with pytest.raises(ValueError, match=r"1 input, but MLP\(2 .* takes 2"):
        plot_fit(MLP(2, [3, 1], seed=0), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="X has 2 columns but the model takes 1 input"):
        plot_fit(spline_net(), np.zeros((4, 2)), np.zeros(4))


def test_plot_fit_marks_each_kink_on_the_curve_and_draws_every_unit(tmp_path):
    model = spline_net()
    X = np.linspace(-1, 1, 9).reshape(-1, 1)
    fig = plot_fit(model, X, X[:, 0] ** 2, tmp_path / "fit.png")
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    top, terms = fig.axes
    marks = [c for c in top.collections if c.get_label().startswith("kinks")]
    points = marks[0].get_offsets()
    assert sorted(map(tuple, np.round(points, 12))) == [(-0.5, 0.25), (0.5, 0.25)]
    assert "2 of 3 units" in marks[0].get_label()
    assert len(terms.lines) == 3 + 1  # one term per unit, and the zero line


# --- functions of two inputs --------------------------------------------------------------

def test_function_grid_of_a_value_function_is_the_function_at_every_grid_point():
    xs, ys, Z = function_grid(lambda a, b: a * a + 3 * b, (-1, 1), (0, 2), resolution=5)
    assert Z.shape == (1, 5, 5) and np.allclose(Z[0], xs**2 + 3 * ys)
    assert xs[0, 0] == -1 and xs[0, -1] == 1 and ys[0, 0] == 0 and ys[-1, 0] == 2


def test_function_grid_of_a_two_to_two_map_has_one_grid_per_output():
    layer = Layer(2, 2, activation="linear", seed=0)
    set_layer(layer, [[1.0, 2.0], [-1.0, 0.5]], [0.0, 1.0])
    xs, ys, Z = function_grid(layer, resolution=4)
    assert np.allclose(Z[0], xs + 2 * ys) and np.allclose(Z[1], -xs + 0.5 * ys + 1)


def test_evaluate_many_catches_a_function_that_escapes_the_trace():
    # Reading .data makes a number the trace cannot follow: replayed, it would be a constant.
    xs = np.array([1.0, 2.0, 3.0])
    values = evaluate_many(lambda a: Value(a.data ** 2), [xs])
    assert np.allclose(values[:, 0], xs**2)


def test_plot_function_refuses_a_model_whose_input_size_does_not_fit():
    with pytest.raises(ValueError, match=r"plot_function needs .* 2 inputs, but MLP\(3 .* takes 3"):
        plot_function(MLP(3, [2, 1], seed=0))
    with pytest.raises(ValueError, match="kind must be"):
        plot_function(lambda a, b: a + b, kind="heatmap")
    with pytest.raises(ValueError, match=r"log=True needs f > 0.*-4"):
        plot_function(lambda a, b: a + b, log=True)
    with pytest.raises(ValueError, match="xlim"):
        plot_function(lambda a, b: a + b, xlim=(1, -1))


def test_plot_function_contours_span_the_function_and_overlay_a_two_output_map():
    fig = plot_function(lambda a, b: a * a + b * b, (-2, 2), (-2, 2), levels=8)
    filled = fig.axes[0].collections[0]
    assert filled.levels[0] <= 0.0 and filled.levels[-1] >= 8.0 - 1e-9
    assert filled.levels[-1] - filled.levels[0] < 12.0
    both = plot_function(lambda a, b: [a + b, a - b], levels=5)
    assert len(both.axes) == 1 and len(both.axes[0].collections) == 2  # u = c and v = c
    surface = plot_function(lambda a, b: a * b, kind="surface")
    assert surface.axes[0].name == "3d"


def test_plot_function_draws_a_path_through_its_points():
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]])
    fig = plot_function(lambda a, b: a * a + b * b, paths={"sgd": path})
    line = [ln for ln in fig.axes[0].lines if ln.get_label() == "sgd"][0]
    assert np.array_equal(line.get_xydata(), path)


def test_descent_path_of_sgd_on_a_bowl_shrinks_geometrically():
    # θ ← θ − 0.1·2θ = 0.8θ on f = x² + y².
    path = descent_path(lambda x, y: x * x + y * y, [1.0, -2.0],
                        lambda ps: SGD(ps, lr=0.1), steps=5)
    assert path.shape == (6, 2)
    assert np.allclose(path, np.outer(0.8 ** np.arange(6), [1.0, -2.0]))
    with pytest.raises(ValueError, match="steps"):
        descent_path(lambda x: x * x, [1.0], lambda ps: SGD(ps, lr=0.1), steps=0)


# --- hidden space ---------------------------------------------------------------------------

def xor_net():
    """XOR by hand: h₀ = relu(x₀ + x₁), h₁ = relu(x₀ + x₁ − 1), s = h₀ − 2h₁ − ½: positive
    exactly on (0, 1) and (1, 0)."""
    model = MLP(2, [2, 1], seed=0)
    set_layer(model.layers[0], [[1.0, 1.0], [1.0, 1.0]], [0.0, -1.0])
    set_layer(model.layers[1], [[1.0, -2.0]], [-0.5])
    return model


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def test_hidden_space_of_two_units_is_the_units_with_the_last_layers_line():
    space = hidden_space(xor_net(), XOR_X)
    assert space.projection == "units"
    assert np.array_equal(space.coords, [[0, 0], [1, 0], [1, 0], [2, 1]])
    assert np.array_equal(space.normal, [1.0, -2.0]) and space.offset == -0.5
    assert space.readout_accuracy(XOR_Y) == 1.0
    assert space.readout_accuracy(1 - XOR_Y) == 0.0


def test_hidden_space_projects_more_units_by_pca_keeping_the_readout():
    model = MLP(2, [3, 1], seed=0)
    # Three units, two of them copies: the features lie in a plane, which PCA finds exactly.
    set_layer(model.layers[0], [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], [0.5, 0.5, 0.5])
    set_layer(model.layers[1], [[1.0, -1.0, 1.0]], [-0.2])
    X = np.random.RandomState(0).uniform(0, 1, size=(20, 2))
    space = hidden_space(model, X)
    assert space.projection == "pca" and space.explained == pytest.approx(1.0)
    assert np.allclose(space.basis @ space.basis.T, np.eye(2))
    assert np.allclose(space.mean + space.coords @ space.basis, space.features)
    score = space.features @ [1.0, -1.0, 1.0] - 0.2
    assert np.allclose(space.coords @ space.normal + space.offset, score)
    assert space.readout_accuracy((score > 0).astype(int)) == 1.0


def test_hidden_space_refuses_a_wrong_layer_or_input_size():
    with pytest.raises(ValueError, match=r"takes 2 inputs, but X has shape \(4, 3\)"):
        hidden_space(xor_net(), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="one of the 1 hidden layers"):
        hidden_space(xor_net(), XOR_X, layer=1)
    with pytest.raises(ValueError, match="no hidden layer"):
        hidden_space(MLP(2, [1], seed=0), XOR_X)


def test_plot_hidden_space_shows_the_points_where_the_layer_puts_them():
    fig = plot_hidden_space(xor_net(), XOR_X, XOR_Y)
    inputs, hidden = fig.axes
    drawn = np.concatenate([c.get_offsets() for c in hidden.collections])
    assert sorted(map(tuple, drawn)) == [(0, 0), (1, 0), (1, 0), (2, 1)]
    assert "100% right" in [t.get_text() for t in hidden.get_legend().get_texts()][-1]


# --- the loss landscape ---------------------------------------------------------------------

def test_filter_normalized_directions_give_each_neuron_its_weights_norm():
    model = MLP(2, [3, 1], seed=4)
    d = filter_normalized_directions(model, seed=1)
    index = {p: i for i, p in enumerate(model.parameters())}
    for neuron in [n for layer in model.layers for n in layer.neurons]:
        rows = [index[w] for w in neuron.w]
        norm = np.linalg.norm([w.data for w in neuron.w])
        assert np.allclose(np.linalg.norm(d[:, rows], axis=1), norm)
        assert (d[:, index[neuron.b]] == 0).all()
    assert np.array_equal(d, filter_normalized_directions(model, seed=1))


def test_loss_landscape_is_the_loss_at_each_point_and_leaves_the_model_alone():
    model = MLP(1, [3, 1], activation="tanh", seed=2)
    X, y = make_curve("abs", n=8)
    before = [p.data for p in model.parameters()]
    land = loss_landscape(model, mse, (X, y), span=0.5, resolution=5, seed=0)
    assert [p.data for p in model.parameters()] == before
    assert land.loss[2, 2] == pytest.approx(mse(model, X, y)[0].data, rel=1e-12)
    i, j = 0, 4  # β = −0.5, α = 0.5
    theta = land.center + land.alphas[j] * land.directions[0] + land.betas[i] * land.directions[1]
    for p, v in zip(model.parameters(), theta):
        p.data = v
    assert land.loss[i, j] == pytest.approx(mse(model, X, y)[0].data, rel=1e-12)


@pytest.mark.parametrize("loss_name", ["hinge objective with L2", "the same loss as a lambda"])
def test_relu_classifier_landscape_is_the_loss_at_every_point(loss_name):
    # An Objective on an MLP takes the numpy path, a custom loss the eager one (a ReLU
    # network's guards flip across the plane): both are the loss itself at every point.
    from autograd_core.nn import hinge_loss, make_moons, objective

    X, y01 = make_moons(12, noise=0.1, seed=1)
    y = 2 * y01 - 1
    demo = objective(hinge_loss, alpha=1e-3)
    loss = demo if loss_name.startswith("hinge") else (lambda m, X, y: demo(m, X, y))
    model = MLP(2, [4, 1], seed=0)
    land = loss_landscape(model, loss, (X, y), span=1.0, resolution=4, seed=3)
    for i in range(4):
        for j in range(4):
            theta = (land.center + land.alphas[j] * land.directions[0]
                     + land.betas[i] * land.directions[1])
            for p, v in zip(model.parameters(), theta):
                p.data = float(v)
            assert land.loss[i, j] == pytest.approx(demo(model, X, y)[0].data, rel=1e-12)


def test_loss_landscape_refuses_a_model_with_no_parameters_or_wrong_directions():
    with pytest.raises(ValueError, match="has no parameters"):
        loss_landscape(NoParameters(), mse, (np.zeros((2, 1)), np.zeros(2)))
    with pytest.raises(ValueError, match=r"shape \(2, 10\).*10 parameters, got \(2, 3\)"):
        loss_landscape(MLP(1, [3, 1], seed=0), mse, (np.zeros((2, 1)), np.zeros(2)),
                       directions=np.zeros((2, 3)))


def test_landscape_coordinates_recover_a_point_of_the_plane():
    model = MLP(1, [3, 1], seed=2)
    X, y = make_curve("sine", n=6)
    land = loss_landscape(model, mse, (X, y), resolution=3)
    theta = land.center + 0.3 * land.directions[0] - 0.2 * land.directions[1]
    assert np.allclose(land.coordinates(theta), [[0.3, -0.2]])
    with pytest.raises(ValueError, match="4 entries but the landscape's model has 10"):
        land.coordinates(np.zeros(4))


def test_record_trajectory_keeps_every_step_and_pca_finds_its_direction():
    model = MLP(1, [3, 1], seed=2)
    X, y = make_curve("sine", n=6)
    start = np.array([p.data for p in model.parameters()])
    run = record_trajectory(model, mse, (X, y), Adam(model.parameters(), lr=0.05), steps=7)
    assert run.params.shape == (8, 10) and np.array_equal(run.params[0], start)
    assert np.array_equal(run.params[-1], [p.data for p in model.parameters()])
    assert len(run.loss) == 7 and run.steps_to(run.loss[3]) <= 4
    assert run.steps_to(-1.0) is None
    line = np.outer(np.linspace(0, 1, 5), np.arange(10.0))
    d = pca_directions([line], center=np.zeros(10))
    assert abs(d[0] @ np.arange(10.0)) == pytest.approx(np.linalg.norm(np.arange(10.0)))


def test_plot_landscape_draws_each_trajectory_at_its_coordinates(tmp_path):
    model = MLP(1, [3, 1], seed=2)
    X, y = make_curve("sine", n=6)
    run = record_trajectory(model, mse, (X, y), SGD(model.parameters(), lr=0.1), steps=4)
    land = loss_landscape(model, mse, (X, y), resolution=4,
                          directions=pca_directions([run.params], run.params[-1]))
    fig = plot_landscape(land, {"sgd": run}, tmp_path / "land.png")
    line = [ln for ln in fig.axes[0].lines if ln.get_label() == "sgd"][0]
    assert np.allclose(line.get_xydata(), land.coordinates(run.params))
    assert (tmp_path / "land.png").stat().st_size > 1000


def test_plot_landscape_draws_a_zero_loss_at_a_floor_not_at_minus_300_decades():
    from autograd_core.nn import Landscape

    loss = np.array([[0.0, 1e-3], [1.0, 10.0]])
    land = Landscape(np.zeros(2), np.eye(2), np.array([-1.0, 1.0]), np.array([-1.0, 1.0]), loss)
    levels = plot_landscape(land).axes[0].collections[0].levels
    assert levels[0] >= -3.0 - 1e-9 and levels[-1] <= 1.0 + 1e-9


def test_record_trajectory_compiled_takes_the_same_steps_as_eager():
    X, y = make_curve("sine", n=6)
    runs = []
    for compiled in (False, True):
        model = MLP(1, [3, 1], seed=2)
        runs.append(record_trajectory(model, mse, (X, y), SGD(model.parameters(), lr=0.1),
                                      steps=4, compile=compiled))
    assert np.allclose(runs[0].params, runs[1].params, rtol=1e-12, atol=1e-14)


def test_function_grid_of_a_sigmoid_neuron_is_a_ridge_along_its_weights():
    neuron = Neuron(2, activation="sigmoid", seed=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 3.0, 1.0, -1.0
    xs, ys, Z = function_grid(neuron, resolution=7)
    assert np.allclose(Z[0], 1.0 / (1.0 + np.exp(-(3.0 * xs + ys - 1.0))), rtol=1e-12)
    with pytest.raises(ValueError, match=r"2 inputs, but Neuron\(3, relu\) takes 3"):
        function_grid(Neuron(3, seed=0))


def test_plot_fit_draws_a_model_without_neurons_with_no_kinks():
    class Square(Module):
        def forward(self, x):
            return x[0] * x[0]

    fig = plot_fit(Square(), np.linspace(-1, 1, 5).reshape(-1, 1), np.linspace(-1, 1, 5) ** 2)
    curve = [ln for ln in fig.axes[0].lines if ln.get_label() == "model f(x)"][0]
    x, f = curve.get_xdata(), curve.get_ydata()
    assert np.allclose(f, x**2)
    assert not [c for c in fig.axes[0].collections if c.get_label().startswith("kinks")]

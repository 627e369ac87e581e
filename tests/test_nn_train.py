"""nn.data, nn.train, nn.plot and the moons demo: datasets, fit, accuracy, learning the slides'
toy problems, pictures."""

import gc
import math

import numpy as np
import pytest

from autograd_core import Value, is_grad_enabled
from autograd_core.nn import (
    MLP,
    SGD,
    Adam,
    accuracy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    fit,
    hinge_loss,
    linear_schedule,
    make_circles,
    make_line,
    make_moons,
    make_patterns,
    make_spiral,
    make_xor,
    minibatches,
    mse_loss,
    objective,
    plot_decision_boundary,
    plot_loss,
    predict,
)
from autograd_core.nn.recipes import RECIPES, train, train_moons

DATASETS = {
    "moons": (make_moons, 2, 2),
    "xor": (make_xor, 2, 2),
    "spiral": (make_spiral, 2, 3),
    "circles": (make_circles, 2, 2),
    "patterns": (make_patterns, 9, 3),
}


@pytest.mark.parametrize("name", DATASETS)
def test_datasets_are_seeded_numpy_arrays(name):
    make, features, classes = DATASETS[name]
    X, y = make(n=30, noise=0.1, seed=4)
    X2, y2 = make(n=30, noise=0.1, seed=4)
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (len(y), features)
    assert set(y.tolist()) == set(range(classes))
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(n=30, noise=0.1, seed=5)[0])


def test_xor_without_noise_is_the_truth_table():
    X, y = make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]


def test_line_is_w_x_plus_noise():
    X, y = make_line(n=200, w=3.0, b=0.5, noise=0.0, seed=1)
    assert X.shape == (200, 1)
    assert np.allclose(y, 3.0 * X[:, 0] + 0.5)


def test_moons_lie_on_two_half_circles():
    X, y = make_moons(n=40, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)


def test_patterns_without_noise_are_bars_and_diagonals():
    X, y = make_patterns(n=30, noise=0.0, seed=0)
    images = X.reshape(-1, 3, 3)
    for image, label in zip(images, y):
        assert image.sum() == 3
        if label == 0:
            assert (image.sum(axis=0) == 3).any()  # a full column
        elif label == 1:
            assert (image.sum(axis=1) == 3).any()  # a full row
        else:
            assert np.trace(image) == 3 or np.trace(np.fliplr(image)) == 3


def test_minibatches_cover_every_row_once():
    X, y = np.arange(10).reshape(10, 1), np.arange(10)
    batches = list(minibatches(X, y, batch_size=4, seed=0))
    assert [len(b) for b, _ in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b for _, b in batches]).tolist()) == list(range(10))
    assert all((bx[:, 0] == by).all() for bx, by in batches)
    assert [b.tolist() for _, b in minibatches(X, y, 5, shuffle=False)] == [[0, 1, 2, 3, 4],
                                                                            [5, 6, 7, 8, 9]]


@pytest.mark.parametrize("call, error, words", [
    (lambda: make_moons(n=1), ValueError, "n must be at least 2, got 1"),
    (lambda: make_xor(noise=-1.0), ValueError, "noise must be a finite number ≥ 0, got -1.0"),
    (lambda: make_circles(factor=1.5), ValueError, "factor (the inner radius) must be in (0, 1)"),
    (lambda: make_spiral(classes=0), ValueError, "classes must be at least 1"),
    (lambda: make_line(seed="x"), TypeError, "seed must be an int"),
    (lambda: list(minibatches(np.zeros((3, 1)), np.zeros(2), 2)), ValueError,
     "X has 3 rows but y has 2"),
    (lambda: list(minibatches(np.zeros((3, 1)), np.zeros(3), 0)), ValueError,
     "batch_size must be at least 1"),
])
def test_bad_dataset_arguments_say_what_is_wrong(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# --- accuracy, fit ---------------------------------------------------------------------------

def test_accuracy_reads_scores_logits_and_class_lists():
    assert accuracy([Value(0.3), -1.2, 2.0], [1, -1, -1]) == pytest.approx(2 / 3)  # ±1 labels
    assert accuracy([0.3, -1.2], [1, 0]) == 1.0  # 0/1 labels
    assert accuracy([0.7, 0.2], [1, 1], threshold=0.5) == 0.5  # probabilities
    assert accuracy([[0.1, 2.0, -1.0], [Value(3.0), 0.0, 0.0]], [1, 2]) == 0.5
    assert predict([0.1, 2.0, -1.0]) == 1
    with pytest.raises(ValueError, match="2 outputs but 1 labels"):
        accuracy([0.1, 0.2], [1])


def test_fit_records_history_calls_back_and_evaluates_without_grad():
    X, y = make_line(n=20, seed=0)
    model = MLP(1, [1], seed=0)
    seen = []

    def loss_fn(model, Xb, yb):
        if not model.training:
            seen.append(("eval", is_grad_enabled()))
        else:
            assert not gc.isenabled()  # each training step runs with the collector paused
        return objective(mse_loss, classify=False)(model, Xb, yb)

    def callback(step, loss, acc):
        seen.append((step, acc))
        return step == 4  # stop early

    opt = SGD(model.parameters(), lr=linear_schedule(0.2, 0.1, 5))
    history = fit(model, loss_fn, (X, y), opt, steps=50, progress=False, callback=callback)
    assert len(history.loss) == 5 and history.accuracy == [None] * 5
    assert history.lr == pytest.approx([0.2, 0.18, 0.16, 0.14, 0.12])
    assert history.loss[-1] < history.loss[0]
    assert seen == [(0, None), (1, None), (2, None), (3, None), (4, None), ("eval", False)]
    assert model.training  # fit leaves the model in training mode
    assert gc.isenabled()
    assert history.final_accuracy is None and math.isfinite(history.final_loss)


def test_fit_learns_the_line_with_minibatches_by_epochs():
    X, y = make_line(n=32, w=2.0, noise=0.0, seed=0)
    model = MLP(1, [1], seed=0)
    history = fit(model, objective(mse_loss, classify=False), (X, y), SGD(model.parameters(), 0.3),
                  epochs=15, batch_size=8, progress=False, seed=0)
    assert len(history.loss) == 15 * 4
    assert model.layers[0].neurons[0].w[0].data == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize("kwargs, words", [
    ({}, "give exactly one of steps and epochs"),
    ({"steps": 5, "epochs": 1}, "give exactly one of steps and epochs"),
    ({"steps": 0}, "steps must be an int ≥ 1 or None, got 0"),
    ({"steps": 5, "batch_size": 0}, "batch_size must be an int ≥ 1 or None, got 0"),
])
def test_fit_refuses_bad_arguments(kwargs, words):
    model = MLP(1, [1])
    X, y = make_line(n=4, seed=0)
    with pytest.raises(ValueError) as info:
        fit(model, objective(mse_loss, classify=False), (X, y), SGD(model.parameters(), 0.1),
            progress=False, **kwargs)
    assert words in str(info.value)


# --- the slides' toy problems ----------------------------------------------------------------

def _train_xor(activation):
    X, y = make_xor()
    model = MLP(2, [16, 1], activation=activation, seed=0)
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    return fit(model, objective(binary_cross_entropy_with_logits), (X, y), opt, steps=100,
               progress=False)


def test_slides_relu_mlp_solves_xor_but_linear_layers_collapse():
    assert _train_xor("relu").final_accuracy == 1.0
    # Without a nonlinearity the two layers are one linear map, and no line separates XOR:
    # at most 3 of the 4 points can be right.
    assert _train_xor("linear").final_accuracy <= 0.75


def test_slides_smallest_network_learns_the_3x3_patterns():
    X, y = make_patterns(n=30, seed=0)
    model = MLP(9, [6, 3], seed=0)
    history = fit(model, objective(cross_entropy), (X, y), Adam(model.parameters(), 0.05),
                  steps=40, progress=False)
    assert history.final_accuracy == 1.0


def test_small_moons_run_reaches_95_percent_quickly():
    X, y = make_moons(n=60, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 1], seed=1)
    opt = SGD(model.parameters(), lr=linear_schedule(0.5, 0.05, 30), momentum=0.9)
    history = fit(model, objective(hinge_loss, alpha=1e-4), (X, 2 * y - 1), opt, steps=30,
                  progress=False)
    assert history.final_accuracy >= 0.95


# --- pictures and the demo -------------------------------------------------------------------

def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_pngs_atomically(tmp_path):
    X, y = make_spiral(n=10, seed=0)
    model = MLP(2, [4, 3], seed=0).eval()
    path = tmp_path / "deep" / "boundary.png"
    plot_decision_boundary(model, X, y, path, resolution=10)
    assert _is_png(path)
    assert not model.training  # the mode is restored, not forced
    history = fit(MLP(1, [1], seed=0), objective(mse_loss, classify=False), make_line(n=4, seed=0),
                  SGD(MLP(1, [1], seed=0).parameters(), 0.1), steps=1, progress=False)
    plot_loss(history, tmp_path / "loss.png")
    assert _is_png(tmp_path / "loss.png")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["boundary.png", "deep", "loss.png"]
    with pytest.raises(ValueError, match=r"needs 2-D points \(shape \(n, 2\)\), got \(4, 1\)"):
        plot_decision_boundary(model, np.zeros((4, 1)), np.zeros(4))


def test_demo_trains_and_writes_its_files(tmp_path):
    result = train_moons(tmp_path, steps=3, progress=False, resolution=8)
    assert len(result.history.loss) == 3
    assert [p.name for p in result.files] == ["moons_boundary.png", "moons_loss.png",
                                              "moons_model.json"]
    assert all(p.exists() for p in result.files)
    reloaded = MLP(2, [16, 16, 1]).load(tmp_path / "moons_model.json")
    assert reloaded.state_dict() == result.model.state_dict()


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_trains_a_step_and_writes_its_files(tmp_path, name):
    result = train(name, tmp_path, steps=1, progress=False, resolution=4)
    assert len(result.history.loss) == 1
    assert [p.name for p in result.files] == [f"{name}_boundary.png", f"{name}_loss.png",
                                              f"{name}_model.json"]


def test_recipe_with_flow_records_every_layer_and_adds_two_pictures(tmp_path):
    result = train("xor", tmp_path, steps=2, progress=False, resolution=4, flow=True)
    assert [len(step) for step in result.history.flow] == [3, 3]  # MLP(2, [8, 8, 1])
    assert [p.name for p in result.files][3:] == ["xor_flow.png", "xor_network.svg"]
    assert all(p.exists() for p in result.files)


@pytest.mark.parametrize("name, steps, words", [("mnist", 1, "unknown dataset 'mnist'"),
                                                ("moons", 0, "steps must be a positive")])
def test_recipe_bad_input(tmp_path, name, steps, words):
    with pytest.raises(ValueError, match=words):
        train(name, tmp_path, steps=steps, progress=False)
    assert list(tmp_path.iterdir()) == []

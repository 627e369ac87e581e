"""A model called on a batch (a 2-D array or a list of points) returns one output per point, as
PyTorch's batched forward does; one point works as before; bad batches name both sizes."""

import numpy as np
import pytest

from autograd_core import Value
from autograd_core.nn import MLP, Layer, Neuron


def data(outputs):
    """Values (nested in lists) as floats, the same nesting."""
    if isinstance(outputs, Value):
        return outputs.data
    return [data(o) for o in outputs]


MODELS = [
    pytest.param(lambda: MLP(3, [4, 4, 1], seed=0), id="mlp-one-output"),
    pytest.param(lambda: MLP(3, [4, 2], activation="tanh", seed=1), id="mlp-two-outputs"),
    pytest.param(lambda: Layer(3, 5, "sigmoid", seed=2), id="layer"),
    pytest.param(lambda: Neuron(3, "leaky_relu", seed=3), id="neuron"),
]


@pytest.mark.parametrize("make", MODELS)
def test_batch_as_2d_array_gives_each_rows_output(make):
    model = make()
    X = np.random.default_rng(0).normal(size=(6, 3))
    outputs = model(X)
    assert isinstance(outputs, list) and len(outputs) == 6
    assert data(outputs) == [data(model(row)) for row in X]


@pytest.mark.parametrize("make", MODELS)
def test_batch_as_list_of_points_or_tuple_of_tuples_is_the_same_batch(make):
    model = make()
    X = np.random.default_rng(1).normal(size=(4, 3))
    want = data(model(X))
    assert data(model(X.tolist())) == want
    assert data(model(tuple(tuple(row) for row in X.tolist()))) == want
    assert data(model(list(X))) == want  # a list of 1-D arrays


def test_one_point_returns_one_output_as_before():
    model = MLP(2, [3, 1], seed=0)
    assert isinstance(model([0.5, -1.0]), Value)
    assert isinstance(model(np.array([0.5, -1.0])), Value)
    assert isinstance(model((0.5, -1.0)), Value)
    assert model([0.5, -1.0]).data == model(np.array([0.5, -1.0])).data
    assert len(MLP(2, [3, 2], seed=0)([0.5, -1.0])) == 2


def test_one_input_model_reads_a_column_as_a_batch_and_a_flat_list_as_one_point():
    model = MLP(1, [3, 1], seed=0)
    assert len(model(np.array([[0.1], [0.2], [0.3]]))) == 3
    with pytest.raises(ValueError, match="takes 1 inputs, got 3"):
        model([0.1, 0.2, 0.3])


def test_batch_of_values_keeps_the_graph_to_each_input():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    points = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)]]
    outputs = model(points)
    (outputs[0] + outputs[1]).backward()
    assert all(x.grad != 0.0 for point in points for x in point)
    assert all(p.grad != 0.0 for p in model.layers[-1].parameters())


def test_batch_output_backward_sums_like_per_point_calls():
    X = np.random.default_rng(2).normal(size=(5, 2))
    batched, looped = MLP(2, [4, 1], seed=3), MLP(2, [4, 1], seed=3)
    sum(batched(X)).backward()
    sum(looped(x) for x in X).backward()
    assert [p.grad for p in batched.parameters()] == [p.grad for p in looped.parameters()]


def test_empty_2d_array_is_an_empty_batch():
    assert MLP(2, [3, 1])(np.zeros((0, 2))) == []


def test_ragged_batch_names_both_widths():
    with pytest.raises(ValueError, match=r"ragged batch: point 0 has 2 inputs but point 2 has 3"):
        MLP(2, [3, 1])([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0, 7.0]])


@pytest.mark.parametrize("batch", [np.zeros((4, 3)), [[1.0, 2.0, 3.0]] * 4],
                         ids=["array", "list"])
def test_batch_of_the_wrong_width_names_both_sizes(batch):
    with pytest.raises(ValueError, match=r"MLP\(2 → 3 → 1.*takes 2 inputs per point, but the "
                                         r"batch's 4 points have 3"):
        MLP(2, [3, 1])(batch)


def test_a_number_among_points_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match=r"point 1 of the batch is float 3.0, not a list of 2"):
        MLP(2, [3, 1])([[1.0, 2.0], 3.0])


def test_array_of_three_dimensions_is_refused_with_its_shape():
    with pytest.raises(ValueError, match=r"2-D array .* shape \(2, 3, 2\)"):
        MLP(2, [3, 1])(np.zeros((2, 3, 2)))


def test_a_refused_batch_is_refused_before_any_point_runs():
    calls = []

    class Counted(MLP):
        def forward(self, x):
            calls.append(x)
            return super().forward(x)

    with pytest.raises(ValueError, match="ragged"):
        Counted(2, [3, 1], seed=0)([[1.0, 2.0], [3.0, 4.0], [1.0]])
    assert calls == []

"""Pytrees in compiled programs (issue 22 item 3): tuples, lists, dicts, namedtuples and nested
ones as arguments and aux results, each gradient in its argument's shape — the flattening of
autograd_core.pytree, as grad uses it. A batch of points is a numpy array, never a list.
"""

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Value, compile, grad, tree_leaves, tree_map, value_and_grad

Params = namedtuple("Params", "w b")


def loss(params, x):
    return (params["w"] * x + params["b"] - 1.0) ** 2


def test_a_dict_of_parameters_gets_a_dict_of_gradients_equal_to_grads():
    params = {"w": 0.5, "b": 0.1}
    program = compile(loss, params, 2.0)
    for p, x in (({"w": 0.5, "b": 0.1}, 2.0), ({"w": -1.5, "b": 0.7}, 0.3)):
        value, (g_params, g_x) = program(p, x)
        expected = value_and_grad(loss, (0, 1))(p, x)
        assert value == expected[0]
        assert g_params == pytest.approx(expected[1][0], rel=1e-12)
        assert g_x == pytest.approx(expected[1][1], rel=1e-12)
        assert list(g_params) == ["b", "w"]  # a dict's keys sorted, as JAX and grad do
    assert len(program.traces) == 1


def test_lists_tuples_namedtuples_and_nesting_keep_their_shapes():
    def f(p):
        (a, b), rest = p["pair"], p["rest"]
        return a * b + rest[0] * rest[1].w + rest[1].b

    p = {"pair": (2.0, 3.0), "rest": [4.0, Params(5.0, 6.0)]}
    value, (g,) = compile(f)(p)
    assert value == 2 * 3 + 4 * 5 + 6
    assert g == {"pair": (3.0, 2.0), "rest": [5.0, Params(4.0, 1.0)]}
    assert g == grad(f)(p)


def test_an_array_inside_a_pytree_is_a_container_of_parameters_as_grad_reads_it():
    def f(p):
        return p["v"][0] * p["v"][1]

    value, (g,) = compile(f)({"v": np.array([2.0, 3.0])})
    assert value == 6.0 and g["v"].tolist() == [3.0, 2.0]


def test_a_batch_is_a_numpy_array_beside_pytree_parameters():
    program = compile(loss, {"w": 0.5, "b": 0.1}, 2.0)
    xs = np.array([1.0, 2.0, 3.0])
    values, (g_params, g_x) = program({"w": 0.5, "b": 0.1}, xs)
    for j, x in enumerate(xs.tolist()):
        value, (gp, gx) = value_and_grad(loss, (0, 1))({"w": 0.5, "b": 0.1}, x)
        assert values[j] == pytest.approx(value, rel=1e-12)
        assert (g_params["w"][j], g_params["b"][j]) == pytest.approx((gp["w"], gp["b"]))
        assert g_x[j] == pytest.approx(gx, rel=1e-12)


def test_a_list_that_once_meant_a_batch_is_refused_with_the_numpy_spelling():
    program = compile(lambda x: x * 2.0, 1.0)
    with pytest.raises(TypeError, match=r"argument x is a list, which compile reads as a "
                                        r"pytree .* pass a numpy array: np\.array"):
        program([1.0, 2.0, 3.0])
    assert len(program.variants) == 1 and len(program.traces) == 1  # nothing changed
    assert program(np.array([1.0, 2.0]))[0].tolist() == [2.0, 4.0]


def test_a_container_holding_a_non_number_is_one_static_argument():
    calls = []

    def f(x, options):
        calls.append(options)
        return x * options["scale"] if options["act"] == "linear" else (x * options["scale"]).tanh()

    program = compile(f)
    assert program(2.0, {"act": "linear", "scale": 3.0}) == (6.0, (3.0,))
    assert program(1.0, {"act": "linear", "scale": 3.0}) == (3.0, (3.0,))  # equal: cached
    assert len(calls) == 1
    value, _ = program(0.5, {"act": "tanh", "scale": 3.0})  # a new value: its own variant
    assert value == pytest.approx(math.tanh(1.5)) and len(program.variants) == 2
    with pytest.raises(TypeError, match=r"argument options is a dict holding "
                                        r"options\['act'\] = 'relu', not a number"):
        compile(lambda x, options: x * options["act"])(1.0, {"act": "relu"})


def test_keyword_pytrees_replay_and_return_no_gradient():
    program = compile(lambda x, p=None: x * p["w"] + p["b"])
    assert program(2.0, p={"w": 3.0, "b": 1.0}) == (7.0, (3.0,))
    assert program(1.0, p={"w": 5.0, "b": 0.0}) == (5.0, (5.0,))


def test_aux_results_are_pytrees_rebuilt_with_numbers():
    def f(p):
        return p.w * p.b, {"parts": Params(p.w, p.b), "none": None, "list": [p.w * 2.0]}

    (value, aux), (g,) = compile(f, has_aux=True)(Params(2.0, 3.0))
    assert (value, g) == (6.0, Params(3.0, 2.0))
    assert aux == {"parts": Params(2.0, 3.0), "none": None, "list": [4.0]}


def test_a_new_structure_is_a_new_variant_and_the_same_one_reuses_its_trace():
    program = compile(lambda p: sum(tree_leaves(p), Value(0.0)) * 2.0)
    assert program([1.0, 2.0]) == (6.0, ([2.0, 2.0],))
    assert program([3.0, 4.0]) == (14.0, ([2.0, 2.0],))
    assert program((1.0, 2.0, 3.0)) == (12.0, ((2.0, 2.0, 2.0),))
    assert len(program.variants) == 2 and all(len(v.traces) == 1
                                               for v in program.variants.values())


def test_leaf_values_in_a_pytree_stay_bound_like_any_weight():
    w, b = Value(2.0), Value(0.5)
    program = compile(lambda p, x: p[0] * x + p[1], [w, b], 3.0)
    assert program([w, b], 3.0) == (6.5, ([3.0, 1.0], 2.0))
    w.data = 4.0
    assert program([w, b], 3.0) == (12.5, ([3.0, 1.0], 4.0))
    assert (w.grad, b.grad) == (0.0, 0.0)


def test_a_bad_leaf_is_named_by_its_path_and_changes_nothing():
    program = compile(loss, {"w": 0.5, "b": 0.1}, 2.0)
    with pytest.raises(ValueError, match=r"params\['w'\] needs a finite number, got nan"):
        program({"w": math.nan, "b": 0.1}, 2.0)
    with pytest.raises(KeyError, match="'b'"):
        program({"w": 0.5}, 2.0)  # f's own error, from its own line
    assert len(program.variants) == 1 and len(program.traces) == 1
    assert program({"w": 1.0, "b": 0.0}, 1.0) == (0.0, ({"b": 0.0, "w": 0.0}, 0.0))


def test_grad_of_a_program_over_a_pytree_returns_the_pytree_of_gradients():
    program = compile(loss, {"w": 0.5, "b": 0.1}, 2.0)
    g = grad(lambda p: program(p, 2.0)[0])({"w": 0.5, "b": 0.1})
    assert g == pytest.approx(grad(loss)({"w": 0.5, "b": 0.1}, 2.0), rel=1e-12)


_shapes = st.recursive(st.just(None), lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3),
    st.lists(inner, min_size=1, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from("abcd"), inner, min_size=1, max_size=3)), max_leaves=8)


@given(shape=_shapes, seed=st.integers(0, 10**6))
def test_random_pytrees_give_grads_numbers_and_shapes(shape, seed):
    rng = np.random.default_rng(seed)
    params = tree_map(lambda _: float(rng.uniform(-1.5, 1.5)), shape,
                      is_leaf=lambda x: x is None)
    weights = rng.uniform(-1.0, 1.0, size=16).tolist()

    def f(p, x):
        total = x * 0.1
        for k, leaf in enumerate(tree_leaves(p)):
            if k % 2:
                total = total + (leaf * weights[k] + x).tanh() * (k + 1.0)
            else:
                total = total * 0.5 + leaf * leaf * x
        return total

    got = compile(f)(params, 0.7)
    expected = value_and_grad(f, (0, 1))(params, 0.7)
    assert got[0] == pytest.approx(expected[0], rel=1e-12, abs=1e-12)
    assert tree_leaves(got[1][0]) == pytest.approx(tree_leaves(expected[1][0]), rel=1e-12,
                                                   abs=1e-12)
    assert got[1][1] == pytest.approx(expected[1][1], rel=1e-12, abs=1e-12)
    assert tree_map(lambda _: None, got[1][0]) == tree_map(lambda _: None, params)


def test_a_pytree_result_without_has_aux_is_refused_with_the_ways_out():
    with pytest.raises(TypeError, match=r"returned a tuple: a compiled program's value is one "
                                        r"scalar .* has_aux=True .* jacobian"):
        compile(lambda x: (x, x * 2.0), 1.0)

"""What a compiled program takes: numbers and batches, static arguments (bool, str, None,
static_argnums/argnames) keying variants, keyword arguments, pytree aux results, and bad
input refused at once with the problem named."""

import numpy as np
import pytest

from autograd_core import Value, compile


def scaled(x, y, mode, power=None):
    calls.append(mode)
    z = x * y if mode == "product" else x + y
    return z * z if power == 2 else z


calls: list = []


def test_a_str_argument_is_static_an_equal_one_hits_the_cache_a_new_one_retraces():
    program = compile(scaled)
    calls.clear()
    assert program(2.0, 3.0, "product") == (6.0, (3.0, 2.0))
    assert program(4.0, 3.0, "product") == (12.0, (3.0, 4.0))
    assert calls == ["product"]  # traced once
    assert program(4.0, 3.0, "sum") == (7.0, (1.0, 1.0))
    assert calls == ["product", "sum"] and len(program.variants) == 2
    assert program(1.0, 1.0, "product") == (1.0, (1.0, 1.0)) and len(calls) == 2


def test_none_and_bools_are_static_and_told_apart_by_type():
    program = compile(scaled)
    assert program(2.0, 3.0, "sum", None) == (5.0, (1.0, 1.0))
    assert program(2.0, 3.0, "sum", 2) == (5.0, (1.0, 1.0, 0.0))  # 2 is a number: an input
    flags = compile(lambda x, flag: x * 2.0 if flag else x * 3.0)
    assert flags(1.0, True) == (2.0, (2.0,)) and flags(1.0, False) == (3.0, (3.0,))
    assert len(flags.variants) == 2


def test_static_argnums_and_argnames_fix_numbers_too():
    program = compile(lambda x, n: x ** n, static_argnums=1)
    assert program(2.0, 3) == (8.0, (12.0,))  # no gradient for the static n
    assert program(2.0, 2) == (4.0, (4.0,)) and len(program.variants) == 2
    named = compile(lambda x, n=1: x * n, static_argnames="n")
    assert named(2.0, n=5) == (10.0, (5.0,))
    assert named(2.0, 5) == (10.0, (5.0,))  # by name, wherever it is passed


def test_keyword_arguments_replay_and_batch_like_positional_ones_without_a_gradient():
    program = compile(lambda x, *, shift: (x - shift) * (x - shift))
    assert program(3.0, shift=1.0) == (4.0, (4.0,))
    assert program(3.0, shift=-1.0) == (16.0, (8.0,))
    value, (grad,) = program(np.array([3.0, 0.0]), shift=np.array([1.0, 1.0]))
    assert value.tolist() == [4.0, 1.0] and grad.tolist() == [4.0, -2.0]
    assert len(program.traces) == 1


def test_an_array_static_argument_keys_by_content():
    program = compile(lambda x, w: sum((x * float(wi) for wi in w), x * 0.0),
                      static_argnames="w")
    assert program(2.0, w=np.array([1.0, 2.0]))[0] == 6.0
    assert program(2.0, w=np.array([1.0, 2.0]))[0] == 6.0 and len(program.variants) == 1
    assert program(2.0, w=np.array([1.0, 3.0]))[0] == 8.0 and len(program.variants) == 2


def test_variants_beyond_keep_drop_the_oldest():
    program = compile(scaled, keep=2)
    for mode in ("a", "b", "c"):
        program(1.0, 2.0, mode)
    assert [v.key[0][0][1][1] for v in program.variants.values()] == ["b", "c"]


def test_trace_after_runs_a_new_variant_eagerly_first():
    calls.clear()
    program = compile(scaled, trace_after=2)
    for _ in range(4):
        assert program(2.0, 3.0, "product") == (6.0, (3.0, 2.0))
    assert len(program.traces) == 1 and len(calls) == 3  # two eager calls, then one trace


def test_aux_results_may_be_dicts_lists_and_tuples():
    program = compile(lambda x: (x * x, {"twice": x * 2.0, "parts": [x, (x + 1.0,)]}), 3.0,
                      has_aux=True)
    (value, aux), grads = program(2.0)
    assert (value, aux, grads) == (4.0, {"twice": 4.0, "parts": [2.0, (3.0,)]}, (4.0,))


def test_bad_input_is_refused_at_once_with_the_problem_named():
    with pytest.raises(TypeError, match="compile needs a function, got int: 3"):
        compile(3)
    with pytest.raises(ValueError, match="max_traces must be an int ≥ 1, got 0"):
        compile(lambda x: x, max_traces=0)
    with pytest.raises(TypeError, match="static_argnums must be ints ≥ 0"):
        compile(lambda x: x, static_argnums=[1.5])
    program = compile(lambda x: x * 2.0, 1.0)
    with pytest.raises(ValueError, match=r"x needs a finite number, got 1000000000"):
        program(10**400)
    with pytest.raises(TypeError, match="argument x is a list, which compile reads as a pytree"):
        program([[1.0, 2.0], [3.0]])  # a batch is a numpy array (tests/test_compile_pytree.py)
    with pytest.raises(TypeError, match=r"static argument 1\['a'\] must be hashable"):
        compile(lambda x, opts: x)(1.0, {"a": {1}})
    with pytest.raises(TypeError, match="has_aux=True, so it must return a pair"):
        compile(lambda x: x * 2.0, 1.0, has_aux=True)


def test_a_value_bound_at_the_first_call_may_be_passed_again():
    w = Value(1.5)
    program = compile(lambda w_, x: w * x)
    assert program(w, 2.0) == (3.0, (2.0, 1.5))
    w.data = 2.5
    assert program(w, 2.0) == (5.0, (2.0, 2.5))
    other = Value(1.0)  # not bound: a node of its graph, in the place of argument 0 (w's)
    out, _ = program(other, 2.0)
    assert isinstance(out, Value) and out.data == 1.0 * 2.0
    out.backward()
    assert other.grad == 2.0
    assert w.data == 2.5 and w.grad == 0.0


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_all_float_arguments_take_the_fast_path_and_give_what_other_number_types_give(backend):
    # A call whose arguments are all floats is checked and converted in one pass; ints and
    # numpy scalars take the general path. Both must give the same bits, and the same error.
    if backend == "jax":
        pytest.importorskip("jax")

    def f(*w):
        h = [(w[i] * w[i + 1] + 0.5).relu() for i in range(0, len(w) - 1, 2)]
        return sum(h, w[-1]) * w[0] - w[1]

    start = [0.5, -1.5, 2.0, 0.25, -0.75, 1.0, 3.0]
    program = compile(f, *start, backend=backend)
    rng = np.random.default_rng(7)
    for _ in range(5):
        point = [float(v) for v in rng.uniform(-2, 2, len(start))]
        fast = program(*point)
        slow = program(*[np.float64(v) for v in point])
        assert fast == slow
        eager = f(*map(Value, point)).data
        assert fast[0] == eager if backend == "numpy" else abs(fast[0] - eager) < 1e-12
    with pytest.raises(ValueError, match="inf") as fast_err:
        program(*point[:-1], float("inf"))
    with pytest.raises(ValueError, match="inf") as slow_err:
        program(*[np.float64(v) for v in point[:-1]], np.float64("inf"))
    assert str(fast_err.value) == str(slow_err.value)

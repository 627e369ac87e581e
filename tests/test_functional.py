"""The functional API as JAX and PyTorch users type it: grad/value_and_grad with has_aux,
keyword arguments and pytrees; gradients (torch.autograd.grad); vjp, jacobian, hessian.

Ported from JAX's tests/api_test.py (APITest) and PyTorch's test/test_autograd.py and
test/functorch/test_eager_transforms.py, re-expressed in our API; each test names its source.
Numbers are compared with torch in float64 where torch is installed (the tests skip otherwise).
"""

import math
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

from autograd_core import (
    Constant,
    Value,
    grad,
    gradients,
    hessian,
    jacobian,
    no_grad,
    topological_order,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_unflatten,
    value_and_grad,
    vjp,
)


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(before)


def _close(a, b, tol=1e-12):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol,
                       atol=tol)


# --- JAX api_test: grad and value_and_grad ------------------------------------------------------

def test_jax_grad_argnums_with_a_keyword_flag():
    # api_test.test_grad_argnums: `flag` goes to f by keyword and is never differentiated.
    def f(x, y, z, flag=False):
        assert flag
        return 1.0 * x + 2.0 * y + 3.0 * z

    assert grad(f)(1.0, 1.0, 1.0, flag=True) == 1.0
    assert grad(f, argnums=1)(1.0, 1.0, 1.0, flag=True) == 2.0
    assert grad(f, argnums=(2, 0))(1.0, 1.0, 1.0, flag=True) == (3.0, 1.0)


def test_jax_value_and_grad_argnums_with_a_keyword_flag():
    # api_test.test_value_and_grad_argnums
    def f(x, y, z, flag=False):
        assert flag
        return 1.0 * x + 2.0 * y + 3.0 * z

    y = 6.0
    assert value_and_grad(f)(1.0, 1.0, 1.0, flag=True) == (y, 1.0)
    assert value_and_grad(f, argnums=1)(1.0, 1.0, 1.0, flag=True) == (y, 2.0)
    assert value_and_grad(f, argnums=(2, 0))(1.0, 1.0, 1.0, flag=True) == (y, (3.0, 1.0))


def test_jax_grad_and_aux_basic():
    # api_test.test_grad_and_aux_basic: d(x³)/dx = 27 at 3; aux x² = 9, a number outside a trace.
    g, aux = grad(lambda x: (x**3, [x**2]), has_aux=True)(3.0)
    assert g == grad(lambda x: x**3)(3.0) == 27.0
    assert aux == [9.0] and type(aux[0]) is float


def test_jax_grad_and_aux_error_when_f_returns_no_pair():
    # api_test.test_grad_and_aux_error (JAX says "two-element tuple"; we say "a pair").
    for f in (lambda x: (1, 2, 3), lambda x: x, lambda x: (x,)):
        with pytest.raises(TypeError, match=r"has_aux=True\) needs <lambda> to return a pair"):
            grad(f, has_aux=True)(1.0)


def test_jax_grad_and_aux_nested_aux_stays_a_graph_inside_an_outer_grad():
    # api_test.test_grad_and_aux_nested: aux x³ inside grad(f) is differentiated by the outer
    # grad: 3x² = 48 at 4; then aux·sin x: 3x² sin x + x³ cos x.
    def f(x):
        _, aux = grad(lambda y: (y**3, [y**3]), has_aux=True)(x)
        return aux[0]

    assert grad(f)(4.0) == grad(lambda x: x**3)(4.0) == 48.0

    def f2(x):
        _, aux = grad(lambda y: (y**3, [y**3]), has_aux=True)(x)
        return aux[0] * x.sin()

    assert grad(f2)(4.0) == pytest.approx(48.0 * math.sin(4.0) + 64.0 * math.cos(4.0),
                                          rel=1e-14)


def test_jax_grad_and_aux_constant():
    # api_test.test_grad_and_aux_constant: constants in aux come back as they were.
    g, aux = grad(lambda x: (x**3, [4.0]), has_aux=True)(4.0)
    assert (g, aux) == (48.0, [4.0])
    g, aux = grad(lambda x: (x**3, [x**2, 4.0]), has_aux=True)(4.0)
    assert (g, aux) == (48.0, [16.0, 4.0])


def test_jax_grad_and_aux_no_tracers():
    # api_test.test_grad_and_aux_no_tracers (jax issue 1950): no graph node escapes in aux.
    _, aux = grad(lambda x: (x**2, dict(identity=x, p1=x + 1)), has_aux=True)(3.0)
    assert aux == {"identity": 3.0, "p1": 4.0}
    assert not any(isinstance(v, Value) for v in aux.values())


def test_jax_value_and_grad_has_aux_shape():
    # JAX's contract: ((value, aux), g).
    (value, aux), g = value_and_grad(lambda x, y: (x * y, {"y": y}), has_aux=True)(3.0, 4.0)
    assert (value, aux, g) == (12.0, {"y": 4.0}, 4.0)


def test_jax_grad_tuple_output_is_refused():
    # api_test.test_grad_tuple_output, test_grad_unit_output, test_grad_nonscalar_output
    with pytest.raises(TypeError, match="scalar-output"):
        grad(lambda x: (x, x))(1.0)
    with pytest.raises(TypeError, match="scalar-output"):
        grad(lambda x: ())(np.zeros(3))
    with pytest.raises(TypeError, match="scalar-output"):
        grad(lambda x: x)(np.zeros(3))


def test_jax_grad_bad_input_names_the_argument():
    # api_test.test_grad_bad_input: a str is not something to differentiate.
    with pytest.raises(TypeError, match="x needs a real number or a Value.*'foo'"):
        grad(lambda x: x)("foo")
    with pytest.raises(TypeError, match=r"p\['w'\]\[1\] needs a real number.*bool"):
        grad(lambda p: p["w"][0])({"w": [1.0, True]})


# --- pytrees ----------------------------------------------------------------------------------

Params = namedtuple("Params", "w b")


def test_pytree_grad_of_a_dict_of_parameters_has_the_dict_shape():
    # The JAX idiom grad(loss)(params): d/dw (w·x + b)² = 2(w·x + b)·x, d/db = 2(w·x + b).
    g = grad(lambda p, x: (p["w"] * x + p["b"]) ** 2)({"w": 2.0, "b": 1.0}, 3.0)
    assert g == {"w": 42.0, "b": 14.0} and set(g) == {"w", "b"}


def test_pytree_nested_tuples_lists_namedtuples_and_none():
    def loss(p):
        (a, b), layer, nothing = p
        assert nothing is None
        return a * b + layer.w * layer.b * a

    g = grad(loss)(((1.0, 2.0), Params(3.0, 4.0), None))
    assert g == ((2.0 + 12.0, 1.0), Params(4.0, 3.0), None)
    assert isinstance(g[1], Params)


def test_pytree_numpy_array_argument_gets_a_float_array_gradient():
    # d/dw Σ wᵢ² = 2w; the gradient is an array of the argument's shape.
    w = np.arange(6.0).reshape(2, 3)
    g = grad(lambda w: (w * w).sum())(w)
    assert isinstance(g, np.ndarray) and g.dtype == float and g.shape == (2, 3)
    assert np.array_equal(g, 2 * w)


def test_pytree_tree_map_updates_parameters_as_jax_does():
    params = {"w": [1.0, 2.0], "b": 0.5}
    grads = grad(lambda p: p["w"][0] * p["w"][1] + p["b"] * p["b"])(params)
    new = tree_map(lambda p, g: p - 0.1 * g, params, grads)
    assert new == {"w": [1.0 - 0.2, 2.0 - 0.1], "b": 0.5 - 0.1}
    with pytest.raises(ValueError, match="tree 1 has the shape"):
        tree_map(lambda a, b: a, params, {"w": [1.0], "b": 0.5})


def test_pytree_flatten_unflatten_round_trip_and_sorted_dict_keys():
    tree = {"b": [1.0, (2.0, None)], "a": OrderedDict(z=3.0, y=4.0), "c": Params(5.0, 6.0)}
    leaves, treedef = tree_flatten(tree)
    assert leaves == [3.0, 4.0, 1.0, 2.0, 5.0, 6.0]  # dict keys sorted, as JAX; OrderedDict kept
    assert tree_unflatten(treedef, leaves) == tree
    assert tree_leaves([[], (None,)]) == []
    with pytest.raises(ValueError, match="holds 6 leaves, got 5"):
        tree_unflatten(treedef, leaves[:5])


def test_pytree_a_list_that_holds_itself_is_refused_and_depth_is_not_recursion():
    a = [1.0]
    a.append(a)
    with pytest.raises(ValueError, match="cannot contain itself"):
        tree_flatten(a)
    deep: list = [2.0]
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    leaves, treedef = tree_flatten(deep)
    assert leaves == [2.0] and tree_unflatten(treedef, [3.0]) is not None


def test_pytree_shared_subtree_is_flattened_twice_as_jax_does():
    s = [1.0]
    assert grad(lambda t: t[0][0] * t[1][0])([s, s]) == [[1.0], [1.0]]


# --- argument checks ------------------------------------------------------------------------

@pytest.mark.parametrize("argnums, error, message", [
    (True, TypeError, "argnums needs an int or a tuple of ints, got bool: True"),
    (1.5, TypeError, "argnums needs an int or a tuple of ints, got float: 1.5"),
    ((), ValueError, r"argnums=\(\) asks for no gradient"),
    ((0, 1.0), TypeError, r"argnums needs ints, got float: 1.0 in \(0, 1.0\)"),
    ((0, False), TypeError, "argnums needs ints, got bool"),
    ("0", TypeError, "got str"),
])
def test_argnums_is_checked_as_a_class_when_the_transform_is_made(argnums, error, message):
    # Issue 21: argnums=True was taken as 1, () returned (), 1.5 said "'float' object is not
    # iterable". Every transform checks it the same way, before f is ever called.
    for transform in (grad, value_and_grad, jacobian, hessian):
        with pytest.raises(error, match=message):
            transform(lambda x, y: x * y, argnums=argnums)


def test_argnums_out_of_range_names_it_and_the_count():
    with pytest.raises(IndexError, match="argnums 2 is out of range for 2 positional"):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    # Passed by keyword, an argument is not positional, so argnums cannot reach it (as JAX).
    with pytest.raises(IndexError, match="argnums 0 is out of range for 0 positional"):
        grad(lambda x: x * x)(x=1.0)
    assert grad(lambda x, y: x * y, argnums=-1)(3.0, 4.0) == 3.0


def test_has_aux_and_f_are_checked():
    with pytest.raises(TypeError, match="has_aux needs a bool, got int: 1"):
        grad(lambda x: x, has_aux=1)
    with pytest.raises(TypeError, match="grad needs a function, got int: 3"):
        grad(3)


# --- issue 21: what drops the graph, and grad under no_grad -------------------------------------

def test_math_sin_of_the_traced_input_is_refused_naming_the_fix():
    # torch.func.grad and JAX refuse; we used to return 0.0, silently wrong.
    with pytest.raises(TypeError, match=r"plain float .* while x was being differentiated.*"
                                        r"math\.sin\(x\).*x\.sin\(\)"):
        grad(lambda x: math.sin(x))(2.0)
    with pytest.raises(TypeError, match="plain float"):
        grad(lambda x: float(x) * 2.0)(2.0)
    with pytest.raises(TypeError, match=r"output\[1\] returned a plain float"):
        jacobian(lambda x: [x.sin(), math.cos(x)])(2.0)


def test_a_truly_constant_function_returns_a_constant_and_gets_zero():
    assert grad(lambda x: Constant(4.0))(1.0) == 0.0
    assert jacobian(lambda x: [x * x, Constant(1.0)])(3.0) == [6.0, 0.0]


def test_grad_of_an_empty_pytree_needs_no_value():
    assert grad(lambda xs: sum(xs))([]) == []


def test_functorch_no_grad_outside_still_differentiates_and_returns_no_graph():
    # test_eager_transforms.test_no_grad_outside: with no_grad(): grad(sin)(x) == cos x, and
    # the result requires no grad (here: a leaf Value, not a graph node).
    x = Value(0.7)
    with no_grad():
        y = grad(lambda v: v.sin())(x)
        assert grad(lambda v: v.sin())(0.7) == math.cos(0.7)
    assert isinstance(y, Value) and y.op is None and y.data == math.cos(0.7)


def test_functorch_no_grad_inside_is_a_constant_shift():
    # test_eager_transforms.test_no_grad_inside: f = x² − stop(x²): grad 2x, grad of grad 2.
    def f(x):
        with no_grad():
            shift = x**2
        return x**2 - shift

    assert grad(f)(1.5) == 3.0
    assert grad(grad(f))(1.5) == 2.0
    x = Value(1.5)
    y = grad(f)(x)
    assert gradients(y, x) == (2.0,)


def test_functorch_no_grad_mixed():
    # test_eager_transforms.test_no_grad_mixed: no_grad outside, no_grad inside: 2x, no graph.
    def f(x):
        with no_grad():
            shift = x**2
        return x**2 - shift

    x = Value(1.5)
    with no_grad():
        y = grad(f)(x)
    assert y.data == 3.0 and y.op is None


def test_grad_inside_another_grad_always_returns_values():
    # ∂(x + 1)/∂x = 1 is a number; inside an outer grad it comes back as a Constant, so the
    # outer grad sees a Value (d/dx 1 = 0), not a plain number it must refuse.
    assert grad(grad(lambda x: x + 1.0))(2.0) == 0.0
    g = grad(lambda a, b: a * a, argnums=(0, 1))(Value(3.0), 5.0)
    assert all(isinstance(v, Value) for v in g) and [v.data for v in g] == [6.0, 0.0]


# --- JAX api_test: jacobian, hessian, vjp ---------------------------------------------------

def test_jax_jacobian_of_a_linear_map_is_its_matrix():
    # api_test.test_jacobian: jacrev(lambda x: A @ x)(x) == A.
    rng = np.random.default_rng(0)
    a, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    jac = jacobian(lambda x: a @ x)(x)
    assert isinstance(jac, np.ndarray) and jac.shape == (4, 3) and _close(jac, a)


def test_jax_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    # api_test.test_hessian: hessian(x ↦ x·(A x)) == A + Aᵀ.
    rng = np.random.default_rng(1)
    a, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    h = hessian(lambda x: x @ (a @ x))(x)
    assert h.shape == (4, 4) and _close(h, a + a.T)


def test_jax_jacobian_on_pytrees():
    # api_test.test_jacobian_on_pytrees (jacrev). JAX returns a non-differentiated argument
    # as a constant output; we refuse a plain number as output, so y is wrapped in Constant.
    assert jacobian(lambda x, y: (x, Constant(y)))(0.0, 1.0) == (1.0, 0.0)
    assert jacobian(lambda x, y: (Constant(x), y), 1)(0.0, 1.0) == (0.0, 1.0)
    assert jacobian(lambda x, y: (x, y), (0, 1))(0.0, 1.0) == ((1.0, 0.0), (0.0, 1.0))
    assert jacobian(lambda x: x[:2])((1.0, 2.0, 3.0)) == ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(2), rng.standard_normal(3)
    ans = jacobian(lambda x, y: {"x": x, "xy": np.outer(x, y)})(x, y)
    assert _close(ans["x"], np.eye(2))
    assert _close(ans["xy"], np.kron(np.eye(2), y[:, None]).reshape(2, 3, 2))


def test_jax_hessian_on_pytrees():
    # api_test.test_hessian_on_pytrees: a tuple argument gives nested tuples of rows.
    ans = hessian(lambda x: x[0] ** 2 + x[1] ** 2)((1.0, 2.0))
    assert ans == ((2.0, 0.0), (0.0, 2.0))


def test_jax_issue1372_shapes_of_jacobians_of_gradients():
    # api_test.test_issue1372 (rev∘rev only: we are reverse mode): diagonal and off-diagonal
    # blocks of the Hessian of quad(x) + quad(u), shaped (5, 5), (2, 2), (2, 5), (5, 2).
    def f(x, u):
        return x @ x + u @ u

    x, u = np.ones(5), np.ones(2)
    assert jacobian(grad(f, 0), 0)(x, u).shape == (5, 5)
    assert jacobian(grad(f, 1), 1)(x, u).shape == (2, 2)
    assert jacobian(grad(f, 1), 0)(x, u).shape == (2, 5)
    assert jacobian(grad(f, 0), 1)(x, u).shape == (5, 2)
    assert _close(jacobian(grad(f, 0), 0)(x, u), 2 * np.eye(5))


def test_jax_jacrev_and_aux_basic():
    # api_test.test_jacrev_and_aux_basic
    jac, aux = jacobian(lambda x: (x**3, [x**2]), has_aux=True)(3.0)
    assert jac == jacobian(lambda x: x**3)(3.0) == 27.0 and aux == [9.0]


def test_jax_vjp_of_a_pytree_function():
    # vjp(f, x, y)[1](ct) = ctᵀ J: f = (x·y, x + y) at (2, 3), ct = (1, 2): (3 + 2, 2 + 2).
    out, f_vjp = vjp(lambda x, y: (x * y, x + y), 2.0, 3.0)
    assert out == (6.0, 5.0)
    assert f_vjp((1.0, 2.0)) == (5.0, 4.0)
    assert f_vjp((0.0, 1.0)) == (1.0, 1.0)  # the graph is kept: call it again
    with pytest.raises(ValueError, match="cotangent shaped like f's output"):
        f_vjp([1.0, 2.0])
    with pytest.raises(ValueError, match=r"cotangent\[1\] needs a finite number"):
        f_vjp((1.0, math.inf))


def test_jax_vjp_has_aux():
    out, f_vjp, aux = vjp(lambda x: (x * x, {"x": x}), 3.0, has_aux=True)
    assert (out, f_vjp(1.0), aux) == (9.0, (6.0,), {"x": 3.0})


def test_vjp_composes_with_grad_in_the_primal_and_in_the_cotangent():
    # d/dx [vjp of sin at x, ct 1] = d/dx cos x = −sin x; d/dc [c·cos(2)] = cos 2.
    assert grad(lambda x: vjp(lambda v: v.sin(), x)[1](1.0)[0])(0.5) == \
        pytest.approx(-math.sin(0.5), rel=1e-15)
    _, f_vjp = vjp(lambda v: v.sin(), 2.0)
    assert grad(lambda c: f_vjp(c)[0])(1.0) == pytest.approx(math.cos(2.0), rel=1e-15)


def test_jacobian_and_hessian_compose_with_grad():
    # d/dx tr H(x) for f = x⁴ + x·y: H = [[12x², 1], [1, 0]], so d/dx 12x² = 24x = 48 at 2.
    def trace_h(x):
        h = hessian(lambda p: p[0] ** 4 + p[0] * p[1])([x, 1.0])
        return h[0][0] + h[1][1]

    assert grad(trace_h)(2.0) == 48.0


# --- PyTorch test_autograd: torch.autograd.grad as gradients ------------------------------------

@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_torch_grad_create_graph_then_hessian_vector_product(torch):
    # test_autograd.test_grad (scalar entries): z = x² + yx + y²; backward(create_graph) gives
    # 2x + y and x + 2y; the grad of 2·x.grad + y.grad w.r.t. x is 5; no .grad changes.
    xs, ys = [0.3, -1.2], [0.8, 2.5]
    for xv, yv in zip(xs, ys):
        x, y = Value(xv), Value(yv)
        z = x**2 + y * x + y**2
        z.backward(create_graph=True)
        x_grad, y_grad = x.grad, y.grad
        grad_sum = 2 * x.grad + y.grad
        (x_hv,) = gradients([grad_sum], [x], [1.0], create_graph=True)
        assert isinstance(x_hv, Value) and x_hv.data == 5.0
        assert (x.grad, y.grad) == (x_grad, y_grad)
        tx = torch.tensor(xv, requires_grad=True)
        ty = torch.tensor(yv, requires_grad=True)
        tz = tx**2 + ty * tx + ty**2
        tz.backward(create_graph=True)
        (t_hv,) = torch.autograd.grad(2 * tx.grad + ty.grad, tx, create_graph=True)
        assert x_hv.data == t_hv.item() and x_grad.data == tx.grad.item()


def test_torch_grad_nonleaf_gradient_ascent_leaves_no_grads(torch):
    # test_autograd.test_grad_nonleaf: five steps x ← x + 0.05·∂f/∂x through non-leaf x,
    # with create_graph, then backward reaches the first x; no grad is set along the way.
    x_init, y = Value(0.4), Value(-0.9)
    tx_init = torch.tensor(0.4, requires_grad=True)
    ty = torch.tensor(-0.9, requires_grad=True)
    x, tx = x_init, tx_init

    def fn(x, y):
        return x**2 + y * x + y**2

    for _ in range(5):
        (grad_x,) = gradients(fn(x, y), x, 1.0, create_graph=True)
        (t_grad_x,) = torch.autograd.grad(fn(tx, ty), tx, create_graph=True)
        assert grad_x.data == pytest.approx(2 * x.data + y.data, rel=1e-15)
        assert _close(grad_x.data, t_grad_x.item(), 1e-15)
        assert (x_init.grad, y.grad) == (0.0, 0.0)
        x, tx = x + 0.05 * grad_x, tx + 0.05 * t_grad_x
    assert fn(x, y).data > fn(x_init, y).data
    x.backward()
    (tx).backward()
    assert _close([x_init.grad, y.grad], [tx_init.grad.item(), ty.grad.item()], 1e-14)


def test_torch_grad_unreachable_allow_unused_gives_none():
    # test_autograd.test_grad_unreachable
    x, y = Value(1.0), Value(1.0)
    _z, _w = x * 2, y * 2  # both have graphs hanging from them; neither is an output
    grad_x, grad_y = gradients(x * 2, [x, y], allow_unused=True)
    assert grad_x == 2.0 and grad_y is None
    z = Value(1.0)
    assert gradients(x * 2, [x, z], allow_unused=True) == (2.0, None)
    with pytest.raises(ValueError, match=r"inputs\[1\].*not used by the outputs.*allow_unused"):
        gradients(x * 2, [x, y], allow_unused=False)


def test_torch_grad_badcalls_and_empty_inputs():
    # test_autograd.test_grad_badcalls, test_grad_empty_inputs
    x = Value(1.0)
    y = x**2
    with pytest.raises(ValueError, match="not used by the outputs"):
        gradients(x, y)
    with pytest.raises(ValueError, match="is a Constant"):
        gradients(y * Constant(2.0), Constant(2.0))
    with pytest.raises(ValueError, match="at least one output and one input, got 1 and 0"):
        gradients(2 * x, [], grad_outputs=[1.0])
    with pytest.raises(TypeError, match=r"inputs\[0\] needs a Value, got float"):
        gradients(y, [1.0])
    assert gradients(y, x) == (2.0,)


def test_torch_grad_outputs_length_must_match():
    x = Value(2.0)
    with pytest.raises(ValueError, match="grad_outputs has 2 entries for 1 outputs"):
        gradients(x * x, x, [1.0, 2.0])
    with pytest.raises(TypeError, match="create_graph needs a bool"):
        gradients(x * x, x, create_graph=1)


def test_torch_gradients_of_several_outputs_sum_weighted_by_grad_outputs(torch):
    # Σₖ vₖ ∂outₖ/∂x, with None meaning 1 (torch's implicit seed for a scalar output).
    x, w = Value(0.6), Value(-1.4)
    outs = [x * w, (x * x).tanh(), w.exp() * x]
    got = gradients(outs, [x, w], [2.0, None, -0.5])
    tx = torch.tensor(0.6, requires_grad=True)
    tw = torch.tensor(-1.4, requires_grad=True)
    touts = [tx * tw, (tx * tx).tanh(), tw.exp() * tx]
    want = torch.autograd.grad(touts, [tx, tw], [torch.tensor(2.0), None, torch.tensor(-0.5)])
    assert _close(got, [t.item() for t in want], 1e-14)
    assert (x.grad, w.grad) == (0.0, 0.0)


def test_torch_grad_outputs_may_be_values_and_are_differentiated():
    # d/dv [v · ∂(x³)/∂x] = 3x² = 12 at x = 2.
    x = Value(2.0)
    assert grad(lambda v: gradients(x**3, x, v, create_graph=True)[0])(1.0) == 12.0


def test_gradients_leaves_every_grad_alone_even_ones_already_set():
    x = Value(3.0)
    h = x * x
    x.grad, h.grad = 7.0, 5.0
    assert gradients(h.tanh(), x) == pytest.approx((2 * 3.0 * (1 - math.tanh(9.0) ** 2),))
    assert (x.grad, h.grad) == (7.0, 5.0)
    assert all(n.grad == 0.0 for n in topological_order(h.tanh()) if n not in (x, h))


def test_torch_grad_unreachable_discovery_runs_no_rule_off_the_path():
    # test_autograd.test_grad_unreachable_discovery: sqrt at 0 has no derivative, but nothing
    # asked for its input's gradient: ∂(sqrt(c) + z)/∂z = 1 and sqrt's rule never runs.
    c, y, z = Value(0.0), Value(1.0), Value(2.0)
    assert gradients(c.sqrt() + z, (y, z), allow_unused=True) == (None, 1.0)


# --- torch float64 cross-checks -----------------------------------------------------------------

def test_torch_func_grad_value_and_grad_of_a_dict_loss(torch):
    # torch.func.grad_and_value over a dict of parameters, has_aux: the same numbers.
    params = {"w": [0.3, -0.7], "b": 0.1}
    xs, target = [1.5, -2.0], 0.25

    def loss(p, x, target):
        pred = p["w"][0] * x[0] + p["w"][1] * x[1] + p["b"]
        return ((pred - target) ** 2).tanh(), {"pred": pred}

    (value, aux), g = value_and_grad(loss, has_aux=True)(params, xs, target=target)
    tp = {"w": torch.tensor(params["w"]), "b": torch.tensor(params["b"])}

    def tloss(p):
        pred = p["w"][0] * xs[0] + p["w"][1] * xs[1] + p["b"]
        return ((pred - target) ** 2).tanh(), {"pred": pred}

    tg, (tvalue, taux) = torch.func.grad_and_value(tloss, has_aux=True)(tp)
    assert _close(value, tvalue.item(), 1e-15) and _close(aux["pred"], taux["pred"].item())
    assert _close(g["w"], tg["w"].numpy(), 1e-14) and _close(g["b"], tg["b"].item(), 1e-14)


def test_torch_jacobian_and_hessian_match_torch_autograd_functional(torch):
    # torch.autograd.functional.jacobian / hessian on f: R³ → R², and a scalar g: R³ → R.
    x0 = [0.4, -1.1, 2.3]

    def f(v):
        return [v[0] * v[1].exp() + v[2].sin(), (v[0] * v[2]).tanh() - v[1] ** 2]

    def tf(v):
        return torch.stack([v[0] * v[1].exp() + v[2].sin(), (v[0] * v[2]).tanh() - v[1] ** 2])

    def g(v):
        return (v[0] * v[1]).sigmoid() * v[2] ** 3 + v[1].exp()

    def tg(v):
        return (v[0] * v[1]).sigmoid() * v[2] ** 3 + v[1].exp()

    tx = torch.tensor(x0)
    assert _close(jacobian(f)(x0), torch.autograd.functional.jacobian(tf, tx).numpy(), 1e-14)
    assert _close(hessian(g)(x0), torch.autograd.functional.hessian(tg, tx).numpy(), 1e-13)
    # torch.func.vjp: the same cotangent pulled back.
    _, f_vjp = vjp(f, x0)
    _, tf_vjp = torch.func.vjp(tf, tx)
    assert _close(f_vjp([0.5, -2.0])[0], tf_vjp(torch.tensor([0.5, -2.0]))[0].numpy(), 1e-14)


def test_torch_hessian_vector_product_by_double_backward(torch):
    # test_autograd.test_hessian_vector: H·v as ∂/∂x (∇f · v), by gradients twice.
    x = [Value(0.5), Value(-0.3)]
    f = (x[0] * x[1]).exp() + x[0] ** 3 * x[1]
    g = gradients(f, x, create_graph=True)
    v = [1.0, -2.0]
    hv = gradients(g, x, v)
    tx = torch.tensor([0.5, -0.3], requires_grad=True)
    tf = (tx[0] * tx[1]).exp() + tx[0] ** 3 * tx[1]
    (tgr,) = torch.autograd.grad(tf, tx, create_graph=True)
    (thv,) = torch.autograd.grad(tgr, tx, torch.tensor(v))
    assert _close(hv, thv.numpy(), 1e-14)


def test_a_non_differentiated_argument_that_holds_itself_is_passed_through():
    # Only argnums are flattened; the scan for Values elsewhere must still end on a cycle.
    a = [1.0]
    a.append(a)
    assert grad(lambda x, t: x * x * t[0])(3.0, a) == 6.0

"""Properties of backward on random expression DAGs drawn by `autograd_core.testing.expressions`.

Every famous bug of scalar engines lives in graph shape (a reused node, `=` for `+=`, a set that
drops x*x's second parent), so each property runs on DAGs with fan-out, diamonds and constants.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import OPS, Value, grad, no_grad, ops, topological_order, value_and_grad
from autograd_core.testing import Expression, Term, assert_gradients_close, expressions

# Second derivatives cost 1 + 2n backward passes per input: smaller graphs, fewer inputs.
SMALL = expressions(n_inputs=(1, 2), max_ops=5, max_depth=4)
COEFFICIENTS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


def _build(expr: Expression) -> tuple[list[Value], Value]:
    xs = [Value(x) for x in expr.inputs]
    return xs, expr.build(*xs)


def _grads(f, inputs):
    return grad(f, tuple(range(len(inputs))))(*inputs)


def _reachable(root: Value) -> set[Value]:
    """Every node below root, by a plain walk independent of topological_order."""
    seen, todo = {root}, [root]
    while todo:
        for parent in todo.pop().parents:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


# --- against finite differences -----------------------------------------------------------

@given(expressions())
def test_random_dag_backward_matches_central_differences(expr):
    assert_gradients_close(expr.build, expr.inputs)


@given(SMALL)
def test_random_dag_second_derivatives_match_differences_of_first(expr):
    assert_gradients_close(expr.build, expr.inputs, eps=1e-5, atol=1e-4, rtol=1e-3,
                           second_order=True)


# --- algebra of gradients -------------------------------------------------------------------

@given(expressions())
def test_random_dag_values_agree_with_floats(expr):
    # The same expression on plain floats is the reference forward pass.
    assert _build(expr)[1].data == expr.build(*expr.inputs)


@given(st.data())
def test_two_dags_sharing_inputs_linearity(data):
    f = data.draw(expressions(), label="f")
    g = data.draw(expressions(inputs=f.inputs), label="g")
    a, b = data.draw(COEFFICIENTS, label="a"), data.draw(COEFFICIENTS, label="b")
    combined = _grads(lambda *xs: a * f(*xs) + b * g(*xs), f.inputs)
    separate = [a * df + b * dg for df, dg in zip(_grads(f, f.inputs), _grads(g, f.inputs))]
    assert combined == pytest.approx(separate, rel=1e-9, abs=1e-9)


@given(st.data())
def test_two_dags_sharing_inputs_product_rule(data):
    f = data.draw(expressions(), label="f")
    g = data.draw(expressions(inputs=f.inputs), label="g")
    product = _grads(lambda *xs: f(*xs) * g(*xs), f.inputs)
    fx, gx = f.build(*f.inputs), g.build(*f.inputs)
    rule = [df * gx + fx * dg for df, dg in zip(_grads(f, f.inputs), _grads(g, f.inputs))]
    assert product == pytest.approx(rule, rel=1e-9, abs=1e-9)


@given(expressions())
def test_fanout_root_plus_root_doubles_every_grad_exactly(expr):
    xs, root = _build(expr)
    (root + root).backward()  # root's grad is 1 + 1: every other grad is scaled by 2, exactly
    assert [x.grad for x in xs] == [2 * d for d in _grads(expr, expr.inputs)]


@given(expressions())
def test_diamond_root_times_root_is_two_f_df(expr):
    xs, root = _build(expr)
    square = root * root
    square.backward()
    fx, dfs = root.data, _grads(expr, expr.inputs)
    assert [x.grad for x in xs] == pytest.approx([2 * fx * d for d in dfs], rel=1e-9, abs=1e-9)


@given(expressions())
def test_random_dag_create_graph_grads_equal_plain_grads(expr):
    xs, root = _build(expr)
    root.backward()
    plain = [x.grad for x in xs]
    ys, root = _build(expr)
    root.backward(create_graph=True)
    assert [y.grad.data if isinstance(y.grad, Value) else y.grad for y in ys] == plain


@given(expressions())
def test_random_dag_functional_grad_equals_backward(expr):
    xs, root = _build(expr)
    root.backward()
    value, grads = value_and_grad(expr, tuple(range(len(xs))))(*expr.inputs)
    assert (value, list(grads)) == (root.data, [x.grad for x in xs])


# --- accumulation, zero_grad, no_grad ------------------------------------------------------

@given(expressions())
def test_random_dag_backward_twice_accumulates_exactly_twice(expr):
    root = _build(expr)[1]
    nodes = topological_order(root)
    root.backward()
    once = [node.grad for node in nodes]
    root.backward()
    assert [node.grad for node in nodes] == [2 * g for g in once]


@given(expressions())
def test_random_dag_zero_grad_restores_the_initial_state(expr):
    root = _build(expr)[1]
    nodes = topological_order(root)
    initial = [(node.data, node.grad) for node in nodes]
    root.backward()
    once = [node.grad for node in nodes]
    root.zero_grad()
    assert [(node.data, node.grad) for node in nodes] == initial
    root.backward()
    assert [node.grad for node in nodes] == once


@given(expressions())
def test_random_dag_under_no_grad_records_nothing(expr):
    xs = [Value(x) for x in expr.inputs]
    with no_grad():
        root = expr.build(*xs)
    assert (root.op, root.parents) == (None, ())
    assert root.data == expr.build(*expr.inputs)
    root.backward()
    assert all(x.grad == 0.0 for x in xs)
    assert expr.build(*xs).parents  # recording is back on after the block


# --- topological order -----------------------------------------------------------------------

@given(expressions())
def test_random_dag_topological_order_each_node_once_parents_first(expr):
    root = _build(expr)[1]
    order = topological_order(root)
    assert len(order) == len(set(order))
    assert set(order) == _reachable(root)
    position = {node: i for i, node in enumerate(order)}
    assert all(position[p] < position[node] for node in order for p in node.parents)
    assert order[-1] is root


# --- the strategy itself: it must draw what it promises --------------------------------------

def _node_values(expr: Expression) -> list[float]:
    """The value of every node at expr.inputs, on floats."""
    values = list(expr.inputs)
    for term in expr.terms:
        values.append(term.constant if term.op is None
                      else term.op(*(values[i] for i in term.args)))
    return values


@given(expressions())
def test_expressions_keep_every_op_inside_its_domain_and_off_its_kinks(expr):
    values = _node_values(expr)
    for term in expr.terms:
        if term.op is None:
            continue
        xs = [values[i] for i in term.args]
        assert all(lo <= x <= hi for x, (lo, hi) in zip(xs, term.op.test_range)), (term, xs)
        assert term.op.kink is None or term.op.kink(*xs) > 0.05, (term, xs)


def test_expressions_draw_every_op_fanout_and_diamonds():
    seen, fanout, repeated = set(), 0, 0

    # A statement about the strategy's reach, so a fixed number of draws, whatever the profile.
    @settings(max_examples=300, derandomize=True, database=None)
    @given(expressions())
    def collect(expr):
        nonlocal fanout, repeated
        seen.update(op.name for op in expr.ops)
        uses = [k for term in expr.terms for k in set(term.args)]
        fanout += len(uses) != len(set(uses))  # a node feeding two ops: a diamond below root
        repeated += any(len(set(s.args)) < len(s.args) for s in expr.terms)  # x∘x

    collect()
    assert seen == {op.name for op in OPS}
    assert fanout > 0 and repeated > 0


def test_expression_repr_reads_as_equations():
    expr = Expression((0.5,), (Term(ops.TANH, (0,)), Term(ops.MUL, (1, 0))))
    assert repr(expr) == ("Expression(inputs=(0.5,)) where\n"
                          "    n1 = tanh(x0)\n    n2 = mul(n1, x0)\n    root = n2")
    assert expr.build(0.5) == ops.MUL(ops.TANH(0.5), 0.5)



@pytest.mark.parametrize("kwargs", [{"n_inputs": 0}, {"n_inputs": (2, 1)}, {"inputs": ()},
                                    {"max_ops": 0}, {"max_depth": 0}, {"table": []}])
def test_expressions_refuse_empty_shapes(kwargs):
    with pytest.raises(ValueError):
        expressions(**kwargs)

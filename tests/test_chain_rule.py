"""One chain rule: backward's float pass, the general walk, the stepper and the drawings agree
exactly on random DAGs with fan-out, constants and records of the user's own.
"""

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import (
    Op,
    Value,
    apply,
    backward_steps,
    chain_rule,
    draw,
    ops,
    to_dot,
    topological_order,
)

# Records a user might write: a one-input one, and a three-input one with a shared factor.
CUBE = Op("cube", "x³", "scaler", "f = x³; ∂f/∂x = 3x²", forward=lambda x: x * x * x,
          partials=(lambda out, x: 3.0 * x * x,), test_range=((-2.0, 2.0),))
FMA = Op("fma", "fma", "scaler", "f = x·y + z; ∂f/∂x = y, ∂f/∂y = x, ∂f/∂z = 1",
         forward=lambda x, y, z: x * y + z,
         partials=(lambda out, x, y, z: y, lambda out, x, y, z: x, lambda out, x, y, z: 1.0),
         test_range=((-2.0, 2.0),) * 3)
# Ops that are smooth and finite on the values these graphs reach, plus the two above.
SAFE = [ops.ADD, ops.SUB, ops.MUL, ops.MAX, ops.MIN, ops.TANH, ops.SIGMOID, ops.RELU, ops.SIN,
        ops.ABS, ops.NEG, ops.ATAN, ops.CLAMP, CUBE, FMA]


@st.composite
def graphs(draw_):
    """A random DAG: leaves (the first takes a grad, the others may be frozen), Constants, and
    ops over earlier nodes (reused freely)."""
    pool = [Value(draw_(st.floats(-1.5, 1.5)), f"x{i}",
                  requires_grad=i == 0 or draw_(st.booleans()))
            for i in range(draw_(st.integers(1, 3)))]
    leaves = list(pool)
    for _ in range(draw_(st.integers(1, 10))):
        op = draw_(st.sampled_from(SAFE))
        args = []
        for _ in range(op.arity):
            if draw_(st.integers(0, 4)) == 0:
                args.append(draw_(st.sampled_from([0.5, -1.0, 2.0])))  # lifted to a Constant
            else:
                args.append(pool[draw_(st.integers(0, len(pool) - 1))])
        if op is ops.CLAMP:  # bounds in order
            args[1:] = [-1.0, 1.0]
        node = apply(op, *args)
        if abs(node.data) < 50:
            pool.append(node)
    root = pool[-1]
    if root.op is None:
        root = root * 1.0
    if not root.requires_grad:  # numbers only: backward refuses it (tested elsewhere)
        root = root + leaves[0]
    return leaves, root


def _float_backward(root):
    root.backward()
    return {n: n.grad for n in topological_order(root)}


def _general_walk(root):
    grads = {}
    for _ in chain_rule(root, grads=grads):
        pass
    return grads


def _drawn_grads(root):
    """The grads written in the drawing of the last backward frame, by topological position."""
    dot = to_dot(root, step=-1, fmt=".17g")
    return {int(m[1]): float(m[2]) for m in re.finditer(
        r"\tv(\d+) \[[^\n]*?label=\"\{ \S+ \| data \S+ \| grad (\S+) \}", dot)}


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_backward_the_walk_the_stepper_and_the_drawing_agree_exactly(graph):
    leaves, root = graph
    order = topological_order(root)
    walked = _general_walk(root)
    stepped = {}
    steps = list(backward_steps(root, stepped))
    drawn = _drawn_grads(root)
    assert all(n.grad == 0.0 for n in order)  # none of the three touched a node
    backward = _float_backward(root)
    for i, node in enumerate(order):
        if not node.requires_grad:  # a Constant, or an op of Constants only
            assert node not in walked and node not in stepped and node.grad == 0.0
            continue
        assert walked.get(node, 0.0) == stepped.get(node, 0.0) == backward[node] == drawn[i]
    # each step's upstream grad was complete when it ran, and equals the final grad
    assert all(s.grad == s.node.grad for s in steps)


@settings(max_examples=100, deadline=None)
@given(graphs())
def test_create_graph_walk_gives_the_same_numbers(graph):
    leaves, root = graph
    plain = {n: g for n, g in _general_walk(root).items()}
    root.backward(create_graph=True)
    for node, g in plain.items():
        got = node.grad.data if isinstance(node.grad, Value) else node.grad
        assert got == g


def test_a_record_of_ones_own_is_stepped_and_drawn():
    x = Value(1.5, "x")
    y = apply(CUBE, x)
    y.label = "y"
    steps = list(backward_steps(y))
    assert steps[1].partials == (6.75,)
    assert "∂y/∂x = 6.7500" in to_dot(y, step=1)
    assert draw(y, step=1) is not None


def test_a_tampered_same_named_record_is_drawn_and_stepped_with_its_own_rule():
    fake = dataclasses.replace(ops.TANH, partials=(lambda out, x: 42.0,))
    x = Value(0.5, "x")
    y = apply(fake, x)
    y.label = "y"
    assert list(backward_steps(y))[1].partials == (42.0,)
    assert "∂y/∂x = 42.0000" in to_dot(y, step=1)
    y.backward()
    assert x.grad == 42.0


def test_a_failing_walk_changes_no_grad():
    x, w = Value(5.0, "x"), Value(2.0, "w")
    (x * 3 * w).backward()
    before = (x.grad, w.grad)
    with pytest.raises(ZeroDivisionError, match="backward through"):
        (x * 2 * w + (x - 5.0).sqrt()).backward()
    assert (x.grad, w.grad) == before


# --- the float walk's sums live in the nodes' `_acc` slots during a pass: 0 after one ----------

def _slots_empty(root):
    return all(n._acc == 0.0 for n in topological_order(root))


@settings(max_examples=100, deadline=None)
@given(graphs(), st.floats(-3.0, 3.0))
def test_a_second_backward_adds_the_same_numbers_and_leaves_no_sums_behind(graph, start):
    leaves, root = graph
    order = topological_order(root)
    for n in order:  # grads already there (a second backward adds to them)
        n.grad = start if n.requires_grad else 0.0
    walked = _general_walk(root)
    root.backward()
    for n in order:
        assert n.grad == (start + walked[n] if n in walked else start if n.requires_grad
                          else 0.0)
    assert _slots_empty(root)


@settings(max_examples=100, deadline=None)
@given(graphs(), st.integers(0, 2))
def test_a_pass_that_fails_deep_in_the_graph_takes_back_every_grad_it_added(graph, where):
    leaves, root = graph
    # The failing node comes first in topological order, so the walk reaches it last, having
    # added the grads of all the others: the log of a number so near 0 that 1/x is inf.
    live = [leaf for leaf in leaves if leaf.requires_grad]  # a frozen leaf's path never fails
    bad = (live[where % len(live)] * 0.0 + 5e-324).log()
    top = bad + root
    order = topological_order(top)
    assert order.index(bad) < order.index(root)
    for i, n in enumerate(order):
        n.grad = float(i % 3) if n.requires_grad else 0.0
    before = {n: n.grad for n in order}
    with pytest.raises(OverflowError, match="backward through"):
        top.backward()
    assert {n: n.grad for n in order} == before
    assert _slots_empty(top)


def test_a_hook_that_runs_backward_inside_a_pass_gets_the_general_walk():
    # The hook's pass finds the float walk busy (its sums are in the nodes) and runs the
    # general walk: both passes count, on a graph they share.
    x, w = Value(2.0, "x"), Value(3.0, "w")
    inner = x * w
    h = x * x
    h.register_hook(lambda g: inner.backward())
    (h + w).backward()
    assert (x.grad, w.grad) == (4.0 + 3.0, 1.0 + 2.0)
    assert _slots_empty(h + w) and _slots_empty(inner)


def test_a_hook_that_fails_inside_a_pass_leaves_every_grad_and_slot_as_it_was():
    x = Value(2.0, "x")
    x.grad = 1.5
    y = x * x
    z = y * 3.0

    def boom(g):
        raise RuntimeError("hook failed")

    x.register_hook(boom)
    with pytest.raises(RuntimeError, match="hook failed"):
        z.backward()
    assert (x.grad, y.grad, z.grad) == (1.5, 0.0, 0.0)
    assert _slots_empty(z)


def test_grads_of_leaves_no_sums_behind_whatever_it_is_asked():
    from autograd_core.engine import Constant, grads_of
    x, z, c = Value(2.0, "x"), Value(5.0, "z"), Constant(3.0)
    root = x * x + c * x
    assert grads_of(root, [z]) == [0.0]  # nothing wanted depends on the root
    assert grads_of(root, [x, c]) == [7.0, 2.0]  # a Constant's slope, asked for by name
    assert grads_of(root, [x], create_graph=True)[0].data == 7.0
    assert _slots_empty(root) and x.grad == 0.0


@pytest.mark.parametrize("where", ["leaf", "middle"])
def test_a_second_backward_whose_sum_would_overflow_names_the_node_and_changes_nothing(where):
    x = Value(1e-320, "x")
    h = x * 1.0
    top = h * 1.0
    top.backward()  # every grad is now 1.0
    (h if where == "middle" else x).grad = 1.7e308
    before = (x.grad, h.grad, top.grad)
    with pytest.raises(OverflowError, match=r"would be .* not a finite number; call zero_grad"):
        (h * 1.7e308).backward()  # h and x each get 1.7e308 more
    assert (x.grad, h.grad, top.grad) == before
    assert _slots_empty(top)


def test_a_hook_on_the_root_that_fails_keeps_the_roots_grad():
    x = Value(2.0, "x")
    y = x * x
    y.grad = 4.0  # a grad from before, on the root itself

    def boom(g):
        raise RuntimeError("hook failed")

    y.register_hook(boom)
    with pytest.raises(RuntimeError, match="hook failed"):
        y.backward()
    assert (y.grad, x.grad) == (4.0, 0.0) and _slots_empty(y)

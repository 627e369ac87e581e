"""Custom rules that see the upstream gradient (JAX's custom_vjp, PyTorch's Function.backward):
an op record with `vjp=` and the `custom_vjp` decorator built on it — gradient clipping and a
straight-through estimator through backward, grad, hooks, higher order, the stepper, the
drawings, compile, and rules that return bad cotangents.
"""

import json
import math
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import (
    Op,
    Value,
    apply,
    backward_steps,
    chain_rule,
    compile,
    custom_vjp,
    draw,
    explain,
    grad,
    gradients,
    local_partials,
    no_grad,
    ops,
    to_dot,
    topological_order,
    value_and_grad,
)
from autograd_core.quiz import teaching_html

# --- the two examples, each spelled both ways -----------------------------------------------


@custom_vjp
def clip_gradient(x):
    """x in the forward; the gradient clipped to [−1, 1] in the backward."""
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (max(-1.0, min(1.0, g)),))


@custom_vjp
def straight_through_round(x):
    """round(x) in the forward; the identity in the backward (a straight-through estimator)."""
    return float(round(x))


straight_through_round.defvjp(lambda x: (float(round(x)), None), lambda _, g: (g,))

# The same rules as op records of one's own.
CLIP = Op("clip_grad", "clip∇", ops.CUSTOM, "f = x", forward=lambda x: x,
          vjp=lambda g, out, x: (max(-1.0, min(1.0, g)),), inputs=("x",))
ROUND_ST = Op("round_st", "round", ops.CUSTOM, "f = round(x)", forward=lambda x: float(round(x)),
              vjp=lambda g, out, x: (g,), inputs=("x",))


# x³ whose backward is written with Value arithmetic: it differentiates again (6x, then 6).
@custom_vjp
def cube(x):
    return x * x * x


cube.defvjp(lambda x: (x * x * x, x), lambda x, g: (3.0 * x * x * g,))


def test_clip_gradient_clips_the_upstream_gradient_in_backward():
    x = Value(3.0, "x")
    y = clip_gradient(x) * 5.0  # the clip node's grad is 5: clipped to 1
    y.backward()
    assert y.data == 15.0 and x.grad == 1.0
    z = Value(3.0, "z")
    (clip_gradient(z) * 0.25).backward()  # inside [−1, 1]: passed as it is
    assert z.grad == 0.25


def test_clip_gradient_record_and_decorator_agree_at_every_upstream_scale():
    for scale in (-7.0, -1.0, -0.3, 0.0, 0.5, 2.0):
        a, b = Value(1.5), Value(1.5)
        (clip_gradient(a) * scale).backward()
        (apply(CLIP, b) * scale).backward()
        assert a.grad == b.grad == max(-1.0, min(1.0, scale))


@settings(max_examples=60)
@given(st.floats(-4.0, 4.0), st.floats(-50.0, 50.0))
def test_clip_gradient_gives_the_clipped_chain_rule_through_grad(x, scale):
    # d/dx [scale · clip(x²)] = clip(scale) · 2x
    got = grad(lambda v: clip_gradient(v * v) * scale)(x)
    assert got == pytest.approx(max(-1.0, min(1.0, scale)) * 2.0 * x, abs=1e-12)


@settings(max_examples=60)
@given(st.floats(-4.0, 4.0))
def test_straight_through_rounds_forward_and_passes_the_gradient_back(x):
    (value, g) = value_and_grad(lambda v: straight_through_round(v) * 3.0)(x)
    assert value == 3.0 * round(x) and g == 3.0
    v = Value(x)
    y = apply(ROUND_ST, v) * 3.0
    y.backward()
    assert y.data == value and v.grad == g


def test_value_and_grad_and_grad_agree_on_a_custom_rule_among_ordinary_ops():
    def f(x, w):
        return (clip_gradient(x * w).tanh() * 10.0 + w * w)

    (value, (gx, gw)) = value_and_grad(f, argnums=(0, 1))(0.5, 2.0)
    t = math.tanh(1.0)
    upstream = 10.0 * (1.0 - t * t)  # 4.2: clipped to 1
    assert value == pytest.approx(10.0 * t + 4.0)
    assert (gx, gw) == (pytest.approx(1.0 * 2.0), pytest.approx(1.0 * 0.5 + 4.0))
    assert upstream > 1.0
    assert grad(f, argnums=(0, 1))(0.5, 2.0) == (gx, gw)


def test_backward_with_inputs_gives_only_those_grads_through_a_custom_rule():
    x, w = Value(0.5, "x"), Value(2.0, "w")
    y = clip_gradient(x * w) * 4.0
    y.backward(inputs=[w])
    assert w.grad == 0.5 and x.grad == 0.0  # x is not asked for: untouched


def test_a_second_backward_through_a_custom_rule_adds_to_the_first():
    x = Value(2.0, "x")
    y = clip_gradient(x) * 3.0
    y.backward()
    y.backward()
    assert x.grad == 2.0
    for n in topological_order(y):
        assert n._acc == 0.0  # the float walk leaves no running sum behind


def test_a_hook_on_a_custom_rule_node_sees_its_grad_and_may_replace_it():
    x = Value(2.0, "x")
    c = clip_gradient(x)
    seen = []
    c.register_hook(lambda g: seen.append(g))
    (c * 5.0).backward()
    assert seen == [5.0] and x.grad == 1.0
    x2 = Value(2.0)
    c2 = straight_through_round(x2)
    handle = c2.register_hook(lambda g: g / 10.0)  # the rule sees the replaced grad
    (c2 * 5.0).backward()
    assert x2.grad == 0.5
    handle.remove()
    x2.zero_grad()
    c2.zero_grad()
    (c2 * 5.0).backward()
    assert x2.grad == 5.0


def test_gradients_of_an_existing_graph_run_the_custom_rule_and_change_no_grad():
    x = Value(3.0, "x")
    y = clip_gradient(x * x) * 5.0
    (g,) = gradients(y, [x])
    assert g == 6.0 and x.grad == 0.0


def test_a_custom_rule_gets_the_node_and_its_inputs():
    seen = []
    rec = Op("spy", "spy", ops.CUSTOM, "f = x·y", forward=lambda x, y: x * y,
             vjp=lambda g, out, x, y: seen.append((g, out, x, y)) or (g * y, None),
             inputs=("x", "y"))
    x, y = Value(2.0), Value(3.0)
    (apply(rec, x, y) * 2.0).backward()
    assert seen == [(2.0, 6.0, 2.0, 3.0)]
    assert x.grad == 6.0 and y.grad == 0.0  # None: y takes no gradient from this rule


def test_an_input_that_requires_no_grad_gets_nothing_from_the_rule():
    x = Value(2.0)
    y = apply(Op("both", "both", ops.CUSTOM, "f = x + y", forward=lambda x, y: x + y,
                 vjp=lambda g, out, x, y: (g, g), inputs=("x", "y")), x, 4.0)
    y.backward()
    assert x.grad == 1.0
    assert [s.contributions for s in backward_steps(y)][1] == (1.0, None)


# --- ported from JAX's tests/api_test.py, CustomVJPTest -------------------------------------

def test_jax_custom_vjp_test_basic():
    # CustomVJPTest.test_basic: fwd calls f itself; the rule is 2·cos x, not the derivative.
    @custom_vjp
    def f(x):
        return x.sin() if isinstance(x, Value) else math.sin(x)

    f.defvjp(lambda x: (f(x), x.cos()), lambda cos_x, g: (2.0 * cos_x * g,))
    assert f(3.0) == math.sin(3.0)
    assert grad(f)(3.0) == pytest.approx(2.0 * math.cos(3.0), rel=1e-15)
    assert value_and_grad(f)(3.0) == (math.sin(3.0), pytest.approx(2.0 * math.cos(3.0)))


def test_jax_custom_vjp_test_python_control_flow():
    # CustomVJPTest.test_python_control_flow: fwd and bwd branch on the value.
    @custom_vjp
    def f(x):
        return x.sin() if x > 0 else x.cos()

    f.defvjp(lambda x: (f(x), x), lambda x, g: (2.0 * g,) if x > 0 else (3.0 * g,))
    assert grad(f)(1.0) == 2.0 and grad(f)(-1.0) == 3.0


def test_jax_custom_vjp_test_multiple_args():
    # Two arguments, one cotangent each (CustomVJPTest's f(x, y) = sin x · y cases).
    @custom_vjp
    def f(x, y):
        return x.sin() * y

    f.defvjp(lambda x, y: (f(x, y), (x.cos(), x.sin(), y)),
             lambda res, g: (res[0] * res[2] * g, res[1] * g))
    gx, gy = grad(f, argnums=(0, 1))(3.0, 4.0)
    assert gx == pytest.approx(math.cos(3.0) * 4.0) and gy == pytest.approx(math.sin(3.0))
    assert grad(grad(f, argnums=1), argnums=0)(3.0, 4.0) == pytest.approx(math.cos(3.0))


# --- higher order ----------------------------------------------------------------------------

def test_a_custom_cube_written_with_values_differentiates_again():
    assert grad(cube)(2.0) == 12.0
    assert grad(grad(cube))(2.0) == 12.0  # 6x
    assert grad(grad(grad(cube)))(2.0) == 6.0
    x = Value(2.0, "x")
    y = cube(x)
    with pytest.warns(UserWarning, match="create_graph"):
        y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 12.0
    (d2,) = gradients(x.grad, [x])
    assert d2 == 12.0
    x.zero_grad()


@settings(max_examples=40)
@given(st.floats(-3.0, 3.0))
def test_a_custom_cube_equals_the_plain_cube_to_the_third_derivative(x):
    def plain(v):
        return v * v * v

    for f, g in ((cube, plain), (grad(cube), grad(plain)), (grad(grad(cube)), grad(grad(plain)))):
        assert f(x) == pytest.approx(g(x), rel=1e-12, abs=1e-12)


def test_clip_gradient_differentiates_again_as_the_clip_of_g():
    # g ↦ clip(g) has slope 1 inside [−1, 1] and 0 outside: d/ds of clip(s·2x)... via grad
    def dx(x, s):
        return grad(lambda v: clip_gradient(v) * s)(x)

    assert grad(dx, argnums=1)(1.0, 0.5) == 1.0  # inside: d clip(s)/ds = 1
    assert grad(dx, argnums=1)(1.0, 3.0) == 0.0  # clipped: flat


def test_a_backward_rule_that_reads_a_number_refuses_to_differentiate_again():
    @custom_vjp
    def cube_by_floats(x):
        return x * x * x

    cube_by_floats.defvjp(lambda x: (x * x * x, x),
                          lambda x, g: (3.0 * math.pow(x, 2) * g,))  # math.pow reads x's float
    assert grad(cube_by_floats)(2.0) == 12.0  # first order: fine
    with pytest.raises(TypeError, match=r"'cube_by_floats'.*read the number.*create_graph"):
        grad(grad(cube_by_floats))(2.0)
    x = Value(2.0)
    with pytest.raises(TypeError, match="cube_by_floats"), pytest.warns(UserWarning):
        cube_by_floats(x).backward(create_graph=True)
    assert x.grad == 0.0  # and nothing changed


# --- the stepper, the drawings, the quiz, explain ---------------------------------------------

def _clipped_graph():
    x = Value(3.0, "x")
    c = clip_gradient(x * x)
    c.label = "c"
    loss = c * 5.0
    loss.label = "L"
    return x, c, loss


def test_the_stepper_shows_a_custom_rule_step_with_its_contribution_and_no_partial():
    x, c, loss = _clipped_graph()
    steps = list(backward_steps(loss))
    (step,) = [s for s in steps if s.node is c]
    assert step.partials == (None,) and step.contributions == (1.0,) and step.grad == 5.0
    links = [link for link in chain_rule(loss) if link.node is c]
    assert links[0].contributions == (1.0,)
    assert x.grad == 0.0  # stepping changes nothing


def test_the_drawing_of_a_custom_rule_step_says_custom_rule_not_partial_times_grad():
    x, c, loss = _clipped_graph()
    index = [s.node for s in backward_steps(loss)].index(c)
    dot = to_dot(loss, step=index)
    assert "clip_gradient's custom rule (vjp) of dL/dc = 5.0000 → 1.0000" in dot
    assert "custom rule: +1.0000" in dot  # on its edge, in place of a partial
    assert "∂c/∂" not in dot
    assert "custom rule: grad mapped by its vjp" in dot  # the legend names the role
    assert draw(loss, step=index) is not None


def test_the_quiz_asks_the_custom_rules_term_without_a_partial():
    x, c, loss = _clipped_graph()
    payload, = re.findall(r'<script type="application/json" class="teach-data">(.*?)</script>',
                          teaching_html(loss, "u", quiz=True), re.S)
    (q,) = [q for q in json.loads(payload)["questions"] if q["gate"].startswith("c")]
    assert q["partial"] is None and q["term"] == 1.0 and q["upstream"] == 5.0
    assert q["lines"][0].endswith("+= clip_gradient's custom rule (vjp) of dL/dc = 5.0000 → "
                                  "1.0000")


def test_local_partials_refuses_a_custom_rule_by_name():
    x, c, loss = _clipped_graph()
    with pytest.raises(TypeError, match="clip_gradient.*custom rule"):
        local_partials(c)


def test_explain_names_a_custom_rule_that_passed_no_gradient():
    x = Value(3.0, "x")
    blocked = Op("stop_grad", "stop", ops.CUSTOM, "f = x", forward=lambda x: x,
                 vjp=lambda g, out, x: (0.0,), inputs=("x",))
    y = apply(blocked, x) * 2.0
    y.label = "y"
    why = explain(x, y)
    assert why.grad == 0.0
    (reason,) = why.reasons
    assert reason.kind == "custom rule"
    assert "its vjp turned its upstream grad 2 into 0 for x" in reason.text
    x2, c, loss = _clipped_graph()  # a gradient that passes: explained as usual
    assert explain(x2, loss).grad == 6.0


def test_the_records_formula_says_its_backward_is_a_custom_rule():
    assert CLIP.formula == "f = x; backward: a custom rule of the upstream gradient g (vjp)"
    assert CLIP.partial_written(0) == "" and CLIP.constant == () and not CLIP.product


# --- compile, pickle, no_grad -------------------------------------------------------------------

def _uses_a_custom_rule(x):
    return straight_through_round(x * 2.0) * x


def test_compile_runs_a_function_with_a_custom_rule_eagerly_saying_so_once():
    program = compile(_uses_a_custom_rule)
    eager = value_and_grad(_uses_a_custom_rule, argnums=(0,))
    with pytest.warns(RuntimeWarning, match=r"_uses_a_custom_rule uses op record "
                      r"'straight_through_round', a custom rule \(vjp\).*every call runs "
                      r"_uses_a_custom_rule eagerly") as record:
        assert program(1.3) == eager(1.3)
        assert program(-0.4) == eager(-0.4)
    assert len(record) == 1
    with pytest.raises(ValueError, match="runs eagerly, so it has no listing"):
        program.listing()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-4.0, 4.0), min_size=1, max_size=6))
def test_eagerly_run_programs_agree_with_eager_on_batches_and_inside_grad(xs):
    program = compile(_uses_a_custom_rule, has_aux=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values, (grads,) = program(np.array(xs))
        for x, v, g in zip(xs, values, grads):
            assert (v, g) == value_and_grad(_uses_a_custom_rule)(x)
            assert grad(lambda t: program(t)[0])(x) == grad(_uses_a_custom_rule)(x)
            assert grad(grad(lambda t: program(t)[0]))(x) == grad(grad(_uses_a_custom_rule))(x)


def test_strict_compile_refuses_a_custom_rule_naming_the_record():
    with pytest.raises(TypeError, match=r"'straight_through_round', a custom rule.*strict=True"):
        compile(_uses_a_custom_rule, 1.3, strict=True)
    program = compile(_uses_a_custom_rule, strict=True)
    with pytest.raises(TypeError, match=r"strict=True, so it does not run eagerly either"):
        program(1.3)


def test_a_graph_with_a_custom_rule_refuses_to_pickle_by_the_records_name():
    x = Value(1.0)
    with pytest.raises(TypeError, match="'clip_gradient' is not one of"):
        pickle.dumps(clip_gradient(x) * 2.0)


def test_on_numbers_and_under_no_grad_a_custom_vjp_function_is_the_function_itself():
    assert straight_through_round(2.6) == 3.0
    x = Value(2.6)
    with no_grad():
        y = straight_through_round(x)
    assert y == 3.0 and not isinstance(y, Value)


def test_the_records_forward_is_the_function_away_from_the_calls_inputs():
    node = cube(Value(2.0))
    assert node.data == 8.0 and node.op.forward(2.0) == 8.0 and node.op.forward(3.0) == 27.0


# --- bad rules and bad records ----------------------------------------------------------------

BAD_RESULTS = [
    ((1.0, 2.0), TypeError, r"'bad'.*tuple of 1 cotangent, one per input \(x\).*bad\(3.0\) "
                            r"with g = 5.0 it returned \(1.0, 2.0\)"),
    (1.0, TypeError, r"'bad'.*tuple of 1 cotangent.*returned 1.0"),
    (("one",), TypeError, r"'bad'.*returned str: 'one' for x at bad\(3.0\) with g = 5.0"),
    ((True,), TypeError, r"'bad'.*returned bool"),
    ((math.inf,), ValueError, r"'bad'.*returned inf for x at bad\(3.0\) with g = 5.0, not a "
                              r"finite number"),
    ((math.nan,), ValueError, r"'bad'.*returned nan"),
]


@pytest.mark.parametrize("result, kind, message", BAD_RESULTS)
def test_a_bad_cotangent_fails_every_walk_the_same_and_changes_no_grad(result, kind, message):
    bad = Op("bad", "bad", ops.CUSTOM, "f = x", forward=lambda x: x,
             vjp=lambda g, out, x: result, inputs=("x",))
    x, w = Value(3.0, "x"), Value(2.0, "w")
    y = apply(bad, x) * 5.0 + w * 1.0
    y.backward(inputs=[w])  # the walk towards w never runs the rule
    assert w.grad == 1.0 and x.grad == 0.0
    with pytest.raises(kind, match=message):
        y.backward()
    assert w.grad == 1.0 and x.grad == 0.0
    assert all(n._acc == 0.0 for n in topological_order(y))
    with pytest.raises(kind, match=message):
        grad(lambda v: apply(bad, v) * 5.0)(3.0)
    with pytest.raises(kind, match=message), pytest.warns(UserWarning):
        y.backward(create_graph=True)
    assert w.grad == 1.0 and x.grad == 0.0
    with pytest.raises(kind, match=message):
        list(backward_steps(y))


def test_a_rule_that_raises_an_arithmetic_error_names_the_op_and_its_values():
    bad = Op("recip_st", "1/x", ops.CUSTOM, "f = 1/x", forward=lambda x: 1.0 / x,
             vjp=lambda g, out, x: (g / (x - 3.0),), inputs=("x",), defined="its rule needs x ≠ 3")
    x = Value(3.0)
    with pytest.raises(ZeroDivisionError, match=r"backward through recip_st\(3.0\).*x ≠ 3"):
        apply(bad, x).backward()
    assert x.grad == 0.0


def test_a_record_with_partials_and_a_vjp_or_without_input_names_is_refused():
    with pytest.raises(TypeError, match="'twice'.*instead of partials"):
        Op("twice", "2", ops.CUSTOM, "f = x", forward=lambda x: x, partials=(1.0,),
           vjp=lambda g, out, x: (g,), inputs=("x",))
    with pytest.raises(ValueError, match="'nameless'.*names its inputs"):
        Op("nameless", "?", ops.CUSTOM, "f = x", forward=lambda x: x, vjp=lambda g, out, x: (g,))
    with pytest.raises(TypeError, match="'bare' needs its derivative: partials=.*or a custom"):
        Op("bare", "?", ops.CUSTOM, "f = x", forward=lambda x: x, inputs=("x",),
           test_range=((0.0, 1.0),))
    with pytest.raises(TypeError, match="'notfn'.*vjp must be a function"):
        Op("notfn", "?", ops.CUSTOM, "f = x", forward=lambda x: x, vjp=3.0, inputs=("x",))


def test_custom_vjp_refuses_a_missing_rule_bad_rules_and_bad_arguments():
    @custom_vjp
    def f(x):
        return x

    with pytest.raises(TypeError, match=r"f has no backward rule: call f.defvjp\(fwd, bwd\)"):
        f(Value(1.0))
    with pytest.raises(TypeError, match="f.defvjp: bwd must be a function"):
        f.defvjp(lambda x: (x, None), "g")
    f.defvjp(lambda x: x, lambda r, g: (g,))
    with pytest.raises(TypeError, match=r"f's fwd must return a pair \(out, residuals\)"):
        f(Value(1.0))
    f.defvjp(lambda x: (x, None), lambda r, g: (g,))
    with pytest.raises(TypeError, match="argument 0 must be a number or a Value"):
        f("x")
    with pytest.raises(TypeError, match="by position"):
        f(x=Value(1.0))
    with pytest.raises(TypeError, match="needs a function"):
        custom_vjp(3)


# --- one chain rule: random DAGs with custom rules in them --------------------------------------

# A rule that is the true derivative, so the custom node must agree with the plain op.
TANH_VJP = Op("tanh_vjp", "tanh", ops.CUSTOM, "f = tanh x", forward=math.tanh,
              vjp=lambda g, out, x: ((1.0 - out * out) * g,), inputs=("x",))
SAFE = [ops.ADD, ops.MUL, ops.TANH, ops.SIN, ops.SUB, CLIP, TANH_VJP]


@st.composite
def graphs(draw_):
    pool = [Value(draw_(st.floats(-1.5, 1.5)), f"x{i}") for i in range(draw_(st.integers(1, 3)))]
    for _ in range(draw_(st.integers(1, 8))):
        op = draw_(st.sampled_from(SAFE))
        args = [pool[draw_(st.integers(0, len(pool) - 1))] if draw_(st.integers(0, 4))
                else 0.5 for _ in range(op.arity)]
        node = apply(op, *args)
        if abs(node.data) < 50:
            pool.append(node)
    root = pool[-1] * 3.0 + pool[0]  # an upstream gradient the clip has to cut
    return pool, root


@settings(max_examples=100)
@given(graphs())
def test_the_float_walk_the_general_walk_the_stepper_and_create_graph_agree(graph):
    pool, root = graph
    walked = {}
    for _ in chain_rule(root, grads=walked):
        pass
    stepped = {}
    for _ in backward_steps(root, stepped):
        pass
    graphed = {}
    for _ in chain_rule(root, grads=graphed, create_graph=True):
        pass
    root.backward()
    for node in topological_order(root):
        if node.requires_grad:
            g = graphed.get(node, 0.0)
            assert walked.get(node, 0.0) == stepped.get(node, 0.0) == node.grad == (
                g.data if isinstance(g, Value) else g)
        assert node._acc == 0.0

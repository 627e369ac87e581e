"""Pictures that teach (issue 13): short names, one layout for every frame, every user leaf's
grad, fan-out sums written out, the stepper inline in Jupyter, and bad input."""

import base64
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd_core import Value, save_steps, show_steps, to_dot
from autograd_core.cli import trace
from autograd_core.examples import fanout_graph
from autograd_core.render import MAX_NAME, stepper_frames

SVG = "{http://www.w3.org/2000/svg}"
NEURON = ("sigmoid(w0*x0 + w1*x1 + w2)", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})


def captions(root, forward=False):
    return [frame.caption for frame in stepper_frames(root, forward=forward).frames]


def geometry(svg_text):
    """The picture's size, and where each node and edge is drawn: id → its shapes' coordinates."""
    svg = ET.fromstring(svg_text[svg_text.find("<svg"):])
    places = {}
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") in ("node", "edge"):
            places[group.get("id")] = [
                tuple(el.get(a) for a in ("points", "cx", "cy", "rx", "ry", "d", "x", "y"))
                for el in group.iter() if el.tag != f"{SVG}title" and el.tag != f"{SVG}a"]
    return (svg.get("width"), svg.get("height"), svg.get("viewBox")), places


def texts(svg_text):
    return [el.text for el in ET.fromstring(svg_text).iter(f"{SVG}text")]


fanout = fanout_graph  # the notebook's example h = x·y + x at x = 3, y = −4: dh/dx = −3


# --- names ------------------------------------------------------------------------------------

def test_trace_names_intermediates_like_the_slides():
    t = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert t.root.label == "f" and t.names == {"q": "x + y", "f": "(x + y) * z"}
    neuron = trace(*NEURON)
    assert neuron.names == {"q": "w0*x0", "r": "w1*x1", "s": "w0*x0 + w1*x1",
                            "t": "w0*x0 + w1*x1 + w2", "f": "sigmoid(w0*x0 + w1*x1 + w2)"}
    taken = trace("q * f", {"q": 2, "f": 3})  # names the variables use are skipped
    assert taken.root.label == "r" and taken.names == {"r": "q * f"}


def test_slides_legend_and_tooltips_say_what_each_name_is():
    t = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert stepper_frames(t.root).names == ("q = x + y", "f = q * z")
    dot = to_dot(t.root)
    assert 'tooltip="q = x + y (intermediate)"' in dot and 'tooltip="f = q * z (output)"' in dot


def test_compound_labels_are_bracketed_in_derivatives_and_grouped_in_formulas():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "x + y"  # what the CLI used to do: a label that is an expression
    f = q * z
    f.label = "f"
    _, mul, add = captions(f)
    assert mul.split("\n") == [
        "backward step 1 of 2: f = (x + y) * z   (mul, a swapper)",
        "df/d[x + y] += ∂f/∂[x + y] · df/df = -4.0000 · 1.0000 = -4.0000",
        "df/dz += ∂f/∂z · df/df = 3.0000 · 1.0000 = 3.0000"]
    # No tautology: a node named by its own expression is not written "x + y = x + y".
    assert add.split("\n")[0] == "backward step 2 of 2: x + y   (add, a distributor)"
    assert "∂[x + y]/∂x" in add


# --- captions, word for word ------------------------------------------------------------------

def test_slides_xplusy_times_z_captions_word_for_word():
    t = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert captions(t.root) == [
        "backward step 0 of 2: the seed, df/df = 1",
        "backward step 1 of 2: f = q * z   (mul, a swapper)\n"
        "df/dq += ∂f/∂q · df/df = -4.0000 · 1.0000 = -4.0000\n"
        "df/dz += ∂f/∂z · df/df = 3.0000 · 1.0000 = 3.0000",
        "backward step 2 of 2: q = x + y   (add, a distributor)\n"
        "df/dx += ∂q/∂x · df/dq = 1.0000 · (-4.0000) = -4.0000\n"
        "df/dy += ∂q/∂y · df/dq = 1.0000 · (-4.0000) = -4.0000"]


def test_fanout_x_times_y_plus_x_captions_write_the_sum_out():
    *_, h = fanout()
    assert captions(h) == [
        "backward step 0 of 2: the seed, dh/dh = 1",
        "backward step 1 of 2: h = m + x   (add, a distributor)\n"
        "dh/dm += ∂h/∂m · dh/dh = 1.0000 · 1.0000 = 1.0000\n"
        "dh/dx += ∂h/∂x · dh/dh = 1.0000 · 1.0000 = 1.0000   (so far: 1 more use of x to add)",
        "backward step 2 of 2: m = x * y   (mul, a swapper)\n"
        "dh/dx += ∂m/∂x · dh/dm = -4.0000 · 1.0000 = -4.0000\n"
        "dh/dx = 1.0000 (so far) + (-4.0000) = -3.0000   (complete: the sum over its 2 uses)\n"
        "dh/dy += ∂m/∂y · dh/dm = 3.0000 · 1.0000 = 3.0000"]


def test_fanout_x_times_x_sums_both_terms_of_one_step():
    x = Value(3.0, "x")
    sq = x * x
    sq.label = "sq"
    assert captions(sq)[1].split("\n")[-1] == (
        "dsq/dx = 3.0000 + 3.0000 = 6.0000   (complete: the sum over its 2 uses)")


def test_sigmoid_neuron_captions_word_for_word():
    t = trace(*NEURON)
    assert captions(t.root, forward=True) == [
        "forward step 0 of 5: the inputs",
        "forward step 1 of 5: q = w0 * x0 = 2.0000 * (-1.0000) = -2.0000",
        "forward step 2 of 5: r = w1 * x1 = (-3.0000) * (-2.0000) = 6.0000",
        "forward step 3 of 5: s = q + r = (-2.0000) + 6.0000 = 4.0000",
        "forward step 4 of 5: t = s + w2 = 4.0000 + (-3.0000) = 1.0000",
        "forward step 5 of 5: f = sigmoid(t) = sigmoid(1.0000) = 0.7311",
        "backward step 0 of 5: the seed, df/df = 1",
        "backward step 1 of 5: f = sigmoid(t)   (sigmoid, a scaler)\n"
        "df/dt += ∂f/∂t · df/df = 0.1966 · 1.0000 = 0.1966",
        "backward step 2 of 5: t = s + w2   (add, a distributor)\n"
        "df/ds += ∂t/∂s · df/dt = 1.0000 · 0.1966 = 0.1966\n"
        "df/dw2 += ∂t/∂w2 · df/dt = 1.0000 · 0.1966 = 0.1966",
        "backward step 3 of 5: s = q + r   (add, a distributor)\n"
        "df/dq += ∂s/∂q · df/ds = 1.0000 · 0.1966 = 0.1966\n"
        "df/dr += ∂s/∂r · df/ds = 1.0000 · 0.1966 = 0.1966",
        "backward step 4 of 5: r = w1 * x1   (mul, a swapper)\n"
        "df/dw1 += ∂r/∂w1 · df/dr = -2.0000 · 0.1966 = -0.3932\n"
        "df/dx1 += ∂r/∂x1 · df/dr = -3.0000 · 0.1966 = -0.5898",
        "backward step 5 of 5: q = w0 * x0   (mul, a swapper)\n"
        "df/dw0 += ∂q/∂w0 · df/dq = -1.0000 · 0.1966 = -0.1966\n"
        "df/dx0 += ∂q/∂x0 · df/dq = 2.0000 · 0.1966 = 0.3932"]


# --- every user leaf is a record with its grad ------------------------------------------------

def test_micrograd_trace_graph_example_shows_x_grad():
    x = Value(1.0)  # micrograd's trace_graph example: no label anywhere
    y = (x * 2 + 1).relu()
    y.backward()
    dot = to_dot(y)
    assert "{ q | data 1.0000 | grad 2.0000 }" in dot  # x, a leaf the user made
    assert 'label="2.0000" tooltip="constant"' in dot  # the literals: numbers, no grad
    assert 'label="1.0000" tooltip="constant"' in dot
    assert 'tooltip="q (input)"' in dot


def test_lecture_a_b_c_f_example_shows_every_leaf_grad():
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    e = a * b
    d = e + c
    f = Value(-2.0)
    L = d * f
    L.backward()
    dot = to_dot(L)
    for name, grad in (("q", "6.0000"), ("r", "-4.0000"), ("t", "-2.0000"),
                       ("v", "4.0000")):  # a, b, c, f: slide names in topological order
        assert re.search(rf"\{{ {name} \| data [-\d.]+ \| grad {re.escape(grad)} \}}", dot)
    assert "tooltip=\"constant\"" not in dot


# --- one layout for every frame ---------------------------------------------------------------

@pytest.mark.parametrize("expression, variables", [
    ("(x + y) * z", {"x": -2, "y": 5, "z": -4}),  # make demo's stepper
    NEURON,  # the --help example
])
def test_layout_is_the_same_in_every_frame(tmp_path, expression, variables):
    traced = trace(expression, variables)
    page = save_steps(traced.root, tmp_path, forward=True)
    frames = sorted(tmp_path.glob("*.svg"))
    assert len(frames) == 2 * (1 + len(traced.names))  # both passes: a start, one per op
    shapes = [geometry(path.read_text()) for path in frames]
    assert all(s == shapes[0] for s in shapes)  # same size, every node and edge in place
    assert len({tuple(texts(path.read_text())) for path in frames}) == len(frames)  # texts differ
    live = page.read_text().replace("<\\/", "</")  # the live frames wait in a script block
    inline = re.findall(r"<section class=\"frame\".*?(<svg.*?</svg>)", live, re.DOTALL)
    sizes = {geometry(svg)[0] for svg in inline}
    assert len(inline) == len(frames) and len(sizes) == 1  # the page's frames: one size too


def test_layout_has_room_for_the_widest_grad():
    *_, h = fanout()
    frames = stepper_frames(h).frames
    widths = [re.search(r'width="([\d.]+)pt"', f.svg).group(1) for f in frames]
    assert len(set(widths)) == 1
    assert "grad 1.0000 so far" in texts(frames[1].svg)  # the widest grad text, in its frame
    assert "grad " in texts(frames[0].svg)  # blank at the seed: the same box, no number


# --- show_steps: inline in Jupyter ------------------------------------------------------------

def test_show_steps_outputs_have_their_own_ids_and_read_without_scripts():
    *_, h = fanout()
    view = show_steps(h)
    first, second = view._repr_html_(), view._repr_html_()
    ids1, ids2 = (set(re.findall(r'\bid="([^"]+)"', text)) for text in (first, second))
    assert len(re.findall(r'\bid="([^"]+)"', first)) == len(ids1)  # unique within one output
    assert not ids1 & ids2  # and across outputs: two steppers never share an element
    root_id = re.match(r'<div class="autograd-steps" id="([^"]+)"', first).group(1)
    assert f'document.getElementById("{root_id}")' in first
    # Without scripts: the first frame shows as a PNG with its arithmetic; the frames wait in
    # a script block (which a sanitiser drops whole); every caption is text.
    static = re.sub(r"<script.*?</script>", "", first, flags=re.DOTALL)
    assert "<svg" not in static and "<section" not in static and "<button" not in static
    (still,) = re.findall(r'<img src="data:image/png;base64,([^"]+)"', static)
    assert base64.b64decode(still)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "frame 1 of 3 · backward pass, step 0 of 2" in static
    assert "backward step 0 of 2: the seed, dh/dh = 1" in static
    assert len(re.findall(r'<section class="frame"[^>]*hidden>', first)) == 3
    assert '<details class="every-step" open>' in first
    assert "dh/dx = 1.0000 (so far) + (-4.0000) = -3.0000" in first
    assert "<script src" not in first and "<link" not in first
    assert repr(view).startswith("<stepper of 3 frames")


def test_show_steps_start_out_of_range_names_the_range():
    *_, h = fanout()
    with pytest.raises(IndexError, match=r"start 3 is out of range: this stepper has 3 frames "
                                         r"\(0 to 2\)"):
        show_steps(h, start=3)
    assert "frame 3 of 3" in show_steps(h, start=2)._repr_html_().split("<section")[0]


def test_show_steps_and_save_steps_refuse_too_many_frames_before_drawing(tmp_path):
    v = Value(0.0, "x")
    for _ in range(40):
        v = v + 1
    with pytest.raises(ValueError, match=r"would draw 41 frames, more than max_frames=30"):
        show_steps(v, max_frames=30)
    with pytest.raises(ValueError, match=r"would draw 82 frames, more than max_frames=60"):
        save_steps(v, tmp_path / "steps", forward=True)
    assert not (tmp_path / "steps").exists()
    assert "frame 41 of 41" in show_steps(v, max_frames=41, start=40).text


def test_save_steps_into_a_reused_folder_leaves_no_stale_frames(tmp_path):
    big = trace(*NEURON).root
    save_steps(big, tmp_path, forward=True)
    mine = tmp_path / "notes.txt"
    mine.write_text("the user's own file")
    *_, h = fanout()
    save_steps(h, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "backward-000.svg", "backward-001.svg", "backward-002.svg", "notes.txt", "steps.html"]


def test_show_steps_above_the_node_limit_refuses_like_draw():
    v = Value(0.0, "x")
    for _ in range(30):
        v = v + 1
    with pytest.raises(ValueError, match=r"61 nodes, more than max_nodes=50.*one sample.*"
                                         r"sub-graph"):
        show_steps(v, max_nodes=50)
    with pytest.raises(ValueError, match="more than max_nodes=50"):
        to_dot(v, max_nodes=50)


# --- bad input --------------------------------------------------------------------------------

def test_too_long_label_is_shortened_and_the_tooltip_keeps_it():
    long = "a_rather_long_name_for_a_weight"
    w = Value(2.0, long)
    out = w * 3
    out.label = "out"
    dot = to_dot(out, step=1)
    short = "a_rat…r_a_weight"  # its head and its informative tail
    assert len(short) == MAX_NAME
    assert f"{{ {short} | data 2.0000" in dot and f'tooltip="{long} (input)"' in dot
    assert f"dout/d[{short}] += ∂out/∂[{short}]" in dot  # captions use the short name too
    assert long in stepper_frames(out).names[0]  # the legend keeps it whole


def test_model_parameter_labels_are_unique_and_keep_their_tail():
    from autograd_core.nn import MLP

    model = MLP(2, [16, 1])
    x = [Value(0.5, "x0"), Value(-1.0, "x1")]
    loss = model(x)
    dot = to_dot(loss, params=model)
    shown = re.findall(r'label="\{ ([^|]+?) \|', dot)
    weights = [name for name in shown if re.fullmatch(r"l\d\.n\d+\.(w\d+|b)", name)]
    assert "l0.n3.w1" in weights and "l1.n0.b" in weights
    assert len(weights) == model.num_parameters() == len(set(weights))  # one each, no repeats
    assert 'tooltip="layers.0.neurons.3.w.1 (parameter)"' in dot  # the full name kept


def test_a_label_that_cannot_be_shortened_uniquely_keeps_its_whole_text():
    a = Value(1.0, "layer_one_momentum_weight")
    b = Value(2.0, "layer_two_momentum_weight")  # the same head and tail: layer…tum_weight
    dot = to_dot(a * b)
    assert "{ layer_one_momentum_weight |" in dot and "{ layer_two_momentum_weight |" in dot


def test_step_out_of_range_names_the_valid_range():
    *_, h = fanout()
    with pytest.raises(IndexError, match=r"step 7 is out of range: .* 3 steps \(0 to 2\)"):
        to_dot(h, step=7)


# --- plots ------------------------------------------------------------------------------------

def test_spiral_boundary_has_axis_labels_a_class_legend_and_every_class_visible():
    from matplotlib.colors import to_hex

    from autograd_core.nn import MLP, make_spiral, plot_decision_boundary
    from autograd_core.nn.plot import CLASS_COLORS

    X, y = make_spiral(n=10, classes=3, seed=0)
    fig = plot_decision_boundary(MLP(2, [8, 3], seed=0), X, y, resolution=12, dataset="spiral")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x₀ (first input)" and ax.get_ylabel() == "x₁ (second input)"
    assert ax.get_title() == ("spiral: decision boundary\nMLP(2 → 8 → 3, activation='relu', "
                              "output_activation='linear')")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["0", "1", "2"]
    points = [to_hex(c.get_facecolor()[0]) for c in ax.collections if c.get_label() in "012"]
    assert points == list(CLASS_COLORS[:3])  # three distinct colours, none of them grey
    assert all(to_hex(c) not in ("#dddddd", "#ffffff") for c in CLASS_COLORS)


def test_moons_boundary_names_the_hinge_labels_and_loss_plot_names_the_dataset():
    from autograd_core.nn import (
        MLP,
        fit,
        hinge_loss,
        make_moons,
        objective,
        plot_decision_boundary,
        plot_loss,
    )
    from autograd_core.nn.optim import SGD

    X, y = make_moons(20, noise=0.1, seed=0)
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, objective(hinge_loss), (X, 2 * y - 1), SGD(model.parameters(), 0.1),
                  steps=2, progress=False)
    fig = plot_decision_boundary(model, X, 2 * y - 1, resolution=10)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["−1", "+1"]
    assert plot_loss(history, dataset="moons").axes[0].get_title() == (
        "training on moons: loss per step")
    assert plot_loss(history).axes[0].get_title() == "training loss per step"


def test_the_boundary_grid_is_scored_by_one_compiled_replay_equal_to_eager():
    from autograd_core import no_grad
    from autograd_core.nn import MLP
    from autograd_core.nn.plot import _grid_scores, _scores

    grid = np.column_stack([np.linspace(-2, 2, 50), np.linspace(1, -1, 50)])
    for sizes in ([4, 1], [4, 3]):
        model = MLP(2, sizes, seed=3)
        with no_grad():
            eager = np.array([_scores(model(p)) for p in grid])
        assert np.array_equal(_grid_scores(model, grid), eager)

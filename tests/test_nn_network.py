"""nn.draw_network and save_network: one edge per weight coloured by its sign, dead and
saturated units marked, refusals that say what to do, files written atomically."""

import re
import sysconfig

import graphviz
import numpy as np
import pytest

from autograd_core.nn import MLP, Layer, Neuron, draw_network, save_network
from autograd_core.nn.network import DEAD, NEGATIVE, POSITIVE, SATURATED, ZERO


def edges(dot):
    """{(source, target): attributes} for every drawn edge (the invisible column chains aside)."""
    found = re.findall(r"^  (\w+) -> (\w+) \[(.*)\];$", dot, flags=re.M)
    return {(a, b): attrs for a, b, attrs in found}


def colour(attrs):
    return re.search(r'color="(#[0-9a-f]{6})', attrs).group(1)


def node(dot, name):
    (line,) = [ln for ln in dot.splitlines() if ln.startswith(f"  {name} [")]
    return line


def known_signs():
    """2 → 2 → 1 with weights +, −, 0 in known places."""
    model = MLP(2, [2, 1], seed=0)
    for neuron, ws in zip(model.layers[0].neurons + model.layers[1].neurons,
                          [[0.5, -2.0], [0.0, 1.0], [-1.0, 3.0]]):
        for w, v in zip(neuron.w, ws):
            w.data = v
    return model


def test_dot_has_one_edge_per_weight_coloured_by_the_weights_sign():
    dot = draw_network(known_signs(), show="weight")
    drawn = edges(dot)
    assert len(drawn) == 2 * 2 + 2 * 1 == known_signs().num_parameters() - 3  # biases aside
    expected = {("x0", "h1_0"): POSITIVE, ("x1", "h1_0"): NEGATIVE, ("x0", "h1_1"): ZERO,
                ("x1", "h1_1"): POSITIVE, ("h1_0", "h2_0"): NEGATIVE,
                ("h1_1", "h2_0"): POSITIVE}
    assert {pair: colour(attrs) for pair, attrs in drawn.items()} == expected
    widths = {pair: float(re.search(r"penwidth=([\d.]+)", a).group(1)) for pair, a in drawn.items()}
    assert widths[("h1_1", "h2_0")] == max(widths.values())  # |3| is the largest weight
    assert widths[("x0", "h1_1")] == min(widths.values())


def test_show_grad_colours_edges_by_the_sign_of_dL_dw():
    model = known_signs()
    for w in model.parameters():
        w.grad = -w.data  # every gradient has the opposite sign of its weight
    drawn = edges(draw_network(model))
    assert colour(drawn[("x0", "h1_0")]) == NEGATIVE and colour(drawn[("x1", "h1_0")]) == POSITIVE
    assert colour(drawn[("x0", "h1_1")]) == ZERO


def test_show_none_draws_structure_only():
    drawn = edges(draw_network(known_signs(), show=None))
    assert {colour(attrs) for attrs in drawn.values()} == {ZERO}


def test_dead_unit_with_large_negative_bias_is_drawn_grey_with_its_edges():
    model = known_signs()
    model.layers[0].neurons[1].b.data = -100.0
    X = np.random.RandomState(0).uniform(-1, 1, size=(20, 2))
    dot = draw_network(model, X, show="weight")
    assert "dead" in node(dot, "h1_1") and f'fillcolor="{DEAD}"' in node(dot, "h1_1")
    assert "dead" not in node(dot, "h1_0")
    drawn = edges(dot)
    assert colour(drawn[("x1", "h1_1")]) == DEAD and colour(drawn[("h1_1", "h2_0")]) == DEAD
    assert colour(drawn[("h1_0", "h2_0")]) == NEGATIVE
    assert "1 of 3 units" in dot


def test_saturated_sigmoid_with_huge_weights_is_marked():
    model = MLP(2, [2, 1], activation="sigmoid", seed=0)
    for w in model.layers[0].neurons[0].w:
        w.data = 100.0
    X = np.random.RandomState(0).uniform(-1, 1, size=(20, 2))
    dot = draw_network(model, X, show="weight")
    assert "saturated" in node(dot, "h1_0") and f'fillcolor="{SATURATED}"' in node(dot, "h1_0")
    assert "saturated" not in node(dot, "h1_1")


def test_neurons_show_their_mean_activation_and_dL_db():
    model = known_signs()
    model([1.0, 1.0]).backward()  # z = (−1.5, 1): unit 0 is off, unit 1 has a = 1
    dot = draw_network(model, [[1.0, 1.0]])
    # Unit 0 is dead on this input (a′ = 0): it shows what was judged, and no ∂.
    assert r'label="dead\na 0\na′ 0"' in node(dot, "h1_0")
    assert r"a 1\na′ 1\n∂ 3" in node(dot, "h1_1")


def test_dead_unit_with_l2_shows_no_gradient_from_the_data():
    from autograd_core.nn import l2_regularization

    model = known_signs()
    model.layers[0].neurons[0].b.data = -2.5  # unit 0: z = −1.5 − 2.5 < 0 at x, dead there
    x = [1.0, 1.0]
    (model(x) + l2_regularization(model.parameters(), 0.01)).backward()
    assert model.layers[0].neurons[0].b.grad != 0.0  # only L2's share: the data sends none
    dot = draw_network(model, [x])
    unit = node(dot, "h1_0")
    assert "dead" in unit and r"a′ 0" in unit and "∂ " not in unit
    assert "none of it from these inputs" in unit  # the tooltip says where ∂L/∂b comes from


def test_huge_weights_are_refused_rather_than_drawn_as_inf():
    model = known_signs()
    for w in model.layers[0].neurons[0].w:
        w.data = 1e308
    with pytest.raises(ValueError, match=r"layer 1's activations overflow"):
        draw_network(model, [[1.0, 1.0]], show="weight")
    assert "inf" not in draw_network(model, show="weight")  # the weights alone still draw


def test_a_network_picture_and_its_repr_are_one_line_in_a_repl():
    drawing = draw_network(known_signs(), show="weight")
    assert "\n" not in repr(drawing) and "save_network" in repr(drawing)
    bundle = drawing._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "image/png", "text/plain"}


@pytest.mark.parametrize("model", [Neuron(2), [Layer(2, 2)], "MLP(2, [3])"])
def test_what_is_not_an_mlp_is_a_type_error_naming_what_is_drawn(model):
    with pytest.raises(TypeError, match=r"draw_network works on an nn\.MLP or one nn\.Layer"):
        draw_network(model, show="weight")


def test_over_2000_edges_is_refused_with_advice_and_one_layer_draws():
    model = MLP(2, [50, 50, 1], seed=0)  # 100 + 2,500 + 50 weights
    with pytest.raises(ValueError, match=r"2,650 weights.*draw_network\(model\.layers\[i\]\)"):
        draw_network(model, show="weight")
    assert len(edges(draw_network(model.layers[0], show="weight"))) == 100


def test_show_grad_before_any_backward_says_so():
    with pytest.raises(ValueError, match="no gradients yet.*show='weight'"):
        draw_network(known_signs())


@pytest.mark.parametrize("options, words", [
    ({"show": "grads"}, "show must be one of"), ({"fmt": "d"}, "fmt must be"),
    ({"max_edges": 0}, "max_edges must be"),
])
def test_bad_options_name_the_value(options, words):
    with pytest.raises(ValueError, match=words):
        draw_network(known_signs(), **{"show": "weight", **options})


@pytest.fixture
def pure_renderer(monkeypatch):
    """No system dot and no bin/ on PATH: only the graphviz-pure of this environment is left."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(graphviz.backend.dot_command, "DOT_BINARY",
                        graphviz.backend.dot_command.DOT_BINARY)


def test_save_network_writes_svg_png_and_dot_atomically(pure_renderer, tmp_path):
    model, X = known_signs(), [[0.5, -0.5], [1.0, 1.0]]
    svg = save_network(model, tmp_path / "net.svg", X, show="weight").read_text()
    assert "<svg" in svg and "layer 1" in svg
    assert save_network(model, tmp_path / "net.png", show="weight").read_bytes()[:4] == b"\x89PNG"
    dot = save_network(model, tmp_path / "net.dot", X, show="weight").read_text()
    assert dot == draw_network(model, X, show="weight")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.dot", "net.png", "net.svg"]
    with pytest.raises(ValueError, match="'.pdf'"):
        save_network(model, tmp_path / "net.pdf", show="weight")


def test_jupyter_shows_svg_and_no_renderer_gives_the_dot_text_with_a_hint(
        pure_renderer, monkeypatch, tmp_path, capfd):
    shown = draw_network(known_signs(), show="weight")
    assert "<svg" in shown._repr_mimebundle_()["image/svg+xml"]
    assert capfd.readouterr().err == ""  # graphviz-pure's warnings on ∂ stay out of the cell
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))
    bundle = shown._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "pip install graphviz-pure" in bundle["text/plain"]


def test_a_title_is_written_after_the_models_name_and_must_be_text():
    model = MLP(2, [3, 1], seed=0)
    legend = draw_network(model, show="weight", title="step 7")
    assert '</b></td></tr><tr><td align="left"><b>step 7</b></td></tr>' in legend
    with pytest.raises(TypeError, match="title must be a str"):
        draw_network(model, show="weight", title=7)

"""Pictures and the backward stepper: the slides' graph, graph shapes, renderers, files."""

import html
import re
import shutil
import sysconfig

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core.ops
from autograd_core import (
    Value,
    apply,
    backward_steps,
    draw,
    save,
    save_steps,
    to_dot,
    topological_order,
)
from autograd_core.examples import slides_graph
from autograd_core.render import RENDERER_HINT, DotText, renderer


def record(dot, name):
    """The line of the value node labelled `name`."""
    (line,) = [ln for ln in dot.splitlines() if f'label="{{ {name} |' in ln]
    return line


@pytest.fixture
def pure_renderer(monkeypatch):
    """No system dot and no bin/ on PATH: only the graphviz-pure of this environment is left."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(graphviz.backend.dot_command, "DOT_BINARY",
                        graphviz.backend.dot_command.DOT_BINARY)  # restored after the test


@pytest.fixture
def no_renderer(pure_renderer, monkeypatch, tmp_path):
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))


# --- DOT text ---------------------------------------------------------------------------------

def test_slides_xplusy_times_z_dot_has_5_values_2_gates_and_is_deterministic():
    dot = to_dot(slides_graph()[-1])
    assert len(re.findall(r"^\tv\d+ \[", dot, re.MULTILINE)) == 5
    assert len(re.findall(r"^\tg\d+ \[", dot, re.MULTILINE)) == 2
    assert dot == to_dot(slides_graph()[-1])  # a new graph of the same shape: the same text
    assert dot.startswith("digraph {\n") and dot.endswith("}\n")


def test_slides_dot_labels_data_grads_in_chosen_format():
    *_, f = slides_graph()
    f.backward()
    dot = to_dot(f)
    assert "{ x | data -2.0000 | grad -4.0000 }" in dot
    assert "{ z | data -4.0000 | grad 3.0000 }" in dot
    assert "{ f | data -12.0000 | grad 1.0000 }" in dot
    assert "{ q | data 3.00 | grad -4.00 }" in to_dot(f, fmt=".2f")
    mul = [ln for ln in dot.splitlines() if '<FONT POINT-SIZE="13">×</FONT>' in ln]
    assert len(mul) == 1 and autograd_core.ops.MUL.doc in mul[0]
    assert '<FONT POINT-SIZE="8">swapper</FONT>' in mul[0]  # the role inside the gate
    assert '<FONT POINT-SIZE="8">distributor</FONT>' in dot and "xlabel" not in dot
    assert "rankdir=TB" in to_dot(f, rankdir="TB")


def test_slides_dot_before_backward_says_so():
    *_, f = slides_graph()
    assert "no backward yet" in to_dot(f)
    f.backward()
    assert "no backward yet" not in to_dot(f)


def test_slides_edge_partials_and_gate_inputs_in_operand_order():
    *_, f = slides_graph()
    dot = to_dot(f, edge_partials=True)
    assert 'label="∂f/∂q = -4.0000"' in dot and 'label="∂f/∂z = 3.0000"' in dot
    assert 'label="∂q/∂x = 1.0000"' in dot
    assert "ordering=in" in dot  # with the edges written in operand order, below


def test_fanout_x_times_x_draws_two_edges():
    x = Value(3.0, "x")
    y = x * x
    dot = to_dot(y, edge_partials=True)
    assert dot.count("\tv0 -> g1 [") == 2
    assert dot.count('"∂f/∂x = 3.0000"') == 2  # an unlabelled root is f, as on the slides


def test_constants_are_drawn_by_their_value():
    x = Value(1.5, "x")
    dot = to_dot(2 * x)
    (const,) = [ln for ln in dot.splitlines() if 'label="2.0000"' in ln]
    assert "grad" not in const and 'tooltip="constant"' in const


def test_roles_params_and_grad_colours():
    w, x = Value(0.5, "w"), Value(2.0, "x")
    out = (w * x).tanh()
    out.label = "out"
    out.backward()
    dot = to_dot(out, params=[w])
    assert 'tooltip="w (parameter)"' in record(dot, "w")
    assert 'tooltip="x (input)"' in record(dot, "x")
    assert 'tooltip="out = tanh(q) (output)"' in record(dot, "out")  # w * x: the first name
    heat = to_dot(out, color="grad")
    # The largest |grad| is the most violet: red is the stepper's "active", never a heat.
    assert 'fillcolor="#a78bfa"' in record(heat, "out") and "#dc2626" not in heat
    assert 'fillcolor="#ffffff"' in record(to_dot(out, color="none"), "out")


def test_create_graph_grads_are_drawn_by_their_number():
    x = Value(3.0, "x")
    y = x * x
    y.backward(create_graph=True)
    assert "{ x | data 3.0000 | grad 6.0000 }" in to_dot(y)


@pytest.mark.parametrize("options, error, words", [
    ({"rankdir": "XY"}, ValueError, "'XY'"),
    ({"fmt": "q"}, ValueError, "'q'"),
    ({"fmt": 4}, TypeError, "4"),
    ({"color": "blue"}, ValueError, "'blue'"),
    ({"max_nodes": 0}, ValueError, "max_nodes"),
    ({"step": 3}, IndexError, "step 3 is out of range"),
    ({"step": "1"}, TypeError, "'1'"),
    ({"colour": "role"}, TypeError, "colour"),
])
def test_bad_options_name_the_value(options, error, words):
    *_, f = slides_graph()
    with pytest.raises(error, match=re.escape(words)):
        to_dot(f, **options)


def test_not_a_value():
    with pytest.raises(TypeError, match="float"):
        to_dot(3.0)
    with pytest.raises(TypeError, match="float"):
        backward_steps(3.0)


def test_chain_of_100k_is_refused_with_a_way_to_draw_less(tmp_path):
    one = Value(1.0)
    v = Value(0.0, "x")
    for _ in range(100_000):
        v = v + one
    for attempt in (lambda: to_dot(v), lambda: draw(v, step=0),
                    lambda: save_steps(v, tmp_path / "steps")):
        with pytest.raises(ValueError, match=r"100002 nodes.*one sample.*sub-graph"):
            attempt()
    assert not (tmp_path / "steps").exists()


# --- renderers --------------------------------------------------------------------------------

def test_renderer_prefers_system_dot(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda cmd, **kw: "/opt/gv/dot" if cmd == "dot" else None)
    assert renderer() == "/opt/gv/dot"


def test_svg_without_system_dot_uses_graphviz_pure(pure_renderer, tmp_path):
    *_, f = slides_graph()
    f.backward()
    assert renderer().endswith(("graphviz-pure", "graphviz-pure.exe"))
    svg = html.unescape(save(f, tmp_path / "graph.svg").read_text())  # SVG writes - as &#45;
    assert "<svg" in svg and "grad -4.0000" in svg and "swapper" in svg
    assert save(f, tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")
    g = draw(f)
    assert isinstance(g, graphviz.Digraph) and g.source == to_dot(f)
    assert "<svg" in g._repr_mimebundle_()["image/svg+xml"]  # what Jupyter shows
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.png", "graph.svg"]  # no temps


def test_draw_shown_in_jupyter_prints_no_renderer_warnings(pure_renderer, capfd):
    *_, f = slides_graph()  # its labels hold × and ∂, on which graphviz-pure warns
    f.backward()
    assert "<svg" in draw(f)._repr_mimebundle_()["image/svg+xml"]
    assert capfd.readouterr().err == ""


def test_no_renderer_draw_returns_dot_text_with_a_hint(no_renderer, tmp_path):
    *_, f = slides_graph()
    assert renderer() is None
    shown = draw(f)
    assert isinstance(shown, DotText) and shown == to_dot(f)
    assert repr(shown).startswith(RENDERER_HINT) and "pip install graphviz-pure" in RENDERER_HINT
    assert shown._repr_mimebundle_()["text/plain"] == repr(shown)
    with pytest.raises(RuntimeError, match="graphviz-pure"):
        save(f, tmp_path / "graph.svg")
    assert save(f, tmp_path / "graph.dot").read_text() == to_dot(f)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot"]


@pytest.mark.parametrize("name, words", [
    ("graph.pdf", "'.pdf'"), ("graph", "no extension"), ("missing/graph.svg", "does not exist"),
])
def test_save_bad_path(tmp_path, name, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        save(slides_graph()[-1], tmp_path / name)


def test_save_onto_a_folder_and_steps_onto_a_file(tmp_path):
    folder = tmp_path / "pic.svg"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        save(slides_graph()[-1], folder)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        save_steps(slides_graph()[-1], tmp_path / "file")


# --- the backward stepper ---------------------------------------------------------------------

def test_slides_backward_steps_order_and_numbers():
    x, y, z, q, f = slides_graph()
    steps = list(backward_steps(f))
    assert [s.index for s in steps] == [0, 1, 2]
    assert steps[0].seed and (steps[0].node, steps[0].grad, steps[0].parents) == (f, 1.0, ())
    assert (steps[1].node, steps[1].parents, steps[1].partials) == (f, (q, z), (-4.0, 3.0))
    assert steps[1].contributions == (-4.0, 3.0)  # df/dq = -4, df/dz = 3
    assert (steps[2].node, steps[2].grad, steps[2].parents) == (q, -4.0, (x, y))
    assert steps[2].contributions == (-4.0, -4.0)  # df/dx = df/dy = -4: add distributes
    assert all(v.grad == 0.0 for v in (x, y, z, q, f))  # stepping changed no grad


def test_slides_frames_blank_highlight_and_arithmetic():
    *_, f = slides_graph()
    seed, mul, add = (to_dot(f, step=k) for k in range(3))
    assert "the seed, df/df = 1" in seed
    assert [ln for ln in seed.splitlines() if "#dc2626" in ln] == [record(seed, "f")]  # no gate
    assert "{ f | data -12.0000 | grad 1.0000 }" in seed and "{ q | data 3.0000 | grad  }" in seed
    assert "f = q * z   (mul, a swapper)" in mul
    assert "df/dq += ∂f/∂q · df/df = -4.0000 · 1.0000 = -4.0000" in mul
    assert "df/dz += ∂f/∂z · df/df = 3.0000 · 1.0000 = 3.0000" in mul
    assert "{ x | data -2.0000 | grad  }" in mul and "{ z | data -4.0000 | grad 3.0000 }" in mul
    assert 'color="#dc2626"' in record(mul, "f") and 'color="#dc2626"' not in record(add, "f")
    assert "dx += ∂q/∂x · df/dq = 1.0000 · (-4.0000) = -4.0000" in add
    assert to_dot(f, step=-1) == add
    assert "no backward yet" not in seed


def test_fanout_frames_say_so_far_until_every_use_has_added():
    x = Value(3.0, "x")
    sq = x * x
    sq.label = "sq"
    out = sq + x
    out.label = "out"
    first, last = to_dot(out, step=1), to_dot(out, step=-1)
    assert "{ x | data 3.0000 | grad 1.0000 so far }" in first
    assert "{ x | data 3.0000 | grad 7.0000 }" in last  # d(x² + x)/dx = 2x + 1


def test_undefined_derivative_names_the_op():
    root = Value(0.0, "x").sqrt()
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(0.0\)"):
        list(backward_steps(root))
    assert "undefined" in to_dot(root, edge_partials=True)  # drawing still works


_SAFE_OPS = ["add", "sub", "mul", "max", "min", "tanh", "sigmoid", "relu", "sin", "abs", "neg"]


@settings(max_examples=40, deadline=None)
@given(leaves=st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4),
       ops=st.lists(st.tuples(st.sampled_from(_SAFE_OPS), st.integers(0, 99), st.integers(0, 99)),
                    min_size=1, max_size=12))
def test_random_graphs_steps_end_where_backward_ends(leaves, ops):
    pool = [Value(v) for v in leaves]
    for name, i, j in ops:
        op = getattr(autograd_core.ops, name.upper())
        args = [pool[i % len(pool)], pool[j % len(pool)]][:op.arity]
        pool.append(apply(op, *args))
    root = pool[-1]
    grads: dict = {}
    steps = list(backward_steps(root, grads))  # the running sums of the engine's one walk
    assert all(v.grad == 0.0 for v in topological_order(root))
    root.backward()
    assert all(grads[v] == v.grad for v in topological_order(root))  # exactly, float for float
    assert all(s.grad == s.node.grad for s in steps)  # each step's upstream grad was complete


# --- the step-through page --------------------------------------------------------------------

def test_slides_save_steps_writes_every_frame_and_one_self_contained_page(pure_renderer,
                                                                          tmp_path):
    *_, f = slides_graph()
    page = save_steps(f, tmp_path / "steps")
    assert sorted(p.name for p in page.parent.iterdir()) == [
        "backward-000.svg", "backward-001.svg", "backward-002.svg", "steps.html"]
    text = page.read_text()
    live = text.replace("<\\/", "</")  # the stepper's frames wait in a script block
    frames = re.findall(r'<section class="frame" data-counter="([^"]*)" data-caption="[^"]*" '
                        r'data-active="([^"]*)" hidden>\s*<svg', live)
    assert frames == [("frame 1 of 3 · backward pass, step 0 of 2", "steps-f0-v4"),
                      ("frame 2 of 3 · backward pass, step 1 of 2", "steps-f1-v4"),
                      ("frame 3 of 3 · backward pass, step 2 of 2", "steps-f2-v2")]
    # Before any script runs, frame 0 is drawn as the still.
    assert text.count("<svg") == 4 and "<?xml" not in text
    assert "<b>frame 1 of 3 · backward pass, step 0 of 2</b>" in text
    assert "backward step 0 of 2: the seed, df/df = 1" in text  # as text, before any script
    assert "q = x + y" in text and "swapper: each input gets the gradient" in text  # legend
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # every frame's SVG ids made unique
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)  # nothing from a network
    assert "<link" not in text and "<script src" not in text


def test_slides_forward_frames_show_values_in_topological_order():
    *_, f = slides_graph()
    leaves, add, mul = (to_dot(f, forward=k) for k in range(3))
    assert "forward step 0 of 2: the inputs" in leaves
    assert "{ x | data -2.0000 | grad  }" in leaves and "{ q | data  | grad  }" in leaves
    assert "q = x + y = (-2.0000) + 5.0000 = 3.0000" in add
    assert 'color="#2563eb"' in record(add, "q") and "{ f | data  | grad  }" in add
    assert "f = q * z = 3.0000 * (-4.0000) = -12.0000" in mul and to_dot(f, forward=-1) == mul
    with pytest.raises(ValueError, match="one pass at a time"):
        to_dot(f, step=0, forward=0)
    with pytest.raises(IndexError, match="forward 3 is out of range"):
        to_dot(f, forward=3)


def test_slides_save_steps_forward_then_backward(pure_renderer, tmp_path):
    page = save_steps(slides_graph()[-1], tmp_path, forward=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"{p}-00{k}.svg" for p in ("backward", "forward") for k in range(3)] + [
        "steps.html"]
    counters = re.findall(r'data-counter="([^"]*)"', page.read_text())
    assert counters == [f"frame {n} of 6 · {p} pass, step {k} of 2" for n, (p, k) in
                        enumerate([(p, k) for p in ("forward", "backward") for k in range(3)], 1)]




# --- typed options -------------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["to_dot", "draw", "save", "save_steps", "show_steps"])
def test_a_typod_drawing_option_is_a_type_error_naming_it_and_the_valid_ones(tmp_path, call):
    import autograd_core

    *_, f = slides_graph()
    function = getattr(autograd_core, call)
    args = (f, tmp_path / "g.svg") if call in ("save", "save_steps") else (f,)
    with pytest.raises(TypeError) as info:
        function(*args, colour="grad")
    message = str(info.value)
    assert f"{call}() got an unexpected keyword argument 'colour'" in message
    assert "did you mean 'color'?" in message
    assert "rankdir, fmt, edge_partials, params, color, max_nodes" in message
    assert list(tmp_path.iterdir()) == []


def test_drawing_options_are_one_typed_set_every_drawing_function_takes():
    import inspect
    import typing

    import autograd_core
    from autograd_core.render import DrawKeywords, DrawOptions, stepper_frames

    names = {"rankdir", "fmt", "edge_partials", "params", "color", "max_nodes"}
    assert set(typing.get_type_hints(DrawKeywords)) == names
    assert {f.name for f in __import__("dataclasses").fields(DrawOptions)} == names
    for function in (autograd_core.to_dot, autograd_core.draw, autograd_core.save,
                     autograd_core.save_steps, autograd_core.show_steps, stepper_frames):
        (options,) = [p for p in inspect.signature(function).parameters.values()
                      if p.kind is p.VAR_KEYWORD]
        assert options.name == "options", function.__name__
    with pytest.raises(ValueError, match="rankdir must be one of"):
        DrawOptions(rankdir="RL")


def test_a_drawing_outside_jupyter_says_how_to_save_or_view_it():
    from autograd_core import draw

    *_, f = slides_graph()
    text = repr(draw(f))
    assert "save(root, 'graph.svg')" in text and ".view()" in text


def test_a_drawing_in_jupyter_has_a_png_beside_its_svg_and_fits_the_cell():
    import base64

    *_, f = slides_graph()
    bundle = draw(f)._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "image/png", "text/plain"}
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    root = re.search(r"<svg[^>]*>", bundle["image/svg+xml"]).group()
    assert "max-width: 100%; height: auto" in root
    natural = float(re.search(r'width="([\d.]+)pt"', root).group(1))
    least = float(re.search(r"min-width: ([\d.]+)pt", root).group(1))
    assert least == pytest.approx(0.75 * natural, abs=0.5)  # shrinks to a readable size, no less
    assert " at 0x" not in bundle["text/plain"] and "\n" not in bundle["text/plain"]


def test_every_svg_picture_keeps_its_own_colours_under_a_forced_dark_theme(tmp_path):
    from autograd_core.render import OWN_COLOURS, stepper_frames, svg_style

    *_, f = slides_graph()
    drawn = draw(f)._repr_mimebundle_()["image/svg+xml"]
    for svg in (save(f, tmp_path / "g.svg").read_text(), drawn,
                stepper_frames(f).frames[0].svg):
        assert OWN_COLOURS in re.search(r"<svg[^>]*>", svg).group()
    assert svg_style('<svg width="1pt">', "a: b") == '<svg style="a: b" width="1pt">'
    merged = svg_style('<?xml?><svg style="x: y;" width="1pt"><svg>', "a: b")
    assert merged == '<?xml?><svg style="x: y; a: b" width="1pt"><svg>'
    assert svg_style(merged, "a: b") == merged
    with pytest.raises(ValueError, match="no <svg> element"):
        svg_style("digraph {}", "a: b")

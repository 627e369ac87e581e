"""The committed notebooks as a reader first sees them, before running anything: every stored
output fresh (no `<... at 0x...>` repr of an object long gone), every picture stored with a
PNG beside its SVG or HTML (what an untrusted notebook, GitHub and nbconvert can show), and
every code cell run top to bottom. `python notebooks/refresh.py` makes them so."""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9]*.ipynb"))
# Any repr naming a memory address: <autograd_core.render.Drawing at 0x7f…>, <function f at
# 0x…>, <bound method … of <… object at 0x…>>, <matplotlib.lines.Line2D at 0x…>.
STALE = re.compile(r"<[^<>\n]*\bat 0x[0-9a-fA-F]+>")


def outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                yield number, output


def is_picture(data):
    """A drawing (SVG), a stepper or any HTML that draws (an <svg> or an <img> inside)."""
    page = str(data.get("text/html", ""))
    return "image/svg+xml" in data or any(mark in page for mark in ("autograd-steps", "<svg",
                                                                   "<img"))


def test_notebooks_are_numbered_from_01_without_gaps():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{k:02d}" for k in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_fresh_and_every_picture_has_a_png(path):
    pictures = 0
    for number, output in outputs(path):
        data = output.get("data", {})
        text = "".join(str(data.get(kind, "")) for kind in ("text/plain", "text/html")) \
            + str(output.get("text", ""))
        assert not STALE.search(text), (path.name, number, STALE.search(text).group())
        assert output.get("output_type") != "error", (path.name, number)
        if is_picture(data):
            pictures += 1
            assert "image/png" in data, (path.name, number, sorted(data))
    if path.stem[:2] in ("01", "02", "07"):  # the notebooks that draw graphs
        assert pictures >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_was_run_in_order(path):
    notebook = nbformat.read(path, as_version=4)
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), path.name


@pytest.mark.parametrize("text", ["<autograd_core.render.Drawing at 0x7f3a2c1d9e50>",
                                  "[<matplotlib.lines.Line2D at 0x7f00aa>]",
                                  "<function ravine at 0x7f00aa>",
                                  "<bound method MLP.forward of <nn.MLP object at 0x7f00aa>>"])
def test_a_repr_naming_a_memory_address_is_stale(text):
    assert STALE.search(text)


@pytest.mark.parametrize("text", ["<Figure size 640x480 with 1 Axes>",
                                  "<drawing of a graph: Jupyter shows it inline; …>",
                                  "a 0x1F address in prose"])
def test_a_repr_without_an_address_is_not_stale(text):
    assert not STALE.search(text)

"""The committed notebooks as a reader first sees them, before running anything: every stored
output fresh (no `<... at 0x...>` repr of an object long gone), every picture stored with a
PNG beside its SVG or HTML (what an untrusted notebook, GitHub and nbconvert can show), and
every code cell run top to bottom. `python notebooks/refresh.py` makes them so."""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9]*.ipynb"))
STALE = re.compile(r"<[\w.]+(?: object)? at 0x[0-9a-fA-F]+>")


def outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                yield number, output


def is_picture(data):
    """A drawing (SVG) or a stepper (its HTML)."""
    return "image/svg+xml" in data or "autograd-steps" in str(data.get("text/html", ""))


def test_there_are_nine_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{k:02d}" for k in range(1, 10)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_fresh_and_every_picture_has_a_png(path):
    pictures = 0
    for number, output in outputs(path):
        text = str(output.get("data", {}).get("text/plain", "")) + str(output.get("text", ""))
        assert not STALE.search(text), (path.name, number, STALE.search(text).group())
        assert output.get("output_type") != "error", (path.name, number)
        data = output.get("data", {})
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

"""The reference pages in docs/ keep the README's promises: every python snippet runs (in one
folder, page after page, as a reader would), and each `print(...)  # comment` prints what its
comment says. Also: the README's picture is current, and the README lists exactly what
`make demo` prints for its trace and the files it writes."""

import filecmp
import re
import shlex
from pathlib import Path

import pytest

from autograd_core.cli import main
from autograd_core.examples import README_PICTURE, save_readme_picture
from tests import test_readme
from tests.test_readme import README

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["engine", "cli", "pictures", "nn", "compile", "testing", "coming_from_pytorch_jax"]
SNIPPETS = [(page, snippet) for page in PAGES
            for snippet in re.findall(r"^ *```python\n(.*?)^ *```",
                                      (ROOT / "docs" / f"{page}.md").read_text(), re.S | re.M)]


def test_every_reference_page_exists_and_is_linked_from_the_readme():
    assert sorted(p.stem for p in (ROOT / "docs").glob("*.md")) == sorted(PAGES)
    for page in PAGES:
        assert f"(docs/{page}.md)" in README.read_text(), page


def test_the_readme_stays_short():
    assert len(README.read_text().split()) < 2500


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("docs")


@pytest.mark.parametrize("page, snippet", SNIPPETS,
                         ids=[f"{page}:{s.splitlines()[0][:30]}" for page, s in SNIPPETS])
def test_docs_snippet_runs_and_prints_what_its_comments_say(page, snippet, reader_folder,
                                                            monkeypatch):
    test_readme.test_readme_snippet_runs_and_prints_what_its_comments_say(snippet, reader_folder,
                                                                          monkeypatch)


def test_readme_picture_is_current(tmp_path):
    fresh = save_readme_picture(str(tmp_path / "picture.png"))
    assert f"]({README_PICTURE})" in README.read_text()
    assert filecmp.cmp(fresh, ROOT / README_PICTURE, shallow=False), (
        "the README's picture is out of date: run `python -m autograd_core.examples`")


def _demo_trace_command():
    """The Makefile's `make demo` trace line, as arguments."""
    (line,) = [ln for ln in (ROOT / "Makefile").read_text().splitlines()
               if "autograd-core trace" in ln]
    return shlex.split(line.split("autograd-core", 1)[1])


def test_readme_lists_what_make_demo_prints_and_writes(tmp_path, capsys, monkeypatch):
    text = README.read_text()
    table, files = re.findall(r"```text\n(.*?)```", text, re.S)[:2]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert main(_demo_trace_command()) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(table)
    written = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "out").rglob("*")
                     if p.is_file())
    listed = files.split()
    moons = [name for name in listed if name.startswith("out/moons_")]
    assert sorted(set(listed) - set(moons)) == written
    demo = (ROOT / "Makefile").read_text().split("\ndemo:")[1].split("\n\n")[0]
    assert "train moons --out out" in demo
    from autograd_core.nn.recipes import output_files

    assert moons == [str(Path("out") / p.name) for p in output_files("moons", Path("out"))]


def _module_map() -> str:
    text = README.read_text()
    section = text.split("## Which module owns what", 1)[1]
    return re.search(r"```text\n(.*?)```", section, re.S).group(1)


def test_readme_module_map_names_every_module_and_only_modules_that_exist():
    block = _module_map()
    # autograd_core's entries: "  name   what it owns" or "  a, b  what they own".
    heads = re.findall(r"^  (\S.*?)(?:\s{2,}|$)", block, re.M)
    mapped = {name.strip() for head in heads for name in head.split(",")}
    core = ROOT / "autograd_core"
    modules = {p.stem for p in core.glob("*.py") if not p.stem.startswith("__")}
    modules |= {p.name + "/" for p in core.iterdir() if (p / "__init__.py").exists()}
    assert mapped == modules
    nn_names = re.search(r"^nn/\s+(.*?)—", block, re.M | re.S).group(1)
    mapped_nn = {name.strip() for name in nn_names.replace("\n", " ").split(",") if name.strip()}
    assert mapped_nn == {p.stem for p in (ROOT / "nn").glob("*.py") if p.stem != "__init__"}
    top = set(re.findall(r"^(\w+)/", block, re.M))
    assert top <= {p.name for p in ROOT.iterdir() if p.is_dir()}
    assert {"notebooks", "docs", "tests", "benchmarks", "nn"} <= top

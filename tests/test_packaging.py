"""Packaging: nn/ installs as autograd_core.nn, never as a top-level `nn` that would clash with
PyPI's `nn` or a project's own nn/ folder; editable (what `make` uses) and regular installs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import autograd_core

REPO = Path(autograd_core.__file__).resolve().parent.parent

_CHECK = """
import importlib.util, sys
import nn
import autograd_core.nn as ours
assert nn.FAKE == "theirs", nn.__file__
assert ours.MLP(2, [1]).num_parameters() == 3
assert sys.modules["nn"] is nn and sys.modules["autograd_core.nn"] is ours
print(ours.__file__)
"""


def _run(code: str, cwd: Path, path: list[Path]) -> str:
    # A clean path: only what the test puts there, then the interpreter's own site-packages.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _fake_nn(folder: Path) -> Path:
    (folder / "nn").mkdir(parents=True)
    (folder / "nn" / "__init__.py").write_text('FAKE = "theirs"\n')
    return folder


def test_an_unrelated_nn_on_sys_path_neither_shadows_ours_nor_is_shadowed(tmp_path):
    theirs = _fake_nn(tmp_path / "theirs")
    printed = _run(_CHECK, cwd=tmp_path, path=[theirs])
    assert Path(printed.strip()) == REPO / "nn" / "__init__.py"
    # Imported in the other order, each name still finds its own package.
    reordered = _CHECK.replace("import nn\nimport autograd_core.nn as ours\n",
                               "import autograd_core.nn as ours\nimport nn\n")
    _run(reordered, cwd=tmp_path, path=[theirs])


def test_the_editable_install_adds_no_top_level_nn(tmp_path):
    printed = _run("import importlib.util; print(importlib.util.find_spec('nn'))",
                   cwd=tmp_path, path=[])
    assert printed == "None\n"


def test_a_regular_install_ships_nn_inside_autograd_core(tmp_path):
    source = tmp_path / "source"
    for part in ("autograd_core", "nn"):
        shutil.copytree(REPO / part, source / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / part, source / part)
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(site), str(source)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (site / "autograd_core" / "nn" / "layers.py").is_file()
    assert not (site / "nn").exists()
    printed = _run(_CHECK, cwd=tmp_path, path=[site, _fake_nn(tmp_path / "theirs")])
    assert Path(printed.strip()) == site / "autograd_core" / "nn" / "__init__.py"

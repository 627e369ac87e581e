"""Imports flow one way — ops ← rules ← engine ← (the rest of autograd_core) ← nn ← cli — and nn
and the CLI use only public names: read off every module's import statements."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "autograd_core"
# A module's rank in the flow: it may import only modules of its own rank or below. The op
# table, its rule language, the messages and the grad modes are one floor (they read each other);
# the engine and its pickling the next; the rest of autograd_core, nn and the CLI above.
RANK = {"ops": 0, "rules": 0, "checks": 0, "modes": 0, "engine": 1, "floatwalk": 1, "persist": 1,
        "nn": 2, "cli": 3, "__main__": 3}
REST = 1.5  # everything else in autograd_core: gradcheck, stepper, render, compile/, files, ...


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every `import`/`from ... import` in path, made absolute."""
    package = "autograd_core.nn" if path.parent.name == "nn" else ".".join(
        path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.level and not node.module:  # `from . import ops`: each name a module
                found += [(f"{module}.{a.name}", []) for a in node.names]
            else:
                found.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def _rank(module: str) -> float | None:
    """Where an autograd_core module sits in the one-way flow (None: not ours)."""
    parts = module.split(".")
    if parts[0] != "autograd_core":
        return None
    if len(parts) == 1:
        return REST  # the package's public face: what nn and the CLI import
    if parts[1] == "nn":
        return RANK["nn"]
    return RANK.get(parts[1], REST)


def _sources() -> list[Path]:
    return sorted(CORE.rglob("*.py")) + sorted((ROOT / "nn").glob("*.py"))


def _own_rank(path: Path) -> float:
    if path.parent.name == "nn":
        return RANK["nn"]
    return RANK.get(path.stem, REST) if path.parent == CORE else REST


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_of_ours_points_down_the_flow(path):
    mine = _own_rank(path)
    for module, names in _imports(path):
        rank = _rank(module)
        if rank is None or module.startswith("autograd_core.nn") and mine == RANK["nn"]:
            continue
        if path.stem == "__init__" and path.parent == CORE:
            continue  # the package's face re-exports every layer
        # engine's neighbours at rank 0 may use each other (rules reads the op records)
        assert rank <= mine, f"{path.relative_to(ROOT)} imports {module} (up the flow)"


@pytest.mark.parametrize("path", sorted((ROOT / "nn").glob("*.py")) + [CORE / "cli.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_nn_and_the_cli_use_only_public_names_and_no_engine_internals(path):
    for module, names in _imports(path):
        if not module.startswith("autograd_core") or module.startswith("autograd_core.nn"):
            continue
        private = [n for n in names if n.startswith("_") and not n.endswith("__")]
        assert not private, f"{path.name} imports private {private} from {module}"
        assert module.split(".")[1:2] not in (["engine"], ["ops"], ["rules"], ["modes"],
                                               ["checks"], ["persist"]), (
            f"{path.name} imports {module}: the core's names come through autograd_core")

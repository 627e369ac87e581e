"""Run every lecture notebook top to bottom and store it with its fresh outputs, as committed:
`.venv/bin/python notebooks/refresh.py` (all of them) or `... notebooks/refresh.py 01 07`.

tests/test_notebook_outputs.py fails when a stored output is stale (a `<... at 0x...>` repr)
or a picture lacks its PNG; this is the command that makes them fresh again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def refresh(path: Path) -> None:
    """Execute the notebook at path in its own folder and write it back with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in notebook.cells:  # counts from this run only: a diff shows outputs, not noise
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)


def main(prefixes: list[str]) -> None:
    """Refresh the notebooks whose names start with any of prefixes (all without any)."""
    for path in sorted(HERE.glob("[0-9][0-9]_*.ipynb")):
        if not prefixes or any(path.name.startswith(p) for p in prefixes):
            print(f"running {path.name}", flush=True)
            refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])

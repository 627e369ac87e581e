"""pytest set-up for the notebooks: nbmake collects them, without its advert. (Here, not at the
repository's top, which keeps its fixed shape; pytest loads it before collecting a notebook.)"""

import importlib.util
import json
from typing import Any

import pytest


class _NotebookCollector:
    """nbmake's collection hook alone, as a plugin of its own."""

    def __init__(self, collect: Any) -> None:
        self.pytest_collect_file = collect


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Keep nbmake's notebook collector and drop its terminal summary, which is an advert
    ("Learn more about nbmake at ...") that no flag of nbmake or pytest turns off."""
    nbmake = config.pluginmanager.get_plugin("nbmake")
    if nbmake is None or not hasattr(nbmake, "pytest_terminal_summary"):
        return
    config.pluginmanager.unregister(nbmake)
    config.pluginmanager.register(
        _NotebookCollector(nbmake.pytest_collect_file), "nbmake-collector")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip, with one line naming the extra, a notebook whose metadata lists packages under
    "requires" (e.g. torch for 16_to_pytorch) that are not installed."""
    for item in items:
        if item.path.suffix != ".ipynb":
            continue
        meta = json.loads(item.path.read_text(encoding="utf-8")).get("metadata", {})
        for package in meta.get("requires", []):
            if importlib.util.find_spec(package) is None:
                item.add_marker(pytest.mark.skip(
                    reason=f"{item.path.name} needs {package}: pip install "
                           f"'autograd-core[{package}]'"))

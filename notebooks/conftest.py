"""pytest set-up for the notebooks: nbmake collects them, without its advert. (Here, not at the
repository's top, which keeps its fixed shape; pytest loads it before collecting a notebook.)"""

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

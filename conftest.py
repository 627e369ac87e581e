"""pytest set-up for the whole repository: nbmake collects the notebooks, without its advert."""

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

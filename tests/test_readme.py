"""The README's promises: every python snippet runs, and each `print(...)  # comment` prints
what its comment says ("..." in a comment stands for anything; prose may follow a colon or a
comma)."""

import inspect
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SNIPPETS = re.findall(r"^ *```python\n(.*?)^ *```", README.read_text(), re.S | re.M)
_PRINT = re.compile(r"^\s*print\(.*\)\s+#\s?(.*)$")


def _says(printed: str, comment: str) -> bool:
    """printed is what comment says: all of it, or its start up to a ':' or ',' that begins
    prose; '...' in the comment matches anything."""
    for cut in range(len(comment), 0, -1):
        if cut < len(comment) and comment[cut] not in ":,":
            continue
        pattern = ".*?".join(map(re.escape, comment[:cut].rstrip().split("...")))
        if re.fullmatch(pattern, printed, re.S):  # "..." may span the lines of a listing
            return True
    return False


def test_the_readme_has_its_snippets():
    assert len(SNIPPETS) >= 5


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory):
    """One folder for all the snippets, as a reader runs them one after another."""
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.split("\n")[0][:40])
def test_readme_snippet_runs_and_prints_what_its_comments_say(snippet, reader_folder,
                                                              monkeypatch):
    monkeypatch.chdir(reader_folder)  # snippets write out/... and graph.svg
    code = inspect.cleandoc(snippet)
    printed: dict[int, list[str]] = {}

    def record(*args: object, sep: str = " ", end: str = "\n", **_: object) -> None:
        frame = inspect.currentframe()
        assert frame is not None and frame.f_back is not None
        printed.setdefault(frame.f_back.f_lineno, []).append(sep.join(map(str, args)))

    exec(compile(code, "README.md snippet", "exec"), {"print": record, "__name__": "readme"})
    for number, line in enumerate(code.splitlines(), start=1):
        if match := _PRINT.match(line):
            got = printed.get(number, [])
            assert len(got) == 1 and _says(got[0], match.group(1)), (line, got)

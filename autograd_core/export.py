"""Pictures to files: one drawing as SVG, PNG or DOT, and a backward pass as SVG frames plus one
self-contained HTML page that steps through them. Every file is written atomically, and a
stepper's frames and page as one set (autograd_core.files).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import Value
from .files import check_folder, check_target, write_atomic, write_files
from .page import steps_page
from .quiz import teaching_html
from .render import (
    MAX_FRAMES,
    DrawKeywords,
    DrawOptions,
    check_frames,
    frames_of,
    image_bytes,
    keywords_checked,
    to_dot,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

FORMATS = (".svg", ".png", ".dot")
HTML_NAME = "steps.html"
_FRAME_FILE = re.compile(r"(forward|backward)-\d+\.svg")


@keywords_checked
def save(root: Value, path: str | os.PathLike[str], *, step: int | None = None,
         forward: int | None = None, **options: Unpack[DrawKeywords]) -> Path:
    """Write the drawing of root (arguments as `to_dot`) to a .svg, .png or .dot file; its path."""
    target = check_output(path)
    source = to_dot(root, step=step, forward=forward, **options)
    suffix = target.suffix.lower()
    data = source.encode() if suffix == ".dot" else image_bytes(source, suffix)
    return write_atomic(target, data)


@keywords_checked
def save_steps(root: Value, folder: str | os.PathLike[str], *, forward: bool = False,
               max_frames: int = MAX_FRAMES, quiz: bool = False,
               **options: Unpack[DrawKeywords]) -> Path:
    """Write backward-000.svg ... (one per backward step) and steps.html into folder; its path.
    quiz=True: the page hides each step's new grads until the student types them.

    forward=True adds the forward pass first (forward-000.svg ...). Every frame has the same
    layout and size. A graph of more than max_frames frames is refused before any drawing
    (each frame draws the whole graph: files grow as nodes²). Drawing options are keywords:
    see `DrawOptions`. The folder is created if it does not exist; frames an earlier run left
    there are removed, so the folder holds this graph's frames only.
    """
    checked = DrawOptions(**options)
    target = check_folder(folder)
    check_frames(root, forward, max_frames, checked.max_nodes)
    pictures = frames_of(root, checked, forward=forward)  # each with its arithmetic
    # The page writes each step's arithmetic as text above the picture, so its frames leave it
    # out (a layout of their own, shared by all of them).
    page = frames_of(root, checked, forward=forward, captions=False, ids="steps-")
    width = max(3, len(str(pictures.frames[0].last)))
    files = {target / f"{f.pass_name}-{f.index:0{width}d}.svg": f.svg.encode()
             for f in pictures.frames}
    title = f"{root.label or 'the graph'}, step by step"
    teach = teaching_html(root, "steps", quiz=quiz, options=checked, forward=forward,
                          document_keys=True)
    files[target / HTML_NAME] = steps_page(page, "steps", title, teach)
    # Every frame is rendered before any file is touched; then frames and page go as a set.
    write_files(files, make_folders=True)
    for old in target.iterdir():
        if _FRAME_FILE.fullmatch(old.name) and old not in files and old.is_file():
            old.unlink()
    return target / HTML_NAME


def check_output(path: str | os.PathLike[str]) -> Path:
    """The path `save` would write, checked before any work: a .svg, .png or .dot name in an
    existing folder, and a regular file or nothing yet (see files.check_target)."""
    target = check_target(path)
    if target.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot write {str(target)!r}: save writes {', '.join(FORMATS)} "
                         f"files; it has "
                         f"{'no extension' if not target.suffix else repr(target.suffix)}")
    if not target.parent.is_dir():
        raise ValueError(f"cannot write {str(target)!r}: the folder {str(target.parent)!r} "
                         f"does not exist")
    check_folder(target.parent)
    return target

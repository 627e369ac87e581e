"""Pictures to files: one drawing as SVG, PNG or DOT, and a backward pass as SVG frames plus one
self-contained HTML page that steps through them. Every file is written atomically, and a
stepper's frames and page as one set (autograd_core.files).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .engine import Value
from .files import check_folder, check_target, write_atomic, write_files
from .page import steps_page
from .quiz import teaching_html
from .render import (
    DEFAULT_MAX_NODES,
    Color,
    Params,
    Rankdir,
    image_bytes,
    keywords_checked,
    stepper_frames,
    to_dot,
)

FORMATS = (".svg", ".png", ".dot")
HTML_NAME = "steps.html"


@keywords_checked
def save(root: Value, path: str | os.PathLike[str], *, step: int | None = None,
         forward: int | None = None, rankdir: Rankdir = "LR", fmt: str = ".4f",
         edge_partials: bool = False, params: Params = (), color: Color = "role",
         max_nodes: int = DEFAULT_MAX_NODES) -> Path:
    """Write the drawing of root (arguments as `to_dot`) to a .svg, .png or .dot file; its path."""
    target = check_output(path)
    source = to_dot(root, step=step, forward=forward, rankdir=rankdir, fmt=fmt,
                    edge_partials=edge_partials, params=params, color=color,
                    max_nodes=max_nodes)
    suffix = target.suffix.lower()
    data = source.encode() if suffix == ".dot" else image_bytes(source, suffix)
    return write_atomic(target, data)


@keywords_checked
def save_steps(root: Value, folder: str | os.PathLike[str], *, forward: bool = False,
               rankdir: Rankdir = "LR", fmt: str = ".4f", edge_partials: bool = False,
               params: Params = (), color: Color = "role", max_nodes: int = DEFAULT_MAX_NODES,
               quiz: bool = False) -> Path:
    """Write backward-000.svg ... (one per backward step) and steps.html into folder; its path.
    quiz=True: the page hides each step's new grads until the student types them.

    forward=True adds the forward pass first (forward-000.svg ...). Every frame has the same
    layout and size. Options are those of `to_dot`. The folder is created if it does not exist.
    """
    target = check_folder(folder)
    frames = functools.partial(stepper_frames, root, forward=forward, rankdir=rankdir, fmt=fmt,
                               edge_partials=edge_partials, params=params, color=color,
                               max_nodes=max_nodes)
    pictures = frames()  # each with its arithmetic
    # The page writes each step's arithmetic as text above the picture, so its frames leave it
    # out (a layout of their own, shared by all of them).
    page = frames(captions=False, ids="steps-")
    width = max(3, len(str(pictures.frames[0].last)))
    files = {target / f"{f.pass_name}-{f.index:0{width}d}.svg": f.svg.encode()
             for f in pictures.frames}
    title = f"{root.label or 'the graph'}, step by step"
    teach = teaching_html(root, "steps", quiz=quiz, forward=forward, rankdir=rankdir, fmt=fmt,
                          params=params, color=color, max_nodes=max_nodes, document_keys=True)
    files[target / HTML_NAME] = steps_page(page, "steps", title, teach)
    # Every frame is rendered before any file is touched; then frames and page go as a set.
    write_files(files, make_folders=True)
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

"""Pictures to files: one drawing as SVG, PNG or DOT, and a backward pass as SVG frames plus one
self-contained HTML page that steps through them. Every file is written atomically, and a
stepper's frames and page as one set (autograd_core.files).
"""

from __future__ import annotations

import html
import os
import subprocess
from pathlib import Path
from typing import Any

from .engine import Value
from .files import check_folder, check_target, write_atomic, write_files
from .render import RENDERER_HINT, renderer, steps_dot, to_dot

FORMATS = (".svg", ".png", ".dot")
HTML_NAME = "steps.html"


def save(root: Value, path: str | os.PathLike[str], *, step: int | None = None,
         **options: Any) -> Path:
    """Write the drawing of root (arguments as `to_dot`) to a .svg, .png or .dot file; its path."""
    target = check_output(path)
    source = to_dot(root, step=step, **options)
    suffix = target.suffix.lower()
    data = source.encode() if suffix == ".dot" else image_bytes(source, suffix)
    return write_atomic(target, data)


def save_steps(root: Value, folder: str | os.PathLike[str], *, forward: bool = False,
               **options: Any) -> Path:
    """Write backward-000.svg ... (one per backward step) and steps.html into folder; its path.

    forward=True adds the forward pass first (forward-000.svg ...). Options are those of
    `to_dot`. The folder is created if it does not exist.
    """
    target = check_folder(folder)
    steps = [(name, k, image_bytes(source, ".svg"))
             for name, k, source in steps_dot(root, forward=forward, **options)]
    last = max(k for _, k, _ in steps)  # both passes have the same number of steps
    width = max(3, len(str(last)))
    files = {target / f"{name}-{k:0{width}d}.svg": svg for name, k, svg in steps}
    frames = [(f"{name} step {k} of {last}", svg) for name, k, svg in steps]
    page = target / HTML_NAME
    files[page] = steps_html(frames, title=f"{root.label or 'the graph'}, step by step")
    # Every frame is rendered before any file is touched; then frames and page go as a set.
    write_files(files, make_folders=True)
    return page


def image_bytes(source: str, suffix: str) -> bytes:
    """DOT text through the Graphviz program `renderer()` picks, as .svg or .png bytes."""
    program = renderer()
    if program is None:
        raise RuntimeError(RENDERER_HINT.split(";")[0] + f" to write {suffix} files")
    done = subprocess.run([program, f"-T{suffix.lstrip('.').lower()}"], input=source.encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{program} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def steps_html(frames: list[tuple[str, bytes]], title: str = "step by step") -> bytes:
    """One HTML page with every (caption, SVG) frame inlined: Prev/Next, ← → keys, a counter."""
    sections = []
    for k, (caption, svg) in enumerate(frames):
        hidden = "" if k == 0 else " hidden"
        sections.append(f'<section class="frame" id="frame-{k}" '
                        f'data-caption="{html.escape(caption)}"{hidden}>\n'
                        f'{_inline_svg(svg)}\n</section>')
    page = _PAGE.format(title=html.escape(title), first=html.escape(frames[0][0]),
                        frames="\n".join(sections))
    return page.encode()


def _inline_svg(svg: bytes) -> str:
    # The XML declaration and DOCTYPE are for standalone files; inside HTML the <svg> suffices.
    text = svg.decode()
    start = text.find("<svg")
    if start < 0:
        raise ValueError(f"not an SVG image: {text[:60]!r}")
    return text[start:].strip()


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


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; }}
  nav {{ display: flex; gap: 1em; align-items: center; margin-bottom: 1em; }}
  button {{ font-size: 1em; padding: 0.3em 1em; }}
  .frame svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<nav>
  <button type="button" id="prev">&larr; Prev</button>
  <span id="counter">{first}</span>
  <button type="button" id="next">Next &rarr;</button>
  <span>(or the &larr; &rarr; keys)</span>
</nav>
{frames}
<script>
(function () {{
  var frames = document.querySelectorAll(".frame");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var counter = document.getElementById("counter");
  var current = 0;
  function show(k) {{
    current = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (frame, i) {{ frame.hidden = i !== current; }});
    counter.textContent = frames[current].getAttribute("data-caption");
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
  }}
  prev.addEventListener("click", function () {{ show(current - 1); }});
  next.addEventListener("click", function () {{ show(current + 1); }});
  document.addEventListener("keydown", function (event) {{
    if (event.key === "ArrowLeft") {{ show(current - 1); }}
    if (event.key === "ArrowRight") {{ show(current + 1); }}
  }});
  show(0);
}})();
</script>
</body>
</html>
"""

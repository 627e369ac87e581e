"""The stepper as HTML: one self-contained page (`steps_page`, what `save_steps` writes) and the
same stepper inline in a Jupyter cell (`show_steps`): Prev/Next, ← → keys, a legend, the
step's arithmetic as text, and every frame drawn on one layout.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
import secrets
from typing import TYPE_CHECKING

from .engine import Value
from .quiz import teaching_html
from .render import (
    ACTIVE,
    FORWARD,
    GATE_FILL,
    HEAT,
    KIND_FILL,
    KIND_MEANING,
    MAX_FRAMES,
    READABLE_SCALE,
    RECEIVING,
    ROLE_MEANING,
    DrawKeywords,
    DrawOptions,
    Stepper,
    _picture_dot,
    check_frames,
    frame_count,
    frames_of,
    image_bytes,
    keywords_checked,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

MIN_SCALE = READABLE_SCALE  # a wide graph shrinks to fit down to this, then scrolls
_UID = "AUTOGRADSTEPSUID"  # stands for the output's own id until the HTML is shown
_shown = itertools.count(1)


class StepsView:
    """An interactive stepper in a Jupyter cell's output (self-contained HTML, unique ids),
    with a PNG of its first frame and its arithmetic as text beside it, for viewers that run
    no scripts (an untrusted notebook, GitHub, nbconvert)."""

    def __init__(self, fragment: str, frames: int, png: bytes, text: str) -> None:
        self.fragment = fragment  # the HTML, its ids still to be made unique
        self.frames = frames
        self.png = png  # the frame shown first, with its arithmetic under it
        self.text = text  # that frame's counter and arithmetic

    def _repr_html_(self) -> str:
        # A new id at every showing: the same view shown twice is two independent steppers.
        uid = f"autograd-steps-{next(_shown)}-{secrets.token_hex(4)}"
        return self.fragment.replace(_UID, uid)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None, **_: object
                          ) -> dict[str, str]:
        return {"text/html": self._repr_html_(),
                "image/png": base64.b64encode(self.png).decode("ascii"),
                "text/plain": f"{self.text}\n{self!r}"}

    def __repr__(self) -> str:
        return (f"<stepper of {self.frames} frames: Jupyter shows it as HTML; save_steps "
                f"writes it as a page>")


@keywords_checked
def show_steps(root: Value, *, forward: bool = False, start: int = 0,
               max_frames: int = MAX_FRAMES, quiz: bool = False,
               **options: Unpack[DrawKeywords]) -> StepsView:
    """The backward pass of root (forward=True: the forward pass first) as an interactive
    stepper in a Jupyter cell, opening at frame `start`; a graph of more than max_frames
    frames is refused before any drawing. Drawing options are keywords: see `DrawOptions`.
    quiz=True hides each step's new grads until the student types them (autograd_core.quiz).

    Without scripts (a static notebook viewer) it shows frame `start` as a picture and every
    step's arithmetic as text.
    """
    checked = DrawOptions(**options)
    check_frames(root, forward, max_frames, checked.max_nodes)
    _check_start(start, frame_count(root, forward))
    stepper = frames_of(root, checked, forward=forward, captions=False, ids=f"{_UID}-")
    first = stepper.frames[start]
    at = (None, first.index) if first.pass_name == "forward" else (first.index, None)
    still = image_bytes(_picture_dot(root, checked, step=at[0], forward=at[1], legend=False,
                                     caption=False), ".png")
    teach = teaching_html(root, _UID, quiz=quiz, options=checked, forward=forward)
    fragment = stepper_html(stepper, _UID, start=start, document_keys=False, still=still,
                            extra=teach)
    with_caption = image_bytes(_picture_dot(root, checked, step=at[0], forward=at[1]), ".png")
    text = f"{_counters(stepper)[start]}\n{first.caption}"
    return StepsView(fragment, len(stepper.frames), with_caption, text)


def steps_page(stepper: Stepper, uid: str, title: str, extra: str = "") -> bytes:
    """One HTML page holding the stepper and everything it needs: no file or network besides;
    extra is HTML added inside the stepper (the quiz, autograd_core.quiz)."""
    body = stepper_html(stepper, uid, start=0, document_keys=True, extra=extra)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"color-scheme\" content=\"light dark\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_PAGE_STYLE}</style>\n</head>\n"
            f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n").encode()


def _check_start(start: int, n: int) -> None:
    if isinstance(start, bool) or not isinstance(start, int):
        raise TypeError(f"start must be an int, got {start!r}")
    if not 0 <= start < n:
        raise IndexError(f"start {start} is out of range: this stepper has {n} frames "
                         f"(0 to {n - 1})")


def _counters(stepper: Stepper) -> list[str]:
    n = len(stepper.frames)
    return [f"frame {i + 1} of {n} · {f.pass_name} pass, step {f.index} of {f.last}"
            for i, f in enumerate(stepper.frames)]


def stepper_html(stepper: Stepper, uid: str, *, start: int, document_keys: bool,
                 still: bytes | None = None, extra: str = "") -> str:
    """The stepper as one HTML element with id uid: legend, buttons, counter, caption, frames.

    Without scripts it shows frame `start` (as the PNG `still` where given: a sanitised
    notebook output keeps no SVG) with its arithmetic, and every step's arithmetic as text;
    the frames and buttons live in a script block, which a viewer without scripts drops whole
    rather than spilling their texts. document_keys=True listens to ← → on the whole page (a
    page with one stepper), else only while the stepper has focus.
    """
    frames = stepper.frames
    n = len(frames)
    _check_start(start, n)
    counters = _counters(stepper)
    sections = "\n".join(
        f"<section class=\"frame\" data-counter=\"{html.escape(counter)}\" "
        f"data-caption=\"{_attribute(f.caption)}\" data-active=\"{f.active}\" hidden>\n"
        f"{f.svg}\n</section>"
        for f, counter in zip(frames, counters))
    every = "\n".join(f"<li><b>{html.escape(counter)}</b><br>{_lines(f.caption)}</li>"
                      for f, counter in zip(frames, counters))
    lines = max(f.caption.count("\n") + 1 for f in frames)
    width = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', frames[0].svg)
    natural = float(width.group(1)) if width else 0.0
    first = frames[start]
    if still is None:  # a page of its own: the frame's SVG, as it will look when stepping
        picture = first.svg.replace(' id="', ' data-svgid="')  # ids stay the live frames' own
    else:
        source = "data:image/png;base64," + base64.b64encode(still).decode("ascii")
        picture = (f"<img src=\"{source}\" alt=\"{html.escape(counters[start])}\" "
                   f"style=\"max-width: 100%; min-width: min({natural * MIN_SCALE:.0f}pt, 100%)"
                   f"\">")
    live = _LIVE.format(uid=uid, counter=html.escape(counters[start]),
                        caption=_lines(first.caption), frames=sections)
    return _FRAGMENT.format(
        uid=uid, lines=lines, min_width=f"{natural * MIN_SCALE:.0f}", legend=_legend(stepper),
        counter=html.escape(counters[start]), caption=_lines(first.caption), picture=picture,
        every=every, start=start, live=live.replace("</", "<\\/"),
        keys="document" if document_keys else "root", extra=extra)


def _legend(stepper: Stepper) -> str:
    rows = []
    if stepper.names:
        names = " ".join(f"<code class=\"item\">{html.escape(name)}</code>"
                         for name in stepper.names)
        rows.append(f"<div><b>Names:</b> {names}</div>")
    if stepper.color == "role":
        kinds = " ".join(_swatch(KIND_FILL[kind], KIND_MEANING[kind]) for kind in stepper.kinds)
        rows.append(f"<div><b>Values</b> <code>{{ name | data | grad }}</code>: {kinds}</div>")
        roles = " ".join(_swatch(GATE_FILL.get(role, "#e5e7eb"),
                                 f"{role}: {ROLE_MEANING.get(role, role)}")
                         for role in stepper.roles)
        rows.append(f"<div><b>Gates</b> (what each does to the gradient): {roles}</div>")
    elif stepper.color == "grad":
        rows.append(f"<div><b>Values</b>: {_swatch('#ffffff', 'grad 0')} "
                    f"{_swatch(HEAT, 'the largest |grad|')}</div>")
    marks = [_swatch(ACTIVE, "the step being applied", outline=True),
             _swatch(RECEIVING, "the inputs it adds to", outline=True)]
    if any(f.pass_name == "forward" for f in stepper.frames):
        marks.append(_swatch(FORWARD, "the value just computed (forward pass)", outline=True))
    rows.append(f"<div><b>Steps:</b> {' '.join(marks)} <span class=\"item\">a blank grad: not "
                f"computed yet; <i>so far</i>: other uses still to add</span></div>")
    return "\n".join(rows)


def _swatch(colour: str, meaning: str, outline: bool = False) -> str:
    style = (f"border: 3px solid {colour}; background: #fff" if outline
             else f"background: {colour}")
    return (f"<span class=\"item\"><span class=\"swatch\" style=\"{style}\"></span>"
            f"{html.escape(meaning)}</span>")


def _attribute(text: str) -> str:
    return html.escape(text).replace("\n", "&#10;")  # an attribute keeps its line breaks so


def _lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.split("\n"))


# Colours come from the host's theme where it says them (JupyterLab's CSS variables, then VS
# Code's), else from prefers-color-scheme; text always sits on a background set here, so a
# theme that cannot be detected still reads: dark text on light. The picture and the legend's
# swatches keep their own colours (`only light`): a browser's forced dark mode would lighten
# the picture's labels on its white background and darken the swatches away from the nodes.
_FRAGMENT = """<div class="autograd-steps" id="{uid}" tabindex="0">
<style>
  #{uid} {{ --ag-fg: #111827; --ag-bg: #ffffff; --ag-muted: #4b5563; --ag-button: #f3f4f6;
           --ag-border: #6b7280; --ag-focus: #2563eb;
           color: var(--jp-content-font-color1, var(--vscode-editor-foreground, var(--ag-fg)));
           background: var(--jp-layout-color0, var(--vscode-editor-background, var(--ag-bg)));
           font-family: Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.4;
           margin: 0.5em 0 1.5em; padding: 0.4em 0.6em; border-radius: 6px; }}
  @media (prefers-color-scheme: dark) {{
    #{uid} {{ --ag-fg: #e5e7eb; --ag-bg: #111827; --ag-muted: #a3aab5; --ag-button: #1f2937;
             --ag-border: #9ca3af; --ag-focus: #93c5fd; }}
  }}
  #{uid}:focus-visible {{ outline: 2px solid var(--ag-focus); }}
  #{uid} .legend {{ font-size: 0.9em; margin-bottom: 0.5em; }}
  #{uid} .item {{ display: inline-block; margin-right: 1em; }}
  #{uid} code {{ color: inherit; background: none; font-size: 1em; }}
  #{uid} .swatch {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
                   vertical-align: -0.1em; border: 1px solid var(--ag-border);
                   box-sizing: border-box; color-scheme: only light; }}
  #{uid} nav {{ display: flex; gap: 0.8em; align-items: center; flex-wrap: wrap; }}
  #{uid} button {{ font: inherit; padding: 0.3em 1em; color: inherit; border-radius: 4px;
                  background: var(--jp-layout-color2, var(--ag-button));
                  border: 1px solid var(--ag-border); cursor: pointer; }}
  #{uid} button:disabled {{ color: var(--jp-content-font-color2, var(--ag-muted));
                           cursor: default; }}
  #{uid} .hint, #{uid} .note {{ color: var(--jp-content-font-color2, var(--ag-muted)); }}
  #{uid} .caption {{ font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace;
                    font-size: 0.95em; margin: 0.6em 0; min-height: {lines}.5em;
                    white-space: pre-wrap; }}
  #{uid} .picture {{ overflow: auto; max-width: 100%; background: #ffffff; color: #111827;
                    border-radius: 4px; color-scheme: only light; }}
  #{uid} .picture svg {{ display: block; max-width: 100%; height: auto;
                         min-width: {min_width}pt; }}
  #{uid} .every-step li {{ margin-bottom: 0.4em; font-size: 0.9em; }}
</style>
<div class="legend">
{legend}
</div>
<div class="still">
<p class="note"><b>{counter}</b> (scripts are not running here: run the cell, or trust the
notebook, to step through it; every step's arithmetic is listed below).</p>
<div class="caption">{caption}</div>
<div class="picture">
{picture}
</div>
</div>
<script type="text/html" class="live">{live}</script>
<details class="every-step" open>
<summary>Every step's arithmetic</summary>
<ol start="1">
{every}
</ol>
</details>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  if (!root) {{ return; }}
  // The live stepper replaces the still: its markup waits in a script block, which a
  // viewer without scripts drops whole (its SVG texts would read as a heap of words).
  var holder = root.querySelector("script.live");
  var live = document.createElement("div");
  live.className = "live";
  live.innerHTML = holder.textContent.replace(/<\\\\\\//g, "</");
  root.querySelector(".still").replaceWith(live);
  holder.remove();
  var frames = root.querySelectorAll(".frame");
  var picture = live.querySelector(".picture");
  var prev = root.querySelector(".prev");
  var next = root.querySelector(".next");
  var counter = root.querySelector(".counter");
  var caption = live.querySelector(".caption");
  var current = {start};
  // The frame's active node in view: the picture scrolls sideways to it, and on a step the
  // page scrolls too if the node is above or below the window.
  function reveal(frame, page) {{
    var id = frame.getAttribute("data-active");
    var node = id ? document.getElementById(id) : null;
    if (!node) {{ return; }}
    var box = node.getBoundingClientRect();
    var view = picture.getBoundingClientRect();
    var margin = 24;
    if (box.left < view.left) {{
      picture.scrollLeft -= view.left - box.left + margin;
    }} else if (box.right > view.right) {{
      picture.scrollLeft += box.right - view.right + margin;
    }}
    box = node.getBoundingClientRect();
    if (page && (box.top < 0 || box.bottom > window.innerHeight)) {{
      node.scrollIntoView({{block: "nearest", inline: "nearest"}});
    }}
  }}
  function show(k, page) {{
    var inside = root.contains(document.activeElement);
    current = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (frame, i) {{ frame.hidden = i !== current; }});
    counter.textContent = frames[current].getAttribute("data-counter");
    caption.textContent = frames[current].getAttribute("data-caption");
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    reveal(frames[current], page);
    // A button disabled at an end drops the focus: keep it here, or the keys stop working.
    if (inside && (document.activeElement.disabled || !root.contains(document.activeElement))) {{
      root.focus({{preventScroll: true}});
    }}
  }}
  prev.addEventListener("click", function () {{ show(current - 1, true); }});
  next.addEventListener("click", function () {{ show(current + 1, true); }});
  // On a page of its own the keys work anywhere; inline (several steppers in one notebook)
  // only while this one has focus, and they go no further (not to the notebook's shortcuts).
  var keys = "{keys}" === "document" ? document : root;
  keys.addEventListener("keydown", function (event) {{
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") {{ return; }}
    show(current + (event.key === "ArrowLeft" ? -1 : 1), true);
    event.preventDefault();
    event.stopPropagation();
  }});
  root.querySelector(".every-step").open = false;
  show(current, false);
}})();
</script>
{extra}
</div>"""

_LIVE = """<nav>
  <button type="button" class="prev">&larr; Prev</button>
  <span class="counter">{counter}</span>
  <button type="button" class="next">Next &rarr;</button>
  <span class="hint">(or the &larr; &rarr; keys)</span>
</nav>
<div class="caption" aria-live="polite">{caption}</div>
<div class="picture">
{frames}
</div>"""

_PAGE_STYLE = """
  :root { color-scheme: light dark; }
  body { margin: 1em; background: #ffffff; color: #111827; }
  h1 { font: bold 1.3em Helvetica, Arial, sans-serif; }
  @media (prefers-color-scheme: dark) { body { background: #111827; color: #e5e7eb; } }
"""

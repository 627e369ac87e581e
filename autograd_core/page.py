"""The stepper as HTML: one self-contained page (`steps_page`, what `save_steps` writes) and the
same stepper inline in a Jupyter cell (`show_steps`): Prev/Next, ← → keys, a legend, the
step's arithmetic as text, and every frame drawn on one layout.
"""

from __future__ import annotations

import html
import itertools
import re
import secrets

from .engine import Value
from .ops import BLOCKER, DISTRIBUTOR, ROUTER, SCALER, SWAPPER
from .quiz import teaching_html
from .render import (
    ACTIVE,
    DEFAULT_MAX_NODES,
    FORWARD,
    GATE_FILL,
    HEAT,
    KIND_FILL,
    RECEIVING,
    Color,
    Params,
    Rankdir,
    Stepper,
    keywords_checked,
    stepper_frames,
)

MIN_SCALE = 0.75  # a wide graph is shrunk to fit down to this, then scrolls: 11 pt text ≥ 11 px
_KIND_MEANING = {"output": "the output (root)", "parameter": "a parameter",
                 "input": "an input (a leaf you made)", "constant": "a number from the formula",
                 "intermediate": "an intermediate value"}
_ROLE_MEANING = {DISTRIBUTOR: "passes the gradient to every input unchanged",
                 SWAPPER: "each input gets the gradient times the other input",
                 ROUTER: "the whole gradient goes to one input",
                 SCALER: "multiplies the gradient by a local slope",
                 BLOCKER: "passes no gradient"}
_UID = "AUTOGRADSTEPSUID"  # stands for the output's own id until the HTML is shown
_shown = itertools.count(1)


class StepsView:
    """An interactive stepper in a Jupyter cell's output (self-contained HTML, unique ids)."""

    def __init__(self, fragment: str, frames: int) -> None:
        self.fragment = fragment  # the HTML, its ids still to be made unique
        self.frames = frames

    def _repr_html_(self) -> str:
        # A new id at every showing: the same view shown twice is two independent steppers.
        uid = f"autograd-steps-{next(_shown)}-{secrets.token_hex(4)}"
        return self.fragment.replace(_UID, uid)

    def __repr__(self) -> str:
        return (f"<stepper of {self.frames} frames: Jupyter shows it as HTML; save_steps "
                f"writes it as a page>")


@keywords_checked
def show_steps(root: Value, *, forward: bool = False, start: int = 0, rankdir: Rankdir = "LR",
               fmt: str = ".4f", edge_partials: bool = False, params: Params = (),
               color: Color = "role", max_nodes: int = DEFAULT_MAX_NODES,
               quiz: bool = False) -> StepsView:
    """The backward pass of root (forward=True: the forward pass first) as an interactive
    stepper in a Jupyter cell, opening at frame `start`; options are those of `to_dot`.
    quiz=True hides each step's new grads until the student types them (autograd_core.quiz).

    Without scripts (a static notebook viewer) it shows frame `start` and every step's
    arithmetic as text.
    """
    stepper = stepper_frames(root, forward=forward, captions=False, ids=f"{_UID}-",
                             rankdir=rankdir, fmt=fmt, edge_partials=edge_partials,
                             params=params, color=color, max_nodes=max_nodes)
    teach = teaching_html(root, _UID, quiz=quiz, forward=forward, rankdir=rankdir, fmt=fmt,
                          params=params, color=color, max_nodes=max_nodes)
    fragment = stepper_html(stepper, _UID, start=start, document_keys=False, extra=teach)
    return StepsView(fragment, len(stepper.frames))


def steps_page(stepper: Stepper, uid: str, title: str, extra: str = "") -> bytes:
    """One HTML page holding the stepper and everything it needs: no file or network besides;
    extra is HTML added inside the stepper (the quiz, autograd_core.quiz)."""
    body = stepper_html(stepper, uid, start=0, document_keys=True, extra=extra)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n</head>\n<body style=\"margin: 1em\">\n"
            f"<h1 style=\"font: bold 1.3em Helvetica, Arial, sans-serif\">{html.escape(title)}"
            f"</h1>\n{body}\n</body>\n</html>\n").encode()


def stepper_html(stepper: Stepper, uid: str, *, start: int, document_keys: bool,
                 extra: str = "") -> str:
    """The stepper as one HTML element with id uid: legend, buttons, counter, caption, frames.

    Frame `start` is shown even where no script runs; document_keys=True listens to ← → on
    the whole page (a page with one stepper), else only while the stepper has focus.
    """
    frames = stepper.frames
    n = len(frames)
    if isinstance(start, bool) or not isinstance(start, int):
        raise TypeError(f"start must be an int, got {start!r}")
    if not 0 <= start < n:
        raise IndexError(f"start {start} is out of range: this stepper has {n} frames "
                         f"(0 to {n - 1})")
    counters = [f"frame {i + 1} of {n} · {f.pass_name} pass, step {f.index} of {f.last}"
                for i, f in enumerate(frames)]
    sections = "\n".join(
        f"<section class=\"frame\" data-counter=\"{html.escape(counter)}\" "
        f"data-caption=\"{_attribute(f.caption)}\"{'' if i == start else ' hidden'}>\n"
        f"{f.svg}\n</section>"
        for i, (f, counter) in enumerate(zip(frames, counters)))
    every = "\n".join(f"<li><b>{html.escape(counter)}</b><br>{_lines(f.caption)}</li>"
                      for f, counter in zip(frames, counters))
    lines = max(f.caption.count("\n") + 1 for f in frames)
    width = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', frames[0].svg)
    min_width = float(width.group(1)) * MIN_SCALE if width else 0.0
    first = frames[start]
    return _FRAGMENT.format(
        uid=uid, lines=lines, min_width=f"{min_width:.0f}", legend=_legend(stepper),
        counter=html.escape(counters[start]), caption=_lines(first.caption),
        prev_disabled=" disabled" if start == 0 else "",
        next_disabled=" disabled" if start == n - 1 else "",
        frames=sections, every=every, start=start,
        keys="document" if document_keys else "root", extra=extra)


def _legend(stepper: Stepper) -> str:
    rows = []
    if stepper.names:
        names = " ".join(f"<code class=\"item\">{html.escape(name)}</code>"
                         for name in stepper.names)
        rows.append(f"<div><b>Names:</b> {names}</div>")
    if stepper.color == "role":
        kinds = " ".join(_swatch(KIND_FILL[kind], _KIND_MEANING[kind]) for kind in stepper.kinds)
        rows.append(f"<div><b>Values</b> <code>{{ name | data | grad }}</code>: {kinds}</div>")
        roles = " ".join(_swatch(GATE_FILL.get(role, "#e5e7eb"),
                                 f"{role}: {_ROLE_MEANING.get(role, role)}")
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


_FRAGMENT = """<div class="autograd-steps" id="{uid}" tabindex="0">
<style>
  #{uid} {{ font-family: Helvetica, Arial, sans-serif; font-size: 15px; color: #111827;
           line-height: 1.4; margin: 0.5em 0 1.5em; }}
  #{uid}:focus-visible {{ outline: 2px solid #93c5fd; }}
  #{uid} .legend {{ font-size: 0.9em; margin-bottom: 0.5em; }}
  #{uid} .item {{ display: inline-block; margin-right: 1em; }}
  #{uid} .swatch {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
                   vertical-align: -0.1em; border: 1px solid #6b7280; box-sizing: border-box; }}
  #{uid} nav {{ display: flex; gap: 0.8em; align-items: center; flex-wrap: wrap; }}
  #{uid} button {{ font-size: 1em; padding: 0.3em 1em; }}
  #{uid} .caption {{ font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace;
                    font-size: 0.95em; margin: 0.6em 0; min-height: {lines}.5em;
                    white-space: pre-wrap; }}
  #{uid} .picture {{ overflow: auto; max-width: 100%; }}
  #{uid} .picture svg {{ display: block; max-width: 100%; height: auto;
                         min-width: {min_width}pt; }}
  #{uid} .every-step li {{ margin-bottom: 0.4em; font-size: 0.9em; }}
</style>
<div class="legend">
{legend}
</div>
<nav>
  <button type="button" class="prev"{prev_disabled}>&larr; Prev</button>
  <span class="counter">{counter}</span>
  <button type="button" class="next"{next_disabled}>Next &rarr;</button>
  <span class="hint">(or the &larr; &rarr; keys)</span>
</nav>
<div class="caption" aria-live="polite">{caption}</div>
<div class="picture">
{frames}
</div>
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
  var frames = root.querySelectorAll(".frame");
  var prev = root.querySelector(".prev");
  var next = root.querySelector(".next");
  var counter = root.querySelector(".counter");
  var caption = root.querySelector(".caption");
  var current = {start};
  function show(k) {{
    var inside = root.contains(document.activeElement);
    current = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (frame, i) {{ frame.hidden = i !== current; }});
    counter.textContent = frames[current].getAttribute("data-counter");
    caption.textContent = frames[current].getAttribute("data-caption");
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    // A button disabled at an end drops the focus: keep it here, or the keys stop working.
    if (inside && (document.activeElement.disabled || !root.contains(document.activeElement))) {{
      root.focus();
    }}
  }}
  prev.addEventListener("click", function () {{ show(current - 1); }});
  next.addEventListener("click", function () {{ show(current + 1); }});
  // On a page of its own the keys work anywhere; inline (several steppers in one notebook)
  // only while this one has focus, and they go no further (not to the notebook's shortcuts).
  var keys = "{keys}" === "document" ? document : root;
  keys.addEventListener("keydown", function (event) {{
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") {{ return; }}
    show(current + (event.key === "ArrowLeft" ? -1 : 1));
    event.preventDefault();
    event.stopPropagation();
  }});
  root.querySelector(".every-step").open = false;
  show(current);
}})();
</script>
{extra}
</div>"""

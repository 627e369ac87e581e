"""A training run as one self-contained HTML page with a slider over its steps: the decision
boundary, the loss curve with a marker at the step, and each layer's gradient flow at that step
move together (`save_scrubber`). Everything is drawn in the page from numbers embedded in it.

Needs a history from `fit(..., flow=True, record=k)`: flow for the gradient panel, record for
the parameters the boundary is drawn from.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from autograd_core.files import write_atomic

from .flow import forward_layers, network_layers
from .plot import CLASS_COLORS
from .train import History

DEFAULT_RESOLUTION = 50  # grid points a side: 2,500 scores per recorded step


def _check(history: History, model: Any, X: np.ndarray, y: np.ndarray) -> None:
    """Refuse a history or data the page cannot be drawn from, saying what records it."""
    if not isinstance(history, History):
        raise TypeError(f"save_scrubber needs the History fit() returns, got "
                        f"{type(history).__name__}")
    if not history.loss:
        raise ValueError("this history has no steps: train with fit(...) first")
    if not history.snapshots:
        raise ValueError("this history has no parameter snapshots, so no decision boundary "
                         "can be drawn per step: train with fit(..., record=1) (or record=k, "
                         "every k-th step)")
    if not history.flow:
        raise ValueError("this history has no gradient flow per step: train with "
                         "fit(..., flow=True)")
    layers = network_layers(model, "save_scrubber")
    n = sum(1 for _ in model.parameters())
    sizes = {len(values) for _, values in history.snapshots}
    if sizes != {n}:
        raise ValueError(f"the history's snapshots hold {sorted(sizes)} parameters, but this "
                         f"model has {n}: pass the model that was trained")
    if X.ndim != 2 or X.shape[1] != 2 or layers[0].nin != 2:
        raise ValueError(f"the scrubber draws a 2-D decision boundary: it needs points of "
                         f"shape (n, 2) and a model with 2 inputs, got points of shape "
                         f"{X.shape} and a model with {layers[0].nin} inputs")
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; both need the same number "
                         f"(at least 1)")


def _grid(X: np.ndarray, resolution: int) -> tuple[list[float], np.ndarray]:
    (x0, y0), (x1, y1) = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    xs, ys = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    return [float(x0), float(x1), float(y0), float(y1)], np.column_stack([xs.ravel(),
                                                                          ys.ravel()])


def _boundaries(history: History, model: Any, grid: np.ndarray
                ) -> tuple[list[str], list[float], int]:
    """Per snapshot, the model's scores on the grid, each quantised to int8 by its largest
    |score| (base64, one class's scores after another), and that scale; and how many scores
    the model gives."""
    params = model.parameters()
    kept = [p.data for p in params]
    fields, scales, outputs = [], [], 1
    try:
        for _, values in history.snapshots:
            for p, v in zip(params, values):
                p.data = v
            scores = forward_layers(model, grid)[-1][1]  # the last layer's outputs, (n, k)
            outputs = scores.shape[1]
            scale = float(np.max(np.abs(scores))) or 1.0
            q = np.round(scores.T / scale * 127.0).astype(np.int8)  # one row per class score
            fields.append(base64.b64encode(q.tobytes()).decode())
            scales.append(scale)
    finally:  # the model leaves as it came
        for p, v in zip(params, kept):
            p.data = v
    return fields, scales, outputs


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def scrubber_page(history: History, model: Any, data: tuple[Any, Any], *,
                  resolution: int = DEFAULT_RESOLUTION, title: str | None = None) -> bytes:
    """The page `save_scrubber` writes, as bytes (see there)."""
    X, y = np.asarray(data[0], dtype=float), np.asarray(data[1])
    _check(history, model, X, y)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int ≥ 2, got {resolution!r}")
    extent, grid = _grid(X, resolution)
    fields, scales, outputs = _boundaries(history, model, grid)
    classes = np.where(y > 0, 1, 0) if y.min() < 0 else y.astype(int)
    payload = {
        "steps": [step for step, _ in history.snapshots],
        "fields": fields, "scales": scales, "resolution": resolution, "extent": extent,
        "outputs": outputs,
        "points": [[float(a), float(b), int(c)] for (a, b), c in zip(X, classes)],
        "colors": list(CLASS_COLORS),
        "loss": [_finite(v) for v in history.loss],
        "accuracy": [_finite(a) for a in history.accuracy],
        "lr": [_finite(v) for v in history.lr],
        "flow": [[[_finite(f.grad_mean), _finite(f.grad_max), f.dead, f.saturated,
                   _finite(f.update_ratio)] for f in step] for step in history.flow],
    }
    name = title or f"training {model!r}"
    script = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    return (_PAGE.replace("{title}", html.escape(name)).replace("{data}", script)).encode()


def save_scrubber(history: History, path: str | os.PathLike[str], *, model: Any,
                  data: tuple[Any, Any], resolution: int = DEFAULT_RESOLUTION,
                  title: str | None = None) -> Path:
    """Write one self-contained HTML page (no file or network besides) with a slider over the
    recorded steps of `history`: model's decision boundary on data = (X, y) at that step (a
    resolution² grid), the loss curve with a marker, and each layer's mean and max |∂L/∂w|,
    dead and saturated fractions at that step. The history must come from
    fit(model, ..., flow=True, record=k); the model is left with its own weights."""
    return write_atomic(path, scrubber_page(history, model, data, resolution=resolution,
                                            title=title), make_folders=True)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<style>
  /* Its own light and dark themes: a browser's forced dark mode leaves the page alone. */
  :root { color-scheme: light dark; }
  :root { --bg: #ffffff; --fg: #111827; --muted: #6b7280; --grid: #e5e7eb; --panel: #f9fafb;
          --line: #2563eb; --mark: #dc2626; --acc: #ea580c; }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #111827; --fg: #f3f4f6; --muted: #9ca3af; --grid: #374151;
            --panel: #1f2937; --line: #60a5fa; --mark: #f87171; --acc: #fb923c; }
  }
  body { background: var(--bg); color: var(--fg); margin: 1em;
         font: 15px/1.4 Helvetica, Arial, sans-serif; }
  h1 { font-size: 1.3em; margin: 0 0 0.5em; }
  .controls { display: flex; gap: 0.8em; align-items: center; flex-wrap: wrap; }
  .controls input[type=range] { width: min(60vw, 640px); }
  .controls button { font-size: 1em; padding: 0.25em 0.9em; }
  .status { font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace; margin: 0.5em 0; }
  .panels { display: flex; flex-wrap: wrap; gap: 1em; }
  figure { margin: 0; background: var(--panel); border: 1px solid var(--grid);
           border-radius: 6px; padding: 0.5em; }
  figcaption { font-weight: bold; margin-bottom: 0.3em; }
  svg text { fill: var(--fg); font-size: 11px; }
</style>
</head>
<body>
<h1>{title}</h1>
<div class="controls">
  <button type="button" class="play">&#9654; Play</button>
  <input type="range" class="slider" min="0" value="0" aria-label="training step">
  <span class="hint">(drag, or the &larr; &rarr; keys)</span>
</div>
<div class="status" aria-live="polite"></div>
<div class="panels">
  <figure><figcaption>Decision boundary</figcaption>
    <canvas class="boundary" width="320" height="320"></canvas></figure>
  <figure><figcaption>Loss per step</figcaption>
    <svg class="loss" width="380" height="320" role="img"></svg></figure>
  <figure><figcaption>Gradient flow per layer at this step</figcaption>
    <svg class="flow" width="380" height="320" role="img"></svg></figure>
</div>
<noscript><p>This page draws its pictures with JavaScript.</p></noscript>
<script type="application/json" class="scrub-data">{data}</script>
<script>
(function () {
  var D = JSON.parse(document.querySelector(".scrub-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var slider = document.querySelector(".slider"), status = document.querySelector(".status");
  var canvas = document.querySelector(".boundary"), ctx = canvas.getContext("2d");
  var lossSvg = document.querySelector(".loss"), flowSvg = document.querySelector(".flow");
  slider.max = D.steps.length - 1;
  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function el(parent, tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    parent.appendChild(e);
    return e;
  }
  function rgb(hex) {
    return [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }
  var fields = D.fields.map(function (b64) {
    var s = atob(b64), a = new Int8Array(s.length);
    for (var i = 0; i < s.length; i++) { a[i] = s.charCodeAt(i) << 24 >> 24; }
    return a;
  });
  // --- the boundary: scores interpolated between grid points, coloured by the class they pick
  function boundary(j) {
    var f = fields[j], n = D.resolution, k = D.outputs, W = canvas.width, H = canvas.height;
    var img = ctx.createImageData(W, H), bg = rgb(css("--panel").length === 7 ?
                                                  css("--panel") : "#ffffff");
    var cls = new Int8Array(W * H);
    for (var py = 0; py < H; py++) {
      var gy = (1 - py / (H - 1)) * (n - 1), y0 = Math.min(Math.floor(gy), n - 2), ty = gy - y0;
      for (var px = 0; px < W; px++) {
        var gx = px / (W - 1) * (n - 1), x0 = Math.min(Math.floor(gx), n - 2), tx = gx - x0;
        var best = -1, bestScore = -Infinity;
        for (var c = 0; c < k; c++) {
          var o = c * n * n, i00 = o + y0 * n + x0;
          var s = (f[i00] * (1 - tx) + f[i00 + 1] * tx) * (1 - ty) +
                  (f[i00 + n] * (1 - tx) + f[i00 + n + 1] * tx) * ty;
          if (k === 1) { best = s > 0 ? 1 : 0; break; }
          if (s > bestScore) { bestScore = s; best = c; }
        }
        cls[py * W + px] = best;
      }
    }
    for (var p = 0; p < W * H; p++) {
      var col = rgb(D.colors[cls[p] % D.colors.length]);
      var edge = (p % W > 0 && cls[p - 1] !== cls[p]) || (p >= W && cls[p - W] !== cls[p]);
      var a = edge ? 0.9 : 0.22;
      for (var ch = 0; ch < 3; ch++) {
        img.data[4 * p + ch] = Math.round(bg[ch] * (1 - a) + col[ch] * a);
      }
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    var e = D.extent;
    D.points.forEach(function (pt) {
      var x = (pt[0] - e[0]) / (e[1] - e[0]) * (W - 1), y = (1 - (pt[1] - e[2]) /
                                                               (e[3] - e[2])) * (H - 1);
      ctx.beginPath();
      ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = D.colors[pt[2] % D.colors.length];
      ctx.fill();
      ctx.lineWidth = 0.8;
      ctx.strokeStyle = "#000000";
      ctx.stroke();
    });
  }
  // --- the loss curve, drawn once; the marker moves
  var L = {left: 52, right: 12, top: 12, bottom: 34};
  var losses = D.loss.filter(function (v) { return v !== null; });
  var logScale = losses.length && Math.min.apply(null, losses) > 0;
  var lo = Math.min.apply(null, losses), hi = Math.max.apply(null, losses);
  if (logScale) { lo = Math.log10(lo); hi = Math.log10(hi); }
  if (hi === lo) { hi = lo + 1; }
  function lx(step) {
    var w = +lossSvg.getAttribute("width") - L.left - L.right;
    return L.left + step / Math.max(D.loss.length - 1, 1) * w;
  }
  function ly(v) {
    var h = +lossSvg.getAttribute("height") - L.top - L.bottom;
    var t = ((logScale ? Math.log10(v) : v) - lo) / (hi - lo);
    return L.top + (1 - t) * h;
  }
  var marker, dot;
  function lossCurve() {
    var W = +lossSvg.getAttribute("width"), H = +lossSvg.getAttribute("height");
    el(lossSvg, "line", {x1: L.left, y1: H - L.bottom, x2: W - L.right, y2: H - L.bottom,
                         stroke: css("--muted")});
    el(lossSvg, "line", {x1: L.left, y1: L.top, x2: L.left, y2: H - L.bottom,
                         stroke: css("--muted")});
    var ticks = [lo, hi];
    if (logScale) {  // and every power of 10 between, away from the ends
      for (var e = Math.ceil(lo); e <= Math.floor(hi); e++) {
        if (Math.abs(e - lo) > 0.15 * (hi - lo) && Math.abs(e - hi) > 0.15 * (hi - lo)) {
          ticks.push(e);
        }
      }
    } else {
      ticks.push((lo + hi) / 2);
    }
    ticks.forEach(function (t) {
      var v = logScale ? Math.pow(10, t) : t;
      el(lossSvg, "text", {x: L.left - 4, y: ly(v) + 4, "text-anchor": "end"}, v.toPrecision(2));
    });
    el(lossSvg, "text", {x: W / 2, y: H - 6, "text-anchor": "middle"},
       "step (0 to " + (D.loss.length - 1) + ")" + (logScale ? ", loss on a log axis" : ""));
    var pts = [];
    D.loss.forEach(function (v, s) { if (v !== null) { pts.push(lx(s) + "," + ly(v)); } });
    el(lossSvg, "polyline", {points: pts.join(" "), fill: "none", stroke: css("--line"),
                             "stroke-width": 1.5, "class": "curve"});
    marker = el(lossSvg, "line", {y1: L.top, y2: H - L.bottom, stroke: css("--mark"),
                                  "stroke-dasharray": "4 3", "class": "marker"});
    dot = el(lossSvg, "circle", {r: 4.5, fill: css("--mark"), "class": "marker-dot"});
  }
  // --- gradient flow: per layer, mean |dL/dw| as a bar on a log axis, max as a tick
  var F = {left: 52, right: 12, top: 14, bottom: 52};
  var flowValues = [];
  D.flow.forEach(function (step) { step.forEach(function (l) {
    [l[0], l[1]].forEach(function (v) { if (v !== null && v > 0) { flowValues.push(v); } });
  }); });
  var fLo = Math.floor(Math.log10(Math.min.apply(null, flowValues.concat([1e-3]))));
  var fHi = Math.ceil(Math.log10(Math.max.apply(null, flowValues.concat([1e-3]))));
  if (fHi === fLo) { fHi = fLo + 1; }
  function fy(v) {
    var h = +flowSvg.getAttribute("height") - F.top - F.bottom;
    var t = (Math.log10(Math.max(v, Math.pow(10, fLo))) - fLo) / (fHi - fLo);
    return F.top + (1 - t) * h;
  }
  function flow(step) {
    while (flowSvg.firstChild) { flowSvg.removeChild(flowSvg.firstChild); }
    var W = +flowSvg.getAttribute("width"), H = +flowSvg.getAttribute("height");
    var layers = D.flow[Math.min(step, D.flow.length - 1)], n = layers.length;
    for (var e = fLo; e <= fHi; e++) {
      el(flowSvg, "line", {x1: F.left, x2: W - F.right, y1: fy(Math.pow(10, e)),
                           y2: fy(Math.pow(10, e)), stroke: css("--grid")});
      el(flowSvg, "text", {x: F.left - 4, y: fy(Math.pow(10, e)) + 4, "text-anchor": "end"},
         "1e" + e);
    }
    var slot = (W - F.left - F.right) / n;
    layers.forEach(function (l, i) {
      var x = F.left + i * slot + slot * 0.2, w = slot * 0.6, base = fy(Math.pow(10, fLo));
      var color = D.colors[i % D.colors.length];
      if (l[0] !== null && l[0] > 0) {
        el(flowSvg, "rect", {x: x, width: w, y: fy(l[0]), height: base - fy(l[0]),
                             fill: color, "fill-opacity": 0.75, "class": "bar"});
      }
      if (l[1] !== null && l[1] > 0) {
        el(flowSvg, "line", {x1: x, x2: x + w, y1: fy(l[1]), y2: fy(l[1]), stroke: color,
                             "stroke-width": 2.5, "class": "max"});
      }
      el(flowSvg, "text", {x: x + w / 2, y: H - F.bottom + 14, "text-anchor": "middle"},
         "layer " + (i + 1));
      el(flowSvg, "text", {x: x + w / 2, y: H - F.bottom + 28, "text-anchor": "middle"},
         Math.round(100 * l[2]) + "% dead, " + Math.round(100 * l[3]) + "% sat.");
    });
    el(flowSvg, "text", {x: W / 2, y: H - 6, "text-anchor": "middle"},
       "bar: mean |\\u2202L/\\u2202w|, tick: max (log axis)");
  }
  function show(j) {
    j = Math.max(0, Math.min(D.steps.length - 1, j));
    slider.value = j;
    var step = D.steps[j];
    boundary(j);
    marker.setAttribute("x1", lx(step));
    marker.setAttribute("x2", lx(step));
    if (D.loss[step] !== null) {
      dot.setAttribute("cx", lx(step));
      dot.setAttribute("cy", ly(D.loss[step]));
    }
    flow(step);
    var acc = D.accuracy[step];
    status.textContent = "step " + step + " of " + (D.loss.length - 1) + " \\u00b7 loss " +
      (D.loss[step] === null ? "?" : D.loss[step].toFixed(4)) +
      (acc === null ? "" : " \\u00b7 accuracy " + Math.round(100 * acc) + "%") +
      (D.lr[step] === null ? "" : " \\u00b7 lr " + D.lr[step].toPrecision(3));
  }
  lossCurve();
  slider.addEventListener("input", function () { show(+slider.value); });
  var timer = null, play = document.querySelector(".play");
  play.addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; play.innerHTML = "&#9654; Play"; return; }
    if (+slider.value >= D.steps.length - 1) { show(0); }
    play.innerHTML = "&#10073;&#10073; Pause";
    timer = setInterval(function () {
      if (+slider.value >= D.steps.length - 1) { play.click(); return; }
      show(+slider.value + 1);
    }, 80);
  });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }  // the slider moves itself
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      show(+slider.value + (event.key === "ArrowLeft" ? -1 : 1));
      event.preventDefault();
    }
  });
  show(0);
})();
</script>
</body>
</html>
"""

"""The outcomes page's plots, drawn with matplotlib as SVG text (no files, no pyplot state).

Each public function takes the aggregated results of `accretion.outcomes.analytics`
and returns an SVG document as a string; `data_uri` wraps one for an <img>
(the pages' Content-Security-Policy forbids inline styles, which matplotlib's
SVG uses, but allows data: images). The output is deterministic: a fixed
hash salt for the element ids, no date in the metadata, and text kept as
text (svg.fonttype "none"), so it stays selectable and searchable.

Drawing takes a few hundred milliseconds, so a drawn SVG is kept in Django's
cache under the SHA-256 of exactly the numbers and labels it is drawn from:
the same figures are drawn once, and any change in the data gives a new key
(never a stale plot).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

from django.core.cache import cache
from matplotlib import rc_context
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from accretion.outcomes.analytics import RESPONDER_TIME_POINTS, Report, time_point_label

__all__ = ["data_uri", "funnel_svg", "render_all", "responders_svg", "trajectories_svg"]

VERSION = "6"  # change when the drawing changes: cached plots of the old drawing are then not used
CACHE_SECONDS = 7 * 24 * 3600
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "accretion-outcomes",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titley": 1.01,  # a fixed place: matplotlib otherwise measures every tick label to place the title
}
COLOURS = {"nrs": "#c62828", "odi": "#1565c0", "ndi": "#2e7d32", "3m": "#90caf9", "6m": "#42a5f5", "12m": "#0d47a1",
           "completed": "#1565c0", "missed": "#cfd8dc"}
WIDTH = 9.0  # inches
_LOCK = threading.Lock()  # rc_context changes process-wide settings while a figure is drawn


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _cached(name: str, data: tuple, draw: Callable[[tuple], Figure]) -> str:
    key = f"outcomes-plot:{name}:" + hashlib.sha256(repr((VERSION, data)).encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        with _LOCK, rc_context(STYLE):
            svg = _svg(draw(data))
        cache.set(key, svg, CACHE_SECONDS)
    return svg


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# --- Trajectories -----------------------------------------------------------------------------------------


def trajectories_svg(report: Report) -> str:
    """Mean NRS (left) and mean ODI and NDI (right) at each time point, with 95 % confidence bands."""
    data = tuple((time_point_label(t.key, short=True),
                  tuple((name, m.mean, m.low, m.high) if (m := t.means.get(name)) else (name, None, None, None)
                        for name in ("nrs", "odi", "ndi")))
                 for t in report.time_points)
    return _cached("trajectories", data, _draw_trajectories)


def _draw_trajectories(data: tuple) -> Figure:
    labels = [label for label, _ in data]
    x = list(range(len(data)))
    figure = Figure(figsize=(WIDTH, 3.7), layout="constrained")
    pain, function = figure.subplots(1, 2)
    for axes, names, top, title in ((pain, ("nrs",), 10, "Pain (NRS, 0–10)"),
                                    (function, ("odi", "ndi"), 100, "Disability (ODI, NDI, 0–100 %)")):
        for name in names:
            series = [(i, values) for i, (_, means) in zip(x, data) for values in means
                      if values[0] == name and values[1] is not None]
            if not series:
                continue
            axes.plot([i for i, _ in series], [v[1] for _, v in series], marker="o", color=COLOURS[name],
                      label=f"{name.upper()} mean", linewidth=1.8)
            if any(v[2] is not None for _, v in series):
                # NaN where a time point has no interval (a single score): the band breaks there instead of
                # being drawn across it as if the interval were known.
                nan = float("nan")
                # The bounds are already clipped to the instrument's scale (statistics.mean_ci).
                axes.fill_between([i for i, _ in series], [nan if v[2] is None else v[2] for _, v in series],
                                  [nan if v[3] is None else v[3] for _, v in series], color=COLOURS[name],
                                  alpha=0.18, linewidth=0, label=f"{name.upper()} 95 % CI")
        axes.set_title(title, loc="left")
        axes.set_xticks(x, labels)
        axes.set_xlim(-0.4, max(0.4, len(data) - 0.6))
        axes.set_ylim(0, top)
        axes.set_ylabel("mean score (lower is better)")
        axes.grid(axis="y", color="#e0e0e0", linewidth=0.6)
        if not axes.lines:
            axes.text(0.5, 0.5, "no scores yet", transform=axes.transAxes, ha="center", color="#757575")
    if pain.lines or function.lines:
        _legend_below(figure, ncols=6)
    return figure


def _legend_below(figure: Figure, **options) -> None:
    """One legend for the figure, outside and below the axes: it can never cover a title or the data."""
    figure.legend(frameon=False, fontsize=8, loc="outside lower center", **options)


# --- Funnel -----------------------------------------------------------------------------------------------


def funnel_svg(report: Report) -> str:
    """Questionnaires completed at each time point, of those closed (or answered): the attrition funnel."""
    data = tuple((t.label, t.closed, t.completed, t.completion_text) for t in report.time_points)
    return _cached("funnel", data, _draw_funnel)


def _draw_funnel(data: tuple) -> Figure:
    height = 0.42 * max(len(data), 2) + 1.0
    figure = Figure(figsize=(WIDTH, height + 0.3), layout="constrained")
    axes = figure.subplots()
    y = list(range(len(data)))[::-1]
    top = max([closed for _, closed, _, _ in data] + [1])
    axes.barh(y, [closed for _, closed, _, _ in data], color=COLOURS["missed"], label="closed, not completed",
              height=0.7)
    axes.barh(y, [completed for _, _, completed, _ in data], color=COLOURS["completed"], label="completed",
              height=0.7)
    for row, (_, closed, completed, share) in zip(y, data):
        note = f"{completed:,} of {closed:,} ({share})" if closed else "still open"
        axes.text(max(closed, completed) + top * 0.01, row, note, va="center", fontsize=8)
    axes.set_yticks(y, [label for label, *_ in data])
    axes.set_xlim(0, top * 1.25)
    axes.set_ylim(-0.6, len(data) - 0.4)
    axes.set_xlabel("questionnaires (one per procedure)")
    axes.set_title("Questionnaires completed, of those closed", loc="left")
    _legend_below(figure, ncols=2)
    return figure


# --- Responders by stratum --------------------------------------------------------------------------------


def responders_svg(report: Report) -> str:
    """Function responders (ODI or NDI) at 3, 6 and 12 months, overall and in every stratum value.

    A value with fewer than 10 patients has no bar and says "too few" (and its complement "hidden", see
    analytics.suppress_complements); one without follow-up scores, "no data".
    """
    def cells(rates: dict) -> tuple:
        return tuple((key, rates[key].percent, rates[key].text) for key in RESPONDER_TIME_POINTS)

    rows = [("All procedures", None), ("Overall", cells({t.key: t.function for t in report.responder_time_points}))]
    for stratum in report.strata:
        if stratum.values:
            rows.append((stratum.title, None))
            rows.extend((v.label, cells({k: v.cell(k)[0] for k in RESPONDER_TIME_POINTS})) for v in stratum.values)
    return _cached("responders", tuple(rows), _draw_responders)


def _draw_responders(rows: tuple) -> Figure:
    bar = 0.26
    height = 0.34 * len(rows) + 1.0
    figure = Figure(figsize=(WIDTH, height + 0.3), layout="constrained")
    axes = figure.subplots()
    positions = list(range(len(rows)))[::-1]
    rectangles, colours = [], []  # one collection: far cheaper to draw than a patch per bar
    half = bar * 0.46
    for offset, key in zip((bar, 0, -bar), RESPONDER_TIME_POINTS):
        for y, (_, cells) in zip(positions, rows):
            for _, percent, text in (cell for cell in cells or () if cell[0] == key):
                if percent is not None:
                    middle = y + offset
                    rectangles.append([(0, middle - half), (percent, middle - half), (percent, middle + half),
                                       (0, middle + half)])
                    colours.append(COLOURS[key])
                else:
                    axes.text(0.8, y + offset, f"{time_point_label(key, short=True)}: {text}",
                              va="center", fontsize=6.5, color="#616161", style="italic")
    axes.add_collection(PolyCollection(rectangles, facecolors=colours, linewidths=0))
    # Row labels as plain text at the left of the axes: ~40 tick objects (each with lines and labels) cost more.
    labels_at = axes.get_yaxis_transform()  # x in axes fraction, y in data
    for y, (label, cells) in zip(positions, rows):
        axes.text(-0.01, y, label, transform=labels_at, ha="right", va="center", fontsize=9,
                  fontweight="bold" if cells is None else "normal")
    axes.set_yticks([])
    axes.set_xlim(0, 105)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_xlabel("function responders (%): ODI or NDI improved by the minimal important change")
    axes.set_title("Function responders by stratum", loc="left")
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    _legend_below(figure, handles=[Patch(color=COLOURS[key], label=time_point_label(key))
                                   for key in RESPONDER_TIME_POINTS], ncols=3)
    return figure


def render_all(report: Report) -> dict[str, str]:
    """The three plots as data: URIs, keyed trajectories, funnel, responders."""
    return {"trajectories": data_uri(trajectories_svg(report)), "funnel": data_uri(funnel_svg(report)),
            "responders": data_uri(responders_svg(report))}

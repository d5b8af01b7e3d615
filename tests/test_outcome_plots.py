"""Confidence intervals stay within the instrument's scale; plot legends never cover a title or the axes."""

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg

from accretion.clinical import statistics
from accretion.clinical.instruments import SCALES
from accretion.outcomes import plots


def test_an_interval_near_the_floor_or_ceiling_is_clipped():
    # Pain scores 0, 0, 0, 1: the t interval runs below 0; ODI 100, 100, 96: above 100.
    low = statistics.mean_ci(4, 1, 1, scale=SCALES["nrs"])
    assert low.low == 0 and 0 < low.high < 10 and low.mean == 0.25
    unclipped = statistics.mean_ci(4, 1, 1)
    assert unclipped.low < 0 and unclipped.high == low.high
    high = statistics.mean_ci(3, 296, 100**2 * 2 + 96**2, scale=SCALES["odi"])
    assert high.high == 100 and high.low < high.mean < 100
    # At the very boundary, all scores equal: a zero-width interval at the bound.
    floor = statistics.mean_ci(5, 0, 0, scale=(0, 10))
    assert (floor.low, floor.mean, floor.high) == (0, 0, 0)
    ceiling = statistics.mean_ci(5, 50, 500, scale=(0, 10))
    assert (ceiling.low, ceiling.mean, ceiling.high) == (10, 10, 10)


def test_the_analytics_tables_read_clipped_intervals():
    from accretion.outcomes.analytics import TimePoint

    means = {"nrs": statistics.mean_ci(4, 1, 1, scale=SCALES["nrs"]), "odi": None, "ndi": None}
    point = TimePoint("baseline", 4, 4, 4, means, None, None)
    assert point.mean_cells[0]["interval"].startswith("0.0–")


@given(st.sampled_from(sorted(SCALES)), st.data())
def test_a_clipped_interval_is_within_the_scale_and_contains_the_mean(name, data):
    bottom, top = SCALES[name]
    scores = data.draw(st.lists(st.integers(bottom, top), min_size=1, max_size=40))
    ci = statistics.mean_ci(len(scores), sum(scores), sum(s * s for s in scores), scale=(bottom, top))
    assert bottom <= ci.mean <= top
    if len(scores) > 1:
        assert bottom <= ci.low <= ci.mean <= ci.high <= top


TRAJECTORIES = (("Baseline", (("nrs", 6.5, 5.8, 7.2), ("odi", 42.0, 38.0, 46.0), ("ndi", 30.0, 24.0, 36.0))),
                ("3 mo", (("nrs", 3.1, 0.0, 6.0), ("odi", 25.0, 19.0, 31.0), ("ndi", 20.0, 12.0, 28.0))),
                ("6 mo", (("nrs", 2.4, 1.7, 3.1), ("odi", 20.0, 15.0, 25.0), ("ndi", None, None, None))))
FUNNEL = (("Baseline", 40, 38, "95 %"), ("3 months", 36, 30, "83 %"), ("6 months", 20, 12, "60 %"))
RESPONDERS = (("All procedures", None), ("Overall", (("3m", 55.0, "55 %"), ("6m", 60.0, "60 %"), ("12m", None, "no data"))),
              ("Indication", None), ("Facet joint osteoarthritis", (("3m", 50.0, "50 %"), ("6m", 62.0, "62 %"),
                                                                     ("12m", None, "too few"))))


@pytest.mark.parametrize("name, draw, data", [
    ("trajectories", plots._draw_trajectories, TRAJECTORIES),
    ("funnel", plots._draw_funnel, FUNNEL),
    ("responders", plots._draw_responders, RESPONDERS),
])
def test_legends_do_not_overlap_titles_or_axes(name, draw, data):
    with rc_context(plots.STYLE):
        figure = draw(data)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        legends = [*figure.legends, *(a.get_legend() for a in figure.axes if a.get_legend())]
        assert legends
        titles = [t.get_window_extent(renderer) for a in figure.axes for t in (a.title, a._left_title, a._right_title)
                  if t.get_text()]
        assert titles
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for title in titles:
                assert not box.overlaps(title), name
            for axes in figure.axes:
                assert not box.overlaps(axes.get_window_extent(renderer)), name
        folder = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots"))
        folder.mkdir(parents=True, exist_ok=True)
        figure.savefig(folder / f"plot-{name}.png", dpi=90)

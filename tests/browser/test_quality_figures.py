"""The timeline's quality figures in a real browser: each group of figures
says its sample count and feature space, and other spaces or n stay apart."""

from __future__ import annotations

import pytest

from tests.browser.helpers import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def _figure(metric, value, n, space, label):
    return {
        "metric": metric,
        "value": value,
        "n": n,
        "space": space,
        "space_label": label,
        "column": f"{metric} | {space} | n={n}",
    }


def test_figures_say_their_n_and_space_and_other_spaces_stay_apart(window, page, alice):
    own = "a small net trained on this dataset's rotation prediction (16 px)"
    figures = {
        "figures": [
            _figure("precision", 0.8125, 40, "dataset-rotation", own),
            _figure("recall", 0.5, 40, "dataset-rotation", own),
            _figure("inception_fid", 123.456, 40, "inception-v3", "Inception-v3"),
        ],
        "notes": [],
    }
    sign_in(window, alice)
    page.goto("/jobs/new/")  # any signed-in page; the scripts are static
    page.add_script_tag(url="/static/js/quality_figures.js")
    page.add_script_tag(url="/static/js/timeline.js")
    text = page.evaluate(
        """(figures) => {
          const list = document.createElement("ol");
          document.body.append(list);
          const timeline = new window.GanTimeline(list, null);
          timeline.figures(2, figures);
          timeline.add(2);
          return list.querySelector(".timeline-figures").textContent;
        }""",
        figures,
    )
    assert text == (
        f"precision 81.3%, recall 50.0% (n=40; {own}) · "
        "Inception FID 123.46 (n=40; Inception-v3)"
    )

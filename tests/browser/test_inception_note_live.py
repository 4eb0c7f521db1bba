"""A refused Inception file, reported live: the job page's one hidden note
(the real template partial) is shown with the worker's reason when such
figures arrive, and the checkpoint's own text does not repeat it."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from tests.browser.helpers import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_figures_with_a_refused_inception_file_show_the_pages_note(window, page, alice):
    note = render_to_string(
        "jobs/_inception_note.html", {"show": False, "configured": True}
    )
    reason = "the Inception weights file w.pth is not the standard one"
    figures = {
        "figures": [
            {
                "metric": "precision",
                "value": 0.5,
                "n": 8,
                "space": "dataset-rotation",
                "space_label": "a small net",
                "column": "precision | dataset-rotation | n=8",
            }
        ],
        "notes": [],
        "inception_note": reason,
    }
    sign_in(window, alice)
    page.goto("/jobs/new/")  # any signed-in page; the scripts are static
    page.add_script_tag(url="/static/js/quality_figures.js")
    page.add_script_tag(url="/static/js/timeline.js")
    shown = page.evaluate(
        """([note, figures]) => {
          document.body.insertAdjacentHTML("beforeend", note);
          const element = document.getElementById("inception-note");
          const before = element.hidden;
          const list = document.createElement("ol");
          document.body.append(list);
          const timeline = new window.GanTimeline(list, null);
          timeline.add(2);
          timeline.figures(2, figures);
          return {
            before,
            after: element.hidden,
            text: element.textContent,
            notes: document.querySelectorAll("#inception-note").length,
            checkpoint: list.querySelector(".timeline-figures").textContent,
          };
        }""",
        [note, figures],
    )
    assert shown["before"] is True and shown["after"] is False
    assert shown["notes"] == 1
    assert f"not measured for this job: {reason}, so it was not used" in shown["text"]
    assert "Inception" not in shown["checkpoint"]
    assert shown["checkpoint"] == "precision 50.0% (n=8; a small net)"

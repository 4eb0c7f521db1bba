"""What the browser tests share: signing in, axe-core, test data, job helpers."""

from __future__ import annotations

import io
import json
import random
import time
import zipfile
from pathlib import Path

import requests
from PIL import Image, ImageDraw

# PASSWORD and api_token reach the browser tests from here too.
from tests.conftest import PASSWORD, api_token, session_cookie_for  # noqa: F401
from tests.deadlines import Deadline, scaled

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
BLOCKING_IMPACTS = ("serious", "critical")


# -- people -----------------------------------------------------------------


def sign_in(window, user) -> None:
    """Give the window a real session for ``user`` (no trip through the form)."""
    name, value = session_cookie_for(user).split("=", 1)
    window.context.add_cookies([{"name": name, "value": value, "url": window.base_url}])


# -- accessibility ----------------------------------------------------------


def axe_violations(page, impacts=BLOCKING_IMPACTS) -> list[dict]:
    """axe-core's violations on the page as it is now, of the given impacts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_SOURCE)
    violations = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => ({
              target: n.target.join(" "), summary: n.failureSummary,
            })),
          }));
        }"""
    )
    return [v for v in violations if v["impact"] in impacts]


def assert_accessible(page, what: str) -> None:
    """No serious or critical axe-core violation on ``page``."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on the {what} page:\n" + json.dumps(
        violations, indent=2
    )


# -- data -------------------------------------------------------------------


def shapes_zip(per_class: int = 6, size: int = 48, seed: int = 0) -> bytes:
    """A zip with two class folders of small PNGs: circles/ and squares/.

    Each image has a noisy background, so the archive is some tens of kB and an
    upload throttled in the test takes long enough to show its progress bar.
    """
    rng = random.Random(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for label in ("circles", "squares"):
            for index in range(per_class):
                image = Image.new("RGB", (size, size))
                image.putdata(
                    [
                        tuple(rng.randrange(40, 90) for _ in range(3))
                        for _ in range(size * size)
                    ]
                )
                draw = ImageDraw.Draw(image)
                r = rng.randrange(size // 5, size // 3)
                cx, cy = rng.randrange(r, size - r), rng.randrange(r, size - r)
                colour = tuple(rng.randrange(150, 256) for _ in range(3))
                box = (cx - r, cy - r, cx + r, cy + r)
                if label == "circles":
                    draw.ellipse(box, fill=colour)
                else:
                    draw.rectangle(box, fill=colour)
                png = io.BytesIO()
                image.save(png, format="PNG")
                archive.writestr(f"{label}/{label}-{index}.png", png.getvalue())
    return buffer.getvalue()


# Records every WebSocket message of the tab in sessionStorage, so a test can
# see what arrived live even across the reload a settled dataset page does.
WS_RECORDER = """
(() => {
  const Native = window.WebSocket;
  const KEY = "gan-test-ws-log";
  const log = (entry) => {
    const all = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    all.push(entry);
    sessionStorage.setItem(KEY, JSON.stringify(all));
  };
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", (m) => log({url: String(url), data: m.data}));
    }
  };
})();
"""


def recorded_socket_messages(page) -> list[dict]:
    """What the page's sockets received, kept in sessionStorage across the
    reloads a page does by itself (a dataset page reloads once it settles)."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            raw = page.evaluate(
                "() => sessionStorage.getItem('gan-test-ws-log') || '[]'"
            )
            break
        except Error as exc:  # read during such a reload: read it after
            if "context was destroyed" not in str(exc) or attempt == 2:
                raise
            page.wait_for_load_state()
    return [
        {"url": entry["url"], **json.loads(entry["data"])} for entry in json.loads(raw)
    ]


# -- jobs -------------------------------------------------------------------


def submit_job(base_url: str, token: str, data_ref: str, model: str, config: dict):
    response = requests.post(
        f"{base_url}/api/jobs/",
        json={"dataset": data_ref, "model": model, "config": config},
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(30),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def wait_for_job(job_id: int, states=("finished",), timeout: float = 120):
    """The job once it reaches one of ``states`` (fails fast on a failure)."""
    from ganweb.jobs.models import Job

    deadline = Deadline(timeout)
    job = Job.objects.get(pk=job_id)
    while not deadline.passed:
        job = Job.objects.get(pk=job_id)
        if job.state in states:
            return job
        assert job.state != "failed", f"job {job_id} failed: {job.error}"
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} stayed {job.state}, wanted {states}")


def dashboard_counts(page) -> dict:
    """What the live job dashboard has drawn so far."""
    # Right after a navigation the page's scripts may not have run yet.
    page.wait_for_function("() => window.ganDashboard !== undefined")
    return page.evaluate(
        """() => ({
          events: window.ganDashboard.events,
          connects: window.ganDashboard.connects,
          points: window.ganDashboard.lossChart.count(),
          progress: Number(document.getElementById("job-progress").value),
          state: window.ganDashboard.state(),
          error: document.getElementById("job-error").textContent,
        })"""
    )


def wait_until(check, timeout: float = 30, every: float = 0.2, what=""):
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = Deadline(timeout)
    value = None
    while not deadline.passed:
        value = check()
        if value:
            return value
        time.sleep(every)
    if callable(what):  # a description worth computing only on failure
        what = what()
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or check} (last: {value!r})"
    )

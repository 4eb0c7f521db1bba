"""The studio a practitioner expects: a job form that knows the data, charts
worth reading (uPlot, served from static/), and runs side by side.

Jobs here are rows made in the database with stored points (no training):
the pages only read what a run left behind.
"""

from __future__ import annotations

import io
import math
import random
import re
import zipfile

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import (
    api_token,
    assert_accessible,
    dashboard_counts,
    shapes_zip,
    sign_in,
    wait_until,
)
from tests.deadlines import scaled

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def watch_hosts(window) -> list[str]:
    """Every URL the window's pages ask for (requests and sockets)."""
    seen = []
    window.context.on("request", lambda request: seen.append(request.url))
    window.context.on(
        "page", lambda page: page.on("websocket", lambda ws: seen.append(ws.url))
    )
    return seen


def assert_same_host(seen: list[str], base_url: str) -> None:
    host = base_url.split("://", 1)[1]
    foreign = [
        url
        for url in seen
        if not re.match(rf"(https?|wss?)://{re.escape(host)}/", url)
        and not url.startswith(("blob:", "data:"))
    ]
    assert seen and not foreign, f"requests to other hosts: {foreign}"


# -- data -------------------------------------------------------------------


def noise_png(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    image.putdata([tuple(rng.randrange(256) for _ in range(3))] * (size * size))
    image.putpixel((0, 0), (seed % 256, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(base_url: str, token: str, name: str, archive: bytes) -> int:
    response = requests.post(
        f"{base_url}/api/datasets/",
        files={"file": (f"{name}.zip", archive, "application/zip")},
        data={"name": name},
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(30),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stored_job(owner, *, name: str, lr: float, steps: int = 60, figures=None):
    """A finished GAN job with a loss curve, D outputs and one sample grid
    (and a checkpoint with ``figures`` when given)."""
    from ganweb.jobs.data_sources import job_media_dir
    from ganweb.jobs.models import Checkpoint, Job, MetricPoint, Sample

    job = Job.objects.create(
        owner=owner,
        name=name,
        note=f"lr {lr}",
        data_ref="builtin:ring8",
        family="gan",
        config={"steps": steps, "lr_g": lr, "batch_size": 256},
        total_steps=steps,
        step=steps,
        state="finished",
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(job=job, step=step, values=point_values(step, lr))
        for step in range(1, steps + 1)
    )
    folder = job_media_dir(job.pk) / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "step_60.png").write_bytes(noise_png(16, job.pk))
    Sample.objects.create(
        job=job, step=60, image=f"/jobs/{job.pk}/files/samples/step_60.png"
    )
    if figures is not None:
        Checkpoint.objects.create(job=job, step=60, path="", figures=figures)
    return job


def point_values(step: int, lr: float) -> dict:
    wobble = 1000 * lr
    return {
        "loss_d": round(1 + 0.5 * math.sin(step / 4) * wobble, 3),
        "loss_g": round(2 + 0.4 * math.cos(step / 3), 3),
        "d_real": round(0.6 + 0.1 * math.sin(step / 5), 3),
        "d_fake": round(0.4 - 0.1 * math.sin(step / 5), 3),
    }


def tensorboard_smooth(values: list[float], weight: float) -> list[float]:
    last, out = 0.0, []
    for n, value in enumerate(values, start=1):
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight**n))
    return out


# -- the job form -----------------------------------------------------------


def test_the_form_recommends_from_the_data_and_remembers_advanced(
    window, page, shots, live_stack, alice
):
    seen = watch_hosts(window)
    token = api_token(live_stack.url, alice)
    sets = {
        "photos": zip_of({f"face{i}.png": noise_png(64, i) for i in range(8)}),
        "shapes": shapes_zip(per_class=4, size=48, seed=3),
        "ab": zip_of(
            {
                f"{d}/{i}.png": noise_png(40, 100 + 10 * ord(d) + i)
                for d in "AB"
                for i in range(4)
            }
        ),
    }
    ids = {
        name: upload(live_stack.url, token, name, data) for name, data in sets.items()
    }
    from ganweb.datasets.models import Dataset

    wait_until(
        lambda: (
            set(
                Dataset.objects.filter(pk__in=ids.values()).values_list(
                    "state", flat=True
                )
            )
            == {"ready"}
        ),
        timeout=scaled(60),
        what="the three datasets to be processed",
    )
    sign_in(window, alice)
    family_tabs = page.get_by_role("navigation", name="Model family")
    for name, family, title, size in (
        ("photos", "dcgan", "DCGAN", "64"),
        ("shapes", "cgan", "Conditional GAN", "32"),
        ("ab", "cyclegan", "CycleGAN", "32"),
    ):
        page.goto(f"/jobs/new/?dataset={ids[name]}")
        current = family_tabs.locator("[aria-current=page]")
        expect(current).to_contain_text(title)
        expect(current).to_contain_text("recommended")
        expect(page.locator("#job-form input[name=model]")).to_have_value(family)
        expect(page.locator("#id_image_size")).to_have_value(size)
        shots(page, f"form-{name}")

    # Advanced starts closed; opened, it stays open on the next visit.
    advanced = page.locator("#advanced-settings")
    beta1 = page.locator("#id_beta1")
    expect(beta1).to_be_hidden()
    expect(page.locator("#id_steps")).to_be_visible()
    advanced.locator("summary").click()
    expect(beta1).to_be_visible()
    page.reload()
    expect(beta1).to_be_visible()
    advanced.locator("summary").click()
    expect(beta1).to_be_hidden()
    page.reload()
    expect(beta1).to_be_hidden()
    window.watch.assert_clean()
    assert_same_host(seen, live_stack.url)


# -- charts -----------------------------------------------------------------


def legend_value(page, chart_id: str, label: str) -> str:
    return page.evaluate(
        """([id, label]) => {
          const rows = [...document.querySelectorAll(`#${id} .u-legend .u-series`)];
          const row = rows.find(
            (r) => r.querySelector(".u-label").textContent === label);
          return row ? row.querySelector(".u-value").textContent : null;
        }""",
        [chart_id, label],
    )


def hover_step(page, chart: str, step: int) -> None:
    x, y = page.evaluate(
        """([chart, step]) => {
          const plot = window.ganDashboard[chart].plot;
          const box = plot.over.getBoundingClientRect();
          return [box.left + plot.valToPos(step, "x"), box.top + box.height / 2];
        }""",
        [chart, step],
    )
    page.mouse.move(x, y)


def test_charts_show_stored_values_zoom_and_smooth(
    window, page, shots, live_stack, alice
):
    seen = watch_hosts(window)
    figures = {"modes": 7, "of": 8, "high_quality": 0.5}
    job = stored_job(alice, name="wobbly", lr=1e-3, figures=figures)
    sign_in(window, alice)
    page.goto(f"/jobs/{job.pk}/")
    wait_until(lambda: dashboard_counts(page)["points"] == 120, what="the points")
    page.wait_for_function("() => window.ganDashboard.lossChart.plot !== null")

    # Values under the pointer are the stored values of that step.
    for step in (17, 42):
        hover_step(page, "lossChart", step)
        want = point_values(step, 1e-3)
        expect(page.locator("#loss-chart .u-legend .u-series").first).to_contain_text(
            str(step)
        )
        assert float(legend_value(page, "loss-chart", "d")) == want["loss_d"]
        assert float(legend_value(page, "loss-chart", "g")) == want["loss_g"]
        hover_step(page, "dChart", step)
        assert float(legend_value(page, "d-chart", "D(x)")) == want["d_real"]

    # A drag zooms into the steps under it; a double-click shows them all again.
    def x_range():
        return page.evaluate(
            "() => { const s = window.ganDashboard.lossChart.plot.scales.x;"
            " return [s.min, s.max]; }"
        )

    def pixels():
        return page.evaluate(
            "() => window.ganDashboard.lossChart.plot.ctx.canvas.toDataURL()"
        )

    full, before = x_range(), pixels()
    box = page.locator("#loss-chart .u-over").bounding_box()
    mid = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, mid)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, mid, steps=5)
    page.mouse.up()
    zoomed = x_range()
    assert full[0] < zoomed[0] < zoomed[1] < full[1], (full, zoomed)
    assert pixels() != before
    page.mouse.dblclick(box["x"] + box["width"] * 0.5, mid)
    wait_until(lambda: x_range() == full, timeout=scaled(5), what="the zoom reset")

    # Smoothing draws TensorBoard's debiased EMA next to the faint raw curve.
    raw = page.evaluate("() => window.ganDashboard.lossChart.plot.data.slice(1)")
    page.get_by_role("slider", name="smoothing of Losses").fill("0.6")
    drawn = page.evaluate("() => window.ganDashboard.lossChart.plot.data.slice(1)")
    assert len(drawn) == 2 * len(raw) and drawn[: len(raw)] == raw
    names = page.evaluate("() => window.ganDashboard.lossChart.names()")
    d_raw = drawn[names.index("d")]
    d_smooth = drawn[len(raw) + names.index("d")]
    assert d_smooth != d_raw
    assert d_smooth == pytest.approx(tensorboard_smooth(d_raw, 0.6), rel=1e-9)

    # The timeline's numeric figures are charted with the same helper; the
    # count they are out of is said in the text, not charted.
    expect(page.locator("#figures-chart")).to_be_visible()
    charted = page.evaluate(
        "() => [window.ganDashboard.figuresChart.names(),"
        " window.ganDashboard.figuresChart.plot.data]"
    )
    assert charted == [["modes", "high_quality"], [[60], [7], [0.5]]]
    shots(page, "charts-smoothed")
    # Log scale, and the downloads.
    page.get_by_role("checkbox", name="log scale for Losses").check()
    assert page.evaluate("() => window.ganDashboard.lossChart.plot.scales.y.distr") == 3
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download Losses as CSV").click()
    lines = open(csv_download.value.path()).read().splitlines()
    assert lines[0] == '"step","d","g"'
    want = point_values(17, 1e-3)
    assert [float(v) for v in lines[17].split(",")] == [
        17,
        want["loss_d"],
        want["loss_g"],
    ]
    with page.expect_download() as png_download:
        page.get_by_role("button", name="Download Losses as PNG").click()
    assert open(png_download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert_accessible(page, "job with charts")
    window.watch.assert_clean()
    assert_same_host(seen, live_stack.url)


# -- compare ----------------------------------------------------------------


def test_compare_two_runs_and_bob_cannot_open_them(
    open_window, shots, live_stack, alice, bob
):
    first = stored_job(alice, name="slow lr", lr=2e-4)
    second = stored_job(alice, name="fast lr", lr=1e-3)
    window = open_window()
    seen = watch_hosts(window)
    sign_in(window, alice)
    page = window.new_page()
    page.goto("/jobs/")
    page.get_by_role("checkbox", name="Compare slow lr").check()
    page.get_by_role("checkbox", name="Compare fast lr").check()
    page.get_by_role("button", name="Compare selected").click()
    # The list is newest first, and so are the runs on the page.
    expect(page).to_have_url(
        re.compile(rf"/jobs/compare/\?ids={second.pk}&ids={first.pk}$")
    )
    page.wait_for_function(
        "() => window.ganCompare && window.ganCompare.lossChart.plot"
    )
    names = page.evaluate("() => window.ganCompare.lossChart.names()")
    assert names == [
        f"job {second.pk} · d",
        f"job {second.pk} · g",
        f"job {first.pk} · d",
        f"job {first.pk} · g",
    ]
    legend = page.locator("#compare-d .u-legend")
    for job in (first, second):
        expect(legend).to_contain_text(f"job {job.pk} · D(x)")
        expect(legend).to_contain_text(f"job {job.pk} · D(G(z))")
    lr_row = page.get_by_role("table", name="settings diff").locator(
        "tr.differs", has_text="lr_g"
    )
    expect(lr_row).to_contain_text("0.0002")
    expect(lr_row).to_contain_text("0.001")
    grids = page.get_by_role("table", name="sample grids").get_by_role("img")
    expect(grids).to_have_count(2)
    for index in range(2):
        grids.nth(index).scroll_into_view_if_needed()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0",
            arg=grids.nth(index).element_handle(),
        )
    shots(page, "compare")
    assert_accessible(page, "compare")
    window.watch.assert_clean()
    assert_same_host(seen, live_stack.url)

    intruder = open_window()
    sign_in(intruder, bob)
    intruder.watch.expect_status(r"/jobs/compare/", 404)
    other = intruder.new_page()
    response = other.goto(f"/jobs/compare/?ids={first.pk},{second.pk}")
    assert response.status == 404
    expect(other.get_by_text("slow lr")).to_have_count(0)
    intruder.watch.assert_clean()

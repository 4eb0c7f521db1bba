"""The journey of issue 8 in a real Chromium, from the landing page to a share link.

Each test is one or two steps of the journey and makes what it needs first
(a user, a dataset, a trained model), so a failure names the step that broke.
Every test saves screenshots of what a person would see and checks the pages
with axe-core, and no page may log an error or fail a request.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    PASSWORD,
    WS_RECORDER,
    api_token,
    assert_accessible,
    dashboard_counts,
    recorded_socket_messages,
    shapes_zip,
    sign_in,
    submit_job,
    wait_for_job,
    wait_until,
)
from tests.deadlines import scaled, scaled_ms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

# A conditional GAN small enough to train in seconds on a busy 2-core CPU.
TINY_CGAN = {
    "image_size": 16,
    "batch_size": 16,
    "g_channels": 16,
    "d_channels": 16,
    "steps": 80,
    "sample_every": 20,
    "checkpoint_every": 80,
}


def image_loaded(locator) -> bool:
    return locator.evaluate("(img) => img.complete && img.naturalWidth > 0")


# -- steps 1 and 2 ------------------------------------------------------------


def test_newcomer_signs_up_and_starts_a_first_model(page, watch, shots, live_stack):
    page.goto("/")
    expect(page).to_have_title(re.compile("GAN Studio"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Train GANs")
    shots(page, "landing")
    assert_accessible(page, "landing")

    page.get_by_role("link", name="Start for free").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    assert_accessible(page, "sign-up")
    # A mismatch first: the error shows next to its field and nothing is lost.
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD + "x")
    watch.expect_status(r"/accounts/signup/$", 400)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".field.has-error .error")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("newcomer")
    shots(page, "sign-up-error")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(f"{live_stack.url}/")
    expect(page.get_by_role("heading", name="Welcome, newcomer")).to_be_visible()
    for section in ("Your jobs", "Your datasets"):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    first_step = page.get_by_role("heading", name="Your first model, in one click")
    expect(first_step).to_be_visible()
    shots(page, "dashboard-new")
    assert_accessible(page, "dashboard")

    page.get_by_role("link", name="GAN on the 8-Gaussian ring").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ring of 8")
    shots(page, "first-step-form")
    page.get_by_role("button", name="Start training").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job_id = int(re.search(r"/jobs/(\d+)/$", page.url).group(1))
    wait_until(
        # Twenty points: a few steps of both losses, enough to draw a curve.
        lambda: (c := dashboard_counts(page))["points"] >= 20 and c["progress"] > 0,
        timeout=scaled(60),
        what=lambda: f"the first job to report progress: {dashboard_counts(page)}",
    )
    expect(page.locator("#job-state")).to_have_text("running")
    shots(page, "first-job-live")
    # The preset trains for minutes: stop it, which also shows Cancel works.
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-state")).to_have_text("cancelled", timeout=scaled_ms(30))
    wait_for_job(job_id, states=("cancelled",), timeout=30)

    page.get_by_role("link", name="GAN Studio").click()
    job_row = page.locator(".plain-list li", has_text="Ring of 8")
    expect(job_row).to_contain_text("cancelled")
    expect(first_step).to_have_count(0)
    shots(page, "dashboard-with-job")
    watch.assert_clean()
    # Checked last so the rest of the step is proven even while it is missing.
    expect(page.get_by_role("heading", name="Your galleries")).to_be_visible()


def test_sign_in_form_shows_errors_then_signs_in(page, watch, shots, alice):
    page.goto("/accounts/login/")
    assert_accessible(page, "sign-in")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username")
    shots(page, "sign-in-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, alice")).to_be_visible()
    watch.assert_clean()


# -- steps 3 and 4 ------------------------------------------------------------


def test_upload_a_zip_and_watch_it_process(
    window, page, watch, shots, alice, tmp_path, live_stack
):
    sign_in(window, alice)
    window.context.add_init_script(WS_RECORDER)
    archive = tmp_path / "shapes.zip"
    archive.write_bytes(shapes_zip(per_class=12))

    page.goto("/datasets/new/")
    assert_accessible(page, "upload")
    page.get_by_label("Name").fill("Shapes")
    page.get_by_label("or choose files").set_input_files(archive)
    expect(page.locator("#chosen")).to_contain_text("1 file")
    # Throttle the upload so the progress bar is on screen long enough to see.
    cdp = window.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": -1,
            "uploadThroughput": max(archive.stat().st_size // 3, 1024),
        },
    )
    # A fast worker would finish before the page opens: processing waits in
    # the queue until the dataset page is watching, as behind a busy worker.
    with live_stack.queue_paused("light"):
        page.get_by_role("button", name="Upload").click()
        progress = page.get_by_label("upload progress")
        expect(progress).to_be_visible()
        wait_until(
            lambda: 0 < progress.evaluate("(bar) => bar.value") < 100,
            timeout=scaled(10),
            every=0.05,
            what="the upload progress bar to move",
        )
        expect(page.locator("#upload-status")).to_contain_text("Uploading")
        shots(page, "uploading")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": -1,
            },
        )
        expect(page).to_have_url(re.compile(r"/datasets/\d+/$"), timeout=scaled_ms(30))
        wait_until(
            lambda: any(
                m.get("type") == "dataset.state" for m in recorded_socket_messages(page)
            ),
            what="the dataset page to open its socket",
        )

    expect(page.locator("#dataset-state")).to_have_text("ready", timeout=scaled_ms(60))
    states = [
        m["state"]
        for m in recorded_socket_messages(page)
        if m.get("type") == "dataset.state"
    ]
    assert states, "the dataset page never followed the processing live"
    assert states[0] in ("pending", "processing"), states
    assert states[-1] == "ready", states

    preview = page.get_by_role("img", name="A grid of thumbnails from Shapes")
    expect(preview).to_be_visible()
    wait_until(lambda: image_loaded(preview), what="the preview grid to load")
    expect(page.locator("#dataset-count")).to_contain_text("24 images")
    classes = page.get_by_role("list", name="images per class")
    expect(classes.locator("li", has_text="circles")).to_contain_text("12")
    expect(classes.locator("li", has_text="squares")).to_contain_text("12")
    shots(page, "dataset-ready")
    assert_accessible(page, "dataset")
    watch.assert_clean()


def upload_dataset(base_url: str, token: str) -> int:
    """A ready dataset of two classes, uploaded through the API."""
    import requests

    from ganweb.datasets.models import Dataset

    response = requests.post(
        f"{base_url}/api/datasets/",
        files={"file": ("shapes.zip", shapes_zip(per_class=8), "application/zip")},
        data={"name": "Shapes"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(30),
    )
    assert response.status_code == 201, response.text
    dataset_id = response.json()["id"]
    wait_until(
        lambda: Dataset.objects.get(pk=dataset_id).state == "ready",
        timeout=scaled(60),
        what="the dataset to be processed",
    )
    return dataset_id


def test_train_from_the_dataset_page_and_watch_it_live(
    window, page, watch, shots, live_stack, alice
):
    sign_in(window, alice)
    dataset_id = upload_dataset(live_stack.url, api_token(live_stack.url, alice))
    page.goto(f"/datasets/{dataset_id}/")
    page.get_by_role("link", name="Train on this").click()
    page.get_by_role("link", name="Conditional GAN").click()
    page.get_by_role("link", name="quick", exact=True).click()
    expect(page.get_by_role("heading", name="Conditional GAN")).to_be_visible()
    expect(page.locator("#id_image_size")).to_have_value("16")  # the preset's
    # Smaller than the preset so the whole run fits in the test's time; the
    # channel widths are under Advanced, closed in a new window.
    page.get_by_text("Advanced", exact=True).click()
    for name, value in TINY_CGAN.items():
        page.locator(f"#id_{name}").fill(str(value))
    shots(page, "new-job-form")
    page.get_by_role("button", name="Start training").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job_id = int(re.search(r"/jobs/(\d+)/$", page.url).group(1))
    page.evaluate("() => { window.__sameDocument = true; }")
    seen = [dashboard_counts(page)]

    def grew():
        now = dashboard_counts(page)
        if now != seen[-1]:
            seen.append(now)
        return now["state"] == "finished" and now

    final = wait_until(grew, timeout=120, every=0.1, what="the job to finish live")
    points = [c["points"] for c in seen]
    progress = [c["progress"] for c in seen]
    assert len(set(points)) >= 3, f"loss points did not grow step by step: {points}"
    assert len(set(progress)) >= 3, f"the progress bar did not move: {progress}"
    assert final["progress"] == TINY_CGAN["steps"]
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    sample = page.locator("#sample-image")
    expect(sample).to_be_visible()
    expect(page.locator("#sample-caption")).to_have_text(f"step {TINY_CGAN['steps']}")
    wait_until(lambda: image_loaded(sample), what="the last sample grid to load")
    assert page.evaluate("() => window.ganDashboard.samples.size") >= 2
    shots(page, "job-finished-live")
    assert_accessible(page, "job")
    wait_for_job(job_id)
    watch.assert_clean()


# -- steps 5 and 6 ------------------------------------------------------------


def test_play_with_a_model_then_share_and_revoke_a_gallery(
    open_window, shots, live_stack, alice
):
    job_id = submit_job(
        live_stack.url,
        api_token(live_stack.url, alice),
        "builtin:digits",
        "cgan",
        TINY_CGAN,
    )
    owner = open_window()
    sign_in(owner, alice)
    page = owner.new_page()
    wait_for_job(job_id, timeout=120)
    page.goto(f"/jobs/{job_id}/")
    page.get_by_role("link", name="Open playground").click()
    expect(page).to_have_url(re.compile(rf"/playground/{job_id}/"))

    samples = page.locator('.pg-section[data-action="sample"]')
    first = samples.locator(".pg-result img")
    expect(first).to_be_visible(timeout=scaled_ms(60))  # the page draws a first grid
    first_src = first.get_attribute("src")
    samples.get_by_label("Seed").fill("7")
    page.get_by_role("slider", name=re.compile("Truncation")).fill("0.5")
    expect(page.locator("#pg-psi-value")).to_have_text("0.50")
    samples.get_by_role("button", name="Draw").click()
    expect(samples.locator("figcaption")).to_contain_text(
        "Seeds 7", timeout=scaled_ms(60)
    )
    expect(samples.locator("figcaption")).to_contain_text("ψ 0.5")
    assert samples.locator(".pg-result img").get_attribute("src") != first_src
    wait_until(lambda: image_loaded(samples.locator(".pg-result img")))
    shots(page, "playground-seed-truncation")
    assert_accessible(page, "playground")

    grid = page.locator('.pg-section[data-action="class-grid"]')
    grid.get_by_role("button", name="Draw").click()
    expect(grid.locator("figcaption")).to_contain_text(
        "Classes 0, 1", timeout=scaled_ms(60)
    )
    wait_until(lambda: image_loaded(grid.locator(".pg-result img")))
    walk = page.locator('.pg-section[data-action="interpolate"]')
    walk.get_by_label("Frames").fill("8")
    walk.get_by_role("button", name="Animate").click()
    expect(walk.locator("figcaption")).to_contain_text(
        "8 frames", timeout=scaled_ms(60)
    )
    wait_until(lambda: image_loaded(walk.locator(".pg-result img")))
    grid.scroll_into_view_if_needed()
    shots(page, "playground-class-grid-interpolation")

    # Save the class grid to a new gallery.
    grid.get_by_role("button", name="Save to gallery").click()
    dialog = page.get_by_role("dialog", name="Save to a gallery")
    expect(dialog).to_be_visible()
    dialog.get_by_label("New gallery's title").fill("Digits I made")
    dialog.get_by_label("Title", exact=True).fill("Every digit")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    page.get_by_role("link", name="Open the gallery").click()
    expect(page.get_by_role("heading", name="Digits I made")).to_be_visible()
    expect(page.get_by_role("img", name="Every digit")).to_be_visible()
    gallery_url = page.url

    # Remix: the playground opens at the item's settings and draws it again,
    # the very same bytes as the saved file.
    stored_src = page.get_by_role("img", name="Every digit").get_attribute("src")
    page.get_by_role("link", name="Remix “Every digit”").click()
    expect(page).to_have_url(re.compile(rf"/playground/{job_id}/\?remix=\d+$"))
    expect(page.locator("#pg-remix-note")).to_contain_text("Every digit")
    remade = grid.locator(".pg-result img")
    expect(remade).to_be_visible(timeout=scaled_ms(60))
    wait_until(lambda: image_loaded(remade), what="the remixed grid to load")
    expect(page.locator("#pg-psi-value")).to_have_text("0.50")  # as it was saved
    same = page.evaluate(
        """async ([a, b]) => {
          const [x, y] = await Promise.all([a, b].map(
            async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer())));
          return x.length > 0 && x.length === y.length && x.every((v, i) => v === y[i]);
        }""",
        [remade.get_attribute("src"), stored_src],
    )
    assert same, "the remix did not reproduce the saved image byte for byte"
    shots(page, "playground-remix")
    page.goto(gallery_url)

    assert_accessible(page, "gallery")
    page.get_by_role("button", name="Make a share link").click()
    share_url = page.get_by_label(re.compile("Anyone with this link")).input_value()
    assert re.search(r"/s/[^/]+/$", share_url), share_url
    shots(page, "gallery-shared")

    # A private window, signed out: the gallery opens read-only.
    stranger = open_window()
    public = stranger.new_page()
    public.goto(share_url)
    expect(public.get_by_role("heading", name="Digits I made")).to_be_visible()
    shared_image = public.get_by_role("img", name="Every digit")
    expect(shared_image).to_be_visible()
    wait_until(lambda: image_loaded(shared_image), what="the shared image to load")
    expect(public.get_by_role("link", name="Sign in")).to_be_visible()
    expect(public.get_by_role("button", name="Revoke link")).to_have_count(0)
    shots(public, "shared-page-signed-out")
    assert_accessible(public, "shared gallery")

    page.get_by_role("button", name="Revoke link").click()
    expect(page.get_by_role("button", name="Make a share link")).to_be_visible()
    stranger.watch.expect_status(r"/s/[^/]+/$", 410)
    response = public.goto(share_url)
    assert response.status == 410
    expect(public.get_by_role("heading", name="No longer shared")).to_be_visible()
    shots(public, "shared-link-revoked")
    owner.watch.assert_clean()
    stranger.watch.assert_clean()


def test_translate_an_upload_with_the_cyclegan_round_trip(
    window, page, shots, alice, tmp_path
):
    """Step 5 for CycleGAN: upload an image, translate it, and open the
    workbench strip (input, translation, back again, error maps)."""
    from PIL import Image

    from tests.ganweb.playground.tiny_models import register_model

    job = register_model(alice, "cyclegan")
    picture = tmp_path / "circle.png"
    Image.new("RGB", (48, 32), (30, 120, 200)).save(picture)
    sign_in(window, alice)
    page.goto(f"/playground/{job.pk}/")
    section = page.locator('.pg-section[data-action="translate"]')
    section.get_by_label("Image", exact=True).set_input_files(picture)
    section.get_by_label(re.compile("Round trip")).check()
    section.get_by_role("button", name="Translate").click()
    result = section.locator(".pg-result img")
    expect(result).to_be_visible(timeout=scaled_ms(60))
    wait_until(lambda: image_loaded(result), what="the round trip strip to load")
    caption = section.locator("figcaption")
    expect(caption).to_contain_text("input | translated | back again")
    expect(caption).to_contain_text("mean cycle error")
    size = result.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert size == [5 * 48 + 4 * 2, 32]
    shots(page, "cyclegan-round-trip")
    assert_accessible(page, "translation")
    window.watch.assert_clean()


def test_find_an_uploaded_image_in_a_model(window, page, shots, alice, tmp_path):
    """Latent projection in the playground: upload, watch the search progress
    live, and see the upload beside the closest image the model makes."""
    from PIL import Image

    from tests.ganweb.playground.tiny_models import register_model

    job = register_model(alice, "stylegan2")
    picture = tmp_path / "face.png"
    Image.new("RGB", (40, 40), (180, 90, 40)).save(picture)
    sign_in(window, alice)
    page.goto(f"/playground/{job.pk}/")
    section = page.locator("#pg-project")
    section.get_by_label("Image", exact=True).set_input_files(picture)
    section.get_by_label("Steps").fill("300")
    section.get_by_role("button", name="Find it").click()
    status = page.locator("#pg-project-status")
    expect(status).to_contain_text("Searching", timeout=scaled_ms(60))
    expect(status).to_contain_text("Found in W", timeout=scaled_ms(60))
    progress = page.get_by_label("projection progress")
    assert progress.evaluate("(bar) => bar.value === bar.max")
    pair = section.get_by_role("img", name=re.compile("closest image"))
    expect(pair).to_be_visible()
    wait_until(lambda: image_loaded(pair), what="the projection to load")
    shots(page, "projection")
    assert_accessible(page, "playground with projection")

    # Play with it: the interpolation starts from the image found.
    section.get_by_role("button", name="Animate from it to another seed").click()
    walk = page.locator('.pg-section[data-action="interpolate"]')
    caption = walk.locator("figcaption")
    expect(caption).to_contain_text("Your image → seed", timeout=scaled_ms(60))
    wait_until(lambda: image_loaded(walk.locator(".pg-result img")))
    shots(page, "projection-interpolation")
    window.watch.assert_clean()

"""Galleries: private to their owner, shared read-only by a revocable link."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client
from PIL import Image

from ganweb.gallery import services
from ganweb.gallery.models import GalleryItem, ShareLink
from ganweb.gallery.selectors import gallery_item_path

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def png(colour=(10, 200, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="PNG")
    return out.getvalue()


def add_item(gallery, title: str, colour=(10, 200, 30)) -> GalleryItem:
    """An item as gallery_item_create stores it, without drawing anything."""
    relative = services._write(gallery, png(colour), "image/png")
    last = gallery.items.count()
    return GalleryItem.objects.create(
        gallery=gallery,
        position=last,
        title=title,
        caption=f"caption of {title}",
        kind="image",
        settings={"action": "sample", "seed": 3, "truncation": 0.7},
        file=relative,
        content_type="image/png",
    )


@pytest.fixture
def gallery(alice):
    gallery = services.gallery_create(owner=alice, title="Faces at psi 0.7")
    add_item(gallery, "first")
    add_item(gallery, "second", (200, 0, 0))
    return gallery


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_owner_sees_gallery_with_captions(gallery, alice):
    page = signed_in(alice).get(f"/galleries/{gallery.pk}/")
    assert page.status_code == 200
    assert b"caption of first" in page.content and b"private" in page.content


def test_private_gallery_is_404_for_other_users_and_signed_out_visitors(gallery, bob):
    item = gallery.items.first()
    paths = [
        f"/galleries/{gallery.pk}/",
        f"/galleries/{gallery.pk}/items/{item.pk}/file",
        f"/galleries/{gallery.pk}/download.zip",
    ]
    for client in (signed_in(bob), Client()):
        for path in paths:
            assert client.get(path).status_code == 404, path
        assert client.post(f"/galleries/{gallery.pk}/share").status_code in (302, 404)
    assert not ShareLink.objects.exists()
    api = signed_in(bob)
    assert api.get(f"/api/galleries/{gallery.pk}").status_code == 404
    assert api.post(f"/api/galleries/{gallery.pk}/share").status_code == 404
    assert api.delete(f"/api/galleries/{gallery.pk}").status_code == 404


def test_shared_link_works_signed_out_with_open_graph_tags(gallery, alice):
    signed_in(alice).post(f"/galleries/{gallery.pk}/share")
    link = ShareLink.objects.get(gallery=gallery)
    assert len(link.token) >= 40
    visitor = Client()
    page = visitor.get(f"/s/{link.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<meta property="og:title" content="Faces at psi 0.7">' in html
    item = gallery.items.first()
    assert f"/s/{link.token}/items/{item.pk}" in html  # og:image and <img>
    assert "Save caption" not in html and "Remove" not in html  # read-only
    image = visitor.get(f"/s/{link.token}/items/{item.pk}")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    archive = visitor.get(f"/s/{link.token}/download.zip")
    assert archive.status_code == 200


def test_revoked_link_answers_410_no_longer_shared(gallery, alice):
    owner = signed_in(alice)
    owner.post(f"/galleries/{gallery.pk}/share")
    token = ShareLink.objects.get().token
    owner.post(f"/galleries/{gallery.pk}/unshare")
    visitor = Client()
    page = visitor.get(f"/s/{token}/")
    assert page.status_code == 410
    assert b"No longer shared" in page.content
    item = gallery.items.first()
    assert visitor.get(f"/s/{token}/items/{item.pk}").status_code == 410
    assert visitor.get(f"/s/{token}/download.zip").status_code == 410
    assert visitor.get("/s/never-made-this-token/").status_code == 404
    # A new link is a new token; the old one stays revoked.
    owner.post(f"/galleries/{gallery.pk}/share")
    fresh = ShareLink.objects.get(revoked_at=None).token
    assert fresh != token
    assert visitor.get(f"/s/{fresh}/").status_code == 200
    assert visitor.get(f"/s/{token}/").status_code == 410


def test_share_and_revoke_through_the_api(gallery, alice):
    api = signed_in(alice)
    shared = api.post(f"/api/galleries/{gallery.pk}/share").json()
    assert shared["share_url"].startswith("http://testserver/s/")
    again = api.post(f"/api/galleries/{gallery.pk}/share").json()
    assert again["share_url"] == shared["share_url"]
    revoked = api.delete(f"/api/galleries/{gallery.pk}/share").json()
    assert revoked["share_url"] is None
    path = shared["share_url"].replace("http://testserver", "")
    assert Client().get(path).status_code == 410


def test_items_are_reordered_and_removed(gallery, alice):
    owner = signed_in(alice)
    first, second = gallery.items.all()
    third = add_item(gallery, "third")
    owner.post(f"/galleries/{gallery.pk}/items/{third.pk}/move", {"direction": "up"})
    assert [i.title for i in gallery.items.all()] == ["first", "third", "second"]
    order = [second.pk, first.pk, third.pk]
    response = owner.post(
        f"/api/galleries/{gallery.pk}/order",
        {"items": order},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert [i["id"] for i in response.json()["items"]] == order
    partial = owner.post(
        f"/api/galleries/{gallery.pk}/order",
        {"items": [first.pk]},
        content_type="application/json",
    )
    assert partial.status_code == 400
    path = gallery_item_path(first)
    assert path.is_file()
    owner.post(f"/galleries/{gallery.pk}/items/{first.pk}/delete")
    assert not path.exists()
    assert [i.title for i in gallery.items.all()] == ["second", "third"]


def test_captions_and_titles_are_edited_by_the_owner_only(gallery, alice, bob):
    item = gallery.items.first()
    url = f"/api/galleries/{gallery.pk}/items/{item.pk}"
    body = {"caption": "a new caption"}
    assert (
        signed_in(bob).patch(url, body, content_type="application/json").status_code
        == 404
    )
    response = signed_in(alice).patch(url, body, content_type="application/json")
    assert response.json()["caption"] == "a new caption"
    blank = signed_in(alice).patch(url, {"title": " "}, content_type="application/json")
    assert blank.status_code == 400


def test_captions_and_descriptions_are_bounded_and_the_stored_text_kept(gallery, alice):
    item = gallery.items.first()
    owner = signed_in(alice)
    long = "x" * (services.TEXT_MAX + 1)
    url = f"/api/galleries/{gallery.pk}/items/{item.pk}"
    refused = owner.patch(url, {"caption": long}, content_type="application/json")
    assert refused.status_code == 400
    assert f"at most {services.TEXT_MAX}" in refused.json()["error"]
    item.refresh_from_db()
    assert item.caption == "caption of first"
    fits = owner.patch(
        url, {"caption": "y" * services.TEXT_MAX}, content_type="application/json"
    )
    assert fits.status_code == 200 and len(fits.json()["caption"]) == 2000
    made = owner.post(
        "/api/galleries/",
        {"title": "long", "description": long},
        content_type="application/json",
    )
    assert made.status_code == 400 and "description" in made.json()["error"]
    page = owner.post(
        f"/galleries/{gallery.pk}/items/{item.pk}/edit", {"caption": long}
    )
    assert page.status_code == 302
    item.refresh_from_db()
    assert len(item.caption) == 2000  # the page's edit was refused, not cut


def test_gallery_downloads_as_a_zip_with_its_settings(gallery, alice):
    response = signed_in(alice).get(f"/galleries/{gallery.pk}/download.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names == ["01-first.png", "02-second.png", "gallery.json"]
    manifest = json.loads(archive.read("gallery.json"))
    assert manifest["items"][0]["settings"]["seed"] == 3
    assert archive.read("01-first.png") == png()


def test_items_cannot_be_made_from_another_users_model(gallery, alice, bob):
    from ganweb.jobs.models import Job

    job = Job.objects.create(
        owner=bob, data_ref="builtin:shapes", family="dcgan", config={}
    )
    response = signed_in(alice).post(
        f"/api/galleries/{gallery.pk}/items",
        {"model": job.pk, "action": "sample", "title": "stolen"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert gallery.items.count() == 2

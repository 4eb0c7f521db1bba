"""Gallery services: the only place that changes galleries, items and links."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import zipfile

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from ganweb.core.ids import parse_id
from ganweb.core.text import without_nul
from ganweb.gallery.models import Gallery, GalleryItem, ItemKind, ShareLink
from ganweb.gallery.selectors import gallery_item_path, gallery_media_dir
from ganweb.jobs.models import Job

EXTENSIONS = {"image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class GalleryError(ValueError):
    """A gallery request that cannot be done."""


def _title(value: str) -> str:
    title = (without_nul(value) or "").strip()
    if not title:
        raise GalleryError("title: give it a title")
    if len(title) > 200:
        raise GalleryError("title: at most 200 characters")
    return title


# Longer than any caption people write, short enough that a gallery page of
# hundreds of items stays small.
TEXT_MAX = 2000


def _text(value: str | None, field: str) -> str:
    text = (without_nul(value) or "").strip()
    if len(text) > TEXT_MAX:
        raise GalleryError(f"{field}: at most {TEXT_MAX} characters")
    return text


@transaction.atomic
def gallery_create(*, owner, title: str, description: str = "") -> Gallery:
    return Gallery.objects.create(
        owner=owner,
        title=_title(title),
        description=_text(description, "description"),
    )


@transaction.atomic
def gallery_update(
    *, gallery: Gallery, title: str | None = None, description: str | None = None
) -> Gallery:
    if title is not None:
        gallery.title = _title(title)
    if description is not None:
        gallery.description = _text(description, "description")
    gallery.save()
    return gallery


def gallery_delete(*, gallery: Gallery) -> None:
    folder = gallery_media_dir(gallery.pk)
    gallery.delete()
    shutil.rmtree(folder, ignore_errors=True)


def _kind(action: str, params: dict) -> str:
    if action == "interpolate":
        return ItemKind.ANIMATION
    if action == "translate":
        return ItemKind.TRANSLATION
    if action == "edit" or (action == "sample" and params.get("n") == 1):
        return ItemKind.IMAGE
    return ItemKind.GRID


def _write(gallery: Gallery, content: bytes, content_type: str) -> str:
    """Store the bytes under the gallery's folder (atomic); the relative name."""
    folder = gallery_media_dir(gallery.pk)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(8)}.{EXTENSIONS[content_type]}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.replace(tmp, folder / name)
    return f"{gallery.pk}/{name}"


def gallery_item_create(
    *,
    gallery: Gallery,
    job: Job,
    action: str,
    params: dict,
    title: str,
    caption: str = "",
) -> GalleryItem:
    """Draw the result again from its settings (deterministic in the seed) and
    keep it with them; a translation keeps input and output side by side."""
    from ganweb.playground.services import model_render

    title = _title(title)
    caption = _text(caption, "caption")  # refused before anything is drawn
    if job.owner_id != gallery.owner_id:
        raise GalleryError("model: no such model")
    render_params = {**params, "pair": True} if action == "translate" else params
    result = model_render(job=job, action=action, params=render_params)
    meta = result.meta
    recorded = {k: v for k, v in params.items() if k not in ("image", "checkpoint")}
    settings = {
        "action": action,
        "model": job.pk,
        "model_name": job.name,
        "family": meta.get("family", job.family),
        "checkpoint_step": meta.get("step"),
        **recorded,
        "generator": meta.get("generator", params.get("generator")),
    }
    for key in ("layers", "space"):
        if key in meta:
            settings[key] = meta[key]
    relative = _write(gallery, result.content, result.content_type)
    with transaction.atomic():
        last = gallery.items.aggregate(last=Max("position"))["last"]
        item = GalleryItem.objects.create(
            gallery=gallery,
            position=0 if last is None else last + 1,
            title=title,
            caption=caption,
            kind=_kind(action, params),
            job=job,
            settings=settings,
            file=relative,
            content_type=result.content_type,
        )
        Gallery.objects.filter(pk=gallery.pk).update(updated_at=timezone.now())
    return item


@transaction.atomic
def gallery_item_update(
    *, item: GalleryItem, title: str | None = None, caption: str | None = None
) -> GalleryItem:
    if title is not None:
        item.title = _title(title)
    if caption is not None:
        item.caption = _text(caption, "caption")
    item.save()
    return item


def gallery_item_delete(*, item: GalleryItem) -> None:
    path = gallery_item_path(item)
    item.delete()
    path.unlink(missing_ok=True)


@transaction.atomic
def gallery_reorder(*, gallery: Gallery, item_ids: list[int]) -> list[GalleryItem]:
    """Put the items in the given order; ``item_ids`` names every item once."""
    items = {item.pk: item for item in gallery.items.select_for_update()}
    wanted = [parse_id(pk) for pk in item_ids]
    if None in wanted:
        raise GalleryError("items: give the item ids in their new order")
    if sorted(wanted) != sorted(items):
        raise GalleryError("items: name every item of the gallery exactly once")
    for position, pk in enumerate(wanted):
        items[pk].position = position
    GalleryItem.objects.bulk_update(items.values(), ["position"])
    return [items[pk] for pk in wanted]


def gallery_item_move(*, item: GalleryItem, offset: int) -> None:
    """Move one item up (offset -1) or down (+1) in its gallery."""
    order = list(item.gallery.items.values_list("pk", flat=True))
    index = order.index(item.pk)
    target = max(0, min(len(order) - 1, index + int(offset)))
    order.insert(target, order.pop(index))
    gallery_reorder(gallery=item.gallery, item_ids=order)


@transaction.atomic
def gallery_share(*, gallery: Gallery) -> ShareLink:
    """The gallery's live share link, made now if it has none."""
    link = gallery.share_links.select_for_update().filter(revoked_at=None).first()
    if link is None:
        link = ShareLink.objects.create(
            gallery=gallery, token=secrets.token_urlsafe(32)
        )
    return link


@transaction.atomic
def gallery_unshare(*, gallery: Gallery) -> int:
    """Revoke every live link; the number revoked."""
    return gallery.share_links.filter(revoked_at=None).update(revoked_at=timezone.now())


def _entry_name(index: int, item: GalleryItem) -> str:
    slug = slugify(item.title)[:60] or "item"
    return f"{index:02d}-{slug}.{EXTENSIONS.get(item.content_type, 'bin')}"


def gallery_zip(*, gallery: Gallery):
    """The gallery as a zip (images plus gallery.json with titles and settings),
    in a temporary file positioned at its start."""
    out = tempfile.TemporaryFile()
    manifest = {"title": gallery.title, "description": gallery.description, "items": []}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for index, item in enumerate(gallery.items.all(), 1):
            path = gallery_item_path(item)
            if not path.is_file():
                continue
            name = _entry_name(index, item)
            archive.write(path, name)
            manifest["items"].append(
                {
                    "file": name,
                    "title": item.title,
                    "caption": item.caption,
                    "kind": item.kind,
                    "settings": item.settings,
                }
            )
        archive.writestr("gallery.json", json.dumps(manifest, indent=2))
    out.seek(0)
    return out

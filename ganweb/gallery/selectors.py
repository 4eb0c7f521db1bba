"""Reading galleries: by their owner, or by a share token (read-only)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from ganweb.core.ids import parse_id
from ganweb.gallery.models import Gallery, GalleryItem, ShareLink

SHARED, REVOKED, MISSING = "shared", "revoked", "missing"


def gallery_media_dir(gallery_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "galleries" / str(gallery_id)


def gallery_item_path(item: GalleryItem) -> Path:
    return Path(settings.MEDIA_ROOT) / "galleries" / item.file


def galleries_for_user(user):
    if not getattr(user, "is_authenticated", False):
        return Gallery.objects.none()
    return Gallery.objects.filter(owner=user)


def gallery_for_user(user, gallery_id) -> Gallery | None:
    """The gallery if ``user`` owns it; None for missing and foreign ones alike."""
    gallery_id = parse_id(gallery_id)
    if gallery_id is None:
        return None
    return galleries_for_user(user).filter(pk=gallery_id).first()


def gallery_item_for_user(user, gallery_id, item_id) -> GalleryItem | None:
    gallery = gallery_for_user(user, gallery_id)
    if gallery is None:
        return None
    item_id = parse_id(item_id)
    return None if item_id is None else gallery.items.filter(pk=item_id).first()


def gallery_by_token(token: str) -> tuple[Gallery | None, str]:
    """(gallery, SHARED) for a live link; (None, REVOKED) for a revoked one;
    (None, MISSING) for a token that never existed."""
    link = (
        ShareLink.objects.filter(token=str(token)[:64])
        .select_related("gallery")
        .first()
    )
    if link is None:
        return None, MISSING
    if link.revoked_at is not None:
        return None, REVOKED
    return link.gallery, SHARED


# Settings that say where an item came from rather than how it was drawn.
LINEAGE_KEYS = ("action", "model", "model_name", "family", "checkpoint_step")
# A translation's input image is not kept, so only drawn results can be remade.
REMIXABLE_ACTIONS = ("sample", "class-grid", "interpolate", "style-mix", "edit")


def gallery_item_remix(item: GalleryItem) -> dict | None:
    """The playground call that made ``item``: {"action", "params"}, with the
    checkpoint it was drawn from, to make it again or vary it. None when its
    model was deleted or it cannot be remade (a translation)."""
    settings_ = dict(item.settings or {})
    action = settings_.get("action")
    if item.job_id is None or action not in REMIXABLE_ACTIONS:
        return None
    params = {k: v for k, v in settings_.items() if k not in LINEAGE_KEYS}
    if settings_.get("checkpoint_step") is not None:
        params["checkpoint"] = settings_["checkpoint_step"]
    return {"action": action, "params": params}

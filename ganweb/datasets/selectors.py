"""Reading datasets: always through the owner, so nobody sees what is not theirs."""

from __future__ import annotations

import functools

from django.urls import reverse

from ganweb.core.ids import parse_id
from ganweb.core.text import without_nul
from ganweb.datasets.models import Dataset, DatasetState

BUILTIN_PREFIX = "builtin:"

# Which model families can train on each kind of data. Kept here rather than
# read from gan_core's registry because the web process must not import torch.
IMAGE_FAMILIES = ("gan", "dcgan", "wgan", "wgan-gp", "sngan", "progan", "stylegan2")
FAMILIES_FOR_KIND = {
    "images": IMAGE_FAMILIES,
    "classes": (*IMAGE_FAMILIES, "cgan"),
    "domains": ("cyclegan",),
    "pairs": ("pix2pix",),
    "points": ("gan",),
}


def families_for_kind(kind: str) -> list[str]:
    return list(FAMILIES_FOR_KIND.get(kind, ()))


def dataset_group(dataset_id: int) -> str:
    """The Channels group of a dataset's live state."""
    return f"dataset_{int(dataset_id)}"


def datasets_for_user(user, *, search: str | None = None):
    queryset = Dataset.objects.filter(owner=user)
    search = without_nul(search)
    if search:
        queryset = queryset.filter(name__icontains=search.strip())
    return queryset


def dataset_for_user(user, dataset_id) -> Dataset | None:
    """The user's dataset with that id, or None (also for anybody else's)."""
    dataset_id = parse_id(dataset_id)
    if dataset_id is None:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    return Dataset.objects.filter(owner=user, pk=dataset_id).first()


def same_content(dataset: Dataset) -> list[dict]:
    """The owner's other datasets with the same content fingerprint."""
    if not dataset.fingerprint:
        return []
    others = (
        Dataset.objects.filter(
            owner_id=dataset.owner_id, fingerprint=dataset.fingerprint
        )
        .exclude(pk=dataset.pk)
        .values("id", "name")
    )
    return list(others)


def dataset_state_event(dataset: Dataset) -> dict:
    """The live event the dataset page and API clients receive."""
    return {
        "type": "dataset.state",
        "id": dataset.pk,
        "state": dataset.state,
        "progress": dataset.progress,
        "kind": dataset.kind,
        "image_count": dataset.image_count,
        "error": dataset.error,
    }


def dataset_summary(dataset: Dataset) -> dict:
    """The dataset as the API returns it."""
    ready = dataset.state == DatasetState.READY
    stats = dataset.stats or {}
    return {
        "id": dataset.pk,
        "name": dataset.name,
        "builtin": False,
        "state": dataset.state,
        "progress": dataset.progress,
        "kind": dataset.kind or None,
        "paired_layout": dataset.paired_layout or None,
        "image_count": dataset.image_count,
        "skipped_count": dataset.skipped_count,
        "classes": dataset.classes or {},
        "error": dataset.error or None,
        "fingerprint": dataset.fingerprint or None,
        "same_content_as": [d["id"] for d in same_content(dataset)],
        "suits": families_for_kind(dataset.kind) if ready else [],
        "stats": {k: v for k, v in stats.items() if k not in ("thumbs", "skipped")},
        "skipped": stats.get("skipped", []),
        "preview_url": (
            reverse("dataset-file", args=[dataset.pk, "preview.png"]) if ready else None
        ),
        "created_at": dataset.created_at.isoformat(),
        "synthetic": dataset.synthetic_origin or None,  # generated: from what
    }


@functools.cache
def builtin_catalogue() -> tuple[dict, ...]:
    """gan_core's built-in datasets, described without building them (from
    its torch-free catalogue: the web process never imports torch)."""
    from gan_core.data.builtin_catalog import BUILTIN_NAMES, describe_builtin

    return tuple(describe_builtin(name) for name in BUILTIN_NAMES)


def builtin_summary(info: dict) -> dict:
    classes = info.get("classes") or []
    count = int(info.get("count") or 0)
    per_class = count // len(classes) if classes else 0
    return {
        "id": f"{BUILTIN_PREFIX}{info['name']}",
        "name": info.get("title") or info["name"],
        "builtin": True,
        "state": DatasetState.READY.value,
        "progress": 100.0,
        "kind": info["kind"],
        "image_count": count,
        "skipped_count": 0,
        # Counts per class are approximate for built-ins (evenly split).
        "classes": {name: per_class for name in classes},
        "error": None,
        "description": info.get("description", ""),
        "default_size": info.get("default_size"),
        "suits": families_for_kind(info["kind"]),
    }


def builtin_summaries(search: str | None = None) -> list[dict]:
    rows = [builtin_summary(info) for info in builtin_catalogue()]
    search = without_nul(search)
    if search:
        needle = search.strip().lower()
        rows = [r for r in rows if needle in r["name"].lower() or needle in r["id"]]
    return rows


def builtin_by_id(data_id: str) -> dict | None:
    if not data_id.startswith(BUILTIN_PREFIX):
        return None
    name = data_id[len(BUILTIN_PREFIX) :]
    for info in builtin_catalogue():
        if info["name"] == name:
            return builtin_summary(info)
    return None


def dataset_usage(owner, *, exclude_id: int | None = None) -> tuple[int, int]:
    """(decoded pixels, stored bytes) of the owner's datasets, failed ones
    aside: what their budgets have already spent. A dataset not yet processed
    counts its upload's bytes and the pixels counted so far."""
    rows = Dataset.objects.filter(owner=owner).exclude(state=DatasetState.FAILED)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    pixels = stored = 0
    for state, stats in rows.values_list("state", "stats"):
        stats = stats or {}
        pixels += int(stats.get("pixels") or 0)
        key = "stored_bytes" if state == DatasetState.READY else "upload_bytes"
        stored += int(stats.get(key) or 0)
    return pixels, stored

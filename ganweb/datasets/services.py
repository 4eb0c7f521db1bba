"""Dataset services: the only code that creates, changes or deletes datasets.

Views, the API and the worker task call these. An upload is checked in the
request as far as its table of contents allows (bad uploads answer 400 and
leave nothing behind); the heavy work runs in a Celery task on the light queue,
queued when the transaction commits.

No slow work runs inside a transaction: on SQLite a transaction holds the one
write lock of the whole database, so an upload is stored and inspected in a
staging folder first, and only the row's creation (and the budget check that
must see the owner's other datasets at the same moment) is transactional.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from ganweb.core.locks import lock_user
from ganweb.core.text import without_nul
from ganweb.datasets import ingest, selectors
from ganweb.datasets.archives import Rejected, archive_type
from ganweb.datasets.budgets import Budget
from ganweb.datasets.limits import Limits, current_limits
from ganweb.datasets.models import Dataset, DatasetState

log = logging.getLogger(__name__)

NAME_MAX = 200
UPLOAD_DIR = "upload"
ARCHIVE_FILE = "archive"
MANIFEST = "manifest.json"


class DatasetError(ValueError):
    """A request about a dataset that cannot be done; the message says why."""


class DatasetRejected(DatasetError):
    """An upload refused as a whole (400)."""


class DatasetInUse(DatasetError):
    """The dataset cannot be deleted while jobs use it (409)."""


def dataset_dir(dataset_id: int) -> Path:
    """MEDIA_ROOT/datasets/<id>: every file of one dataset, named by us."""
    return Path(settings.MEDIA_ROOT) / "datasets" / str(int(dataset_id))


def staging_dir() -> Path:
    """A fresh folder for an upload not yet accepted (beside the datasets, on
    the same file system, so accepting it is a rename)."""
    return Path(settings.MEDIA_ROOT) / "datasets" / "incoming" / uuid.uuid4().hex


def dataset_training_path(*, dataset: Dataset) -> Path:
    """The folder gan_core trains on (flat, class folders, or A/ and B/)."""
    return dataset_dir(dataset.pk) / "data"


def dataset_training_spec(*, dataset: Dataset) -> str:
    """What gan_core's loader takes for the dataset: its folder, or for a
    paired set ``pairs:<folder>`` / ``pairs-sbs:<folder>`` (gan_core.data.paired)."""
    path = dataset_training_path(dataset=dataset)
    if dataset.kind == "pairs" and dataset.paired_layout:
        from gan_core.data.paired import pair_spec

        return pair_spec(path, dataset.paired_layout)
    return str(path)


def dataset_in_use(*, dataset: Dataset) -> bool:
    """Whether a job refers to the dataset (then it cannot be deleted).

    Looks for the reverse relation by name so the datasets app does not import
    the jobs app; jobs protect their dataset row, so any job counts.
    """
    jobs = getattr(dataset, "jobs", None)
    return bool(jobs is not None and jobs.exists())


def _clean_name(name: str, fallback: str = "") -> str:
    name = " ".join((without_nul(name) or "").split())[:NAME_MAX]
    if not name:
        name = " ".join(Path(fallback or "").stem.split())[:NAME_MAX]
    return name or "Untitled dataset"


def _store_upload(upload: UploadedFile, target: Path) -> int:
    """Move (or stream) an uploaded file to ``target``; never hold it in memory."""
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        shutil.move(temporary(), target)
    else:
        with open(target, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    return target.stat().st_size


def dataset_ingest(
    *,
    owner,
    name: str,
    archive: UploadedFile | None = None,
    images: Sequence[UploadedFile] = (),
    pairing: str = "",
) -> Dataset:
    """Accept an upload: check it, keep it in the dataset's folder, queue it.

    pairing: "" or a paired layout ("folders": A/ and B/ paired by file name,
    "side_by_side"), for pix2pix; the row's stats then say how many pairs were
    found and which files have no partner. Raises DatasetRejected, leaving no
    row and no file, when the upload is refused; the message is meant for the
    person who uploaded.
    """
    from ganweb.datasets.pairing import check_pairing

    try:
        pairing = check_pairing(pairing)
    except Rejected as exc:
        raise DatasetRejected(str(exc)) from exc
    if archive is not None and images:
        raise DatasetRejected("send either one archive (file) or images (files)")
    if archive is None and not images:
        raise DatasetRejected(
            "no file: send an archive as 'file' or several images as 'files'"
        )
    _check_active_datasets(owner)
    limits = current_limits()
    if len(images) > limits.upload_files:
        raise DatasetRejected(
            f"too many files: at most {limits.upload_files:,} images per upload"
        )
    fallback = archive.name if archive is not None else ""
    staging, folder = staging_dir(), None
    try:
        (staging / UPLOAD_DIR).mkdir(parents=True)
        # Outside any transaction: storing and inspecting take as long as the
        # upload is large, and must not hold the database's write lock.
        budget = _budget_for(owner, limits)
        if archive is not None:
            stats = _accept_archive(
                archive, staging / UPLOAD_DIR, limits, budget, pairing
            )
        else:
            stats = _accept_images(
                images, staging / UPLOAD_DIR, limits, budget, pairing
            )
        with transaction.atomic():
            # Checked again where no other upload of the owner can slip in.
            _check_budget(owner, limits, stats)
            dataset = Dataset.objects.create(
                owner=owner,
                name=_clean_name(name, fallback),
                kind=stats.pop("kind"),
                paired_layout=pairing,
                stats=stats,
            )
            folder = dataset_dir(dataset.pk)
            shutil.rmtree(folder, ignore_errors=True)  # a reused id's leftovers
            os.replace(staging, folder)
            transaction.on_commit(lambda: enqueue_processing(dataset.pk))
    except Rejected as exc:
        _remove(staging, folder)
        raise DatasetRejected(str(exc)) from exc
    except BaseException:
        _remove(staging, folder)
        raise
    return dataset


def _check_active_datasets(owner) -> None:
    """Refuse (429) past GAN_USER_MAX_ACTIVE_DATASETS uploads not yet processed,
    before a byte of this one is stored."""
    from ganweb.core.limits import active_work_check

    active = Dataset.objects.filter(
        owner=owner, state__in=(DatasetState.PENDING, DatasetState.PROCESSING)
    ).count()
    active_work_check(kind="datasets", active=active)


def _remove(*folders: Path | None) -> None:
    for folder in folders:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _budget_for(owner, limits: Limits, exclude_id: int | None = None) -> Budget:
    pixels, stored = selectors.dataset_usage(owner, exclude_id=exclude_id)
    return Budget(limits, used_pixels=pixels, used_bytes=stored)


def _check_budget(owner, limits: Limits, stats: dict) -> None:
    """Inside the transaction that stores the row: the owner's row is locked
    first, so a second upload of theirs at once counts this one."""
    lock_user(owner)
    budget = _budget_for(owner, limits)
    budget.check_bytes(stats["upload_bytes"])
    if stats.get("pixels") is not None:
        budget.check_pixels(stats["pixels"])


def _accept_archive(
    upload: UploadedFile, target: Path, limits, budget, pairing: str = ""
) -> dict:
    path = target / ARCHIVE_FILE
    size = _store_upload(upload, path)
    budget.check_bytes(size)
    kind = archive_type(path)
    inspection = ingest.inspect_archive(path, kind, limits, budget, pairing)
    return {
        "kind": "pairs" if pairing else inspection.layout.kind,
        "source": "archive",
        "archive_type": kind,
        "upload_bytes": size,
        "pixels": inspection.pixels,
        **({"pairs_found": inspection.pairs} if inspection.pairs else {}),
    }


def _accept_images(
    uploads: Sequence[UploadedFile], target: Path, limits, budget, pairing: str = ""
):
    names, total = [], 0
    for index, upload in enumerate(uploads):
        path = target / f"{index:05d}"
        total += _store_upload(upload, path)
        names.append(_clean_name(upload.name, "")[:120])
    budget.check_bytes(total)
    inspection = ingest.inspect_images(
        [(target / f"{i:05d}", name) for i, name in enumerate(names)],
        limits,
        budget,
        pairing,
    )
    (target / MANIFEST).write_text(json.dumps({"names": names}))
    return {
        "kind": "pairs" if pairing else ingest.IMAGES,
        "source": "files",
        "upload_bytes": total,
        "pixels": inspection.pixels,
    }


def enqueue_processing(dataset_id: int) -> None:
    """Queue a pending dataset's processing on the light queue."""
    from workers.tasks.datasets import process_dataset

    process_dataset.apply_async(args=[dataset_id], queue="light")


@transaction.atomic
def dataset_rename(*, dataset: Dataset, name: str) -> Dataset:
    cleaned = " ".join((name or "").split())[:NAME_MAX]
    if not cleaned:
        raise DatasetError("a dataset needs a name")
    dataset.name = cleaned
    dataset.save(update_fields=["name", "updated_at"])
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete the row and every file; refused while a job uses the dataset."""
    if dataset_in_use(dataset=dataset):
        raise DatasetInUse(
            f"'{dataset.name}' is used by a training job; delete its jobs first"
        )
    folder = dataset_dir(dataset.pk)
    try:
        dataset.delete()
    except ProtectedError as exc:  # a job appeared since the check
        raise DatasetInUse(f"'{dataset.name}' is used by a training job") from exc
    shutil.rmtree(folder, ignore_errors=True)


# The worker side ------------------------------------------------------------


def _publish(dataset: Dataset) -> None:
    from ganweb.core.realtime import publish
    from ganweb.datasets.selectors import dataset_group, dataset_state_event

    try:
        publish(dataset_group(dataset.pk), dataset_state_event(dataset))
    except Exception:  # live updates are a nicety; the database is the truth
        log.warning("could not publish dataset %s state", dataset.pk, exc_info=True)


def _set_progress(dataset: Dataset, fraction: float) -> None:
    dataset.progress = round(fraction * 100, 1)
    Dataset.objects.filter(pk=dataset.pk).update(
        progress=dataset.progress, updated_at=timezone.now()
    )
    _publish(dataset)


def dataset_process(*, dataset_id: int) -> str:
    """Unpack, verify and store a pending dataset; safe to deliver twice.

    Claims the row with a conditional update (pending -> processing), so a
    second delivery returns at once. Ends ready, or failed with the reason and
    with every file removed. While it works, a heartbeat keeps the row fresh:
    the periodic sweep queues again a dataset whose worker died
    (ganweb.datasets.reclaim).
    """
    from ganweb.datasets.reclaim import ProcessingHeartbeat

    claimed = Dataset.objects.filter(pk=dataset_id, state=DatasetState.PENDING).update(
        state=DatasetState.PROCESSING, progress=0.0, updated_at=timezone.now()
    )
    if not claimed:
        return "not-claimed"
    dataset = Dataset.objects.get(pk=dataset_id)
    _publish(dataset)
    folder = dataset_dir(dataset_id)
    started = time.monotonic()
    try:
        with ProcessingHeartbeat(dataset_id):
            result = _run_ingest(dataset, folder)
    except Rejected as exc:
        return _fail(dataset, folder, str(exc))
    except Exception as exc:
        log.exception("dataset %s failed while processing", dataset_id)
        return _fail(dataset, folder, f"processing failed: {type(exc).__name__}")
    stats = {
        **dataset.stats,
        **result.stats,
        "class_names": result.class_names,
        "seconds": round(time.monotonic() - started, 2),
    }
    # Conditional: a dataset deleted meanwhile is not brought back, and one the
    # sweep gave to another worker is that worker's to finish.
    if not Dataset.objects.filter(pk=dataset_id, state=DatasetState.PROCESSING).update(
        state=DatasetState.READY,
        progress=100.0,
        error="",
        kind=result.kind,
        image_count=result.image_count,
        skipped_count=result.skipped_count,
        classes=result.classes,
        fingerprint=result.fingerprint,
        stats=stats,
    ):
        return _not_ours(dataset_id, folder)
    shutil.rmtree(folder / UPLOAD_DIR, ignore_errors=True)
    dataset.refresh_from_db()
    _publish(dataset)
    return "ready"


def _run_ingest(dataset: Dataset, folder: Path) -> ingest.IngestResult:
    limits = current_limits()
    upload = folder / UPLOAD_DIR
    drawn = 0.0

    def progress(fraction: float) -> None:
        _set_progress(dataset, drawn + fraction * (1 - drawn))

    if dataset.stats.get("source") == "files":
        names = json.loads((upload / MANIFEST).read_text())["names"]
        files = [(upload / f"{i:05d}", name) for i, name in enumerate(names)]
        pixels = ingest.count_file_pixels(files, limits)
        budget = _reserve_pixels(dataset, limits, pixels)
        return ingest.ingest_images(
            files=files,
            folder=folder,
            limits=limits,
            budget=budget,
            progress=progress,
            pairing=dataset.paired_layout,
        )
    if dataset.stats.get("source") == "synthetic":  # drawn first, then as a zip
        from ganweb.datasets.synthetic import synthetic_archive

        synthetic_archive(
            dataset=dataset,
            folder=folder,
            progress=lambda f: _set_progress(dataset, f / 2),
        )
        dataset.stats.pop("pixels", None)  # estimated: count the drawn ones
        drawn = 0.5  # the first half of the bar was the drawing

    archive = upload / ARCHIVE_FILE
    kind = archive_type(archive)
    pixels = dataset.stats.get("pixels")  # a zip's, counted in the request
    if pixels is None:
        pixels = ingest.count_pixels(archive=archive, kind=kind, limits=limits)
    return ingest.ingest_archive(
        archive=archive,
        kind=kind,
        folder=folder,
        limits=limits,
        budget=_reserve_pixels(dataset, limits, pixels),
        progress=progress,
        pairing=dataset.paired_layout,
    )


def _reserve_pixels(dataset: Dataset, limits: Limits, pixels: int) -> Budget:
    """Hold the upload's pixels (from its headers) against both budgets before
    any is decoded, and record them so the owner's next upload counts them."""
    with transaction.atomic():
        lock_user(dataset.owner)
        budget = _budget_for(dataset.owner, limits, exclude_id=dataset.pk)
        budget.check_pixels(pixels)
        dataset.stats = {**dataset.stats, "pixels": pixels}
        Dataset.objects.filter(pk=dataset.pk).update(stats=dataset.stats)
    return budget


def _fail(dataset: Dataset, folder: Path, reason: str) -> str:
    """Nothing half-stored: the files go, the row keeps only the reason."""
    updated = Dataset.objects.filter(
        pk=dataset.pk, state=DatasetState.PROCESSING
    ).update(
        state=DatasetState.FAILED,
        error=reason,
        progress=0.0,
        image_count=0,
        skipped_count=0,
        classes={},
        fingerprint="",
    )
    if not updated:
        return _not_ours(dataset.pk, folder)
    shutil.rmtree(folder, ignore_errors=True)
    dataset.refresh_from_db()
    _publish(dataset)
    return "failed"


def _not_ours(dataset_id: int, folder: Path) -> str:
    """The row left "processing" while this worker worked: deleted (its files
    go) or queued again by the sweep (its upload stays for the next run)."""
    if Dataset.objects.filter(pk=dataset_id).exists():
        return "reclaimed"
    shutil.rmtree(folder, ignore_errors=True)
    return "deleted"
